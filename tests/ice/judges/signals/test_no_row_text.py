"""The judge's rules are general shapes of how identity is stated, never strings taken from the rows
they were checked on: no comment, docstring or string literal of the judge's code repeats seven
words in a row of any answer in the paper's judged responses (the shared data; skipped without it)."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import distillscope.ice.identity
import distillscope.ice.judges

RUN = 7  # words in a row; six-word runs are common English ("an AI language model developed by")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _runs(text: str) -> list[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return [tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)]


def _judge_sources() -> list[Path]:
    package = Path(distillscope.ice.judges.__file__).parent
    return [*sorted(package.rglob("*.py")), Path(distillscope.ice.identity.__file__)]


def test_judge_code_quotes_no_paper_answer(shared_data: Path) -> None:
    seen: set[tuple[str, ...]] = set()
    with (shared_data / "paper-ice-labels.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                seen.update(_runs(json.loads(line)["response"]))
    assert len(seen) > 100_000  # the answers were read
    quoted: list[str] = []
    sources = _judge_sources()
    for path in sources:
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                quoted += [
                    f"{path.name}:{tok.start[0]}: {' '.join(r)}" for r in _runs(tok.string) if r in seen
                ]
    assert len(sources) > 10
    assert quoted == []


def test_the_check_finds_a_copied_answer(shared_data: Path) -> None:
    """The check above would see a copy: an answer's opening words, as a comment, are found."""
    with (shared_data / "paper-ice-labels.jsonl").open(encoding="utf-8") as fh:
        answers = (json.loads(line)["response"] for line in fh if line.strip())
        answer = next(a for a in answers if len(_runs(a)) > 3)
    comment = "# " + " ".join(_WORD.findall(answer)[: RUN + 2])
    tokens = list(tokenize.generate_tokens(io.StringIO(comment + "\n").readline))
    runs = _runs(next(t.string for t in tokens if t.type == tokenize.COMMENT))
    assert runs and set(runs) <= set(_runs(answer))
