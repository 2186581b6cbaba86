"""Reading a judge's reply back: only the judge's own verdict counts, read in time linear in the
reply, whatever a hostile or degenerate server sends."""

from __future__ import annotations

import random
import re
import time

import pytest

from distillscope.judging.fence import drop_thinking, extract_verdict_json, tagged_blocks, unfence_code

N = "0123456789abcdef"


@pytest.mark.parametrize(
    "reply",
    [
        "<think>" * 8_000,  # tags never closed: the regex scanned to the end from each one
        f"<verdict-{N}>" * 8_000,
        "```" + " " * 2_000 + "x",  # a code fence then blank space: cubic backtracking
        "```json\n" + "\n" * 2_000 + "}",
    ],
    ids=["unclosed-think", "unclosed-verdict", "fence-then-spaces", "fence-then-newlines"],
)
def test_reading_a_reply_takes_linear_time(reply: str) -> None:
    """Each took seconds to minutes (2,000 spaces after a fence: 10 s; 4,000: over a minute; 200 kB of
    `<think>`: 73 s), on the event loop, and again on every rerun from the ledger."""
    started = time.perf_counter()
    assert extract_verdict_json(reply, N) is None
    assert time.perf_counter() - started < 0.5


def test_blocks_thinking_and_fences_are_read_as_the_regexes_read_them() -> None:
    think = re.compile(r"<think>.*?</think>", re.S | re.I)
    fence = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)
    pieces = ["<think>", "</think>", "<THINK>", "</Think>", f"<verdict-{N}>", f"</verdict-{N}>", "```", "json",
              "a", " ", "\n", "{}"]  # fmt: skip
    rng = random.Random(7)
    for _ in range(5_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert drop_thinking(text) == think.sub("", text)
        assert tagged_blocks(text, f"verdict-{N}") == re.findall(
            rf"<verdict-{N}>(.*?)</verdict-{N}>", text, re.S
        )
        body = text.strip()
        match = fence.match(body)
        assert unfence_code(body) == (match.group(1).strip() if match else body)


def test_a_verdict_in_a_code_fence_or_after_thinking_is_still_read() -> None:
    verdict = '{"contradiction": false, "strict": false}'
    assert extract_verdict_json(f"```json\n{verdict}\n```", N) == {"contradiction": False, "strict": False}
    assert extract_verdict_json(f"<think>hmm</think><verdict-{N}>{verdict}</verdict-{N}>", N) is not None
