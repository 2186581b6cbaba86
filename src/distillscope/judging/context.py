"""Fitting a judge request into the judge model's context window.

A judge server with a small context (llama-cpp-python's default 2048 tokens) answers a long
request with HTTP 400. The servers word it differently; `context_limit` reads the common forms:

* OpenAI, vLLM and llama-cpp-python: "This model's maximum context length is N tokens ...";
* llama-cpp-python (older): "Requested tokens (M) exceed context window of N";
* llama.cpp's own server: "the request exceeds the available context size" (with "n_ctx": N
  in the JSON, which a shortened error may have lost: the limit is then unknown);
* others: "context length exceeded", "input is too long", "prompt is too long".

`shorten_middle` keeps both ends of a text and puts a visible marker where the middle was, so
the judge still sees how a response begins (who the assistant says it is) and ends.
Tokens are estimated conservatively without a tokenizer (`estimate_tokens`).
"""

from __future__ import annotations

import math
import re

_LIMIT_PATTERNS = (
    re.compile(r"maximum context length is (\d+)", re.I),
    re.compile(r"context (?:window|length|size) of (\d+)", re.I),
    re.compile(r"n_ctx\W+(\d+)", re.I),
    re.compile(r"context (?:window|length|size) is (\d+)", re.I),
)
_OVERFLOW = re.compile(
    r"maximum context length|context[_ ]length[_ ]exceeded|exceed(?:s|ed)? (?:the )?(?:available )?context"
    r"|exceed_context_size|input is too long|prompt is too long|too many tokens|context window",
    re.I,
)
ELISION = "\n[... {n} characters cut from the middle to fit the judge's context ...]\n"
MIN_KEEP = 120  # characters of a text kept at least (both ends together)


def is_context_overflow(error: str | None, status: int | None) -> bool:
    """The server refused the request because it does not fit its context window."""
    return bool(error) and status in (400, 413, 422, 500) and _OVERFLOW.search(error or "") is not None


def context_limit(error: str | None) -> int | None:
    """The context size N the server's error states, or None where it names none."""
    for pattern in _LIMIT_PATTERNS:
        match = pattern.search(error or "")
        if match:
            return int(match.group(1))
    return None


def estimate_tokens(text: str) -> int:
    """An over-estimate of the tokens of `text`: ASCII at 3 characters a token (BPE tokenizers
    average about 4 on English), any other character a token of its own or two (CJK text is
    about one to two tokens a character)."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 3) + 2 * (len(text) - ascii_chars)


def chars_for_tokens(text: str, tokens: int) -> int:
    """How many characters of `text` fit in about `tokens` tokens, by `estimate_tokens`'s rate."""
    if not text:
        return 0
    rate = estimate_tokens(text) / len(text)  # tokens a character
    return max(0, int(tokens / rate))


def shorten_middle(text: str, keep: int) -> str:
    """`text` with its middle replaced by a marker so that about `keep` characters remain
    (the head a little longer than the tail); unchanged when it already fits."""
    keep = max(MIN_KEEP, keep)
    if len(text) <= keep:
        return text
    head = (keep * 3) // 5
    tail = keep - head
    cut = len(text) - head - tail
    return text[:head] + ELISION.format(n=cut) + text[len(text) - tail :]
