"""A hostile server: replies that break text, numbers, memory, secrets and HTTP metadata.

Each case runs the CLI as a real process against the local test server (`RawReply` sends exactly
the bytes a careless or hostile server would), in a fresh run directory, then reruns the same
command: no traceback, exit 0 or exit 2 with one line, the ledger left with no pending row, and
no call that was answered sent again."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.testing.server import OpenAIServer, RawReply, completion_bytes

Server = Callable[..., OpenAIServer]
FAST = "    max_retries: 1\n    retry_base_s: 0.01\n"


def prompt_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def prompts(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n" for i in range(n)))
    return path


def config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(f"models:\n  m:\n    spec: openai-compatible:m@{url}\n{FAST}{extra}", encoding="utf-8")
    return path


def one_line(stderr: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return len(lines) == 1 and "Traceback" not in stderr


def statuses(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def test_surrogates_and_huge_usage_lose_no_work(
    tmp_path: Path, openai_server: Server, run_cli: Any, read_ledger: Any
) -> None:
    """One answer in 20 with a lone surrogate, one with `usage.prompt_tokens` of 10**30 (and others
    with `Infinity`, `1e999`, a 5,000-digit integer): the surrogate is replaced and the answer
    kept; the bad numbers make a malformed reply, recorded as a failed call; the rerun sends only
    those again."""
    bad_usage = {
        7: '{"prompt_tokens": 1000000000000000000000000000000, "completion_tokens": 1}',
        11: '{"prompt_tokens": Infinity, "completion_tokens": 1}',
        13: '{"prompt_tokens": 1e999, "completion_tokens": NaN}',
        17: '{"prompt_tokens": ' + "9" * 5000 + ', "completion_tokens": 1}',
    }

    def reply(body: dict[str, Any]) -> RawReply | str:
        i = int(prompt_text(body).split()[-1])
        if i % 20 == 3:
            return RawReply(completion_bytes("Sure! \ud83d"))
        if i % 20 in bad_usage:
            return RawReply(completion_bytes("An answer.", usage=bad_usage[i % 20]))
        return f"answer {i}"

    server = openai_server(reply)
    out = tmp_path / "run"
    args = (
        "models",
        "answer",
        "m",
        "-c",
        str(config(tmp_path, server.url)),
        "-p",
        str(prompts(tmp_path, 40)),
    )
    first = run_cli(*args, "--out", str(out), "-q")
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    rows = read_ledger(out / "ledger.sqlite")
    assert statuses(rows) == {"ok": 32, "error": 8}  # nothing pending, nothing lost
    assert all("number out of range" in r["error"] for r in rows if r["status"] == "error")
    answers = [json.loads(line) for line in (out / "responses.jsonl").read_text("utf-8").splitlines()]
    assert {a["response"] for a in answers if a["id"] in ("q3", "q23")} == {"Sure! \ufffd"}
    assert json.loads((out / "results.json").read_text("utf-8"))["complete"] is False
    assert "surrogate" in (out / "run.log").read_text("utf-8")

    answered = {
        prompt_text(b) for b in server.bodies if int(prompt_text(b).split()[-1]) % 20 not in bad_usage
    }
    sent_before = len(server.bodies)
    rerun = run_cli(*args, "--out", str(out), "-q")
    assert rerun.returncode == 0 and "Traceback" not in rerun.stderr, rerun.stderr
    again = {prompt_text(b) for b in server.bodies[sent_before:]}
    assert again and not again & answered  # only the malformed replies are asked again
    assert statuses(read_ledger(out / "ledger.sqlite")) == {"ok": 32, "error": 8}


def test_a_prompt_with_a_lone_surrogate_is_repaired_and_answered(
    tmp_path: Path, openai_server: Server, run_cli: Any, read_ledger: Any
) -> None:
    server = openai_server()
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "prompt": "hi \\ud83d there"}\n{"id": "b", "prompt": "plain"}\n', "utf-8")
    out = tmp_path / "run"
    args = ("models", "answer", f"openai-compatible:m@{server.url}", "-p", str(path), "--out", str(out), "-q")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert [prompt_text(b) for b in server.bodies] == ["hi \ufffd there", "plain"]
    assert statuses(read_ledger(out / "ledger.sqlite")) == {"ok": 2}
    assert run_cli(*args).returncode == 0 and server.requests == 2  # the rerun sends nothing


def test_non_utf8_arguments_are_one_line_exit_2(tmp_path: Path, run_cli: Any) -> None:
    """Bytes the locale cannot decode reach Python as lone surrogates: a `--out` path or a
    `--system-prompt` holding one is refused before anything is created."""
    path = tmp_path / "p.txt"
    path.write_text("hello\n", encoding="utf-8")
    out = os.fsdecode(bytes(tmp_path) + b"/run\xff")
    for extra in (("--out", out), ("--out", str(tmp_path / "r2"), "--system-prompt", "be \udcff nice")):
        result = run_cli(
            "models", "answer", "openai-compatible:m@http://127.0.0.1:9/v1", "-p", str(path), *extra
        )
        assert result.returncode == 2 and one_line(result.stderr), result.stderr
        assert "not valid UTF-8" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt"]


def test_out_of_range_numbers_in_prompt_files_name_the_field(tmp_path: Path, run_cli: Any) -> None:
    cases = {
        "p.jsonl": ('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "y", "weight": Infinity}\n', ":2:"),
        "q.jsonl": ('{"id": "a", "prompt": "x", "meta": {"n": 1' + "0" * 30 + "}}\n", ":1:"),
        "r.json": ('[{"id": "a", "prompt": "x", "score": 1e999}]', "r.json"),
        "s.yaml": ("- {id: a, prompt: x, score: .inf}\n", "s.yaml"),
        "t.jsonl": ('{"id": "a", "prompt": "x", "n": ' + "7" * 5000 + "}\n", ":1:"),
    }
    for name, (text, where) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = run_cli(
            "models", "answer", "openai-compatible:m@http://127.0.0.1:9/v1", "-p", str(path),
            "--out", str(tmp_path / f"run-{name}"),
        )  # fmt: skip
        assert result.returncode == 2 and one_line(result.stderr), (name, result.stderr)
        assert (
            where in result.stderr and "number out of range" in result.stderr and "field '" in result.stderr
        )
        assert not (tmp_path / f"run-{name}" / "ledger.sqlite").exists()


def _gzip_bomb(unpacked_mb: int) -> bytes:
    """A chat completion whose `content` unpacks to `unpacked_mb` MB, gzip-compressed (~1,000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "')]
    block = b"a" * 2**20
    parts += [packer.compress(block) for _ in range(unpacked_mb)]
    parts += [packer.compress(b'"}, "finish_reason": "stop"}]}'), packer.flush()]
    return b"".join(parts)


_PEAK_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def test_a_gzip_bomb_is_bounded_before_it_is_unpacked(tmp_path: Path, openai_server: Server) -> None:
    """A gzip body unpacking to 300 MB: the run reads at most 16 MB of it (16 x max_answer_bytes),
    fails that call with one clear error, answers the others; peak memory stays under 600 MB."""
    bomb = _gzip_bomb(300)
    assert len(bomb) < 1_000_000

    def reply(body: dict[str, Any]) -> RawReply | str:
        if prompt_text(body).endswith(" 1"):
            return RawReply(
                bomb, headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
            )
        return "fine"

    server = openai_server(reply)
    out = tmp_path / "run"
    args = [
        sys.executable, "-m", "distillscope", "models", "answer", "m", "-c", str(config(tmp_path, server.url)),
        "-p", str(prompts(tmp_path, 3)), "--out", str(out), "-q",
    ]  # fmt: skip
    for _ in range(2):  # the rerun asks for the failed call only, and is bounded the same way
        stderr = tmp_path / "stderr.txt"
        with stderr.open("w") as err:
            # through a small launcher: Linux carries a parent's peak RSS into a child forked from it
            # and across exec, so a run forked from this (large) test process would report the
            # test process's peak, not its own
            launched = subprocess.run(
                [sys.executable, "-c", _PEAK_LAUNCHER, *args], stdout=subprocess.PIPE, stderr=err, check=False
            )
        code, peak_kb = (int(x) for x in launched.stdout.split())
        assert code == 0 and "Traceback" not in stderr.read_text(), stderr.read_text()
        peak_mb = peak_kb / 1024  # kB on Linux
        assert peak_mb < 600, f"peak memory {peak_mb:.0f} MB"
    result = json.loads((out / "results.json").read_text("utf-8"))
    (failure,) = result["failed"]
    assert "reply body over 16,777,216 bytes" in json.dumps(failure)
    assert server.finished_prompts["question 0"] == 1 and server.finished_prompts["question 2"] == 1


def test_a_huge_plain_body_is_not_read_whole(tmp_path: Path, openai_server: Server, run_cli: Any) -> None:
    """A plain body longer than the bound (a Content-Length that says so, or a chunked one): refused
    after at most the bound is read. A gzip body within the bound is unpacked and answered."""
    big = completion_bytes("b" * 40 * 2**20)

    def reply(body: dict[str, Any]) -> RawReply | str:
        i = int(prompt_text(body).split()[-1])
        if i == 0:
            return RawReply(big)
        if i == 1:
            return RawReply(
                gzip.compress(completion_bytes("packed answer")),
                headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
            )
        return "plain answer"

    server = openai_server(reply)
    out = tmp_path / "run"
    result = run_cli(
        "models", "answer", "m", "-c", str(config(tmp_path, server.url)), "-p", str(prompts(tmp_path, 3)),
        "--out", str(out), "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answers = {a["id"]: a for a in map(json.loads, (out / "responses.jsonl").read_text("utf-8").splitlines())}
    assert answers["q1"]["response"] == "packed answer" and answers["q2"]["response"] == "plain answer"
    assert "reply body over" in json.dumps(json.loads((out / "results.json").read_text("utf-8"))["failed"])


KEY = "sk-proj-" + "Zq7" * 8 + "canaryKEY" + "x9Y" * 40  # a 161-character key, like OpenAI's
HEADER_SECRET = "hdr-literal-canary-7c1e2d9f4b"
SIG = "sigcanary0a9b8c7d6e5f"


def fragments(secret: str) -> set[str]:
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


def leaked(root: Path, texts: list[str]) -> list[str]:
    """Files under `root` and printed texts holding any 8-character piece of any secret."""
    pieces = fragments(KEY) | fragments(HEADER_SECRET) | fragments(SIG)
    needles = [p.encode(enc) for p in pieces for enc in ("utf-8", "utf-16-le")]
    files = [
        p for p in root.rglob("*") if p.is_file() and p.name != "m.yaml"
    ]  # m.yaml: the test's own config
    hits = [
        f"{p}: {_around(p.read_bytes(), needles)}" for p in files if any(n in p.read_bytes() for n in needles)
    ]
    return hits + [t[:200] for t in texts if any(p in t for p in pieces)]


def _around(data: bytes, needles: list[bytes]) -> bytes:
    at = min(data.find(n) for n in needles if n in data)
    return data[max(0, at - 60) : at + 40]


def test_a_key_quoted_by_the_server_leaves_no_fragment(
    tmp_path: Path, openai_server: Server, run_cli: Any
) -> None:
    """A 401 that quotes the key early (the excerpt cuts it), a 500 that echoes a literal key
    header and the URL's `sig` value without its name, an answer that quotes the key, and the key
    used as a model name: no 8-character piece of any of them in any file or anything printed."""

    def refuse(body: dict[str, Any]) -> RawReply:
        message = f"Incorrect API key provided: {KEY}. You can find your API key at https://example.test."
        return RawReply(json.dumps({"error": {"message": message}}).encode(), status=401)

    def echo(body: dict[str, Any]) -> RawReply | str:
        last = prompt_text(body).split()[-1]
        i = int(last) if last.isdigit() else 0  # `models check` asks its own question
        if i == 0:
            message = f"bad gateway; you sent {HEADER_SECRET} and {SIG}"
            return RawReply(json.dumps({"error": {"message": message}}).encode(), status=500)
        if i == 1:
            return f"Your key is {KEY[:30]}"
        return "ok"

    refusing, echoing, plain = openai_server(refuse), openai_server(echo), openai_server()
    env = {"DS_KEY": KEY, "OPENAI_API_KEY": KEY}  # the last case: the key as the model name too
    cfg = tmp_path / "m.yaml"
    cfg.write_text(
        "models:\n"
        f"  refused:\n    spec: openai-compatible:m@{refusing.url}\n    api_key_env: DS_KEY\n"
        f"  echoed:\n    spec: openai-compatible:m@{echoing.url}?sig={SIG}\n    api_key_env: DS_KEY\n"
        f"    headers: {{x-api-key: {HEADER_SECRET}}}\n{FAST}",
        encoding="utf-8",
    )
    p = prompts(tmp_path, 3)
    printed: list[str] = []
    runs = tmp_path / "runs"
    for _ in range(2):  # each case fresh, then the same command again
        for name in ("refused", "echoed", f"openai-compatible:{KEY}@{plain.url}"):
            out = runs / str(abs(hash(name)))
            result = run_cli(
                "models", "answer", name, "-c", str(cfg), "-p", str(p), "--out", str(out), "-q", env=env
            )
            printed += [result.stdout, result.stderr]
            assert "Traceback" not in result.stderr, result.stderr
            if name == "refused":
                assert result.returncode == 2 and one_line(result.stderr), result.stderr
                assert "HTTP 401" in result.stderr and "Incorrect API key provided: ***" in result.stderr
            else:
                assert result.returncode == 0, result.stderr
        check = run_cli("models", "check", "refused", "echoed", "-c", str(cfg), env=env)
        printed += [check.stdout, check.stderr]
    assert refusing.headers_seen[0]["Authorization"] == f"Bearer {KEY}"  # the key was sent
    assert echoing.headers_seen[0]["x-api-key"] == HEADER_SECRET
    for leak in leaked(tmp_path, printed):
        print(leak)
    assert leaked(tmp_path, printed) == []


def test_replies_with_no_answer_say_which_field_and_quote_an_error_sent_as_200(
    tmp_path: Path, openai_server: Server, run_cli: Any, read_ledger: Any
) -> None:
    """A 200 whose body is an error (some gateways send one) was recorded as `malformed response
    (KeyError: 'choices')`, hiding the server's words; `choices: null` as `TypeError: 'NoneType'
    object is not subscriptable`. The error's words are quoted (the key in them masked) and a
    reply of the wrong shape names its field; each is a failed call, retried, never an answer."""
    bodies = {
        0: json.dumps({"error": {"message": f"model overloaded, retry later (key {KEY})"}}),
        1: '{"choices": null}',
        2: '{"choices": [{"message": {"content": [{"type": "image_url", "image_url": {"url": "x"}}]}}]}',
        3: '{"choices": [{"message": {"content": 7}}]}',
    }
    server = openai_server(lambda body: RawReply(bodies[int(prompt_text(body).split()[-1])].encode()))
    out = tmp_path / "run"
    args = ["models", "answer", "m", "-c", str(config(tmp_path, server.url)), "-p", str(prompts(tmp_path, 4))]
    result = run_cli(*args, "--out", str(out), "-q", env={"OPENAI_API_KEY": KEY})
    assert result.returncode == 2 and one_line(result.stderr), result.stderr  # every call failed
    rows = read_ledger(out / "ledger.sqlite")
    assert statuses(rows) == {"error": 4}
    texts = [str(r["error"]) for r in rows]
    assert any(
        'HTTP 200 with an error instead of an answer: {"message": "model overloaded, retry later (key ***)"}'
        in t
        for t in texts
    ), texts
    assert any("malformed response (field 'choices': null, expected a list of choices)" in t for t in texts)
    assert any(
        "field 'choices[0].message.content': a list with a part that is not text, expected text or text parts"
        in t
        for t in texts
    )
    assert any("field 'choices[0].message.content': a number, expected text" in t for t in texts)
    assert server.requests == 8  # each tried twice (max_retries 1)
    assert leaked(tmp_path, [result.stdout, result.stderr]) == []


def test_an_answer_sent_as_text_parts_is_its_parts_joined(
    tmp_path: Path, openai_server: Server, run_cli: Any, read_ledger: Any
) -> None:
    """A chat server that sends `content` as a list of parts (`[{"type": "text", "text": ...}]`, the
    form the OpenAI API takes in requests) had every answer recorded as a malformed reply, retried,
    then failed. Text parts (and a refusal part) are the answer, joined."""
    parts = [{"type": "text", "text": "I was made "}, {"type": "output_text", "text": "by Zhipu AI."}]
    body = json.dumps({"choices": [{"message": {"content": parts}, "finish_reason": "stop"}]})
    server = openai_server(lambda _body: RawReply(body.encode()))
    out = tmp_path / "run"
    args = ["models", "answer", "m", "-c", str(config(tmp_path, server.url)), "-p", str(prompts(tmp_path, 2))]
    result = run_cli(*args, "--out", str(out), "-q", env={"OPENAI_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    answers = [
        json.loads(line) for line in (out / "responses.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [a["response"] for a in answers] == ["I was made by Zhipu AI."] * 2
    assert statuses(read_ledger(out / "ledger.sqlite")) == {"ok": 2} and server.requests == 2


def test_invisible_only_answers_are_empty_never_judged(tmp_path: Path, openai_server: Server) -> None:
    """Answers of zero-width spaces, BOMs, Hangul fillers or blank Braille cells show nothing:
    ICE counts them in `n_empty` and judges none (`n_judged` 0); RSE counts them in `n_empty`."""
    from typer.testing import CliRunner

    import distillscope.cli as cli_module

    cli_module._register_optional()
    invisible = ["\u200b\u200b", "\ufeff", "\u3164\u3164 ", "\u2800", "\u200b\u2060\u200d"]

    def reply(body: dict[str, Any]) -> str:
        return invisible[sum(map(ord, prompt_text(body))) % len(invisible)]

    target = openai_server(reply)
    probes = tmp_path / "probes.jsonl"
    probes.write_text(
        "".join(
            json.dumps({"id": f"p{i}", "question": q, "language": "en", "area": "team"}) + "\n"
            for i, q in enumerate(["Who made you?", "Who trained you?", "What is your name?"])
        ),
        encoding="utf-8",
    )
    ice_out = tmp_path / "ice"
    ice_args = [
        "ice", "run", "--target", f"openai-compatible:glm@{target.url}", "--target-org", "Zhipu AI",
        "--mode", "plain", "--probes", str(probes), "--out", str(ice_out), "--quiet",
    ]  # fmt: skip
    for _ in range(2):
        result = CliRunner().invoke(cli_module.app, ice_args)
        assert result.exit_code == 0, result.output
        ice = json.loads((ice_out / "results.json").read_text("utf-8"))
        assert (ice["n_empty"], ice["n_judged"], ice["scores"]["loose"]["n"]) == (3, 0, 0)
    assert target.requests == 3  # the rerun did not ask again: an empty reply is final

    reference = openai_server(lambda body: "Tides come from the moon's pull.")
    tested = openai_server(lambda body: "The moon." if "tides" in prompt_text(body) else "\u200b\ufeff\u3164")
    dataset = tmp_path / "d.jsonl"
    dataset.write_text(
        "".join(
            json.dumps({"id": k, "prompt": p}) + "\n" for k, p in [("a", "Explain tides."), ("b", "Why?")]
        ),
        encoding="utf-8",
    )
    rse_out = tmp_path / "rse"
    result = CliRunner().invoke(
        cli_module.app,
        [
            "rse", "run", "--reference", f"openai-compatible:ref@{reference.url}",
            "--test", f"openai-compatible:t@{tested.url}", "--dataset", f"d={dataset}",
            "--out", str(rse_out), "--quiet",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rse = json.loads((rse_out / "results.json").read_text("utf-8"))
    assert rse["n_empty"] == 1 and rse["skipped"]["t"]["empty"] == 1
    assert rse["not_answers"]["t"]["ids"]["empty"] == ["d/b"]


def test_malformed_retry_after_and_location_are_handled(
    tmp_path: Path, openai_server: Server, run_cli: Any
) -> None:
    """`Retry-After` with an absurd date is ignored (ordinary backoff); a redirect whose Location
    has a backslash in the authority or two ports is refused with one line, `models check` too."""
    absurd = openai_server(
        lambda body: RawReply(
            b'{"error": {"message": "slow down"}}',
            status=429,
            headers=(
                ("Content-Type", "application/json"),
                ("Retry-After", "Mon, 01 Jan 99999999999 00:00:00 GMT"),
            ),
        )
    )
    result = run_cli(
        "models", "answer", "m", "-c", str(config(tmp_path, absurd.url)), "-p", str(prompts(tmp_path, 1)),
        "--out", str(tmp_path / "absurd"), "-q",
    )  # fmt: skip
    assert result.returncode == 2 and one_line(result.stderr), result.stderr  # every call failed: exit 2
    assert "HTTP 429" in result.stderr and absurd.requests == 2

    for n, location in enumerate(("http://127.0.0.1\\@evil.test/v1", "http://127.0.0.1:1:2/v1")):
        server = openai_server(
            lambda body, location=location: RawReply(b"", status=307, headers=(("Location", location),))
        )
        spec = f"openai-compatible:m@{server.url}"
        answered = run_cli(
            "models",
            "answer",
            spec,
            "-p",
            str(prompts(tmp_path, 1)),
            "--out",
            str(tmp_path / f"loc{n}"),
            "-q",
        )
        assert answered.returncode == 2 and one_line(answered.stderr), answered.stderr
        assert "malformed Location" in answered.stderr
        checked = run_cli("models", "check", spec)
        assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
        assert "malformed Location" in checked.stdout


def test_every_key_like_url_parameter_is_hidden_in_every_file(
    tmp_path: Path, openai_server: Server, run_cli: Any
) -> None:
    names = ["code", "subscription-key", "api_token", "x-api-key", "access-token", "client_secret", "auth"]
    values = {name: f"urlcanary{i}{name.replace('-', '').replace('_', '')}Zx" for i, name in enumerate(names)}
    server = openai_server()
    url = f"{server.url}?api-version=2024-06-01&" + "&".join(f"{k}={v}" for k, v in values.items())
    out = tmp_path / "run"
    result = run_cli(
        "models", "answer", f"openai-compatible:m@{url}", "-p", str(prompts(tmp_path, 2)), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert server.requests == 2
    shown = json.loads((out / "config.json").read_text("utf-8"))
    assert "api-version=2024-06-01" in json.dumps(shown)
    texts = [p.read_bytes() for p in out.rglob("*") if p.is_file()] + [
        (result.stdout + result.stderr).encode()
    ]
    assert not [v for v in values.values() for t in texts if v.encode() in t]
