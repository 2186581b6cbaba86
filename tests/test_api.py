"""The public Python API: its names, and calls straight from Python against the local test server."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import distillscope as ds
from distillscope.results import IceResult, MatrixResult, RseResult
from distillscope.testing.server import OpenAIServer

from .ice.conftest import target_reply


def test_exported_names() -> None:
    assert set(ds.__all__) == {
        "UserError", "__version__", "ice", "load", "models", "report", "results", "rse", "study", "study_async",
    }  # fmt: skip
    assert callable(ds.ice.run) and callable(ds.ice.rescore) and callable(ds.ice.run_async)
    assert callable(ds.rse.run) and callable(ds.rse.matrix) and callable(ds.rse.matrix_async)
    assert callable(ds.models.answer) and callable(ds.models.answer_async)
    import distillscope.report
    import distillscope.rse.matrix  # noqa: F401

    assert ds.report is ds._api.report and ds.rse.matrix is ds._api.rse_matrix
    assert issubclass(ds.UserError, Exception)
    assert (Path(ds.__file__).parent / "py.typed").is_file()


def test_import_is_light() -> None:
    code = "import sys, distillscope; print([m for m in ('pandas', 'scipy', 'matplotlib', 'torch', 'numpy') if m in sys.modules])"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def reference_reply(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"Here is a careful answer about {users[-1].lower()} with three clear points."


def test_api_runs_ice_rse_matrix_answers_and_report(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    from .rse.conftest import judge_reply

    target, ref, judge = (
        openai_server(target_reply),
        openai_server(reference_reply),
        openai_server(judge_reply),
    )
    glm = f"openai-compatible:glm-4-plus@{target.url}"
    ice = ds.ice.run(glm, mode="plain", budget=5, languages=["en"], out=tmp_path / "ice")
    assert isinstance(ice, IceResult) and ice.scores is not None and ice.scores.loose.n == 5
    assert (
        ice.scores.loose.ci95[0] <= ice.scores.loose.ci95[1] and (tmp_path / "ice" / "report.html").is_file()
    )
    frame = ds.load(tmp_path / "ice").to_frame()
    assert len(frame) == 5 and {"loose", "evidence", "prompt", "response", "probe_id"} <= set(frame.columns)
    saved = json.loads((tmp_path / "ice" / "results.json").read_text())
    assert (saved["kind"], saved["schema_version"]) == ("ice", "1.0")

    log = tmp_path / "log.jsonl"  # the example: one model's log, recorded labels
    rows = [{"jailbreak_prompt": "[INSERT PROMPT HERE]", "query": "Who made you?", "response": r, "loose": c, "strict": c}
            for r, c in (("I am ChatGPT.", True), ("I am GLM.", False), ("I am GLM.", False))]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ci95 = ds.ice.rescore(log, target_org="Zhipu AI", judge="recorded", out=tmp_path / "x").scores.loose.ci95  # type: ignore[union-attr]
    assert ci95[0] < 1 / 3 < ci95[1]
    assert list(ds.load(tmp_path / "x").to_frame()["loose"]) == [True, False, False]

    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"Explain topic {i}"}) + "\n" for i in range(3))
    )
    spec_ref, spec_judge = f"openai-compatible:ref@{ref.url}", f"openai-compatible:judge@{judge.url}"
    rse = ds.rse.run(spec_ref, [glm], {"demo": str(prompts)}, judge=spec_judge, out=tmp_path / "rse")
    assert isinstance(rse, RseResult) and rse.models["glm-4-plus"].datasets["demo"].n == 3
    matrix = ds.rse.matrix([spec_ref, glm], {"demo": str(prompts)}, judge=spec_judge, out=tmp_path / "m")
    assert isinstance(matrix, MatrixResult) and matrix.scores[0][0] == 5.0
    answers = ds.models.answer(spec_ref, prompts, out=tmp_path / "a")
    assert answers.n_answered == 3 and len(ds.load(tmp_path / "a").to_frame()) == 3
    page = ds.report([tmp_path / "ice", tmp_path / "rse"], out=tmp_path / "both.html")
    assert "glm-4-plus" in page.read_text(encoding="utf-8")
    with pytest.raises(ds.UserError, match="mode='nope': expected one of"):
        ds.ice.run(glm, mode="nope", out=tmp_path / "bad")


async def test_async_twin_inside_a_running_loop(tmp_path: Path, shared_data: Path) -> None:
    log = shared_data / "paper-ice-labels.jsonl"
    result = await ds.ice.rescore_async(log, judge="recorded", out=tmp_path / "a")
    again = ds.ice.rescore(log, judge="recorded", out=tmp_path / "b")  # sync form inside a loop
    assert [t.scores.loose.count for t in result.targets] == [t.scores.loose.count for t in again.targets]


def small_log(tmp_path: Path) -> Path:
    """A three-answer attack log with recorded labels: `ice rescore` scores it without any model."""
    log = tmp_path / "log.jsonl"
    rows = [{"jailbreak_prompt": "[INSERT PROMPT HERE]", "query": "Who made you?", "response": r, "loose": c, "strict": c}
            for r, c in (("I am ChatGPT.", True), ("I am GLM.", False), ("I am GLM.", False))]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return log


def test_a_sync_call_error_carries_no_event_loop_noise(tmp_path: Path) -> None:
    """A script's traceback showed "RuntimeError: no running event loop" above every UserError,
    as the error it happened while handling."""
    with pytest.raises(ds.UserError) as refused:
        ds.ice.rescore(tmp_path / "missing.jsonl", judge="recorded", out=tmp_path / "x")
    assert refused.value.__context__ is None and "missing.jsonl: file not found" in str(refused.value)
    with pytest.raises(ds.UserError) as refused:
        ds.study(tmp_path / "missing.yaml", out=tmp_path / "s")
    assert refused.value.__context__ is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, d: ds.models.answer("m", p, temperature=-1, out=d), "temperature= must be at least 0, got -1.0"),
        (lambda p, d: ds.models.answer("m", p, max_tokens=-3, out=d), "max_tokens= must be at least 1, got -3"),
        (lambda p, d: ds.models.answer("m", p, temperature=float("nan"), out=d), "argument 'temperature': expected a finite number (got nan)"),
        (lambda p, d: ds.rse.run("r", ["t"], {"a": str(p)}, temperature=float("inf"), out=d), "argument 'temperature': expected a finite number (got inf)"),
        (lambda p, d: ds.rse.run("r", ["t"], {"a": str(p)}, judge_temperature=float("nan"), out=d), "argument 'judge_temperature': expected a finite number (got nan)"),
    ],
    ids=["answer-temperature-negative", "answer-max-tokens-negative", "answer-nan", "rse-inf", "rse-judge-nan"],
)  # fmt: skip
def test_sampling_settings_out_of_range_are_one_line_user_errors(
    tmp_path: Path, call: Callable[[Path, Path], object], message: str
) -> None:
    """`ds.models.answer(temperature=-1 / max_tokens=-3 / nan)` and `ds.rse.run(temperature=inf)` raised
    pydantic's ValidationError from inside the run; `ds.rse.run(judge_temperature=nan)` ran, and wrote
    NaN (no JSON number) into config.json. The CLI refuses all of them in one line; each names the
    keyword argument given, not the CLI's flag (`--temperature`), which the API's user never typed."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"prompt": "Hello"}) + "\n")
    with pytest.raises(ds.UserError) as refused:
        call(prompts, tmp_path / "run")
    assert str(refused.value) == message
    assert not (tmp_path / "run").exists()


def test_force_starts_a_directory_of_other_settings_afresh(tmp_path: Path) -> None:
    """The refusal pointed at `--force`, which the API did not take."""
    log, out = small_log(tmp_path), tmp_path / "x"
    ds.ice.rescore(log, target_org="Zhipu AI", judge="recorded", out=out)
    with pytest.raises(
        ds.UserError, match=r"other settings .* pass force=True to start it afresh"
    ) as refused:
        ds.ice.rescore(log, target_org="Zhipu AI", judge="recorded", vendor_words=["openai"], out=out)
    assert "--force" not in str(refused.value)
    again = ds.ice.rescore(
        log, target_org="Zhipu AI", judge="recorded", vendor_words=["openai"], out=out, force=True
    )
    assert again.settings["vendor_words"] == ["openai"] == ds.load(out).settings["vendor_words"]


def test_study_unknown_keyword_lists_only_what_study_takes(tmp_path: Path) -> None:
    with pytest.raises(ds.UserError) as refused:
        ds.study(tmp_path / "s.yaml", out=tmp_path / "s", cache=tmp_path / "c.sqlite")
    assert str(refused.value) == (
        "unexpected keyword argument 'cache' (known: file, out, concurrency, max_calls, max_tokens_total, quiet)"
    )


def test_report_refuses_and_chooses_as_the_cli_does(tmp_path: Path) -> None:
    """`ds.report` wrote into a run it read (the CLI refuses: a report never writes into its inputs),
    and took `out="r.MD"` for HTML where the CLI writes Markdown."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    if not any(c.name == "report" for c in app.registered_commands):
        _register_optional()
    run = tmp_path / "run"
    ds.ice.rescore(small_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=run)
    inside = run / "extra.html"
    with pytest.raises(ds.UserError) as refused:
        ds.report([run], out=inside)
    shown = CliRunner().invoke(app, ["report", str(run), "--out", str(inside)])
    assert shown.exit_code == 2 and str(refused.value) in " ".join(shown.output.split())
    assert not inside.exists()
    for name in ("api.MD", "cli.MD"):
        if name.startswith("api"):
            ds.report(run, out=tmp_path / name)
        else:
            assert CliRunner().invoke(app, ["report", str(run), "--out", str(tmp_path / name)]).exit_code == 0
        assert (tmp_path / name).read_text(encoding="utf-8").startswith("# distillscope report")
    with pytest.raises(ds.UserError, match=r"no such directory \(out\)"):
        ds.report(run, out=tmp_path / "nowhere" / "r.html")


NOWHERE = "openai-compatible:m@http://127.0.0.1:9/v1"  # never called: each setting is refused first


def _attribution(tmp_path: Path, **kwargs: Any) -> Any:
    """`ds.rse.attribute` of replayed families a and b (no model is called before the refusals)."""
    from .rse.attribution.conftest import write_mt_bench

    folder = write_mt_bench(tmp_path / "answers", {m: m[0] for m in ("a1", "a2", "b1", "b2")}, n_prompts=4)
    return ds.rse.attribute(
        [f"replay:{folder / 'a2'}.jsonl"],
        families={"a": [f"replay:{folder / 'a1'}.jsonl"], "b": [f"replay:{folder / m}.jsonl" for m in ("b1", "b2")]},
        datasets={"mt": str(folder / "question.jsonl")},
        out=tmp_path / "run",
        **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: ds.ice.run(NOWHERE, judge=NOWHERE, judge_max_input_tokens=0, out=t / "o"),
         "judge_max_input_tokens= must be at least 1, got 0"),
        (lambda t: ds.ice.run(NOWHERE, budget=0, out=t / "o"), "budget= must be at least 1, got 0"),
        (lambda t: ds.ice.run(NOWHERE, max_answer_tokens=0, out=t / "o"), "max_answer_tokens= must be at least 1, got 0"),
        (lambda t: ds.ice.run(NOWHERE, seed=-1, out=t / "o"), "seed= must be from 0 to 4294967295, got -1"),
        (lambda t: ds.ice.run(NOWHERE, mode="plain", max_contradictions=3, out=t / "o"),
         "max_contradictions= and parallel_mutations= apply to mode='fuzz' only"),
        (lambda t: ds.ice.run(NOWHERE, escalate=0.2, out=t / "o"),
         "escalate= / escalate_band= choose what `judge='hybrid:SPEC'` sends to its LLM"),
        (lambda t: ds.ice.run(NOWHERE, mode="plain", judge="hybrid", target_org="Zhipu AI", out=t / "o"),
         "judge='hybrid' needs an LLM for the unsure cases: use judge='hybrid:SPEC' or judge_model='SPEC'"),
        (lambda t: ds.ice.run(NOWHERE, mode="plain", out=t / "o"),
         "cannot tell who built model 'm': pass target_org='ORGANISATION', or declare"),
        (lambda t: ds.ice.rescore(small_log(t), judge="recorded", max_calls=0, out=t / "o"),
         "max_calls= must be at least 1, got 0"),
        (lambda t: ds.rse.run(NOWHERE, [NOWHERE], {"a": "builtin"}, sharegpt_turns="most", out=t / "o"),
         "sharegpt_turns= must be 'first' or 'all', got 'most'"),
        (lambda t: ds.rse.run(NOWHERE, [NOWHERE], {"a": "builtin"}, judge=NOWHERE, judges=f"{NOWHERE},{NOWHERE}"),
         "give either judge= or judges=, not both"),
        (lambda t: ds.rse.matrix([NOWHERE, NOWHERE], {"a": "builtin"}, judges=NOWHERE, out=t / "o"),
         "judges= needs two or more model specs separated by commas"),
        (lambda t: ds.rse.attribute([NOWHERE], bank=str(t / "nope"), out=t / "o"), "bank="),
        (lambda t: ds.rse.attribute([NOWHERE], families={"a": [NOWHERE]}, datasets={"a": "builtin"}),
         "rse attribute needs at least two families (families={'NAME': ['SPEC']} or bank='SOURCE'), got 1"),
        (lambda t: _attribution(t, controls=[f"replay:{t / 'answers' / 'b1'}.jsonl", NOWHERE]),
         "controls=[..., 'b1', ...]: it is also a family member"),
        (lambda t: _attribution(t, controls=[f"replay:{t / 'answers' / 'a2'}.jsonl", NOWHERE]),
         "controls=[..., 'a2', ...]: it is also a tests= model"),
        (lambda t: ds.models.answer(NOWHERE, small_log(t), sharegpt_turns="most", out=t / "o"),
         "sharegpt_turns= must be 'first' or 'all', got 'most'"),
        (lambda t: ds.study(t / "s.yaml", out=t / "s", max_calls=0), "max_calls= must be at least 1, got 0"),
    ],
)  # fmt: skip
def test_api_errors_name_the_keyword_argument_not_the_cli_flag(
    tmp_path: Path, call: Callable[[Path], Any], message: str
) -> None:
    """The settings' checks are shared with the CLI, and their messages named its flags
    (`--judge-max-input-tokens must be at least 1`, `--control b1: ...`), which an API user never typed."""
    with pytest.raises(ds.UserError) as refused:
        call(tmp_path)
    text = str(refused.value)
    assert message in text and "--" not in text, text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda p: ds.models.answer("openai-compatible:m@http://127.0.0.1:9/v1", p, max_calls=True),
            "argument 'max_calls': expected an integer, got a boolean (got True)",
        ),
        (
            lambda p: ds.models.answer("openai-compatible:m@http://127.0.0.1:9/v1", p, concurrency=False),
            "argument 'concurrency': expected an integer, got a boolean (got False)",
        ),
        (
            lambda p: ds.rse.run("r", ["t"], {"a": "examples"}, sample=True),
            "argument 'sample': expected an integer, got a boolean (got True)",
        ),
        (
            lambda p: ds.ice.run("openai-compatible:m@http://127.0.0.1:9/v1", ratio=True),
            "argument 'ratio': expected a number, got a boolean (got True)",
        ),
    ],
)
def test_api_a_bool_is_not_read_as_a_number(tmp_path: Path, call: Any, message: str) -> None:
    """`max_calls=True` was read as 1 (pydantic's lax mode takes True for 1)."""
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n")
    with pytest.raises(ds.UserError) as refused:
        call(prompts)
    assert str(refused.value) == message


def test_api_report_of_no_directories_says_so() -> None:
    """`ds.report([])` said `: no ICE, RSE or matrix results to report`, naming an empty path."""
    for empty in ([], ()):
        with pytest.raises(ds.UserError) as refused:
            ds.report(empty)
        assert str(refused.value) == (
            "argument 'paths': no result directories given; give one or more run directories"
        )


def interrupt_soon(delay: float = 0.6) -> None:
    """A Ctrl-C at the main thread `delay` seconds from now, as a terminal or Jupyter's interrupt sends it."""
    main = threading.main_thread().ident
    assert main is not None
    threading.Timer(delay, signal.pthread_kill, (main, signal.SIGINT)).start()


@pytest.mark.parametrize("caller", ["asyncio.run", "running loop"])
def test_ctrl_c_stops_a_sync_call_made_inside_an_event_loop(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], caller: str
) -> None:
    """The sync form called from inside a running loop ran in a worker thread to its end after a Ctrl-C
    (30 answers at 0.2 s: 6 s): under `asyncio.run` the first Ctrl-C only cancelled the blocked task, and
    where it raised KeyboardInterrupt (a notebook) the thread pool waited for the worker on the way out.
    Now the run is cancelled: it stops at once, its directory is released, and a rerun resumes it."""
    server = openai_server(latency_ms=200)
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"question {i}\n" for i in range(30)))
    spec, out = f"openai-compatible:m@{server.url}", tmp_path / "run"

    async def call() -> None:
        interrupt_soon()
        ds.models.answer(spec, prompts, out=out, concurrency=1)

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        if caller == "asyncio.run":
            asyncio.run(call())  # asyncio's own SIGINT handler: it cancels the task at the first Ctrl-C
        else:
            loop = asyncio.new_event_loop()  # no handler of asyncio's: Ctrl-C raises, as in a notebook
            try:
                loop.run_until_complete(call())
            finally:
                loop.close()
    assert time.monotonic() - started < 3.5
    assert server.requests < 30
    resumed = ds.models.answer(spec, prompts, out=out, concurrency=10)
    assert resumed.n_answered == 30
    assert server.requests <= 30 + 1  # the answers before the Ctrl-C were not asked again (1 in flight)


@pytest.mark.parametrize(
    ("families", "message"),
    [
        (
            {1: ["b"], 2: ["c"]},
            "argument 'families': family names must be text with a visible character (got 1)",
        ),
        (
            {"": ["b"], "g": ["c"]},
            "argument 'families': family names must be text with a visible character (got '')",
        ),
        (
            {" ": ["b"], "g": ["c"]},
            "argument 'families': family names must be text with a visible character (got ' ')",
        ),
        ({"f": ["b"], "f ": ["c"]}, "argument 'families': family 'f' is given twice (as 'f '); give it once"),
    ],
    ids=["numbers", "empty", "blank", "twice-after-strip"],
)
def test_attribute_family_names_are_checked_as_the_cli_checks_them(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], families: dict[Any, list[str]], message: str
) -> None:
    """`families={1: [...], 2: [...]}` ran the whole attribution and then raised pydantic's raw
    ValidationError writing its result; a blank name made a family `--family` refuses, and `"f "`
    beside `"f"` two families the CLI (which strips names) makes one."""
    url = openai_server().url
    spec = {name: f"openai-compatible:{name}@{url}" for name in "tbc"}
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps({"id": i, "prompt": f"question {i}"}) + "\n" for i in range(6)))
    with pytest.raises(ds.UserError) as refused:
        ds.rse.attribute(
            [spec["t"]],
            families={k: [spec[m] for m in v] for k, v in families.items()},
            datasets={"x": str(questions)},
            out=tmp_path / "o",
        )
    assert str(refused.value) == message
    assert not (tmp_path / "o").exists()


class Kept(logging.Handler):
    """A caller's own log handler: the records it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_api_calls_leave_the_callers_logging_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run set the library's logger to INFO for good: in a script with `logging.basicConfig()` (the
    root at WARNING) every INFO line of the run and of every later call (`wrote .../report.html`) was
    printed on the caller's console, with quiet=True. Now only run.log has them; warnings still pass."""
    root, library = logging.getLogger(), logging.getLogger("distillscope")
    kept = Kept()
    monkeypatch.setattr(root, "level", logging.WARNING)
    root.addHandler(kept)
    before = (library.level, library.propagate, list(library.handlers))
    try:
        for name in ("a", "b"):
            ds.ice.rescore(small_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=tmp_path / name)
            assert "INFO wrote" in (tmp_path / name / "run.log").read_text()
        assert (library.level, library.propagate, list(library.handlers)) == before
        logging.getLogger("distillscope.engine").info("not for the caller")
        logging.getLogger("distillscope.engine").warning("for the caller")
    finally:
        root.removeHandler(kept)
    assert [r.getMessage() for r in kept.records if r.name.startswith("distillscope")] == ["for the caller"]


def test_a_home_folder_path_is_the_home_folder_in_every_path_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library reads `~/q.jsonl` as a dataset from the home folder, but `out="~/runs/x"` made a folder
    named `~` in the working directory, and `ds.load("~/runs/x")` and `ds.report(["~/runs/x"])` found no run."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    small_log(home)
    result = ds.ice.rescore("~/log.jsonl", target_org="Zhipu AI", judge="recorded", out="~/runs/x")
    assert result.path == home / "runs" / "x" and (home / "runs" / "x" / "results.json").is_file()
    assert ds.load("~/runs/x").model_dump() == result.model_dump()
    assert ds.report(["~/runs/x"], out="~/x.md") == home / "x.md" and (home / "x.md").is_file()
    assert list(work.iterdir()) == []
    with pytest.raises(
        ds.UserError, match=r"^argument 'path': cannot find the home folder of '~nobody-here/x'$"
    ):
        ds.load("~nobody-here/x")


def test_report_never_writes_over_a_file_its_runs_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ds.report([run], out="log.jsonl")` (and `report RUN --out log.jsonl`) replaced the hand-labelled
    log an `ice rescore` run was made from with the report: it lies outside the run, which was all
    the report checked. A file a run's settings name is refused, by either path, unchanged."""
    monkeypatch.chdir(tmp_path)
    log = small_log(tmp_path)
    before = log.read_bytes()
    ds.ice.rescore("log.jsonl", target_org="Zhipu AI", judge="recorded", out="run")
    for out in ("log.jsonl", tmp_path / "log.jsonl", "./run/../log.jsonl"):
        with pytest.raises(ds.UserError) as refused:
            ds.report(["run"], out=out, format="md")
        assert str(refused.value) == (
            f"{Path(out)}: is an input of the run run (its setting 'log'); write the report elsewhere"
        )
    assert log.read_bytes() == before
    assert ds.report(["run"], out="other.md") == Path("other.md")  # any other file, as before
    assert ds.report(["run"], out="other.md") == Path("other.md")


@pytest.mark.parametrize(
    ("call", "meant"),
    [
        (lambda d: ds.rse.attribute(["t"], familes={"f": ["a"], "g": ["b"]}, out=d), "families"),
        (lambda d: ds.rse.run("r", ["t"], {"x": "q.jsonl"}, outt=d), "out"),
        (lambda d: ds.rse.matrix(["a", "b"], {"x": "q.jsonl"}, dataset={"y": "q"}, out=d), "datasets"),
        (lambda d: ds.models.answer("m", "p.txt", promts="q.txt", out=d), "prompts"),
        (lambda d: ds.study("s.yaml", out=d, quite=True), "quiet"),
    ],
    ids=["attribute-families", "rse-out", "matrix-datasets", "answer-prompts", "study-quiet"],
)
def test_a_misspelt_keyword_is_answered_with_the_name_it_meant(tmp_path: Path, call: Any, meant: str) -> None:
    """`familes=` or `outt=` was refused with a list of known keywords that held neither `families` nor
    `out` (the function's own parameters were left out of it), pointing away from the fix."""
    with pytest.raises(ds.UserError) as refused:
        call(tmp_path / "o")
    message = str(refused.value)
    assert f"; did you mean '{meant}'? (known: " in message
    assert meant in message.partition("(known: ")[2].rstrip(")").split(", ")
    assert not (tmp_path / "o").exists()
