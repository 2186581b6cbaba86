"""Run contexts (src/distillscope/engine/run.py): each run's run.log holds its own run's lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import distillscope as ds
from distillscope.testing.server import OpenAIServer, echo_reply


async def test_runs_awaited_side_by_side_keep_their_own_run_log(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """Two `_async` calls gathered in one loop wrote each other's lines into their run.log (one
    handler per run on the shared logger, each taking every record)."""
    server = openai_server(echo_reply, latency_ms=150)  # the answers take longer than the rescore
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"Topic {i}"}) + "\n" for i in range(4)))
    slow, quick = tmp_path / "answers", tmp_path / "rescore"
    await asyncio.gather(
        ds.models.answer_async(f"openai-compatible:m@{server.url}", prompts, concurrency=1, out=slow),
        ds.ice.rescore_async(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=quick),
    )
    assert f"wrote {quick / 'report.html'}" in (quick / "run.log").read_text(encoding="utf-8")
    assert str(quick) not in (slow / "run.log").read_text(encoding="utf-8")


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "log.jsonl"
    row = {"jailbreak_prompt": "[INSERT PROMPT HERE]", "query": "Who made you?", "response": "I am GLM."}
    log.write_text(json.dumps({**row, "loose": False, "strict": False}) + "\n")
    return log


async def test_a_forced_runs_removal_line_is_in_its_own_run_log_only(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """`--force: removed the last run's files` was logged before the forced run's run.log was open:
    it went into the log of every other run open in the process, and never into its own."""
    server = openai_server(echo_reply, latency_ms=150)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"Topic {i}"}) + "\n" for i in range(4)))
    slow, forced = tmp_path / "answers", tmp_path / "rescore"
    await ds.ice.rescore_async(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=forced)
    await asyncio.gather(
        ds.models.answer_async(f"openai-compatible:m@{server.url}", prompts, concurrency=1, out=slow),
        ds.ice.rescore_async(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=forced, force=True),
    )
    # named as the API takes it: this run was forced with `force=True`, not `--force`
    line = f"force=True: removed the last run's files from {forced}"
    assert line in (forced / "run.log").read_text(encoding="utf-8")
    assert "force=True" not in (slow / "run.log").read_text(encoding="utf-8")


def _answered(tmp_path: Path, server: OpenAIServer) -> tuple[Path, Callable[..., object]]:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"id": "q1", "prompt": "Topic"}) + "\n")

    def answer(out: Path, **kwargs: object) -> object:
        return ds.models.answer(f"openai-compatible:m@{server.url}", prompts, out=out, quiet=True, **kwargs)

    out = tmp_path / "run"
    answer(out)
    return out, answer


@pytest.mark.parametrize("link", ["missing", "loop"])
def test_a_config_json_linking_to_no_file_is_named_not_taken_for_none(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], link: str
) -> None:
    """A config.json that is a dangling symbolic link or a loop: `exists()` is False for both, and the
    resume said the directory 'holds results.json but no config.json (not a distillscope run directory)'."""
    out, answer = _answered(tmp_path, openai_server())
    config = out / "config.json"
    config.unlink()
    config.symlink_to(tmp_path / "gone.json" if link == "missing" else config)
    with pytest.raises(ds.UserError) as refused:
        answer(out)
    assert str(refused.value).startswith(
        f"{config}: a symbolic link to no file (its target is missing, or a loop), so the run there cannot be checked"
    )
    answer(out, force=True)  # started afresh: the link is replaced by the run's own config.json
    assert not config.is_symlink() and json.loads(config.read_text())["command"] == "answer"


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("settings_fingerprint", "f" * 100_000, "fingerprint " + "f" * 57 + "..., now "),
        ("command", "c" * 100_000, "is the run directory of '" + "c" * 57 + "...', not 'answer'"),
        ("concurrency", 2.5, "field 'concurrency': expected a whole number or null, got a number"),
    ],
)
def test_a_config_json_edit_is_refused_in_one_short_line(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], key: str, value: object, shown: str
) -> None:
    """A 100,000-character fingerprint or command was quoted whole in the refusal, and a concurrency
    of 2.5 was 'expected a number or null, got a number'."""
    out, answer = _answered(tmp_path, openai_server())
    config = out / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), key: value}), encoding="utf-8")
    with pytest.raises(ds.UserError) as refused:
        answer(out)
    assert shown in str(refused.value) and len(str(refused.value)) < 400, str(refused.value)[:500]


def test_a_run_log_that_cannot_be_opened_is_one_line_and_leaves_the_directory_usable(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """A run.log made a directory raised IsADirectoryError from logging's FileHandler, a traceback
    (exit 1), with the run's directory lock and ledger still open in the process."""
    out, answer = _answered(tmp_path, openai_server())
    log = out / "run.log"
    log.unlink()
    log.mkdir()
    with pytest.raises(ds.UserError) as refused:
        answer(out)
    assert str(refused.value) == f"{log}: cannot open the run's log: Is a directory"
    log.rmdir()
    result = answer(out)  # the lock was released: the same directory resumes from its ledger
    assert isinstance(result, ds.results.AnswersResult) and result.run.totals["calls_cached"] == 1


def test_a_run_log_planted_as_a_link_is_replaced_and_nothing_is_written_through_it(tmp_path: Path) -> None:
    """A run.log that was a symbolic link had the run's log appended to the link's target,
    outside the run's directory; every other file of a run replaces a link (write_atomic)."""
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not the run's\n", encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.log").symlink_to(elsewhere)
    ds.ice.rescore(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=out)
    assert elsewhere.read_text(encoding="utf-8") == "not the run's\n"
    log = out / "run.log"
    assert not log.is_symlink() and "wrote" in log.read_text(encoding="utf-8")


def test_a_lock_planted_as_a_link_is_replaced_and_nothing_is_made_at_its_target(tmp_path: Path) -> None:
    """DIR/.lock as a symbolic link was opened with O_CREAT through it: a link to a missing file
    made that file outside the run's directory (and two directories linked to one file refused
    each other). The link is replaced by a file of the directory; its target is never made."""
    missing = tmp_path / "elsewhere" / "made.lock"
    missing.parent.mkdir()
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").symlink_to(missing)
    ds.ice.rescore(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=out)
    assert not missing.exists() and not (out / ".lock").is_symlink() and (out / ".lock").is_file()


def test_a_ledger_planted_as_a_link_is_refused_and_nothing_is_written_through_it(tmp_path: Path) -> None:
    """DIR/ledger.sqlite as a symbolic link was followed: SQLite made the ledger (every call) at the
    link's target, outside the run's directory. It is refused, naming the link, before any call;
    `--cache TARGET` is the way to share a ledger."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    _register_optional()
    target = tmp_path / "elsewhere.sqlite"
    out = tmp_path / "run"
    out.mkdir()
    (out / "ledger.sqlite").symlink_to(target)
    result = CliRunner().invoke(
        app, ["ice", "rescore", str(_log(tmp_path)), "--target-org", "Zhipu AI", "--judge", "recorded",
              "--out", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines() == [
        f"error: {out / 'ledger.sqlite'}: is a symbolic link (to {target}); a run writes its ledger only in its "
        "own directory: remove the link, or give the ledger to share with --cache"
    ]
    assert not list(tmp_path.glob("elsewhere*")) and not (out / "results.json").exists()


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_ledger_companion_planted_as_a_link_is_refused_in_one_line(tmp_path: Path, suffix: str) -> None:
    """A planted `ledger.sqlite-wal` (or `-shm`, `-journal`) link gave SQLite's vague "disk I/O
    error" from deep inside the ledger; it is refused like a linked ledger, naming the file."""
    target = tmp_path / "elsewhere"
    out = tmp_path / "run"
    out.mkdir()
    link = out / f"ledger.sqlite{suffix}"
    link.symlink_to(target)
    with pytest.raises(ds.UserError) as refused:
        ds.ice.rescore(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=out)
    assert str(refused.value) == (
        f"{link}: is a symbolic link (to {target}); SQLite keeps this file of the ledger beside it: remove the link"
    )
    assert not target.exists() and not (out / "ledger.sqlite").exists()


def test_a_run_refused_for_its_model_leaves_no_directory_it_made(tmp_path: Path) -> None:
    """`ice run --target bogus:x --out a/b` was refused (exit 2) but left a/b holding only `.lock`
    and `run.log`, and a second typo another. The directories the run made are removed again; a
    directory that was there before, and a user's file in it, are kept."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    _register_optional()
    made = tmp_path / "a" / "b"
    existing = tmp_path / "mine"
    existing.mkdir()
    (existing / "notes.txt").write_text("kept\n", encoding="utf-8")
    for out in (made, existing):
        result = CliRunner().invoke(app, ["ice", "run", "--target", "bogus:x", "--out", str(out), "-q"])
        assert result.exit_code == 2 and "unknown kind 'bogus'" in result.output, result.output
    assert not (tmp_path / "a").exists()
    assert (existing / "notes.txt").read_text(encoding="utf-8") == "kept\n"


def test_a_run_refused_in_a_directory_that_was_there_leaves_it_as_it_was(tmp_path: Path) -> None:
    """`ice run --target bogus:x --out EXISTING` was refused (exit 2) but left EXISTING/.lock and
    EXISTING/run.log. The files the refused run created are removed; a run.log that was there
    (an earlier run's log), a .lock that was there and a user's files are kept byte for byte."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    _register_optional()
    empty, earlier = tmp_path / "empty", tmp_path / "earlier"
    empty.mkdir()
    earlier.mkdir()
    before = {"run.log": b"2026-01-01 INFO an earlier run's log\n", ".lock": b"", "notes.txt": b"kept\xff\n"}
    for name, data in before.items():
        (earlier / name).write_bytes(data)
    (empty / "notes.txt").write_bytes(b"mine\n")
    for out in (empty, earlier):
        result = CliRunner().invoke(app, ["ice", "run", "--target", "bogus:x", "--out", str(out), "-q"])
        assert result.exit_code == 2 and "unknown kind 'bogus'" in result.output, result.output
    assert sorted(p.name for p in empty.iterdir()) == ["notes.txt"]
    assert (empty / "notes.txt").read_bytes() == b"mine\n"
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == before
    # the directory is free for the next command: its lock was removed, not left held
    ds.ice.rescore(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=empty)
    assert (empty / "results.json").is_file() and (empty / ".lock").is_file()


def test_a_refused_run_keeps_a_ledger_that_holds_calls(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """Only a directory holding nothing but the lock and the log is removed: one whose ledger holds
    answers (a run stopped by a later refusal) keeps them."""
    out, _ = _answered(tmp_path, openai_server())
    with pytest.raises(ds.UserError):
        ds.models.answer("bogus:x", tmp_path / "p.jsonl", out=out)
    assert (out / "ledger.sqlite").is_file() and (out / "config.json").is_file()


def test_run_log_writes_control_characters_as_visible_escapes(tmp_path: Path) -> None:
    """run.log took a path or a model's name with its escape sequences raw, so `cat run.log` ran
    them (here one that clears the screen); its lines now show them as `\\x1b`."""
    out = tmp_path / "run\x1b[2Jx"
    ds.ice.rescore(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=out)
    log = (out / "run.log").read_text(encoding="utf-8")
    assert "\x1b" not in log and "run\\x1b[2Jx" in log, log


def test_two_models_served_under_one_name_at_two_urls_in_a_config_file_are_refused_unless_told_apart(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `--config` file with two fine-tunes each served as `model` at its own URL: the ledger keys a
    call by the model's name, not its URL, so `models answer fb --cache L` after `fa`'s run was answered
    with `fa`'s answers and `fb`'s server never asked, exit 0; so was one run using both (`ice run
    --target fa --mutator fb`). Refused at the second model's line with a study file's advice: with a
    shared `--cache` whichever a run names, else where one run uses both (a run using one, with its own
    ledger, is fine); a `cache_namespace` tells them apart, and each server is then asked."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    _register_optional()

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    a = openai_server(lambda body: "Model A answers about physics.")
    b = openai_server(lambda body: "Model B answers with a recipe.")
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": str(i), "prompt": f"Topic {i}"}) + "\n" for i in range(3)))
    config = tmp_path / "models.yaml"
    text = f'models:\n  fa: "openai-compatible:model@{a.url}"\n  fb: {{spec: "openai-compatible:model@{b.url}"}}\n'
    config.write_text(text, encoding="utf-8")
    cache = tmp_path / "shared.sqlite"

    def answer(name: str) -> Any:
        return CliRunner().invoke(app, ["models", "answer", name, "--config", str(config), "--prompts",
                                        str(prompts), "--cache", str(cache), "--out", str(tmp_path / name), "-q"])  # fmt: skip

    for name in ("fa", "fb"):
        refused = answer(name)
        assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output
        assert refused.output.strip().splitlines() == [
            f"error: {config}:3: field 'models.fb': the same model to the call ledger as 'fa' ('model', the same "
            "API and parameters) at another URL: the shared ledger (--cache) keys a call by the model's name, not "
            "its URL, so "
            "'fb' would be answered with 'fa''s answers. If they are two models, give one a cache_namespace (or "
            "serve it under another name); if they are replicas of one, list both URLs under one model"
        ]
        assert not (tmp_path / name).exists() and not cache.exists()
    alone = CliRunner().invoke(app, ["models", "answer", "fb", "--config", str(config), "--prompts", str(prompts),
                                     "--out", str(tmp_path / "alone"), "-q"])  # fmt: skip
    assert alone.exit_code == 0 and b.requests == 3, alone.output  # its own ledger: nothing to mix up
    both = CliRunner().invoke(app, ["ice", "run", "--config", str(config), "--target", "fa", "--target-org", "Zhipu AI", "--mutator", "fb",
                                    "--budget", "4", "--out", str(tmp_path / "both"), "-q"])  # fmt: skip
    assert both.exit_code == 2 and "Traceback" not in both.output, both.output
    assert (
        both.output.strip()
        .splitlines()[-1]
        .startswith(
            f"error: {config}:3: field 'models.fb': the same model to the call ledger as 'fa' ('model', the same API "
            "and parameters) at another URL: a run's ledger keys a call by the model's name, not its URL"
        )
    )
    assert not (tmp_path / "both").exists() and a.requests == 0
    b.requests = 0
    config.write_text(
        text.replace(f'{b.url}"}}', f'{b.url}", cache_namespace: fine-tune-b}}'), encoding="utf-8"
    )
    for name in ("fa", "fb"):
        ran = answer(name)
        assert ran.exit_code == 0, ran.output
    assert a.requests == 3 and b.requests == 3  # each model asked its own server
    rows = (tmp_path / "fb" / "responses.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(row)["response"] for row in rows} == {"Model B answers with a recipe."}
