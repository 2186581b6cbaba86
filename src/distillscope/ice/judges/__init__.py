"""The judge interface and registry: `rules`, `hybrid` (`hybrid:SPEC`), `recorded`, or any model
spec (an LLM judge). `make_judge` turns the `--judge` value into a Judge."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from distillscope.errors import UserError
from distillscope.ice.judges.base import Judge
from distillscope.ice.judges.recorded import Labels, RecordedJudge
from distillscope.naming import Naming, flag
from distillscope.registry import Registry

if TYPE_CHECKING:
    from distillscope.engine.run import RunContext
    from distillscope.ice.identity import IdentityRegistry
    from distillscope.ice.judges.hybrid import Escalation
    from distillscope.ice.probability import Calibration

__all__ = ["JUDGES", "Judge", "JudgeContext", "judge_names", "judge_report", "make_judge", "register_judge"]


@dataclass
class JudgeContext:
    """What a judge may need besides its spec."""

    ctx: RunContext | None = None
    registry: IdentityRegistry | None = None
    judge_model: str | None = None  # the LLM behind `hybrid`
    seed: int | None = 0
    labels: Mapping[int, Labels] | None = None  # recorded labels, by item index
    preset: str = "rubric"  # the LLM judge's definition: the taxonomy (rubric) or the paper's own
    structured: str = "auto"  # response_format for the LLM judge: auto, on or off
    calibration: Calibration | None = None  # the LLM judge's probabilities (None: the default table)
    max_input_tokens: int | None = None  # the LLM judge shortens requests to fit (None: on a 400)
    escalation: Escalation | None = None  # hybrid: escalate by doubt (None: the rules' unsure)
    weights: str | None = None  # the rules judge's scorer weights file (None: the shipped one)
    naming: Naming = flag  # how errors name a setting: the CLI's flags or the API's keywords
    extra: dict[str, Any] = field(default_factory=dict)


JudgeFactory = Callable[[str, JudgeContext], Judge]
# `--judge NAME[:ARG]`: the factory gets ARG; a value that names no judge is an LLM judge's model spec.
JUDGES: Registry[JudgeFactory] = Registry("ICE judge")


def register_judge(name: str) -> Callable[[JudgeFactory], JudgeFactory]:
    """Make a judge kind available to `--judge NAME` (or `NAME:ARG`)."""
    return JUDGES.register(name)


def judge_names() -> list[str]:
    return sorted(JUDGES)


def _llm(spec: str, jc: JudgeContext) -> Judge:
    from distillscope.ice.judges.llm import LLMJudge

    if jc.ctx is None:
        raise UserError(f"{jc.naming('judge', spec)}: an LLM judge needs a run context")
    return LLMJudge(
        jc.ctx.model(spec), jc.ctx.scheduler, seed=jc.seed, preset=jc.preset, structured=jc.structured,
        calibration=jc.calibration, max_input_tokens=jc.max_input_tokens,
    )  # fmt: skip


@register_judge("rules")
def _rules(arg: str, jc: JudgeContext) -> Judge:
    from distillscope.ice.judges.rules import RulesJudge

    return RulesJudge(jc.registry, jc.weights)


@register_judge("hybrid")
def _hybrid(arg: str, jc: JudgeContext) -> Judge:
    from distillscope.ice.judges.hybrid import HybridJudge
    from distillscope.ice.judges.llm import LLMJudge
    from distillscope.ice.judges.rules import RulesJudge

    model = arg or jc.judge_model
    if not model:
        name = jc.naming
        raise UserError(
            f"{name('judge', 'hybrid')} needs an LLM for the unsure cases: use {name('judge', 'hybrid:SPEC')} "
            f"or {name('judge_model', 'SPEC')}"
        )
    llm = _llm(model, jc)
    assert isinstance(llm, LLMJudge)
    return HybridJudge(RulesJudge(jc.registry, jc.weights), llm, jc.escalation)


@register_judge("recorded")
def _recorded(arg: str, jc: JudgeContext) -> Judge:
    judge = jc.naming("judge", "recorded")
    if jc.labels is None:
        raise UserError(
            f"{judge} uses the loose/strict labels in the input log, and only `ice rescore` has one"
        )
    if not any(loose is not None for loose, _ in jc.labels.values()):
        raise UserError(f"{judge}: the input log has no 'loose'/'strict' labels")
    return RecordedJudge(jc.labels)


def escalation_needs_hybrid(name: Naming) -> str:
    return f"{name('escalate')} / {name('escalate_band')} choose what `{name('judge', 'hybrid:SPEC')}` sends to its LLM"


def make_judge(spec: str, jc: JudgeContext) -> Judge:
    """`rules`, `recorded`, `hybrid[:SPEC]`, or any other value as the model spec of an LLM judge."""
    spec = spec.strip()
    named = jc.naming
    if not spec:
        raise UserError(f"{named('judge')}: empty value (use rules, hybrid:SPEC, recorded or a model spec)")
    name, _, arg = spec.partition(":")
    factory = JUDGES.get(name)
    if jc.escalation is not None and name != "hybrid":
        raise UserError(escalation_needs_hybrid(named))
    if jc.weights is not None and (factory is None or name not in ("rules", "hybrid")):
        raise UserError(
            f"{named('judge_weights')} applies to {named('judge', 'rules')} or hybrid, not {spec!r}"
        )
    if factory is not None and (name == "hybrid" or not arg):
        return factory(arg, jc)
    return _llm(spec, jc)


def judge_report(judge: Judge) -> dict[str, Any]:
    """Call counts a judge keeps (LLM calls, retries, calls saved by `hybrid`), if any."""
    report = getattr(judge, "report", None)
    return dict(report()) if callable(report) else {}
