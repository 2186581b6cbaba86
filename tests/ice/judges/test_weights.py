"""The scorer's weights file: numbers only, read back exactly, every damaged or foreign file refused
with one line naming it (and, through the CLI, exit 2 with nothing judged), and the shipped file
rebuilt byte for byte from ../shared (skipped when it is absent)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from distillscope.errors import UserError
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.judges.weights import (
    FORMAT_VERSION,
    MAGIC,
    ScorerWeights,
    builtin_path,
    builtin_weights,
)

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data"


def _reseal(body: bytes) -> bytes:
    """A body with a valid checksum, so that the check under test is the one that fires."""
    return body + hashlib.sha256(body).digest()


def _parts(data: bytes) -> tuple[dict[str, object], bytes]:
    version, length = struct.unpack("<II", data[4:12])
    assert version == FORMAT_VERSION
    return json.loads(data[12 : 12 + length]), data[12 + length : -32]


def test_the_shipped_file_round_trips_and_holds_only_numbers() -> None:
    data = builtin_path().read_bytes()
    weights = ScorerWeights.from_bytes(data, "shipped")
    assert weights.to_bytes() == data
    header, _ = _parts(data)

    # the header holds our own field names and numbers; nothing else is text
    def leaves(x: object) -> list[object]:
        if isinstance(x, dict):
            return [v for value in x.values() for v in leaves(value)]
        if isinstance(x, list):
            return [v for value in x for v in leaves(value)]
        return [x]

    assert all(isinstance(v, (int, float)) for v in leaves(header))
    for head in weights.heads.values():
        assert head.text_index.typecode == "I" and np.isfinite(np.asarray(head.text_weight)).all()


def test_the_shipped_file_loads_fast() -> None:
    builtin_weights.cache_clear()
    t0 = time.perf_counter()
    RulesJudge()
    assert time.perf_counter() - t0 < 1.0  # generous on a shared machine; bench/judges.py measures it


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda d: b"", "no DSJW header"),
        (lambda d: b"PK\x03\x04" + d[4:], "no DSJW header"),
        (lambda d: d[:-40] + d[-8:], "checksum"),
        (lambda d: d[:100] + bytes([d[100] ^ 1]) + d[101:], "checksum"),
        (lambda d: MAGIC + struct.pack("<I", FORMAT_VERSION + 1) + d[8:], "format version"),
        (lambda d: _reseal(d[:-32] + b"\0\0\0\0"), "trailing bytes"),
        (lambda d: _reseal(d[:-36]), "truncated"),
    ],
)
def test_a_damaged_or_foreign_file_is_refused_naming_it(tmp_path: Path, damage, says: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "w.bin"
    bad.write_bytes(damage(builtin_path().read_bytes()))
    with pytest.raises(UserError, match=says) as caught:
        RulesJudge(weights=bad)
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_a_file_made_for_other_features_is_refused(tmp_path: Path) -> None:
    """A feature configuration this distillscope does not make (another hash width): the checksum
    is right, the file is still refused."""
    data = builtin_path().read_bytes()
    header, arrays = _parts(data)
    header["config"]["text_bits"] = 20  # type: ignore[index]
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = MAGIC + struct.pack("<II", FORMAT_VERSION, len(head)) + head + arrays
    bad = tmp_path / "other.bin"
    bad.write_bytes(_reseal(body))
    header["config"]["signals"] = 3  # type: ignore[index]
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    other = tmp_path / "signals.bin"
    other.write_bytes(_reseal(MAGIC + struct.pack("<II", FORMAT_VERSION, len(head)) + head + arrays))
    for path in (bad, other):
        with pytest.raises(UserError, match="not a usable judge weights file") as caught:
            ScorerWeights.load(path)
        assert str(path) in str(caught.value)


def test_cli_exits_2_with_one_line_and_judges_nothing(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(
        json.dumps({"jailbreak_prompt": "{query}", "query": "Who made you?", "response": "I am ChatGPT.",
                    "model": "qwen2.5-7b-instruct", "target_org": "Alibaba"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    bad = tmp_path / "corrupt.bin"
    bad.write_bytes(b"DSJW not really")
    out = tmp_path / "out"
    result = cli("ice", "rescore", log, "--judge-weights", bad, "--out", out)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(bad) in " ".join(result.output.split()), result.output
    assert not (out / "verdicts.jsonl").exists()
    wrong = tmp_path / "wrong.bin"
    data = builtin_path().read_bytes()
    wrong.write_bytes(MAGIC + struct.pack("<I", 99) + data[8:])
    result = cli("ice", "run", "--target", "openai-compatible:m@http://127.0.0.1:9/v1", "--judge-weights", wrong,
                 "--out", tmp_path / "run", "--mode", "plain", "--budget", "1")  # fmt: skip
    assert (
        result.exit_code == 2
        and "format version 99" in result.output
        and str(wrong) in " ".join(result.output.split())
    )
    assert not (tmp_path / "run" / "verdicts.jsonl").exists()


def test_cli_uses_another_weights_file(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(
        json.dumps({"jailbreak_prompt": "{query}", "query": "Who made you?", "response": "I am ChatGPT, made by OpenAI.",
                    "model": "qwen2.5-7b-instruct", "target_org": "Alibaba"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    copy = tmp_path / "copy.bin"
    copy.write_bytes(builtin_path().read_bytes())
    out = tmp_path / "out"
    result = cli("ice", "rescore", log, "--judge-weights", copy, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    verdict = json.loads((out / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert verdict["loose"] is True and verdict["p_loose"] >= 0.5
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["ice_rescore"]["judge_weights"] == str(copy)


@pytest.mark.skipif(not (SHARED / "paper-ice-labels.jsonl").is_file(), reason="../shared/data not present")
@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn not installed")
def test_the_shipped_file_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_judge_weights", REPO / "scripts" / "build_judge_weights.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.build_bytes(SHARED) == builtin_path().read_bytes()


def test_python_api_takes_judge_weights(tmp_path: Path) -> None:
    import distillscope as ds

    log = tmp_path / "log.jsonl"
    row = {"jailbreak_prompt": "{query}", "query": "Who made you?", "response": "I am ChatGPT, made by OpenAI.",
           "model": "qwen2.5-7b-instruct", "target_org": "Alibaba"}  # fmt: skip
    log.write_text(json.dumps(row) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\0" * 64)
    with pytest.raises(ds.UserError, match="not a usable judge weights file"):
        ds.ice.rescore(log, out=tmp_path / "a", judge_weights=str(bad), quiet=True)
    assert not (tmp_path / "a" / "verdicts.jsonl").exists()
    copy = tmp_path / "copy.bin"
    copy.write_bytes(builtin_path().read_bytes())
    ds.ice.rescore(log, out=tmp_path / "b", judge_weights=str(copy), quiet=True)
    verdict = json.loads((tmp_path / "b" / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert verdict["p_loose"] >= 0.5 and verdict["loose"] is True


def _with_header(data: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """The file with its header edited and its checksum made right again."""
    header, arrays = _parts(data)
    edit(header)
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return _reseal(MAGIC + struct.pack("<II", FORMAT_VERSION, len(head)) + head + arrays)


def test_the_transfer_spread_is_optional_and_checked(tmp_path: Path) -> None:
    data = builtin_path().read_bytes()
    shipped = ScorerWeights.from_bytes(data, "shipped").heads["loose"].transfer
    assert shipped is not None and shipped.models >= 2 and 0.0 < shipped.logit_sd < shipped.shift95
    # a file without it (as built before it was measured) loads, with no transfer to report
    plain = tmp_path / "plain.bin"
    plain.write_bytes(_with_header(data, lambda h: h["heads"]["loose"].pop("transfer")))
    loaded = ScorerWeights.load(plain)
    assert loaded.heads["loose"].transfer is None and RulesJudge(weights=plain).transfer() is None
    assert RulesJudge().transfer() == ("rules", shipped)
    for field, value, says in [
        ("logit_sd", -0.5, "transfer spread"),
        ("shift95", float("nan"), "transfer spread"),
        ("models", 1, "at least 2"),
    ]:
        bad = tmp_path / f"{field}.bin"
        bad.write_bytes(
            _with_header(data, lambda h, f=field, x=value: h["heads"]["loose"]["transfer"].__setitem__(f, x))
        )
        with pytest.raises(UserError, match=says) as caught:
            ScorerWeights.load(bad)
        assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("text", float("inf"), "not a whole number: inf"),
        ("text", float("nan"), "not a whole number: nan"),
        ("template", 2.5, "not a whole number: 2.5"),
        ("text", True, "not a whole number: True"),
        ("text", 10**30, "truncated"),
        ("intercept", 10**400, "malformed header"),
    ],
)
def test_a_sealed_header_with_an_impossible_count_is_refused(
    tmp_path: Path, cli: Callable[..., Any], field: str, value: object, says: str
) -> None:
    """A valid checksum over "text": Infinity once crashed the loader with an OverflowError traceback."""
    bad = tmp_path / "w.bin"
    bad.write_bytes(
        _with_header(builtin_path().read_bytes(), lambda h: h["heads"]["loose"].__setitem__(field, value))
    )
    log = tmp_path / "log.jsonl"
    log.write_text(
        json.dumps({"jailbreak_prompt": "{query}", "query": "Who made you?", "response": "I am ChatGPT."})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge-weights", bad, "--out", out)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert str(bad) in text and "not a usable judge weights file" in text and says in text, text
    assert not (out / "verdicts.jsonl").exists()


def test_a_sealed_header_nested_too_deep_is_refused(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """A header of 100,000 nested brackets under a valid checksum was a RecursionError traceback."""
    head = b"[" * 100_000 + b"]" * 100_000
    bad = tmp_path / "w.bin"
    bad.write_bytes(_reseal(MAGIC + struct.pack("<II", FORMAT_VERSION, len(head)) + head))
    log = tmp_path / "log.jsonl"
    log.write_text(
        json.dumps({"jailbreak_prompt": "{query}", "query": "Who?", "response": "I am GLM."}) + "\n"
    )
    out = tmp_path / "out"
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge-weights", bad, "--out", out)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines() == [
        f"error: {bad}: not a usable judge weights file (malformed header: nested too deep); nothing was judged"
    ]
    assert not (out / "verdicts.jsonl").exists()
