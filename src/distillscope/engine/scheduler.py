"""The async scheduler: every model call of a run goes through `Scheduler.call`.

It answers from the ledger when it can, otherwise sends the call with bounded concurrency per
model, optional requests/tokens-per-minute limits, retries with exponential backoff and
jitter (honouring `Retry-After`), a per-request timeout, and a run budget. A call that still
fails is recorded as an error and returned as one, never as an empty answer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from distillscope.engine.ledger import Ledger, LedgerEntry, keyed_request
from distillscope.engine.limits import PrioritySlots, TokenBucket
from distillscope.engine.lulls import Lulls
from distillscope.engine.progress import Progress
from distillscope.errors import BackendError, BudgetExhausted, UserError
from distillscope.models.base import Backend
from distillscope.models.types import ModelRequest, ModelResponse
from distillscope.redact import mask_secrets
from distillscope.textsafe import repair_surrogates


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call: an answer, or the error that stopped it."""

    key: str
    response: ModelResponse | None
    error: str | None = None
    cached: bool = False
    attempts: int = 0
    status: int | None = None  # the HTTP status of the final failure, when there was one

    @property
    def ok(self) -> bool:
        """The call finished (an answer, or an empty or filtered reply); False when it failed."""
        return self.response is not None

    @property
    def outcome(self) -> str:
        """ "ok" (an answer), "empty", "filtered" (replies that are not answers) or "error"."""
        return "error" if self.response is None else self.response.outcome

    @property
    def answered(self) -> bool:
        """The model gave an answer worth judging (not an error, not empty, not filtered)."""
        return self.outcome == "ok"

    @property
    def text(self) -> str:
        if self.response is None:
            raise ValueError(f"call {self.key[:12]} failed: {self.error}")
        return self.response.text


# A model none of whose calls ever reached its server gets this many retries on connection
# errors, then the run stops with a UserError (wrong URL or port), instead of minutes of backoff.
UNREACHABLE_RETRIES = 2
# Refusals that mean the configuration is wrong (bad key, no such model or path) when a model has
# not answered a single call yet: the run stops with a UserError instead of failing every call.
# Redirects to another origin (and redirect loops) are refused the same way.
FATAL_BEFORE_FIRST_ANSWER = {401, 403, 404, 301, 302, 303, 307, 308, 310}
# `map` keys and looks up its requests this many at a time (at least twice the lane's concurrency)
DISPATCH_CHUNK = 64
# A Retry-After wait at least this long is announced (at most once per ANNOUNCE_EVERY_S per model).
ANNOUNCE_WAIT_S = 1.0
ANNOUNCE_EVERY_S = 10.0
log = logging.getLogger("distillscope")


@dataclass
class RetryPolicy:
    max_retries: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0

    def capped(self, retry_after: float) -> bool:
        return retry_after > self.max_retry_after_s

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter"


@dataclass
class Budget:
    """Stops the run cleanly once this many calls were sent or tokens used (None: no limit)."""

    max_calls: int | None = None
    max_tokens: int | None = None
    calls: int = 0
    tokens: int = 0

    def check(self) -> None:
        if self.max_calls is not None and self.calls >= self.max_calls:
            raise BudgetExhausted(f"call budget of {self.max_calls} reached")
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            raise BudgetExhausted(f"token budget of {self.max_tokens} reached")


@dataclass
class ModelStats:
    sent: int = 0
    cached: int = 0
    failed: int = 0
    truncated: int = 0
    empty: int = 0
    filtered: int = 0
    capped: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "calls_sent": self.sent,
            "calls_cached": self.cached,
            "calls_failed": self.failed,
            "calls_truncated": self.truncated,
            "calls_empty": self.empty,
            "calls_filtered": self.filtered,
            "calls_capped": self.capped,
            "retries": self.retries,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "estimated_cost_usd": round(self.cost_usd, 6) if self.priced else None,
        }


@dataclass
class _ModelLane:
    """One endpoint's slots, rate limits and counts, shared by every backend of it (`Backend.endpoint`);
    `backend` is the first of them, whose settings (concurrency, limits, retries) the lane took."""

    backend: Backend
    slots: PrioritySlots
    requests: TokenBucket | None
    tokens: TokenBucket | None
    retry: RetryPolicy
    limit: int = 1
    stats: ModelStats = field(default_factory=ModelStats)
    contacted: bool = False  # some call of this model got an answer of any kind from a server
    answered: bool = False  # some call of this model succeeded
    announced_at: float = -1e9  # when a rate-limit wait was last announced


@dataclass(frozen=True, slots=True)
class _Call:
    """One call on its way: its lane, the backend that sends it, its ledger key and request, for
    progress its stage, and the priority of its wait for a slot."""

    lane: _ModelLane
    backend: Backend
    key: str
    request_json: str
    request: ModelRequest
    stage: str
    priority: int = 0


class Scheduler:
    def __init__(
        self,
        ledger: Ledger,
        *,
        concurrency: int | None = None,
        budget: Budget | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.ledger = ledger
        self.concurrency = concurrency
        self.budget = budget or Budget()
        self.progress = progress or Progress.silent()
        self._lanes: dict[tuple[object, ...], _ModelLane] = {}  # by endpoint
        self._inflight: dict[str, asyncio.Future[CallResult]] = {}
        self.started = time.monotonic()
        self.lulls = Lulls()  # marked at every send and answer: CPU work that can wait fills the gaps

    # -- public API ----------------------------------------------------------------------------

    async def call(
        self, backend: Backend, request: ModelRequest, *, stage: str = "calls", priority: int = 0
    ) -> CallResult:
        """One call, answered from the ledger when possible. Raises only `BudgetExhausted`, or
        `UserError` when the model cannot be reached or refuses its first call (a setup problem).
        A call of higher `priority` takes the lane's next free slot before queued calls of lower."""
        lane = self._lane(backend)
        request = backend.prepare(request)
        key, request_json = keyed_request(backend.ledger_identity(), request)
        return await self._call_keyed(_Call(lane, backend, key, request_json, request, stage, priority))

    async def map(
        self,
        backend: Backend,
        requests: Sequence[ModelRequest] | Iterable[ModelRequest],
        *,
        stage: str,
        on_result: Callable[[int, CallResult], object] | None = None,
    ) -> list[CallResult]:
        """Many calls at once, results in input order (the lane bounds the concurrency).

        Answers already in the ledger are read in one query per chunk of requests and returned
        without a task each, so rerunning a finished 10,000-call run takes about a second. `on_result(i,
        result)` is called as each answer arrives (ledger answers at once), so a caller can work on
        early answers (judge them) while later ones are in flight."""
        requests = list(requests)
        self.progress.add_total(stage, len(requests))
        lane = self._lane(backend)
        identity = backend.ledger_identity()
        results: list[CallResult | None] = [None] * len(requests)
        tasks: dict[int, asyncio.Future[CallResult]] = {}
        # The first chunk fills the lane's slots at once; the later ones are keyed and looked up in
        # the lulls while its calls are out: the first call of a 10,000-call map goes out after 64
        # requests are keyed, not after all of them.
        size = max(DISPATCH_CHUNK, 2 * lane.limit)
        try:
            for start in range(0, len(requests), size):
                if start:
                    await self.lulls.wait()
                prepared = [backend.prepare(r) for r in requests[start : start + size]]
                keyed = [keyed_request(identity, r) for r in prepared]
                answers = self.ledger.answers([key for key, _ in keyed])
                for i, ((key, request_json), request) in enumerate(
                    zip(keyed, prepared, strict=True), start=start
                ):
                    entry = answers.get(key)
                    if entry is not None:
                        results[i] = cached = self._cached(lane, key, entry, stage)
                        if on_result is not None:
                            on_result(i, cached)
                        continue
                    call = _Call(lane, backend, key, request_json, request, stage)
                    tasks[i] = asyncio.ensure_future(self._call_keyed(call, unanswered=True))
                    if on_result is not None:
                        tasks[i].add_done_callback(partial(_report_result, on_result, i))
            if tasks:
                for i, result in zip(tasks, await asyncio.gather(*tasks.values()), strict=True):
                    results[i] = result
        except BudgetExhausted:
            # The budget is spent: the calls already sent finish and are recorded (the server may
            # have answered them already; a rerun must not pay for them again), and every other
            # call stops at its own budget check, before it is sent.
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            raise
        except BaseException:
            # Ctrl-C, an unreachable server: stop the others now, while the ledger is still open,
            # so their claims are released cleanly.
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            raise
        return [r for r in results if r is not None]

    def limit(self, backend: Backend) -> int:
        """How many calls of `backend` may be in flight at once (its lane's concurrency)."""
        lane = self._lane(backend)
        return lane.limit

    def stats(self) -> dict[str, dict[str, object]]:
        return {lane.backend.name: lane.stats.as_dict() for lane in self._lanes.values()}

    def capped(self) -> list[tuple[str, int, int]]:
        """(model, answers cut, its max_answer_bytes) for every model with answers cut at the cap,
        sent or answered from the ledger (finish_reason 'capped')."""
        return [
            (lane.backend.name, lane.stats.capped, lane.backend.config.max_answer_bytes)
            for lane in self._lanes.values()
            if lane.stats.capped
        ]

    def totals(self) -> dict[str, object]:
        stats = [lane.stats for lane in self._lanes.values()]
        priced = any(s.priced for s in stats)
        return {
            "calls_sent": sum(s.sent for s in stats),
            "calls_cached": sum(s.cached for s in stats),
            "calls_failed": sum(s.failed for s in stats),
            "calls_truncated": sum(s.truncated for s in stats),
            "calls_empty": sum(s.empty for s in stats),
            "calls_filtered": sum(s.filtered for s in stats),
            "calls_capped": sum(s.capped for s in stats),
            "retries": sum(s.retries for s in stats),
            "prompt_tokens": sum(s.prompt_tokens for s in stats),
            "completion_tokens": sum(s.completion_tokens for s in stats),
            "estimated_cost_usd": round(sum(s.cost_usd for s in stats), 6) if priced else None,
            "wall_s": round(time.monotonic() - self.started, 3),
        }

    # -- internals -----------------------------------------------------------------------------

    def _lane(self, backend: Backend) -> _ModelLane:
        lane = self._lanes.get(backend.endpoint())
        if lane is None:
            cfg = backend.config
            limit = cfg.concurrency or self.concurrency or backend.default_concurrency
            if backend.default_concurrency == 1:
                limit = 1  # local models are not thread-safe
            lane = _ModelLane(
                backend=backend,
                slots=PrioritySlots(max(1, limit)),
                requests=TokenBucket(cfg.requests_per_minute) if cfg.requests_per_minute else None,
                tokens=TokenBucket(cfg.tokens_per_minute) if cfg.tokens_per_minute else None,
                retry=RetryPolicy(
                    max_retries=cfg.max_retries,
                    base_delay_s=cfg.retry_base_s,
                    max_retry_after_s=cfg.max_retry_after_s,
                ),
                limit=max(1, limit),
            )
            lane.stats.priced = (
                cfg.price_per_million_input is not None or cfg.price_per_million_output is not None
            )
            self._lanes[backend.endpoint()] = lane
        return lane

    async def _call_keyed(self, call: _Call, *, unanswered: bool = False) -> CallResult:
        key = call.key
        shared = self._inflight.get(key)
        if shared is not None:  # the same request is already on its way: share its answer
            return await asyncio.shield(shared)
        future: asyncio.Future[CallResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._resolve(call, unanswered)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters get it re-raised
            raise
        finally:
            del self._inflight[key]

    def _cached(self, lane: _ModelLane, key: str, entry: LedgerEntry, stage: str) -> CallResult:
        assert entry.response is not None
        lane.stats.cached += 1
        if entry.response.finish_reason == "length":
            lane.stats.truncated += 1
        _count_outcome(lane.stats, entry.response)
        if entry.response.finish_reason == CAPPED:
            lane.stats.capped += 1
        self.progress.advance(stage, cached=True)
        return CallResult(key, entry.response, cached=True, attempts=entry.attempts)

    async def _resolve(self, call: _Call, unanswered: bool = False) -> CallResult:
        """The call's answer: from the ledger, or sent under a claim. `unanswered`: the caller has
        just looked the key up (`map`), so the first lookup is skipped; a claim that fails (another
        process holds the key) looks again."""
        lane, key, request_json, request, stage = (
            call.lane,
            call.key,
            call.request_json,
            call.request,
            call.stage,
        )
        while not unanswered:
            entry = self.ledger.get(key)
            if entry is not None and entry.response is not None:
                return self._cached(lane, key, entry, stage)
            if entry is not None and entry.status == "pending" and not self.ledger.claimable(entry):
                await asyncio.sleep(0.2)  # another process is calling it right now
                continue
            break
        await lane.slots.acquire(call.priority)
        try:
            self.budget.check()
            self.budget.calls += 1  # counted before the claim's await: no other call slips past the budget
            try:
                claimed = await self.ledger.claim_grouped(key, call.backend.name, stage, request_json)
            except BaseException:
                self.ledger.release(key)  # cancelled just after the claim committed: give it back
                raise
            if claimed:
                try:
                    result = await self._send(lane, call.backend, key, request)
                except BaseException:
                    self.ledger.release(key)
                    raise
            else:
                self.budget.calls -= 1
        finally:
            lane.slots.release()
        if not claimed:  # another process holds it or has answered it: look again, slot given back
            return await self._resolve(call)
        if result.response is not None:
            self.ledger.record_ok_grouped(key, result.response, result.attempts)
            usage = result.response.usage
            self.budget.tokens += usage.total_tokens
            self._account(lane, result.response)
            self.progress.advance(stage)
        else:
            self.ledger.record_error_grouped(key, result.error or "unknown error", result.attempts)
            lane.stats.failed += 1
            self.progress.advance(stage, failed=True)
        return result

    async def _send(self, lane: _ModelLane, backend: Backend, key: str, request: ModelRequest) -> CallResult:
        attempt = 0
        timeout = backend.config.timeout_s
        while True:
            attempt += 1
            if lane.requests is not None:
                await lane.requests.acquire(1)
            if lane.tokens is not None:
                await lane.tokens.acquire(_estimate_tokens(request))
            started = time.perf_counter()
            self.lulls.mark()
            try:
                async with asyncio.timeout(timeout):  # no extra task per call, unlike wait_for
                    response = await backend.generate(request)
                self.lulls.mark()
                response.latency_s = time.perf_counter() - started
                response = cap_answer(response, backend.config.max_answer_bytes)
                response = safe_answer(backend.name, key, response)
                lane.stats.sent += 1
                lane.contacted = lane.answered = True
                return CallResult(key, response, attempts=attempt)
            except TimeoutError:
                error = BackendError(f"timed out after {timeout:g}s", retryable=True)
            except BackendError as exc:
                error = exc
                lane.contacted = lane.contacted or not exc.unreachable
            self.lulls.mark()  # a failed call is traffic too
            lane.stats.sent += 1
            if (
                error.unreachable
                and not lane.contacted
                and attempt > min(UNREACHABLE_RETRIES, lane.retry.max_retries)
            ):
                raise UserError(
                    f"model '{backend.name}': cannot reach its server ({error}); "
                    "check the URL, the port and that the server is running"
                )
            if error.status in FATAL_BEFORE_FIRST_ANSWER and not lane.answered:
                raise UserError(
                    f"model '{backend.name}': the server refused the first call ({error}); "
                    "check the API key variable, the model name and the URL"
                )
            if not error.retryable or attempt > lane.retry.max_retries:
                detail = f"{error} (after {attempt} attempt{'s' if attempt > 1 else ''})"
                return CallResult(key, None, error=detail, attempts=attempt, status=error.status)
            lane.stats.retries += 1
            wait = lane.retry.delay(attempt, error.retry_after)
            if error.retry_after is not None:
                self._announce_wait(lane, wait, error.retry_after)
            await asyncio.sleep(wait)

    def _announce_wait(self, lane: _ModelLane, wait: float, asked: float) -> None:
        """Say that a run is waiting for a server's rate limit, instead of stalling silently."""
        now = time.monotonic()
        if wait < ANNOUNCE_WAIT_S or now - lane.announced_at < ANNOUNCE_EVERY_S:
            return
        lane.announced_at = now
        capped = (
            f" (the server asked for {asked:.0f} s; capped by max_retry_after_s)"
            if lane.retry.capped(asked)
            else ""
        )
        message = f"model '{lane.backend.name}': waiting {wait:.0f} s for the server's rate limit{capped}"
        log.warning(message)
        self.progress.note(message)

    def _account(self, lane: _ModelLane, response: ModelResponse) -> None:
        cfg = lane.backend.config
        stats = lane.stats
        if response.finish_reason == "length":  # an answer cut at max_tokens: kept, but counted
            stats.truncated += 1
        _count_outcome(stats, response)
        if response.finish_reason == CAPPED:  # cut by us at max_answer_bytes
            stats.capped += 1
        stats.prompt_tokens += response.usage.prompt_tokens
        stats.completion_tokens += response.usage.completion_tokens
        stats.cost_usd += (
            response.usage.prompt_tokens * (cfg.price_per_million_input or 0.0)
            + response.usage.completion_tokens * (cfg.price_per_million_output or 0.0)
        ) / 1e6


def _count_outcome(stats: ModelStats, response: ModelResponse) -> None:
    outcome = response.outcome
    if outcome == "empty":
        stats.empty += 1
    elif outcome == "filtered":
        stats.filtered += 1


CAPPED = "capped"


def cap_answer(response: ModelResponse, max_bytes: int) -> ModelResponse:
    """An answer longer than `max_bytes` (UTF-8) cut there, on a character boundary, with
    finish_reason 'capped': a runaway 60 MB answer is not stored whole, and it is counted."""
    text = response.text
    if len(text) * 4 <= max_bytes or len(encoded := text.encode("utf-8")) <= max_bytes:
        return response
    cut = encoded[:max_bytes].decode("utf-8", "ignore")
    return response.model_copy(update={"text": cut, "finish_reason": CAPPED})


def safe_answer(model: str, key: str, response: ModelResponse) -> ModelResponse:
    """An answer whose lone UTF-16 surrogates (a server's `"\\ud83d"`) are replaced by U+FFFD, and
    the repair logged: such a `str` cannot be written as UTF-8 anywhere (ledger, files, terminal).
    A secret we sent (a key, a key header, a URL's `sig`) quoted in it is masked, also in part."""
    text, repaired = repair_surrogates(response.text)
    finish, repaired_finish = repair_surrogates(response.finish_reason or "")
    masked = mask_secrets(text)
    if masked != text:  # a server that echoes our key in its answer: it must not reach the ledger
        log.warning("model '%s': call %s: the answer quoted a secret we sent; masked", model, key[:12])
    if repaired or repaired_finish:
        log.warning(
            "model '%s': call %s: the answer held %d lone UTF-16 surrogate(s); replaced by U+FFFD",
            model,
            key[:12],
            repaired + repaired_finish,
        )
    if masked == response.text and not repaired_finish:
        return response
    update: dict[str, object] = {"text": masked}
    if repaired_finish:
        update["finish_reason"] = finish
    return response.model_copy(update=update)


def _report_result(
    on_result: Callable[[int, CallResult], object], index: int, task: asyncio.Future[CallResult]
) -> None:
    """A done-callback: hand a finished call's result on (a failed or cancelled task raises in `map`)."""
    if not task.cancelled() and task.exception() is None:
        on_result(index, task.result())


def _estimate_tokens(request: ModelRequest) -> float:
    chars = sum(len(m.content) for m in request.messages)
    return chars / 4 + (request.params.max_tokens or 256)
