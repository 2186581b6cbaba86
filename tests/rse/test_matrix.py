"""`rse matrix` clustering on degenerate data: what the dendrogram may claim from the cells it has."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from distillscope.report.load import MatrixRun, load_run
from distillscope.report.plots import matrix_linkage
from distillscope.rse.matrix import cluster
from distillscope.testing.server import OpenAIServer

from .conftest import invoke, read_results

WORDS = [f"w{i}" for i in range(18)]


def answer_files(tmp_path: Path, names: list[str], prompts: int = 4) -> tuple[Path, list[Path]]:
    """A prompt file and one replay file per model, every model answering differently."""
    questions = tmp_path / "p.jsonl"
    questions.write_text(
        "".join(json.dumps({"id": f"p{i}", "prompt": f"Explain topic {i}."}) + "\n" for i in range(prompts)),
        encoding="utf-8",
    )
    files = []
    for k, name in enumerate(names):
        path = tmp_path / f"{name}.jsonl"
        rows = [
            {"id": f"p{i}", "response": " ".join(WORDS[(k * 7 + i + w) % len(WORDS)] for w in range(12))}
            for i in range(prompts)
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        files.append(path)
    return questions, files


def test_no_linkage_where_no_two_models_were_scored_against_each_other() -> None:
    # the diagonal (5, each model against itself) made the fill of unscored pairs 5: distance 0
    unscored = [[5.0, None, None], [None, 5.0, None], [None, None, 5.0]]
    assert cluster(unscored) == (None, [0, 1, 2])
    link, order = cluster([[5.0, 3.0, None], [3.0, 5.0, None], [None, None, 5.0]])
    assert link is not None and sorted(order) == [0, 1, 2]
    assert link[-1][2] == 2.0  # the unscored model joins at the least similar pair seen (3), not at 5


def test_a_matrix_whose_pairs_were_all_unjudged_claims_no_clusters(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    judge = openai_server(lambda body: "They look fairly similar to me.")  # never a rating
    questions, files = answer_files(tmp_path, ["a", "b", "c"])
    out = tmp_path / "matrix"
    result = invoke(
        "rse", "matrix", *(x for f in files for x in ("--model", f"replay:{f}")),
        "--dataset", f"d={questions}", "--judge", f"openai-compatible:judge@{judge.url}",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    assert "no two models scored: not clustered" in shown and "dendrogram order" not in shown
    assert "unjudged pairs (no rating from the judge, never scored;" in shown and "a vs b 4" in shown
    data = read_results(out)
    assert all(data["scores"][i][j] is None for i in range(3) for j in range(3) if i != j)
    assert all(
        cell["unjudged"] == 4
        for pair, cell in data["skipped"].items()
        if pair.split(" vs ")[0] != pair.split(" vs ")[1]
    )
    # the dendrogram merged all three at distance 0: "identical", from no rating at all
    assert data["linkage"] is None and data["order"] == [0, 1, 2]
    run = load_run(out)
    assert isinstance(run, MatrixRun) and matrix_linkage(run) is None  # the report draws no tree either
