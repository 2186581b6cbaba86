"""Fencing untrusted model text for an LLM judge, and reading back only the judge's own verdict.

A judge prompt puts the answers under test between `<data-NONCE>` tags and asks for the verdict as
JSON inside `<verdict-NONCE>` tags. The nonce is derived from the call's own content: the same call
keeps the same nonce (so it is answered from the ledger on a rerun), and an answer cannot contain
or predict it. `extract_verdict_json` accepts exactly one verdict block, or a bare JSON reply that
is not an echo of the fenced text; anything else is `None` (the caller retries once, then the item
is unjudged).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from distillscope import jsonsafe

_THINK_TAGS = re.compile(r"<(/?)think>", re.I)


def call_nonce(*parts: str) -> str:
    """A delimiter none of `parts` contains: a hash of the parts, re-derived if one contains it."""
    salt = 0
    while True:
        digest = hashlib.sha256("\x1f".join((*parts, str(salt))).encode("utf-8")).hexdigest()[:16]
        if not any(digest in part for part in parts):
            return digest
        salt += 1


def echoes_untrusted(body: str, untrusted: Sequence[str]) -> bool:
    """Whether an untagged reply is (whitespace aside) text from the fenced data: an obedient judge
    repeating a verdict the answer planted, not the judge's own answer."""
    squashed = "".join(body.split())
    return bool(squashed) and any(squashed in "".join(u.split()) for u in untrusted)


def _spans(tags: Sequence[tuple[int, int, bool]]) -> list[tuple[int, int, int, int]]:
    """(open start, open end, close start, close end) of each block: an opening tag and the first
    closing tag after it, then on after that close, as a lazy `<a>.*?</a>` finds them; an opening
    tag with no closing tag after it opens no block. `tags`: (start, end, is_close), in order."""
    spans: list[tuple[int, int, int, int]] = []
    opened: tuple[int, int] | None = None
    for start, end, is_close in tags:
        if opened is None and not is_close:
            opened = (start, end)
        elif opened is not None and is_close:
            spans.append((*opened, start, end))
            opened = None
    return spans


def drop_thinking(text: str) -> str:
    """`text` without its `<think>...</think>` blocks (any case). In time linear in the text: the
    regex `<think>.*?</think>` took quadratic time where many tags were not closed (a reply of
    200 kB of `<think>` held the event loop for over a minute, and its rerun too, from the ledger)."""
    tags = [(m.start(), m.end(), bool(m.group(1))) for m in _THINK_TAGS.finditer(text)]
    spans = _spans(tags)
    if not spans:
        return text
    kept, at = [], 0
    for start, _, _, end in spans:
        kept.append(text[at:start])
        at = end
    kept.append(text[at:])
    return "".join(kept)


def tagged_blocks(text: str, tag: str) -> list[str]:
    """The texts between `<tag>` and `</tag>`, as `re.findall(r"<tag>(.*?)</tag>", text, re.S)`
    finds them, in linear time (see `drop_thinking`)."""
    found = re.compile(rf"<(/?){re.escape(tag)}>")
    spans = _spans([(m.start(), m.end(), bool(m.group(1))) for m in found.finditer(text)])
    return [text[inner:close] for _, inner, close, _ in spans]


def unfence_code(body: str) -> str:
    """A reply wrapped in a Markdown code fence (three backticks, optionally `json`, ... three
    backticks) without the fence. String operations: the regex this replaces backtracked in cubic
    time on a fence followed by blank space (4,000 spaces: a minute; a model that degenerates
    into newlines writes that many)."""
    if len(body) < 6 or not body.startswith("```") or not body.endswith("```"):
        return body
    inner = body[3:-3]
    return (inner[4:] if inner.startswith("json") else inner).strip()


def extract_verdict_json(text: str, nonce: str, untrusted: Sequence[str] = ()) -> dict[str, Any] | None:
    """The JSON object of the judge's single `<verdict-NONCE>` block (or of a bare JSON reply that
    is not an echo of the fenced data); None when missing, ambiguous or not a JSON object. A key
    given twice is ambiguous too, as two blocks are (json would keep the last without a word);
    a number beyond 64 bits or non-finite, or nesting past Python's recursion limit, is no
    verdict (they raised out of the judge: a traceback, again on every rerun from the ledger)."""
    text = drop_thinking(text).strip()
    blocks = tagged_blocks(text, f"verdict-{nonce}")
    if len(blocks) > 1:
        return None  # two verdicts: ambiguous
    body = (blocks[0] if blocks else text).strip()
    if not blocks and echoes_untrusted(body, untrusted):
        return None
    body = unfence_code(body)
    try:
        obj = jsonsafe.loads(body, unique=True)
    except (ValueError, RecursionError):  # malformed, a key twice, a number out of range, too deep
        return None
    return obj if isinstance(obj, dict) else None
