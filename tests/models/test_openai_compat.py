import asyncio
import os
from typing import Any

import pytest

from distillscope.errors import BackendError, UserError
from distillscope.models.spec import build_backend
from distillscope.models.types import GenerateParams, Message, ModelRequest


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_chat_call_sends_messages_and_params(openai_server: Any) -> None:
    server = openai_server()
    backend = build_backend(f"openai-compatible:test-model@{server.url}")
    request = backend.prepare(
        ModelRequest.user("hello", params=GenerateParams(temperature=0.3, max_tokens=7, seed=1, stop=("x",)))
    )

    async def go() -> Any:
        try:
            return await backend.generate(request)
        finally:
            await backend.aclose()

    response = run(go())
    assert response.text == "echo: hello"
    assert response.finish_reason == "stop"
    body = server.bodies[0]
    assert body["model"] == "test-model"
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert (
        body["temperature"] == 0.3 and body["max_tokens"] == 7 and body["seed"] == 1 and body["stop"] == ["x"]
    )
    assert "top_p" not in body  # unset parameters are left to the server


def test_no_system_prompt_by_default_and_configurable(openai_server: Any) -> None:
    server = openai_server()
    plain = build_backend(f"openai-compatible:m@{server.url}")
    assert all(m.role != "system" for m in plain.prepare(ModelRequest.user("q")).messages)
    with_system = build_backend(
        f"openai-compatible:m@{server.url}", system_prompt="You are a helpful assistant."
    )
    prepared = with_system.prepare(ModelRequest.user("q"))
    assert prepared.messages[0] == Message(role="system", content="You are a helpful assistant.")


def test_completions_endpoint_for_base_models(openai_server: Any) -> None:
    server = openai_server()
    backend = build_backend(f"openai-completions:base@{server.url}")
    response = run(backend.generate(backend.prepare(ModelRequest.user("Once upon a time"))))
    assert response.text == "echo: Once upon a time"
    assert server.bodies[0]["prompt"] == "Once upon a time"


def test_api_key_from_environment_and_extra_headers(
    openai_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = openai_server(require_key="sk-abc")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    backend = build_backend(f"openai-compatible:m@{server.url}", headers={"X-Team": "audit"})
    run(backend.generate(backend.prepare(ModelRequest.user("hi"))))
    assert server.headers_seen[0]["Authorization"] == "Bearer sk-abc"
    assert server.headers_seen[0]["X-Team"] == "audit"
    assert "sk-abc" not in backend.config.model_dump_json()


def test_http_errors_are_classified(openai_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = openai_server(require_key="needed")
    backend = build_backend(f"openai-compatible:m@{server.url}")
    with pytest.raises(BackendError) as info:
        run(backend.generate(backend.prepare(ModelRequest.user("hi"))))
    assert info.value.status == 401 and not info.value.retryable


def test_connection_refused_is_retryable() -> None:
    backend = build_backend("openai-compatible:m@http://127.0.0.1:9/v1")
    with pytest.raises(BackendError) as info:
        run(backend.generate(backend.prepare(ModelRequest.user("hi"))))
    assert info.value.retryable
    assert "connection error" in str(info.value)


def test_replicas_share_load_least_busy_first(openai_server: Any) -> None:
    a = openai_server(latency_ms=30)
    b = openai_server(latency_ms=30)
    backend = build_backend(f"openai-compatible:m@{a.url},{b.url}")

    async def go() -> None:
        requests = [backend.prepare(ModelRequest.user(f"q{i}")) for i in range(40)]
        await asyncio.gather(*(backend.generate(r) for r in requests))
        await backend.aclose()

    run(go())
    assert a.stats()["requests"] == 20 and b.stats()["requests"] == 20


def test_key_env_name_is_recorded_not_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    backend = build_backend("openai:gpt-4o-mini")
    public = str(backend.config.public_dict())
    assert "OPENAI_API_KEY" in public and os.environ["OPENAI_API_KEY"] not in public


def test_malformed_http_metadata_is_never_a_traceback() -> None:
    from distillscope.models.openai_compat import parse_retry_after, redirect_target

    assert parse_retry_after("Mon, 01 Jan 99999999999 00:00:00 GMT") is None
    assert parse_retry_after("1e999") is None and parse_retry_after("nonsense") is None
    assert parse_retry_after("2") == 2.0
    for location in ("http://127.0.0.1\\@evil.test/v1", "http://127.0.0.1:1:2/v1", "http://h:99999/v1"):
        with pytest.raises(ValueError):
            redirect_target("http://127.0.0.1:8000/v1/chat/completions", location)
    assert redirect_target("http://127.0.0.1:8000/v1/chat/completions", "/moved/v1/chat/completions") == (
        "http://127.0.0.1:8000/moved/v1/chat/completions"
    )


def test_a_reply_with_out_of_range_numbers_is_malformed(monkeypatch: Any) -> None:
    backend = build_backend("openai-compatible:m@http://127.0.0.1:1/v1")
    body = b'{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 1e999}}'
    with pytest.raises(BackendError, match="number out of range") as caught:
        backend._parse("u", 200, "application/json", None, body)  # type: ignore[attr-defined]
    assert caught.value.retryable


def test_the_unpacker_never_produces_more_than_asked() -> None:
    import gzip
    import zlib

    from distillscope.models.openai_compat import BodyTooLarge, _Unpacker

    members = gzip.compress(b"first ") + gzip.compress(b"second")  # two gzip members, one body
    unpacker = _Unpacker("gzip")
    assert unpacker.feed(members, 100) == b"first second" and unpacker.complete
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)  # "deflate" sent without its zlib header
    body = raw.compress(b"raw deflate") + raw.flush()
    assert _Unpacker("deflate").feed(body, 100) == b"raw deflate"
    bomb = gzip.compress(b"\0" * 5_000_000)
    with pytest.raises(BodyTooLarge):
        _Unpacker("gzip").feed(bomb, 1_000_000)


@pytest.mark.parametrize(
    ("variable", "value", "url"),
    [
        ("HTTP_PROXY", "http://user:proxy-pass-1234@[bad", "http://example.invalid:8000/v1"),
        ("HTTPS_PROXY", "http://user:proxy-pass-1234@proxy:99999", "https://example.invalid/v1"),
    ],
)
def test_a_proxy_variable_that_is_no_url_is_a_user_error_that_hides_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, url: str
) -> None:
    """A typo in HTTPS_PROXY (a port out of range, a stray '[') was a ValueError traceback from yarl
    when the backend was built, exit 1, and the run directory was left behind."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError) as info:
        build_backend(f"openai-compatible:m@{url}")
    message = str(info.value)
    assert variable in message and "not a usable URL" in message
    assert "proxy-pass" not in message and "\n" not in message
