"""GPTFuzzer's algorithm for identity probing: MCTS-Explore seed selection, LLM mutators, budget stop."""
