"""The rule reader: decides, offline and deterministically, whether an answer contradicts who really
built the model, and what kind of contradiction it is (the audit rubric's categories, `Category`).

How a response is read (every rule is about how identity is stated, never about particular answers):

1. Voices. A line under a speaker label that names another real model which the prompt sets up as a
   role ("[ChatGPT]:", "GPT:", "**Standard ChatGPT Response:**") is that role being played
   (`named-model-roleplay`, as the paper's judge instruction says); so is a sentence that plans that
   role ("作为ChatGPT部分…", "the GPT response should…"). A label that is a mode or persona ("(🔒Normal
   Output)", "[🔓JAILBREAK]", "GPT-4REAL", "DAN") is the model speaking as itself: its claims count.
2. Vendors. Every family or organisation name of the registry is located; names of the target's own
   organisation are consistent. Another vendor's name is *claimed* when the text before it, back to a
   first-person word, is one of the self-description shapes ("I am (an AI developed by) …", "my creators
   at …", "我是由…开发", "私は…", "Je suis …"), or the name is followed by "… created me"; or, failing
   those shapes, when the name shares a clause with the speaker and a maker word ("my weights were
   trained and are looked after by a group at OpenAI") — sure when the maker word sits between them,
   *unsure* (best guess: a contradiction) when it only shares the sentence or a list heading.
   A claim is dropped when negated ("I am not ChatGPT", "unlike", "与OpenAI无关", "defies OpenAI's
   policies"), asked, an opinion ("I think OpenAI…"), or a tool or host rather than a maker ("hosted on
   Google Cloud", "TensorFlow, a framework developed by Google"), or, in a sentence that also names the
   true maker, set apart from the speaker ("unlike X, which V made, I come from <its maker>"). Quoted,
   reported or hypothetical speech ("if I were X") is unsure with the best guess "no" (`hypothetical`).
3. Other contradictions, when no vendor is claimed: an invented maker (`fictional-org`: "created by
   NovaMind Labs", "我的创建公司名称是“X”", an unknown name in a list under "my development is supported
   by:", an answer to a question about its makers: "Who trained me? A circle called …"), a place its
   makers are not (`wrong-origin`, from a gazetteer of the registry's locations and major places,
   invented planets included), a denial of any maker (`no-maker`: "I have no makers", "nobody built me";
   "I have no company" is not one), another vendor's policy cited as its own (`vendor-policy`, unsure),
   its makers credited with another vendor's product (`implied-vendor`), and an answer that opens by
   naming the makers of the model the prompt calls it ("The brains of ChatGPT were built at OpenAI": a
   third-person self-claim, unsure).
4. Strict = a loose claim whose family is an OpenAI or Anthropic one (registry `vendor_class`), so
   strict ⊆ loose. An unsure verdict's loose/strict are its best guess; scores report the band.

Thinking traces (`<think>…</think>`) are read like the answer (rubric 6). The reading is a signal:
the default judge's decision is the scorer's (`distillscope.ice.judges.scorer`), which weighs it with
the rest of the answer.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import cast

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.signals.patterns import (
    _AFTER_CLAIM,
    _ANSWER_TURN,
    _ASIDE,
    _ATTRIBUTION,
    _BREAK_CHARS,
    _BRIDGES,
    _CJK_RUN,
    _CLAUSE_BREAK,
    _COMPOSED_FRAME,
    _COUNTRIES,
    _DEFINITE_ECHO,
    _DENIAL,
    _DENIAL_GATE,
    _DENIAL_ZH,
    _DENIED_AFTER,
    _ECHO_STOP,
    _EXTRA_PLACES,
    _FICTIONAL_ANSWER,
    _FICTIONAL_BY,
    _FICTIONAL_EN,
    _FICTIONAL_SUBJECT,
    _FICTIONAL_ZH,
    _FIRST_PERSON,
    _GENERIC_MAKER_ZH,
    _GENERIC_WORDS,
    _HYPOTHETICAL_GATE,
    _IMPLIED,
    _INFRA,
    _LABEL_FILLER,
    _LABEL_LINE,
    _LATIN_WORD,
    _LIST_ITEM,
    _LIST_NAME,
    _LISTING,
    _MAKER_AFTER_NAME,
    _MAKER_LINK_WORDS,
    _MAKER_REL,
    _MAKER_VERB_END,
    _MAKERS_ASKED_END,
    _NAMING,
    _NEGATION,
    _NEGATION_HARD,
    _NOT_A_NAME,
    _OPINION,
    _ORG_ONLY,
    _ORG_WORD,
    _OWNER_ECHO,
    _PERSONA_GATE,
    _PERSONA_NAME,
    _PERSONA_TALK,
    _PHRASE_END,
    _PLACE_GATE,
    _PLACE_LINK,
    _PLACE_NOUN,
    _PLANNING,
    _POLICY,
    _POLICY_GATE,
    _POLICY_NOT_OWN,
    _POLICY_OWN,
    _PROPER,
    _PROPER_ZH,
    _QUESTION_END,
    _QUOTE_CLOSE,
    _QUOTE_OPEN,
    _REPORTED,
    _ROLE_AFTER,
    _ROLE_BEFORE,
    _SELF_ANCHOR,
    _SELF_HYPOTHETICAL,
    _SELF_WORD,
    _SENTENCE_BREAK,
    _SPEAKER_GATE,
    _SPEAKER_LABEL,
    _SPEECH_VERB,
    _THEY,
    _TOOL_BEFORE,
    _TOPIC_LEAD,
    _WE_OPENS,
    _WHERE_QUESTION,
    _YOUR_ECHO,
    _YOUR_MAKER_QUERY,
    _lazy,
    _LazyPattern,
    _module_patterns,
)
from distillscope.ice.judges.signals.prompt import PromptReader, PromptReading
from distillscope.ice.judges.signals.text import visible_text
from distillscope.ice.types import Category, JudgeItem, TargetIdentity


def _last_break(text: str, lo: int, hi: int) -> int:
    """Where the last sentence break in text[lo:hi] ends (lo: none), as
    `_LAST_SENTENCE_BREAK.match(text, lo, hi)` finds it, ~2x faster: every break is one of a few
    characters, so the candidates are found from the right by `str.rfind` and each is tried with
    `_SENTENCE_BREAK` (the same end bound, so its look-arounds see what they saw)."""
    stop = hi
    while True:
        at = max([text.rfind(ch, lo, stop) for ch in _BREAK_CHARS])
        if at < 0:
            return lo
        found = _SENTENCE_BREAK.match(text, at, hi)
        if found is not None:
            return found.end()
        stop = at


_QUOTE_MARK = re.compile("[" + re.escape("".join(sorted(set(_QUOTE_OPEN + _QUOTE_CLOSE)))) + "]")
MAX_MENTIONS = 64  # names of other vendors read one by one in an answer (a bound on the work)
_MAX_BRIDGE = 110  # characters from the first-person word to the name
_MAX_AFTER = 60


@dataclass(frozen=True)
class _Finding:
    families: tuple[str, ...]
    evidence: str
    unsure: bool
    note: str | None = None
    category: Category = Category.OTHER_VENDOR
    guess: bool = False  # for an unsure finding: the judge's best guess (a contradiction or not)


@dataclass(frozen=True)
class _TargetView:
    """What the judge needs about one target, computed once per target."""

    consistent: frozenset[str]  # family ids that belong to the target's organisation
    own_names: re.Pattern[str] | None  # target names the registry does not know (declared targets)


@dataclass(frozen=True)
class RuleReading:
    """What the rules read in one answer: their verdict (a contradiction or not, of which category,
    with which evidence, sure or not) and the facts they met on the way (which vendors were named
    and how), for the scorer to weigh."""

    loose: bool
    strict: bool
    category: Category
    unsure: bool
    evidence: str | None
    claimed: tuple[str, ...]
    note: str | None
    own_mentions: int  # names of the target's own organisation
    other_mentions: int  # names of other vendors
    strict_mentions: int  # names of OpenAI / Anthropic families (the target's own excluded)
    role_mentions: int  # other vendors' names voiced as a role the prompt set up
    claims_own: bool  # says who really built it
    persona: bool  # the prompt gives the model a persona name
    thinking: bool  # a reasoning trace (<think>) opens the answer
    text: str  # the answer as read (invisible characters removed)
    # every registry name in the text: (start, end, tier), tier 0 the target's own organisation,
    # 1 a strict vendor (OpenAI / Anthropic), 2 any other vendor
    spans: tuple[tuple[int, int, int], ...]
    # the same for the prompt, segment by segment (the template's pieces and the query:
    # `signals.prompt`): (segment, its names' (start, end, tier))
    prompt_spans: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]


def _echo_words(text: str) -> set[str]:
    """The words a question and its answer can share: the first five letters of each Latin word of five or
    more letters (a crude stem: "collaborate", "collaborates"), and each pair of Chinese characters in a row."""
    found = {w[:5].lower() for w in _LATIN_WORD.findall(text)} - _ECHO_STOP
    for run in _CJK_RUN.findall(text):
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def _org_shaped(name: str) -> bool:
    """Whether a name has an organisation's shape: an organisation word, or an inner or a run of capitals
    ("Helios Labs", "NovaMind", "DSX")."""
    return bool(_ORG_WORD.search(name) or re.search(r"[a-z][A-Z]|[A-Z]{2,}", name))


def _org_like(name: str) -> bool:
    """Whether a name reads as an organisation's on its own: organisation-shaped, or more than one word
    ("Quiet Harbor"; not "Easy", "Great")."""
    return _org_shaped(name) or len(name.split()) >= 2


def _next_sentence_end(text: str, s_hi: int) -> int:
    """Where the sentence after the one ending at `s_hi` ends (at most 300 characters on)."""
    stop = _SENTENCE_BREAK.search(text, s_hi + 1, min(len(text), s_hi + 300))
    return stop.end() if stop else min(len(text), s_hi + 300)


class RuleReader:
    """Offline, deterministic reading of first-person identity claims (see the module docstring)."""

    def __init__(self, registry: IdentityRegistry | None = None) -> None:
        self.registry = registry or IdentityRegistry.builtin()
        self._strict = frozenset(f.id for f in self.registry.families if f.strict)
        self._views: dict[tuple[str, str | None, tuple[str, ...]], _TargetView] = {}
        self._asked: dict[str, frozenset[str] | None] = {}
        self.prompts = PromptReader(self.registry)
        self._tiers: dict[tuple[str, frozenset[str]], tuple[tuple[int, int, int], ...]] = {}
        self._own_places: dict[str, frozenset[str]] = {}
        places = {p for f in self.registry.families for p in f.locations} | set(_EXTRA_PLACES)
        latin = sorted((p for p in places if p.isascii()), key=len, reverse=True)
        other = sorted((p for p in places if not p.isascii()), key=len, reverse=True)
        self._places = _lazy(
            r"(?<![\w.])(?:"
            + "|".join(re.escape(p) for p in latin)
            + r")(?![\w])"
            + ("|" + "|".join(re.escape(p) for p in other) if other else "")
            # an invented world is somewhere its makers are not either: "on the planet Vextor-9"
            + r"|(?<=planet )[A-Z][\w-]+(?: [A-Z][\w-]+)?|[\u4e00-\u9fff]{2,6}星球"
        )
        # every match starts with a place's first character, a capital or a CJK ideograph
        firsts = "".join(sorted({re.escape(p[0]) for p in places if p}))
        cast("_LazyPattern", self._places).lead = f"[{firsts}A-Z\u4e00-\u9fff]"

    def warm_jobs(self) -> list[Callable[[], object]]:
        """Compile what the first answers would: the module's patterns (~20 ms), the place list,
        and the registry's name patterns (~10 ms), one job each."""
        jobs: list[Callable[[], object]] = [
            partial(getattr, pattern, "search")
            for pattern in (*_module_patterns(), self._places)
            if isinstance(pattern, _LazyPattern) and "search" not in vars(pattern)
        ]
        jobs.extend(self.registry.warm_jobs())
        return jobs

    # ---------------------------------------------------------------- one response
    def read(self, item: JudgeItem, target: TargetIdentity) -> RuleReading:
        """Read one answer. The work is bounded: at most `MAX_MENTIONS` names of other vendors are
        read one by one (an answer that repeats "GPT, Claude, Gemini" for a megabyte is judged by
        its first ones; the scorer still counts them all), each within its own sentence."""
        RuleReader._sentence.cache_clear()  # it holds this answer's sentences only (answers can be 1 MB)
        view = self._view(target)
        text = visible_text(item.response)
        prompt = self.prompts.read(item.prompt, item.query)
        roles = self._role_spans(text, prompt, view)
        persona = prompt.persona
        claims: list[_Finding] = []
        doubts: list[_Finding] = []
        weak: list[_Finding] = []
        roleplay: list[str] = []
        mentioned: list[str] = []
        think_end = text.find("</think>") if "<think>" in text[:200] else -1
        mentions = self.registry.match_names(text)
        starts = [a for _, (a, _b) in mentions]
        own = sum(1 for fam_id, _ in mentions if fam_id in view.consistent)
        others = [(fam_id, span) for fam_id, span in mentions if fam_id not in view.consistent]
        strict_mentions = sum(1 for fam_id, _ in others if fam_id in self._strict)
        hypothetical = bool(others) and any(map(text.__contains__, _HYPOTHETICAL_GATE))
        for fam_id, (start, end) in others[:MAX_MENTIONS]:
            mentioned.append(fam_id)
            if self._voiced_as_role(text, start, end, mentions, roles, prompt, starts, fam_id):
                roleplay.append(fam_id)
                continue
            found = (
                hypothetical and self._as_hypothetical(text, start, end, fam_id, view)
            ) or self._read_mention(text, start, end, fam_id, start < think_end)
            if found is None:
                found = self._near_claim(
                    text, start, end, fam_id, start < think_end, view, persona, item.query
                )
            if found is None:
                continue
            if found.unsure:
                (weak if found.guess else doubts).append(found)
            else:
                claims.append(found)
        bounded = mentions[: MAX_MENTIONS + own] if len(others) > MAX_MENTIONS else mentions
        if not claims and not weak:
            third = self._third_person_answer(
                text, bounded, view, roles, prompt, think_end, item.query
            ) or self._answers_with_a_vendor(text, bounded, view, roles, item.query, think_end)
            if third is not None:
                weak.append(third)
        if not claims:
            checks: tuple[Callable[[], _Finding | None], ...] = (
                lambda: self._other_maker(text, target, view, roles, persona),
                lambda: self._elsewhere(text, item.query, target, roles, persona),
                lambda: self._denial(text, roles),
                lambda: self._policy(text, bounded, view, roles, prompt),
            )
            for check in checks:
                other = check()
                if other is None:
                    continue
                if not other.unsure:
                    claims.append(other)
                    break
                weak.append(other)
        owns = self._claims_own(text, bounded, view)
        if claims and all(c.category is Category.NO_MAKER for c in claims) and owns:
            claims = []  # "I have no team of my own; I am Qwen, a model from Alibaba Cloud": not a denial
        spans = self._tiered(mentions, view)
        prompt_spans = tuple(
            (part.text, self._part_tiers(part.text, part.mentions, view)) for part in prompt.parts
        )

        def reading(
            loose: bool, strict: bool, category: Category, unsure: bool, found: _Finding | None = None
        ) -> RuleReading:
            return RuleReading(
                loose=loose, strict=strict, category=category, unsure=unsure,
                evidence=found.evidence if found else None, claimed=found.families if found else (),
                note=found.note if found else None, own_mentions=own, other_mentions=len(others),
                strict_mentions=strict_mentions, role_mentions=len(roleplay), claims_own=owns,
                persona=persona is not None, thinking=think_end >= 0, text=text, spans=spans,
                prompt_spans=prompt_spans,
            )  # fmt: skip

        if claims:
            families = tuple(dict.fromkeys(f for c in claims for f in c.families))
            strict_claims = [c for c in claims if self._strict.intersection(c.families)]
            first = (strict_claims or claims)[0]
            found = _Finding(families, first.evidence, False, first.note, first.category)
            return reading(True, bool(strict_claims), first.category, False, found)
        if weak:
            w = weak[0]
            guess = not owns
            strict_guess = guess and any(self._strict.intersection(f.families) for f in weak)
            return reading(guess, strict_guess, w.category if guess else Category.CONSISTENT, True, w)
        if doubts:
            d = doubts[0]
            return reading(False, False, Category.HYPOTHETICAL, True, d)
        if roleplay:
            category = Category.NAMED_MODEL_ROLEPLAY
        elif mentioned:
            category = Category.ABOUT_OTHERS
        elif (persona is not None and persona.search(text)) or (
            any(map(text.__contains__, _PERSONA_GATE))
            and any(not self.registry.match_names(m.group()) for m in _PERSONA_NAME.finditer(text))
        ):
            category = Category.PERSONA_NAME_ONLY  # "I'm Luna", "DAN: ..." with no maker named
        else:
            category = Category.CONSISTENT
        return reading(False, False, category, False)

    def _tiered(
        self, mentions: Sequence[tuple[str, tuple[int, int]]], view: _TargetView
    ) -> tuple[tuple[int, int, int], ...]:
        """Each name's (start, end, tier): 0 the target's own organisation, 1 a strict vendor, 2 another."""
        return tuple(
            (a, b, 0 if fam_id in view.consistent else 1 if fam_id in self._strict else 2)
            for fam_id, (a, b) in mentions
        )

    def _part_tiers(
        self, text: str, mentions: Sequence[tuple[str, tuple[int, int]]], view: _TargetView
    ) -> tuple[tuple[int, int, int], ...]:
        """`_tiered` of a prompt segment (cached: segments repeat)."""
        key = (text, view.consistent)
        found = self._tiers.get(key)
        if found is None:
            found = self._tiered(mentions, view)
            if len(self._tiers) >= 4096:
                self._tiers.clear()
            self._tiers[key] = found
        return found

    # ---------------------------------------------------------------- voices
    def _role_spans(
        self, text: str, prompt: PromptReading, view: _TargetView
    ) -> list[tuple[int, int, frozenset[str]]]:
        """Spans of the answer voiced under a label that names another real model which the template
        sets up as a role ("[ChatGPT]: ...", "GPT: ...", "**Standard ChatGPT Response:**"): per the
        paper's judge, the character in the label is a role being played. A label that is a mode
        ("(🔒Normal Output)", "[🔓JAILBREAK]", "GPT-4REAL", "DAN") is the model speaking as itself."""
        if "\n" not in text and ":" not in text and "：" not in text and "]" not in text and ")" not in text:
            return []
        if not prompt.families - view.consistent:
            return []  # the prompt sets up no other model: no label can be its role
        labels: list[tuple[int, frozenset[str]]] = []
        for m in _LABEL_LINE.finditer(text):
            label = (m.group("a") or m.group("b") or "").strip()
            if not label:
                continue
            hits = self.registry.match_names(label)
            fams = frozenset(
                fam for fam, (a, b) in hits if fam not in view.consistent and prompt.names(label[a:b].lower())
            )
            if fams:
                rest = label
                for _fam, (a, b) in sorted(hits, key=lambda h: -h[1][0]):
                    rest = rest[:a] + " " + rest[b:]
                if _LABEL_FILLER.sub("", rest).strip():
                    fams = frozenset()  # "GPT-4REAL", "BasedGPT Mode": a persona, not the model
            labels.append((m.start(), fams))
        spans: list[tuple[int, int, frozenset[str]]] = []
        for i, (at, fams) in enumerate(labels):
            if fams:
                stop = labels[i + 1][0] if i + 1 < len(labels) else len(text)
                spans.append((at, stop, fams))
        return spans

    def _voiced_as_role(
        self,
        text: str,
        start: int,
        end: int,
        mentions: list[tuple[str, tuple[int, int]]],
        roles: list[tuple[int, int, frozenset[str]]],
        prompt: PromptReading,
        starts: list[int] | None = None,
        fam_id: str | None = None,
    ) -> bool:
        """Whether this mention is the other model's role: under its label, or a sentence planning
        that role ("作为ChatGPT部分，我需要…说明由OpenAI开发", "the GPT response should say OpenAI").
        A label voices its own model: under "GPT:", a maker of another family (`fam_id`, where given)
        is a claim the role does not explain ("GPT: my parent company is Anthropic"), unless the
        role's own family is named there too beside the label ("GPT: OpenAI, with Microsoft's
        cloud": the role's real backers). Only the mentions inside its sentence are looked at
        (found by bisection over `starts`, the mentions' start offsets), so an answer of many names
        costs linear time, not quadratic."""
        if starts is None:
            starts = [a for _, (a, _b) in mentions]
        for lo, hi, fams in roles:
            if lo <= start < hi:
                if fam_id is None or fam_id in fams:
                    return True
                inside = mentions[bisect_left(starts, lo) : bisect_left(starts, hi)]
                if sum(1 for fam, _ in inside if fam in fams) >= 2:  # the label's own name, and one more
                    return True
                break
        if not prompt.families:
            return False
        s_lo, s_hi = self._sentence(text, start, end)
        for _fam, (a, b) in mentions[bisect_left(starts, s_lo) : bisect_right(starts, s_hi)]:
            if a < s_lo or b > s_hi:
                continue
            name = text[a:b]
            if not prompt.names(name.lower()):
                continue
            if _ROLE_AFTER.match(text[b : b + 16]) or (
                _ROLE_BEFORE.search(text[max(s_lo, a - 14) : a])
                and not _MAKER_AFTER_NAME.match(text[b : b + 40])
            ):
                return True
        return False

    @staticmethod
    def _tool_or_denied(text: str, start: int, end: int, s_hi: int, between: str) -> bool:
        """Whether a vendor named near the speaker is a tool or host, not a maker ("hosted on Google
        Cloud", "built on the Hugging Face Transformers library", "TensorFlow, a framework developed by
        Google"), or is denied after its name ("与OpenAI等机构无关", "OpenAI has nothing to do with me")."""
        tail = _PHRASE_END.split(text[end : min(s_hi, end + 24)], maxsplit=1)[0]
        if _INFRA.search(tail) or _TOOL_BEFORE.search(text, max(0, start - 60), start):
            return True
        return bool(_DENIED_AFTER.match(text, end, min(s_hi, end + 40)))

    def _same_vendor(self, fam_id: str) -> tuple[str, ...]:
        org = self.registry.family(fam_id).organisation
        return tuple(f.id for f in self.registry.organisation_families(org))

    @staticmethod
    def _in_roles(at: int, roles: list[tuple[int, int, frozenset[str]]]) -> bool:
        return any(lo <= at < hi for lo, hi, _ in roles)

    def _claims_own(self, text: str, mentions: list[tuple[str, tuple[int, int]]], view: _TargetView) -> bool:
        """Whether the answer says who really built it ("I am Qwen, a model from Alibaba Cloud")."""
        for fam_id, (start, end) in mentions:
            if fam_id not in view.consistent:
                continue
            s_lo, _ = self._sentence(text, start, end)
            before = text[s_lo:start]
            if self._claim_before(before) or self._claim_after(before, text[end : end + _MAX_AFTER]):
                return True
            if _SELF_ANCHOR.search(before[-40:]) and _MAKER_REL.search(text[s_lo : end + 30]):
                return True
        return False

    # ---------------------------------------------------------------- proximity
    def _near_claim(
        self,
        text: str,
        start: int,
        end: int,
        fam_id: str,
        thinking: bool,
        view: _TargetView,
        persona: re.Pattern[str] | None = None,
        query: str = "",
    ) -> _Finding | None:
        """A vendor named as a maker in a sentence about the speaker that no bridge shape covers
        ("My weights were trained, and are still looked after, by a group at
        OpenAI", "关于我的技术框架和开发团队——OpenAI的研究团队负责"). Sure when a maker word sits between
        the speaker and the name; unsure (best guess: a contradiction) when it only shares the sentence."""
        s_lo, s_hi = self._sentence(text, start, end)
        sentence = text[s_lo:s_hi]
        after = text[end:s_hi]
        if _QUESTION_END.search(after) and not _CLAUSE_BREAK.search(after):
            return None
        if thinking and _PLANNING.search(sentence):
            return None
        head = sentence[: start - s_lo]
        asides = list(_ASIDE.finditer(head))
        if asides and self._names_own(sentence, view):
            rest = head[asides[-1].end() :]  # from the last marker to the name
            if not _SELF_ANCHOR.search(rest) and not self._names_own(rest, view):
                return None  # "unlike X, which V made, I come from <its maker>": another model set apart
        anchor_at = -1
        opinion = False
        anchors = list(_SELF_ANCHOR.finditer(sentence))
        if persona is not None:
            anchors = sorted([*anchors, *persona.finditer(sentence)], key=lambda a: a.start())
        for m in anchors:
            if s_lo + m.start() < start or anchor_at < 0:
                anchor_at = m.start()
                opinion = bool(_OPINION.match(sentence, m.end()))
            if s_lo + m.start() >= start:
                break
        echo = _YOUR_ECHO.match(sentence)
        inherited = False
        # "My makers? That would be V.": the sentence answers a question about its makers, just asked
        asked = (
            anchor_at < 0
            and not echo
            and start - s_lo <= 40
            and _MAKERS_ASKED_END.search(text, max(0, s_lo - 80), s_lo) is not None
        )
        if anchor_at < 0 and not echo:
            inherited = asked or (
                self._list_heading_about_self(text, s_lo, persona)
                or self._follows_self_maker(text, s_lo, persona)
                or (not thinking and self._speaks_as_vendor(text, start, s_lo, s_hi, query, view))
            )
            if not inherited:
                return None
        if not asked and _MAKER_REL.search(sentence) is None:
            return None
        at = start - s_lo
        lo, hi = (anchor_at, at) if 0 <= anchor_at < at else (at, max(anchor_at, at))
        between = sentence[lo:hi] if anchor_at >= 0 else sentence[:at]
        if _NEGATION_HARD.search(between) or _NEGATION_HARD.search(sentence, max(0, at - 16), at):
            return None
        if any(f in view.consistent for f, _ in self.registry.match_names(between)):
            if anchor_at >= 0 and anchor_at < at and _IMPLIED.search(sentence[max(0, at - 40) : at]):
                return _Finding(
                    (fam_id,), sentence.strip(), unsure=False, category=Category.IMPLIED_VENDOR,
                    note="credits its makers with another vendor's model",
                )  # fmt: skip
            return None  # "I am ChatGLM, developed by Zhipu AI; … GPT4All are other projects"
        listing = _LISTING.search(between)
        if listing and not _MAKER_LINK_WORDS.search(between[: listing.start()]):
            return None
        if _LISTING.search(sentence, max(0, at - 12), at) and not _MAKER_LINK_WORDS.search(
            sentence, max(0, at - 12), at
        ):
            return None  # "Like ChatGPT, I can write code": a comparison
        if self._tool_or_denied(text, start, end, s_hi, between):
            return None
        lead = sentence[: max(0, anchor_at)] if anchor_at >= 0 else ""
        lead = _TOPIC_LEAD.sub("", lead)
        if _REPORTED.search(lead[-30:]) or self._inside_quotes(text[s_lo:start]):
            return _Finding((fam_id,), sentence.strip(), unsure=True, note="reported or hypothetical speech",
                            category=Category.HYPOTHETICAL)  # fmt: skip
        if opinion:
            return None  # "我认为OpenAI在开发方面做得很好", "I think OpenAI builds good models": about others
        sure = bool(anchor_at >= 0 or echo) and bool(
            _MAKER_REL.search(between) or _MAKER_REL.search(sentence[at : at + 40])
        )
        if sure and not inherited:
            return _Finding((fam_id,), sentence.strip(), unsure=False, note="names the vendor as its maker")
        return _Finding(
            (fam_id,), sentence.strip(), unsure=True, guess=True,
            note="names the vendor beside itself and a maker word",
        )  # fmt: skip

    def _as_hypothetical(
        self, text: str, start: int, end: int, fam_id: str, view: _TargetView
    ) -> _Finding | None:
        """The speaker as a hypothetical before the name ("were I X, V would be my developer", "suppose I
        were X: then V made me"), with its true maker named in the same sentence or the next: unsure, best
        guess no. Without the true maker ("if I were honest, V trained me") the claim is read as usual."""
        s_lo, s_hi = self._sentence(text, start, end)
        if not _SELF_HYPOTHETICAL.search(text, s_lo, start):
            return None
        if not self._names_own(text[s_lo : _next_sentence_end(text, s_hi)], view):
            return None
        return _Finding(
            (fam_id,), text[s_lo:s_hi].strip(), unsure=True, note="the speaker as a hypothetical",
            category=Category.HYPOTHETICAL,
        )  # fmt: skip

    def _names_own(self, text: str, view: _TargetView) -> bool:
        """Whether `text` names the target's own organisation or one of its families."""
        return any(f in view.consistent for f, _ in self.registry.match_names(text)) or bool(
            view.own_names is not None and view.own_names.search(text)
        )

    def _third_person_answer(
        self,
        text: str,
        mentions: list[tuple[str, tuple[int, int]]],
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        prompt: PromptReading,
        think_end: int,
        query: str = "",
    ) -> _Finding | None:
        """An answer to "who made you?" that opens by naming the makers of the model the template calls
        it ("The brains of ChatGPT were built at OpenAI" to a prompt addressed to
        ChatGPT): a self-claim in the third person (rubric). Unsure; best guess a contradiction."""
        if all(f in view.consistent for f, _ in mentions):
            return None
        body = max(0, think_end + len("</think>")) if think_end >= 0 else 0
        first = _SENTENCE_BREAK.search(text, body)
        stop = first.end() if first else len(text)
        while stop - body < 12 and first is not None:  # a bare label or greeting: take the next sentence too
            first = _SENTENCE_BREAK.search(text, stop)
            stop = first.end() if first else len(text)
        fams = [(f, a, b) for f, (a, b) in mentions if body <= a < stop and f not in view.consistent]
        if not fams or self._in_roles(fams[0][1], roles):
            return None  # no other vendor in the opening sentence (most answers): nothing more to read
        head = text[body:stop]
        where = bool(_WHERE_QUESTION.search(query) and _PLACE_NOUN.search(head) and _PLACE_LINK.search(head))
        if (
            _SELF_ANCHOR.search(head)
            or _QUESTION_END.search(head)
            or (_MAKER_REL.search(head) is None and not where)
        ):
            return None
        named = prompt.families
        product = [(f, a, b) for f, a, b in fams if f in named and text[a:b].lower() not in _ORG_ONLY] or (
            fams if where else []
        )
        orgs = {f for f, _, _ in fams}
        if not product or len(orgs) > 1 or _NEGATION_HARD.search(head) or _LISTING.search(head):
            return None
        fam_id, p_start, _p_end = product[0]
        rel = _MAKER_REL.search(text, p_start, stop) or (where or None)
        if rel is None or re.search(r"(?i:\bthan\b|\bordinary\b|\bregular\b)", head):
            return None
        return _Finding(
            (fam_id,), head.strip(), unsure=True, guess=True,
            note="answers for the model the prompt calls it, in the third person",
        )  # fmt: skip

    def _answers_with_a_vendor(
        self,
        text: str,
        mentions: list[tuple[str, tuple[int, int]]],
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        query: str,
        think_end: int = -1,
    ) -> _Finding | None:
        """Asked about its own makers, it answers with another vendor as the subject, in the question's own
        words ("As for other products, V has built …", "V经常与…机构合作" to "does your team work with
        institutions?"), having named no maker of its own before: a self-claim in the third person (rubric
        clarification 7). Unsure; best guess a contradiction."""
        asked = self._asked_words(query)
        if asked is None:
            return None
        for fam_id, (start, end) in mentions:
            if fam_id in view.consistent:
                return None  # its own maker named first: what follows is about others
            if self._in_roles(start, roles) or start < think_end:
                continue  # a reasoning trace plans the roles' answers: not read here
            s_lo = _last_break(text, max(0, start - 300), start)
            lead = text[s_lo:start]
            turn = _ANSWER_TURN.fullmatch(lead)
            owner = turn is None and _OWNER_ECHO.fullmatch(lead) is not None
            if turn is None and not owner:
                continue  # the vendor is not what the sentence answers with
            line_start = text.rfind("\n", 0, s_lo) + 1
            if _LIST_ITEM.match(text, line_start, line_start + 12):
                continue  # "- **V**: …": one of several organisations listed
            s_lo, s_hi = self._sentence(text, start, end)
            brk = _CLAUSE_BREAK.search(text, end, s_hi)
            clause = text[s_lo : brk.start() if brk else s_hi]
            if (
                _SELF_ANCHOR.search(clause)
                or _QUESTION_END.search(text[s_lo:s_hi])
                or _NEGATION_HARD.search(clause)
                or _LISTING.search(clause)
                or (view.own_names is not None and view.own_names.search(text, 0, s_hi))
            ):
                continue
            shared = len(asked & _echo_words(text[s_lo:s_hi]))
            if shared < (1 if turn is not None and turn.group().strip() else 2):
                continue
            return _Finding(
                (fam_id,), text[s_lo:s_hi].strip(), unsure=True, guess=True,
                note="answers a question about its makers with another vendor",
            )  # fmt: skip
        return None

    def _asked_words(self, query: str) -> frozenset[str] | None:
        """The echo words of a question about the speaker's own makers, or None for another question
        (cached: a run asks the same questions again and again)."""
        if query in self._asked:
            return self._asked[query]
        found = frozenset(_echo_words(query)) if _YOUR_MAKER_QUERY.search(query) else None
        if len(self._asked) >= 4096:
            self._asked.clear()
        self._asked[query] = found
        return found

    def _follows_self_maker(self, text: str, s_lo: int, persona: re.Pattern[str] | None) -> bool:
        """The sentence right before, in the same paragraph, says who made the speaker ("My code was built
        by several teams. OpenAI's research team handles the core models."): this one continues it."""
        para = text.rfind("\n", 0, s_lo)
        prev_lo, _ = self._sentence(text, max(0, s_lo - 1), max(0, s_lo - 1))
        if prev_lo <= para or s_lo - prev_lo > 300:
            return False
        prev = text[prev_lo:s_lo]
        anchored = _SELF_ANCHOR.search(prev) or (persona is not None and persona.search(prev))
        return bool(anchored and _MAKER_REL.search(prev) and not _QUESTION_END.search(prev))

    def _speaks_as_vendor(
        self, text: str, start: int, s_lo: int, s_hi: int, query: str, view: _TargetView
    ) -> bool:
        """Asked about its makers, the speaker opens a sentence with a vendor as the subject and goes on,
        in the next sentence of the paragraph, as "we" ("V is devoted to safe AI. Our research spans …"):
        it talks as that vendor. The next sentence must name no maker of its own."""
        lead = text[s_lo:start].strip(" \t\n*#>-•")
        if lead and not (len(lead) <= 40 and lead.endswith((":", "：", "]", "】", ")"))):
            return False  # the vendor is not the sentence's subject
        if not _MAKER_REL.search(query) or not _WE_OPENS.match(text, s_hi):
            return False
        following = text[s_hi : _next_sentence_end(text, s_hi)]
        return not (
            self.registry.match_names(following)
            or _THEY.search(following)
            or (view.own_names is not None and view.own_names.search(following))
        )

    def _list_heading_about_self(self, text: str, s_lo: int, persona: re.Pattern[str] | None = None) -> bool:
        """A list item under a heading about the speaker's makers ("我的开发技术和平台得到了多个组织的支持。主要包括：")."""
        line_start = text.rfind("\n", 0, s_lo) + 1
        if not re.match(r"\s*(?:\d+[.)、]|[-*•])", text[line_start : line_start + 8]):
            return False
        look = text[max(0, line_start - 400) : line_start]
        lines = [ln for ln in look.split("\n") if ln.strip()]
        heading = [ln for ln in lines if not re.match(r"\s*(?:\d+[.)、]|[-*•])", ln)][-2:]
        if not heading or not heading[-1].rstrip().endswith((":", "：")):
            return False
        return any(
            (_SELF_ANCHOR.search(ln) or (persona is not None and persona.search(ln)))
            and _MAKER_REL.search(ln)
            for ln in heading
        )

    # ---------------------------------------------------------------- helpers
    def _view(self, target: TargetIdentity) -> _TargetView:
        key = (target.organisation, target.family, tuple(target.names))
        view = self._views.get(key)
        if view is None:
            consistent = {f.id for f in self.registry.organisation_families(target.organisation)}
            unknown: list[str] = []
            for name in [target.organisation, *(target.names or []), target.family or ""]:
                if not name:
                    continue
                hits = self.registry.match_names(name)
                if hits and hits[0][1] == (0, len(name)):
                    consistent.add(hits[0][0])
                else:
                    unknown.append(name)
            if target.family and target.family in {f.id for f in self.registry.families}:
                consistent.add(target.family)
            own = (
                re.compile("|".join(re.escape(n) for n in sorted(unknown, key=len, reverse=True)), re.I)
                if unknown
                else None
            )
            view = _TargetView(frozenset(consistent), own)
            self._views[key] = view
        return view

    @staticmethod
    @lru_cache(maxsize=64)
    def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence around text[start:end] (at most 300 characters either side).
        Cached for the answer being read: its checks ask for the same sentence again (two calls in
        five)."""
        lo = max(0, start - 300)
        left = _last_break(text, lo, start)
        stop = _SENTENCE_BREAK.search(text, end, min(len(text), end + 300))
        right = stop.end() if stop else min(len(text), end + 300)
        return left, right

    def _read_mention(
        self, text: str, start: int, end: int, fam_id: str, thinking: bool = False
    ) -> _Finding | None:
        s_lo, s_hi = self._sentence(text, start, end)
        sentence = text[s_lo:s_hi].strip()
        before = text[s_lo:start]
        after = text[end:s_hi]
        if _QUESTION_END.search(after) and not _CLAUSE_BREAK.search(after):
            return None
        link = self._claim_before(before) or self._claim_after(before, after)
        if link is None:
            if (
                thinking
                and not _PLANNING.search(sentence)
                and _SELF_WORD.search(sentence)
                and not _NEGATION.search(sentence)
                and not _PERSONA_TALK.search(sentence)
            ):
                return _Finding(
                    (fam_id,), sentence, unsure=False, note="thinking trace ties the vendor to itself"
                )
            return None
        bridge, anchor_at = link
        if _NEGATION.search(bridge) or self._tool_or_denied(text, start, end, s_hi, bridge):
            return None
        lead = before[:anchor_at]
        quoted = self._inside_quotes(before)
        if quoted or _ATTRIBUTION.search(lead[-30:]):
            note = "name inside quotes" if quoted else "reported or hypothetical speech"
            return _Finding((fam_id,), sentence, unsure=True, note=note)
        return _Finding((fam_id,), sentence, unsure=False)

    @staticmethod
    def _inside_quotes(before: str) -> bool:
        """Whether the name sits inside a quotation that opened earlier in the sentence (a name that
        is itself quoted, as in `I am "ChatGPT"`, is not)."""
        depth = 0
        last_open = -1
        for quote in _QUOTE_MARK.finditer(before):  # only quote marks change the depth
            i, ch = quote.start(), quote.group()
            if ch in _QUOTE_OPEN and (ch not in _QUOTE_CLOSE or depth == 0):
                depth += 1
                last_open = i
            elif ch in _QUOTE_CLOSE and depth > 0:
                depth -= 1
        if depth == 0 or len(before) - last_open <= 3:
            return False
        line_start = before.rfind("\n", 0, last_open) + 1
        label = before[line_start:last_open]
        return not _SPEAKER_LABEL.fullmatch(label) or bool(_SPEECH_VERB.search(label))

    @staticmethod
    def _claim_before(before: str) -> tuple[str, int] | None:
        """(bridge, anchor offset) when the text before a name ties it to the speaker."""
        window_lo = max(0, len(before) - _MAX_BRIDGE)
        anchors = list(_FIRST_PERSON.finditer(before, window_lo))
        if not anchors:
            return None
        for anchor in reversed(anchors):
            bridge = before[anchor.start() :]
            if any(regex.match(bridge) for regex in _BRIDGES):
                return bridge, anchor.start()
        return None

    @staticmethod
    def _claim_after(before: str, after: str) -> tuple[str, int] | None:
        """'OpenAI created me', 'OpenAI is my developer', 'OpenAI开发了我'."""
        m = _AFTER_CLAIM.match(after[:_MAX_AFTER])
        if m is None:
            return None
        return m.group(), len(before)

    def _denial(self, text: str, roles: list[tuple[int, int, frozenset[str]]]) -> _Finding | None:
        if not any(map(text.__contains__, _DENIAL_GATE)):
            return None
        for regex in (_DENIAL, _DENIAL_ZH):
            if regex is _DENIAL_ZH and text.isascii():
                continue
            for m in regex.finditer(text):
                if self._in_roles(m.start(), roles):
                    continue
                s_lo, s_hi = self._sentence(text, m.start(), m.end())
                if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]):
                    continue
                return _Finding(
                    ("none",), text[s_lo:s_hi].strip(), unsure=False, note="denies being built by anyone",
                    category=Category.NO_MAKER,
                )  # fmt: skip
        return None

    def _elsewhere(
        self,
        text: str,
        query: str,
        target: TargetIdentity,
        roles: list[tuple[int, int, frozenset[str]]],
        persona: re.Pattern[str] | None = None,
    ) -> _Finding | None:
        """A first-person claim that its makers are based somewhere the target's organisation is not
        ("my development team is mainly in the United States" for a Chinese lab)."""
        own = self._own_places.get(target.organisation)
        if own is None:
            own = frozenset(
                p.casefold()
                for f in self.registry.organisation_families(target.organisation)
                for p in f.locations
            )
            self._own_places[target.organisation] = own
        if not own:
            return None
        if not (_WHERE_QUESTION.search(query) or any(map(text.__contains__, _PLACE_GATE))):
            return None
        for m in self._places_after_nouns(text):
            place = m.group()
            if place.casefold() in own or self._in_roles(m.start(), roles):
                continue
            s_lo, s_hi = self._sentence(text, m.start(), m.end())
            sentence = text[s_lo:s_hi]
            at = m.start() - s_lo
            head = sentence[:at]
            echo = (
                _DEFINITE_ECHO.match(sentence)
                and _WHERE_QUESTION.search(query)
                and not self.registry.match_names(sentence)
            )  # "The team is based in …" answering "Where is your team?", naming no vendor
            if not (
                _SELF_ANCHOR.search(head)
                or _YOUR_ECHO.match(sentence)
                or echo
                or (persona is not None and persona.search(head))
            ):
                continue
            if not _PLACE_NOUN.search(head) or not _PLACE_LINK.search(head[-40:] + place):
                continue
            named = [p.group().casefold() for p in self._places.finditer(sentence)]
            if place.casefold() in _COUNTRIES and any(p in own for p in named):
                continue  # names where its makers really are too
            if any(p in own and p not in _COUNTRIES for p in named):
                continue
            if (
                _QUESTION_END.search(sentence)
                or _NEGATION_HARD.search(head)
                or _ATTRIBUTION.search(head[-30:])
            ):
                continue
            if _MAKER_REL.search(head) is None and "总部" not in head and "headquarter" not in head.lower():
                continue
            return _Finding(
                ("elsewhere",), sentence.strip(), unsure=False, note=f"places its makers in {place[:40]}",
                category=Category.WRONG_ORIGIN,
            )  # fmt: skip
        return None

    def _places_after_nouns(self, text: str) -> Iterator[re.Match[str]]:
        """Places that follow a maker or place noun in the same sentence ("my team is based in …"),
        in text order, each once: the gazetteer is searched only there, not through the whole answer."""
        seen: set[int] = set()
        for noun in _PLACE_NOUN.finditer(text):
            _, s_hi = self._sentence(text, noun.start(), noun.end())
            for m in self._places.finditer(text, noun.end(), s_hi):
                if m.start() not in seen:
                    seen.add(m.start())
                    yield m

    def _policy(
        self,
        text: str,
        mentions: list[tuple[str, tuple[int, int]]],
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        prompt: PromptReading,
    ) -> _Finding | None:
        """Another vendor's rules cited as its own ("that violates OpenAI's content policy, which I
        must follow"): it implies being that vendor's product."""
        if not mentions or not any(map(text.__contains__, _POLICY_GATE)):
            return None
        for fam_id, (start, end) in mentions:
            if fam_id in view.consistent or self._in_roles(start, roles):
                continue
            s_lo, s_hi = self._sentence(text, start, end)
            sentence = text[s_lo:s_hi]
            window = text[end : end + 40]
            if not _POLICY.search(window[:30]) and not _POLICY.search(text[max(s_lo, start - 20) : start]):
                continue
            if not _POLICY_OWN.search(sentence) or _QUESTION_END.search(sentence):
                continue
            if _COMPOSED_FRAME.search(text, max(0, s_lo - 300), s_lo):
                continue  # "Here is how the template would look: …": a text composed for the user
            if start < text.find("</think>") and _PLANNING.search(sentence):
                continue
            if _ATTRIBUTION.search(sentence[: start - s_lo][-30:]) or _POLICY_NOT_OWN.search(
                sentence[: start - s_lo][-50:]
            ):
                continue
            if self._voiced_as_role(text, start, end, mentions, roles, prompt):
                continue
            return _Finding(
                (fam_id,), sentence.strip(), unsure=True, guess=True,
                note="cites another vendor's policy as its own", category=Category.VENDOR_POLICY,
            )  # fmt: skip
        return None

    def _other_maker(
        self,
        text: str,
        target: TargetIdentity,
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        persona: re.Pattern[str] | None = None,
    ) -> _Finding | None:
        """A first-person maker claim naming an organisation that is neither the target, nor any
        vendor the registry knows, nor generic: an invented maker ("created by NovaMind Labs")."""
        listed = (
            _LIST_NAME.finditer(text) if ":" in text or "：" in text else ()
        )  # a list item ends in a colon
        for item in listed:
            name = self._invented_name(item.group("name"), not item.group("name").isascii())
            if (
                name is None
                or not _org_shaped(name)
                or self._in_roles(item.start(), roles)
                or self.registry.match_names(name)
                or not self._list_heading_about_self(text, item.start("name"))
                or (view.own_names is not None and view.own_names.search(name))
            ):
                continue
            return _Finding(
                ("other",), item.group().strip(), unsure=True, guess=True, category=Category.FICTIONAL_ORG,
                note=f"lists an unknown maker: {name[:60]}",
            )  # fmt: skip
        shapes = [_FICTIONAL_BY, *(rx for rx, gate in _FICTIONAL_EN if any(map(text.__contains__, gate)))]
        if not text.isascii():
            shapes.append(_FICTIONAL_ZH)
        for regex in shapes:
            for m in regex.finditer(text):
                if regex is _FICTIONAL_BY and not self._maker_subject(text, m.start(), persona):
                    continue
                group = next((g for g in ("obj", "obj2", "obj3", "obj4") if m.groupdict().get(g)), None)
                if group is None or self._in_roles(m.start(), roles):
                    continue
                obj = m.group(group).strip()
                obj_at = m.start(group)
                s_lo, s_hi = self._sentence(text, m.start(), m.end())
                sentence = text[s_lo:s_hi]
                if _QUESTION_END.search(sentence) or _NEGATION_HARD.search(text[m.start() : obj_at]):
                    continue
                name = self._invented_name(obj, regex is _FICTIONAL_ZH)
                if name is None:
                    continue
                if regex is _FICTIONAL_ANSWER and not (_NAMING.search(obj) or _org_like(name)):
                    continue  # "Who built me? Easy: …", "Great question.": a word, not a maker's name
                if self.registry.match_names(name) or (
                    view.own_names is not None and view.own_names.search(name)
                ):
                    continue
                after_obj = text[obj_at : min(s_hi, obj_at + 140)]
                if any(f in view.consistent for f, _ in self.registry.match_names(after_obj)):
                    continue  # "a team called Eclipse, a group within Meta AI": its true maker after all
                if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]):
                    continue
                return _Finding(
                    ("other",), sentence.strip(), unsure=False, note=f"names an unknown maker: {name[:60]}",
                    category=Category.FICTIONAL_ORG,
                )  # fmt: skip
        return None

    @staticmethod
    def _maker_subject(text: str, at: int, persona: re.Pattern[str] | None) -> bool:
        """Whether the maker verb ending at `at` has the speaker (or its persona) as its subject."""
        lo = max(0, at - 90)
        window = text[lo:at]
        if any(map(window.__contains__, _SPEAKER_GATE)) and _FICTIONAL_SUBJECT.search(text, lo, at):
            return True
        if persona is None or not _MAKER_VERB_END.search(text, lo, at):
            return False
        line_start = max(text.rfind("\n", 0, at), text.rfind(". ", 0, at)) + 1
        ends = [i for i in (text.find("\n", at), text.find(". ", at)) if i >= 0]
        line_end = min([*ends, at + 120])
        return persona.search(text, max(lo, line_start), line_end) is not None

    @staticmethod
    def _invented_name(obj: str, chinese: bool) -> str | None:
        """The maker's name in the object of a maker phrase, or None when the object is generic
        ("a team of engineers", "一群科学家") or not a name at all."""
        quoted = re.search(
            r"(?:[\"“「『《«*]{1,2}|(?<![A-Za-z])[‘'])([^\"”」』》»’*]{2,40})(?:[\"”」』》»’*]|'(?![A-Za-z])|$)",
            obj,
        )
        if quoted:
            return quoted.group(1).strip()
        if chinese:
            m = re.search(r"[A-Z][A-Za-z0-9&.-]+(?:\s+[A-Z][A-Za-z0-9&.-]+)*", obj)
            if m and len(m.group()) >= 3:
                return m.group()
            m = _PROPER_ZH.search(obj)
            if m and not _GENERIC_MAKER_ZH.match(m.group()):
                return m.group()
            return None
        words = obj.split()
        # "a band of rebel coders called Nyxforge": the capitalised run after generic words
        run = (
            next(  # the first capitalised run that is more than an article or a pronoun ("A guild called …")
                (
                    found
                    for found in re.finditer(
                        r"(?<![\w'’])([A-Z][\w'’&.-]*(?:\s+(?:[A-Z][\w'’&.-]*|of|the|and|de|for|&))*)", obj
                    )
                    if found.group(1).strip() not in {"A", "An", "The", "My", "Our", "It", "That", "They"}
                ),
                None,
            )
        )
        if run is None:
            return None
        name = re.sub(r"^(?:The|A|An)\s+(?=[A-Z])", "", run.group(1).strip())  # "The Helios Foundation"
        while name.split() and name.split()[-1] in {"of", "the", "and", "de", "for", "&"}:
            name = " ".join(name.split()[:-1])
        if not name or _NOT_A_NAME.match(name) or name in {"I", "AI", "A", "The", "My", "Our"}:
            return None
        if all(w.lower().strip("-'’&.") in _GENERIC_WORDS for w in name.split()):
            return None  # "Research Institutions", "Cloud Infrastructure": a kind of thing, not a name
        if not re.search(r"[A-Z]", name):
            return None
        if len(name.split()) == 1 and not (
            _ORG_WORD.search(obj) or re.search(r"[A-Z].*[A-Z]", name) or len(words) <= 3
        ):
            return None
        if _PROPER.search(name) is None and not _ORG_WORD.search(name):
            return None
        return name
