"""Redaction: the one place that decides what of a spec, URL, header or config may be shown.

Everything derived from user settings that reaches disk (config.json, results.json, run.log, the
ledger's error texts), the terminal or a report passes through here. Secrets are shown as `***`:

* URL userinfo (`http://user:pass@host`): the spec parser refuses such URLs (credentials belong
  in an environment variable), and anything shown still hides them;
* key-like query parameters (`key`, `sig`, `code`, and any name holding key, token, secret,
  passw, signature, credential or auth: `api_key`, `subscription-key`, `access-token`,
  `client_secret`, `auth`, ..., any case);
* values of auth-like headers (`Authorization`, `api-key`, `x-api-key`, anything whose name
  contains key, token, secret, auth, password, signature or cookie);
* the values of the environment variables that hold API keys, and the secret values a model
  sends (literal key headers, a URL's `sig`), should any text contain them, whole or any piece of
  8 characters or more.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Exact names (kept for callers that list them); `is_secret_param` also takes any name that
# contains one of the words of _SECRET_WORD (`subscription-key`, `api_token`, `x-api-key`,
# `access-token`, `client_secret`, `auth`, ...) or is `sig`/`code` (an OAuth authorization code).
SECRET_PARAMS = frozenset(
    {"key", "api_key", "api-key", "apikey", "token", "sig", "signature", "access_token", "password", "secret"}
)
_SECRET_WORD = r"key|token|secret|passw|pwd|signature|credential|auth"
_SECRET_PARAM = re.compile(rf"(?i)^(?:[a-z0-9_.\-]*(?:{_SECRET_WORD})[a-z0-9_.\-]*|sig|code)$")
_AUTH_HEADER = re.compile(r"auth|key|token|secret|passw|signature|cookie|credential", re.IGNORECASE)
# Both patterns below are tried only where a run of name characters starts (a lookbehind) and
# take the run whole (possessive `*+`), so a text costs time in proportion to its length. Tried at
# every character with backtracking, as they were, a 60,000-character model name in a spec (or a
# run of `keykeykey...`) cost seconds a call: quadratic in the run's length.
# A URL: its scheme is the run of scheme characters before `://`, from its first letter (group
# `url`; the digits or signs before that letter, if any, are left as they are).
_URL = re.compile(r"(?<![A-Za-z0-9+.\-])[0-9+.\-]*+(?P<url>[A-Za-z][A-Za-z0-9+.\-]*+://[^\s\"'<>,]+)")
# `name=value` of a secret parameter anywhere in a text (a URL the URL parser could not take apart,
# a percent-encoded query, a server's message): the safety net behind `redact_url`. A name is a
# whole run of name characters that holds a secret word, or `sig`, or `code`.
_PARAM_NAMES = rf"(?=[A-Za-z0-9_.\-]*?(?:{_SECRET_WORD}))[A-Za-z0-9_.\-]*+|sig|code"
_LOOSE_PARAM = re.compile(
    rf"(?i)(?:(?<![A-Za-z0-9_.\-])|(?<=%3f)|(?<=%26)|(?<=%23))((?:{_PARAM_NAMES})(?:=|%3d))([^&\s\"'#<>]+)"
)
# A part of a known secret this long or longer, anywhere in a text, is hidden too: a server that
# quotes a key and an excerpt that cuts it must not leave its first 20 characters behind.
FRAGMENT = 8
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_known_secret_envs: set[str] = {"OPENAI_API_KEY"}


def is_secret_param(name: str) -> bool:
    name = name.strip()
    return name.casefold() in SECRET_PARAMS or bool(_SECRET_PARAM.match(name))


def secret_param_values(url: str) -> list[str]:
    """The values of a URL's secret query and fragment parameters (to hide wherever they appear,
    also without their name: a server may echo `sig`'s value alone)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    values = []
    for part in (parts.query, parts.fragment):
        values += [v for k, v in parse_qsl(part, keep_blank_values=True) if is_secret_param(k) and v]
    return values


def is_secret_header(name: str) -> bool:
    return bool(_AUTH_HEADER.search(name))


def redact_url(url: str) -> str:
    """`url` with its userinfo and key-like query values replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_unparsable(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_param(k) for k, _ in pairs):
            query = urlencode(
                [(k, MASK if is_secret_param(k) else v) for k, v in pairs], safe="*", doseq=False
            )
    fragment = parts.fragment
    if fragment and "=" in fragment:  # OAuth implicit flows put tokens in the fragment
        fragment = urlencode(
            [(k, MASK if is_secret_param(k) else v) for k, v in parse_qsl(fragment, keep_blank_values=True)],
            safe="*",
        )
    shown = urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    return _LOOSE_PARAM.sub(_loose_sub, shown)


def _loose_sub(match: re.Match[str]) -> str:
    value = match.group(2)
    tail = value[len(value.rstrip(".,:;)]}!?")) :]  # sentence punctuation after the value stays
    return match.group(1) + MASK + tail


_UNPARSABLE_PARAM = re.compile(r"([?&#])([^=&#?]+)=([^&#]*)")


def _redact_unparsable(url: str) -> str:
    """A URL urlsplit refuses (e.g. a bad IPv6 host): hide everything that could be a secret."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = MASK + "@" + rest.split("@", 1)[1]
    # a name stops at the next `?` too: spanning them, each `?` of a run of `?a?a?a…` scanned to the
    # end of the text (40,000 of them took 27 s); a `?` starts a query, so it never sits in a name
    rest = _UNPARSABLE_PARAM.sub(_param_sub, rest)
    return _LOOSE_PARAM.sub(_loose_sub, scheme + sep + rest)


def _param_sub(match: re.Match[str]) -> str:
    name = match.group(2)
    return f"{match.group(1)}{name}={MASK if is_secret_param(name) else match.group(3)}"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as they may be shown: values of auth-like names become `***`."""
    return {
        name: MASK if is_secret_header(name) else redact_text(str(value)) for name, value in headers.items()
    }


def remember_secret_env(name: str | None) -> None:
    """Register the name of a variable holding a key, so its value is hidden wherever it appears."""
    if name:
        _known_secret_envs.add(name)


_known_secrets: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Register a secret value itself (a literal key header, a URL's `sig`), so it is hidden
    wherever it appears, whole or in part, for the rest of the process."""
    if value and len(value) >= FRAGMENT:
        _known_secrets.add(value)


def _secret_values() -> list[str]:
    values = [os.environ.get(name, "") for name in _known_secret_envs] + list(_known_secrets)
    return sorted({v for v in values if len(v) >= FRAGMENT}, key=len, reverse=True)


@functools.lru_cache(maxsize=64)
def _fragments(secrets: tuple[str, ...]) -> tuple[re.Pattern[str], frozenset[str]]:
    """Every FRAGMENT-character piece of the secrets, and a pattern for the runs of characters
    that occur in them (a piece can only lie inside such a run)."""
    pieces = frozenset(
        piece
        for s in secrets
        for i in range(len(s) - FRAGMENT + 1)
        if not _word_like(piece := s[i : i + FRAGMENT])
    )
    alphabet = "".join(re.escape(ch) for ch in sorted({ch for s in secrets for ch in s}))
    return re.compile(f"[{alphabet}]{{{FRAGMENT},}}+"), pieces


def _word_like(piece: str) -> bool:
    """A piece of a secret that prose holds too: letters all of one case (or a capital, then small
    letters), or digits only. A placeholder key such as llama.cpp's `sk-no-key-required` made every
    answer's "required" `***` in the ledger, as `sk-1234567890` did "12345678"; a random key holds
    such a piece hardly ever, and its other pieces (and the whole key) are masked as before."""
    return piece.isdigit() or (piece.isalpha() and (piece.islower() or piece.isupper() or piece.istitle()))


def _mask_fragments(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every run of characters covered by a FRAGMENT-long piece of a secret masked.
    One C scan finds the runs of the secrets' characters; only runs of FRAGMENT or more (long
    words, hashes, keys) are looked at piece by piece: ~5 us a kilobyte of prose."""
    runs, pieces = _fragments(secrets)
    spans: list[tuple[int, int]] = []
    for secret in secrets:  # a secret whole, its word-like pieces included
        at = text.find(secret)
        while at >= 0:
            spans.append((at, at + len(secret)))
            at = text.find(secret, at + 1)
    for run in runs.finditer(text):
        start, end = run.span()
        for at in range(start, end - FRAGMENT + 1):
            if text[at : at + FRAGMENT] in pieces:
                spans.append((at, at + FRAGMENT))
    if not spans:
        return text
    spans.sort()
    merged = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    shown, at = [], 0
    for start, end in merged:
        shown += [text[at:start], MASK]
        at = end
    shown.append(text[at:])
    return "".join(shown)


def mask_secrets(text: str) -> str:
    """Only the known secrets (whole or any FRAGMENT-long piece) masked: for a model's answer,
    whose `key=value` text is content, not settings."""
    secrets = tuple(sorted(_secret_values()))
    return _mask_fragments(text, secrets) if secrets and len(text) >= FRAGMENT else text


def redact_text(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Free text (an error, a log line, a spec): URLs inside it redacted, key values masked, and
    any piece of FRAGMENT or more characters of a known secret masked (a quoted key cut short)."""
    if "://" in text:
        text = _URL.sub(_url_sub, text)
    if "=" in text or "%3" in text.lower():
        text = _LOOSE_PARAM.sub(_loose_sub, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    secrets = tuple(sorted({*_secret_values(), *(s for s in extra_secrets if s and len(s) >= FRAGMENT)}))
    if secrets and len(text) >= FRAGMENT:
        text = _mask_fragments(text, secrets)
    return text


def _url_sub(match: re.Match[str]) -> str:
    url = match.group("url")
    lead = match.group(0)[: match.start("url") - match.start()]
    tail = len(url) - len(url.rstrip(".,:;)]}!?"))
    return lead + redact_url(url[: len(url) - tail]) + url[len(url) - tail :]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (for run.log and the terminal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_data(data: Any, *, _key: str | None = None, _in_headers: bool = False) -> Any:
    """A JSON-like structure with every string passed through `redact_text`; the values of
    auth-like names inside a `headers` mapping become `***`."""
    if isinstance(data, str):
        return MASK if _in_headers and _key is not None and is_secret_header(_key) else redact_text(data)
    if isinstance(data, Mapping):
        inside = str(_key).casefold() in ("headers", "header") if _key is not None else False
        # keys too: a key used as a model's name would otherwise land in results.json as a JSON key
        return {
            (redact_text(k) if isinstance(k, str) else k): redact_data(v, _key=str(k), _in_headers=inside)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact_data(v, _key=_key) for v in data]
    return data


def looks_like_secret(value: str) -> bool:
    """Whether a value given as an environment variable's *name* is more likely the key itself:
    not a valid variable name, very long, or long and random-looking (mixed case with digits, or
    long with no underscore, or high character entropy). Variable names are short UPPER_SNAKE."""
    if not _ENV_NAME.match(value) or len(value) > 64:
        return True
    digits = any(ch.isdigit() for ch in value)
    lower = any(ch.islower() for ch in value)
    upper = any(ch.isupper() for ch in value)
    if len(value) >= 16 and digits and lower and upper:
        return True
    if len(value) >= 20 and "_" not in value and (digits or len(value) >= 24):
        return True
    if len(value) >= 24:
        counts = Counter(value)
        entropy = -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())
        return entropy > 4.3
    return False
