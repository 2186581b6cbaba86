"""The identity registry: who builds which model family, under every name people use for it.

ICE needs two things from it: the target's true identity (from a model name, an organisation as a
user writes it, or a declared `identity:` in the config), and a fast way to find family and vendor
names inside a response (`match_names`), in Latin and CJK text alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from distillscope.errors import UserError, clip
from distillscope.ice.types import TargetIdentity
from distillscope.ice.user_patterns import UserPattern, compile_user_pattern
from distillscope.models.base import ModelIdentity
from distillscope.naming import Naming, flag
from distillscope.records import parse_yaml, read_text

STRICT_VENDOR_CLASSES = frozenset({"openai", "anthropic"})

_LATIN = re.compile(r"[A-Za-z0-9]")
# Runs of Latin letters or digits: a superset of the text's word starts (positions are checked per hit).
_TOKEN = re.compile(r"[a-z\u00df-\u024f]+|\d+")
# The same runs in ASCII text, found faster: letters by one translate + split, digits by a regex.
_ASCII_NON_LETTERS = bytes(c if 97 <= c <= 122 else 32 for c in range(256))  # a-z kept, the rest " "
_DIGITS = re.compile(r"\d+")
_LATIN_EXTENDED = re.compile(r"[\u00df-\u024f]")  # the letters of `_TOKEN` beyond ASCII
SHORT_TEXT = 200  # characters: `match_names` remembers what it found in texts up to this long
# Suffixes people add to an organisation's name that do not change who it is.
_ORG_SUFFIXES = (
    "incorporated", "corporation", "company", "limited", "cloud", "group", "inc", "corp", "ltd", "llc",
    "co", "labs", "lab", "research", "ai", "technologies", "technology", "tech", "公司", "集团", "科技",
)  # fmt: skip


class Family(BaseModel):
    """One model family and the organisation behind it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    organisation: str
    org_aliases: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    vendor_class: str = "other"
    locations: list[str] = Field(default_factory=list)

    @field_validator("organisation")
    @classmethod
    def _organisation_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("org_aliases", "names", "locations")
    @classmethod
    def _no_blank_names(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not value.strip():
                raise ValueError(f"item {i} is empty (every name needs a visible character)")
        return values

    @property
    def display_name(self) -> str:
        return self.names[0] if self.names else self.id

    @property
    def strict(self) -> bool:
        """Whether a claim to be this family counts for the strict score (OpenAI / Anthropic)."""
        return self.vendor_class in STRICT_VENDOR_CLASSES


class _FamilyFile(BaseModel):
    families: list[Family]


def _squeeze(name: str) -> str:
    """Lookup key of a name: lower case, no spaces ("Chat GPT" and "ChatGPT" are one name)."""
    return "".join(name.lower().split())


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _edges_ok(text: str, start: int, end: int) -> bool:
    """Latin names must not continue a word on the left, nor run into letters on the right."""
    if _is_word_char(text[start]) and start > 0 and _is_word_char(text[start - 1]):
        return False
    return not (
        _is_word_char(text[end - 1])
        and end < len(text)
        and text[end].isascii()
        and (text[end].isalpha() or text[end] == "_")
    )


def _first_word_regex(first: str, names: list[str]) -> re.Pattern[str]:
    """One regex for the (lower-cased) names that start with the word `first`, longest first, spaces
    matching any whitespace. The word leads the pattern and its left edge is checked *after* it, so
    the scanner can jump between occurrences of the word instead of trying every position."""
    word = re.escape(first)
    rests = []
    for name in names:
        alt = r"\s+".join(map(re.escape, name.split()))
        if not alt.startswith(word):
            raise ValueError(f"name {name!r} does not start with its first word {first!r}")
        rests.append(alt[len(word) :])
    return re.compile(word + r"(?<![a-z0-9_]" + word + r")(?:" + "|".join(rests) + r")(?![a-z_])")


def _literal_prefix(pattern: str) -> str:
    """The lower-cased literal a pattern must start with ("(?i:gpt)…" -> "gpt"), or "" when unknown."""
    m = re.match(r"(?:\(\?i:)?([A-Za-z0-9]+)", pattern)
    return m.group(1).lower() if m else ""


def normalise_org(text: str) -> str:
    """Case, width, spacing and punctuation-insensitive key for an organisation or family name."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _org_keys(text: str) -> set[str]:
    """The key of `text`, and the keys with common company suffixes removed ("Zhipu AI" -> "zhipu")."""
    words = unicodedata.normalize("NFKC", text).casefold().replace(".", " ").replace(",", " ").split()
    keys = {normalise_org(text)}
    while len(words) > 1 and words[-1].strip("().") in _ORG_SUFFIXES:
        words = words[:-1]
        keys.add(normalise_org(" ".join(words)))
    key = normalise_org(text)
    for suffix in ("公司", "集团", "科技"):
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            keys.add(key[: -len(suffix)])
    keys.discard("")
    return keys


class IdentityRegistry:
    """Families, organisations and a compiled matcher over all their names."""

    def __init__(
        self, families: Iterable[Family], user_patterns: dict[str, UserPattern] | None = None
    ) -> None:
        self.families: list[Family] = list(families)
        # patterns from users' files, compiled time-boxed (`user_patterns`); the builtin ones with `re`
        self._user_patterns = dict(user_patterns or {})
        self._by_id = {f.id: f for f in self.families}
        self._org_families: dict[str, list[Family]] = {}
        for fam in self.families:
            self._org_families.setdefault(fam.organisation, []).append(fam)
        self._org_index: dict[str, str] = {}  # normalised alias -> organisation
        self._family_index: dict[str, Family] = {}  # normalised product name -> family
        for fam in self.families:
            for alias in [fam.organisation, *fam.org_aliases]:
                for key in _org_keys(alias):
                    self._org_index.setdefault(key, fam.organisation)
            for name in [fam.id, *fam.names]:
                self._family_index.setdefault(normalise_org(name), fam)
        self._compile()

    # ---------------------------------------------------------------- construction
    @classmethod
    @functools.cache
    def builtin(cls) -> IdentityRegistry:
        """The families shipped with distillscope (cached: build once per process)."""
        text = resources.files("distillscope.ice").joinpath("data/identities.yaml").read_text("utf-8")
        return cls(cls._parse(text, "identities.yaml (builtin)"))

    @classmethod
    def load(cls, path: str | Path | None = None) -> IdentityRegistry:
        """The builtin families, extended by the user's file (`--identities FILE`) when given."""
        builtin = cls.builtin()
        return builtin if path is None else builtin.extended(path)

    def extended(self, path: str | Path) -> IdentityRegistry:
        """A new registry with the families of a user YAML file added (same layout as the builtin
        file: `families: [{id, organisation, org_aliases, names, patterns, vendor_class}]`). An entry
        whose id already exists adds its aliases to that family."""
        p = Path(path)
        extra = self._parse(read_text(p, "identity file"), str(p))
        user_patterns = dict(self._user_patterns)
        for fam in extra:
            for i, pattern in enumerate(fam.patterns):
                if pattern not in user_patterns:
                    user_patterns[pattern] = compile_user_pattern(pattern, str(p), f"{fam.id}.patterns[{i}]")
        merged = {f.id: f.model_copy(deep=True) for f in self.families}
        for fam in extra:
            old = merged.get(fam.id)
            if old is None:
                merged[fam.id] = fam
                continue
            for attr in ("org_aliases", "names", "patterns", "locations"):
                values: list[str] = getattr(old, attr)
                values.extend(v for v in getattr(fam, attr) if v not in values)
        return IdentityRegistry(merged.values(), user_patterns)

    @staticmethod
    def _parse(text: str, where: str) -> list[Family]:
        data: Any = parse_yaml(text, where)
        try:
            families = _FamilyFile.model_validate(data).families
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(part) for part in err["loc"])
            raise UserError.at(where, f"{err['msg']}", field=loc) from exc
        return families

    def _compile(self) -> None:
        """Lookup tables over every lower-cased name (matched against the lower-cased text), plus one
        alternation of the families' case-sensitive patterns. Word edges are checked after matching."""
        plain: dict[str, Family] = {}
        capitalised: set[str] = set()
        for fam in self.families:
            for name in [*fam.names, *fam.org_aliases, fam.organisation]:
                key = _squeeze(name)
                plain.setdefault(key, fam)
                if re.fullmatch(r"[A-Z][a-z]+", name):  # an ordinary word too ("Claude", "Meta")
                    capitalised.add(key)
        self._plain = plain
        self._capitalised = capitalised
        lowered = {
            " ".join(n.lower().split())
            for fam in self.families
            for n in [*fam.names, *fam.org_aliases, fam.organisation]
        }
        # Latin names are found by their first word, CJK names by their first character: which of
        # those occur at all is one set intersection, and only those are located.
        by_first: dict[str, list[str]] = {}
        other: list[str] = []
        for name in lowered:
            first = _TOKEN.match(name)
            if first is None:
                other.append(name)
            else:
                by_first.setdefault(first.group(), []).append(name)
        self._by_first = {k: sorted(v, key=len, reverse=True) for k, v in by_first.items()}
        self._first_words = frozenset(self._by_first)
        self._first_words_ascii = {w.encode(): w for w in self._first_words if w.isascii()}
        self._digit_first_words = tuple(sorted(w for w in self._first_words if w.isdigit()))
        self._short_texts: dict[str, tuple[tuple[str, tuple[int, int]], ...]] = {}
        # compiled on first use: a run meets a few dozen of the ~150 first words, and compiling
        # them all cost every process start ~30 ms
        self._first_regex: dict[str, re.Pattern[str]] = {}
        by_char: dict[str, list[str]] = {}
        for name in other:
            by_char.setdefault(name[0], []).append(name)
        self._by_first_char = {k: sorted(v, key=len, reverse=True) for k, v in by_char.items()}
        # One character class of every first character: the C scanner finds where a CJK name may
        # start, and only those positions are tried.
        self._cjk_starts = (
            re.compile("[" + "".join(re.escape(ch) for ch in sorted(self._by_first_char)) + "]")
            if self._by_first_char
            else None
        )
        # Each pattern on its own (never joined into one alternation, where two families' group
        # names or a global flag would clash); a user's pattern time-boxed (`ice.user_patterns`).
        self._patterns: list[tuple[Any, Family]] = [
            (self._user_patterns.get(p) or re.compile(p), fam) for fam in self.families for p in fam.patterns
        ]
        # Each pattern runs only when its leading literal (lower-cased) occurs in the text at all.
        # A user's pattern scans the whole text in one time-boxed call (no gate: its time box then
        # bounds the text, not each place the gate occurs).
        self._gated_patterns = [
            ("" if isinstance(regex, UserPattern) else _literal_prefix(regex.pattern), regex, fam)
            for regex, fam in self._patterns
        ]
        # Model names ("qwen2.5-7b-instruct", "llama3.1-70b"): names may run straight into a version.
        # Matched against the lower-cased name: a case-insensitive alternation of ~190 names took
        # ~20 ms to compile, this one ~3 ms.
        model_names = sorted(
            {n.lower() for f in self.families for n in [f.id, *f.names]}, key=len, reverse=True
        )
        self._name_regex = re.compile(
            "|".join(
                (r"(?<![a-z])" if _LATIN.match(n[0]) else "")
                + re.escape(n)
                + (r"(?![a-z])" if _LATIN.match(n[-1]) else "")
                for n in model_names
            )
        )

    def _model_match(self, part: str, at_start: bool = False) -> str | None:
        """The leftmost family pattern or model name in `part` (a pattern first where both start);
        with `at_start`, only one that begins `part`."""
        found = (
            None  # the leftmost pattern match; at one position, the first pattern (as an alternation would)
        )
        for regex, _ in self._patterns:
            hit = regex.match(part) if at_start else regex.search(part)
            if hit is not None and (found is None or hit.start() < found.start()):
                found = hit
        low = part.lower()
        name = self._name_regex.match(low) if at_start else self._name_regex.search(low)
        if name is not None and (found is None or name.start() < found.start()):
            same_length = len(low) == len(part)  # lower() keeps positions but for rare letters (İ)
            return part[name.start() : name.end()] if same_length else name.group()
        return found.group() if found is not None else None

    # ---------------------------------------------------------------- lookups
    def family(self, family_id: str) -> Family:
        return self._by_id[family_id]

    def family_of(self, matched: str) -> Family | None:
        """The family a matched name belongs to."""
        fam = self._plain.get(_squeeze(matched))
        if fam is not None:
            return fam
        for regex, candidate in self._patterns:
            if regex.fullmatch(matched):
                return candidate
        return self._family_index.get(normalise_org(matched))

    def _first_words_in(self, low: str) -> frozenset[str]:
        """The registry's first words that are whole runs of letters (or of digits) in `low`."""
        if not low.isascii() and _LATIN_EXTENDED.search(low):
            return self._first_words.intersection(_TOKEN.findall(low))
        # With no letter of ß-ɏ, the letter runs are the ASCII ones, each other character ending a
        # run: so every non-ASCII character may become "?", and the runs are found on bytes (each
        # step one C pass).
        runs = low.encode("ascii", "replace").translate(_ASCII_NON_LETTERS).split()
        ascii_words = self._first_words_ascii
        found = frozenset(ascii_words[w] for w in ascii_words.keys() & runs)
        if any(map(low.__contains__, self._digit_first_words)):
            found = found.union(self._first_words.intersection(_DIGITS.findall(low)))
        return found

    def warm_jobs(self) -> list[Callable[[], object]]:
        """One job per name pattern not compiled yet (`match_names` compiles them as it meets
        their first words): for a run to do ahead, in the lulls of its traffic."""
        return [functools.partial(self._first_word_pattern, first) for first in self._by_first]

    def _first_word_pattern(self, first: str) -> re.Pattern[str]:
        regex = self._first_regex.get(first)
        if regex is None:
            regex = self._first_regex[first] = _first_word_regex(first, self._by_first[first])
        return regex

    def match_names(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """Every family or organisation name in `text`: (family id, (start, end)), in text order.
        A Latin name must not touch a letter or digit on its left, nor a letter on its right (a
        version may follow: "Qwen2.5"); CJK names match anywhere (Chinese has no word edges).
        Short texts (a candidate maker's name, a window of an answer) are remembered: the judge asks
        about the same few again and again (two calls in three)."""
        if len(text) > SHORT_TEXT:
            return self._match_names(text)
        found = self._short_texts.get(text)
        if found is None:
            if len(self._short_texts) >= 4096:
                self._short_texts.clear()
            found = self._short_texts[text] = tuple(self._match_names(text))
        return list(found)

    def _match_names(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        low = text.lower()
        if len(low) != len(text):  # a few characters lower-case into two; keep offsets aligned
            low = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
        found: list[tuple[int, int, Family]] = []
        plain = self._plain
        capitalised = self._capitalised
        # Which first words occur at all is one C-level set intersection; only those are located.
        # The word-edge rule needs no check here: each regex's look-arounds on the lower-cased text
        # already reject an ASCII word character on the left and an ASCII letter on the right.
        for first in self._first_words_in(low):
            regex = self._first_regex.get(first) or self._first_word_pattern(first)
            for hit in regex.finditer(low):
                start, end = hit.span()
                key = _squeeze(hit.group())
                if key in capitalised:
                    word = text[start:end]
                    if not (word.istitle() or word.isupper()):
                        continue
                fam = plain.get(key)
                if fam is not None:
                    found.append((start, end, fam))
        if self._cjk_starts is not None and not text.isascii():
            by_first_char = self._by_first_char
            for first_char in self._cjk_starts.finditer(low):
                at = first_char.start()
                for name in by_first_char[first_char.group()]:
                    if low.startswith(name, at):
                        end = at + len(name)
                        if _edges_ok(text, at, end):
                            key = _squeeze(name)
                            fam = plain.get(key)
                            if fam is not None and (
                                key not in capitalised or text[at:end].istitle() or text[at:end].isupper()
                            ):
                                found.append((at, end, fam))
                        break
        for gate, regex, fam in self._gated_patterns:
            if len(gate) < 2:  # no useful literal: let the regex scan
                matches = list(regex.finditer(text))
            else:  # try the regex only where its literal occurs
                matches = []
                at = low.find(gate)
                while at >= 0:
                    m = regex.match(text, at)
                    if m is not None:
                        matches.append(m)
                    at = low.find(gate, at + 1)
            for m in matches:
                start, end = m.span()
                if end > start and _edges_ok(text, start, end):
                    found.append((start, end, fam))
        if not found:
            return []
        found.sort(key=lambda t: (t[0], -t[1]))
        out: list[tuple[str, tuple[int, int]]] = []
        last_end = -1
        for start, end, fam in found:
            if start >= last_end:
                out.append((fam.id, (start, end)))
                last_end = end
        return out

    def organisation_families(self, organisation: str) -> list[Family]:
        return list(self._org_families.get(organisation, []))

    def identity_of(self, organisation: str, family: Family | None = None) -> TargetIdentity:
        """The TargetIdentity of a known organisation (and optionally one of its families)."""
        fams = self._org_families[organisation]
        main = family or fams[0]
        names: list[str] = []
        for fam in fams:
            for name in [fam.organisation, *fam.org_aliases, *fam.names]:
                if name not in names:
                    names.append(name)
        products = ", ".join(dict.fromkeys(f.display_name for f in ([main, *fams])))
        local = [n for n in main.names if not _LATIN.match(n[0])][:1]
        if local:
            products += f" ({local[0]})"
        statement = f"You were developed by {organisation}; your model family is {products}."
        return TargetIdentity(organisation=organisation, family=main.id, names=names, statement=statement)

    def for_model(self, model_name: str, *, at_start: bool = False) -> TargetIdentity | None:
        """The identity of a model given its name as APIs and hubs write it ("glm-4-plus",
        "Qwen/Qwen2.5-72B-Instruct", "llama3.1-70b-instruct"), or None when no family matches.
        The repository part after a "/" is tried first: it names the model, the part before it
        may only name who uploaded it. With `at_start` the family must begin the name: a
        derivative puts its own name first ("h2ogpt-oasst-...", "snorkel-mistral-..."), and is
        then not read as the family it merely mentions."""
        parts = model_name.strip().split("/")
        for part in [parts[-1], *reversed(parts[:-1])]:
            matched = self._model_match(part, at_start)
            if matched is None:
                continue
            fam = self.family_of(matched) or self._family_index.get(normalise_org(matched))
            if fam is None:
                for regex, candidate in self._patterns:
                    if regex.fullmatch(matched):
                        fam = candidate
                        break
            if fam is not None:
                return self.identity_of(fam.organisation, fam)
        return None

    def find_org(self, text: str) -> TargetIdentity | None:
        """Like `for_org`, but None for an unknown organisation."""
        for key in _org_keys(text):
            org = self._org_index.get(key)
            if org is not None:
                return self.identity_of(org)
            fam = self._family_index.get(key)
            if fam is not None:
                return self.identity_of(fam.organisation, fam)
        return None

    def for_org(self, text: str, name: Naming = flag) -> TargetIdentity:
        """The identity of an organisation as people write it ("OpenAI", "Zhipu AI", "阿里巴巴"),
        matched case- and alias-insensitively. Unknown -> UserError that says how to declare it
        (naming the settings as `name` does)."""
        found = self.find_org(text)
        if found is None:
            known = ", ".join(sorted(self._org_families)[:12])
            raise UserError(
                f"unknown organisation {clip(repr(text))}: use {name('target_org')} with a known name (e.g. {known}, ...), "
                f"or declare the target in the {name('config')} YAML as `identity: {{organisation: ..., family: ...}}`"
            )
        return found

    def resolve(
        self,
        model_name: str | None = None,
        org: str | None = None,
        declared: ModelIdentity | None = None,
        name: Naming = flag,
    ) -> TargetIdentity:
        """The target's identity, by the one precedence every command uses: `org` (the command
        line's `--target-org`) wins, then `declared` (the config's `identity:`, or a log's
        `target_org` column), then the registry by model name. The command line overrides the
        files it points at, as everywhere else. `org` must be an organisation the registry knows;
        a declared organisation it does not know is taken as given (that is how users describe a
        model we have never heard of)."""
        if org:
            return self.for_org(org, name)
        if declared is not None and (declared.organisation or declared.family):
            return self._declared(declared)
        if model_name:
            found = self.for_model(model_name)
            if found is not None:
                return found
            raise UserError(
                f"cannot tell who built model {clip(repr(model_name))}: pass {name('target_org', 'ORGANISATION')}, or "
                f"declare `identity: {{organisation: ..., family: ...}}` for it in the {name('config')} YAML"
            )
        raise UserError(
            f"no target identity: pass {name('target_org', 'ORGANISATION')}, or declare "
            f"`identity: {{organisation: ..., family: ...}}` in the {name('config')} YAML"
        )

    def _declared(self, declared: ModelIdentity) -> TargetIdentity:
        fam = self._family_index.get(normalise_org(declared.family)) if declared.family else None
        if declared.organisation:
            known = self.find_org(declared.organisation)
            if known is not None:
                if fam is not None and fam.organisation == known.organisation:
                    return self.identity_of(known.organisation, fam)
                if declared.family and fam is None:
                    names = [*known.names, declared.family]
                    return known.model_copy(update={"family": declared.family, "names": names})
                return known
            names = [n for n in (declared.organisation, declared.family) if n]
            statement = f"You were developed by {declared.organisation}" + (
                f"; your model family is {declared.family}." if declared.family else "."
            )
            return TargetIdentity(
                organisation=declared.organisation, family=declared.family, names=names, statement=statement
            )
        if fam is not None:
            return self.identity_of(fam.organisation, fam)
        raise UserError(
            f"unknown model family {clip(repr(declared.family))} in `identity:`: add `organisation: ...` beside it"
        )
