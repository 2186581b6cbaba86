"""The prompt as the judge reads it: the template's pieces and the query, each read once per run.

An ICE run sends a few templates, each with many queries, so almost every prompt it judges is new
while the pieces it is made of are not. The prompt is cut where the query was put in
(`prompt_segments`): the template's text before, between and after the query, and the query itself.
Each segment's registry names, persona declarations and lower-cased text are read once and kept
(`PromptReader`); a prompt's reading (`PromptReading`) is their union. What the rules ask of the
prompt (which models it names, whether it names this one, what persona it gives) and the prompt's
words for the scorer so come from the template, read once, and the query, read once.

A cut is taken only where it falls between two tokens (the characters on either side of it are not
both letters or digits), so no word is split; a name or a persona declaration that runs across the
query's edge is not read (the query is the question put to the model, not part of its setup). Where
the query is not in the prompt, or a cut would split a word, the prompt is one segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.signals.patterns import _NOT_A_PERSONA, _PERSONA_DECL

# The words every `_PERSONA_DECL` match starts with, and the only non-ASCII characters that match an
# ASCII letter when case is ignored (İ, ı, ſ and the Kelvin sign: found by trying every code point).
_PERSONA_WORDS = ("you", "act", "pretend", "roleplay", "refer", "known", "named", "called", "simulat")
_CASE_LOOKALIKES = re.compile("[\u0130\u0131\u017f\u212a]")
CACHE_LIMIT = 4096  # segments (and persona patterns) kept; the caches start afresh past it


def _persona_declarations(template: str) -> list[re.Match[str]]:
    """`_PERSONA_DECL.finditer(template)`, found ~40% faster: the pattern is tried only where one of
    its leading words occurs in the lower-cased prompt (found by `str.find`), in text order, each
    after the last match. Where lower-casing could hide a word (a look-alike letter, or a letter
    that lower-cases into two), the plain scan."""
    low = template.lower()
    if len(low) != len(template) or _CASE_LOOKALIKES.search(template):
        return list(_PERSONA_DECL.finditer(template))
    starts: list[int] = []
    for word in _PERSONA_WORDS:
        at = low.find(word)
        while at >= 0:
            starts.append(at)
            at = low.find(word, at + 1)
    found: list[re.Match[str]] = []
    end = 0
    for at in sorted(starts):
        if at >= end and (m := _PERSONA_DECL.match(template, at)) is not None:
            found.append(m)
            end = m.end()
    return found


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def prompt_segments(prompt: str, query: str) -> tuple[str, ...]:
    """`prompt` cut around each occurrence of `query`: (piece, query, piece, ..., piece), or
    (prompt,) where the query is absent or a cut would split a word."""
    if not query:
        return (prompt,)
    pieces = prompt.split(query)
    if len(pieces) == 1:
        return (prompt,)
    segments = [pieces[0]]
    for piece in pieces[1:]:
        segments.append(query)
        segments.append(piece)
    if _word_char(query[0]) or _word_char(query[-1]):
        ends = [s for s in segments if s]  # a word could run across any two that meet
        if any(_word_char(a[-1]) and _word_char(b[0]) for a, b in pairwise(ends)):
            return (prompt,)
    return tuple(segments)


@dataclass(frozen=True, eq=False)
class PromptPart:
    """One segment's reading, the same for every target."""

    text: str
    low: str  # lower-cased
    mentions: tuple[tuple[str, tuple[int, int]], ...]  # registry names: (family id, (start, end))
    families: frozenset[str]
    personas: frozenset[str]  # the persona names it declares ("you are Luna": Luna)


@dataclass(frozen=True, eq=False)
class PromptReading:
    """What the rules need of one prompt: its segments, the registry families it names, and the
    persona names it gives the model as a pattern (None: none)."""

    parts: tuple[PromptPart, ...]
    families: frozenset[str]
    persona: re.Pattern[str] | None

    def names(self, low_name: str) -> bool:
        """Whether the prompt holds this lower-cased name (within one segment)."""
        return any(low_name in part.low for part in self.parts)


class PromptReader:
    """Reads prompts segment by segment, keeping each segment's reading (see the module docstring)."""

    def __init__(self, registry: IdentityRegistry) -> None:
        self.registry = registry
        self._parts: dict[str, PromptPart] = {}
        self._personas: dict[frozenset[str], re.Pattern[str] | None] = {frozenset(): None}

    def read(self, prompt: str, query: str) -> PromptReading:
        parts = tuple(map(self.part, prompt_segments(prompt, query)))
        if len(parts) == 1:
            families, personas = parts[0].families, parts[0].personas
        else:
            families = frozenset().union(*(p.families for p in parts))
            personas = frozenset().union(*(p.personas for p in parts))
        known = personas in self._personas
        persona = self._personas[personas] if known else self._persona_pattern(personas)
        return PromptReading(parts, families, persona)

    def part(self, text: str) -> PromptPart:
        found = self._parts.get(text)
        if found is None:
            mentions = tuple(self.registry.match_names(text))
            personas = frozenset(
                name
                for m in _persona_declarations(text)
                if (name := m.group("name").strip()) not in _NOT_A_PERSONA
                and not self.registry.match_names(m.group("name"))
            )
            found = PromptPart(text, text.lower(), mentions, frozenset(f for f, _ in mentions), personas)
            if len(self._parts) >= CACHE_LIMIT:
                self._parts.clear()
            self._parts[text] = found
        return found

    def _persona_pattern(self, names: frozenset[str]) -> re.Pattern[str] | None:
        found = (
            re.compile(
                r"(?<![\w'’])(?:"
                + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                + r")(?![\w'’])"
            )
            if names
            else None
        )
        if len(self._personas) >= CACHE_LIMIT:
            self._personas.clear()
            self._personas[frozenset()] = None
        self._personas[names] = found
        return found
