"""Property-based tests (hypothesis) of every input reader and of the spec, URL, header and config
parsers. Inputs are arbitrary bytes and plausible files broken on purpose: truncated, nested deep,
wrong types, huge fields, invalid UTF-8, BOMs, CRLF and NUL. A reader returns its records or
raises `UserError` (one line, exit 2) — never any other exception. Through the CLI a command
ends with exit 0 or 2 and a few lines, never a traceback, and never leaves a partial results file.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from distillscope.errors import UserError

KEYS = [
    "prompt", "id", "question", "response", "jailbreak_prompt", "query", "target_responses",
    "messages", "conversations", "turns", "text", "models", "probes", "templates", "data", "scores",
    "loose", "strict", "choices", "question_id", "role", "content", "spec", "url", "headers",
    "timeout_s", "params", "api_key_env", "uid", "problem", "from", "value",
]  # fmt: skip
SUFFIXES = [".jsonl", ".json", ".csv", ".tsv", ".yaml", ".txt"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["{query}", "http://127.0.0.1:9/v1", "openai-compatible:m@http://h:1/v1", "1", "true"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6),
    max_leaves=25,
)  # fmt: skip
records = st.lists(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6), max_size=5)


def _render(rows: list[dict[str, Any]], shape: str) -> str:
    if shape == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if shape == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    if shape == "yaml":
        return yaml.safe_dump(rows, allow_unicode=True)
    if shape == "models-yaml":
        return yaml.safe_dump({"models": {f"m{i}": r for i, r in enumerate(rows)}}, allow_unicode=True)
    buf = io.StringIO()
    columns = sorted({k for r in rows for k in r}) or ["prompt"]
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for r in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in r.items()})
    return buf.getvalue()


@st.composite
def file_bytes(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, or a plausible file with one or more kinds of damage."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=300))
    shape = draw(st.sampled_from(["jsonl", "json", "yaml", "csv", "models-yaml"]))
    data = _render(draw(records), shape).encode("utf-8")
    for damage in draw(st.lists(st.sampled_from(["truncate", "bom", "crlf", "nul", "bad-utf8", "deep", "huge", "dup"]), max_size=3)):  # fmt: skip
        pos = draw(st.integers(0, len(data)))
        if damage == "truncate":
            data = data[:pos]
        elif damage == "bom":
            data = b"\xef\xbb\xbf" + data
        elif damage == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif damage == "nul":
            data = data[:pos] + b"\x00" + data[pos:]
        elif damage == "bad-utf8":
            data = (
                data[:pos] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"])) + data[pos:]
            )
        elif damage == "deep":
            depth = draw(st.sampled_from([150, 5_000, 200_000]))
            data += b'\n{"prompt": "x", "id": "deep", "x": ' + b"[" * depth + b"]" * depth + b"}\n"
        elif damage == "huge":
            data += b'\n{"prompt": "' + b"x" * 300_000 + b'", "response": "y"}\n'
        elif damage == "dup":
            data += b"\nmodels:\n  a: {}\n  a: {}\n"
    return data


def _reader_cases() -> dict[str, Callable[[Path], Any]]:
    from distillscope.ice.identity import IdentityRegistry
    from distillscope.ice.logs import load_log
    from distillscope.ice.probes import read_probe_file
    from distillscope.ice.templates import load_templates
    from distillscope.models.answering import load_prompt_file, read_prompt_file
    from distillscope.models.replay import ReplayIndex
    from distillscope.models.spec import ModelCatalog
    from distillscope.records import read_records
    from distillscope.report.load import load_run
    from distillscope.rse.datasets import load_dataset

    def results(path: Path) -> Any:
        run_dir = path.parent / "run"
        run_dir.mkdir(exist_ok=True)
        (run_dir / "results.json").write_bytes(path.read_bytes())
        return load_run(run_dir)

    return {
        "records": read_records,
        "prompt file": read_prompt_file,
        "prompt file, any format": load_prompt_file,
        "probes": read_probe_file,
        "templates": load_templates,
        "log": load_log,
        "replay": ReplayIndex,
        "dataset": lambda p: load_dataset("d", str(p)),
        "config": ModelCatalog.load,
        "identities": lambda p: IdentityRegistry.builtin().extended(p),
        "results.json": results,
    }


READERS = _reader_cases()


@pytest.mark.parametrize("reader", sorted(READERS))
@FAST
@given(data=file_bytes(), suffix=st.sampled_from(SUFFIXES))
def test_readers_return_records_or_one_user_error(reader: str, data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            READERS[reader](path)
        except UserError as exc:
            message = str(exc)
            assert message and "\n" not in message
            assert any(name in message for name in (path.name, "results.json", "dataset 'd'"))


@FAST
@given(
    spec=st.text(max_size=80)
    | st.builds(lambda a, b: f"openai-compatible:{a}@{b}", st.text(max_size=10), st.text(max_size=40))
)
def test_spec_parser_returns_a_config_or_one_user_error(spec: str) -> None:  # fmt: skip
    from distillscope.models.spec import parse_inline

    try:
        config = parse_inline(spec)
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    for url in config.urls:  # whatever was accepted is a usable URL
        assert url.startswith(("http://", "https://")) and "@" not in url.split("/")[2]


SECRET = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~", min_size=8, max_size=30
)
PARAM = st.sampled_from(["key", "api_key", "api-key", "token", "sig", "signature", "access_token", "password", "secret", "KEY", "Api-Key", "Token"])  # fmt: skip


@FAST
@given(
    secret=SECRET,
    param=PARAM,
    user=st.booleans(),
    port=st.integers(-5, 70_000) | st.text(max_size=4),
    path=st.text(max_size=15),
    other=st.dictionaries(
        st.sampled_from(["api-version", "deployment", "x"]), st.text(max_size=8), max_size=2
    ),
)
def test_urls_are_refused_or_shown_without_secrets(
    secret: str, param: str, user: bool, port: Any, path: str, other: dict[str, str]
) -> None:
    from urllib.parse import quote, urlencode

    from distillscope.models.spec import parse_inline
    from distillscope.redact import redact_text, redact_url

    assume(secret not in f"{path}{port}{other}admin 127.0.0.1 http failed calling HTTP 500")
    userinfo = f"admin:{secret}@" if user else ""
    query = urlencode({**other, param: secret})
    url = f"http://{userinfo}127.0.0.1:{port}/{quote(path)}?{query}"
    assert secret not in redact_url(url)
    assert secret not in redact_text(f"failed calling {url}: HTTP 500")
    try:
        config = parse_inline(f"openai-compatible:m@{url}")
    except UserError as exc:
        assert secret not in str(exc) and "\n" not in str(exc)
        return
    assert not user
    assert secret not in json.dumps(config.public_dict())


@FAST
@given(name=st.text(max_size=20), value=st.text(max_size=40))
def test_header_checks_refuse_line_breaks_and_bad_names(name: str, value: str) -> None:
    from distillscope.models.base import ModelConfig

    try:
        config = ModelConfig(kind="openai-compatible", model="m", urls=["http://h/v1"], headers={name: value})
    except Exception as exc:  # pydantic's ValidationError
        assert type(exc).__name__ == "ValidationError"
        assert value not in str(exc) or len(value) < 4 or value in name  # the value is never echoed
        return
    assert not any(ch in value for ch in "\r\n\x00") and name
    assert "***" in json.dumps(config.public_dict()) or not any(
        w in name.lower() for w in ("key", "auth", "token", "secret")
    )


@FAST
@given(value=st.text(max_size=80))
def test_api_key_env_is_a_name_or_refused_without_echo(value: str) -> None:
    from distillscope.models.spec import ModelCatalog

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text(yaml.safe_dump({"models": {"m": {"spec": "openai-compatible:m@http://h:1/v1", "api_key_env": value}}}), "utf-8")  # fmt: skip
        try:
            ModelCatalog.load(path)
        except UserError as exc:
            assert len(value) < 6 or value not in str(exc)


# -- the CLI: exit 0 or 2, a few lines, no traceback, no partial results ---------------------------


def assert_not_complete(results: Path) -> None:
    """After exit 2: no results file, or one that says the run is not complete."""
    if results.exists():
        assert json.loads(results.read_text("utf-8"))["complete"] is False


def _cli_app() -> Any:
    from distillscope.cli import _register_optional, app

    if not any(group.name == "ice" for group in app.registered_groups):
        _register_optional()
    return app


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=file_bytes(), suffix=st.sampled_from([".jsonl", ".json", ".csv", ".txt"]), command=st.sampled_from(["answer", "rescore", "report"]))  # fmt: skip
def test_cli_on_fuzzed_files_exits_0_or_2(data: bytes, suffix: str, command: str) -> None:
    from typer.testing import CliRunner

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / f"input{suffix}"
        path.write_bytes(data)
        out = root / "out"
        replay = root / "answers.jsonl"
        replay.write_text('{"id": "line-1", "prompt": "x", "response": "I am ChatGPT."}\n', encoding="utf-8")
        if command == "answer":
            args = ["models", "answer", f"replay:{replay}", "-p", str(path), "--out", str(out), "-q"]
        elif command == "rescore":
            args = ["ice", "rescore", str(path), "--target-org", "Zhipu AI", "--out", str(out), "-q"]
        else:
            out.mkdir()
            (out / "results.json").write_bytes(data)
            args = ["report", str(out), "--format", "md", "--out", str(root / "r.md")]
        result = CliRunner().invoke(_cli_app(), args)
        assert result.exit_code in (0, 1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        if result.exit_code == 2 and command != "report":
            assert_not_complete(out / "results.json")
        if command == "answer" and result.exit_code == 0:
            assert json.loads((out / "results.json").read_text("utf-8"))["n_prompts"] >= 1


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=file_bytes())
def test_cli_subprocess_on_fuzzed_prompts(data: bytes) -> None:
    """The same through a real process (the entry point's own error boundary), a few examples."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "p.jsonl").write_bytes(data)
        (root / "a.jsonl").write_text('{"prompt": "x", "response": "y"}\n', encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "distillscope", "models", "answer", "replay:a.jsonl", "-p", "p.jsonl", "--out", "o", "-q"],
            capture_output=True, text=True, cwd=root, timeout=120,
        )  # fmt: skip
        assert proc.returncode in (0, 2), proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2
        if proc.returncode == 2:
            assert_not_complete(root / "o" / "results.json")
