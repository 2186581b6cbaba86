"""Secrets in every channel a user can put one: URL userinfo, a key query parameter, key headers in a
config, a key given as `api_key_env`, and a server that echoes the request in its error. After
each run, every byte of every file under the test's folder and everything printed is scanned for
the canaries; and a redirect to another origin is refused without sending our headers there."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from distillscope.testing.server import FaultPlan

PASSWORD = "pw-canary-USERINFO-91b2c3"
QUERY_KEY = "qk-canary-QUERY-5d6e7f80"
SIG = "sg-canary-SIG-a1b2c3d4"
HEADER_KEY = "hk-canary-HEADER-0a1b2c3d"
XAPI_KEY = "xk-canary-XAPI-9f8e7d6c"
BEARER = "bt-canary-BEARER-11223344"
ENV_AS_KEY = "skCanaryEnvKey4e8d2a6c0f1bZZ"
ECHO_KEY = "ek-canary-ECHO-55667788"
CANARIES = (PASSWORD, QUERY_KEY, SIG, HEADER_KEY, XAPI_KEY, BEARER, ENV_AS_KEY, ECHO_KEY)


def leaks(root: Path, texts: list[str]) -> list[str]:
    """Files under `root` and printed texts holding any canary (UTF-8, UTF-16, or a fragment)."""
    needles = [c.encode(enc) for c in CANARIES for enc in ("utf-8", "utf-16-le")]
    needles += [c[-12:].encode() for c in CANARIES]
    hits = [str(p) for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]
    hits += [t[:120] for t in texts if any(c in t or c[-12:] in t for c in CANARIES)]
    return hits


def one_line(stderr: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return len(lines) == 1 and "Traceback" not in stderr


def test_canaries_in_every_channel_leave_no_trace(tmp_path: Path, openai_server: Any, run_cli: Any) -> None:
    runs = tmp_path / "runs"
    server = openai_server()
    echo = openai_server(require_key="the-right-one", echo_headers_on_error=True)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "who are you?"}\n{"id": "b", "prompt": "2+2?"}\n', "utf-8")
    query_url = f"{server.url}?api-version=2024-06-01&api_key={QUERY_KEY}&sig={SIG}"
    config = tmp_path / "models.yaml"
    config.write_text(
        "models:\n"
        "  azure:\n"
        f"    spec: openai-compatible:gpt-4o@{query_url}\n"
        f"    headers: {{api-key: {HEADER_KEY}, x-api-key: {XAPI_KEY}, Authorization: 'Bearer {BEARER}', X-Team: audit}}\n"
        "    identity: {organisation: OpenAI, family: gpt}\n"
        "  echo:\n"
        f"    spec: openai-compatible:m@{echo.url}\n"
        "    api_key_env: ECHO_KEY\n",
        encoding="utf-8",
    )
    env = {"ECHO_KEY": ECHO_KEY, "OPENAI_API_KEY": ""}
    printed: list[str] = []

    def run(*args: str) -> Any:
        result = run_cli(*args, env=env, cwd=tmp_path)
        printed.extend([result.stdout, result.stderr])
        return result

    answered = run(
        "models", "answer", "azure", "-c", str(config), "-p", str(prompts), "--out", str(runs / "a")
    )
    assert answered.returncode == 0, answered.stderr
    inline = run(
        "models", "answer", f"openai-compatible:m@{query_url}", "-p", str(prompts), "--out", str(runs / "b")
    )
    assert inline.returncode == 0, inline.stderr
    ice = run(
        "ice", "run", "--target", f"openai-compatible:m@{query_url}", "--target-org", "Zhipu AI",
        "--mode", "plain", "--budget", "6", "--out", str(runs / "ice"),
    )  # fmt: skip
    assert ice.returncode == 0, ice.stderr
    dataset = tmp_path / "ds.jsonl"
    dataset.write_text('{"id": "p1", "prompt": "Explain tides."}\n', encoding="utf-8")
    rse = run(
        "rse", "run", "--reference", "azure", "-c", str(config), "--test", f"openai-compatible:t@{query_url}",
        "--dataset", f"ds={dataset}", "--out", str(runs / "rse"),
    )  # fmt: skip
    assert rse.returncode == 0, rse.stderr
    report = run("report", str(runs / "ice"), str(runs / "rse"), "--out", str(runs / "study.html"))
    assert report.returncode == 0, report.stderr
    assert run("compare", str(runs / "ice"), str(runs / "rse")).returncode == 0
    check = run("models", "check", "azure", f"openai-compatible:m@{query_url}", "-c", str(config))
    assert check.returncode == 0, check.stdout

    # URL userinfo: refused, one line, nothing left behind
    userinfo = run(
        "models", "answer", f"openai-compatible:m@http://admin:{PASSWORD}@127.0.0.1:{server.port}/v1",
        "-p", str(prompts), "--out", str(runs / "userinfo"), "-q",
    )  # fmt: skip
    assert userinfo.returncode == 2 and one_line(userinfo.stderr), userinfo.stderr
    assert "carries credentials" in userinfo.stderr and "***@127.0.0.1" in userinfo.stderr
    assert not (runs / "userinfo" / "ledger.sqlite").exists()
    # a key given where the variable's name belongs: refused without echoing it
    bad_config = tmp_path / "misused.yaml"
    bad_config.write_text(
        f"models:\n  misused:\n    spec: openai-compatible:m@{server.url}\n    api_key_env: {ENV_AS_KEY}\n",
        encoding="utf-8",
    )
    misused = run(
        "models",
        "answer",
        "misused",
        "-c",
        str(bad_config),
        "-p",
        str(prompts),
        "--out",
        str(runs / "mis"),
        "-q",
    )
    assert misused.returncode == 2 and one_line(misused.stderr), misused.stderr
    assert "api_key_env" in misused.stderr and "looks like a key" in misused.stderr
    # a server that quotes our headers and URL in its error
    echoed = run(
        "models", "answer", "echo", "-c", str(config), "-p", str(prompts), "--out", str(runs / "echo"), "-q"
    )
    assert echoed.returncode == 2 and "HTTP 401" in echoed.stderr, echoed.stderr

    # the secrets were really sent (the scan means something) ...
    sent = [h for h in server.headers_seen if h.get("api-key") == HEADER_KEY]
    assert sent and sent[0]["x-api-key"] == XAPI_KEY and sent[0]["Authorization"] == f"Bearer {BEARER}"
    assert any(h.get("Authorization") == f"Bearer {ECHO_KEY}" for h in echo.headers_seen)
    # ... and nothing written (everything under runs/; the inputs hold them, of course) or printed
    assert leaks(runs, printed) == []
    config_json = json.loads((runs / "a" / "config.json").read_text("utf-8"))
    model = config_json["models"]["azure"]
    assert model["headers"] == {
        "api-key": "***",
        "x-api-key": "***",
        "Authorization": "***",
        "X-Team": "audit",
    }
    assert model["urls"] == [f"{server.url}?api-version=2024-06-01&api_key=***&sig=***"]


def test_redirect_to_another_origin_is_refused_naming_both(
    tmp_path: Path, openai_server: Any, run_cli: Any
) -> None:
    elsewhere = openai_server()
    redirecting = openai_server(redirect_to=elsewhere.url)
    config = tmp_path / "m.yaml"
    config.write_text(
        f"models:\n  r:\n    spec: openai-compatible:m@{redirecting.url}\n    headers: {{x-api-key: {XAPI_KEY}}}\n",
        encoding="utf-8",
    )
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    result = run_cli(
        "models", "answer", "r", "-c", str(config), "-p", str(prompts), "--out", str(tmp_path / "o"), "-q"
    )
    assert result.returncode == 2 and one_line(result.stderr), result.stderr
    assert f"127.0.0.1:{redirecting.port}" in result.stderr and f"127.0.0.1:{elsewhere.port}" in result.stderr
    assert "another origin" in result.stderr
    assert elsewhere.headers_seen == []  # our key header never reached the other origin
    assert leaks(tmp_path / "o", [result.stdout, result.stderr]) == []


def test_same_origin_redirect_is_followed(openai_server: Any) -> None:
    import asyncio

    from distillscope.models.spec import build_backend
    from distillscope.models.types import ModelRequest

    server = openai_server(redirect_to="/moved/v1")  # a relative Location on the same server
    backend = build_backend(f"openai-compatible:m@{server.url}")

    async def go() -> str:
        try:
            return (await backend.generate(backend.prepare(ModelRequest.user("hi")))).text
        finally:
            await backend.aclose()

    assert asyncio.run(go())
    assert len(server.headers_seen) == 2  # the call, then the same call at the new path


def test_retry_after_is_capped_and_announced(tmp_path: Path, openai_server: Any, run_cli: Any) -> None:
    server = openai_server(faults=FaultPlan(rate=1.0, faults=("429-retry-after",), retry_after="999999999"))
    config = tmp_path / "m.yaml"
    config.write_text(
        f"models:\n  s:\n    spec: openai-compatible:m@{server.url}\n    max_retry_after_s: 1\n    max_retries: 1\n",
        encoding="utf-8",
    )
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    started = time.monotonic()
    result = run_cli(
        "models", "answer", "s", "-c", str(config), "-p", str(prompts), "--out", str(tmp_path / "o")
    )
    assert time.monotonic() - started < 60
    assert "model 's': waiting 1 s for the server's rate limit" in result.stderr
    assert "asked for 999999999 s" in result.stderr
    assert "waiting 1 s for the server's rate limit" in (tmp_path / "o" / "run.log").read_text("utf-8")


def test_header_keys_can_come_from_the_environment(tmp_path: Path, openai_server: Any, run_cli: Any) -> None:
    """`headers: {api-key: "${AZ_KEY}"}`: the config holds the variable's name, the call its value."""
    server = openai_server()
    config = tmp_path / "m.yaml"
    config.write_text(
        f'models:\n  az:\n    spec: openai-compatible:m@{server.url}\n    headers: {{api-key: "${{AZ_KEY}}", X-Org: "org-${{AZ_ORG}}"}}\n',
        encoding="utf-8",
    )
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    out = tmp_path / "runs" / "o"
    env = {"AZ_KEY": HEADER_KEY, "AZ_ORG": "audit"}
    result = run_cli(
        "models", "answer", "az", "-c", str(config), "-p", str(prompts), "--out", str(out), env=env
    )
    assert result.returncode == 0, result.stderr
    assert server.headers_seen[0]["api-key"] == HEADER_KEY and server.headers_seen[0]["X-Org"] == "org-audit"
    assert leaks(tmp_path / "runs", [result.stdout, result.stderr]) == []
    assert (
        json.loads((out / "config.json").read_text("utf-8"))["models"]["az"]["headers"]["X-Org"]
        == "org-${AZ_ORG}"
    )
    unset = run_cli(
        "models", "answer", "az", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q",
        env={"AZ_KEY": "", "AZ_ORG": "audit"},
    )  # fmt: skip
    assert unset.returncode == 2 and one_line(unset.stderr)
    assert "environment variable AZ_KEY (used in header 'api-key') is not set" in unset.stderr
    broken = run_cli(
        "models", "answer", "az", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q",
        env={"AZ_KEY": "a\r\nX-Evil: 1", "AZ_ORG": "audit"},
    )  # fmt: skip
    assert broken.returncode == 2 and "line break" in broken.stderr and "X-Evil" not in broken.stderr


def test_a_key_variable_with_a_line_break_or_only_blanks_is_refused_before_any_call(
    tmp_path: Path, openai_server: Any, run_cli: Any
) -> None:
    """`MY_KEY=$'sk-...\\n'` (a key pasted with its newline, or a `.env` saved on Windows: `\\r`)
    made every call fail inside the HTTP client, retried 7 times with backoff and recorded as the
    server's "malformed reply", then `results.json`; a variable of only blanks counted as a key.
    Now both are exit 2, one line naming the variable (never its value), before any request."""
    server = openai_server(require_key=ECHO_KEY)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "who are you?"}\n', "utf-8")
    config = tmp_path / "models.yaml"
    config.write_text(
        f"models:\n  m: {{spec: 'openai-compatible:m@{server.url}', api_key_env: MY_KEY}}\n", "utf-8"
    )
    cases = {
        f"{ECHO_KEY}\n": "holds a line break (U+000A; its value is not shown)",
        f"{ECHO_KEY}\r": "holds a line break (U+000D; its value is not shown)",
        f"{ECHO_KEY}\x1b": "holds a control character (U+001B; its value is not shown)",
        "  \t ": "holds only blank space",
    }
    for i, (value, needle) in enumerate(cases.items()):
        out = tmp_path / f"runs{i}"
        result = run_cli(
            "models", "answer", "m", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q",
            env={"MY_KEY": value},
        )  # fmt: skip
        assert result.returncode == 2 and one_line(result.stderr), result.stderr
        assert f"environment variable MY_KEY {needle}" in result.stderr
        assert not (out / "results.json").exists()
        assert leaks(tmp_path, [result.stdout, result.stderr]) == []
    assert server.requests == 0
    ok = run_cli(
        "models", "answer", "m", "-c", str(config), "-p", str(prompts), "--out", str(tmp_path / "ok"), "-q",
        env={"MY_KEY": ECHO_KEY},
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert server.headers_seen[-1]["Authorization"] == f"Bearer {ECHO_KEY}"
    # the default variable, optional for a local server: blank is no key, not a header "Bearer   "
    plain = openai_server()
    local = run_cli(
        "models", "answer", f"openai-compatible:m@{plain.url}", "-p", str(prompts),
        "--out", str(tmp_path / "local"), "-q", env={"OPENAI_API_KEY": "   "},
    )  # fmt: skip
    assert local.returncode == 0, local.stderr
    assert plain.requests == 1 and "Authorization" not in plain.headers_seen[0]
