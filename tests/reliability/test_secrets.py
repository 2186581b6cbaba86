"""Secrets: API keys are read from the environment at call time and leave no trace anywhere.

Recognisable key values are set in OPENAI_API_KEY and in a custom variable named by a config file;
after successful runs, a run refused by the server and a run against an unreachable server, every
byte of every file written (run directories, ledgers, logs, results) and everything printed is
scanned for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

OPENAI_KEY = "sk-canary-OPENAI-7f3a9c1e5b2d"
CUSTOM_KEY = "mk-canary-CUSTOM-4e8d2a6c0f1b"


def scan(root: Path, *texts: str) -> list[str]:
    """Files under `root` (and texts) that contain either key, as raw bytes, in any of a few encodings."""
    needles = [k.encode(enc) for k in (OPENAI_KEY, CUSTOM_KEY) for enc in ("utf-8", "utf-16-le")]
    needles += [k[5:20].encode() for k in (OPENAI_KEY, CUSTOM_KEY)]  # a fragment, in case of truncation
    hits = [str(p) for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]
    hits += [t[:80] for t in texts if any(n.decode("utf-8", "ignore") in t for n in needles[::2])]
    return hits


def test_keys_leave_no_trace(tmp_path: Path, openai_server: Any, run_cli: Any) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    server_custom = openai_server(require_key=CUSTOM_KEY)
    server_openai = openai_server(require_key=OPENAI_KEY)
    config = tmp_path / "models.yaml"
    config.write_text(
        "models:\n"
        f"  custom:\n    spec: openai-compatible:custom-model@{server_custom.url}\n    api_key_env: MY_KEY\n"
        "    identity: {organisation: Zhipu AI, family: glm}\n"
        f"  wrongkey:\n    spec: openai-compatible:custom-model@{server_openai.url}\n    api_key_env: MY_KEY\n"
        "    cache_namespace: wrongkey-server\n",  # another server under the same model name
        encoding="utf-8",
    )
    prompts = tmp_path / "p.txt"
    prompts.write_text("who are you?\nwhat is 2+2?\n", encoding="utf-8")
    env = {"OPENAI_API_KEY": OPENAI_KEY, "MY_KEY": CUSTOM_KEY}
    printed: list[str] = []

    def run(*args: str) -> Any:
        result = run_cli(*args, env=env, cwd=tmp_path)
        printed.extend([result.stdout, result.stderr])
        return result

    ok_custom = run(
        "models",
        "answer",
        "custom",
        "--config",
        str(config),
        "--prompts",
        str(prompts),
        "--out",
        str(runs / "custom"),
        "--cache",
        str(runs / "shared.sqlite"),
    )
    assert ok_custom.returncode == 0, ok_custom.stderr
    ok_openai = run(
        "models",
        "answer",
        f"openai-compatible:m@{server_openai.url}",
        "--prompts",
        str(prompts),
        "--out",
        str(runs / "inline"),
    )
    assert ok_openai.returncode == 0, ok_openai.stderr
    ice = run(
        "ice",
        "run",
        "--target",
        "custom",
        "--config",
        str(config),
        "--mode",
        "plain",
        "--budget",
        "12",
        "--out",
        str(runs / "ice"),
    )
    assert ice.returncode == 0, ice.stderr
    dataset = tmp_path / "ds.jsonl"
    dataset.write_text(
        '{"id": "p1", "prompt": "Explain tides."}\n{"id": "p2", "prompt": "Explain rain."}\n',
        encoding="utf-8",
    )
    rse = run(
        "rse",
        "run",
        "--reference",
        "custom",
        "--config",
        str(config),
        "--test",
        f"openai-compatible:m@{server_openai.url}",
        "--judge",
        f"openai-compatible:judge@{server_openai.url}",
        "--dataset",
        f"ds={dataset}",
        "--out",
        str(runs / "rse"),
    )
    assert rse.returncode == 0, rse.stderr
    # refused: the server wants the other key (HTTP 401 echoes nothing of ours), and unreachable
    refused = run(
        "models",
        "answer",
        "wrongkey",
        "--config",
        str(config),
        "--prompts",
        str(prompts),
        "--out",
        str(runs / "refused"),
    )
    assert refused.returncode == 2 and "HTTP 401" in refused.stderr
    unreachable = run(
        "models",
        "answer",
        "openai-compatible:m@http://127.0.0.1:9/v1",
        "--prompts",
        str(prompts),
        "--out",
        str(runs / "unreachable"),
    )
    assert unreachable.returncode == 2
    check = run("models", "check", "custom", "wrongkey", "--config", str(config))
    assert check.returncode == 1

    # the keys were really used (so the scan is meaningful) ...
    assert {h.get("Authorization") for h in server_custom.headers_seen} == {f"Bearer {CUSTOM_KEY}"}
    assert f"Bearer {OPENAI_KEY}" in {h.get("Authorization") for h in server_openai.headers_seen}
    # ... and nothing we wrote or printed holds them; the config records only the variable's name
    assert scan(tmp_path, *printed) == []
    assert '"api_key_env": "MY_KEY"' in (runs / "custom" / "config.json").read_text()
    assert {p.name for p in (runs / "custom").iterdir()} >= {
        "config.json",
        "run.log",
        "results.json",
        "responses.jsonl",
    }


def test_key_never_in_exception_messages(tmp_path: Path, monkeypatch: Any) -> None:
    """Errors raised while calling carry the URL and status, never the headers that were sent."""
    import asyncio

    from distillscope.errors import BackendError
    from distillscope.models.spec import build_backend
    from distillscope.models.types import ModelRequest

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    backend = build_backend("openai-compatible:m@http://127.0.0.1:9/v1")

    async def go() -> str:
        try:
            await backend.generate(backend.prepare(ModelRequest.user("x")))
        except BackendError as exc:
            return f"{exc!s} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
        finally:
            await backend.aclose()
        raise AssertionError("expected a connection error")

    message = asyncio.run(go())
    assert "connection error" in message and OPENAI_KEY not in message and "Bearer" not in message
    assert OPENAI_KEY not in repr(backend.config) and OPENAI_KEY not in backend.config.model_dump_json()


def test_a_server_echoing_the_key_in_an_error_does_not_leak_it(monkeypatch: Any) -> None:
    from distillscope.errors import BackendError
    from distillscope.models.openai_compat import OpenAICompatibleBackend
    from distillscope.models.spec import build_backend

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    backend = build_backend("openai-compatible:m@http://127.0.0.1:1/v1")
    assert isinstance(backend, OpenAICompatibleBackend)
    body = f'{{"error": "bad credentials: Authorization: Bearer {OPENAI_KEY}"}}'.encode()
    try:
        backend._parse("u", 401, "application/json", None, body)
    except BackendError as exc:
        assert OPENAI_KEY not in str(exc) and "***" in str(exc)
    else:
        raise AssertionError("a 401 must raise")
