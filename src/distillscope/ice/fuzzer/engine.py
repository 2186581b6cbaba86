"""Sends templated identity probes to the target and judges the answers, in three modes:

* `fuzz`: GPTFuzzer's loop: select a template (MCTS-Explore), mutate it with a mutator model,
  ask K sampled probes through the mutant (all at once), reward = share of judged answers that
  contradict the target's identity; successful mutants join the tree. Stops after `budget`
  target queries (GPTFuzzer's max_query) or `max_contradictions` contradicting answers (its
  max_jailbreak). Up to `width` iterations are in flight at once (see `run_fuzz`).
* `grid`: every template with every probe, no mutation: one dispatch of every request.
* `plain`: the bare questions, the no-jailbreak baseline.

Every model call goes through the run's scheduler (so a rerun is answered from the ledger). The
same seed replays the same run whatever the timing: each fuzz iteration draws its choices from
its own generator, seeded by (seed, iteration), at a point fixed by the order of iterations, and
results are applied strictly in iteration order.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from distillscope.engine.scheduler import CallResult, Scheduler
from distillscope.errors import BudgetExhausted, clip
from distillscope.ice.fuzzer.mutators import MUTATORS, Mutator, parse_mutant
from distillscope.ice.fuzzer.selection import MCTSExplore, Node
from distillscope.ice.judges.base import Judge, checked_verdicts
from distillscope.ice.probes import Probe
from distillscope.ice.templates import QUERY_SLOT, Template, fill_template, names_vendor
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.models.base import Backend
from distillscope.models.types import GenerateParams, ModelRequest
from distillscope.naming import Naming, flag

MAX_MUTATION_FAILURES = 10  # consecutive unusable mutator replies before the fuzzer gives up
LULL_BATCH = 4  # answers an on-loop judge takes per lull (~1 ms of the rules judge)


@dataclass
class TemplateRecord:
    """A seed or mutant (templates.jsonl), with its lineage and reward."""

    id: str
    kind: str
    text: str
    parents: list[str] = field(default_factory=list)
    mutator: str | None = None
    generation: int = 0
    slot_lost: bool = False
    names_vendor: bool = False
    iteration: int | None = None
    reward: float | None = None
    n_probes: int = 0
    n_judged: int = 0
    n_contradictions: int = 0
    in_tree: bool = False
    note: str | None = None

    @classmethod
    def seed(cls, template: Template) -> TemplateRecord:
        return cls(
            template.id, template.kind, template.text, names_vendor=template.names_vendor, in_tree=True
        )


@dataclass
class ResponseRecord:
    """One target answer (responses.jsonl); `response` is None when the call failed. `outcome`
    is "ok", "error", or "empty"/"filtered" for a reply that is not an answer (never judged)."""

    index: int
    template_id: str
    parents: list[str]
    mutator: str | None
    generation: int | None
    slot_lost: bool
    probe_id: str
    language: str
    area: str
    query: str
    prompt: str
    response: str | None
    error: str | None
    ledger_key: str
    cached: bool
    outcome: str = "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self)
        }  # shallow: asdict copies deeply, 10x slower


@dataclass
class FuzzSettings:
    budget: int
    probes_per_mutant: int
    seed: int = 0
    ratio: float = 0.5
    alpha: float = 0.1
    beta: float = 0.2
    mutators: Sequence[str] = tuple(MUTATORS)
    mutator_max_tokens: int = 768
    mutator_temperature: float = 0.8
    max_contradictions: int | None = None  # GPTFuzzer's max_jailbreak: stop once this many answers contradict
    width: int = 1  # MCTS-Explore iterations in flight at once (1: the paper's one-at-a-time loop)


def parallel_width(concurrency: int, probes_per_mutant: int) -> int:
    """Iterations in flight that keep `concurrency` target calls busy (Little's law): an iteration
    spends about one latency being mutated and, with latencies that spread, about two more until
    the slowest of its probes is back (results are applied in order, so it waits for that one):
    3 * concurrency / probes, rounded up, + 1. Measured against a 20-200 ms server at concurrency 32
    and 10 probes per mutant: 0.69 of the limit with 2x, 0.83 with 3x (bench/README.md)."""
    return math.ceil(3 * max(1, concurrency) / max(1, probes_per_mutant)) + 1


def iteration_rng(seed: int, iteration: int) -> random.Random:
    """The generator of one fuzz iteration's choices: the same (seed, iteration) gives the same
    draws, whichever iterations ran before it or how long they took."""
    return random.Random(f"distillscope-fuzz:{seed}:{iteration}")


@dataclass
class _Plan:
    """One fuzz iteration as drawn at its launch: what it mutates, how, and which probes it asks."""

    iteration: int
    path: list[Node]
    kind: Mutator
    parents: list[str]
    probes: list[Probe]
    task: asyncio.Future[_Answers] | None = None


@dataclass
class _Answers:
    """What an iteration brought back: the mutant (empty when the mutator's reply was unusable),
    the target's answers to its probes and their verdicts."""

    text: str
    prompts: list[str] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)
    verdicts: list[Verdict | None] = field(default_factory=list)
    why: str | None = None  # why the mutator's reply gave no mutant (its call failed, or no template)
    call_failed: bool = False  # the mutator's call failed (a rerun asks it again)


class IceEngine:
    """Holds what a run produced so far, so a stopped run can still write its results."""

    def __init__(
        self,
        scheduler: Scheduler,
        target: Backend,
        judge: Judge,
        identity: TargetIdentity,
        *,
        seed: int = 0,
        answer_tokens: int | None = 512,
        naming: Naming = flag,
    ) -> None:
        """`naming`: how the stop reason names a setting (`--max-contradictions`, `max_contradictions=`)."""
        self.scheduler = scheduler
        self.naming = naming
        self.target = target
        self.judge = judge
        self.identity = identity
        self.seed = seed
        self.params = GenerateParams(seed=seed, max_tokens=answer_tokens)
        self.rng = random.Random(seed)
        self.responses: list[ResponseRecord] = []
        self.verdicts: list[Verdict | None] = []
        self.templates: list[TemplateRecord] = []
        self.queries = 0
        self.contradictions = 0
        self.stop_reason: str | None = None
        # The fuzz stopped short of its budget because the mutator gave no usable reply: the run is
        # incomplete (before, it said complete with as few as 0 responses, and the CLI said nothing).
        self.mutator_gave_up = False

    # ------------------------------------------------------------------ asking and judging
    def _request(self, template: TemplateRecord | None, probe: Probe) -> tuple[str, ModelRequest]:
        tid = template.id if template else "plain"
        prompt = fill_template(template.text, probe.question) if template else probe.question
        return prompt, ModelRequest.user(prompt, params=self.params, prompt_id=f"{tid}:{probe.id}")

    async def _judge(
        self,
        indices: Sequence[int],
        prompts: Sequence[str],
        probes: Sequence[Probe],
        results: Sequence[CallResult | None],
    ) -> list[Verdict | None]:
        """Verdicts of the answered ones among `indices` (None where the call failed)."""
        answered: list[int] = []
        items: list[JudgeItem] = []
        for i in indices:
            result = results[i]
            if result is not None and result.response is not None and result.outcome == "ok":
                answered.append(i)  # an empty or filtered reply is counted, never judged
                items.append(
                    JudgeItem(
                        index=i, prompt=prompts[i], query=probes[i].question, response=result.response.text
                    )
                )
        verdicts = checked_verdicts(self.judge, items, await self.judge.judge_many(items, self.identity))
        judged = dict(zip(answered, verdicts, strict=True))
        return [judged.get(i) for i in indices]

    def _record(self, template: TemplateRecord | None, probe: Probe, prompt: str, result: CallResult,
                verdict: Verdict | None) -> None:  # fmt: skip
        self.responses.append(
            ResponseRecord(
                index=len(self.responses),
                template_id=template.id if template else "plain",
                parents=list(template.parents) if template else [],
                mutator=template.mutator if template else None,
                generation=template.generation if template else None,
                slot_lost=template.slot_lost if template else False,
                probe_id=probe.id,
                language=probe.language,
                area=probe.area,
                query=probe.question,
                prompt=prompt,
                response=result.response.text if result.response is not None else None,
                error=result.error,
                ledger_key=result.key,
                cached=result.cached,
                outcome=result.outcome,
            )
        )
        self.verdicts.append(verdict)

    async def probe(self, template: TemplateRecord | None, probes: Sequence[Probe]) -> list[Verdict | None]:
        """Ask every probe through `template` (None: bare question) at once, judged as answers arrive."""
        return await self.probe_pairs([(template, p) for p in probes])

    async def probe_pairs(self, pairs: Sequence[tuple[TemplateRecord | None, Probe]]) -> list[Verdict | None]:
        """Ask every (template, probe) pair in one scheduler dispatch, judging answers in batches as
        they arrive (the judge works while later calls are in flight); recorded in input order.

        A stop (budget, Ctrl-C) keeps the pairs answered so far, in input order, with their verdicts."""
        built = [self._request(t, p) for t, p in pairs]
        prompts = [prompt for prompt, _ in built]
        probes = [p for _, p in pairs]
        results: list[CallResult | None] = [None] * len(pairs)
        verdicts: list[Verdict | None] = [None] * len(pairs)
        self.queries += len(pairs)
        try:
            await self._ask_judged([r for _, r in built], prompts, probes, results, verdicts)
        finally:
            answered = [i for i, r in enumerate(results) if r is not None]
            self.queries -= len(pairs) - len(answered)
            for i in answered:
                result = results[i]
                assert result is not None
                self._record(pairs[i][0], probes[i], prompts[i], result, verdicts[i])
        return verdicts

    async def _ask_judged(
        self,
        requests: Sequence[ModelRequest],
        prompts: Sequence[str],
        probes: Sequence[Probe],
        results: list[CallResult | None],
        verdicts: list[Verdict | None],
    ) -> None:
        """Send `requests` in one scheduler dispatch and judge the answers as they arrive, filling
        `results` and `verdicts` in place: the judge works while later calls are in flight, and an
        iteration is done one judge call after its slowest answer, not a whole batch after.

        A budget stop judges what arrived, then re-raises; Ctrl-C or a setup error judges no further."""
        ready: list[int] = []
        wake = asyncio.Event()
        finished = False
        loop = asyncio.get_running_loop()
        lulls = self.scheduler.lulls if self.judge.on_loop else None
        waiting_since = 0.0  # when the oldest answer still to judge arrived (loop time)

        def arrived(i: int, result: CallResult) -> None:
            nonlocal waiting_since
            results[i] = result
            if not ready:
                waiting_since = loop.time()
            ready.append(i)
            wake.set()

        async def judge_stream() -> None:
            while True:
                await wake.wait()
                wake.clear()
                while ready:
                    if lulls is None:
                        batch = sorted(ready)
                        ready.clear()
                    else:  # a few at a time, each in a lull: never in the middle of a burst
                        if not finished:
                            await lulls.wait(since=waiting_since)
                        ready.sort()
                        batch = ready[:LULL_BATCH]
                        del ready[:LULL_BATCH]
                    for i, verdict in zip(
                        batch, await self._judge(batch, prompts, probes, results), strict=True
                    ):
                        verdicts[i] = verdict
                if finished:
                    return

        judging = asyncio.ensure_future(judge_stream())
        interrupted = False
        try:
            await self.scheduler.map(self.target, requests, stage="ice: target", on_result=arrived)
        except BudgetExhausted:
            raise  # judge what arrived, then stop
        except BaseException:
            interrupted = True  # Ctrl-C, a setup error: judge no further
            judging.cancel()
            raise
        finally:
            finished = True
            wake.set()
            if interrupted:
                await asyncio.gather(judging, return_exceptions=True)
            else:
                await judging

    # ------------------------------------------------------------------ modes
    async def run_plain(self, probes: Sequence[Probe], budget: int | None) -> None:
        chosen = self._cap(list(probes), budget)
        await self.probe(None, chosen)

    async def run_grid(
        self, templates: Sequence[Template], probes: Sequence[Probe], budget: int | None
    ) -> None:
        """Every template x probe in one dispatch (no barrier per template)."""
        pairs = self._cap([(t, p) for t in templates for p in probes], budget)
        records = {t.id: TemplateRecord.seed(t) for t in templates}
        used = {t.id for t, _ in pairs}
        self.templates.extend(r for r in records.values() if r.id in used)
        start = len(self.responses)
        try:
            await self.probe_pairs([(records[t.id], p) for t, p in pairs])
        finally:
            by_template: dict[str, list[Verdict | None]] = {}
            for row, verdict in zip(self.responses[start:], self.verdicts[start:], strict=True):
                by_template.setdefault(row.template_id, []).append(verdict)
            for record in self.templates:
                if record.id in by_template:
                    self._account(record, by_template[record.id])

    async def run_fuzz(
        self, templates: Sequence[Template], probes: Sequence[Probe], mutator: Backend, s: FuzzSettings
    ) -> None:
        """GPTFuzzer's loop with up to `s.width` iterations in flight.

        Iteration i is launched (its walk down the tree, mutator, parents and probes drawn from
        `iteration_rng(seed, i)`) only once iterations 1 .. i - width have been applied, and before
        any later one is: so what it sees of the tree is fixed by i and the width, never by timing.
        Results (tree updates, rewards, records, the stops) are applied strictly in iteration order.
        The probes an in-flight iteration will ask are reserved against the budget at its launch
        (and given back if its mutation fails). With width 1 this is the paper's loop."""
        records = {t.id: TemplateRecord.seed(t) for t in templates}
        self.templates.extend(records.values())
        policy = MCTSExplore(list(records), rng=self.rng, ratio=s.ratio, alpha=s.alpha, beta=s.beta)
        mutators = [MUTATORS[name] for name in s.mutators]
        width = max(1, s.width)
        in_flight: deque[_Plan] = deque()
        reserved = 0
        iteration = 0
        failures = 0
        failed_calls = 0  # of the unusable replies in a row, the calls that failed (a rerun asks them again)
        try:
            while True:
                while probes and len(in_flight) < width and self.queries + reserved < s.budget:
                    iteration += 1
                    rng = iteration_rng(self.seed, iteration)
                    path = policy.walk(rng)
                    kind = rng.choice(mutators)
                    parents = [path[-1].id]
                    if kind.parents == 2:
                        parents.append(rng.choice(sorted(policy.nodes)))
                    k = min(s.probes_per_mutant, len(probes), s.budget - self.queries - reserved)
                    plan = _Plan(iteration, path, kind, parents, rng.sample(list(probes), k))
                    texts = [records[p].text for p in parents]
                    plan.task = asyncio.ensure_future(self._explore(plan, texts, mutator, s))
                    in_flight.append(plan)
                    reserved += k
                if not in_flight:
                    self.stop_reason = f"budget of {s.budget} target queries reached"
                    return
                plan = in_flight[0]
                assert plan.task is not None
                answers = await plan.task
                in_flight.popleft()
                reserved -= len(plan.probes)
                if not answers.text:
                    failures += 1
                    if answers.call_failed:
                        failed_calls += 1
                    policy.update(0.0, plan.path)
                    if failures >= MAX_MUTATION_FAILURES:
                        self.mutator_gave_up = True
                        again = (
                            "rerun the same command to ask it again"
                            if failed_calls
                            else f"a rerun gets the same replies from the ledger: choose another {self.naming('mutator')}"
                        )
                        self.stop_reason = (
                            f"the mutator gave {failures} unusable replies in a row ({failed_calls} failed calls; "
                            f"the last: {clip(answers.why or 'no template', 200)}): {again}"
                        )
                        return
                    continue
                failed_calls = 0
                failures = 0
                self._apply(plan, answers, records, policy)
                if s.max_contradictions is not None and self.contradictions >= s.max_contradictions:
                    setting = self.naming("max_contradictions", s.max_contradictions)
                    self.stop_reason = f"{self.contradictions} contradicting answers reached {setting}"
                    return
        except BudgetExhausted:
            # The call budget is spent: iterations in flight finish the calls they have sent (so
            # those are in the ledger for a rerun) and stop at their next budget check.
            await asyncio.gather(*(p.task for p in in_flight if p.task is not None), return_exceptions=True)
            raise
        finally:
            # A stop, a failure or Ctrl-C: iterations launched past it are dropped (their finished
            # calls stay in the ledger, so a rerun pays nothing for them).
            for plan in in_flight:
                assert plan.task is not None
                plan.task.cancel()
            await asyncio.gather(*(p.task for p in in_flight if p.task is not None), return_exceptions=True)

    async def _explore(self, plan: _Plan, texts: list[str], mutator: Backend, s: FuzzSettings) -> _Answers:
        """Mutate, ask the planned probes through the mutant, judge: one iteration's calls."""
        text, why, failed = await self._mutate(mutator, plan.kind, texts, plan.iteration, s)
        if not text:
            return _Answers("", why=why, call_failed=failed)
        template = TemplateRecord(f"mut-{plan.iteration:04d}", "", text)
        built = [self._request(template, p) for p in plan.probes]
        prompts = [prompt for prompt, _ in built]
        results: list[CallResult | None] = [None] * len(built)
        verdicts: list[Verdict | None] = [None] * len(built)
        await self._ask_judged([r for _, r in built], prompts, plan.probes, results, verdicts)
        answered = [r for r in results if r is not None]
        assert len(answered) == len(results)  # map returns only when every call has finished
        return _Answers(text, prompts, answered, verdicts)

    def _apply(self, plan: _Plan, answers: _Answers, records: dict[str, TemplateRecord],
               policy: MCTSExplore) -> None:  # fmt: skip
        """One iteration's results, in iteration order: the mutant, its answers, its reward."""
        node_id = plan.path[-1].id
        text = answers.text
        mutant = TemplateRecord(
            id=f"mut-{plan.iteration:04d}",
            kind=records[node_id].kind,
            text=text,
            parents=plan.parents,
            mutator=plan.kind.name,
            generation=max(records[p].generation for p in plan.parents) + 1,
            slot_lost=QUERY_SLOT not in text,
            names_vendor=names_vendor(text),
            iteration=plan.iteration,
            note="question slot lost: the question is appended" if QUERY_SLOT not in text else None,
        )
        records[mutant.id] = mutant
        self.templates.append(mutant)
        for probe, prompt, result, verdict in zip(
            plan.probes, answers.prompts, answers.results, answers.verdicts, strict=True
        ):
            self._record(mutant, probe, prompt, result, verdict)
        self.queries += len(plan.probes)
        self._account(mutant, answers.verdicts)
        self.contradictions += mutant.n_contradictions
        policy.update(mutant.reward or 0.0, plan.path)
        if mutant.n_contradictions > 0:
            policy.add_child(node_id, mutant.id, mutant.generation)
            mutant.in_tree = True

    # ------------------------------------------------------------------ helpers
    async def _mutate(
        self, mutator: Backend, kind: Mutator, texts: list[str], iteration: int, s: FuzzSettings
    ) -> tuple[str, str | None, bool]:
        """One mutator call; a distinct seed per iteration keeps repeated prompts distinct calls.
        The mutant's text, or "" and why there is none; whether the call failed."""
        params = GenerateParams(
            temperature=s.mutator_temperature,
            max_tokens=s.mutator_max_tokens,
            seed=self.seed * 100_003 + iteration,
        )
        request = ModelRequest.user(kind.prompt(texts), params=params, prompt_id=f"mutate-{iteration}")
        self.scheduler.progress.add_total("ice: mutate", 1)
        # Ahead of queued probes: a mutation unlocks a batch of them, so one stuck behind them would
        # leave the lane idle once they drain.
        result = await self.scheduler.call(mutator, request, stage="ice: mutate", priority=1)
        if not result.ok:
            return "", f"its call failed: {result.error or 'no reply'}", True
        text = parse_mutant(result.text)
        return text, None if text else f"no template in its reply ({result.outcome})", False

    def _cap(self, items: list[Any], budget: int | None) -> list[Any]:
        """At most `budget` items: a seeded sample, kept in the original order."""
        if budget is None or budget >= len(items):
            return items
        keep = set(self.rng.sample(range(len(items)), budget))
        self.stop_reason = (
            f"budget of {budget} target queries: a seeded sample of {budget} of {len(items)} prompts"
        )
        return [item for i, item in enumerate(items) if i in keep]

    @staticmethod
    def _account(record: TemplateRecord, verdicts: Sequence[Verdict | None]) -> None:
        judged = [v for v in verdicts if v is not None and v.judged]
        record.n_probes = len(verdicts)
        record.n_judged = len(judged)
        record.n_contradictions = sum(bool(v.loose) for v in judged)
        record.reward = round(record.n_contradictions / len(judged), 6) if judged else 0.0
