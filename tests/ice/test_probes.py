"""Identity probes: the shipped set and user files."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.errors import UserError
from distillscope.ice.probes import AREAS, builtin_probes, guess_language, load_probes


def test_builtin_probes_cover_areas_and_languages() -> None:
    probes = builtin_probes()
    languages = Counter(p.language for p in probes)
    assert {"en", "zh"} <= set(languages) and len(languages) >= 6
    assert all(count >= 50 for count in languages.values())
    assert {p.area for p in probes} == set(AREAS)
    ids = [p.id for p in probes]
    assert len(ids) == len(set(ids))
    assert "team-03-zh" in ids
    # the shipped text is in the language it says
    for p in probes:
        if p.language in ("zh", "ja", "ko"):
            assert guess_language(p.question) == p.language, p.id


def test_languages_filter() -> None:
    probes = load_probes("builtin", ["en", "zh"])
    assert {p.language for p in probes} == {"en", "zh"} and len(probes) == 100
    with pytest.raises(UserError, match="no probe in those languages"):
        load_probes("builtin", ["xx"])


def test_user_files_in_three_formats(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text(
        '{"question": "Who made you?", "area": "team"}\n{"id": "q2", "question": "你是谁？"}\n',
        encoding="utf-8",
    )
    (tmp_path / "p.csv").write_text("id,question,language\na,Who made you?,en\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text(
        "probes:\n  - question: Qui t'a créé ?\n    language: fr\n", encoding="utf-8"
    )
    jsonl = load_probes(tmp_path / "p.jsonl")
    assert [(p.id, p.area, p.language) for p in jsonl] == [
        ("probe-001", "team", "en"),
        ("q2", "custom", "zh"),
    ]
    assert load_probes(tmp_path / "p.csv")[0].id == "a"
    assert load_probes(tmp_path / "p.yaml")[0].language == "fr"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.jsonl", '{"question": "ok"}\n{"area": "team"}\n', "bad.jsonl:2: field 'question'"),
        ("bad.jsonl", '{"question": "ok"}\nnot json\n', "bad.jsonl:2: invalid JSON"),
        ("bad.csv", "id,text\n1,hi\n", "field 'question'"),
        (
            "dup.jsonl",
            '{"id": "a", "question": "x"}\n{"id": "a", "question": "y"}\n',
            "dup.jsonl:2: field 'id': duplicate",
        ),
        ("bad.txt", "hello", "unknown probe file type"),
    ],
)
def test_bad_probe_files_are_located_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_probes(path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.jsonl", '{"id": "a", "question": "Who made you?"}\n{"id": "b", "question": " Who  made\\tyou? "}\n',
         "p.jsonl:2: field 'question': the same question as line 1 (probe 'a'): it would be asked once"),
        ("p.csv", "id,question\na,Who made you?\nb,Who made you?\n", "p.csv:3: field 'question': the same question as line 2"),
        ("p.json", '[{"question": "Who made you?"}, {"question": "Who made you?"}]', "p.json: field 'question': probe 2: the same question as probe 'probe-001'"),
    ],
)  # fmt: skip
def test_a_question_given_twice_is_refused_at_its_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """One question twice is one request, answered once from the ledger, and that answer was counted
    twice in every score (n 3 for 2 answers), its interval too narrow."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(message)):
        load_probes(path)


def test_ice_run_refuses_a_probe_file_asking_one_question_twice(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"question": "Who made you?"}\n{"question": "Who made you?"}\n', encoding="utf-8")
    out = tmp_path / "out"
    result = cli("ice", "run", "--target", "openai-compatible:m@http://127.0.0.1:9/v1", "--mode", "plain",
                 "--target-org", "Zhipu AI", "--probes", path, "--out", out)  # fmt: skip
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f"{path}:2: field 'question': the same question as line 1" in result.output and not out.exists()
