"""The ICE stage of `distillscope demo` on the embedded model, with a tiny budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.demo import run_ice_demo


@pytest.mark.local_model
async def test_ice_demo_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with RunContext(RunOptions(command="demo", out=tmp_path, quiet=True)) as ctx:
        results = await run_ice_demo(ctx, "local:smollm2", budget=2, probes_per_mutant=2)
    assert results.complete is True and results.target_queries == 2
    assert results.target_identity is not None and results.target_identity.organisation == "Hugging Face"
    assert results.scores is not None
    assert (
        results.n_responses == 2
        and results.scores.loose.n + (results.n_failed or 0) + (results.n_unjudged or 0) == 2
    )
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert saved["kind"] == "ice" and saved["scores"] == results.scores.model_dump(mode="json")
    assert "ICE smollm2" in capsys.readouterr().out
