"""Endpoint URL and header checks, and the origin a redirect is compared by."""

from __future__ import annotations

import pytest

from distillscope.models.urls import check_base_url, check_header, origin


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/v1", "https://api.x.com/v1", "http://[::1]:80/v1?api-version=1"]
)
def test_good_urls(url: str) -> None:
    check_base_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h:65536/v1", "port out of range"), ("http://h:x/v1", "invalid port"), ("http://h:0/v1", "port 0"),
        ("http://u:secretpw@h/v1", "carries credentials"), ("http://u@h/v1", "carries credentials"),
        ("ftp://h/v1", "must start with http"), ("http:///v1", "no host"), ("http://h/v1\n", "control characters"),
        ("http://h /v1", "spaces"),
    ],
)  # fmt: skip
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        check_base_url(url)
    assert "secretpw" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"), [("X-A", "b\r\nX-Evil: 1"), ("X-A", "b\n"), ("X-A", "\x00"), ("X A", "v"), ("", "v")]
)
def test_bad_headers(name: str, value: str) -> None:
    with pytest.raises(ValueError):
        check_header(name, value)


def test_origins() -> None:
    assert origin("http://h/v1") == origin("http://h:80/x") == "http://h"
    assert origin("https://h:8443/v1") == "https://h:8443"
    assert origin("http://[::1]:9/v1") == "http://[::1]:9"
    assert origin("http://h/v1") != origin("https://h/v1")
