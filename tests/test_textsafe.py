"""Text made safe at the edge: lone surrogates replaced; "empty" meaning no visible character."""

from __future__ import annotations

from distillscope.models.types import Message, answer_outcome
from distillscope.textsafe import has_visible, repair_strings, repair_surrogates


def test_lone_surrogates_are_replaced_and_counted() -> None:
    assert repair_surrogates("Sure! \ud83d") == ("Sure! \ufffd", 1)
    assert repair_surrogates("\udc00a\ud800") == ("\ufffda\ufffd", 2)
    assert repair_surrogates("fine 😀") == ("fine 😀", 0)
    assert Message(role="user", content="hi \ud83d").content == "hi \ufffd"


def test_repair_strings_walks_keys_values_and_lists() -> None:
    value = {"a\udc80": ["x\ud83d", {"b": "\udfff"}], "n": 1}
    assert repair_strings(value) == {"a\ufffd": ["x\ufffd", {"b": "\ufffd"}], "n": 1}


def test_invisible_only_text_is_empty() -> None:
    for text in (
        "",
        "  \n",
        "\u200b\u200b",
        "\ufeff",
        "\u3164\u3164",
        "\u2800",
        "\u2060\u200d\u202e",
        "\ufe0f",
    ):
        assert not has_visible(text), repr(text)
        assert answer_outcome(text, "stop") == "empty"
    for text in ("a", "\u200bok", "é", "中", "😀", "\u0301"):
        assert has_visible(text), repr(text)
        assert answer_outcome(text, "stop") == "ok"
    assert answer_outcome("\u200b", "content_filter") == "filtered"
