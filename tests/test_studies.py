"""`distillscope study`: one YAML, every target's ICE and RSE, one ledger, one report."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import distillscope as ds
from distillscope.results import StudyResult
from distillscope.studies import load_study
from distillscope.testing.server import OpenAIServer, RawReply

from .ice.conftest import target_reply
from .test_api import reference_reply


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
    # the terminal gives every score with its n and 95% interval (a rerun: answered from the ledger)
    shown = " ".join(invoke("study", path, "--out", out, "--quiet").output.split())
    for name in ("glm", "qwen"):
        assert re.search(
            rf"{name}: ICE loose \d/8 \(95% CI [\d.]+-[\d.]+\), .*RSE [\d.]+ \[[\d.]+, [\d.]+\] n=4 vs ref",
            shown,
        ), shown


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ({"colour": "blue"}, "colour", "field 'colour': unknown key"),
        ({"foils": "[gpt5]"}, "foils", "field 'foils[0]': no model 'gpt5'"),
        (
            {"reference": "judge", "rse": "{datasets: {a: builtin}, sharegpt_turns: most}"},
            "rse",
            "field 'rse.sharegpt_turns': --sharegpt-turns",
        ),
    ],
)
def test_study_file_errors_name_file_line_and_field(
    tmp_path: Path, study_servers: dict[str, OpenAIServer], extra: dict[str, str], key: str, message: str
) -> None:
    path = study_file(tmp_path, study_servers)
    kept = [line for line in path.read_text().splitlines() if line.split(":")[0] not in extra]  # a key once
    path.write_text("".join(line + "\n" for line in kept) + "".join(f"{k}: {v}\n" for k, v in extra.items()))
    line = [text.split(":")[0] for text in path.read_text().splitlines()].index(key) + 1
    result = invoke("study", path, "--out", tmp_path / "o")
    assert result.exit_code == 2 and f"{path}:{line}: {message}" in " ".join(result.output.split())
    path = study_file(tmp_path, study_servers)
    path.write_text(path.read_text().replace("budget: 8", "budget: many"))
    result = invoke("study", path, "--dry-run")
    assert result.exit_code == 2 and "field 'ice.budget'" in result.output


ONE_MODEL = (
    'models:\n  glm: {spec: "openai-compatible:glm@http://127.0.0.1:9/v1"}\ntargets: [glm]\n'  # 3 lines
)


def refusal(path: Path, text: str) -> str:
    """The one-line error `load_study` gives for a study file holding `text`."""
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ds.UserError) as refused:
        load_study(path)
    return str(refused.value)


def test_study_block_style_error_is_at_the_line_of_its_key(tmp_path: Path) -> None:
    """A value refused by the settings' own check (a flag's words) is located at its key's line."""
    path = tmp_path / "study.yaml"
    refused = refusal(
        path,
        f"{ONE_MODEL}ice:\n  mode: plain\n  languages: [en]\n  budget: -3\n",
    )
    assert refused == f"{path}:7: field 'ice.budget': --budget must be at least 1, got -3"


TWO_MODELS = (
    'models:\n  glm: {spec: "openai-compatible:glm@http://127.0.0.1:9/v1"}\n'
    '  ref: {spec: "openai-compatible:ref@http://127.0.0.1:9/v1"}\ntargets: [glm]\nreference: ref\n'
)  # five lines: a section given after them starts on line 6


@pytest.mark.parametrize(
    ("section", "field", "line"),
    [
        ("ice: {mode: plain, judge: gpt5}", "ice.judge", 6),
        ("ice: {mode: plain, judge: rules, mutator: gpt5}", "ice.mutator", 6),
        ("ice: {mode: plain, judge: 'hybrid:gpt5'}", "ice.judge", 6),
        ("ice:\n  mode: plain\n  judge: hybrid\n  judge_model: gpt5", "ice.judge_model", 9),
        ("ice: null\nrse: {judge: gpt5, datasets: {a: builtin}}", "rse.judge", 7),
        ("ice: null\nrse: {judges: 'ref,gpt5', datasets: {a: builtin}}", "rse.judges", 7),
    ],
)
def test_study_judge_and_mutator_models_must_be_defined(
    tmp_path: Path, section: str, field: str, line: int
) -> None:
    """`--dry-run` planned calls to an undefined judge and the run failed naming neither file nor field."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}{section}\n")
    assert refused.startswith(f"{path}:{line}: field '{field}': no model 'gpt5' under models:")
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 2 and "gpt5" in plan.output and "calls per model" not in plan.output


def test_study_inline_judge_specs_and_named_judges_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(
        f"{TWO_MODELS}ice: {{mode: plain, judge: 'hybrid:openai-compatible:j@http://127.0.0.1:9/v1', mutator: ref}}\n"
        "rse: {judge: offline, datasets: {a: examples}}\n",
        encoding="utf-8",
    )
    spec = load_study(path)
    assert spec.rse is not None and spec.rse["datasets"] == {"a": "examples"}  # not a file beside the study


def test_study_missing_dataset_file_is_named_at_its_field(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    refused = refusal(
        path,
        f"{TWO_MODELS}ice: null\nrse:\n  datasets:\n    arena: nope.jsonl\n",
    )
    missing = tmp_path / "nope.jsonl"
    assert refused == f"{path}:9: field 'rse.datasets.arena': {missing}: file not found"


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("rse:\n  datasets:\n    a: p.jsonl\n    b: ./sub/../p.jsonl\n", 10),
        ("rse:\n  datasets: {a: builtin, b: examples}\n", 8),
        ("attribution:\n  families: {x: [ref]}\n  datasets:\n    a: p.jsonl\n    b: link.jsonl\n", 11),
    ],
)  # fmt: skip
def test_one_prompt_file_as_two_datasets_of_a_study_is_named_at_its_field(
    tmp_path: Path, section: str, line: int
) -> None:
    """It ran every prompt twice (counted twice in the average), or stopped after the other stages."""
    (tmp_path / "p.jsonl").write_text('{"id": "a", "prompt": "x"}\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "p.jsonl")
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}ice: null\n{section}")
    field = "attribution" if section.startswith("attribution") else "rse"
    assert refused.startswith(f"{path}:{line}: field '{field}.datasets.b': the same prompts as dataset 'a' (")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("x" * 300, ": cannot read: File name too long"),  # was a traceback (OSError from Path.exists)
        (".", ": is a directory, expected a file"),  # was named by the run's reader, not at the field
    ],
)
def test_study_dataset_path_that_is_no_file_is_named_at_its_field(
    tmp_path: Path, source: str, problem: str
) -> None:
    path = tmp_path / "study.yaml"
    refused = refusal(
        path,
        f"{TWO_MODELS}ice: null\nrse:\n  datasets:\n    arena: {source}\n",
    )
    shown = source if len(source) <= 60 else source[:57] + "..."  # a long value is cut in the message
    assert refused == f"{path}:9: field 'rse.datasets.arena': {tmp_path / shown}{problem}"
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 2 and "Traceback" not in plan.output and "rse.datasets.arena" in plan.output


@pytest.mark.parametrize(
    ("roles", "field", "line", "message"),
    [
        ("targets: [glm]\nreference: glm\n", "reference", 6, "'glm' is also a target"),
        ("targets: [glm]\nreference: ref\nfoils: [glm]\n", "foils[0]", 7, "'glm' is also a target"),
        ("targets: [glm]\nreference: ref\nfoils: [dolly, ref]\n", "foils[1]", 7, "'ref' is the reference"),
        (
            "targets: [glm]\nreference: ref\nfoils:\n  - dolly\n  - dolly\n",
            "foils[1]",
            9,
            "'dolly' is listed twice",
        ),
    ],
)
def test_study_model_in_two_rse_roles_is_refused_when_read(
    tmp_path: Path, roles: str, field: str, line: int, message: str
) -> None:
    """A reference that is also a target, or a foil that is a target or listed twice: `--dry-run`
    planned the study, and the run refused it only when its RSE stage started (after every ICE
    stage), with rse run's words ('two test and panel models are named ...: rename a file'),
    naming neither the study file nor the field."""
    path = tmp_path / "study.yaml"
    models = (
        'models:\n  glm: {spec: "openai-compatible:glm@http://127.0.0.1:9/v1"}\n'
        '  ref: {spec: "openai-compatible:ref@http://127.0.0.1:9/v1"}\n'
    )
    dolly = '  dolly: {spec: "openai-compatible:dolly@http://127.0.0.1:9/v1"}\n'
    refused = refusal(path, models + dolly + roles + "ice: null\nrse: {datasets: {a: builtin}}\n")
    assert refused.startswith(f"{path}:{line}: field '{field}': {message}"), refused
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 2 and "calls per model" not in plan.output


@pytest.mark.parametrize(
    ("attribution", "field", "problem"),
    [
        ("{bank: gone}", "attribution.bank", "--bank {dir}/gone: no such folder"),
        (
            "{bank: ., bank_manifest: gone.yaml}",
            "attribution.bank_manifest",
            "{dir}/gone.yaml: bank manifest not found",
        ),
    ],
)
def test_study_attribution_bank_that_is_not_there_is_named_at_its_field(
    tmp_path: Path, attribution: str, field: str, problem: str
) -> None:
    """`--dry-run` said only '--bank DIR/gone: no such folder' (no study file, line or field), and the
    run said it after its ICE and RSE stages."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{ONE_MODEL}ice: null\nattribution: {attribution}\n")
    assert refused == f"{path}:5: field '{field}': " + problem.format(dir=tmp_path)
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 2 and f"field '{field}'" in plan.output


@pytest.mark.parametrize("judge", ["hybrid", "'hybrid:'", "' hybrid: '"])
def test_study_hybrid_judge_without_a_model_is_refused_when_read(tmp_path: Path, judge: str) -> None:
    """`--dry-run` planned 600 calls to a model named 'hybrid', and the run then stopped at the judge
    with '--judge hybrid needs an LLM', naming neither the file nor the field."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}ice: {{mode: plain, judge: {judge}}}\n")
    assert refused == (
        f"{path}:6: field 'ice.judge': hybrid needs an LLM for the unsure cases: give hybrid:MODEL, "
        "or judge_model: MODEL"
    )
    path.write_text(f"{TWO_MODELS}ice: {{mode: plain, judge: {judge}, judge_model: ref}}\n", encoding="utf-8")
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 0 and "ref 600" in plan.output.replace("\n", "")


def test_study_plan_calls_no_model_for_a_rules_judge_written_with_spaces(tmp_path: Path) -> None:
    """The run strips `judge: ' rules'` and calls no judge model; the plan counted 600 calls to ' rules'."""
    path = tmp_path / "study.yaml"
    path.write_text(f"{TWO_MODELS}ice: {{mode: plain, judge: ' rules'}}\n", encoding="utf-8")
    plan = invoke("study", path, "--dry-run")
    # the totals line, not the whole output: the plan's title names the study file, whose temporary
    # folder may hold the number (pytest-600)
    totals = plan.output.replace("\n", " ").split("calls per model", 1)[-1]
    assert plan.exit_code == 0 and "judging" not in plan.output and "600" not in totals, plan.output


def test_study_killed_mid_run_then_rerun_repeats_no_finished_call(
    tmp_path: Path, server_process: Any, answers_in: Any
) -> None:
    server = server_process(latency_ms=40)
    url = server.url
    path = tmp_path / "study.yaml"
    path.write_text(
        f"""models:
  glm: {{spec: "openai-compatible:glm-4-plus@{url}", identity: {{organisation: Zhipu AI}}}}
  qwen: {{spec: "openai-compatible:qwen2.5-72b@{url}", identity: {{organisation: Alibaba}}}}
targets: [glm, qwen]
ice: {{mode: plain, budget: 120, judge: rules}}
""",
        encoding="utf-8",
    )
    out = tmp_path / "study"
    args = [
        sys.executable,
        "-m",
        "distillscope",
        "study",
        str(path),
        "--out",
        str(out),
        "--concurrency",
        "4",
        "-q",
    ]
    victim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answers_in(out / "ledger.sqlite", at_least=10)
    time.sleep(random.Random(3).uniform(0.0, 0.6))  # a point in the first target's run
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (out / "results.json").exists()
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    stats = server.stop()
    assert stats["finished"] - stats["finished_twice"] == 240  # every call of both targets answered
    assert stats["finished_twice"] <= 4  # only calls in flight at the kill (--concurrency 4) went twice
    result = ds.load(out)
    assert isinstance(result, StudyResult) and result.complete
    assert [e.ice.n_responses for e in result.targets.values() if e.ice] == [120, 120]


@pytest.mark.parametrize(
    ("section", "field", "line", "shown"),
    [
        ("ice:\n  mode: plain\n  budget: .nan\n", "ice.budget", 6, "nan"),  # YAML's NaN
        ("ice:\n  mode: plain\n  ratio: .inf\n", "ice.ratio", 6, "inf"),
        ("ice:\n  mode: plain\n  alpha: -.inf\n", "ice.alpha", 6, "-inf"),
        ("ice:\n  mode: plain\n  ratio: nan\n", "ice.ratio", 6, "nan"),  # text, read as a float
        ("ice:\n  mode: plain\n  beta: inf\n", "ice.beta", 6, "inf"),
        ("ice:\n  mode: plain\n  languages: [en, .nan]\n", "ice.languages[1]", 6, "nan"),
        ("foils: [.inf]\n", "foils[0]", 4, "inf"),
        (
            "ice: null\nrse:\n  datasets: {a: builtin}\n  judge_temperature: .inf\n",
            "rse.judge_temperature",
            7,
            "inf",
        ),
    ],
)
def test_study_numbers_that_are_not_finite_are_named_at_file_line_and_field(
    tmp_path: Path, section: str, field: str, line: int, shown: str
) -> None:
    """`.nan`, `inf` and the like were refused naming the field but no line (`study.yaml: field
    'ice.budget': ...`), or, written as text in a float setting (`ratio: nan`), taken as NaN."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{ONE_MODEL}{section}")
    assert refused == (
        f"{path}:{line}: field '{field}': number out of range ({shown}): "
        "only finite numbers and 64-bit integers"
    )
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 2 and "Traceback" not in plan.output
    assert f"{path.name}:{line}: field '{field}'" in " ".join(plan.output.split())


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("rse: {judge: BIG, datasets: {a: examples}}", "rse.judge"),
        ("rse:\n  judge: offline\n  datasets:\n    ? BIG\n    : nope.jsonl", "rse.datasets.xxxx"),
        ("ice: {mode: BIG}", "ice.mode"),
        ("ice: {mode: plain, judge: rules, mutator: BIG}", "ice.mutator"),
    ],
)
def test_study_a_huge_value_is_cut_in_its_error_line(tmp_path: Path, section: str, field: str) -> None:
    """A 2 MB judge or dataset name was echoed whole in the one error line."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}{section.replace('BIG', 'x' * 2_000_000)}\n")
    assert len(refused) < len(str(path)) + 300, refused[:400]
    assert f"field '{field}" in refused and "x" * 58 not in refused and "x" * 57 + "..." in refused


def test_study_a_nul_byte_is_named_at_its_line(tmp_path: Path) -> None:
    """A NUL byte gave `malformed YAML: malformed YAML`, with no line."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}ice: null\n# a comment \x00\nrse: {{datasets: {{a: examples}}}}\n")
    assert refused.startswith(f"{path}:7: malformed YAML: a NUL byte"), refused


def test_study_an_integer_too_long_for_python_is_named_at_its_line(tmp_path: Path) -> None:
    """An integer of over 4,300 digits was a ValueError traceback (Python's int() limit)."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}rse:\n  datasets: {{a: examples}}\n  sample: {'1' * 5000}\n")
    assert refused.startswith(f"{path}:8: field 'rse.sample': number out of range"), refused[:300]


@pytest.mark.parametrize(
    ("setting", "field", "expected"),
    [
        ("rse:\n  datasets: {a: examples}\n  sample: yes", "rse.sample", "an integer"),
        ("rse:\n  datasets: {a: examples}\n  sample: true", "rse.sample", "an integer"),
        ("rse:\n  datasets: {a: examples}\n  judge_temperature: on", "rse.judge_temperature", "a number"),
        ("ice:\n  mode: plain\n  budget: true", "ice.budget", "an integer"),
        (
            "attribution:\n  families: {f: [ref]}\n  datasets: {a: examples}\n  seed: no",
            "attribution.seed",
            "an integer",
        ),
    ],
)
def test_study_a_yaml_boolean_is_not_read_as_a_number(
    tmp_path: Path, setting: str, field: str, expected: str
) -> None:
    """`sample: yes` (YAML's true) was read as 1: an RSE run of one prompt per dataset."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f"{TWO_MODELS}{setting}\n")
    line = 5 + len(setting.splitlines())
    assert refused.startswith(f"{path}:{line}: field '{field}': expected {expected}, got a boolean"), refused


def test_study_a_dataset_without_a_name_is_refused_at_its_field(tmp_path: Path) -> None:
    """`datasets: {"": file}` ran a dataset named "" (the CLI refuses `--dataset =file`)."""
    path = tmp_path / "study.yaml"
    refused = refusal(path, f'{TWO_MODELS}ice: null\nrse:\n  datasets:\n    "": examples\n')
    assert refused == f"{path}:8: field 'rse.datasets': a dataset without a name: give each one as NAME: PATH"


def test_study_dataset_names_differing_only_by_spaces_around_them_are_refused_at_the_second(
    tmp_path: Path,
) -> None:
    """`datasets: {"a ": p1.jsonl, a: p2.jsonl}` ran two datasets that every table of the report showed as
    `a`, side by side; refused at the second one's line and field, as `--dataset` refuses them."""
    for i in (1, 2):
        (tmp_path / f"p{i}.jsonl").write_text(json.dumps({"id": "1", "prompt": f"Question {i}"}) + "\n")
    path = tmp_path / "study.yaml"
    refused = refusal(
        path, f'{TWO_MODELS}ice: null\nrse:\n  datasets:\n    "a ": p1.jsonl\n    a: p2.jsonl\n'
    )
    assert refused == (
        f"{path}:10: field 'rse.datasets.a': the name 'a' differs from dataset 'a ' only by spaces around it: the "
        "report would show two datasets of one name; give each dataset its own name"
    )
    result = invoke("rse", "run", "--reference", "replay:ref.jsonl", "--test", "replay:t.jsonl",
                    "--dataset", f"a ={tmp_path / 'p1.jsonl'}", "--dataset", f"a={tmp_path / 'p2.jsonl'}",
                    "--out", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "error: --dataset: the name 'a' differs from 'a ' only by spaces around it: the report would show two of "
        "one name; give each its own name"
    ]
    assert not (tmp_path / "out").exists()


def test_study_dry_run_shows_control_and_bidi_characters_escaped(tmp_path: Path) -> None:
    """A right-to-left override in a model name was printed raw in the plan, reordering the table."""
    path = tmp_path / "study.yaml"
    name = "glm\u202eevil\x1b[2J"
    text = TWO_MODELS.replace("  glm:", f"  {json.dumps(name)}:").replace("[glm]", f"[{json.dumps(name)}]")
    path.write_text(f"{text}ice: {{mode: plain, judge: rules, languages: [en]}}\n", encoding="utf-8")
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert "\u202e" not in plan.output and "\x1b" not in plan.output
    assert "glm\\u202eevil\\x1b[2J" in plan.output.replace("\n", "")


def test_a_study_resumes_whatever_the_working_directory_and_the_files_path(
    tmp_path: Path, study_servers: dict[str, OpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dataset paths are relative to the study file, but the RSE stage recorded them joined to the
    study file's path *as typed*: `study study.yaml` recorded `prompts.jsonl`, `study /abs/study.yaml`
    `/abs/prompts.jsonl`, so the same study rerun from another directory (or by its absolute path)
    was refused after its ICE stages: `rse: the 'study-rse' run there has other settings`."""
    path, out = study_file(tmp_path, study_servers), tmp_path / "study"
    monkeypatch.chdir(tmp_path)
    first = invoke("study", "study.yaml", "--out", "study", "--quiet")
    assert first.exit_code == 0, first.output
    before = {n: s.requests for n, s in study_servers.items()}
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for where, study in ((tmp_path.parent, f"{tmp_path.name}/study.yaml"), (tmp_path / "study", path)):
        monkeypatch.chdir(where)
        again = invoke("study", study, "--out", out, "--quiet")
        assert again.exit_code == 0, again.output
        assert {n: s.requests for n, s in study_servers.items()} == before  # answered from the ledger
        rerun = json.loads((out / "results.json").read_text(encoding="utf-8"))
        assert rerun["targets"]["glm"]["rse"] == results["targets"]["glm"]["rse"]


def test_ice_files_are_relative_to_the_study_file_as_datasets_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ice: {probes: probes.jsonl}` was read from the working directory, while `rse.datasets` were
    read beside the study file: the study ran from its own folder and failed (or read another file
    of that name) from anywhere else."""
    folder = tmp_path / "audit"
    folder.mkdir()
    probes = folder / "probes.jsonl"
    probes.write_text("".join(json.dumps({"question": f"Who made you, {i}?"}) + "\n" for i in range(3)))
    path = folder / "study.yaml"
    path.write_text(
        f"{ONE_MODEL}ice: {{mode: plain, probes: probes.jsonl, templates: builtin}}\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)  # not the study's folder
    spec = load_study(path.relative_to(tmp_path))
    settings = spec.ice_settings("glm")
    assert settings.probes == str(probes) and settings.templates == "builtin"
    plan = invoke("study", "audit/study.yaml", "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert "glm 3" in " ".join(plan.output.split())  # three probes, asked plainly


def test_model_files_are_relative_to_the_study_file_as_datasets_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models: {ref: "replay:answers/ref.jsonl"}` was read from the working directory while the
    datasets beside it were read from the study's folder: run from anywhere else, `--dry-run`
    planned it, then the run wrote its directory and failed naming neither file nor field (or
    replayed another file of that name). Now it is read beside the study file, and a model file
    that is not there is refused when the study is read, at its line and field."""
    folder = tmp_path / "s"
    (folder / "answers").mkdir(parents=True)
    (folder / "q.jsonl").write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"Explain topic {i}"}) + "\n" for i in range(3))
    )
    for model in ("ref", "vic"):
        (folder / "answers" / f"{model}.jsonl").write_text(
            "".join(json.dumps({"id": f"q{i}", "response": f"{model} on topic {i}"}) + "\n" for i in range(3))
        )
    study = (
        'models:\n  ref: "replay:answers/ref.jsonl"\n  vic: {kind: replay, model: answers/vic.jsonl}\n'
        "targets: [vic]\nreference: ref\nice: null\nrse: {judge: offline, datasets: {mt: q.jsonl}}\n"
    )
    (folder / "study.yaml").write_text(study, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the study's folder
    spec = load_study("s/study.yaml")
    assert spec.catalog.models["ref"].path == str(folder / "answers" / "ref.jsonl")
    assert spec.catalog.models["vic"].path == str(folder / "answers" / "vic.jsonl")
    ran = invoke("study", "s/study.yaml", "--out", "out", "--quiet")
    assert ran.exit_code == 0, ran.output
    monkeypatch.chdir(folder)  # the same study from its own folder resumes the same directory
    again = invoke("study", "study.yaml", "--out", tmp_path / "out", "--quiet")
    assert again.exit_code == 0, again.output

    missing = folder / "missing.yaml"
    missing.write_text(study.replace("answers/ref.jsonl", "answers/nope.jsonl"), encoding="utf-8")
    message = refusal(missing, missing.read_text(encoding="utf-8"))
    assert message == (
        f"{missing}:2: field 'models.ref': {folder / 'answers' / 'nope.jsonl'}: replay file not found"
    )
    monkeypatch.chdir(tmp_path)
    refused = invoke("study", "s/missing.yaml", "--out", "out2", "--quiet")
    assert refused.exit_code == 2 and not (tmp_path / "out2").exists()


def test_a_home_folder_path_in_a_study_file_is_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`datasets: {a: ~/data/p.jsonl}` (and an `ice:` file, a bank manifest) was joined to the study's
    folder, `/studies/~/data/p.jsonl: file not found`, though `~` is the home folder wherever
    else a path is read (a `replay:~/...` model of the same file, `--dataset`, the Python API)."""
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    prompts = home / "data" / "p.jsonl"
    prompts.write_text('{"id": "1", "prompt": "Explain rain"}\n', encoding="utf-8")
    (home / "data" / "probes.jsonl").write_text(json.dumps({"question": "Who made you?"}) + "\n")
    path = tmp_path / "studies" / "study.yaml"
    path.parent.mkdir()
    path.write_text(
        f"{TWO_MODELS}ice: {{mode: plain, probes: ~/data/probes.jsonl}}\n"
        "rse: {judge: offline, datasets: {a: ~/data/p.jsonl}}\n",
        encoding="utf-8",
    )
    spec = load_study(path)
    assert spec.rse is not None and spec.rse["datasets"] == {"a": str(prompts)}
    assert spec.ice_settings("glm").probes == str(home / "data" / "probes.jsonl")
    plan = invoke("study", path, "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert "glm 2, ref 1" in " ".join(plan.output.split())  # the probe, asked plainly; the prompt


def test_a_study_refused_for_its_model_gives_its_directory_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A study refused before any stage wrote anything (here: its target's key variable is not set)
    left the directory it had made, holding its lock and its claim (config.json), as no refused run
    does; in a folder that was there, the claim stayed beside the user's files."""
    monkeypatch.delenv("DS_TEST_UNSET_KEY", raising=False)
    path = tmp_path / "study.yaml"
    path.write_text(
        'models:\n  glm: {spec: "openai-compatible:glm@http://127.0.0.1:9/v1", api_key_env: DS_TEST_UNSET_KEY}\n'
        "targets: [glm]\nice: {mode: plain, budget: 2, judge: rules}\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs" / "study"
    refused = invoke("study", path, "--out", out)
    assert refused.exit_code == 2 and "DS_TEST_UNSET_KEY is not set" in refused.output
    assert not (tmp_path / "runs").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert invoke("study", path, "--out", kept).exit_code == 2
    assert sorted(p.name for p in kept.iterdir()) == ["notes.txt"]


def test_two_models_served_under_one_name_at_two_urls_are_refused_unless_told_apart(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two fine-tunes each served as `model` at its own URL were one model to the study's ledger
    (it keys calls by the model's name, not its URL): the second target was answered with the
    first's answers and its server never asked, exit 0. Refused when the file is read, at the
    second model's line; a `cache_namespace` tells them apart, and each server is then asked."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    a = openai_server(lambda body: "Model A answers about physics and forces.")
    b = openai_server(lambda body: "Model B answers with a recipe for pasta.")
    _three_prompts_and_their_reference(tmp_path)
    study = (
        f'models:\n  ref: "replay:ref.jsonl"\n  fa: "openai-compatible:model@{a.url}"\n'
        f'  fb: {{spec: "openai-compatible:model@{b.url}"}}\n'
        "targets: [fa, fb]\nreference: ref\nice: null\nrse: {judge: offline, datasets: {d: p.jsonl}}\n"
    )
    path = tmp_path / "study.yaml"
    refused = refusal(path, study)
    assert refused.startswith(
        f"{path}:4: field 'models.fb': the same model to the call ledger as 'fa' ('model', the same API and parameters) at another URL"
    )
    out = tmp_path / "out"
    assert invoke("study", path, "--out", out).exit_code == 2 and not out.exists()
    path.write_text(
        study.replace(f'{b.url}"}}', f'{b.url}", cache_namespace: fine-tune-b}}'), encoding="utf-8"
    )
    ran = invoke("study", path, "--out", out, "--quiet")
    assert ran.exit_code == 0, ran.output
    assert a.requests == 3 and b.requests == 3  # each target asked its own server
    answers = [json.loads(line) for line in (out / "rse" / "responses.jsonl").read_text().splitlines()]
    assert {r["response"] for r in answers if r["model"] == "fb"} == {
        "Model B answers with a recipe for pasta."
    }
    replicas = study.replace(f'  fb: {{spec: "openai-compatible:model@{b.url}"}}\n', "").replace(
        "[fa, fb]", "[fa]"
    )
    replicas = replicas.replace(
        f'"openai-compatible:model@{a.url}"', f'"openai-compatible:model@{a.url},{b.url}"'
    )
    path.write_text(replicas, encoding="utf-8")
    assert load_study(path).targets == ["fa"]  # one model at two URLs: replicas, as before


def test_a_study_whose_target_calls_failed_is_incomplete_and_says_to_rerun_once(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target's failed call left its RSE stage, and so the study, `"complete": true`; now the study is
    incomplete, its `incomplete:` line counts the failed call and says once to rerun the same command,
    and the rerun against a healthy server asks only that call and completes the study."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    down = {"now": True}

    def flaky(body: dict[str, Any]) -> Any:
        if down["now"] and "topic 1" in body["messages"][-1]["content"]:
            return RawReply(b'{"error": {"message": "server overloaded"}}', status=400)
        return "Model A answers about physics and forces."

    a = openai_server(flaky)
    _three_prompts_and_their_reference(tmp_path)
    path = tmp_path / "study.yaml"
    path.write_text(
        f'models:\n  ref: "replay:ref.jsonl"\n  fa: "openai-compatible:model@{a.url}"\n'
        "targets: [fa]\nreference: ref\nice: null\nrse: {judge: offline, datasets: {d: p.jsonl}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    ran = invoke("study", path, "--out", out, "--quiet")
    assert ran.exit_code == 0, ran.output
    said = " ".join(ran.output.split())
    assert "incomplete: 1 of 3 model calls failed (first error: " in said  # (a replay makes no call)
    assert said.count("rerun the same command") == 1
    assert ds.load(out).complete is False
    asked = a.requests
    down["now"] = False
    again = invoke("study", path, "--out", out, "--quiet")
    assert again.exit_code == 0 and "incomplete" not in again.output, again.output
    assert ds.load(out).complete is True and a.requests == asked + 1


def _three_prompts_and_their_reference(folder: Path) -> None:
    """p.jsonl (three prompts) and ref.jsonl (the reference's recorded answers to them) in `folder`."""
    (folder / "p.jsonl").write_text(
        "".join(json.dumps({"id": str(i), "prompt": f"Explain topic {i}"}) + "\n" for i in range(3))
    )
    (folder / "ref.jsonl").write_text(
        "".join(
            json.dumps({"id": str(i), "response": f"Topic {i} is about forces."}) + "\n" for i in range(3)
        )
    )
