"""Reports: ICE, RSE and matrix run directories as one self-contained HTML page, Markdown or JSON.

build_report([dir, ...])      load run directories (a folder of runs works too)
render(report, "html")        the page as text ("html", "md" or "json")
write_run_report(run_dir)     report.html and report.md beside a run's results
pick_format, check_target     where `report` writes and in what format (the CLI and `ds.report` alike)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from distillscope.errors import UserError
from distillscope.report.build import Report, to_json
from distillscope.report.load import find_run_dirs, load_runs

FORMATS = ("html", "md", "json")
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}

log = logging.getLogger("distillscope")


def build_report(paths: list[Path]) -> Report:
    """Load every run directory (or folder of run directories) into one report. Runs with nothing
    to chart (a `models answer` run) are left out and listed in `Report.skipped`."""
    skipped: list[str] = []
    runs = load_runs(paths, skipped)
    return Report(runs, skipped=skipped)


def pick_format(fmt: str | None, out: Path | None, flag: str = "--format") -> str:
    """`fmt`, else the format `out`'s suffix names (in any case), else html. One rule for the CLI
    and `ds.report`, which had drifted apart (`out="r.MD"` gave Markdown from one, HTML from the other)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UserError(f"{flag} '{fmt}': expected one of {', '.join(FORMATS)}")
        return fmt
    if out is not None and str(out) != "-":
        return SUFFIX_FORMATS.get(out.suffix.lower(), "html")
    return "html"


def check_target(target: Path, run_dirs: Sequence[Path], fmt: str, flag: str = "--out") -> None:
    """Refuse a report file inside a run it reads (a report never writes into its inputs), over a
    run's own files, onto a folder, or into a folder that does not exist; the CLI and `ds.report`
    both check here, so each refuses what the other does."""
    from distillscope.engine.ownership import check_output_file

    try:
        where = target.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: RuntimeError before Python 3.13, then OSError
        raise UserError(
            f"{target}: a symbolic link that loops, or lies in a folder that does ({flag}); choose another file"
        ) from None
    for path in run_dirs:
        for run_dir in find_run_dirs(path):
            root = run_dir.resolve()
            if where == root or root in where.parents:
                raise UserError(
                    f"{target}: is inside the input run {run_dir}; write the report outside it "
                    "(the run's own report.html is written by the command that made it)"
                )
    if target.is_file():
        for path in run_dirs:
            for run_dir in find_run_dirs(path):
                for key in _settings_naming(run_dir, where):
                    raise UserError(
                        f"{target}: is an input of the run {run_dir} (its setting '{key}'); "
                        "write the report elsewhere"
                    )
    check_output_file(target, flag)
    if target.is_dir():
        raise UserError(f"{target}: is a directory ({flag} wants a file, e.g. {target / ('report.' + fmt)})")
    if not target.parent.exists():
        raise UserError(f"{target.parent}: no such directory ({flag})")


# model kinds whose spec names a file (`replay:PATH`, `local:PATH.gguf`), as a run's settings record it
_FILE_SPECS = ("replay:", "local:")


def _settings_naming(run_dir: Path, file: Path) -> list[str]:
    """The settings of `run_dir` (its results.json) whose value names `file` (resolved): the files a
    run read, which a report written over would lose (`ds.report([run], out="log.jsonl")` replaced
    the hand-labelled log an `ice rescore` run was made from with a report). A relative value is
    taken from the run's parent folder and from the working directory, where runs are made. Also
    the files its config.json records, its models' (a `replay:` file of answers, `local:` weights)
    and its `--cache` ledger, and those of the stage runs a study holds: `report RUN --out
    ref.jsonl` replaced the reference's answers, and `--out cache.sqlite` a ledger of paid-for calls."""
    found: list[str] = []

    def walk(value: object, key: str, base: Path) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k), base)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]", base)
        elif isinstance(value, str) and value and "\0" not in value and len(value) < 4096:
            text = next((value[len(p) :] for p in _FILE_SPECS if value.startswith(p)), value)
            candidate = Path(text).expanduser()
            bases = [Path()] if candidate.is_absolute() else [Path(), base]
            for where in bases:
                try:
                    if (where / candidate).resolve() == file:
                        found.append(key)
                        return
                except (OSError, RuntimeError, ValueError):
                    continue

    for directory in [run_dir, *_stage_dirs(run_dir)]:
        settings = _json_field(directory / "results.json", "settings")
        walk(settings, "", directory.parent)
        config = _json_field(directory / "config.json", None)
        if isinstance(config, dict):  # what config.json adds: the ledger and the models' files
            walk(config.get("ledger"), "ledger", directory.parent)
            models = config.get("models")
            for name, model in (models if isinstance(models, dict) else {}).items():
                if isinstance(model, dict):
                    walk(model.get("path"), f"models.{name}.path", directory.parent)
    return list(dict.fromkeys(found))


def _json_field(path: Path, key: str | None) -> object:
    """`key` of the JSON object in `path` (the whole object for None), or None when it cannot be read
    (the report's own reading names what is wrong with a run's files)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if key is None else data.get(key)
    except (OSError, ValueError, AttributeError, RecursionError):
        return None


def _stage_dirs(run_dir: Path) -> list[Path]:
    """The run directories inside `run_dir` (a study's stages: `ice-*`, `rse`, `attribution`)."""
    try:
        return sorted(p for p in run_dir.iterdir() if p.is_dir() and (p / "config.json").is_file())
    except OSError:
        return []


def render(report: Report, fmt: str) -> str:
    if fmt == "html":
        from distillscope.report.html import render_html

        return render_html(report)
    if fmt == "md":
        from distillscope.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "json":
        return json.dumps(to_json(report), ensure_ascii=False, indent=2, default=str) + "\n"
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_run_report(run_dir: Path) -> None:
    """Write report.html and report.md into a finished run directory.

    Commands call this at their end. It raises `UserError` when the directory holds no results
    (a run stopped before writing any), so the command can say so in one line.
    """
    from distillscope.engine.run import write_atomic
    from distillscope.errors import UserError

    run_dir = Path(run_dir)
    report = build_report([run_dir])
    try:
        page, markdown = render(report, "html"), render(report, "md")
    except UserError:
        raise
    except Exception as exc:  # a report bug must not cost the user a finished run: say so, keep the trace
        log.exception("writing the report of %s failed", run_dir)
        raise UserError(
            f"{run_dir}: the run finished but its report could not be written ({exc!r}); see run.log"
        ) from exc
    write_atomic(run_dir / "report.html", page, durable=False)  # derived from the results
    write_atomic(run_dir / "report.md", markdown, durable=False)
    log.info("wrote %s and report.md", run_dir / "report.html")


__all__ = ["FORMATS", "Report", "build_report", "check_target", "pick_format", "render", "write_run_report"]
