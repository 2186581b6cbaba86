"""Pieces shared by every LLM judge (ICE identity, RSE similarity)."""
