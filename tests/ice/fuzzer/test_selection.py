"""MCTS-Explore: deterministic with a seed, explores every seed, alpha and beta do what they say."""

from __future__ import annotations

import random

from distillscope.ice.fuzzer.selection import MCTSExplore


def walk(seed: int, rewards: dict[str, float], steps: int = 30) -> list[str]:
    policy = MCTSExplore(["a", "b", "c", "d"], rng=random.Random(seed))
    chosen = []
    for i in range(steps):
        node = policy.select()
        chosen.append(node.id)
        reward = rewards.get(node.id.split("/")[0], 0.0)
        policy.update(reward)
        if reward:
            policy.add_child(node.id, f"{node.id}/{i}")
    return chosen


def test_same_seed_same_choices() -> None:
    rewards = {"b": 0.5}
    assert walk(3, rewards) == walk(3, rewards)


def test_explores_every_seed_before_repeating() -> None:
    assert sorted(walk(0, {}, steps=4)) == ["a", "b", "c", "d"]


def test_rewarded_lineage_is_exploited() -> None:
    chosen = walk(0, {"c": 1.0}, steps=40)
    from_c = sum(c.startswith("c") for c in chosen)
    assert from_c > 40 / 2  # far more than a fair share of 10
    assert any("/" in c for c in chosen)  # it went down into c's mutants


def test_alpha_controls_the_descent() -> None:
    for alpha, deep in ((1.0, False), (0.0, True)):
        policy = MCTSExplore(["root"], rng=random.Random(0), alpha=alpha)
        policy.select()
        policy.add_child("root", "child")
        assert (policy.select().id == "child") is deep


def test_beta_is_the_reward_floor_for_deep_nodes() -> None:
    def credit(alpha: float, beta: float, generation: int) -> float:
        policy = MCTSExplore(["root"], rng=random.Random(0), alpha=alpha, beta=beta)
        policy.select()
        policy.nodes["root"].generation = generation
        policy.update(1.0)
        return policy.nodes["root"].reward

    assert credit(0.1, 0.2, 0) == 1.0
    assert abs(credit(0.1, 0.2, 3) - 0.7) < 1e-9  # 1 - alpha * generation
    assert credit(0.1, 0.2, 20) == 0.2  # floored at beta
    assert credit(0.1, 0.5, 20) == 0.5
