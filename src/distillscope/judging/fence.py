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
import json
import re
from collections.abc import Sequence
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_CODE_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


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


def extract_verdict_json(text: str, nonce: str, untrusted: Sequence[str] = ()) -> dict[str, Any] | None:
    """The JSON object of the judge's single `<verdict-NONCE>` block (or of a bare JSON reply that
    is not an echo of the fenced data); None when missing, ambiguous or not a JSON object."""
    text = _THINK.sub("", text).strip()
    tag = re.escape(nonce)
    blocks = re.findall(rf"<verdict-{tag}>(.*?)</verdict-{tag}>", text, flags=re.S)
    if len(blocks) > 1:
        return None  # two verdicts: ambiguous
    body = (blocks[0] if blocks else text).strip()
    if not blocks and echoes_untrusted(body, untrusted):
        return None
    fenced = _CODE_FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None
