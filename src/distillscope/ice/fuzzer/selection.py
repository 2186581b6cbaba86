"""MCTS-Explore seed selection, as in GPTFuzzer (Yu et al., 2023).

Templates form a forest: the seeds are roots, and a mutant that earned a reward joins the tree
as a child of the template it came from. Each iteration walks from the best root down:

    score(node) = reward(node) / (visits(node) + 1) + ratio * sqrt(2 ln(step) / (visits(node) + 0.01))

* `ratio` (default 0.5) weighs exploration (the square root term) against exploitation (the
  mean reward): larger values try rarely visited templates more often.
* `alpha` (default 0.1) is GPTFuzzer's penalty for level: at each level the walk stops early with
  probability `alpha` (so shallow templates keep being mutated), and a reward earned by a mutant
  of a template at generation g is discounted by `max(beta, 1 - alpha * g)` (GPTFuzzer hard-codes
  0.1 there, equal to the default alpha).
* `beta` (default 0.2) is the reward floor after that discount, so deep successful lineages still
  pass some reward back to their ancestors.

Every node on the walked path is credited, so a successful lineage makes its root attractive.

Concurrent iterations (several mutants in flight) use a *virtual loss*: a walk counts its visits
at selection, as GPTFuzzer does, but its reward arrives only when the iteration is applied, so
until then each in-flight walk counts as a visit that earned nothing. Both terms of a node's
score drop with every walk through it that is still in flight, and the next selection prefers
other templates: concurrent selections spread over the tree. One iteration at a time, no walk is
ever in flight at a selection, and the policy is exactly GPTFuzzer's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass
class Node:
    """One template in the selection tree."""

    id: str
    generation: int = 0
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    visits: int = 0
    reward: float = 0.0
    pending: int = 0  # walks through this node whose reward has not arrived (the virtual loss)


class MCTSExplore:
    """GPTFuzzer's MCTS-Explore policy over seed templates and their successful mutants."""

    def __init__(
        self,
        seed_ids: list[str],
        *,
        rng: random.Random,
        ratio: float = 0.5,
        alpha: float = 0.1,
        beta: float = 0.2,
    ) -> None:
        if not seed_ids:
            raise ValueError("MCTS-Explore needs at least one seed template")
        self.roots = [Node(i) for i in seed_ids]
        self.nodes: dict[str, Node] = {n.id: n for n in self.roots}
        self.rng = rng
        self.ratio = ratio
        self.alpha = alpha
        self.beta = beta
        self.step = 0
        self.path: list[Node] = []

    def _score(self, node: Node) -> float:
        exploit = node.reward / (node.visits + 1)
        explore = self.ratio * math.sqrt(2 * math.log(self.step) / (node.visits + 0.01))
        return exploit + explore

    def _best(self, nodes: list[Node]) -> Node:
        return max(nodes, key=self._score)  # ties: the first (seed order), deterministic

    def select(self, rng: random.Random | None = None) -> Node:
        """Walk down from the best root (see `walk`); `update` credits this walk."""
        self.path = self.walk(rng)
        return self.path[-1]

    def walk(self, rng: random.Random | None = None) -> list[Node]:
        """Walk down from the best root; every node on the path counts a visit now, and stays
        pending (a virtual loss) until `update` credits the walk. `rng` draws the early stops (an
        iteration's own generator, so concurrent walks stay reproducible)."""
        rng = rng or self.rng
        self.step += 1
        current = self._best(self.roots)
        path = [current]
        while current.children:
            if rng.random() < self.alpha:
                break
            current = self._best(current.children)
            path.append(current)
        for node in path:
            node.visits += 1
            node.pending += 1
        return path

    def update(self, reward: float, path: list[Node] | None = None) -> None:
        """Credit a walk (default: the last `select`) with a mutant's reward (share of
        contradictory answers), and end its virtual loss."""
        path = self.path if path is None else path
        if not path:
            return
        chosen = path[-1]
        credit = reward * max(self.beta, 1 - self.alpha * chosen.generation)
        for node in path:
            node.reward += credit
            node.pending = max(0, node.pending - 1)
        if path is self.path:
            self.path = []

    def add_child(self, parent_id: str, child_id: str, generation: int | None = None) -> Node:
        """A successful mutant joins the tree under the template it was mutated from."""
        parent = self.nodes[parent_id]
        gen = parent.generation + 1 if generation is None else generation
        child = Node(child_id, generation=gen, parent=parent)
        parent.children.append(child)
        self.nodes[child_id] = child
        return child
