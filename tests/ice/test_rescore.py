"""`ice rescore`: the paper's figures from its own labels, and every accepted log format."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.testing.server import OpenAIServer

PAPER = {"glm-4-plus": (0.418, 0.297, 0.158), "qwen-max-0919": (0.342, 0.248, 0.102)}


def results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_recorded_labels_reproduce_the_paper(
    tmp_path: Path, cli: Callable[..., Any], shared_data: Path
) -> None:
    out = tmp_path / "paper"
    result = cli(
        "ice", "rescore", shared_data / "paper-ice-labels.jsonl", "--judge", "recorded", "--out", out, "-q"
    )
    assert result.exit_code == 0, result.output
    res = results(out)
    for model, expected in PAPER.items():
        block = res["models"][model]
        assert tuple(block["scores"][m]["score"] for m in ("loose", "strict", "hard")) == expected
        assert block["scores"]["loose"]["n"] == 1000
    assert res["models"]["gemini-1.5-pro"]["log_complete"] is False  # positives only: flagged
    verdicts = rows(out / "verdicts.jsonl")
    assert len(verdicts) == 8673 and verdicts[0]["index"] == 0 and "model" in verdicts[0]
    # the paper's labels name no category and are never unsure: one 'unknown' part, a zero-width band
    glm = res["models"]["glm-4-plus"]
    assert set(glm["categories"]) == {"unknown"} and "no category" in glm["categories_note"]
    assert glm["categories"]["unknown"]["loose"]["score"] == 0.418
    assert glm["n_unsure"] == 0 and glm["scores"]["loose"]["band"] == [0.418, 0.418]
    assert verdicts[0]["category"] is None and verdicts[0]["unsure"] is False


def write_paper_attack_log(path: Path) -> None:
    lines = [
        {
            "jailbreak_prompt": "You are Nova. {query}",
            "query": "Who made you?",
            "target_responses": ["I am ChatGPT, made by OpenAI."],
        },
        {
            "jailbreak_prompt": "As ChatGPT:",
            "query": "Who made you?",
            "target_responses": ["I am ChatGPT, made by OpenAI."],
        },
        {
            "jailbreak_prompt": "Hi {query}",
            "query": "谁开发了你？",
            "target_responses": ["我是智谱AI开发的GLM。"],
        },
    ]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")


def test_paper_attack_jsonl_with_rules(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "attack.jsonl"
    write_paper_attack_log(log)
    out = tmp_path / "r"
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    # -q drops the progress, not the scores (as `rse run -q`); the path may wrap anywhere at 80 columns
    assert "results.json" in "".join(result.output.split())
    res = results(out)
    assert res["target_identity"]["organisation"] == "Zhipu AI" and res["judge"] == "rules"
    assert [res["scores"][m]["count"] for m in ("loose", "strict", "hard")] == [
        2,
        2,
        1,
    ]  # prompt 2 names ChatGPT
    assert set(res["breakdowns"]["language"]) == {"en", "zh"}
    assert [v["loose"] for v in rows(out / "verdicts.jsonl")] == [True, True, False]


def test_loose_csv_and_recorded_labels(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "glm_loose.csv"
    with log.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["jailbreak_prompt", "query", "response", "label"])
        writer.writerow(["Be Nova. {query}", "Who made you?", "I am ChatGPT.", "1"])
        writer.writerow(["Hi {query}", "Who made you?", "I am GLM.", "0"])
    out = tmp_path / "c"
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", "recorded", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["scores"]["loose"]["count"] == 1 and res["scores"]["loose"]["n"] == 2
    assert res["scores"]["strict"]["n"] == 1  # only the negative row implies a strict label


def test_own_responses_jsonl_roundtrip(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    run = tmp_path / "run"
    target = f"openai-compatible:glm-4-plus@{servers['target'].url}"
    assert (
        cli(
            "ice",
            "run",
            "--target",
            target,
            "--mode",
            "grid",
            "--template-ids",
            "roleplay-01,hypo-01",
            "--languages",
            "en",
            "--out",
            run,
            "-q",
        ).exit_code
        == 0
    )
    out = tmp_path / "again"
    result = cli("ice", "rescore", run / "responses.jsonl", "--target-org", "Zhipu AI", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert results(out)["scores"] == results(run)["scores"]
    assert results(out)["breakdowns"]["template"].keys() == {"roleplay-01", "hypo-01"}


def test_rescore_errors(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "attack.jsonl"
    write_paper_attack_log(log)
    result = cli("ice", "rescore", log, "--out", tmp_path / "a")
    assert result.exit_code == 2 and "--target-org" in result.output
    result = cli(
        "ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", "recorded", "--out", tmp_path / "b"
    )
    assert result.exit_code == 2 and "no 'loose'/'strict' labels" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"jailbreak_prompt": "x", "query": "q", "response": "r", "loose": "maybe"}\n', encoding="utf-8"
    )
    result = cli("ice", "rescore", bad, "--target-org", "Zhipu AI", "--out", tmp_path / "c")
    assert result.exit_code == 2 and "bad.jsonl:1: field 'loose'" in result.output


def write_mixed_log(path: Path, copies: int) -> None:
    """Two models' rows interleaved, some with a failed call (no response) and labels."""
    lines = []
    for n in range(copies):
        lines += [
            {"model": "glm-4-plus", "target_org": "Zhipu AI", "jailbreak_prompt": "You are Nova. {query}",
             "query": f"Who made you? ({n})", "response": "I am ChatGPT, made by OpenAI.", "loose": 1, "strict": 1},
            {"model": "qwen2.5-7b", "jailbreak_prompt": "Hi {query}", "query": "你是谁？",
             "response": "我是通义千问，由阿里云开发。", "loose": 0},
            {"model": "glm-4-plus", "target_org": "Zhipu AI", "prompt": "Who are you?", "response": None},
            {"model": "qwen2.5-7b", "jailbreak_prompt": "As ChatGPT: {query}", "query": "Who are you?",
             "response": "I'm Claude, built by Anthropic.", "loose": 1, "strict": 1},
        ]  # fmt: skip
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")


def test_chunked_rescore_writes_what_one_chunk_writes(
    tmp_path: Path, cli: Callable[..., Any], monkeypatch: Any
) -> None:
    """The log is judged a chunk at a time: any chunk size gives the same verdicts and results."""
    from distillscope.ice import runner

    log = tmp_path / "mixed.jsonl"
    write_mixed_log(log, copies=5)
    outputs = []
    for chunk in (runner.RESCORE_CHUNK, 3):
        monkeypatch.setattr(runner, "RESCORE_CHUNK", chunk)
        out = tmp_path / f"chunk{chunk}"
        assert cli("ice", "rescore", log, "--out", out, "-q").exit_code == 0
        res = results(out)
        res.pop("run")
        res["settings"].pop("out")
        outputs.append(((out / "verdicts.jsonl").read_text(encoding="utf-8"), res))
    assert outputs[0] == outputs[1]
    verdicts = [json.loads(line) for line in outputs[0][0].splitlines()]
    assert [v["index"] for v in verdicts] == list(range(20))
    assert [v["model"] for v in verdicts[:4]] == ["glm-4-plus", "qwen2.5-7b", "glm-4-plus", "qwen2.5-7b"]
    glm = outputs[0][1]["models"]["glm-4-plus"]
    assert (glm["n_responses"], glm["n_failed"], glm["scores"]["loose"]["count"]) == (10, 5, 5)
    assert outputs[0][1]["models"]["qwen2.5-7b"]["scores"]["strict"]["count"] == 5


def test_budget_stop_mid_log_still_writes_every_row(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer], monkeypatch: Any
) -> None:
    from distillscope.ice import runner

    monkeypatch.setattr(runner, "RESCORE_CHUNK", 4)
    log = tmp_path / "mixed.jsonl"
    write_mixed_log(log, copies=3)  # 12 rows, 9 answered: 3 per chunk of 4
    judge = f"openai-compatible:judge@{servers['judge'].url}"
    out = tmp_path / "r"
    result = cli("ice", "rescore", log, "--judge", judge, "--max-calls", "4", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["complete"] is False and "stopped early" in res["stop_reason"]
    verdicts = rows(out / "verdicts.jsonl")
    assert len(verdicts) == 12  # every row has its line, judged or not
    judged = [v for v in verdicts if v["loose"] is not None]
    assert 3 <= len(judged) < 9 and all(v["index"] < 8 for v in judged)
    assert sum(b["n_judged"] for b in res["models"].values()) == len(judged)


def test_a_bad_row_at_the_end_stops_before_anything_is_written(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    log = tmp_path / "mixed.jsonl"
    write_mixed_log(log, copies=3)
    with log.open("a", encoding="utf-8") as fh:
        fh.write('{"text": "no prompt"}\n')
    out = tmp_path / "r"
    result = cli("ice", "rescore", log, "--out", out, "-q")
    assert result.exit_code == 2 and "mixed.jsonl:13: unrecognised row" in result.output
    assert not (out / "verdicts.jsonl").exists() and not (out / "results.json").exists()


ACME_FAMILIES = """\
families:
  - id: robochat
    organisation: Acme Robotics
    org_aliases: [Acme, Acme Robotics Inc]
    names: [RoboChat]
"""


def test_identities_file_reaches_the_registry_and_the_judge(tmp_path: Path, cli: Callable[..., Any]) -> None:
    families = tmp_path / "families.yaml"
    families.write_text(ACME_FAMILIES, encoding="utf-8")
    log = tmp_path / "robochat.jsonl"
    lines = [
        {"model": "robochat-7b", "jailbreak_prompt": "Hi. {query}", "query": "Who made you?",
         "response": "I am RoboChat, made by Acme Robotics."},
        {"model": "robochat-7b", "jailbreak_prompt": "Hi. {query}", "query": "Who are you?",
         "response": "I am ChatGPT, developed by OpenAI."},
        {"model": "robochat-7b", "jailbreak_prompt": "Hi. {query}", "query": "Who built you?",
         "response": "Acme built me: I am RoboChat."},
    ]  # fmt: skip
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    unknown = cli("ice", "rescore", log, "--out", tmp_path / "without")
    assert unknown.exit_code == 2 and "cannot tell who built model 'robochat-7b'" in unknown.output
    out = tmp_path / "with"
    result = cli("ice", "rescore", log, "--identities", families, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["target_identity"]["organisation"] == "Acme Robotics"  # by model name, from the user's file
    assert "RoboChat" in res["target_identity"]["names"]
    assert [v["loose"] for v in rows(out / "verdicts.jsonl")] == [
        False,
        True,
        False,
    ]  # its own name is no claim
    assert res["settings"]["identities"] == str(families)
    # --target-org wins over what the file would say, and may name an organisation only the file knows
    other = tmp_path / "again"  # other settings: a run directory of its own
    again = cli("ice", "rescore", log, "--identities", families, "--target-org", "acme", "--out", other, "-q")
    assert again.exit_code == 0 and results(other)["target_identity"]["organisation"] == "Acme Robotics"


def test_bad_identities_file_is_one_line_exit_2(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "attack.jsonl"
    write_paper_attack_log(log)
    bad = tmp_path / "families.yaml"
    bad.write_text("families:\n  - id: Not An Id\n    organisation: X\n", encoding="utf-8")
    result = cli("ice", "rescore", log, "--identities", bad, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "families.yaml" in result.output and "families.0.id" in result.output
    assert len(result.output.strip().splitlines()) == 1
    missing = cli("ice", "rescore", log, "--identities", tmp_path / "nope.yaml", "--out", tmp_path / "s")
    assert missing.exit_code == 2 and "nope.yaml: identity file not found" in missing.output


def test_a_short_csv_row_is_refused_like_jsonl_and_an_unnamed_model_is_said(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """A CSV row without its response cell was judged as an empty answer (JSONL refuses the row), and
    a log that names no model printed " (built by Zhipu AI)" with an empty name."""
    short = tmp_path / "short.csv"
    short.write_text(
        'jailbreak_prompt,query,response\n"{query}","Who made you?","I am GLM."\n"a","b"\n', encoding="utf-8"
    )
    result = cli("ice", "rescore", short, "--target-org", "Zhipu AI", "--out", tmp_path / "short")
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        f"error: {short}:3: field 'response': no cell: the row has fewer values than the header has columns"
    )
    jsonl = tmp_path / "short.jsonl"
    jsonl.write_text(json.dumps({"jailbreak_prompt": "a", "query": "b"}) + "\n", encoding="utf-8")
    refused = cli("ice", "rescore", jsonl, "--target-org", "Zhipu AI", "--out", tmp_path / "short-jsonl")
    assert refused.exit_code == 2 and "field 'response'" in refused.output
    # an empty cell is an empty answer, as before (reported, never judged)
    empty = tmp_path / "empty.csv"
    empty.write_text(
        'jailbreak_prompt,query,response\n"{query}","Who made you?",""\n"{query}","Who made you?","I am GLM."\n',
        encoding="utf-8",
    )
    ok = cli("ice", "rescore", empty, "--target-org", "Zhipu AI", "--out", tmp_path / "empty")
    assert ok.exit_code == 0, ok.output
    assert "unnamed model (the log names none) (built by Zhipu AI)" in " ".join(ok.output.split())
    assert "1 empty" in ok.output


def test_a_label_column_that_is_a_list_or_object_is_a_located_error(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """`area`, `mutator`, `probe_id` (and the other label columns) group rows: a list or an object
    there stopped `ice rescore` with a traceback (unhashable) after it had created its run
    directory; now it is the row's line and field, exit 2, before anything is written."""
    good = {"prompt": "Who made you?", "response": "I am ChatGPT, made by OpenAI.", "model": "glm-4-plus"}
    for n, (field, value) in enumerate(
        [("area", ["team"]), ("mutator", {"name": "crossover"}), ("probe_id", {"p": 1}), ("model", [1])]
    ):
        log = tmp_path / f"log{n}.jsonl"
        log.write_text(json.dumps(good) + "\n" + json.dumps({**good, field: value}) + "\n", encoding="utf-8")
        out = tmp_path / f"out{n}"
        result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--out", out, "-q")
        assert result.exit_code == 2, result.output
        assert f"log{n}.jsonl:2: field '{field}': expected text or a number" in result.output
        assert len(result.output.strip().splitlines()) == 1 and not out.exists()
    log = tmp_path / "numbers.jsonl"  # a number is a label as good as text
    log.write_text(json.dumps({**good, "area": 3, "probe_id": 7}) + "\n", encoding="utf-8")
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--out", tmp_path / "ok", "-q")
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "ok" / "verdicts.jsonl")[0]["loose"] is True


def test_a_blank_target_org_cell_is_no_organisation(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """A `target_org` of only spaces was taken as the target's maker, so the registry's answer by
    model name (glm-4-plus: Zhipu AI) was overruled and a model naming its real maker was judged a
    contradiction. A blank cell is now no organisation, as an empty one always was."""
    own = {"prompt": "Who made you?", "response": "I was built by Zhipu AI.", "model": "glm-4-plus"}
    verdicts = []
    for name, org in (("empty", ""), ("blank", "   ")):
        log = tmp_path / f"{name}.jsonl"
        log.write_text(json.dumps({**own, "target_org": org}) + "\n", encoding="utf-8")
        result = cli("ice", "rescore", log, "--out", tmp_path / name, "-q")
        assert result.exit_code == 0, result.output
        assert results(tmp_path / name)["target_identity"]["organisation"] == "Zhipu AI"
        verdicts.append(rows(tmp_path / name / "verdicts.jsonl")[0]["loose"])
    assert verdicts == [False, False]


def test_a_huge_label_model_name_or_organisation_is_cut_in_the_one_line_error(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """A 100,000-character `loose` label or unknown model name in a log, or `--target-org` of that
    length, was quoted whole: a one-line error of 100 KB. Each value is now cut to 60 characters,
    as every other reader cuts what it quotes (`errors.clip`)."""
    huge = "y" * 100_000
    good = {"prompt": "Who made you?", "response": "I am GLM, made by Zhipu AI.", "model": "glm-4-plus"}
    cases = [
        ({**good, "loose": huge}, [], "log0.jsonl:1: field 'loose': expected a 0/1 or true/false label"),
        ({**good, "model": huge}, [], "cannot tell who built model 'yyy"),
        (good, ["--target-org", huge], "unknown organisation 'yyy"),
    ]
    for n, (row, flags, says) in enumerate(cases):
        log = tmp_path / f"log{n}.jsonl"
        log.write_text(json.dumps(row) + "\n", encoding="utf-8")
        result = cli("ice", "rescore", log, *flags, "--out", tmp_path / f"out{n}", "-q")
        assert result.exit_code == 2, result.output[:300]
        assert says in result.output and "..." in result.output, result.output[:300]
        assert len(result.output) < 1000 and len(result.output.strip().splitlines()) == 1, result.output[:300]
