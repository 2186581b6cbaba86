"""The redaction rules: what of a URL, header, text or settings structure may be shown."""

from __future__ import annotations

import logging
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distillscope import redact
from distillscope.redact import (
    RedactingFilter,
    looks_like_secret,
    redact_data,
    redact_headers,
    redact_text,
    redact_url,
    remember_secret_env,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@host:8000/v1", "http://***@host:8000/v1"),
        ("https://h/v1?api-version=2024-06-01&api-key=S1&sig=S2", "https://h/v1?api-version=2024-06-01&api-key=***&sig=***"),
        ("https://h/v1?KEY=a&Token=b&access_token=c&password=d&secret=e&signature=f&api_key=g",
         "https://h/v1?KEY=***&Token=***&access_token=***&password=***&secret=***&signature=***&api_key=***"),
        ("https://h/v1#access_token=abc", "https://h/v1#access_token=***"),
        ("http://h:1/v1", "http://h:1/v1"),
        ("http://[::1/v1?key=zz", "http://[::1/v1?key=***"),
    ],
)  # fmt: skip
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_headers_of_auth_like_names_are_masked() -> None:
    headers = {"Authorization": "Bearer x", "api-key": "k", "X-API-Key": "k", "X-Auth-Token": "t",
               "Cookie": "c", "X-Team": "audit", "OpenAI-Organization": "org"}  # fmt: skip
    assert redact_headers(headers) == {
        "Authorization": "***", "api-key": "***", "X-API-Key": "***", "X-Auth-Token": "***",
        "Cookie": "***", "X-Team": "audit", "OpenAI-Organization": "org",
    }  # fmt: skip


def test_text_data_and_log_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TEST_KEY_VAR", "value-of-the-key-123")
    remember_secret_env("MY_TEST_KEY_VAR")
    text = "call to https://h/v1?token=abc failed: echoed value-of-the-key-123, Bearer sk-abcdefghijk"
    assert redact_text(text) == "call to https://h/v1?token=*** failed: echoed ***, Bearer ***"
    data = {
        "target": "openai-compatible:m@http://u:p@h/v1",
        "models": {"m": {"headers": {"api-key": "x", "X-Team": "t"}, "api_key_env": "MY_TEST_KEY_VAR"}},
        "list": ["https://h/?sig=1", 3, None],
    }
    assert redact_data(data) == {
        "target": "openai-compatible:m@http://***@h/v1",
        "models": {"m": {"headers": {"api-key": "***", "X-Team": "t"}, "api_key_env": "MY_TEST_KEY_VAR"}},
        "list": ["https://h/?sig=***", 3, None],
    }
    record = logging.LogRecord(
        "distillscope", logging.INFO, __file__, 1, "GET %s", ("https://h/?key=zz",), None
    )
    assert RedactingFilter().filter(record) and record.getMessage() == "GET https://h/?key=***"


@pytest.mark.parametrize(
    ("value", "secret"),
    [("OPENAI_API_KEY", False), ("AZURE_OPENAI_API_KEY", False), ("MY_KEY", False), ("VLLM_API_KEY", False),
     ("A_VERY_LONG_DEPLOYMENT_SPECIFIC_API_KEY_NAME", False), ("sk-proj-abc", True), ("AKIAIOSFODNN7EXAMPLE", True),
     ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", True), ("ghpABCdef123456789xyz", True), ("x" * 65, True), ("", True)],
)  # fmt: skip
def test_looks_like_secret(value: str, secret: bool) -> None:
    assert looks_like_secret(value) is secret


def test_every_fragment_of_a_known_secret_is_masked() -> None:
    from distillscope.redact import mask_secrets, redact_text, remember_secret

    secret = "frag-canary-" + "Ab3" * 10
    remember_secret(secret)
    quoted = f"Incorrect API key provided: {secret[:20]}... and later {secret[-9:]}; {secret}"
    shown = redact_text(quoted)
    assert not any(secret[i : i + 8] in shown for i in range(len(secret) - 7)), shown
    assert shown.startswith("Incorrect API key provided: ***")
    assert mask_secrets(f"key={secret[5:40]}") == "key=***"  # an answer: only the secret masked
    assert redact_text("short pieces stay: frag-ca") == "short pieces stay: frag-ca"


def test_more_secret_parameter_names_are_redacted() -> None:
    from distillscope.redact import redact_url

    names = ["code", "subscription-key", "api_token", "x-api-key", "access-token", "client_secret", "auth"]
    url = "https://gw.test/v1?api-version=2024-06-01&" + "&".join(
        f"{n}=v{i}secret" for i, n in enumerate(names)
    )
    shown = redact_url(url)
    assert "secret" not in shown.replace("client_secret", "") and "api-version=2024-06-01" in shown
    assert "?api-version=2024-06-01&code=***&subscription-key=***" in shown


def test_a_secret_used_as_a_mapping_key_is_masked() -> None:
    from distillscope.redact import redact_data, remember_secret

    secret = "sk-as-a-name-" + "Zz9" * 8
    remember_secret(secret)
    assert redact_data({"models": {secret: {"n": 1}}}) == {"models": {"***": {"n": 1}}}


# The two patterns as they were before they were made linear: the reference for what they match.
_OLD_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>,]+")
_OLD_LOOSE = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9_.\-])|(?<=%3f)|(?<=%26)|(?<=%23))((?:[A-Za-z0-9_.\-]*"
    r"(?:key|token|secret|passw|pwd|signature|credential|auth)[A-Za-z0-9_.\-]*|sig|code)(?:=|%3d))"
    r"([^&\s\"'#<>]+)"
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*"aZ9+.-_:/=&?%3fdk ey,sigcode", "key", "://", "%3d", "%3f"])).map("".join))
def test_the_linear_patterns_match_what_the_backtracking_ones_did(text: str) -> None:
    assert [(m.start("url"), m.end()) for m in redact._URL.finditer(text)] == [
        m.span() for m in _OLD_URL.finditer(text)
    ]
    assert [m.groups() for m in redact._LOOSE_PARAM.finditer(text)] == [
        m.groups() for m in _OLD_LOOSE.finditer(text)
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("openai-compatible:" + "a" * 200_000 + "@http://h:1/v1?key=v", "@http://h:1/v1?key=***"),
        ("key" * 50_000 + " key=v", " key=***"),  # a 150,000-character word of secret words
        ("9" * 1_000 + "a" * 100_000 + ":/ http://h?key=v", ":/ http://h?key=***"),
    ],
)
def test_redacting_a_long_run_of_name_characters_takes_linear_time(text: str, shown: str) -> None:
    """A 60,000-character model name in an inline spec made every `redact_text` of the settings
    take a second (quadratic backtracking): a 3-query `ice run` took 22 s."""
    started = time.perf_counter()
    redacted = redact_text(text)
    assert time.perf_counter() - started < 5  # quadratic, it took minutes: a guard, not a benchmark
    assert redacted.endswith(shown) and "v" not in redacted[-5:]


def test_an_unparsable_url_with_many_query_marks_is_redacted_in_linear_time() -> None:
    """A URL urlsplit refuses (a bad IPv6 host) went through a pattern whose parameter name spanned
    `?`: each `?` of `?a?a?a…` scanned to the end, so 40,000 of them took 27 s."""
    url = "http://[::1/?" + "?a" * 40_000 + "&api_key=sk-secret-value"
    started = time.perf_counter()
    redacted = redact_url(url)
    assert time.perf_counter() - started < 5  # quadratic, it took 27 s: a guard, not a benchmark
    assert "sk-secret-value" not in redacted and redacted.endswith("api_key=***")


def test_a_placeholder_key_masks_itself_not_the_words_it_is_made_of() -> None:
    """`OPENAI_API_KEY=sk-no-key-required` (llama.cpp's placeholder) made every answer's "required"
    `***` before the ledger; `sk-1234567890` did the same to "12345678". Word-like pieces (letters
    of one case, digits only) are not masked alone; the whole key and its other pieces are."""
    from distillscope.redact import mask_secrets, redact_text, remember_secret

    for placeholder in ("sk-no-key-required", "sk-1234567890"):
        remember_secret(placeholder)
    prose = "This field is required. Required! REQUIRED: call 123456789 or 12345678."
    assert mask_secrets(prose) == prose
    assert redact_text(prose) == prose
    assert mask_secrets("the key sk-no-key-required. ok") == "the key ***. ok"
    assert mask_secrets("cut short: sk-no-key-req") == "cut short: ***"
    assert mask_secrets("and sk-1234567890!") == "and ***!"
    # a random key's pieces are still masked wherever they appear
    secret = "rk-" + "q7Lm2Xv9" * 4
    remember_secret(secret)
    shown = mask_secrets(f"quoted: {secret[4:20]} and {secret[-11:]}")
    assert not any(secret[i : i + 8] in shown for i in range(len(secret) - 7)), shown
