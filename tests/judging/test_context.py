"""Fitting judge requests into a context window: the servers' errors read, texts cut in the middle."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from distillscope.judging.context import (
    MIN_KEEP,
    context_limit,
    estimate_tokens,
    is_context_overflow,
    shorten_middle,
)

OPENAI = (
    'http://x/v1/chat/completions: HTTP 400: {"error": {"message": "This model\'s maximum context length '
    'is 8192 tokens. However, your messages resulted in 9000 tokens."'
)
VLLM = (
    'http://x/v1/chat/completions: HTTP 400: {"object":"error","message":"This model\'s maximum context '
    "length is 2048 tokens. However, you requested 2600 tokens (2200 in the messages, 400 in the completion)."
)
LLAMA_CPP_PYTHON_OLD = (
    'HTTP 400: {"error": {"message": "Requested tokens (2600) exceed context window of 2048"}}'
)
LLAMA_CPP = (
    'HTTP 400: {"error":{"code":400,"message":"the request exceeds the available context size, try increasing '
    'it","type":"exceed_context_size_error","n_prompt_tokens":2600,"n_ctx":4096}}'
)


def test_the_common_wordings_are_read_with_their_limit() -> None:
    for error, limit in ((OPENAI, 8192), (VLLM, 2048), (LLAMA_CPP_PYTHON_OLD, 2048), (LLAMA_CPP, 4096)):
        assert is_context_overflow(error, 400), error
        assert context_limit(error) == limit
    cut = LLAMA_CPP[:120]  # the limit cut off by a shortened error body: an overflow of unknown size
    assert is_context_overflow(cut, 400) and context_limit(cut) is None


def test_other_errors_are_not_overflows() -> None:
    assert not is_context_overflow("HTTP 400: response_format type 'json_schema' is not supported", 400)
    assert not is_context_overflow("HTTP 503: overloaded", 503)
    assert not is_context_overflow(OPENAI, None)


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=0, max_value=4000))
def test_shortening_keeps_both_ends_and_marks_the_cut(text: str, keep: int) -> None:
    out = shorten_middle(text, keep)
    if len(text) <= max(MIN_KEEP, keep):
        assert out == text
        return
    kept = max(MIN_KEEP, keep)
    head, tail = (kept * 3) // 5, kept - (kept * 3) // 5
    assert out.startswith(text[:head]) and out.endswith(text[len(text) - tail :])
    assert f"[... {len(text) - kept} characters cut from the middle" in out
    assert len(out) < len(text) + 80


def test_token_estimate_is_conservative_for_english_and_cjk() -> None:
    english = "I am GLM, a large language model developed by Zhipu AI. " * 20
    assert estimate_tokens(english) >= len(english) / 4  # BPE tokenizers: ~4 characters a token
    chinese = "我是智谱AI开发的语言模型。" * 20
    assert estimate_tokens(chinese) >= len(chinese)
