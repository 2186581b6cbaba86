"""Banks laid out as FastChat / Arena-Hard / AlpacaEval publish them, written in tmp from the
synthetic writers of the attribution tests (no third-party text)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ..attribution.conftest import answer, prompts


def write_fastchat(folder: Path, writers: dict[str, str | None], n_prompts: int, seed: int = 0) -> Path:
    """`question.jsonl` (two turns) and `model_answer/<writer>.jsonl` in FastChat's answer format."""
    (folder / "model_answer").mkdir(parents=True, exist_ok=True)
    topics = prompts(n_prompts)
    with (folder / "question.jsonl").open("w", encoding="utf-8") as fh:
        for i, topic in enumerate(topics):
            row = {
                "question_id": i + 1,
                "category": "x",
                "turns": [f"Tell me about {topic}.", f"More on {topic}."],
            }
            fh.write(json.dumps(row) + "\n")
    for name, style in writers.items():
        rng = random.Random(f"{name}-{seed}")
        with (folder / "model_answer" / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, topic in enumerate(topics):
                turns = [{"content": answer(rng, topic, style)}, {"content": answer(rng, topic, style)}]
                row = {"question_id": i + 1, "model_id": name, "choices": [{"index": 0, "turns": turns}]}
                fh.write(json.dumps(row) + "\n")
    return folder


def write_arena_hard_v2(folder: Path, writers: dict[str, str | None], n_prompts: int, seed: int = 0) -> Path:
    """Arena-Hard v2: questions `{uid, category, prompt}`; answers `{uid, model, messages}` whose
    last message is the assistant's, its content `{"answer": ...}`."""
    (folder / "model_answer").mkdir(parents=True, exist_ok=True)
    topics = prompts(n_prompts)
    uids = [f"{i:04x}beef" for i in range(n_prompts)]
    with (folder / "question.jsonl").open("w", encoding="utf-8") as fh:
        for uid, topic in zip(uids, topics, strict=True):
            fh.write(
                json.dumps({"uid": uid, "category": "hard_prompt", "prompt": f"Explain {topic}."}) + "\n"
            )
    for name, style in writers.items():
        rng = random.Random(f"{name}-{seed}")
        with (folder / "model_answer" / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for uid, topic in zip(uids, topics, strict=True):
                messages = [
                    {"role": "user", "content": f"Explain {topic}."},
                    {"role": "assistant", "content": {"answer": answer(rng, topic, style)}},
                ]
                fh.write(json.dumps({"uid": uid, "ans_id": "x", "model": name, "messages": messages}) + "\n")
    return folder


def fastchat_to_alpaca(bank: Path, out: Path) -> Path:
    """The first turns of a FastChat bank as AlpacaEval's `<model>/model_outputs.json` files."""
    questions = {}
    for line in (bank / "question.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        first = row["turns"][0]
        questions[str(row["question_id"])] = first["content"] if isinstance(first, dict) else first
    for path in sorted((bank / "model_answer").glob("*.jsonl")):
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            turn = row["choices"][0]["turns"][0]
            output = turn["content"] if isinstance(turn, dict) else turn
            rows.append(
                {
                    "instruction": questions[str(row["question_id"])],
                    "output": output,
                    "generator": path.stem,
                    "dataset": "synthetic",
                }
            )
        target = out / path.stem / "model_outputs.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return out
