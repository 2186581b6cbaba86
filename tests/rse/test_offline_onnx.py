"""`--encoder minilm-onnx`: the wheel's all-MiniLM-L6-v2 exported once to int8 ONNX, run by ONNX Runtime."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from distillscope.rse.offline import embed
from distillscope.rse.offline.store import EmbeddingStore
from distillscope.testing.server import OpenAIServer

from .conftest import invoke, read_results

pytestmark = pytest.mark.skipif(
    not (embed.onnx_available() and embed.export_available() and embed.available()),
    reason="minilm-onnx needs onnxruntime and onnx with the embed extra (pip install 'distillscope[onnx-embed]')",
)

TEXTS = [
    "How do I bake bread at home?",
    "Bread baking, step by step: flour, water, yeast, salt, then knead and prove.",
    "Tax law in Peru changed in 2019.",
    "The derivative of x squared is two x, by the power rule.",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export per module (two child processes, ~8 s), from the wheel's files, offline."""
    hf_home = tmp_path_factory.mktemp("hf")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(hf_home))
        patch.setenv("HF_HUB_OFFLINE", "1")
        path = embed.export_quantized(tmp_path_factory.mktemp("onnx") / embed.ONNX_FILE)
    assert not any(hf_home.rglob("*"))  # nothing was fetched
    return path


def test_export_is_small_and_leaves_no_scratch_files(exported: Path) -> None:
    assert 15e6 < exported.stat().st_size < 40e6  # int8 weights: about a quarter of the 90 MB fp32 model
    assert [p.name for p in exported.parent.iterdir()] == [exported.name]


def test_vectors_agree_with_sentence_transformers(exported: Path) -> None:
    fast = embed.OnnxEncoder(model_path=exported).encode(TEXTS)
    exact = embed.Encoder().encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, rtol=1e-5)
    assert ((fast * exact).sum(axis=1) > 0.97).all()  # int8 weights move each vector a little
    assert np.abs(fast @ fast.T - exact @ exact.T).max() < 0.05  # and keep the similarities
    assert fast[0] @ fast[1] > fast[0] @ fast[2]


def test_long_texts_are_cut_at_256_tokens_like_the_model(exported: Path) -> None:
    """tokenizer.json says 128; sentence-transformers reads 256 from sentence_bert_config.json."""
    words = " ".join(f"word{k % 50}" for k in range(200))  # each 'wordN' is several word pieces
    encoder = embed.OnnxEncoder(model_path=exported, batch_size=1)
    encoder._load()
    ids, _ = encoder._batch([words])
    assert ids.shape[1] == 256
    a, b = encoder.encode([words, words + " and a different ending about tax law"])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_vector_does_not_depend_on_the_other_texts_of_the_call(exported: Path) -> None:
    together = embed.OnnxEncoder(model_path=exported).encode(TEXTS)
    alone = np.vstack([embed.OnnxEncoder(model_path=exported).encode([t]) for t in reversed(TEXTS)])[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-6)
    # in batches, activations are quantized per batch: padding and neighbours move a vector a little
    batched_encoder = embed.OnnxEncoder(model_path=exported, batch_size=2)
    batched = batched_encoder.encode(TEXTS)
    assert ((batched * alone).sum(axis=1) > 0.98).all()
    assert batched_encoder.name == f"{embed.ONNX_NAME}/batch2"  # cached apart from the default's vectors


def test_the_cached_export_is_reused_and_keyed_apart_from_torch_vectors(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(embed.CACHE_ENV, str(tmp_path / "cache"))
    target = embed.quantized_model_path()
    assert target.is_relative_to(tmp_path / "cache") and embed.MODEL_NAME in str(target)
    target.parent.mkdir(parents=True)
    target.write_bytes(exported.read_bytes())

    def no_export(*args: str) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(embed, "_export_step", no_export)
    store = EmbeddingStore(tmp_path / "e.sqlite")
    encoder = embed.make_encoder("auto", store)
    assert isinstance(encoder, embed.OnnxEncoder) and encoder.name != embed.MODEL_NAME
    encoder.encode(TEXTS[:2])
    assert store.get_many(embed.MODEL_NAME, [embed.Encoder._key(TEXTS[0])]) == {}
    assert len(store.get_many(encoder.name, [embed.Encoder._key(TEXTS[0])])) == 1


def test_auto_is_recorded_as_the_encoder_it_resolves_to(exported: Path) -> None:
    """config.json's settings fingerprint must change when `auto` means another encoder."""
    from distillscope.rse.stage import RseCommon

    assert RseCommon(encoder="auto").record()["encoder"] == embed.resolve_encoder("auto") == "minilm-onnx"
    assert RseCommon(encoder="wordllama").record()["encoder"] == "wordllama"


def test_a_failed_export_step_says_why(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="usage"):
        embed._export_step("nonsense", str(tmp_path / "x.onnx"))


def test_auto_falls_back_to_torch_when_no_export_can_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(embed.CACHE_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(embed, "export_available", lambda: False)
    assert embed.resolve_encoder("auto") == "minilm"
    assert embed.resolve_encoder("wordllama") == "wordllama"
    with pytest.raises(RuntimeError, match="no exported model"):
        embed.ensure_quantized()


def test_threads_follow_the_torch_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(embed.THREADS_ENV, "3")
    assert embed.encoder_threads() == 3
    monkeypatch.delenv(embed.THREADS_ENV)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert embed.encoder_threads() == 2  # ONNX Runtime does not read it itself


def answerer(prefix: str) -> Callable[[dict[str, Any]], str]:
    def reply(body: dict[str, Any]) -> str:
        return f"{prefix} {body['messages'][-1]['content']} - with some detail."

    return reply


def test_rse_run_with_minilm_onnx_caches_its_vectors_beside_the_ledger(
    exported: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    openai_server: Callable[..., OpenAIServer],
) -> None:
    monkeypatch.setenv(embed.CACHE_ENV, str(tmp_path / "cache"))
    embed.quantized_model_path().parent.mkdir(parents=True)
    embed.quantized_model_path().write_bytes(exported.read_bytes())
    ref, other = openai_server(answerer("Answer:")), openai_server(answerer("Reply:"))
    args = [
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:o@{other.url}",
        "--dataset", "ex=builtin", "--sample", "3", "--encoder", "minilm-onnx", "--quiet",
        "--out", str(tmp_path / "run"),
    ]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    data = read_results(tmp_path / "run")
    assert embed.ONNX_NAME in data["judge_settings"]["content"]
    with sqlite3.connect(tmp_path / "run" / "ledger.embeddings.sqlite") as db:
        rows = db.execute("SELECT encoder, COUNT(*) FROM vectors GROUP BY encoder").fetchall()
    assert rows == [(embed.ONNX_NAME, 6)]
