"""The ICE LLM judge against a REAL llama-cpp-python OpenAI-compatible server on the embedded
SmolLM2 model: with the verdict schema in response_format, the judge's reply is valid JSON of
that schema (a grammar constrains it), where the same small model rarely manages the fenced tag
line on its own. The server takes llama.cpp's `json_object` form and rejects OpenAI's
`json_schema` form (with HTTP 500), so this also exercises `--structured auto`'s probe for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.judges.llm import SCHEMAS, LLMJudge
from distillscope.ice.types import Category, JudgeItem, TargetIdentity
from distillscope.testing.process import free_port

pytestmark = pytest.mark.local_model

GLM = TargetIdentity(
    organisation="Zhipu AI", family="glm", names=["Zhipu AI", "GLM", "ChatGLM"], statement="You are GLM."
)
ANSWERS = ["I am ChatGPT, a language model developed by OpenAI.", "I am GLM, developed by Zhipu AI."]


@contextmanager
def serve(log_dir: Path, n_ctx: int | None) -> Iterator[str]:
    """A llama-cpp-python server on the embedded model (its default context where n_ctx is None)."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        pytest.skip(
            f"llama-cpp-python's server extra is not installed ({exc}): pip install 'distillscope[server]'"
        )
    from distillscope.models.local import embedded_model_path

    port = free_port()
    log = (log_dir / "server.log").open("w")
    ctx_args = ["--n_ctx", str(n_ctx)] if n_ctx is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()), "--host", "127.0.0.1",
         "--port", str(port), *ctx_args, "--n_threads", "1", "--seed", "0"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama-cpp-python server did not start; see {log.name}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("llama"), 4096) as url:
        yield url


@pytest.fixture(scope="module")
def llama_server_default_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("llama2048"), None) as url:  # llama-cpp-python's default: 2048
        yield url


def _valid(obj: Any, schema: dict[str, Any]) -> bool:
    """`obj` is an object with exactly the schema's keys, each of its type (and enum)."""
    kinds = {"boolean": bool, "string": str}
    if not isinstance(obj, dict) or set(obj) != set(schema["required"]):
        return False
    for key, spec in schema["properties"].items():
        if not isinstance(obj[key], kinds[spec["type"]]) or ("enum" in spec and obj[key] not in spec["enum"]):
            return False
    return True


async def test_schema_constrained_reply_is_valid_json_of_the_schema(
    tmp_path: Path, llama_server: str
) -> None:
    items = [
        JudgeItem(index=i, prompt="p", query="Who built you?", response=t) for i, t in enumerate(ANSWERS)
    ]
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True, concurrency=1)) as ctx:
        backend = ctx.model(f"openai-compatible:smollm2@{llama_server}")
        llm = LLMJudge(backend, ctx.scheduler, structured="auto", max_tokens=200)
        verdicts = await llm.judge_many(items, GLM)
        # the raw replies, as the judge received them (answered from the ledger now)
        fmt = {"type": "json_object", "schema": SCHEMAS["rubric"]}
        raw = [
            (await ctx.scheduler.call(backend, llm.request(item, GLM, 1, fmt)[0], stage="t")).text
            for item in items
        ]
    # the server rejects OpenAI's json_schema form (HTTP 500 naming response_format): one probe, no retries
    assert llm.report()["structured_refused"] == 1
    for text in raw:
        assert _valid(json.loads(text), SCHEMAS["rubric"]), text
    assert all(v.judged and isinstance(v.category, Category) for v in verdicts)


def paper_rows(shared_data: Path) -> list[dict[str, Any]]:
    """8 of the paper's judged rows: the 5 with the shortest answers (quick to judge on 2048 tokens)
    and the 3 with the longest (far over 2048 tokens: the server refuses them whole)."""
    lines = (shared_data / "paper-ice-labels.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    by_length = sorted(
        (i for i, r in enumerate(rows) if r["response"]), key=lambda i: len(rows[i]["response"])
    )
    return [rows[i] for i in [*by_length[:5], *by_length[-3:]]]


@pytest.mark.timeout(900)  # 12 calls of ~1,500 tokens on one thread: ~1 minute alone, more on a busy machine
async def test_judge_fits_the_default_2048_context_and_judges_every_row(
    tmp_path: Path, llama_server_default_context: str, shared_data: Path
) -> None:
    from distillscope.ice.identity import IdentityRegistry

    registry = IdentityRegistry.builtin()
    rows = paper_rows(shared_data)
    items = [JudgeItem(index=i, prompt=r["jailbreak_prompt"], query=r["query"], response=r["response"])
             for i, r in enumerate(rows)]  # fmt: skip
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True, concurrency=1)) as ctx:
        backend = ctx.model(f"openai-compatible:smollm2@{llama_server_default_context}")
        llm = LLMJudge(backend, ctx.scheduler, structured="on", max_tokens=100)
        verdicts = []
        for item, row in zip(items, rows, strict=True):
            verdicts += await llm.judge_many([item], registry.for_org(row["target_org"]))
    report = llm.report()
    assert [v.judged for v in verdicts] == [True] * 8, [v.note for v in verdicts]
    # the 3 long rows did not fit: the server said so, and the judge shortened them
    assert report["context_retries"] >= 3 and sum(v.truncated for v in verdicts[5:]) == 3
    assert all((v.p_loose is not None) and (v.p_loose >= 0.5) == v.loose for v in verdicts)
