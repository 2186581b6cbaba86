"""Hostile input files, flags and API arguments (issue 24): each one is exit 2 and one line naming
the file, field or flag (or is handled correctly), never a traceback, a hang or another run's files
overwritten. Fast cases run in-process through typer's CliRunner; the timing cases (an alias bomb,
Ctrl-C, a study running beside another command) run the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import regex
from typer.testing import CliRunner

import distillscope as ds
import distillscope.cli as cli_module
from distillscope.errors import UserError
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.user_patterns import UserPattern
from distillscope.records import parse_yaml
from distillscope.rse.datasets import load_datasets
from distillscope.studies import stage_dir
from distillscope.testing.server import OpenAIServer

cli_module._register_optional()

# nine levels of nine aliases: ~387 million items as expanded, ~350 bytes as written
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefghi", "bcdefghij", strict=True)
)
CATASTROPHIC = "(a|aa)+$"


def one_line_exit_2(args: list[str], needle: str) -> str:
    """Run the CLI in-process; assert exit 2, one line on stderr holding `needle`, no traceback."""
    result = CliRunner().invoke(cli_module.app, [str(a) for a in args])
    assert not (result.exception and not isinstance(result.exception, SystemExit)), repr(result.exception)
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed
    assert result.exit_code == 2, printed
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def prompts(tmp_path: Path, n: int = 2) -> Path:
    return write(
        tmp_path / "p.jsonl",
        "".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n" for i in range(n)),
    )


def fake_run(directory: Path, command: str = "ice-run") -> Path:
    """A run directory as a finished run leaves it (what matters here: its files exist)."""
    directory.mkdir(parents=True, exist_ok=True)
    write(directory / "config.json", json.dumps({"command": command}))
    write(directory / "results.json", json.dumps({"complete": True}))
    write(directory / "verdicts.jsonl", '{"index": 0}\n' * 50)
    return directory


# ------------------------------------------------------------------ 6. YAML alias bomb
def test_yaml_alias_bomb_config_is_exit_2_within_10_s(tmp_path: Path) -> None:
    bomb = write(tmp_path / "bomb.yaml", ALIAS_BOMB)
    assert len(bomb.read_bytes()) < 400
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "distillscope", "models", "answer", "m", "--config", str(bomb),
         "--prompts", str(prompts(tmp_path)), "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - started < 10
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert f"{bomb}: YAML aliases expand to more than" in done.stderr


def test_yaml_self_referring_alias_is_a_located_error() -> None:
    with pytest.raises(
        UserError, match=r"f.yaml:1: malformed YAML: an alias refers to a node that contains it"
    ):
        parse_yaml("a: &a [*a, *a]\n", "f.yaml")


def test_yaml_aliases_of_ordinary_size_still_load() -> None:
    text = "base: &b {timeout_s: 5}\nmodels:\n  m1: {<<: *b, spec: x}\n  m2: *b\nlist: [&x [1, 2], *x]\n"
    assert parse_yaml(text, "f.yaml") == {
        "base": {"timeout_s": 5},
        "models": {"m1": {"timeout_s": 5, "spec": "x"}, "m2": {"timeout_s": 5}},
        "list": [[1, 2], [1, 2]],
    }


@pytest.mark.parametrize("kind", ["study", "identities"])
def test_yaml_alias_bomb_in_study_and_identity_files(tmp_path: Path, kind: str) -> None:
    bomb = write(tmp_path / f"{kind}.yaml", ALIAS_BOMB)
    if kind == "study":
        one_line_exit_2(["study", bomb, "--out", tmp_path / "s"], "YAML aliases expand to more than")
    else:
        with pytest.raises(UserError, match="YAML aliases expand to more than"):
            IdentityRegistry.load(bomb)


# ------------------------------------------------------------------ 7. Ctrl-C while the loop is busy
def test_first_ctrl_c_stops_a_long_synchronous_step_within_2_s(tmp_path: Path) -> None:
    """Reading 150,000 prompts holds the event loop for many seconds: the first Ctrl-C still ends
    the command within the grace time (1.5 s), exit 130 and the resume line."""
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as fh:
        for i in range(150_000):
            fh.write(json.dumps({"id": f"i{i}", "prompt": f"question number {i} about things"}) + "\n")
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "distillscope", "models", "answer", "openai-compatible:m@http://127.0.0.1:9/v1",
         "--prompts", str(big), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (out / "run.log").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # inside the read of the prompt file
    assert proc.poll() is None, "the command ended before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert took < 3, took  # 1.5 s of grace, and a loaded machine's slack (13 s before the watchdog)
    assert "Traceback" not in err and "resume" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ 8. --identities files
def identities(tmp_path: Path, families: str) -> Path:
    return write(tmp_path / "ids.yaml", "families:\n" + families)


def test_identities_global_flag_and_shared_group_names_mean_what_they_say(tmp_path: Path) -> None:
    path = identities(
        tmp_path,
        '  - {id: zorp, organisation: Zorp Labs, patterns: ["(?i)zorp-\\\\d", "(?P<n>zz9)"]}\n'
        '  - {id: blip, organisation: Blip Inc, patterns: ["(?P<n>blip-x)"]}\n',
    )
    registry = IdentityRegistry.load(path)
    found = registry.match_names("I am ZORP-7, not blip-x nor zz9.")
    assert [fam for fam, _ in found] == ["zorp", "blip", "zorp"]
    identity = registry.for_model("zorp-3")
    assert identity is not None and identity.family == "zorp"


@pytest.mark.parametrize(
    ("families", "needle"),
    [
        ('  - {id: x, organisation: X, names: [""]}\n', "field 'families.0.names'"),
        ('  - {id: x, organisation: X, org_aliases: ["  "]}\n', "field 'families.0.org_aliases'"),
        ('  - {id: x, organisation: X, patterns: ["(x"]}\n', "field 'x.patterns[0]': bad regular expression"),
        (
            '  - {id: x, organisation: X, patterns: ["q*"]}\n',
            "field 'x.patterns[0]': the pattern 'q*' matches empty",
        ),
        (
            f'  - {{id: x, organisation: X, patterns: ["{CATASTROPHIC}"]}}\n',
            "field 'x.patterns[0]': the pattern",
        ),
    ],
    ids=["empty-name", "blank-alias", "bad-regex", "empty-match", "catastrophic"],
)
def test_bad_identity_files_are_one_located_line(tmp_path: Path, families: str, needle: str) -> None:
    path = identities(tmp_path, families)
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        IdentityRegistry.load(path)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith(str(path)) and needle in message and "\n" not in message


def test_catastrophic_identity_pattern_is_exit_2_through_the_cli(
    tmp_path: Path, server: OpenAIServer
) -> None:
    path = identities(tmp_path, f'  - {{id: x, organisation: X, patterns: ["{CATASTROPHIC}"]}}\n')
    one_line_exit_2(
        ["ice", "run", "--target", f"openai-compatible:m@{server.url}", "--target-org", "Zhipu AI",
         "--mode", "plain", "--budget", "2", "--identities", path, "--quiet", "--out", tmp_path / "run"],
        "catastrophic backtracking",
    )  # fmt: skip


def test_a_user_pattern_that_hangs_on_one_answer_stops_within_its_time_box() -> None:
    """The load-time probe cannot foresee every text: matching itself is time-boxed."""
    slow = UserPattern("(b|bb)+$", "ids.yaml", "x.patterns[0]", regex.compile("(b|bb)+$"))
    started = time.monotonic()
    with pytest.raises(
        UserError, match=r"ids.yaml: field 'x.patterns\[0\]': the pattern '\(b\|bb\)\+\$' ran over"
    ):
        slow.finditer("b" * 200 + "!")
    assert time.monotonic() - started < 5


def test_a_pattern_that_passes_the_load_probe_but_hangs_on_an_answer_is_exit_2(tmp_path: Path) -> None:
    """`(?:ab|abab)+$` answers at once on runs of one character (the load probe), and backtracks
    exponentially on "abab…!": the time box of the match ends the rescore with one located line."""
    path = identities(
        tmp_path, '  - {id: acme, organisation: Acme, names: [RoboChat], patterns: ["(?:ab|abab)+$"]}\n'
    )
    log = write(
        tmp_path / "log.jsonl",
        json.dumps({"model": "robochat-7b", "jailbreak_prompt": "{query}", "query": "Who made you?",
                    "response": "ab" * 60 + "!"}) + "\n",
    )  # fmt: skip
    started = time.monotonic()
    one_line_exit_2(
        ["ice", "rescore", log, "--identities", path, "--target-org", "Acme", "--judge-workers", "0",
         "--out", tmp_path / "r", "-q"],
        f"{path}: field 'acme.patterns[0]': the pattern '(?:ab|abab)+$' ran over 1 s",
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert not (tmp_path / "r" / "results.json").exists()


# ------------------------------------------------------------------ 10. seeds outside numpy's range
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["rse", "run", "--reference", "replay:{d}/ref.jsonl", "--test", "replay:{d}/ref.jsonl",
          "--dataset", "d={d}/p.jsonl", "--seed", "-1"], "--seed must be from 0 to 4294967295, got -1"),
        (["rse", "attribute", "--family", "a=replay:{d}/ref.jsonl", "--family", "b=replay:{d}/ref.jsonl",
          "--test", "replay:{d}/ref.jsonl", "--dataset", "d={d}/p.jsonl", "--seed", "4294967296"],
         "--seed must be from 0 to 4294967295, got 4294967296"),
        (["ice", "audit", "score", "{d}/p.jsonl", "--seed", "-3"], "--seed must be from 0"),
        (["ice", "run", "--target", "openai-compatible:m@http://127.0.0.1:9/v1", "--target-org", "Zhipu AI",
          "--seed", "-5"], "--seed must be from 0"),
    ],
    ids=["rse-run", "rse-attribute", "audit-score", "ice-run"],
)  # fmt: skip
def test_seeds_outside_the_range_are_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    prompts(tmp_path)
    write(
        tmp_path / "ref.jsonl",
        json.dumps({"id": "q0", "prompt": "question 0", "response": "an answer"}) + "\n",
    )
    argv = [a.format(d=tmp_path) for a in args]
    if args[:2] != ["ice", "audit"]:
        argv += ["--out", str(tmp_path / "run"), "--quiet"]
    one_line_exit_2(argv, needle)
    assert not (tmp_path / "run" / "results.json").exists()


def test_study_seed_outside_the_range_is_exit_2(tmp_path: Path) -> None:
    study = write(
        tmp_path / "study.yaml",
        "models:\n  t: {spec: 'openai-compatible:t@http://127.0.0.1:9/v1', identity: {organisation: Zhipu AI}}\n"
        "targets: [t]\nice: {mode: plain, seed: -1}\n",
    )
    one_line_exit_2(
        ["study", study, "--out", tmp_path / "s"], "study.yaml:4: field 'ice.seed': --seed must be from 0"
    )
    assert not (tmp_path / "s").exists()


# ------------------------------------------------------------------ 11. maths markup in names
def test_dollar_signs_in_dataset_and_model_names_are_text_in_the_report(tmp_path: Path) -> None:
    p = prompts(tmp_path, 3)
    for name in ("ref", "t$x$"):
        write(
            tmp_path / f"{name}.jsonl",
            "".join(
                json.dumps({"id": f"q{i}", "prompt": f"question {i}", "response": f"answer {i} by {name}"})
                + "\n"
                for i in range(3)
            ),
        )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli_module.app,
        ["rse", "run", "--reference", f"replay:{tmp_path / 'ref.jsonl'}", "--test", f"replay:{tmp_path / 't$x$.jsonl'}",
         "--dataset", f"$\\notacmd$={p}", "--out", str(out), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "$\\notacmd$" in html


# ------------------------------------------------------------------ 12. writing into other runs' files
def test_audit_sample_refuses_to_overwrite_the_runs_verdicts(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run")
    before = (run / "verdicts.jsonl").read_bytes()
    one_line_exit_2(
        ["ice", "audit", "sample", run, "--labels", "recorded", "--out", run / "verdicts.jsonl"],
        "--out must not write over a run's files",
    )
    assert (run / "verdicts.jsonl").read_bytes() == before


def test_audit_score_json_and_report_out_refuse_another_runs_results(tmp_path: Path) -> None:
    a, b = fake_run(tmp_path / "a"), fake_run(tmp_path / "b", "rse")
    before = (b / "results.json").read_bytes()
    one_line_exit_2(
        ["ice", "audit", "score", tmp_path / "x.jsonl", "--json", b / "results.json"], "--json must not"
    )
    one_line_exit_2(["report", a, "--out", b / "results.json"], "--out must not write over a run's files")
    with pytest.raises(ds.UserError, match="out must not write over"):
        ds.report(a, out=b / "config.json")
    assert (b / "results.json").read_bytes() == before


# ------------------------------------------------------------------ 13 and 16. study directories
def study_yaml(tmp_path: Path, url: str, targets: list[str], budget: int = 2) -> Path:
    models = "".join(
        f"  {t!r}: {{spec: 'openai-compatible:glm-4-plus@{url}', identity: {{organisation: Zhipu AI}}}}\n"
        for t in targets
    )
    return write(
        tmp_path / "study.yaml",
        f"models:\n{models}targets: {json.dumps(targets)}\n"
        f"ice: {{mode: plain, budget: {budget}, judge: rules, languages: [en]}}\n",
    )


def test_study_stage_directories_never_collide() -> None:
    names = ["a/b", "a_b", "a b", "a:b", ".", "..", "", "ice", "A"]
    dirs = [stage_dir(n) for n in names]
    assert len(set(dirs)) == len(dirs)
    assert stage_dir("glm-4.plus") == "ice-glm-4.plus"  # a safe name is kept as it is
    assert all("/" not in d and d not in (".", "..") for d in dirs)


def test_study_with_colliding_target_names_runs(tmp_path: Path, server: OpenAIServer) -> None:
    study = study_yaml(tmp_path, server.url, ["a/b", "a_b"])
    out = tmp_path / "s"
    result = CliRunner().invoke(cli_module.app, ["study", str(study), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {entry["ice_dir"] for entry in data["targets"].values()} == {stage_dir("a/b"), "ice-a_b"}


def test_a_refused_study_stage_never_suggests_force(tmp_path: Path, server: OpenAIServer) -> None:
    study = study_yaml(tmp_path, server.url, ["t"])
    out = tmp_path / "s"
    fake_run(out / stage_dir("t"), command="answer")
    line = one_line_exit_2(["study", study, "--out", out, "--quiet"], "is the run directory of 'answer'")
    assert "--force" not in line and "remove" in line


@pytest.mark.parametrize("holds", ["config", "results"])
def test_a_study_refuses_another_kind_of_run_directory(
    tmp_path: Path, server: OpenAIServer, holds: str
) -> None:
    study = study_yaml(tmp_path, server.url, ["t"])
    out = tmp_path / "s"
    out.mkdir()
    if holds == "config":
        write(out / "config.json", json.dumps({"command": "answer"}))
        needle = "is the run directory of 'answer', not 'study'"
    else:  # a run of distillscope 0.1: results, no config
        write(out / "results.json", json.dumps({"kind": "ice", "complete": True}))
        needle = "holds a results.json of another kind and no config.json"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    line = one_line_exit_2(["study", study, "--out", out, "--quiet"], needle)
    assert "--force" not in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the refused study's .lock removed too


def test_a_study_directory_cannot_be_taken_over(
    tmp_path: Path, server_process: Any, answers_in: Callable[..., None], answer_args: Any, run_cli: Any
) -> None:
    slow = server_process(latency_ms=1000)  # the study is still running when the second command comes
    study = study_yaml(tmp_path, slow.url, ["t"], budget=40)
    out = tmp_path / "s"
    proc = subprocess.Popen(
        [sys.executable, "-m", "distillscope", "study", str(study), "--out", str(out), "--quiet", "--concurrency", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        answers_in(out / "ledger.sqlite", at_least=1)
        running = run_cli(*answer_args(slow.url, prompts(tmp_path), out))
        assert running.returncode == 2 and "another distillscope command is running" in running.stderr
    finally:
        proc.kill()
        proc.wait()
    killed = run_cli(*answer_args(slow.url, prompts(tmp_path), out))
    assert killed.returncode == 2, killed.stderr
    assert "is the run directory of 'study', not 'answer'" in killed.stderr
    assert len(killed.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ 17. study files
@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("targets: [t]\nreference: 5\n", "field 'reference': expected a model name, got int"),
        ("targets: [t]\nfoils: [t, 7]\n", "field 'foils[1]': expected a model name, got int"),
        ("targets: [t]\nice: null\n", "field 'ice': nothing to run"),
        ("- just\n- a list\n", "study.yaml: field 'models': expected a mapping"),
    ],
    ids=["reference-int", "foil-int", "nothing-to-run", "top-level-list"],
)
def test_bad_study_files_write_nothing(tmp_path: Path, extra: str, needle: str) -> None:
    models = "models:\n  t: {spec: 'openai-compatible:t@http://127.0.0.1:9/v1', identity: {organisation: Zhipu AI}}\n"
    study = write(tmp_path / "study.yaml", extra if extra.startswith("-") else models + extra)
    one_line_exit_2(["study", study, "--out", tmp_path / "s"], needle)
    assert not (tmp_path / "s").exists()


# ------------------------------------------------------------------ 18. audit score edge cases
def audit_row(stratum: str, pop: dict[str, int]) -> str:
    verdict = {"judge": "rules", "loose": True, "strict": False}
    row = {"stratum": stratum, "strata_pop": pop, "label_loose": True, "label_strict": False,
           "judges": {"a": verdict, "b": verdict}}  # fmt: skip
    return json.dumps(row) + "\n"


@pytest.mark.parametrize(
    ("pop", "flags", "needle"),
    [
        ({"L11": 0, "L00": 0}, [], "field 'strata_pop': stratum 'L11' has 0 rows in the run"),
        ({"L11": 5}, ["--resamples", "0"], "--resamples must be from 100"),
        ({"L11": 5}, ["--resamples", "-3"], "--resamples must be from 100"),
    ],
    ids=["strata-all-zero", "resamples-0", "resamples-negative"],
)
def test_audit_score_edge_cases_are_exit_2(
    tmp_path: Path, pop: dict[str, int], flags: list[str], needle: str
) -> None:
    audit = write(tmp_path / "audit.jsonl", audit_row("L11", pop) * 3)
    one_line_exit_2(["ice", "audit", "score", audit, *flags], needle)


# ------------------------------------------------------------------ 19. CSV cells are text
def test_a_csv_prompt_that_parses_as_json_stays_the_prompt(tmp_path: Path) -> None:
    rows = 'id,prompt\na,"{""task"": ""summarize""}"\nb,"[1, 2]"\n'
    write(tmp_path / "p.csv", rows)
    write(tmp_path / "t.csv", 'id,turns\nc,"[""first"", ""second""]"\n')
    (data,) = load_datasets({"d": str(tmp_path / "p.csv")})
    assert [p.messages[-1].content for p in data.prompts] == ['{"task": "summarize"}', "[1, 2]"]
    (turns,) = load_datasets({"t": str(tmp_path / "t.csv")})
    assert turns.prompts[0].messages[-1].content == "first" and turns.prompts[0].followups == ("second",)


# ------------------------------------------------------------------ 20. Python API arguments
@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda d: ds.ice.run(123, out=d), "argument 'target'"),
        (lambda d: ds.ice.run("m", budget="lots", out=d), "argument 'budget'"),
        (lambda d: ds.ice.run("m", out=5), "argument 'out': expected a path"),
        (lambda d: ds.ice.run("m", colour="red", out=d), "unexpected keyword argument 'colour'"),
        (lambda d: ds.rse.run("r", ["t"], ["a.jsonl"], out=d), "argument 'datasets': expected a mapping"),
        (lambda d: ds.rse.run("r", "rt", {"a": "x.jsonl"}, out=d), "argument 'tests': expected a list"),
        (lambda d: ds.rse.run("r", ["t"], {"a": "x.jsonl"}, concurrency="many", out=d), "argument 'concurrency'"),
        (lambda d: ds.rse.matrix("ab", {"a": "x.jsonl"}, out=d), "argument 'models': expected a list"),
        (lambda d: ds.models.answer("m", 5, out=d), "argument 'prompts'"),
        (lambda d: ds.report(5), "argument 'paths'"),
        (lambda d: ds.study("s.yaml", out=d, concurrency="x"), "argument 'concurrency'"),
        # past 64 bits: the run made every call, then could not write results.json
        (lambda d: ds.ice.run("m", max_calls=10**30, out=d), "argument 'max_calls': out of range"),
        (lambda d: ds.ice.run("m", budget=-(10**30), out=d), "argument 'budget': out of range"),
    ],
    ids=["target-int", "budget-text", "out-int", "unknown", "datasets-list", "tests-string", "concurrency",
         "matrix-string", "prompts-int", "report-int", "study-option", "max-calls-huge", "budget-huge"],
)  # fmt: skip
def test_python_api_arguments_are_one_line_user_errors(tmp_path: Path, call: Any, needle: str) -> None:
    with pytest.raises(ds.UserError) as caught:
        call(tmp_path / "run")
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ 21. FIFOs named as input files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize(
    "args",
    [
        ["ice", "run", "--judge-weights", "fifo"],
        ["ice", "run", "--judge", "hybrid:{spec}", "--judge-calibration", "fifo"],
        ["models", "answer", "local:fifo", "-p", "p.txt"],
        ["ice", "audit", "score", "fifo"],
    ],
    ids=["judge-weights", "judge-calibration", "local-model", "audit-file"],
)
def test_a_fifo_named_as_an_input_file_is_refused_not_waited_on(
    tmp_path: Path, openai_server: Any, run_cli: Any, args: list[str]
) -> None:
    """A FIFO no one writes, named where a file is read: the read blocked for ever (and for a
    `local:` model, llama.cpp held the GIL while it waited, so not even SIGTERM could stop it).
    Other input files were already refused as `not a regular file`; these are now too."""
    os.mkfifo(tmp_path / "fifo")
    write(tmp_path / "p.txt", "hi\n")
    spec = f"openai-compatible:gpt-4o@{openai_server().url}"
    args = [a.format(spec=spec) for a in args]
    if args[:2] == ["ice", "run"]:
        args += ["--target", spec, "--target-org", "OpenAI", "--mode", "plain", "--budget", "2"]
    if args[0] != "ice" or args[1] != "audit":
        args += ["--out", "o", "-q"]
    result = run_cli(*args, cwd=tmp_path, timeout=20)
    assert result.returncode == 2, result.stderr
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "error: fifo: not a regular file"
    ]
    assert not (tmp_path / "o" / "results.json").exists()
