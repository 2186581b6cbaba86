"""A judge plugin's verdicts (`register_judge`) are checked where they enter a run: a wrong count is
one clear error, an invalid verdict is unjudged with a note naming the plugin, never a negative."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from distillscope.ice.judges import register_judge
from distillscope.ice.judges.base import Judge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.testing.server import OpenAIServer


def _set(**changes: Any) -> Callable[[], Any]:
    """A verdict made valid, then changed as a careless plugin might (pydantic checks no assignment)."""

    def make() -> Any:
        verdict = Verdict(loose=True, strict=False, judge="plugin", p_loose=0.9, p_strict=0.1)
        for key, value in changes.items():
            setattr(verdict, key, value)
        return verdict

    return make


INVALID: dict[str, tuple[Callable[[], Any], str]] = {
    "loose-against-p": (_set(p_loose=0.2), "loose true with p_loose 0.2"),
    "p-above-one": (_set(p_loose=1.5), "p_loose 1.5, not a probability in [0, 1]"),
    "p-nan": (_set(p_strict=math.nan), "p_strict nan, not a probability in [0, 1]"),
    "strict-without-loose": (
        _set(loose=False, strict=True, p_loose=None, p_strict=None),
        "strict implies loose",
    ),
    "not-a-verdict": (lambda: {"loose": False}, "dict, not a Verdict"),
}


class ScriptedJudge(Judge):
    def __init__(self, name: str, make: Callable[[], Any], drop: int = 0) -> None:
        self.name, self.make, self.drop = name, make, drop

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        return [self.make() for _ in items[self.drop :]]


def _factory(name: str, make: Callable[[], Any], drop: int = 0) -> Callable[[str, Any], Judge]:
    return lambda arg, jc: ScriptedJudge(name, make, drop)


for case, (make, _) in INVALID.items():
    register_judge(f"test-plugin-{case}")(_factory(f"test-plugin-{case}", make))
register_judge("test-plugin-one-short")(
    _factory("test-plugin-one-short", lambda: Verdict(loose=False, strict=False, judge="p"), drop=1)
)


def _run(cli: Callable[..., Any], server: OpenAIServer, judge: str, out: Path) -> Any:
    return cli("ice", "run", "--target", f"openai-compatible:glm-4-plus@{server.url}", "--mode", "plain",
               "--languages", "en", "--judge", judge, "--out", out)  # fmt: skip


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_plugin_verdict_is_unjudged_with_a_note_naming_the_plugin(
    case: str, tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    """`loose: true` with `p_loose: 0.2`, a probability off [0, 1] or NaN was recorded as a verdict
    (0.2 scored as a contradiction); now each answer is unjudged, out of n, and says why."""
    out = tmp_path / "run"
    result = _run(cli, servers["target"], f"test-plugin-{case}", out)
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text("utf-8"))
    assert res["n_judged"] == 0 and res["n_unjudged"] == res["n_responses"] > 0
    assert res["scores"]["loose"]["n"] == 0 and res["scores"]["loose"]["count"] == 0
    rows = [json.loads(line) for line in (out / "verdicts.jsonl").read_text("utf-8").splitlines()]
    says = INVALID[case][1]
    for row in rows:
        assert row["loose"] is None and row["strict"] is None
        assert row["note"].startswith(f"judge plugin 'test-plugin-{case}' (") and says in row["note"]
    logged = (out / "run.log").read_text("utf-8")
    assert (
        f"judge plugin 'test-plugin-{case}' (" in logged
        and "invalid verdicts of" in logged
        and says in logged
    )


def test_a_plugin_giving_the_wrong_number_of_verdicts_is_one_clear_error(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    """One verdict short was a `zip() argument 2 is shorter` traceback."""
    out = tmp_path / "run"
    result = _run(cli, servers["target"], "test-plugin-one-short", out)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]  # (and progress)
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith("error: judge plugin 'test-plugin-one-short' (")
    assert "a judge gives one verdict per answer, in order" in lines[0]
    assert not (out / "results.json").exists()


def test_ice_rescore_checks_a_plugins_verdicts_too(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """`ice rescore --judge PLUGIN`: the same check where its verdicts enter (one line for a wrong
    count; an invalid verdict unjudged with the note)."""
    log = tmp_path / "log.jsonl"
    row = {"jailbreak_prompt": "[INSERT PROMPT HERE]", "query": "Who made you?", "response": "I am GLM."}
    log.write_text("".join(json.dumps(row) + "\n" for _ in range(3)), encoding="utf-8")
    short = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", "test-plugin-one-short",
                "--out", tmp_path / "short", "-q")  # fmt: skip
    assert short.exit_code == 2 and "Traceback" not in short.output, short.output
    assert "returned 2 verdicts for 3 answers: a judge gives one verdict per answer" in short.output
    out = tmp_path / "bad"
    bad = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", "test-plugin-p-above-one",
              "--out", out, "-q")  # fmt: skip
    assert bad.exit_code == 0, bad.output
    rows = [json.loads(line) for line in (out / "verdicts.jsonl").read_text("utf-8").splitlines()]
    assert [r["loose"] for r in rows] == [None] * 3 and all("p_loose 1.5" in r["note"] for r in rows)
