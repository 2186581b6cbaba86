"""Checks on the endpoint URLs and headers a user gives, before anything is opened or sent.

A bad port, a header with a line break or credentials inside a URL are setup mistakes: they are
refused with one line (exit 2) when the spec or config is read, so no ledger or run directory is
left behind for a run that could never start. Messages show the URL redacted, never a secret.

URL credentials (`http://user:pass@host/v1`) are refused rather than used as basic auth: they would
sit in shell history, process lists and every file that records the spec. Keys belong in an
environment variable (`api_key_env:`), or in `headers:` for gateways that want another header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from distillscope.redact import redact_url

# RFC 7230 token characters for a header name.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_base_url(url: str) -> None:
    """Raise ValueError (message safe to show) unless `url` is a usable http(s) base URL."""
    shown = redact_url(url)
    if _CONTROL.search(url) or any(ch.isspace() for ch in url):
        raise ValueError(f"URL '{shown!s}' contains spaces or control characters")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"URL '{shown}' must start with http:// or https://")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is out of range or not a number
    except ValueError as exc:
        reason = "port out of range 0-65535" if "range" in str(exc) else "invalid port or host"
        raise ValueError(f"URL '{shown}': {reason}") from None
    if port == 0:
        raise ValueError(f"URL '{shown}': port 0 is not a port a server listens on")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError(
            f"URL '{shown}' carries credentials (user:password@); they are not used: put the key in "
            "an environment variable named by api_key_env (or a header in the config)"
        )
    if not parts.hostname:
        raise ValueError(f"URL '{shown}' has no host")


def check_header(name: str, value: str) -> None:
    """Raise ValueError unless a header name is a token and its value has no CR, LF or NUL
    (a line break would let a config inject further headers into every request)."""
    if not _HEADER_NAME.match(name):
        raise ValueError(f"header name {name!r} is not a valid HTTP header name")
    if _CONTROL.sub("", value.replace("\t", "")) != value.replace("\t", ""):
        raise ValueError(f"header '{name}': value contains a line break or control character")


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def header_env_refs(value: str) -> list[str]:
    """The environment variables a header value names as `${NAME}`."""
    return _ENV_REF.findall(value)


def expand_header(value: str, environ: Mapping[str, str]) -> str:
    """A header value with each `${NAME}` replaced by that variable's value (read at call time,
    so a key header's secret lives in the environment, not in the config file)."""
    return _ENV_REF.sub(lambda m: environ.get(m.group(1), ""), value)


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, for naming where a redirect went."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")
