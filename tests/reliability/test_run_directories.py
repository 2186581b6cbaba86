"""Run directories you can trust: one command and one set of settings per `--out`, a lock against
concurrent runs, results that always match config.json, reports that never write into their inputs,
and `report`/`compare` that skip what they cannot chart.

Through the CLI, against the real local test server: in-process (typer's CliRunner) where one
command at a time is enough, as processes where two must run at once or one must be killed."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import distillscope.cli as cli_module
from distillscope.testing.server import OpenAIServer

from ..rse.conftest import judge_reply as rse_judge_reply

cli_module._register_optional()

Server = Callable[..., OpenAIServer]


def cli(*args: object) -> Result:
    return CliRunner().invoke(cli_module.app, [str(a) for a in args])


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def config_fingerprint(out: Path) -> str | None:
    """The settings fingerprint in out/config.json, or None while there is none: a forced rerun removes the
    last run's config.json before it writes its own, so a poll can find it gone between two looks."""
    try:
        value = read(out / "config.json").get("settings_fingerprint")
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return str(value) if value is not None else None


def probes(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "probes.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"p{i}", "question": f"Who made you, {i}?", "language": "en"}) + "\n"
            for i in range(n)
        ),
        encoding="utf-8",
    )
    return path


def ice_args(server: OpenAIServer, out: Path, probe_file: Path, *extra: object) -> list[object]:
    return [
        "ice", "run", "--target", f"openai-compatible:glm-4-plus@{server.url}", "--target-org", "Zhipu AI",
        "--mode", "plain", "--probes", probe_file, "--out", out, "--quiet", *extra,
    ]  # fmt: skip


def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("hello\nworld\n", encoding="utf-8")
    return path


def test_another_commands_directory_is_refused_unless_force(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server()
    out = tmp_path / "run"
    answered = cli("models", "answer", f"openai-compatible:m@{server.url}", "-p", prompts(tmp_path), "--out", out, "--quiet")  # fmt: skip
    assert answered.exit_code == 0, answered.output
    before = (out / "results.json").read_bytes()
    line = one_error_line(cli(*ice_args(server, out, probes(tmp_path))))
    assert f"{out}: is the run directory of 'answer', not 'ice-run'" in line and "--force" in line
    assert (out / "results.json").read_bytes() == before  # nothing of the answer run was touched

    forced = cli(*ice_args(server, out, probes(tmp_path), "--force"))
    assert forced.exit_code == 0, forced.output
    config, results = read(out / "config.json"), read(out / "results.json")
    assert config["command"] == "ice-run" and results["run"]["command"] == "ice-run"
    assert results["run"]["settings_fingerprint"] == config["settings_fingerprint"]
    assert "n_answered" not in results
    # started afresh, the ledger kept as a cache: the answer run's two calls are still in it
    rows = [r for r in cli("models", "ledger", out).stdout.splitlines() if r.startswith("ok:")]
    assert rows == ["ok: 6"]


def test_other_settings_are_refused_same_settings_resume(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server()
    out = tmp_path / "run"
    probe_file = probes(tmp_path)
    first = cli(*ice_args(server, out, probe_file))
    assert first.exit_code == 0, first.output
    fingerprint = read(out / "config.json")["settings_fingerprint"]

    line = one_error_line(cli(*ice_args(server, out, probe_file, "--vendor-words", "openai")))
    assert f"{out}: the 'ice-run' run there has other settings (fingerprint {fingerprint}, now " in line
    assert read(out / "config.json")["settings_fingerprint"] == fingerprint  # the refused run wrote nothing

    # the same settings resume, whatever the budget or concurrency: nothing is sent again
    sent = server.requests
    again = cli(*ice_args(server, out, probe_file, "--max-calls", "100", "--concurrency", "2"))
    assert again.exit_code == 0, again.output
    assert (
        server.requests == sent and read(out / "results.json")["run"]["settings_fingerprint"] == fingerprint
    )

    forced = cli(*ice_args(server, out, probe_file, "--vendor-words", "openai", "--force"))
    assert forced.exit_code == 0, forced.output
    config, results = read(out / "config.json"), read(out / "results.json")
    assert config["settings_fingerprint"] != fingerprint
    assert results["run"]["settings_fingerprint"] == config["settings_fingerprint"]
    assert results["settings"]["vendor_words"] == ["openai"] == config["ice"]["vendor_words"]
    assert server.requests == sent  # --force kept the ledger: the same target calls were not paid again


def _set(key: str, value: object) -> Callable[[str], str]:
    return lambda text: json.dumps({**json.loads(text), key: value})


def _set_model_field(field: str, value: object) -> Callable[[str], str]:
    def edit(text: str) -> str:
        data = json.loads(text)
        data["models"][next(iter(data["models"]))][field] = value
        return json.dumps(data, indent=2)

    return edit


@pytest.mark.parametrize("command", ["ice", "rse"])
def test_a_config_json_edited_between_runs_is_refused_naming_the_file_and_field(
    tmp_path: Path, openai_server: Server, command: str
) -> None:
    """A resume over a config.json edited by hand: not JSON, not an object, a read key of the wrong
    type, or a setting changed while its settings fingerprint still matches this run. Each is exit 2
    and one line naming the file and its line or field, and nothing in the directory is touched;
    the unedited directory resumes, and --force starts an edited one afresh (the ledger kept). --force
    meets a config.json that cannot be read or one that is read and set aside: the first edit and the
    last stand for the two."""
    servers = [openai_server(), openai_server(lambda body: "Other: " + body["messages"][-1]["content"])]
    if command == "ice":
        probe_file = probes(tmp_path)

        def args(out: Path, *extra: object) -> list[object]:
            return ice_args(servers[0], out, probe_file, *extra)
    else:
        servers.append(openai_server(rse_judge_reply))

        def args(out: Path, *extra: object) -> list[object]:
            return [
                "rse", "run", "--reference", f"openai-compatible:ref@{servers[0].url}",
                "--test", f"openai-compatible:other@{servers[1].url}", "--dataset", "ex=builtin", "--sample", "2",
                "--judge", f"openai-compatible:judge@{servers[2].url}", "--out", out, "--quiet", *extra,
            ]  # fmt: skip

    def sent() -> int:
        return sum(s.requests for s in servers)

    out = tmp_path / "run"
    first = cli(*args(out))
    assert first.exit_code == 0, first.output
    calls, model = sent(), next(iter(read(out / "config.json")["models"]))
    cases: list[tuple[Callable[[str], str], str]] = [
        (lambda text: text[: len(text) // 2], r"config\.json:\d+: invalid JSON \("),
        (lambda text: "[]", r"config\.json: expected a JSON object of settings, got a list"),
        (_set("command", 5), r"config\.json: field 'command': expected text, got a number"),
        (
            _set("settings_fingerprint", None),
            r"config\.json: field 'settings_fingerprint': expected text, got null",
        ),
        (_set("models", "none"), r"config\.json: field 'models': expected an object, got text"),
        (
            _set_model_field("system_prompt", "You are someone else."),
            rf"config\.json: field 'models\.{re.escape(model)}\.system_prompt': edited after its run wrote it: "
            r'it says "You are someone else\.", but the run there was made with null',
        ),
    ]
    for number, (edit, pattern) in enumerate(cases):
        copy = tmp_path / f"edited-{number}"
        shutil.copytree(out, copy)
        config = copy / "config.json"
        config.write_text(edit(config.read_text(encoding="utf-8")), encoding="utf-8")
        before = {name: (copy / name).read_bytes() for name in ("config.json", "results.json")}
        line = one_error_line(cli(*args(copy)))
        assert re.search(pattern, line) and line.startswith(f"error: {config}"), line
        assert "--force" in line
        assert {name: (copy / name).read_bytes() for name in before} == before  # nothing touched
        if number in (0, len(cases) - 1):
            forced = cli(*args(copy, "--force"))
            assert forced.exit_code == 0, forced.output
            assert read(config)["settings_fingerprint"] == read(out / "config.json")["settings_fingerprint"]
    assert sent() == calls  # every refusal sent nothing, and --force kept the ledger
    again = cli(*args(out))  # the unedited directory: a resume, not a refusal
    assert again.exit_code == 0, again.output
    assert sent() == calls


def test_a_folder_with_results_but_no_config_is_not_taken_over(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server()
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.json").write_text('{"my": "own results"}\n', encoding="utf-8")
    line = one_error_line(cli(*ice_args(server, out, probes(tmp_path))))
    assert "holds results.json but no config.json" in line
    assert read(out / "results.json") == {"my": "own results"} and server.requests == 0


def _replay_files(folder: Path, prompts: Path, names: tuple[str, ...]) -> Path:
    """`folder` holding a recorded answer file per name for three prompts, written to `prompts`."""
    folder.mkdir()
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"Topic {i}"}) + "\n" for i in range(3)))
    for name in names:
        (folder / f"{name}.jsonl").write_text(
            "".join(json.dumps({"id": f"q{i}", "response": f"{name} says {i}"}) + "\n" for i in range(3))
        )
    return prompts


def test_a_folder_holding_a_file_a_run_writes_is_not_taken_over(tmp_path: Path) -> None:
    """A folder (no config.json) holding a `responses.jsonl` of the user's, here the very replay file
    the run reads: `rse run --test replay:data/responses.jsonl --out data` wrote its own answers over
    it, and the recorded answers were gone. Every file name a run writes is checked, not only
    results.json; nothing in the folder changes, and no model is asked."""
    data = tmp_path / "data"
    prompts = _replay_files(data, tmp_path / "q.jsonl", ("ref", "responses"))
    mine = (data / "responses.jsonl").read_bytes()
    args = (
        "rse", "run", "--reference", f"replay:{data / 'ref.jsonl'}", "--test",
        f"replay:{data / 'responses.jsonl'}", "--dataset", f"d={prompts}", "--judge", "offline", "--quiet",
    )  # fmt: skip
    line = one_error_line(cli(*args, "--out", data))
    assert line == (
        f"error: {data}: holds responses.jsonl but no config.json (not a distillscope run directory), "
        "and a run there would write over it: choose another --out, or move the file away"
    )
    assert (data / "responses.jsonl").read_bytes() == mine
    assert sorted(p.name for p in data.iterdir()) == ["ref.jsonl", "responses.jsonl"]  # no .lock left
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "report.md").write_text("my notes\n", encoding="utf-8")
    assert "holds report.md but no config.json" in one_error_line(cli(*args, "--out", notes))
    assert (notes / "report.md").read_text(encoding="utf-8") == "my notes\n"
    assert cli(*args, "--out", tmp_path / "run").exit_code == 0  # elsewhere it runs


def test_a_folder_marked_read_only_is_never_written_into_even_by_root(tmp_path: Path) -> None:
    """`--out ../shared` (a data folder `r-xr-xr-x`), or a new folder inside it: root, a container's
    usual user, may write anywhere (`os.access` says yes), and the run wrote its ledger, results and
    reports among the data. A folder whose permissions grant no one write access is refused, before
    anything is created in it, whoever runs the command."""
    data = tmp_path / "shared"
    prompts = _replay_files(data, data / "q.jsonl", ("ref", "test"))
    args = (
        "rse", "run", "--reference", f"replay:{data / 'ref.jsonl'}", "--test", f"replay:{data / 'test.jsonl'}",
        "--dataset", f"d={prompts}", "--judge", "offline", "--quiet",
    )  # fmt: skip
    data.chmod(0o555)
    try:
        line = one_error_line(cli(*args, "--out", data))
        assert line == (
            f"error: {data}: output directory is not writable: its permissions grant no one write access; "
            "choose another --out"
        )
        line = one_error_line(cli(*args, "--out", data / "run" / "deeper"))
        assert line.startswith(
            f"error: {data / 'run' / 'deeper'}: output directory is not writable ({data} is"
        )
        assert sorted(p.name for p in data.iterdir()) == ["q.jsonl", "ref.jsonl", "test.jsonl"]
    finally:
        data.chmod(0o755)
    assert cli(*args, "--out", tmp_path / "run").exit_code == 0  # a writable folder runs


def test_report_never_writes_inside_an_input_run(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server()
    out = tmp_path / "run"
    assert cli(*ice_args(server, out, probes(tmp_path))).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for target in (out / "results.json", out / "config.json", out / "study.html"):
        line = one_error_line(cli("report", out, "--out", target))
        assert f"{target}: is inside the input run {out}" in line
    line = one_error_line(cli("report", tmp_path, "--out", out / "results.json"))  # a folder of runs too
    assert "is inside the input run" in line
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    elsewhere = cli("report", out, "--out", tmp_path / "study.md")
    assert elsewhere.exit_code == 0, elsewhere.output


def test_report_and_compare_skip_answer_runs_with_a_note(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server()
    runs = tmp_path / "runs"
    assert cli(*ice_args(server, runs / "ice", probes(tmp_path))).exit_code == 0
    answered = cli("models", "answer", f"openai-compatible:m@{server.url}", "-p", prompts(tmp_path), "--out", runs / "answers", "--quiet")  # fmt: skip
    assert answered.exit_code == 0, answered.output
    report = cli("report", runs, "--out", tmp_path / "r.json")
    assert report.exit_code == 0, report.output
    assert f"note: {runs / 'answers'}: skipped, a 'models answer' run" in report.stderr
    data = read(tmp_path / "r.json")
    assert [r["kind"] for r in data["runs"]] == ["ice"] and len(data["skipped"]) == 1
    for fmt in ("md", "html"):
        assert cli("report", runs, "--out", tmp_path / f"r.{fmt}").exit_code == 0
        assert "Not charted:" in (tmp_path / f"r.{fmt}").read_text(encoding="utf-8")
    compare = cli("compare", runs)
    assert compare.exit_code == 0 and "skipped, a 'models answer' run" in compare.stderr
    assert "glm-4-plus" in compare.stdout
    line = one_error_line(cli("report", runs / "answers", "--out", tmp_path / "a.html"))
    assert line.startswith("error: nothing to chart:")


# ------------------------------------------------------------------ processes: lock and kill


def start_run(out: Path, url: str, probe_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distillscope",
            "ice",
            "run",
            "--target",
            f"openai-compatible:glm-4-plus@{url}",
            "--target-org",
            "Zhipu AI",
            "--mode",
            "plain",
            "--probes",
            str(probe_file),
            "--concurrency",
            "1",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_concurrent_runs_are_refused_and_a_killed_run_leaves_no_lock(
    tmp_path: Path, openai_server: Server
) -> None:
    server = openai_server(latency_ms=150)
    out = tmp_path / "run"
    probe_file = probes(tmp_path, n=40)
    first = start_run(out, server.url, probe_file)
    try:
        wait_for(lambda: server.requests >= 2)
        second = start_run(out, server.url, probe_file)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2, err
        assert f"{out}: another distillscope command is running in this directory" in err
        assert len(err.strip().splitlines()) == 1
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)
    assert not (out / "results.json").exists()
    third = start_run(out, server.url, probe_file)  # the lock died with the killed process
    _, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert read(out / "results.json")["n_responses"] == 40


def test_an_interrupted_forced_rerun_leaves_no_stale_results(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server(latency_ms=150)
    out = tmp_path / "run"
    done = cli(*ice_args(server, out, probes(tmp_path, n=2)))
    assert done.exit_code == 0, done.output
    old = read(out / "config.json")["settings_fingerprint"]
    (tmp_path / "more").mkdir()
    probe_file = probes(tmp_path / "more", n=40)
    rerun = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distillscope",
            "ice",
            "run",
            "--target",
            f"openai-compatible:glm-4-plus@{server.url}",
            "--target-org",
            "Zhipu AI",
            "--mode",
            "plain",
            "--probes",
            str(probe_file),
            "--concurrency",
            "1",
            "--out",
            str(out),
            "--quiet",
            "--force",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: config_fingerprint(out) not in (None, old))
        wait_for(lambda: server.requests >= 4)
        rerun.send_signal(signal.SIGKILL)
        rerun.wait(30)
    finally:
        if rerun.poll() is None:
            rerun.kill()
            rerun.wait(30)
    # the old complete results and reports are gone: nothing claims to be a result of the new config
    assert not any((out / name).exists() for name in ("results.json", "report.html", "report.md"))
    line = one_error_line(cli("compare", out))
    assert "no results.json" in line


def _small_log(tmp_path: Path) -> Path:
    log = tmp_path / "log.jsonl"
    row = {"model": "glm-4-plus", "target_org": "Zhipu AI", "jailbreak_prompt": "Hi {query}", "query": "Who?"}
    log.write_text(
        "".join(
            json.dumps({**row, "response": f"I am GLM ({i}).", "loose": False, "strict": False}) + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    return log


@pytest.mark.parametrize("config", [None, '{"my": "settings"}\n'])
def test_force_never_deletes_a_results_json_that_is_not_a_runs(tmp_path: Path, config: str | None) -> None:
    """`--out .` over a user's own results.json was refused, but `--force` (and `force=True`) wrote
    over it: --force starts a run directory afresh, and a folder with no config.json, or whose
    results.json is no distillscope results file, is none. Exit 2 naming the file; nothing changes."""
    log = _small_log(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.json").write_text('{"my": "own results"}\n', encoding="utf-8")
    if config is not None:
        (out / "config.json").write_text(config, encoding="utf-8")
    line = one_error_line(cli("ice", "rescore", log, "--judge", "rules", "--out", out, "--force", "-q"))
    assert "results.json" in line and "--force" in line
    assert read(out / "results.json") == {"my": "own results"}
    if config is not None:
        assert (out / "config.json").read_text(encoding="utf-8") == config
    import distillscope as ds
    from distillscope.errors import UserError

    with pytest.raises(UserError, match=r"results\.json"):
        ds.ice.rescore(log, judge="rules", out=out, force=True)
    assert read(out / "results.json") == {"my": "own results"}


def test_force_still_starts_a_run_directory_afresh(tmp_path: Path) -> None:
    log = _small_log(tmp_path)
    out = tmp_path / "run"
    assert cli("ice", "rescore", log, "--judge", "rules", "--out", out, "-q").exit_code == 0
    (out / "config.json").write_text('{"not": "readable as a run"}\n', encoding="utf-8")  # hand-edited
    forced = cli("ice", "rescore", log, "--judge", "recorded", "--out", out, "--force", "-q")
    assert forced.exit_code == 0, forced.output
    assert (
        read(out / "config.json")["command"] == "ice-rescore"
        and read(out / "results.json")["judge"] == "recorded"
    )


def test_a_one_byte_file_as_cache_is_refused_untouched(tmp_path: Path) -> None:
    """A one-byte file given as `--cache` became a ledger (SQLite took it for a new database) where a
    longer one was refused: exit 2 naming it, the file as it was."""
    mine = tmp_path / "notes.txt"
    mine.write_bytes(b"x")
    line = one_error_line(
        cli(
            "ice",
            "rescore",
            _small_log(tmp_path),
            "--judge",
            "rules",
            "--out",
            tmp_path / "run",
            "--cache",
            mine,
        )
    )
    assert f"{mine}: cannot open ledger: not a SQLite database" in line
    assert mine.read_bytes() == b"x"
