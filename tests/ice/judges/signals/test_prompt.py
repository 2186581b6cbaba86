"""The prompt read segment by segment (template pieces and the query, each read once per run) gives
what reading the whole prompt gives, wherever the query sits between two tokens: the same registry
names, persona names and, for the scorer, the same word buckets in the same order."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.signals.features import FeatureConfig, FeatureMaker, abstracted, buckets
from distillscope.ice.judges.signals.patterns import _NOT_A_PERSONA
from distillscope.ice.judges.signals.prompt import (
    PromptReader,
    _persona_declarations,
    prompt_segments,
)
from distillscope.ice.judges.signals.reader import RuleReader
from distillscope.ice.templates import QUERY_SLOT, fill_template
from distillscope.ice.types import JudgeItem

REGISTRY = IdentityRegistry.builtin()
QWEN = REGISTRY.for_model("qwen2.5-7b-instruct")

# Pieces of templates: vendor names of every tier, persona declarations, CJK, punctuation.
_PIECES = [
    "Hello ChatGPT. ",
    "You are going to act as Luna, ",
    "an AI named Nova-X ",
    "Anthropic's Claude ",
    "by OpenAI",
    "通义千问",
    "阿里云 ",
    "Qwen ",
    "DAN mode ",
    "[🔓JAILBREAK] ",
    "GPT: ",
    "\n",
    " ",
    '"',
    "developed by Google. ",
    "called Eclipse. ",
    "x",
]
# Queries as ICE sends them: questions that start with a lower-case word or a CJK character and end
# with a question mark and maybe spaces (a capitalised first word could extend a persona name
# written just before the slot: that is the one thing segment reading does not read).
_QUERIES = [
    "who made you?  ",
    "which company developed you?",
    "您是由哪个团队开发的？",
    "where are you from?  ",
]
_PIECE = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)
_EDGE = st.sampled_from(["", " ", "\n", ": "])


@st.composite
def _templates(draw: st.DrawFn) -> str:
    """A template with the slot after a space or newline (or none: the query is appended)."""
    pieces = draw(st.lists(_PIECE, min_size=1, max_size=3))
    if draw(st.booleans()):
        return "".join(pieces)
    slot = draw(st.sampled_from([" ", "\n"])) + QUERY_SLOT + draw(_EDGE)
    return slot.join(pieces)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=8))
def test_segments_make_up_the_prompt_and_cut_no_word(prompt: str, query: str) -> None:
    segments = prompt_segments(prompt, query)
    assert "".join(segments) == prompt
    assert len(segments) % 2 == 1 and all(s == query for s in segments[1::2])
    if len(segments) > 1:
        ends = [s for s in segments if s]
        assert not any(a[-1].isalnum() and b[0].isalnum() for a, b in pairwise(ends))


def test_a_query_inside_a_word_leaves_the_prompt_whole() -> None:
    assert prompt_segments("Hi ChatGPT {query}", "q") == ("Hi ChatGPT {query}",)
    assert prompt_segments("Hi ChatGPT, who made you?", "who made you?") == (
        "Hi ChatGPT, ",
        "who made you?",
        "",
    )
    assert prompt_segments("no query here", "who?") == ("no query here",)
    assert prompt_segments("abab", "ab") == ("abab",)
    assert prompt_segments("ab ab", "ab") == ("", "ab", " ", "ab", "")


@settings(max_examples=300, deadline=None)
@given(_templates(), st.sampled_from(_QUERIES))
def test_reading_by_segments_is_reading_the_whole_prompt(template: str, query: str) -> None:
    prompt = fill_template(template, query)
    reader = PromptReader(REGISTRY)
    reading = reader.read(prompt, query)
    whole = REGISTRY.match_names(prompt)
    assert reading.families == frozenset(f for f, _ in whole)
    at, mentions = 0, []
    for part in reading.parts:
        mentions += [(f, (a + at, b + at)) for f, (a, b) in part.mentions]
        at += len(part.text)
    assert mentions == whole
    personas = {
        m.group("name").strip()
        for m in _persona_declarations(prompt)
        if m.group("name").strip() not in _NOT_A_PERSONA and not REGISTRY.match_names(m.group("name"))
    }
    assert frozenset().union(*(p.personas for p in reading.parts)) == personas
    assert (reading.persona is None) == (not personas)
    assert all(reading.persona is not None and reading.persona.fullmatch(n) for n in personas)
    for name in ("chatgpt", "openai", "luna", "qwen"):
        assert reading.names(name) == (name in prompt.lower())


@settings(max_examples=200, deadline=None)
@given(_templates(), st.sampled_from(_QUERIES), st.sampled_from([6000, 40, 7]))
def test_prompt_buckets_by_segments_are_the_whole_prompts_in_order(
    template: str, query: str, template_chars: int
) -> None:
    """Same set in the same order (the order fixes the scorer's float sums), also where the prompt
    is cut at `template_chars`."""
    prompt = fill_template(template, query)
    config = FeatureConfig(template_chars=template_chars)
    reading = RuleReader(REGISTRY).read(JudgeItem(index=0, prompt=prompt, query=query, response="Hi."), QWEN)
    spans = []
    at = 0
    for text, part_spans in reading.prompt_spans:
        spans += [(a + at, b + at, tier) for a, b, tier in part_spans]
        at += len(text)
    expected = buckets(abstracted(prompt, tuple(spans))[:template_chars], config.template_bits)
    maker = FeatureMaker(config)
    assert maker.template_buckets(reading.prompt_spans) == expected
    assert maker.template_buckets(reading.prompt_spans) == expected  # from the segments' cache
