"""A corpus of bad inputs. Each one: exit code 2, exactly one line on stderr naming the file, line,
field or flag at fault, never a traceback, and never a results file that looks complete.

Commands run in-process through typer's CliRunner (fast); an exception other than the CLI's own
exit is a traceback the user would have seen, and fails the case."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import distillscope.cli as cli_module
from distillscope.testing.server import OpenAIServer

cli_module._register_optional()

ANSWER = ["models", "answer", "openai-compatible:m@{url}", "--quiet", "--prompts"]
GOOD = "{d}/good.jsonl"
RSE = [
    "rse",
    "run",
    "--reference",
    "openai-compatible:ref@{url}",
    "--test",
    "openai-compatible:test@{url}",
    "--judge",
    "openai-compatible:judge@{url}",
    "--quiet",
]
ICE = [
    "ice",
    "run",
    "--target",
    "openai-compatible:m@{url}",
    "--target-org",
    "Zhipu AI",
    "--mode",
    "plain",
    "--quiet",
]


def _files(d: Path) -> None:
    """Every bad (and one good) input file the table refers to."""
    w = lambda name, text: (d / name).write_text(text, encoding="utf-8")  # noqa: E731
    w("good.jsonl", '{"id": "a", "prompt": "hello"}\n{"id": "b", "prompt": "world"}\n')
    (d / "adir.jsonl").mkdir()
    (d / "adir.txt").mkdir()
    (d / "cfgdir.yaml").mkdir()
    w("empty.jsonl", "")
    w("blank.jsonl", "\n  \n\n")
    w("empty.txt", "")
    w("spaces.txt", "   \n\t\n")
    w("bad.jsonl", '{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": \n')
    w("array.jsonl", '["not", "an", "object"]\n')
    w("noprompt.jsonl", '{"id": "a", "question": "x"}\n')
    w("numprompt.jsonl", '{"id": "a", "prompt": 42}\n')
    w("emptyprompt.jsonl", '{"id": "a", "prompt": "  "}\n')
    w("dupes.jsonl", '{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n')
    w("mt-noturns.jsonl", '{"question_id": 1, "turns": ["a", "b"]}\n{"question_id": 2, "turns": []}\n')
    w("mt-badturn.jsonl", '{"question_id": 1, "turns": ["a", "b"]}\n{"question_id": 2, "turns": ["c", 5]}\n')
    w("mt-dupes.jsonl", '{"question_id": 1, "turns": ["a", "b"]}\n{"question_id": 1, "turns": ["c", "d"]}\n')
    w("sharegpt-nohuman.json", '[{"id": "c", "conversations": [{"from": "gpt", "value": "hi"}]}]')
    w("numina-empty.jsonl", '{"id": "n1", "problem": "2+2?"}\n{"id": "n2", "problem": ""}\n')
    w("trunc.jsonl", '{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "y"}\n{"id": "c", "pro')
    (d / "latin1.jsonl").write_bytes('{"id": "a", "prompt": "caf\u00e9"}\n'.encode("latin-1"))
    (d / "latin1.txt").write_bytes("caf\u00e9 cr\u00e8me\n".encode("latin-1"))
    (d / "latin1.yaml").write_bytes("models:\n  m:\n    name: caf\u00e9\n".encode("latin-1"))
    with (d / "huge.jsonl").open("w", encoding="utf-8") as fh:  # an 8 MB line cut off mid-string
        fh.write('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "' + "y" * 8_000_000 + "\n")
    w("good.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n")
    w("badyaml.yaml", "models: [unclosed\n")
    w("list.yaml", "models:\n  - m\n  - n\n")
    w("timeout.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    timeout_s: fast\n")
    w("zerotimeout.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    timeout_s: 0\n")
    w("conc.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    concurrency: many\n")
    w("zeroconc.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    concurrency: 0\n")
    w("rpm.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    requests_per_minute: -5\n")
    w("retries.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    max_retries: -1\n")
    w("unknownfield.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    colour: blue\n")
    w("hot.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    params: {{temperature: hot}}\n")
    w("cold.yaml", "models:\n  m:\n    spec: openai-compatible:m@{url}\n    params: {{temperature: -1}}\n")
    w("number.yaml", "models:\n  m: 42\n")
    w(
        "nokey.yaml",
        "models:\n  m:\n    spec: openai-compatible:m@{url}\n    api_key_env: DS_TEST_MISSING_KEY\n",
    )
    w("replay-bad.jsonl", '{"prompt": "hello", "response": "hi"\n')
    w("replay-noresp.jsonl", '{"prompt": "hello"}\n')
    w("replay-other.jsonl", '{"prompt": "something else", "response": "hi"}\n')
    w("not-a-ledger.sqlite", "this is not a database\n" * 200)
    w("out-is-file", "x")
    w("tpl-nocol.csv", "id,template\n1,Tell me {query}\n")
    w("tpl-dupes.jsonl", '{"id": "t1", "text": "A {query}"}\n{"id": "t1", "text": "B {query}"}\n')
    w("tpl.txt", "Tell me {query}\n")
    w("probes-types.yaml", "probes:\n  - id: p1\n    question: [not, text]\n")
    w(
        "probes-dupes.yaml",
        "probes:\n  - {id: p1, question: Who are you?}\n  - {id: p1, question: Who made you?}\n",
    )
    w("probes-nocol.csv", "id,prompt\np1,Who are you?\n")
    w("ds-nocol.csv", "id,text_of_question\n1,What is 2+2?\n")
    w("ds-dupes.jsonl", '{"id": "p1", "prompt": "a"}\n{"id": "p1", "prompt": "b"}\n')
    w("ds-good.jsonl", '{"id": "p1", "prompt": "hello"}\n{"id": "p2", "prompt": "world"}\n')
    w("log-bad.jsonl", '{"jailbreak_prompt": "x", "query": "y", "response": "z"}\n{oops\n')
    w(
        "log-badlabel.jsonl",
        '{"jailbreak_prompt": "x {query}", "query": "y", "response": "z", "loose": "maybe"}\n',
    )


# (case id, argv with {d} = the corpus folder, {url} = a live test server, {out} = the run directory, words the line names)
CASES: list[tuple[str, list[str], str]] = [
    ("prompts-missing", [*ANSWER, "{d}/nope.jsonl"], "nope.jsonl: file not found"),
    ("prompts-dir-jsonl", [*ANSWER, "{d}/adir.jsonl"], "adir.jsonl: is a directory"),
    ("prompts-dir-txt", [*ANSWER, "{d}/adir.txt"], "adir.txt: is a directory"),
    ("jsonl-empty", [*ANSWER, "{d}/empty.jsonl"], "empty.jsonl: file is empty"),
    ("jsonl-blank-lines", [*ANSWER, "{d}/blank.jsonl"], "blank.jsonl: file is empty"),
    ("txt-empty", [*ANSWER, "{d}/empty.txt"], "empty.txt: no prompts"),
    ("txt-whitespace", [*ANSWER, "{d}/spaces.txt"], "spaces.txt: no prompts"),
    ("jsonl-malformed", [*ANSWER, "{d}/bad.jsonl"], "bad.jsonl:2: invalid JSON"),
    ("jsonl-array-line", [*ANSWER, "{d}/array.jsonl"], "array.jsonl:1: expected a JSON object"),
    (  # neither a 'prompt' row nor any other format rse run --dataset reads
        "jsonl-missing-field",
        [*ANSWER, "{d}/noprompt.jsonl"],
        "noprompt.jsonl:1: field 'prompt': missing, and no other prompt format",
    ),
    ("jsonl-wrong-type", [*ANSWER, "{d}/numprompt.jsonl"], "numprompt.jsonl:1: field 'prompt'"),
    ("jsonl-empty-prompt", [*ANSWER, "{d}/emptyprompt.jsonl"], "emptyprompt.jsonl:1: field 'prompt'"),
    ("jsonl-duplicate-ids", [*ANSWER, "{d}/dupes.jsonl"], "dupes.jsonl:2: field 'id': duplicate id 'a'"),
    ("mt-bench-no-turns", [*ANSWER, "{d}/mt-noturns.jsonl"], "mt-noturns.jsonl:2: field 'turns'"),
    ("mt-bench-turn-not-text", [*ANSWER, "{d}/mt-badturn.jsonl"], "mt-badturn.jsonl:2: field 'turns'"),
    ("mt-bench-duplicate-ids", [*ANSWER, "{d}/mt-dupes.jsonl"], "mt-dupes.jsonl:2: field 'id': duplicate"),
    ("sharegpt-no-human", [*ANSWER, "{d}/sharegpt-nohuman.json"], "field 'conversations': no human turn"),
    ("numina-empty-problem", [*ANSWER, "{d}/numina-empty.jsonl"], "numina-empty.jsonl:2: field 'problem'"),
    (
        "prompts-sharegpt-turns-unknown",
        [*ANSWER, GOOD, "--sharegpt-turns", "most"],
        "--sharegpt-turns must be 'first' or 'all', got 'most'",
    ),
    ("jsonl-truncated", [*ANSWER, "{d}/trunc.jsonl"], "trunc.jsonl:3: invalid JSON"),
    ("jsonl-huge-line", [*ANSWER, "{d}/huge.jsonl"], "huge.jsonl:2: invalid JSON"),
    ("jsonl-not-utf8", [*ANSWER, "{d}/latin1.jsonl"], "latin1.jsonl:1: not UTF-8"),
    ("txt-not-utf8", [*ANSWER, "{d}/latin1.txt"], "latin1.txt:1: not UTF-8"),
    (
        "config-missing",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/nocfg.yaml"],
        "nocfg.yaml: config file not found",
    ),
    (
        "config-dir",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/cfgdir.yaml"],
        "cfgdir.yaml: is a directory",
    ),
    (
        "config-malformed",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/badyaml.yaml"],
        "badyaml.yaml:2: malformed YAML",
    ),
    (
        "config-not-utf8",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/latin1.yaml"],
        "latin1.yaml:3: not UTF-8",
    ),
    (
        "config-models-list",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/list.yaml"],
        "list.yaml:1: field 'models'",
    ),
    (
        "config-model-number",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/number.yaml"],
        "number.yaml:2: field 'models.m'",
    ),
    (
        "config-wrong-type",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/timeout.yaml"],
        "timeout.yaml:4: field 'models.m.timeout_s'",
    ),
    (
        "config-zero-timeout",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/zerotimeout.yaml"],
        "field 'models.m.timeout_s'",
    ),
    (
        "config-conc-type",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/conc.yaml"],
        "field 'models.m.concurrency'",
    ),
    (
        "config-conc-zero",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/zeroconc.yaml"],
        "field 'models.m.concurrency'",
    ),
    (
        "config-negative-rate",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/rpm.yaml"],
        "field 'models.m.requests_per_minute'",
    ),
    (
        "config-negative-retries",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/retries.yaml"],
        "field 'models.m.max_retries'",
    ),
    (
        "config-unknown-field",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/unknownfield.yaml"],
        "field 'models.m.colour'",
    ),
    (
        "config-param-type",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/hot.yaml"],
        "field 'models.m.params.temperature'",
    ),
    (
        "config-param-negative",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/cold.yaml"],
        "field 'models.m.params.temperature'",
    ),
    (
        "config-name-unknown",
        ["models", "answer", "other", "--prompts", GOOD, "--config", "{d}/good.yaml"],
        "model spec 'other': not a known model name",
    ),
    ("spec-unknown-kind", ["models", "answer", "magic:thing", "--prompts", GOOD], "unknown kind 'magic'"),
    (
        "spec-no-url",
        ["models", "answer", "openai-compatible:m", "--prompts", GOOD],
        "openai-compatible:NAME@URL",
    ),
    (
        "spec-url-no-scheme",
        ["models", "answer", "openai-compatible:m@localhost:8000/v1", "--prompts", GOOD],
        "must start with http",
    ),
    ("spec-bare-name", ["models", "answer", "gpt-4o", "--prompts", GOOD], "model spec 'gpt-4o'"),
    (
        "missing-custom-key",
        ["models", "answer", "m", "--prompts", GOOD, "--config", "{d}/nokey.yaml"],
        "DS_TEST_MISSING_KEY is not set",
    ),
    (
        "missing-openai-key",
        ["models", "answer", "openai:gpt-4o", "--prompts", GOOD],
        "OPENAI_API_KEY is not set",
    ),
    (
        "wrong-port",
        ["models", "answer", "openai-compatible:m@http://127.0.0.1:9/v1", "--quiet", "--prompts", GOOD],
        "cannot reach its server",
    ),
    (
        "unknown-host",
        [
            "models",
            "answer",
            "openai-compatible:m@http://no-such-host.invalid/v1",
            "--quiet",
            "--prompts",
            GOOD,
        ],
        "no-such-host.invalid",
    ),
    (
        "wrong-path",
        ["models", "answer", "openai-compatible:m@{url}/wrong", "--quiet", "--prompts", GOOD],
        "HTTP 404",
    ),
    (
        "replay-missing-file",
        ["models", "answer", "replay:{d}/gone.jsonl", "--prompts", GOOD],
        "gone.jsonl: file not found",
    ),
    (
        "replay-malformed",
        ["models", "answer", "replay:{d}/replay-bad.jsonl", "--prompts", GOOD],
        "replay-bad.jsonl:1: invalid JSON",
    ),
    (
        "replay-no-response-field",
        ["models", "answer", "replay:{d}/replay-noresp.jsonl", "--prompts", GOOD],
        "replay-noresp.jsonl:1: field 'response'",
    ),
    (
        "replay-missing-answers",
        ["models", "answer", "replay:{d}/replay-other.jsonl", "--quiet", "--prompts", GOOD],
        "no recorded answer for id 'a'",
    ),
    (
        "out-is-file",
        [*ANSWER, GOOD, "--out", "{d}/out-is-file"],
        "out-is-file: exists and is not a directory",
    ),
    (
        "out-under-proc",
        [*ANSWER, GOOD, "--out", "/proc/ds-no-such/run"],
        "/proc/ds-no-such/run: output directory is not writable (/proc is read-only)",
    ),
    ("out-read-only", [*ANSWER, GOOD, "--out", "{ro}/run"], "run"),
    ("cache-is-dir", [*ANSWER, GOOD, "--cache", "{d}/adir.txt"], "adir.txt: is a directory"),
    (
        "cache-not-sqlite",
        [*ANSWER, GOOD, "--cache", "{d}/not-a-ledger.sqlite"],
        "not-a-ledger.sqlite: cannot open ledger",
    ),
    ("max-calls-zero", [*ANSWER, GOOD, "--max-calls", "0"], "--max-calls must be at least 1"),
    ("max-calls-negative", [*ANSWER, GOOD, "--max-calls", "-5"], "--max-calls must be at least 1, got -5"),
    (
        "max-tokens-total-zero",
        [*ANSWER, GOOD, "--max-tokens-total", "0"],
        "--max-tokens-total must be at least 1",
    ),
    ("concurrency-zero", [*ANSWER, GOOD, "--concurrency", "0"], "--concurrency must be at least 1"),
    ("concurrency-negative", [*ANSWER, GOOD, "--concurrency", "-2"], "--concurrency must be at least 1"),
    ("max-tokens-negative", [*ANSWER, GOOD, "--max-tokens", "-3"], "--max-tokens must be at least 1"),
    ("temperature-negative", [*ANSWER, GOOD, "--temperature", "-1"], "temperature"),
    (
        "ledger-not-sqlite",
        ["models", "ledger", "{d}/not-a-ledger.sqlite"],
        "not-a-ledger.sqlite: cannot open ledger",
    ),
    # ICE
    (
        "ice-unknown-org",
        ["ice", "run", "--target", "openai-compatible:m@{url}", "--quiet"],
        "cannot tell who built model 'm'",
    ),
    (
        "ice-templates-missing",
        [*ICE, "--mode", "grid", "--templates", "{d}/none.csv"],
        "none.csv: template file not found",
    ),
    (
        "ice-templates-csv-columns",
        [*ICE, "--mode", "grid", "--templates", "{d}/tpl-nocol.csv"],
        "tpl-nocol.csv:1: field 'text'",
    ),
    (
        "ice-templates-duplicate-ids",
        [*ICE, "--mode", "grid", "--templates", "{d}/tpl-dupes.jsonl"],
        "tpl-dupes.jsonl",
    ),
    (
        "ice-templates-unknown-type",
        [*ICE, "--mode", "grid", "--templates", "{d}/tpl.txt"],
        "tpl.txt: unknown template file type",
    ),
    ("ice-probes-wrong-type", [*ICE, "--probes", "{d}/probes-types.yaml"], "probes-types.yaml"),
    ("ice-probes-duplicate-ids", [*ICE, "--probes", "{d}/probes-dupes.yaml"], "probes-dupes.yaml"),
    (
        "ice-probes-csv-columns",
        [*ICE, "--probes", "{d}/probes-nocol.csv"],
        "probes-nocol.csv:1: field 'question'",
    ),
    ("ice-budget-zero", [*ICE, "--budget", "0"], "--budget"),
    # was "invalid value for 'max_tokens'", a name the user never typed
    (
        "ice-max-answer-tokens-zero",
        [*ICE, "--max-answer-tokens", "0"],
        "--max-answer-tokens must be at least 1, got 0",
    ),
    ("ice-budget-negative", [*ICE, "--budget", "-3"], "--budget"),
    ("ice-mode-unknown", [*ICE, "--mode", "sideways"], "--mode"),
    (
        "ice-unreachable",
        [
            "ice",
            "run",
            "--target",
            "openai-compatible:m@http://127.0.0.1:9/v1",
            "--target-org",
            "Zhipu AI",
            "--mode",
            "plain",
            "--quiet",
        ],
        "cannot reach its server",
    ),
    (
        "ice-rescore-missing",
        ["ice", "rescore", "{d}/nolog.jsonl", "--target-org", "Zhipu AI", "--quiet"],
        "nolog.jsonl: file not found",
    ),
    (
        "ice-rescore-malformed",
        ["ice", "rescore", "{d}/log-bad.jsonl", "--target-org", "Zhipu AI", "--quiet"],
        "log-bad.jsonl:2",
    ),
    (
        "ice-rescore-bad-label",
        [
            "ice",
            "rescore",
            "{d}/log-badlabel.jsonl",
            "--target-org",
            "Zhipu AI",
            "--judge",
            "recorded",
            "--quiet",
        ],
        "log-badlabel.jsonl:1: field 'loose'",
    ),
    # RSE
    ("rse-dataset-missing", [*RSE, "--dataset", "ds={d}/nope.jsonl"], "nope.jsonl"),
    ("rse-dataset-no-name", [*RSE, "--dataset", "{d}/ds-good.jsonl"], "--dataset"),
    ("rse-dataset-csv-columns", [*RSE, "--dataset", "ds={d}/ds-nocol.csv"], "ds-nocol.csv"),
    ("rse-dataset-duplicate-ids", [*RSE, "--dataset", "ds={d}/ds-dupes.jsonl"], "ds-dupes.jsonl"),
    ("rse-dataset-empty", [*RSE, "--dataset", "ds={d}/empty.jsonl"], "empty.jsonl"),
    ("rse-dataset-not-utf8", [*RSE, "--dataset", "ds={d}/latin1.jsonl"], "latin1.jsonl"),
    ("rse-sample-zero", [*RSE, "--dataset", "ds={d}/ds-good.jsonl", "--sample", "0"], "--sample"),
    ("rse-sample-negative", [*RSE, "--dataset", "ds={d}/ds-good.jsonl", "--sample", "-4"], "--sample"),
    (
        "rse-replay-no-answers",
        [
            "rse",
            "run",
            "--reference",
            "openai-compatible:ref@{url}",
            "--test",
            "replay:{d}/replay-other.jsonl",
            "--judge",
            "openai-compatible:judge@{url}",
            "--dataset",
            "ds={d}/ds-good.jsonl",
            "--quiet",
        ],
        "no recorded answer for 2 of the 2 selected prompts",
    ),
    (
        "rse-unreachable",
        [
            "rse",
            "run",
            "--reference",
            "openai-compatible:ref@http://127.0.0.1:9/v1",
            "--test",
            "openai-compatible:t@{url}",
            "--judge",
            "openai-compatible:judge@{url}",
            "--dataset",
            "ds={d}/ds-good.jsonl",
            "--quiet",
        ],
        "cannot reach its server",
    ),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    d = tmp_path_factory.mktemp("corpus")
    with OpenAIServer() as server:
        _files(d)
        for path in d.glob("*.yaml"):
            if path.is_file() and path.name != "latin1.yaml" and "{url}" in path.read_text(encoding="utf-8"):
                path.write_text(path.read_text(encoding="utf-8").format(url=server.url), encoding="utf-8")
        ro = d / "readonly"
        ro.mkdir()
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "ro,size=64k", f"ds-ro-{uuid.uuid4().hex[:6]}", str(ro)],
                capture_output=True,
                text=True,
            ).returncode
            == 0
        )
        yield {"d": str(d), "url": server.url, "ro": str(ro) if mounted else ""}
        if mounted:
            subprocess.run(["umount", "-l", str(ro)], check=False)


@pytest.mark.parametrize(("case", "argv", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    corpus: dict[str, str], tmp_path: Path, monkeypatch: Any, case: str, argv: list[str], needle: str
) -> None:
    if "{ro}" in " ".join(argv) and not corpus["ro"]:
        pytest.skip("cannot mount a read-only tmpfs here (needs root); chmod does not stop root")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("DS_TEST_MISSING_KEY", raising=False)
    out = tmp_path / "run"
    args = [a.format(**corpus, out=out) for a in argv]
    if "--out" not in args and args[:2] not in (["models", "ledger"], ["models", "check"]):
        args += ["--out", str(out)]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli_module.app, args)
    printed = result.stdout + result.stderr
    assert not (result.exception and not isinstance(result.exception, SystemExit)), (
        f"traceback: {result.exception!r}"
    )
    assert "Traceback" not in printed
    assert result.exit_code == 2, printed
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0], lines[0]
    for results in tmp_path.rglob("results.json"):  # never a partial results file that looks complete
        assert json.loads(results.read_text())["complete"] is False


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


def test_replay_missing_some_answers_is_an_error_unless_allowed(
    corpus: dict[str, str], tmp_path: Path
) -> None:
    """Decided: a replay file lacking *some* answers is data, not bad input. The missing prompts are
    reported by id (never as empty answers, never scored); only a file with no answer at all is exit 2."""
    replay = tmp_path / "half.jsonl"
    replay.write_text('{"id": "a", "prompt": "hello", "response": "echo: hello"}\n', encoding="utf-8")
    answer = CliRunner().invoke(
        cli_module.app,
        [
            "models",
            "answer",
            f"replay:{replay}",
            "--prompts",
            f"{corpus['d']}/good.jsonl",
            "--out",
            str(tmp_path / "answer"),
            "--quiet",
        ],
    )
    assert answer.exit_code == 0, answer.stderr
    results = json.loads((tmp_path / "answer" / "results.json").read_text())
    assert results["complete"] is False and results["n_answered"] == 1
    assert [f["id"] for f in results["failed"]] == ["b"] and "no recorded answer for id 'b'" in results[
        "failed"
    ][0]["error"]
    rows = [json.loads(x) for x in (tmp_path / "answer" / "responses.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a"]  # the missing one is not written as an empty answer

    data = tmp_path / "ds.jsonl"
    data.write_text('{"id": "a", "prompt": "hello"}\n{"id": "b", "prompt": "world"}\n', encoding="utf-8")
    rse_args = [
        "rse",
        "run",
        "--reference",
        f"openai-compatible:ref@{corpus['url']}",
        "--test",
        f"replay:{replay}",
        "--judge",
        f"openai-compatible:judge@{corpus['url']}",
        "--dataset",
        f"ds={data}",
        "--out",
        str(tmp_path / "rse"),
        "--quiet",
    ]
    refused = CliRunner().invoke(cli_module.app, rse_args)  # missing answers: an error naming them
    assert refused.exit_code == 2 and f"{replay}: no recorded answer for 1 of the 2" in refused.stderr
    assert "(first: ds/b)" in refused.stderr and not (tmp_path / "rse" / "results.json").exists()
    rse = CliRunner().invoke(cli_module.app, [*rse_args, "--allow-missing"])
    assert rse.exit_code == 0, rse.stderr
    summary = json.loads((tmp_path / "rse" / "results.json").read_text())
    assert summary["missing"]["models"]["half"]["ids"] == {"ds": ["b"]}
    cell = summary["models"]["half"]["datasets"]["ds"]
    assert cell["n"] == 1 and cell["n_missing"] == 1
