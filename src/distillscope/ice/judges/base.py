"""The judge interface and registry: `rules`, `hybrid`, `recorded`, or any model spec (LLM judge)."""

from __future__ import annotations

import abc
import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from distillscope.errors import UserError, clip
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

if TYPE_CHECKING:
    from distillscope.ice.judges.weights import Transfer


class Judge(abc.ABC):
    """Decides, for each response, whether it contradicts the target's true identity."""

    name: str
    # True for a judge whose work is CPU on the event loop's own thread (the rules): a run then
    # judges in the lulls between bursts of answers (engine/lulls.py), not in the middle of one.
    on_loop: bool = False

    def transfer(self) -> tuple[str, Transfer] | None:
        """How far the expected loose rate of a judge's verdicts moved between the models it was
        built from, and the name its verdicts carry (the default judge's weights hold it): scores of
        verdicts all by that judge then also get the interval that allows for it. None: unmeasured."""
        return None

    @abc.abstractmethod
    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        """One verdict per item, in order."""

    def warm_jobs(self) -> Sequence[Callable[[], object]]:
        """Small pieces of set-up (compiling patterns) the judge would otherwise do at its first
        answers, for a run to do ahead in the lulls of its traffic. None by default."""
        return ()


log = logging.getLogger("distillscope")


def is_plugin(judge: Judge) -> bool:
    """A judge of code outside distillscope (`register_judge`): its verdicts are checked where they
    enter a run (`checked_verdicts`); the built-in judges' pass as they are."""
    return not type(judge).__module__.startswith("distillscope.")


def _probability_problem(field: str, p: object, decision: object) -> str | None:
    if p is None:
        return None
    if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p) or not 0 <= p <= 1:
        shown = format(p, "g") if isinstance(p, int | float) and not isinstance(p, bool) else clip(repr(p))
        return f"{field} {shown}, not a probability in [0, 1]"
    if decision is not None and decision != (p >= 0.5):
        decided = field.removeprefix("p_")
        return f"{decided} {str(decision).lower()} with {field} {p:g} ({decided} means {field} >= 0.5)"
    return None


def verdict_problem(verdict: object) -> str | None:
    """Why a judge's result cannot be recorded as a verdict, or None when it can."""
    if not isinstance(verdict, Verdict):
        return f"{type(verdict).__name__}, not a Verdict"
    loose, strict = verdict.loose, verdict.strict
    for field, value in (("loose", loose), ("strict", strict)):
        if value is not None and not isinstance(value, bool):
            return f"{field} {clip(repr(value))}, not true, false or null"
    if loose is None and strict is not None:
        return f"strict {str(strict).lower()} on an unjudged verdict (loose null)"
    if strict and not loose:
        return "strict true with loose false (strict implies loose)"
    for field, p, decision in (("p_loose", verdict.p_loose, loose), ("p_strict", verdict.p_strict, strict)):
        if (why := _probability_problem(field, p, decision)) is not None:
            return why
    try:  # what else a plugin set after construction (a category that is none, a judge name that is no text)
        Verdict.model_validate(verdict.model_dump(warnings=False))
    except ValidationError as exc:
        error = exc.errors()[0]
        return f"field '{'.'.join(str(p) for p in error['loc'])}': {error['msg']}"
    return None


def checked_verdicts(judge: Judge, items: Sequence[JudgeItem], verdicts: object) -> list[Verdict]:
    """A plugin judge's verdicts as a run may record them: one per item, in order, or a `UserError`
    (one line) naming the plugin; an invalid verdict (a probability off [0, 1] or NaN, `loose`
    against its own `p_loose`, strict without loose, not a Verdict) becomes *unjudged* with a note
    naming the plugin, never a negative. A built-in judge's verdicts pass unchanged."""
    if not is_plugin(judge):
        return verdicts  # type: ignore[return-value]  # the built-in judges' are Verdicts
    name = clip(str(getattr(judge, "name", type(judge).__name__)))
    plugin = f"judge plugin '{name}' ({type(judge).__module__}.{type(judge).__qualname__})"
    if not isinstance(verdicts, list | tuple):
        raise UserError(f"{plugin} returned {type(verdicts).__name__}, not a list of verdicts")
    if len(verdicts) != len(items):
        raise UserError(
            f"{plugin} returned {len(verdicts)} {'verdict' if len(verdicts) == 1 else 'verdicts'} for "
            f"{len(items)} {'answer' if len(items) == 1 else 'answers'}: "
            "a judge gives one verdict per answer, in order"
        )
    out: list[Verdict] = []
    invalid: list[str] = []
    for verdict in verdicts:
        why = verdict_problem(verdict)
        if why is None:
            out.append(verdict)
            continue
        invalid.append(why)
        out.append(
            Verdict(
                loose=None,
                strict=None,
                judge=name,
                note=f"{plugin} gave an invalid verdict ({why}): unjudged, not counted",
            )
        )
    if invalid:
        log.warning(
            "%s gave %d invalid %s of %d, recorded as unjudged (first: %s)",
            plugin, len(invalid), "verdict" if len(invalid) == 1 else "verdicts", len(items), invalid[0],
        )  # fmt: skip
    return out
