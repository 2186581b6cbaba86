"""Sends templated identity probes to the target and judges the answers, in three modes:

* `fuzz`: GPTFuzzer's loop: select a template (MCTS-Explore), mutate it with a mutator model,
  ask K sampled probes through the mutant (all at once), reward = share of judged answers that
  contradict the target's identity; successful mutants join the tree. Stops after `budget`
  target queries (GPTFuzzer's max_query).
* `grid`: every template with every probe, no mutation.
* `plain`: the bare questions, the no-jailbreak baseline.

Every model call goes through the run's scheduler (so a rerun is answered from the ledger), and
one `random.Random(seed)` drives every choice, so the same seed replays the same run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from distillscope.engine.scheduler import Scheduler
from distillscope.ice.fuzzer.mutators import MUTATORS, Mutator, parse_mutant
from distillscope.ice.fuzzer.selection import MCTSExplore
from distillscope.ice.judges.base import Judge
from distillscope.ice.probes import Probe
from distillscope.ice.templates import QUERY_SLOT, Template, fill_template, names_vendor
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.models.base import Backend
from distillscope.models.types import GenerateParams, ModelRequest

MAX_MUTATION_FAILURES = 10  # consecutive unusable mutator replies before the fuzzer gives up


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
        return asdict(self)


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
    ) -> None:
        self.scheduler = scheduler
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
        self.stop_reason: str | None = None

    # ------------------------------------------------------------------ one batch
    async def probe(self, template: TemplateRecord | None, probes: Sequence[Probe]) -> list[Verdict | None]:
        """Ask every probe through `template` (None: bare question) concurrently, then judge."""
        tid = template.id if template else "plain"
        prompts = [fill_template(template.text, p.question) if template else p.question for p in probes]
        requests = [
            ModelRequest.user(text, params=self.params, prompt_id=f"{tid}:{p.id}")
            for text, p in zip(prompts, probes, strict=True)
        ]
        self.queries += len(requests)
        results = await self.scheduler.map(self.target, requests, stage="ice: target")
        start = len(self.responses)
        for probe, prompt, result in zip(probes, prompts, results, strict=True):
            self.responses.append(
                ResponseRecord(
                    index=len(self.responses),
                    template_id=tid,
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
        rows = self.responses[start:]
        items = [
            JudgeItem(index=r.index, prompt=r.prompt, query=r.query, response=r.response)
            for r in rows
            if r.response is not None and r.outcome == "ok"
        ]
        judged = iter(await self.judge.judge_many(items, self.identity))
        verdicts = [next(judged) if r.response is not None and r.outcome == "ok" else None for r in rows]
        self.verdicts.extend(verdicts)
        return verdicts

    # ------------------------------------------------------------------ modes
    async def run_plain(self, probes: Sequence[Probe], budget: int | None) -> None:
        chosen = self._cap(list(probes), budget)
        await self.probe(None, chosen)

    async def run_grid(
        self, templates: Sequence[Template], probes: Sequence[Probe], budget: int | None
    ) -> None:
        pairs = self._cap([(t, p) for t in templates for p in probes], budget)
        for template in templates:
            record = TemplateRecord.seed(template)
            mine = [p for t, p in pairs if t is template]
            if mine:
                self.templates.append(record)
                verdicts = await self.probe(record, mine)
                self._account(record, verdicts)

    async def run_fuzz(
        self, templates: Sequence[Template], probes: Sequence[Probe], mutator: Backend, s: FuzzSettings
    ) -> None:
        records = {t.id: TemplateRecord.seed(t) for t in templates}
        self.templates.extend(records.values())
        policy = MCTSExplore(list(records), rng=self.rng, ratio=s.ratio, alpha=s.alpha, beta=s.beta)
        mutators = [MUTATORS[name] for name in s.mutators]
        failures = 0
        iteration = 0
        while self.queries < s.budget:
            iteration += 1
            node = policy.select()
            kind = self.rng.choice(mutators)
            parents = [node.id]
            if kind.parents == 2:
                parents.append(self.rng.choice(sorted(policy.nodes)))
            text = await self._mutate(mutator, kind, [records[p].text for p in parents], iteration, s)
            if not text:
                failures += 1
                policy.update(0.0)
                if failures >= MAX_MUTATION_FAILURES:
                    self.stop_reason = f"the mutator gave {failures} unusable replies in a row"
                    return
                continue
            failures = 0
            mutant = TemplateRecord(
                id=f"mut-{iteration:04d}",
                kind=records[node.id].kind,
                text=text,
                parents=parents,
                mutator=kind.name,
                generation=max(records[p].generation for p in parents) + 1,
                slot_lost=QUERY_SLOT not in text,
                names_vendor=names_vendor(text),
                iteration=iteration,
                note="question slot lost: the question is appended" if QUERY_SLOT not in text else None,
            )
            records[mutant.id] = mutant
            self.templates.append(mutant)
            k = min(s.probes_per_mutant, len(probes), s.budget - self.queries)
            chosen = self.rng.sample(list(probes), k)
            verdicts = await self.probe(mutant, chosen)
            self._account(mutant, verdicts)
            policy.update(mutant.reward or 0.0)
            if mutant.n_contradictions > 0:
                policy.add_child(node.id, mutant.id, mutant.generation)
                mutant.in_tree = True
        self.stop_reason = f"budget of {s.budget} target queries reached"

    # ------------------------------------------------------------------ helpers
    async def _mutate(
        self, mutator: Backend, kind: Mutator, texts: list[str], iteration: int, s: FuzzSettings
    ) -> str:
        """One mutator call; a distinct seed per iteration keeps repeated prompts distinct calls."""
        params = GenerateParams(
            temperature=s.mutator_temperature,
            max_tokens=s.mutator_max_tokens,
            seed=self.seed * 100_003 + iteration,
        )
        request = ModelRequest.user(kind.prompt(texts), params=params, prompt_id=f"mutate-{iteration}")
        self.scheduler.progress.add_total("ice: mutate", 1)
        result = await self.scheduler.call(mutator, request, stage="ice: mutate")
        return parse_mutant(result.text) if result.ok else ""

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
