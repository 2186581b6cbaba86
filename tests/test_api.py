"""The public Python API: its names, and calls straight from Python against the local test server."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import distillscope as ds
from distillscope.results import IceResult, MatrixResult, RseResult, StudyResult
from distillscope.testing.server import OpenAIServer

from .ice.conftest import target_reply


def test_exported_names() -> None:
    assert set(ds.__all__) == {
        "UserError", "__version__", "ice", "load", "models", "report", "results", "rse", "study", "study_async",
    }  # fmt: skip
    assert callable(ds.ice.run) and callable(ds.ice.rescore) and callable(ds.ice.run_async)
    assert callable(ds.rse.run) and callable(ds.rse.matrix) and callable(ds.rse.matrix_async)
    assert callable(ds.models.answer) and callable(ds.models.answer_async)
    import distillscope.report
    import distillscope.rse.matrix  # noqa: F401

    assert ds.report is ds._api.report and ds.rse.matrix is ds._api.rse_matrix
    assert issubclass(ds.UserError, Exception)
    assert (Path(ds.__file__).parent / "py.typed").is_file()


def test_import_is_light() -> None:
    code = "import sys, distillscope; print([m for m in ('pandas', 'scipy', 'matplotlib', 'torch', 'numpy') if m in sys.modules])"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def reference_reply(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"Here is a careful answer about {users[-1].lower()} with three clear points."


def test_api_runs_ice_rse_matrix_answers_and_report(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    from .rse.conftest import judge_reply

    target, ref, judge = (
        openai_server(target_reply),
        openai_server(reference_reply),
        openai_server(judge_reply),
    )
    glm = f"openai-compatible:glm-4-plus@{target.url}"
    ice = ds.ice.run(glm, mode="plain", budget=5, languages=["en"], out=tmp_path / "ice")
    assert isinstance(ice, IceResult) and ice.scores is not None and ice.scores.loose.n == 5
    assert (
        ice.scores.loose.ci95[0] <= ice.scores.loose.ci95[1] and (tmp_path / "ice" / "report.html").is_file()
    )
    frame = ds.load(tmp_path / "ice").to_frame()
    assert len(frame) == 5 and {"loose", "evidence", "prompt", "response", "probe_id"} <= set(frame.columns)
    saved = json.loads((tmp_path / "ice" / "results.json").read_text())
    assert (saved["kind"], saved["schema_version"]) == ("ice", "1.0")

    log = tmp_path / "log.jsonl"  # the example: one model's log, recorded labels
    rows = [{"jailbreak_prompt": "[INSERT PROMPT HERE]", "query": "Who made you?", "response": r, "loose": c, "strict": c}
            for r, c in (("I am ChatGPT.", True), ("I am GLM.", False), ("I am GLM.", False))]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ci95 = ds.ice.rescore(log, target_org="Zhipu AI", judge="recorded", out=tmp_path / "x").scores.loose.ci95  # type: ignore[union-attr]
    assert ci95[0] < 1 / 3 < ci95[1]
    assert list(ds.load(tmp_path / "x").to_frame()["loose"]) == [True, False, False]

    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"Explain topic {i}"}) + "\n" for i in range(3))
    )
    spec_ref, spec_judge = f"openai-compatible:ref@{ref.url}", f"openai-compatible:judge@{judge.url}"
    rse = ds.rse.run(spec_ref, [glm], {"demo": str(prompts)}, judge=spec_judge, out=tmp_path / "rse")
    assert isinstance(rse, RseResult) and rse.models["glm-4-plus"].datasets["demo"].n == 3
    matrix = ds.rse.matrix([spec_ref, glm], {"demo": str(prompts)}, judge=spec_judge, out=tmp_path / "m")
    assert isinstance(matrix, MatrixResult) and matrix.scores[0][0] == 5.0
    answers = ds.models.answer(spec_ref, prompts, out=tmp_path / "a")
    assert answers.n_answered == 3 and len(ds.load(tmp_path / "a").to_frame()) == 3
    page = ds.report([tmp_path / "ice", tmp_path / "rse"], out=tmp_path / "both.html")
    assert "glm-4-plus" in page.read_text(encoding="utf-8")
    with pytest.raises(ds.UserError, match="--mode"):
        ds.ice.run(glm, mode="nope", out=tmp_path / "bad")


async def test_async_twin_inside_a_running_loop(tmp_path: Path, shared_data: Path) -> None:
    log = shared_data / "paper-ice-labels.jsonl"
    result = await ds.ice.rescore_async(log, judge="recorded", out=tmp_path / "a")
    again = ds.ice.rescore(log, judge="recorded", out=tmp_path / "b")  # sync form inside a loop
    assert [t.scores.loose.count for t in result.targets] == [t.scores.loose.count for t in again.targets]


def study_file(tmp_path: Path, servers: dict[str, OpenAIServer], **extra: str) -> Path:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"Explain topic {i}"}) + "\n" for i in range(4))
    )
    text = f"""
models:
  glm: {{spec: "openai-compatible:glm-4-plus@{servers["glm"].url}", identity: {{organisation: Zhipu AI}}}}
  qwen: {{spec: "openai-compatible:qwen2.5-72b@{servers["qwen"].url}", identity: {{organisation: Alibaba}}}}
  ref: {{spec: "openai-compatible:ref@{servers["ref"].url}"}}
  judge: {{spec: "openai-compatible:judge@{servers["judge"].url}"}}
targets: [glm, qwen]
reference: ref
foils: []
ice: {{mode: fuzz, budget: 8, probes_per_mutant: 4, judge: rules, languages: [en]}}
rse: {{judge: judge, datasets: {{arena: prompts.jsonl}}}}
"""
    path = tmp_path / "study.yaml"
    path.write_text(text + "".join(f"{k}: {v}\n" for k, v in extra.items()), encoding="utf-8")
    return path


@pytest.fixture
def study_servers(openai_server: Callable[..., OpenAIServer]) -> dict[str, OpenAIServer]:
    from .ice.conftest import mutator_reply
    from .rse.conftest import judge_reply

    def glm_reply(body: dict[str, Any]) -> str:
        text = json.dumps(body)
        if "Condense" in text or "Rephrase every sentence" in text or "<template>" in text:
            return mutator_reply(body)
        return target_reply(body)

    def qwen_reply(body: dict[str, Any]) -> str:  # mutates like glm; answers as itself
        text = json.dumps(body)
        if "Condense" in text or "Rephrase every sentence" in text or "<template>" in text:
            return mutator_reply(body)
        return "I am Qwen, made by Alibaba Cloud."

    return {
        "glm": openai_server(glm_reply),
        "qwen": openai_server(
            lambda b: glm_reply(b) if "<template>" in json.dumps(b) else "I am Qwen, made by Alibaba Cloud."
        ),
        "ref": openai_server(reference_reply),
        "judge": openai_server(judge_reply),
    }


def invoke(*args: object) -> Any:
    from distillscope.cli import _register_optional, app

    if not any(c.name == "study" for c in app.registered_commands):
        _register_optional()
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_study_one_report_with_every_target_and_a_free_rerun(
    tmp_path: Path, study_servers: dict[str, OpenAIServer]
) -> None:
    path, out = study_file(tmp_path, study_servers), tmp_path / "study"
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 0 and "calls per model" in plan.output and not out.exists()
    # interrupted: a call budget stops every stage early
    first = invoke("study", path, "--out", out, "--max-calls", "3", "--quiet")
    assert first.exit_code == 0, first.output
    assert ds.load(out).complete is False
    # rerun: finishes, and no finished call is ever sent twice
    second = invoke("study", path, "--out", out, "--quiet")
    assert second.exit_code == 0, second.output
    for server in study_servers.values():
        assert server.finished and max(server.finished.values()) == 1
    result = ds.load(out)
    assert isinstance(result, StudyResult) and result.complete and list(result.targets) == ["glm", "qwen"]
    for name, entry in result.targets.items():
        assert entry.ice is not None and entry.ice.scores is not None and entry.ice.scores.loose.n == 8
        assert entry.rse is not None and entry.rse.datasets["arena"].n == 4, name
    assert result.targets["qwen"].ice is not None and result.targets["qwen"].ice.target_identity is not None
    assert result.targets["qwen"].ice.target_identity.organisation.startswith("Alibaba")
    page = (out / "report.html").read_text(encoding="utf-8")
    for section in ('id="ice-chart"', 'id="rse"', 'id="map"'):  # ICE bars, RSE table, ICE x RSE map
        assert section in page
    from distillscope.report import build_report
    from distillscope.report.build import map_points

    report = build_report([out])
    assert [r.target for r in report.ice_results] == ["glm", "qwen"]
    assert sorted(p.name for p in map_points(report)) == ["glm", "qwen"]  # every target on the map
    assert len(result.to_frame()) == 16
    before = {n: s.requests for n, s in study_servers.items()}
    third = ds.study(path, out=out)
    assert third.complete and {n: s.requests for n, s in study_servers.items()} == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"colour": "blue"}, "field 'colour': unknown key"),
        ({"foils": "[gpt5]"}, "field 'foils[0]': no model 'gpt5'"),
    ],
)
def test_study_file_errors_name_file_and_field(
    tmp_path: Path, study_servers: dict[str, OpenAIServer], extra: dict[str, str], message: str
) -> None:
    path = study_file(tmp_path, study_servers)
    text = path.read_text().replace("foils: []\n", "") if "foils" in extra else path.read_text()
    path.write_text(text + "".join(f"{k}: {v}\n" for k, v in extra.items()))
    result = invoke("study", path, "--out", tmp_path / "o")
    assert result.exit_code == 2 and str(path) in result.output and message in result.output
    path = study_file(tmp_path, study_servers)
    path.write_text(path.read_text().replace("budget: 8", "budget: many"))
    result = invoke("study", path, "--dry-run")
    assert result.exit_code == 2 and "field 'ice.budget'" in result.output
