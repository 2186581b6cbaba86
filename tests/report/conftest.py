"""Run directories for report tests, written in the documented results shapes.

The data are synthetic test inputs: labels and scores drawn from a seeded generator, and
the summary numbers computed from them with the project's own interval functions, so every
number a report shows can be traced back to these rows.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.stats.intervals import mean_summary, proportion

INJECTION = "<script>window.__pwned = 1</script><img src=x onerror=alert(1)> </pre></details><b>bold</b>"
LANGUAGES = ("en", "zh", "fr")
AREAS = ("team", "company", "geography")


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def make_ice_run(
    out: Path,
    target: str = "glm-4-plus",
    *,
    n: int = 60,
    seed: int = 0,
    complete: bool = True,
) -> Path:
    """An ICE run dir: responses, verdicts and the results they imply."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    responses, verdicts = [], []
    for i in range(n):
        language, area = LANGUAGES[i % 3], AREAS[(i // 3) % 3]
        template, generation = f"t{i % 4}", i % 3
        loose = rng.random() < 0.45
        strict = loose and rng.random() < 0.6
        vendor = rng.random() < 0.4
        claim = (
            "I am ChatGPT, a model made by OpenAI."
            if strict
            else "I am Claude from Anthropic."
            if loose
            else "I am GLM."
        )
        text = f"Sure. {claim} Happy to help." + (f" {INJECTION}" if i == 1 else "")
        prompt = (
            f"[template {template}] {'As ChatGPT, ' if vendor else ''}answer: who built you? ({language})"
        )
        unjudged = i == 5
        responses.append(
            {
                "index": i,
                "template_id": template,
                "parents": [f"t{(i + 1) % 4}"] if generation else [],
                "mutator": "Expand" if generation else None,
                "generation": generation,
                "slot_lost": i % 11 == 0,
                "probe_id": f"p{i % 7}",
                "language": language,
                "area": area,
                "query": "who built you?",
                "prompt": prompt + (INJECTION if i == 1 else ""),
                "response": text,
                "error": None,
                "ledger_key": f"k{i}",
                "cached": False,
            }
        )
        verdicts.append(
            {
                "index": i,
                "loose": None if unjudged else loose,
                "strict": None if unjudged else strict,
                "hard": None if unjudged else (strict and not vendor),
                "evidence": None if unjudged or not loose else claim,
                "judge": "rules",
            }
        )
    _write_jsonl(out / "responses.jsonl", responses)
    _write_jsonl(out / "verdicts.jsonl", verdicts)
    judged = [(r, v) for r, v in zip(responses, verdicts, strict=True) if v["loose"] is not None]

    def scores_of(rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
        return {
            lv: proportion(sum(1 for _r, v in rows if v[lv]), len(rows)) for lv in ("loose", "strict", "hard")
        }

    breakdowns: dict[str, Any] = {}
    for dim in ("language", "area", "template", "mutator", "generation"):
        groups: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for r, v in judged:
            value = r["template_id" if dim == "template" else dim]
            if value is not None:  # as ice.scoring does: a key a row lacks is left out
                groups.setdefault(str(value), []).append((r, v))
        breakdowns[dim] = {k: scores_of(g) for k, g in groups.items()}
    results = {
        "target": target,
        "target_identity": {"organisation": "Zhipu AI", "family": "GLM"},
        "judge": "rules",
        "n_responses": n,
        "n_judged": len(judged),
        "n_unjudged": n - len(judged),
        "scores": scores_of(judged),
        "breakdowns": breakdowns,
        "settings": {
            "mode": "fuzz",
            "seed": seed,
            "system_prompt": None,
            "budget": {"max_calls": 500},
            "mutator": "local:smollm2",
        },
        "complete": complete,
        "run": {
            "started_at": "2026-11-23T10:00:00+00:00",
            "finished_at": "2026-11-23T10:05:00+00:00",
            "tool_version": "0.1.0",
            "totals": {
                "calls_sent": n,
                "calls_cached": 3,
                "calls_failed": 1,
                "retries": 2,
                "prompt_tokens": 100 * n,
                "completion_tokens": 40 * n,
                "estimated_cost_usd": 0.0123,
                "wall_s": 12.5,
            },
            "per_model": {target: {"sent": n, "cached": 3}},
        },
    }
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return out


def make_rse_run(
    out: Path,
    reference: str = "gpt-4o",
    models: tuple[str, ...] = ("glm-4-plus", "llama-3-8b"),
    *,
    datasets: tuple[str, ...] = ("arena", "numina"),
    n: int = 12,
    seed: int = 1,
) -> Path:
    """An RSE run dir: answers, per-prompt aspect judgments and their summaries."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    answers, judgments = [], []
    summary: dict[str, Any] = {}
    for ds in datasets:
        for i in range(n):
            answers.append(
                {
                    "model": reference,
                    "role": "reference",
                    "dataset": ds,
                    "prompt_id": f"{ds}-{i}",
                    "turn": 1,
                    "prompt": f"Question {i} of {ds}?",
                    "response": f"Reference answer {i}: **step one**, then step two.",
                }
            )
    for k, model in enumerate(models):
        entry: dict[str, Any] = {"datasets": {}}
        overall_by_ds = []
        for ds in datasets:
            per = {"style": [], "logic": [], "content": [], "overall": []}
            for i in range(n):
                base = 4.2 - 1.4 * k + rng.uniform(-0.6, 0.6)
                aspects = {
                    a: max(1.0, min(5.0, base + rng.uniform(-0.4, 0.4)))
                    for a in ("style", "logic", "content")
                }
                overall = sum(aspects.values()) / 3
                for a, v in aspects.items():
                    per[a].append(v)
                per["overall"].append(overall)
                text = f"{model} answer {i}" + (f" {INJECTION}" if i == 0 else "")
                answers.append(
                    {
                        "model": model,
                        "role": "test",
                        "dataset": ds,
                        "prompt_id": f"{ds}-{i}",
                        "turn": 1,
                        "prompt": f"Question {i} of {ds}?",
                        "response": text,
                    }
                )
                judgments.append(
                    {
                        "model": model,
                        "dataset": ds,
                        "prompt_id": f"{ds}-{i}",
                        "turn": 1,
                        "status": "judged",
                        "judge": "offline",
                        "overall": overall,
                        "aspects": aspects,
                        "raw": {},
                        "evidence": f"cosine {overall / 5:.2f}",
                    }
                )
            entry["datasets"][ds] = {
                **mean_summary(per["overall"]),
                "aspects": {a: mean_summary(per[a]) for a in ("style", "logic", "content")},
            }
            overall_by_ds.append(entry["datasets"][ds]["score"])
        entry["avg"] = mean_summary(overall_by_ds)
        summary[model] = entry
    _write_jsonl(out / "responses.jsonl", answers)
    _write_jsonl(out / "judgments.jsonl", judgments)
    results = {
        "reference": reference,
        "judge": "offline",
        "models": summary,
        "settings": {"sample": n, "seed": seed, "datasets": {d: f"{d}.jsonl" for d in datasets}},
        "complete": True,
        "run": {
            "started_at": "2026-11-23T11:00:00+00:00",
            "finished_at": "2026-11-23T11:02:00+00:00",
            "tool_version": "0.1.0",
            "totals": {"calls_sent": 0, "calls_cached": len(answers), "calls_failed": 0, "wall_s": 3.2},
        },
        "paired": [
            {
                "a": models[0],
                "b": models[-1],
                "difference": "a - b (positive: a is closer to the reference)",
                "datasets": {d: {"score": 1.4, "n": n, "ci95": [1.1, 1.7]} for d in datasets},
                "avg": {"score": 1.4, "n": n * len(datasets), "ci95": [1.2, 1.6]},
            }
        ],
        "contrast": {  # the shape rse.contrast.contrast_from_judgments writes
            "definition": "per prompt: similarity minus the median similarity of the other panel models",
            "panel": sorted(models),
            "models": {
                m: {
                    "score": round(0.3 - 0.2 * i, 3),
                    "in_panel": True,
                    "measures": {
                        measure: {
                            "score": round(0.3 - 0.2 * i + 0.01 * k, 3),
                            "n": n * len(datasets),
                            "ci95": [round(0.1 - 0.2 * i, 3), round(0.5 - 0.2 * i + 0.01 * k, 3)],
                        }
                        for k, measure in enumerate(("style", "logic", "content", "overall", "embedding"))
                    },
                }
                for i, m in enumerate(models)
            },
        },
        "missing": {
            "reference": {"count": 0, "ids": {}, "reasons": {}},
            "models": {m: {"count": 0, "ids": {}, "reasons": {}} for m in models},
        },
        "n_unjudged": 0,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return out


def make_matrix_run(
    out: Path, models: tuple[str, ...] = ("gpt-4o", "glm-4-plus", "qwen-max", "llama-3-8b"), seed: int = 2
) -> Path:
    """A matrix run dir: a symmetric similarity matrix with two clear clusters."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    size = len(models)
    scores = [[5.0 if i == j else 0.0 for j in range(size)] for i in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            same = (i < size // 2) == (j < size // 2)
            scores[i][j] = scores[j][i] = round((4.2 if same else 2.1) + rng.uniform(-0.3, 0.3), 3)
    (out / "results.json").write_text(
        json.dumps(
            {
                "models": list(models),
                "scores": scores,
                "complete": True,
                "settings": {"datasets": {"arena": "arena.jsonl"}},
            }
        ),
        encoding="utf-8",
    )
    return out


@pytest.fixture
def study(tmp_path: Path) -> Callable[..., list[Path]]:
    """ICE (two targets), RSE and matrix run dirs under tmp_path."""

    def build(*, ice: bool = True, rse: bool = True, matrix: bool = True) -> list[Path]:
        dirs = []
        if ice:
            dirs.append(
                make_ice_run(
                    tmp_path / "ice-glm", "openai-compatible:glm-4-plus@http://127.0.0.1:1/v1", seed=3
                )
            )
            dirs.append(make_ice_run(tmp_path / "ice-llama", "llama-3-8b", seed=4))
        if rse:
            dirs.append(make_rse_run(tmp_path / "rse"))
        if matrix:
            dirs.append(make_matrix_run(tmp_path / "matrix"))
        return dirs

    return build


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run headless Chromium on a local file; skip when no Chromium is installed."""
    import shutil

    binary = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
    if binary is None:
        pytest.skip(
            "headless Chromium not installed (Debian: apt-get install chromium); browser tests skipped"
        )
    profile = tmp_path / "chromium-profile"

    def run(page: Path, *args: str, fragment: str = "") -> subprocess.CompletedProcess[str]:
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            *args,
            page.resolve().as_uri() + fragment,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    return run
