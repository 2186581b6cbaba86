"""The one check of a random seed, wherever one comes in (a flag, a study file, the Python API).

numpy, scikit-learn and the bootstraps take seeds in [0, 2**32 - 1]; anything else raised a
numpy traceback deep inside a run. Checked once, when the settings are validated."""

from __future__ import annotations

from distillscope.errors import UserError

SEED_MAX = 2**32 - 1


def check_seed(seed: object, flag: str = "--seed") -> int:
    """`seed` as an int in [0, SEED_MAX], or a one-line UserError naming `flag`."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UserError(f"{flag} must be a whole number from 0 to {SEED_MAX}, got {seed!r}")
    if not 0 <= seed <= SEED_MAX:
        raise UserError(f"{flag} must be from 0 to {SEED_MAX}, got {seed}")
    return seed
