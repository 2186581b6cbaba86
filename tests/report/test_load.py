"""Reading run directories into report records: typed results, several targets, located errors, name matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.report.load import (
    IceRun,
    MatrixRun,
    RseRun,
    Score,
    display_model_name,
    find_run_dirs,
    load_run,
    load_runs,
    normalise_model_name,
)
from distillscope.results import base as typed

from .conftest import make_ice_run, make_matrix_run, make_rse_run


def test_ice_run_reads_scores_breakdowns_and_settings(tmp_path: Path) -> None:
    run = load_run(make_ice_run(tmp_path / "ice", "glm-4-plus", n=30))
    assert isinstance(run, IceRun)
    (result,) = run.results
    data = json.loads((tmp_path / "ice" / "results.json").read_text())
    assert result.target == "glm-4-plus"
    assert result.scores["strict"].score == data["scores"]["strict"]["score"]
    assert result.scores["loose"].n == 29 and result.n_unjudged == 1
    assert set(result.breakdowns) == {"language", "area", "template", "mutator", "generation"}
    assert set(result.breakdowns["language"]["en"]) == {"loose", "strict", "hard"}
    assert run.settings["mode"] == "fuzz" and run.complete is True
    assert run.run["totals"]["calls_sent"] == 30


def test_ice_results_with_several_targets(tmp_path: Path) -> None:
    """A rescore of a log that mixes models: one block per model under `models`."""
    one = json.loads((make_ice_run(tmp_path / "a", "glm-4-plus", seed=1) / "results.json").read_text())
    two = json.loads((make_ice_run(tmp_path / "b", "qwen-max", seed=2) / "results.json").read_text())
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    data = {
        "target": None,
        "models": {"glm-4-plus": one, "qwen-max": two},
        "judge": "rules",
        "complete": False,
    }
    (mixed / "results.json").write_text(json.dumps(data))
    run = load_run(mixed)
    assert isinstance(run, IceRun)
    assert [r.target for r in run.results] == ["glm-4-plus", "qwen-max"]
    assert run.results[1].scores["hard"].score == two["scores"]["hard"]["score"]
    assert run.complete is False


def test_rse_run_reads_datasets_aspects_and_average(tmp_path: Path) -> None:
    run = load_run(make_rse_run(tmp_path / "rse", models=("glm-4-plus", "llama-3-8b")))
    assert isinstance(run, RseRun)
    assert run.reference == "gpt-4o" and run.datasets == ["arena", "numina"]
    glm = run.models[0]
    data = json.loads((tmp_path / "rse" / "results.json").read_text())["models"]["glm-4-plus"]
    assert glm.datasets["arena"].score == data["datasets"]["arena"]["score"]
    assert glm.aspects["numina"]["logic"].lo == data["datasets"]["numina"]["aspects"]["logic"]["ci95"][0]
    assert glm.avg is not None and glm.avg.score == data["avg"]["score"]


def test_matrix_run(tmp_path: Path) -> None:
    run = load_run(make_matrix_run(tmp_path / "m", ("a", "b", "c")))
    assert isinstance(run, MatrixRun)
    assert run.models == ["a", "b", "c"] and run.scores[0][0] == 5.0 and run.scores[1][2] == run.scores[2][1]


def test_folder_of_runs_and_duplicates(tmp_path: Path) -> None:
    make_ice_run(tmp_path / "study" / "ice")
    make_rse_run(tmp_path / "study" / "rse")
    (tmp_path / "study" / "notes").mkdir()
    assert [p.name for p in find_run_dirs(tmp_path / "study")] == ["ice", "rse"]
    runs = load_runs([tmp_path / "study", tmp_path / "study" / "ice"])
    assert [type(r).__name__ for r in runs] == ["IceRun", "RseRun"]


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such directory"):
        find_run_dirs(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"no results\.json"):
        find_run_dirs(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.json").write_text('{"scores": ')
    with pytest.raises(UserError, match=r"results.json:1: invalid JSON"):
        load_run(bad)
    (bad / "results.json").write_text('{"hello": 1}')
    with pytest.raises(UserError, match="not an ICE, RSE, matrix, answers or study results file"):
        load_run(bad)
    (bad / "results.json").write_text('{"kind": "ice", "scores": {"loose": 1}}')
    with pytest.raises(UserError, match=r"results.json: field 'scores.loose'"):
        load_run(bad)


def test_score_of_a_typed_score() -> None:
    assert Score.of(None) is None
    assert Score.of(typed.Score(score=None, count=0, n=0, ci95=(0, 1))) is None
    parsed = Score.of(typed.Score(score=0.25, count=1, n=4, ci95=(0.05, 0.7)))
    assert parsed == Score(0.25, 0.05, 0.7, 4, 1)
    assert Score.of(typed.Mean(score=3.5, n=10, ci95=(3.1, 3.9))) == Score(3.5, 3.1, 3.9, 10, None)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("openai-compatible:glm-4-plus@http://127.0.0.1:8000/v1", "glm4plus"),
        ("replay:answers/GLM-4-Plus.jsonl", "glm4plus"),
        ("glm_4_plus", "glm4plus"),
        ("Qwen-Max 0919", "qwenmax0919"),
        ("openai:gpt-4o", "gpt4o"),
        ("openai-completions:my-base@http://127.0.0.1:8000/v1", "mybase"),
        ("openai-compatible:my-base@http://127.0.0.1:8000/v1,http://127.0.0.1:8001/v1", "mybase"),
        ("replay:answers/my-base.jsonl", "mybase"),
        ("local:models/My-Base.gguf", "mybase"),
        ("openai-compatible:Qwen/Qwen2.5-7B-Instruct@http://gpu1:8000/v1", "qwen257binstruct"),
        ("openai-compatible:llama3.1:8b@http://127.0.0.1:11434/v1", "llama318b"),
    ],
)
def test_model_names_match_across_runs(name: str, key: str) -> None:
    assert normalise_model_name(name) == key


def test_display_name_drops_spec_noise() -> None:
    assert display_model_name("openai-compatible:glm-4-plus@http://x/v1") == "glm-4-plus"
    assert display_model_name("replay:/tmp/answers/qwen.jsonl") == "qwen"
