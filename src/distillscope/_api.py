"""The Python API behind `distillscope.ice`, `.rse`, `.models`, `load`, `report` and `study`:
the same library calls the CLI makes, with keyword arguments for its flags. Each function has a
synchronous form and an `_async` twin; the synchronous form also works inside a running event
loop (a notebook) by running in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from distillscope.naming import keyword

if TYPE_CHECKING:
    from distillscope.engine.run import RunOptions
    from distillscope.results import AnswersResult, IceResult, MatrixResult, Result, RseResult, StudyResult
    from distillscope.rse.attribution.types import AttributionResult

T = TypeVar("T")
PathLike = str | Path

# A refused run directory: what the API offers (the CLI's hint names --out and --force).
# How often a caller waiting on a run in a worker thread looks whether it was cancelled (Ctrl-C).
_POLL_S = 0.05

FRESH_START_HINT = "choose another out=, or pass force=True to start it afresh (the ledger is kept)"


def sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion, from plain code or from inside a running loop. The run starts
    outside the `except` that finds no loop: an error it raises would otherwise carry "no running
    event loop" as its context, printed above the real error in a script's traceback."""
    from distillscope.engine.interrupts import run_interruptibly

    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if not in_loop:
        return run_interruptibly(lambda: coro)
    return _in_worker_thread(coro)


def _in_worker_thread(coro: Coroutine[Any, Any, T]) -> T:
    """`coro` run on its own event loop in a worker thread, for a caller inside a running loop (a
    notebook's cell, a script's `asyncio.run`). A Ctrl-C while it runs, whether it raises
    KeyboardInterrupt here (Jupyter's interrupt) or asyncio's handler cancels the caller's task (a
    script's `asyncio.run`), cancels the run in the worker, which closes its ledger and releases its
    directory, and then stops the caller. The run used to go on to its end: a `with
    ThreadPoolExecutor` waited for its worker whatever had stopped the wait, and a cancelled task
    blocked in a synchronous call never saw its cancellation."""
    outcome: dict[str, Any] = {}
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = []
    stop = threading.Event()
    # waited on rather than `Thread.join`: a join interrupted by KeyboardInterrupt may then
    # report the thread ended while it still runs (CPython gh-90882)
    finished = threading.Event()

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        running.append((asyncio.get_running_loop(), task))
        if stop.is_set():  # interrupted before the run began
            coro.close()
            raise asyncio.CancelledError
        return await coro

    def work() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc
        finally:
            finished.set()

    caller = asyncio.current_task()
    worker = threading.Thread(target=work, name="distillscope-run", daemon=True)
    worker.start()
    try:
        while not finished.wait(_POLL_S):
            if caller is not None and caller.cancelling():
                raise asyncio.CancelledError
    except BaseException:
        stop.set()
        for loop, task in running:
            with contextlib.suppress(RuntimeError):  # the run has ended and closed its loop
                loop.call_soon_threadsafe(task.cancel)
        finished.wait()  # the run's clean-up; a second Ctrl-C stops waiting for it
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _options(command: str, out: PathLike | None, run: dict[str, Any]) -> RunOptions:
    from distillscope import api_args
    from distillscope.engine.run import RunOptions

    unknown = set(run) - set(api_args.RUN_KEYS)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    run = api_args.run_options(run)

    def path(value: Any, name: str = "out") -> Path | None:
        return api_args.path(value, name)

    return RunOptions(
        command=command, out=path(out), cache=path(run.get("cache"), "cache"),
        config=path(run.get("config"), "config"),
        concurrency=run.get("concurrency"), max_calls=run.get("max_calls"),
        max_tokens=run.get("max_tokens_total"), quiet=run.get("quiet", True),
        force=run.get("force", False), fresh_start_hint=FRESH_START_HINT, naming=keyword,
    )  # fmt: skip


def _split(
    run: dict[str, Any], cls: type | None = None, given: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, run-wide options) from one set of keyword arguments; with `cls`, the settings
    checked against its fields' types (`api_args`), `given` being the function's own parameters
    (besides `out`), which an unknown keyword's message lists first."""
    from distillscope import api_args

    keys = set(api_args.RUN_KEYS)
    fields = {k: v for k, v in run.items() if k not in keys}
    if cls is not None:
        fields = api_args.settings_fields(cls, fields, given, own=(*given, "out"))
    return fields, {k: v for k, v in run.items() if k in keys}


async def _report_beside(out: Path) -> None:
    from distillscope.report import write_run_report

    write_run_report(out)


# ---------------------------------------------------------------------------------- ICE
async def ice_run_async(target: str, *, out: PathLike | None = None, **kwargs: Any) -> IceResult:
    """`distillscope ice run`: any `IceRunSettings` field as a keyword (mode, budget, judge, ...),
    plus the run-wide cache, config, concurrency, max_calls, max_tokens_total, quiet."""
    from distillscope import api_args
    from distillscope.engine.run import RunContext
    from distillscope.ice.runner import IceRunSettings, run_ice

    fields, run = _split(kwargs, IceRunSettings, ("target",))
    settings = IceRunSettings(target=api_args.model_spec(target, "target"), **fields)
    settings.validate(keyword)
    async with RunContext(_options("ice-run", out, run)) as ctx:
        result = await run_ice(ctx, settings)
        await _report_beside(ctx.out)
    return result


async def ice_rescore_async(log: PathLike, *, out: PathLike | None = None, **kwargs: Any) -> IceResult:
    """`distillscope ice rescore LOG`: judge, judge_model, target_org, vendor_words, seed,
    judge_workers (processes for the rules judge; 0 by default here, since spawned workers re-import
    the calling script: pass a number from a script with an `if __name__ == "__main__"` guard), plus
    the run-wide options."""
    from distillscope import api_args
    from distillscope.engine.run import RunContext
    from distillscope.errors import UserError
    from distillscope.ice.runner import IceRescoreSettings, check_weights, rescore_ice

    fields, run = _split(kwargs, IceRescoreSettings, ("log",))
    settings = IceRescoreSettings(log=str(api_args.path(log, "log")), **fields)
    if not settings.vendor_words:
        raise UserError("vendor_words: give at least one word")
    check_weights(settings.judge_weights)
    async with RunContext(_options("ice-rescore", out, run)) as ctx:
        result = await rescore_ice(ctx, settings)
        await _report_beside(ctx.out)
    return result


# ---------------------------------------------------------------------------------- RSE
async def rse_run_async(
    reference: str,
    tests: Sequence[str],
    datasets: dict[str, str],
    *,
    out: PathLike | None = None,
    **kwargs: Any,
) -> RseResult:
    """`distillscope rse run`: datasets as {name: path | "builtin" | "hf:NAME"}; any
    `RseRunSettings` field (panel, sample, seed, judge, swap, ...) and the run-wide options."""
    from distillscope import api_args
    from distillscope.engine.run import RunContext
    from distillscope.rse.stage import RseRunSettings, run_rse_stage

    fields, run = _split(kwargs, RseRunSettings, ("reference", "tests", "datasets"))
    fields["panel"] = api_args.model_specs(fields.get("panel") or [], "panel")
    settings = RseRunSettings(
        reference=api_args.model_spec(reference, "reference"),
        tests=api_args.model_specs(tests, "tests"),
        datasets=api_args.datasets(datasets),
        **fields,
    )
    settings.validate(keyword)
    async with RunContext(_options("rse", out, run)) as ctx:
        result = await run_rse_stage(ctx, settings)
        await _report_beside(ctx.out)
    return result


async def rse_matrix_async(
    models: Sequence[str], datasets: dict[str, str], *, out: PathLike | None = None, **kwargs: Any
) -> MatrixResult:
    """`distillscope rse matrix`: every pair of `models` on the same prompts, clustered."""
    from distillscope import api_args
    from distillscope.engine.run import RunContext
    from distillscope.rse.stage import RseMatrixSettings, run_matrix_stage

    fields, run = _split(kwargs, RseMatrixSettings, ("models", "datasets"))
    settings = RseMatrixSettings(
        models=api_args.model_specs(models, "models"), datasets=api_args.datasets(datasets), **fields
    )
    settings.validate(keyword)
    async with RunContext(_options("rse-matrix", out, run)) as ctx:
        result = await run_matrix_stage(ctx, settings)
        await _report_beside(ctx.out)
    return result


async def rse_attribute_async(
    tests: Sequence[str],
    *,
    families: dict[str, Sequence[str]] | None = None,
    datasets: dict[str, str] | None = None,
    controls: Sequence[str] | None = (),
    bank: PathLike | None = None,
    bank_manifest: PathLike | None = None,
    out: PathLike | None = None,
    **kwargs: Any,
) -> AttributionResult:
    """`distillscope rse attribute`: the test models, and families as {name: [spec, ...]} with
    datasets, or `bank` (a folder of published answers, or "hf:NAME[:split]") whose models are the
    families and whose prompts are the dataset; `controls` (models known not to be trained on any
    family's outputs; two or more, or none (or None) for family resemblance only); any
    `RseAttributeSettings` field (alpha, features, sample, seed, ...)
    and the run-wide options."""
    from distillscope import api_args
    from distillscope.engine.run import RunContext
    from distillscope.rse.stage import RseAttributeSettings, run_attribution_stage

    fields, run = _split(
        kwargs, RseAttributeSettings, ("tests", "families", "datasets", "controls", "bank", "bank_manifest")
    )
    settings = RseAttributeSettings(
        tests=api_args.model_specs(tests, "tests"),
        families=api_args.families(families),
        controls=api_args.model_specs(() if controls is None else controls, "controls"),
        datasets=api_args.datasets(datasets) if datasets else {},
        bank=None if bank is None else str(bank),
        bank_manifest=None if bank_manifest is None else str(api_args.path(bank_manifest, "bank_manifest")),
        **fields,
    )  # fmt: skip
    settings.validate(keyword)
    async with RunContext(_options("rse-attribute", out, run)) as ctx:
        result = await run_attribution_stage(ctx, settings)
        await _report_beside(ctx.out)
    return result


# ---------------------------------------------------------------------------------- models
async def models_answer_async(
    model: str, prompts: PathLike, *, out: PathLike | None = None, **kwargs: Any
) -> AnswersResult:
    """`distillscope models answer`: system_prompt, temperature, max_tokens, seed, sharegpt_turns
    and the run-wide options."""
    from distillscope import api_args
    from distillscope.engine.run import RunContext
    from distillscope.models.answering import AnswerSettings, answer_prompts

    fields, run = _split(kwargs, AnswerSettings, ("model", "prompts"))
    settings = AnswerSettings(
        model=api_args.model_spec(model, "model"), prompts=str(api_args.path(prompts, "prompts")), **fields
    )
    settings.validate(keyword)
    options = _options("answer", out, run)
    options.inputs = settings.input_files()
    async with RunContext(options) as ctx:
        return await answer_prompts(ctx, settings)


# ---------------------------------------------------------------------------------- load, report, study
def load(path: PathLike) -> Result:
    """The typed result of a run directory (any kind; files of distillscope 0.1 too)."""
    from distillscope import api_args
    from distillscope.results.load import load as load_result

    directory = api_args.path(path, "path")
    if directory is None:
        from distillscope.errors import UserError

        raise UserError("argument 'path': expected a run directory")
    return load_result(directory)


def report(
    paths: PathLike | Sequence[PathLike], out: PathLike | None = None, format: str | None = None
) -> Path:
    """`distillscope report`: combine run directories into one page (html, md or json, from
    `format` or `out`'s suffix); returns the file written (default report.<format>)."""
    from distillscope import api_args
    from distillscope.engine.run import write_atomic
    from distillscope.errors import UserError, clip
    from distillscope.report import build_report, check_target, pick_format, render

    if isinstance(paths, str | Path):
        paths = [paths]
    if not isinstance(paths, list | tuple):
        raise UserError(
            f"argument 'paths': expected a run directory or a list of them (got {clip(repr(paths))})"
        )
    checked = [api_args.path(p, f"paths[{i}]") for i, p in enumerate(paths)]
    given = [p for p in checked if p is not None]
    if not given:  # an empty list reached the report's reader: ": no ICE, RSE or matrix results"
        raise UserError("argument 'paths': no result directories given; give one or more run directories")
    target = api_args.path(out, "out")
    if format is not None and not isinstance(format, str):
        raise UserError(f"argument 'format': expected text (got {format!r})")
    chosen = pick_format(format, target, "format")
    target = target or Path(f"report.{chosen}")
    check_target(target, given, chosen, "out")
    text = render(build_report(given), chosen)
    write_atomic(target, text)
    return target


async def study_async(file: PathLike, *, out: PathLike, **kwargs: Any) -> StudyResult:
    """`distillscope study FILE --out DIR`: concurrency, max_calls, max_tokens_total, quiet."""
    from distillscope import api_args
    from distillscope.engine.run import RunOptions
    from distillscope.studies import StudyOptions, load_study, run_study

    options = StudyOptions(
        **api_args.settings_fields(StudyOptions, kwargs, run_keys=False, own=("file", "out"))
    )
    # the budgets each stage takes, checked here, where their names are this function's keywords
    RunOptions(
        command="study", concurrency=options.concurrency, max_calls=options.max_calls,
        max_tokens=options.max_tokens_total, naming=keyword,
    ).validate()  # fmt: skip
    study_file = api_args.path(file, "file")
    directory = api_args.path(out, "out")
    if study_file is None or directory is None:
        from distillscope.errors import UserError

        raise UserError("study needs a study file and out=DIR")
    return await run_study(load_study(study_file), directory, options)


def ice_run(target: str, *, out: PathLike | None = None, **kwargs: Any) -> IceResult:
    return sync(ice_run_async(target, out=out, **kwargs))


def ice_rescore(log: PathLike, *, out: PathLike | None = None, **kwargs: Any) -> IceResult:
    return sync(ice_rescore_async(log, out=out, **kwargs))


def rse_run(
    reference: str,
    tests: Sequence[str],
    datasets: dict[str, str],
    *,
    out: PathLike | None = None,
    **kwargs: Any,
) -> RseResult:
    return sync(rse_run_async(reference, tests, datasets, out=out, **kwargs))


def rse_attribute(tests: Sequence[str], **kwargs: Any) -> AttributionResult:
    return sync(rse_attribute_async(tests, **kwargs))


def rse_matrix(
    models: Sequence[str], datasets: dict[str, str], *, out: PathLike | None = None, **kwargs: Any
) -> MatrixResult:
    return sync(rse_matrix_async(models, datasets, out=out, **kwargs))


def models_answer(
    model: str, prompts: PathLike, *, out: PathLike | None = None, **kwargs: Any
) -> AnswersResult:
    return sync(models_answer_async(model, prompts, out=out, **kwargs))


def study(file: PathLike, *, out: PathLike, **kwargs: Any) -> StudyResult:
    return sync(study_async(file, out=out, **kwargs))


for _sync_fn, _async_fn in (
    (ice_run, ice_run_async), (ice_rescore, ice_rescore_async), (rse_run, rse_run_async),
    (rse_matrix, rse_matrix_async), (rse_attribute, rse_attribute_async),
    (models_answer, models_answer_async), (study, study_async),
):  # fmt: skip
    _sync_fn.__doc__ = _async_fn.__doc__
