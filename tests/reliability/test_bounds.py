"""Bounds: what distillscope does with inputs that are too big, too deep, not finite, or shaped
oddly — a cap on answers and on what the offline judge reads, finite numbers only, escaped
terminal output, duplicate YAML keys, BOMs, JSON arrays, deep nesting, bad ports and headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer

from distillscope.cli.options import BadNumber, finite_float, int64


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def assert_refused(result: Any, *needles: str) -> None:
    """Exit 2, one line, no traceback, the needles in it."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(error_lines(result.stderr)) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# -- answer size ---------------------------------------------------------------------------------


def test_a_huge_answer_is_capped_and_counted(tmp_path: Path, openai_server: Any, run_cli: Any) -> None:
    server = openai_server(reply=lambda body: "é" * 3_000)  # 6,000 bytes of UTF-8
    config = tmp_path / "m.yaml"
    config.write_text(
        f"models:\n  big:\n    spec: openai-compatible:m@{server.url}\n    max_answer_bytes: 1001\n",
        encoding="utf-8",
    )
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\ntwo\n", encoding="utf-8")
    out = tmp_path / "run"
    result = run_cli(
        "models", "answer", "big", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q"
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "responses.jsonl").read_text("utf-8").splitlines()]
    assert [len(r["response"].encode()) for r in rows] == [1000, 1000]  # cut on a character boundary
    assert {r["finish_reason"] for r in rows} == {"capped"}
    totals = json.loads((out / "results.json").read_text("utf-8"))["run"]["totals"]
    assert totals["calls_capped"] == 2
    rerun = run_cli("models", "answer", "big", "-c", str(config), "-p", str(prompts), "--out", str(out))
    assert rerun.returncode == 0
    assert (
        rerun.stderr.count("model 'big': 2 answers longer than max_answer_bytes (1,001 bytes) were cut") == 1
    )
    assert json.loads((out / "results.json").read_text("utf-8"))["run"]["totals"]["calls_capped"] == 2


def test_the_default_answer_cap_is_one_megabyte() -> None:
    from distillscope.engine.scheduler import cap_answer
    from distillscope.models.base import ModelConfig
    from distillscope.models.types import ModelResponse

    assert ModelConfig(kind="replay", model="x").max_answer_bytes == 1_000_000
    whole = ModelResponse(text="a" * 1_000_000, finish_reason="stop")
    assert cap_answer(whole, 1_000_000) is whole
    cut = cap_answer(ModelResponse(text="a" * 60_000_000), 1_000_000)
    assert len(cut.text) == 1_000_000 and cut.finish_reason == "capped"


# -- the offline judge reads a bounded text ------------------------------------------------------


def test_offline_judge_reads_at_most_max_chars() -> None:
    from distillscope.rse.offline.judge import MAX_CHARS, OfflineJudge
    from distillscope.rse.types import PairItem

    judge = OfflineJudge(embeddings=False, max_chars=2_000)
    long_ref = "The tide rises. " * 50_000
    long_cand = "The moon pulls water. " * 50_000
    item = PairItem(prompt_id="p", prompt="q", reference=long_ref, candidate=long_cand)
    [scores] = judge.score([item])
    assert scores is not None and "only the first 2000 characters read" in scores.evidence
    cut = PairItem(prompt_id="p", prompt="q", reference=long_ref[:2_000], candidate=long_cand[:2_000])
    [same] = judge.score([cut])
    assert same is not None and (same.style, same.logic, same.content) == (
        scores.style,
        scores.logic,
        scores.content,
    )
    assert OfflineJudge(embeddings=False).settings["max_chars"] == MAX_CHARS
    [identical] = judge.score([PairItem(prompt_id="p", prompt="q", reference=long_ref, candidate=long_ref)])
    assert identical is not None and identical.overall == 5.0


# -- non-finite numbers --------------------------------------------------------------------------


def _options_of_type(kind: str = "float") -> list[tuple[str, str, Any]]:
    """(command, option, its parser) for every option of every command whose type is `kind`."""
    from distillscope.cli import _register_optional, app

    _register_optional()
    found: list[tuple[str, str, Any]] = []

    def walk(command: Any, path: str) -> None:
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}".strip())
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and f"'{kind}'" in str(descriptor.annotation):
                found.append((path, str(param.name), getattr(descriptor.parameter_info, "parser", None)))

    walk(typer.main.get_command(app), "")
    return found


def test_every_float_option_refuses_nan_and_inf() -> None:
    """Every float option of every command is parsed by finite_float, which refuses nan and inf
    (the default float parsing takes both, and they were written as bare NaN into results.json)."""
    options = _options_of_type()
    assert {name for _, name, _ in options} >= {"ratio", "alpha", "beta", "judge_temperature", "temperature"}
    assert [(cmd, name) for cmd, name, parser in options if parser is not finite_float] == []
    for bad in ("nan", "NaN", "inf", "-inf", "1e999"):
        with pytest.raises(BadNumber, match="not a finite number"):
            finite_float(bad)
    assert finite_float("0.25") == 0.25


def test_every_integer_option_refuses_what_is_not_a_64_bit_integer() -> None:
    """Every integer option is parsed by int64: click's INT took any size, and a value past 64 bits
    ran the whole command and then failed writing results.json (no file can hold it)."""
    options = _options_of_type("int")
    assert {name for _, name, _ in options} >= {"concurrency", "max_calls", "seed", "budget", "sample", "n"}
    assert [(cmd, name) for cmd, name, parser in options if parser is not int64] == []
    for bad in ("9223372036854775808", "-9223372036854775809", "9" * 5000):
        with pytest.raises(BadNumber, match="out of range"):
            int64(bad)
    for bad in ("abc", "1e3", "2.5", ""):
        with pytest.raises(BadNumber, match="not an integer"):
            int64(bad)
    assert int64("9223372036854775807") == 2**63 - 1 and int64(" -3 ") == -3


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    [
        ("ice", "--max-calls", "99999999999999999999999"),
        ("ice", "--concurrency", "999999999999999999999999"),
        ("ice", "--judge-max-input-tokens", "99999999999999999999999"),
        ("models", "--seed", "99999999999999999999999"),
        ("rse", "--sample", "99999999999999999999999"),
        ("ice", "--budget", "lots"),
    ],
)
def test_integer_flags_past_64_bits_are_one_line_before_any_call(
    tmp_path: Path, openai_server: Any, run_cli: Any, command: str, flag: str, value: str
) -> None:
    """Before, `--max-calls 99999999999999999999999` ran every call, then said `out/results.json:53:
    field 'settings.max_calls': number out of range` and left a config.json no rerun could read."""
    server = openai_server()
    spec = f"openai-compatible:gpt-4o@{server.url}"
    (tmp_path / "p.txt").write_text("hi\n", encoding="utf-8")
    args = {
        "ice": ["ice", "run", "--target", spec, "--target-org", "OpenAI", "--mode", "plain", "--budget", "2"],
        "models": ["models", "answer", spec, "-p", "p.txt"],
        "rse": ["rse", "run", "--reference", spec, "--test", "replay:p.txt", "--dataset", "d=p.txt"],
    }[command]
    result = run_cli(*args, flag, value, "--out", "o", "-q", cwd=tmp_path)
    problem = (
        "is not an integer" if value == "lots" else "is out of range (at most 9,223,372,036,854,775,807)"
    )
    assert error_lines(result.stderr) == [f"error: {flag}: {value!r} {problem}"], result.stderr
    assert result.returncode == 2 and server.requests == 0 and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["ice", "run", "--target", "replay:x.jsonl", "--target-org", "OpenAI", "--ratio", "nan"],
        ["ice", "run", "--target", "replay:x.jsonl", "--target-org", "OpenAI", "--alpha", "inf"],
        [
            "rse",
            "run",
            "--reference",
            "replay:x.jsonl",
            "--test",
            "replay:y.jsonl",
            "--judge-temperature",
            "nan",
        ],
        ["models", "answer", "replay:x.jsonl", "-p", "x.txt", "--temperature", "-inf"],
        ["rse", "attribute", "--test", "replay:x.jsonl", "--alpha", "nan"],
        ["rse", "attribute", "--test", "replay:x.jsonl", "--alpha", "inf"],
    ],
)
def test_non_finite_flags_exit_2(tmp_path: Path, run_cli: Any, args: list[str]) -> None:
    result = run_cli(*args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert result.returncode == 2 and "not a finite number" in result.stderr
    # the usual one line naming the option, not click's usage box
    flag, value = args[-2], args[-1]
    assert result.stderr.strip().splitlines() == [f"error: {flag}: {value!r} is not a finite number"]
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "setting", ["timeout_s: .nan", "requests_per_minute: .inf", "price_per_million_input: .nan",
                "params: {temperature: .nan}", "params: {top_p: .inf}", "max_retry_after_s: .inf"],
)  # fmt: skip
def test_non_finite_config_numbers_exit_2(tmp_path: Path, run_cli: Any, setting: str) -> None:
    config = tmp_path / "m.yaml"
    config.write_text(
        f"models:\n  m:\n    spec: openai-compatible:m@http://127.0.0.1:9/v1\n    {setting}\n", "utf-8"
    )
    (tmp_path / "p.txt").write_text("hi\n", encoding="utf-8")
    result = run_cli(
        "models", "answer", "m", "-c", str(config), "-p", "p.txt", "--out", "o", "-q", cwd=tmp_path
    )
    assert_refused(result, "m.yaml:4: field 'models.m.", "finite")  # the line of the setting


# -- the terminal ----------------------------------------------------------------------------------


def test_models_check_escapes_control_characters(openai_server: Any, run_cli: Any) -> None:
    server = openai_server(reply=lambda body: "\x1b[2J[red]x[/]\x07\r\u202eok")
    result = run_cli("models", "check", f"openai-compatible:m@{server.url}", env={"COLUMNS": "300"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\r" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "\\x1b[2J" in result.stdout and "[red]x[/]" in result.stdout


def test_error_lines_escape_markup_and_control_characters(tmp_path: Path, run_cli: Any) -> None:
    odd = tmp_path / "[/]\x1b[31mred[bold].txt"
    result = run_cli("models", "answer", "replay:x.jsonl", "-p", str(odd), "--out", str(tmp_path / "o"))
    assert_refused(result, "file not found", "[/]\\x1b[31mred[bold].txt")


# -- YAML, BOM, JSON arrays ----------------------------------------------------------------------


def test_duplicate_yaml_keys_name_both_lines(tmp_path: Path, run_cli: Any) -> None:
    config = tmp_path / "m.yaml"
    config.write_text(
        "models:\n  m:\n    spec: openai-compatible:m@http://127.0.0.1:9/v1\n    timeout_s: 5\n    timeout_s: 50\n",
        encoding="utf-8",
    )
    (tmp_path / "p.txt").write_text("hi\n", encoding="utf-8")
    result = run_cli("models", "answer", "m", "-c", str(config), "-p", "p.txt", "--out", "o", cwd=tmp_path)
    assert_refused(result, "m.yaml:5: malformed YAML: duplicate key 'timeout_s' (lines 4 and 5)")
    (tmp_path / "x.jsonl").write_text('{"prompt": "hi", "response": "yo"}\n', encoding="utf-8")
    probes = tmp_path / "probes.yaml"
    probes.write_text("- question: who?\n  id: a\n  id: b\n", encoding="utf-8")
    result = run_cli(
        "ice", "run", "--target", "replay:x.jsonl", "--target-org", "OpenAI", "--probes", str(probes),
        "--out", "o2", cwd=tmp_path,
    )  # fmt: skip
    assert_refused(result, "probes.yaml:3", "duplicate key 'id' (lines 2 and 3)")


def test_a_bom_is_accepted_in_every_text_input(tmp_path: Path) -> None:
    from distillscope.ice.logs import load_log
    from distillscope.ice.probability import CALIBRATION_FORMAT, DEFAULT, load_calibration
    from distillscope.ice.probes import read_probe_file
    from distillscope.ice.templates import load_templates
    from distillscope.models.answering import read_prompt_file
    from distillscope.models.replay import ReplayIndex
    from distillscope.models.spec import ModelCatalog
    from distillscope.rse.datasets import load_dataset

    bom = "\ufeff"

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(bom + text, encoding="utf-8")
        return path

    assert read_prompt_file(write("p.jsonl", '{"prompt": "hi"}\n')) == [("line-1", "hi")]
    assert read_prompt_file(write("p.txt", "hi\n")) == [("line-1", "hi")]
    assert read_prompt_file(write("p.csv", "id,prompt\na,hi\n")) == [("a", "hi")]
    assert [p.question for p in read_probe_file(write("q.csv", "question\nwho?\n"))] == ["who?"]
    assert [p.question for p in read_probe_file(write("q.yaml", "- question: who?\n"))] == ["who?"]
    assert [t.text for t in load_templates(write("t.csv", "id,text\n1,Hi {query}\n"))] == ["Hi {query}"]
    assert [t.text for t in load_templates(write("t.json", '["Hi {query}"]'))] == ["Hi {query}"]
    rows = load_log(
        write("l.jsonl", '{"jailbreak_prompt": "{query}", "query": "who?", "response": "I am"}\n')
    )
    assert rows[0].response == "I am"
    assert len(ReplayIndex(write("r.jsonl", '{"prompt": "hi", "response": "yo"}\n'))) == 1
    catalog = ModelCatalog.load(write("c.yaml", "models:\n  m: replay:r.jsonl\n"))
    assert list(catalog.models) == ["m"]
    assert len(load_dataset("d", str(write("d.jsonl", '{"prompt": "hi"}\n'))).prompts) == 1
    assert len(load_dataset("d", str(write("d.csv", "prompt\nhi\n"))).prompts) == 1
    # a --judge-calibration file saved by Notepad was "not JSON (Unexpected UTF-8 BOM ...)"
    calibration = {
        "format": CALIBRATION_FORMAT,
        "version": 1,
        "loose": DEFAULT.loose,
        "strict": DEFAULT.strict,
    }
    assert load_calibration(write("cal.json", json.dumps(calibration))).loose == DEFAULT.loose


def test_json_array_prompt_files_are_read_as_arrays(tmp_path: Path, run_cli: Any) -> None:
    from distillscope.ice.logs import load_log
    from distillscope.models.answering import read_prompt_file
    from distillscope.models.replay import ReplayIndex

    objects = tmp_path / "p.json"
    objects.write_text(
        json.dumps([{"id": "a", "prompt": "hi"}, {"id": "b", "prompt": "yo"}], indent=2), "utf-8"
    )
    assert read_prompt_file(objects) == [("a", "hi"), ("b", "yo")]
    strings = tmp_path / "s.json"
    strings.write_text('["hi", "yo"]', encoding="utf-8")
    assert read_prompt_file(strings) == [("line-1", "hi"), ("line-2", "yo")]
    log = tmp_path / "log.json"
    log.write_text(json.dumps([{"jailbreak_prompt": "{query}", "query": "q", "response": "r"}]), "utf-8")
    assert [r.response for r in load_log(log)] == ["r"]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{"id": "a", "prompt": "hi", "response": "hello"}]), "utf-8")
    assert len(ReplayIndex(answers)) == 2  # by id and by text
    out = tmp_path / "run"
    result = run_cli("models", "answer", f"replay:{answers}", "-p", str(objects), "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "results.json").read_text("utf-8"))["n_prompts"] == 2


# -- deep nesting ----------------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("where", ["prompts", "dataset", "log", "results", "replay", "config"])
def test_deeply_nested_json_is_one_line_exit_2(tmp_path: Path, run_cli: Any, where: str) -> None:
    (tmp_path / "p.txt").write_text("hi\n", encoding="utf-8")
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_text('{"prompt": "hi", "response": "yo"}\n', encoding="utf-8")
    deep_row = '{"prompt": "hi", "x": ' + DEEP + "}\n"
    if where == "prompts":
        (tmp_path / "deep.jsonl").write_text(deep_row, encoding="utf-8")
        args = ["models", "answer", "replay:deep.jsonl", "-p", "deep.jsonl", "--out", "o"]
    elif where == "dataset":
        (tmp_path / "deep.json").write_text("[" + deep_row + "]", encoding="utf-8")
        args = ["rse", "run", "--reference", "replay:a.jsonl", "--test", "replay:b.jsonl", "--dataset", "d=deep.json", "--out", "o"]  # fmt: skip
    elif where == "log":
        (tmp_path / "deep.jsonl").write_text(deep_row, encoding="utf-8")
        args = ["ice", "rescore", "deep.jsonl", "--target-org", "OpenAI", "--out", "o"]
    elif where == "replay":
        (tmp_path / "deep.jsonl").write_text(deep_row, encoding="utf-8")
        args = ["models", "answer", "replay:deep.jsonl", "-p", "p.txt", "--out", "o"]
    elif where == "config":
        (tmp_path / "deep.yaml").write_text("models: " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="utf-8")
        args = ["models", "answer", "m", "-c", "deep.yaml", "-p", "p.txt", "--out", "o"]
    else:
        run_dir = tmp_path / "o"
        run_dir.mkdir()
        (run_dir / "results.json").write_text('{"scores": ' + DEEP + "}", encoding="utf-8")
        args = ["report", "o", "--out", "r.html"]
    result = run_cli(*args, "-q" if where != "results" else "--format=html", cwd=tmp_path)
    assert_refused(result, "nest")
    assert not (tmp_path / "o" / "results.json").exists() or where == "results"


# -- ports and headers: refused before anything is created -------------------------------------


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:99999/v1", "port out of range"),
        ("http://127.0.0.1:-1/v1", "invalid port"),
        ("http://127.0.0.1:abc/v1", "invalid port"),
        ("http://127.0.0.1:0/v1", "port 0"),
        ("http://[::1/v1", "invalid port or host"),
        ("http:///v1", "has no host"),
        ("http://127.0.0.1:8000/v1\r\nX-Evil: 1", "control characters"),
    ],
)
def test_bad_urls_exit_2_and_leave_no_ledger(tmp_path: Path, run_cli: Any, url: str, needle: str) -> None:
    (tmp_path / "p.txt").write_text("hi\n", encoding="utf-8")
    result = run_cli(
        "models", "answer", f"openai-compatible:m@{url}", "-p", "p.txt", "--out", "o", cwd=tmp_path
    )
    assert_refused(result, needle)
    assert not (tmp_path / "o" / "ledger.sqlite").exists()


@pytest.mark.parametrize(
    "headers",
    ['{X-A: "b\\r\\nX-Evil: 1"}', '{X-A: "b\\nc"}', '{X-A: "b\\u0000"}', '{"Bad Name": v}', '{"X:A": v}'],
)
def test_bad_headers_exit_2_and_leave_no_ledger(tmp_path: Path, run_cli: Any, headers: str) -> None:
    config = tmp_path / "m.yaml"
    config.write_text(
        f"models:\n  m:\n    spec: openai-compatible:m@http://127.0.0.1:9/v1\n    headers: {headers}\n",
        "utf-8",
    )
    (tmp_path / "p.txt").write_text("hi\n", encoding="utf-8")
    result = run_cli("models", "answer", "m", "-c", str(config), "-p", "p.txt", "--out", "o", cwd=tmp_path)
    assert_refused(result, "field 'models.m.headers'")
    assert not (tmp_path / "o" / "ledger.sqlite").exists()


def test_judge_max_chars_is_settable_from_the_cli(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "ds.jsonl").write_text('{"id": "p1", "prompt": "Explain tides."}\n', encoding="utf-8")
    for name, text in (("ref", "The moon pulls the sea. " * 20), ("test", "Tides follow the moon. " * 20)):
        row = {"id": "p1", "prompt": "Explain tides.", "response": text}
        (tmp_path / f"{name}.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    args = [
        "rse",
        "run",
        "--reference",
        "replay:ref.jsonl",
        "--test",
        "replay:test.jsonl",
        "--dataset",
        "d=ds.jsonl",
    ]
    result = run_cli(*args, "--judge-max-chars", "50", "--out", "o", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    judgments = (tmp_path / "o" / "judgments.jsonl").read_text("utf-8")
    assert "only the first 50 characters read" in judgments
    assert (
        json.loads((tmp_path / "o" / "results.json").read_text("utf-8"))["settings"]["judge_max_chars"] == 50
    )
    refused = run_cli(*args, "--judge-max-chars", "0", "--out", "o2", cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
