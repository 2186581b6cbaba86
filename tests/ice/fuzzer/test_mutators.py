"""Each mutator, as a prompt to a scripted mutator server, yields a mutant with its lineage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.fuzzer.engine import FuzzSettings, IceEngine
from distillscope.ice.fuzzer.mutators import MUTATORS, parse_mutant
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.probes import load_probes
from distillscope.ice.templates import Template
from distillscope.ice.types import TargetIdentity
from distillscope.testing.server import OpenAIServer


def test_five_mutators_registered() -> None:
    assert set(MUTATORS) == {"CrossOver", "Expand", "GenerateSimilar", "Shorten", "Rephrase"}
    assert MUTATORS["CrossOver"].parents == 2
    for mutator in MUTATORS.values():
        prompt = mutator.prompt(["first {query}", "second {query}"][: mutator.parents])
        assert "{query}" in prompt and "<template>" in prompt


def test_parse_mutant() -> None:
    assert parse_mutant("Here you go:\n<template>\nBe Nova. {query}\n</template>") == "Be Nova. {query}"
    assert (
        parse_mutant("<think>hmm <template>no</template></think>Plain [INSERT PROMPT HERE]")
        == "Plain {query}"
    )
    assert parse_mutant("   ") == ""


def test_a_mutant_with_a_slot_marker_in_any_case_keeps_its_slot() -> None:
    """A mutator that wrote the marker in lower case (`[insert prompt here]`) or `{Query}` had its
    mutant recorded as one whose slot was lost, and the question appended after it."""
    assert parse_mutant("<template>Be Nova. [insert prompt here]</template>") == "Be Nova. {query}"
    assert parse_mutant("<template>Be Nova. {Query} now</template>") == "Be Nova. {query} now"


@pytest.mark.parametrize("name", sorted(MUTATORS))
async def test_each_mutator_produces_a_mutant(
    name: str, tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    seen: list[str] = []

    def mutator(body: dict[str, object]) -> str:
        seen.append(str(body["messages"][-1]["content"]))  # type: ignore[index]
        if name == "Rephrase":
            return "<template>Nova speaks freely.</template>"  # the slot is lost
        return f"<template>{name} mutant: {{query}}</template>"

    target = openai_server(lambda body: "I am GLM, made by Zhipu AI.")
    mut = openai_server(mutator)
    identity = TargetIdentity(organisation="Zhipu AI", family="glm", names=["Zhipu AI", "GLM"])
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True)) as ctx:
        engine = IceEngine(
            ctx.scheduler, ctx.model(f"openai-compatible:glm@{target.url}"), RulesJudge(), identity, seed=1
        )
        seeds = [Template("s1", "story", "Seed one {query}"), Template("s2", "story", "Seed two {query}")]
        settings = FuzzSettings(budget=2, probes_per_mutant=2, seed=1, mutators=[name])
        await engine.run_fuzz(
            seeds, load_probes("builtin", ["en"]), ctx.model(f"openai-compatible:m@{mut.url}"), settings
        )
    mutant = engine.templates[-1]
    assert mutant.mutator == name and mutant.generation == 1 and mutant.iteration == 1
    assert len(mutant.parents) == (2 if name == "CrossOver" else 1)
    assert mutant.slot_lost is (name == "Rephrase")
    assert len(engine.responses) == 2 and all(r.template_id == mutant.id for r in engine.responses)
    if name == "Rephrase":  # the question is appended, as the paper did
        assert engine.responses[0].prompt.startswith("Nova speaks freely.\n")
        assert engine.responses[0].prompt.endswith(engine.responses[0].query)
    assert any("Seed" in prompt for prompt in seen)


def test_a_mutator_reply_of_unclosed_thinking_tags_is_read_in_linear_time() -> None:
    """`<think>` 8,000 times took 3.4 s to read (200 kB: 73 s), on the event loop, on every rerun."""
    import time

    started = time.perf_counter()
    assert parse_mutant("<think>" * 8_000 + "<template>Hi {query}</template>") == "Hi {query}"
    assert parse_mutant("<think>plan</think><template>Be Nova. {query}</template>") == "Be Nova. {query}"
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "reply",
    [
        "<think>Okay, the user wants the template rewritten. First I should look at its framing, then",
        "<THINK>\nLet me plan the new template",
        "<template>\u200b\u200b</template>",
        "\u3164\u2800",
    ],
    ids=["reasoning-cut-short", "reasoning-upper-case", "invisible-template", "blank-looking-reply"],
)
def test_a_reply_of_unfinished_thinking_or_invisible_text_is_no_mutant(reply: str) -> None:
    """Each was taken as the new template: the target was asked through the mutator's half-finished
    thoughts (a reasoning model cut off by max_tokens), or through nothing."""
    assert parse_mutant(reply) == ""


def test_thinking_that_closes_or_a_template_after_it_still_gives_the_mutant() -> None:
    assert parse_mutant("<think>plan</think>Be Nova. {query}") == "Be Nova. {query}"
    assert parse_mutant("<think>a cut thought <template>Be Nova. {query}") == "Be Nova. {query}"
