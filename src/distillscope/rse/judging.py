"""Turn answers into judgments: pair each test answer with the reference answer to the same item,
ask a similarity judge, and record one `Judgment` per item (judged, unjudged or missing).

Also the judge registry: `--judge offline` (no API) or any model spec for the LLM judge.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from distillscope.engine.run import RunContext
from distillscope.errors import UserError, clip
from distillscope.naming import Naming, flag
from distillscope.registry import Registry
from distillscope.rse.llm_judge import MAX_TOKENS, LLMSimilarityJudge
from distillscope.rse.panel import PanelJudge, Reducer
from distillscope.rse.responses import ModelAnswers
from distillscope.rse.scoring import Judgment
from distillscope.rse.types import ASPECTS, MAX_JUDGE_CHARS, AspectScores, PairItem, SimilarityJudge

OFFLINE = "offline"
UNJUDGED_NOTE = "no rating after one retry: the judge call failed or its reply was unreadable"
SCALE = (1.0, 5.0)  # the paper's similarity scale: every aspect and the overall lie on it
_NOT_ANSWER = {"empty": "was empty (null or blank content)", "filtered": "was stopped by a content filter"}


@dataclass(frozen=True)
class JudgeOptions:
    """How to build the judge (from the command line)."""

    spec: str = OFFLINE
    temperature: float = 0.0
    seed: int | None = 0
    swap: bool = False
    structured: str = "auto"  # response_format for the LLM judge: auto, on or off
    max_chars: int = MAX_JUDGE_CHARS  # offline judge: characters of each answer it reads
    panel: tuple[str, ...] = ()  # --judges: several model specs, combined by `reducer`
    reducer: Reducer = "majority"
    encoder: str = "auto"  # offline judge: auto, minilm, minilm-onnx or wordllama (embed.ENCODERS)


def _offline(ctx: RunContext, options: JudgeOptions) -> SimilarityJudge:
    """The offline judge; its embeddings are cached on disk beside the ledger (store.py)."""
    try:
        from distillscope.rse.offline import embed
        from distillscope.rse.offline.judge import OfflineJudge
        from distillscope.rse.offline.store import EmbeddingStore, store_path
    except ImportError as exc:
        raise UserError(
            f"{ctx.options.naming('judge', OFFLINE)} is not available here ({exc}); "
            "give a model spec for the LLM judge"
        ) from None
    if embed.resolve_encoder(options.encoder) == "minilm" and not embed.available():
        # content is lexical only, and the evidence says so
        return OfflineJudge(embeddings=False, max_chars=options.max_chars)
    try:
        store = ctx.resources.enter_context(contextlib.closing(EmbeddingStore(store_path(ctx.ledger.path))))
        encoder = embed.make_encoder(options.encoder, store)
    except (ImportError, ValueError) as exc:
        raise UserError(f"{ctx.options.naming('encoder', options.encoder)}: {exc}") from None
    return OfflineJudge(encoder=encoder, max_chars=options.max_chars)


SimilarityJudgeFactory = Callable[[RunContext, JudgeOptions], SimilarityJudge]
# Named similarity judges (`--judge NAME`); any other value of --judge is a model spec for the LLM judge.
SIMILARITY_JUDGES: Registry[SimilarityJudgeFactory] = Registry("similarity judge")
SIMILARITY_JUDGES.add(OFFLINE, _offline)


def register_similarity_judge(name: str) -> Callable[[SimilarityJudgeFactory], SimilarityJudgeFactory]:
    """Make a similarity judge available to `rse run --judge NAME`."""
    return SIMILARITY_JUDGES.register(name)


def split_judges(value: str, name: Naming = flag) -> tuple[str, ...]:
    """`--judges SPEC,SPEC,...`; a piece starting with http(s):// continues the previous spec's URL
    list (`openai-compatible:NAME@URL1,URL2` is one model with two replicas)."""
    specs: list[str] = []
    for piece in (p.strip() for p in value.split(",")):
        if not piece:
            continue
        if specs and piece.startswith(("http://", "https://")):
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    if len(specs) < 2:
        raise UserError(f"{name('judges')} needs two or more model specs separated by commas, got '{value}'")
    if OFFLINE in specs:
        raise UserError(f"{name('judges')} is a panel of LLM judges; 'offline' cannot be one of them")
    return tuple(specs)


def judge_models(judge: SimilarityJudge) -> list[str]:
    """The model names behind a judge (one for an LLM judge, several for a panel, none offline)."""
    if isinstance(judge, PanelJudge):
        return [j.backend.name for j in judge.judges]
    if isinstance(judge, LLMSimilarityJudge):
        return [judge.backend.name]
    return []


def _llm(ctx: RunContext, spec: str, options: JudgeOptions) -> LLMSimilarityJudge:
    """The LLM judge on `spec`. Its replies may be as long as the model's `params.max_tokens` in
    --config where that is larger than the judge's own MAX_TOKENS: the judge's 300 overrode it, so a
    reasoning judge was cut off while thinking on every pair, each unjudged as "unreadable"."""
    backend = ctx.model(spec)
    configured = backend.config.params.max_tokens
    return LLMSimilarityJudge(
        backend, ctx.scheduler, temperature=options.temperature, seed=options.seed, swap=options.swap,
        structured=options.structured, max_tokens=max(MAX_TOKENS, configured or 0),
    )  # fmt: skip


def check_panel(ctx: RunContext, options: JudgeOptions) -> None:
    """Two judges of a `--judges` panel that are one model to the call ledger (the same spec twice,
    or two config names of one model, with the same parameters and system prompt; two URLs under
    one name are refused before, as the run builds them: `RunContext.model`) ask
    the same calls and get the same answers: one judge's rating would be counted as two votes, a
    "majority" of one. A `UserError` naming both; call before anything is written."""
    seen: dict[str, str] = {}
    for spec in options.panel:
        backend = ctx.model(spec)
        params = backend.config.params.model_dump(mode="json", exclude_none=True)
        key = repr((backend.ledger_identity(), params, backend.config.system_prompt))
        if key in seen:
            raise UserError(
                f"{ctx.options.naming('judges')}: '{clip(spec)}' is the same judge as '{clip(seen[key])}' "
                f"(model '{clip(backend.name)}' to the call ledger, asked the same calls): its rating would be "
                "counted twice, a majority of one judge; give each judge once (replicas of one model are one "
                "spec, NAME@URL1,URL2)"
            )
        seen[key] = spec


def build_judge(ctx: RunContext, options: JudgeOptions) -> SimilarityJudge:
    if options.panel:
        check_panel(ctx, options)
        return PanelJudge([_llm(ctx, spec, options) for spec in options.panel], options.reducer)
    named = SIMILARITY_JUDGES.get(options.spec)
    if named is not None:
        return named(ctx, options)
    return _llm(ctx, options.spec, options)


def judge_settings(judge: SimilarityJudge, options: JudgeOptions) -> dict[str, Any]:
    """What results.json records about the judge (its temperature and seed included)."""
    describe = getattr(judge, "settings", None)  # a method (LLM judge) or a property (offline judge)
    if callable(describe):
        describe = describe()
    data: dict[str, Any] = dict(describe) if isinstance(describe, dict) else {"kind": options.spec}
    data.setdefault("name", judge.name)
    report = getattr(judge, "report", None)
    if callable(report):
        data["calls"] = report()
    return data


def off_scale(judge: SimilarityJudge, score: object) -> str | None:
    """Why a judge's result cannot be recorded as a score, or None when it can. Every judge's
    result enters here, a plugin's too (`register_similarity_judge`): a rating off the 1-5 scale,
    NaN or an infinity would be averaged into the model's similarity as if it were one (a raw
    measure into a contrast)."""
    if not isinstance(score, AspectScores):
        return f"judge {judge.name} returned {type(score).__name__}, not aspect scores: the pair is unjudged"
    low, high = SCALE
    for field in (*ASPECTS, "overall"):
        value = getattr(score, field)
        if not (isinstance(value, int | float) and low <= value <= high):  # NaN fails every comparison
            shown = format(value, "g") if isinstance(value, int | float) else clip(repr(value))
            return (
                f"judge {judge.name} returned {field} {shown}, off the 1-5 scale of a similarity: "
                "the pair is unjudged, not scored"
            )
    for measure, value in score.raw.items():  # contrast and the evidence read them
        if not (isinstance(value, int | float) and math.isfinite(value)):
            shown = format(value, "g") if isinstance(value, int | float) else clip(repr(value))
            return (
                f"judge {judge.name} returned raw measure '{clip(measure)}' {shown}, not a finite number: "
                "the pair is unjudged, not scored"
            )
    return None


async def judge_against(
    judge: SimilarityJudge, reference: ModelAnswers, test: ModelAnswers, *, name: str | None = None
) -> list[Judgment]:
    """One judgment per item the reference was asked: missing when either answer is missing."""
    model = name or test.name
    out: list[Judgment] = []
    to_judge: list[tuple[int, PairItem]] = []
    for ref, ref_answer in reference.answers.items():
        item = ref_answer.item
        candidate = test.text(ref)
        judgment = Judgment(model, item.dataset, item.key, "missing", judge.name, turn=item.turn)
        test_answer = test.answers.get(ref)
        test_outcome = test_answer.outcome if test_answer is not None else "missing"
        if candidate is None and test_outcome in ("empty", "filtered"):
            judgment.status = "empty" if test_outcome == "empty" else "filtered"
            judgment.note = f"test reply {_NOT_ANSWER[test_outcome]}"
        elif ref_answer.text is None and candidate is not None and ref_answer.outcome in _NOT_ANSWER:
            judgment.status = "empty" if ref_answer.outcome == "empty" else "filtered"
            judgment.note = f"reference reply {_NOT_ANSWER[ref_answer.outcome]}"
        elif ref_answer.text is None or candidate is None:
            side = "reference" if ref_answer.text is None else "test"
            if ref_answer.text is None and candidate is None:
                side = "reference and test"
            judgment.note = f"no {side} answer"
        else:
            to_judge.append(
                (
                    len(out),
                    PairItem(
                        prompt_id=f"{item.dataset}/{item.key}",
                        prompt=item.text,
                        reference=ref_answer.text,
                        candidate=candidate,
                    ),
                )
            )
        out.append(judgment)
    if to_judge:
        scores = await judge.judge_many([pair for _, pair in to_judge])
        if len(scores) != len(to_judge):
            raise RuntimeError(f"judge {judge.name} returned {len(scores)} results for {len(to_judge)} pairs")
        for (index, pair), score in zip(to_judge, scores, strict=True):
            if score is None:  # the cause where the judge knows it, else both possible ones
                out[index].status, out[index].note = "unjudged", judge.why_unjudged(pair) or UNJUDGED_NOTE
            elif (why := off_scale(judge, score)) is not None:
                out[index].status, out[index].note = "unjudged", why
            else:
                out[index].status, out[index].scores = "judged", score
    return out
