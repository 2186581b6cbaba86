"""The map from a raw similarity in [0, 1] to the paper's 1-5 scale.

    score = 1 + 4 * clip((raw - floor) / (1 - floor), 0, 1)

`floor` is the raw similarity two unrelated answers typically reach on that measure (measured on
MT-bench answers to different prompts), so unrelated texts land at 1 and identical texts at 5.
The map is monotone and piecewise linear: equal steps of raw similarity above the floor are equal
steps on the 1-5 scale.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Raw similarity of unrelated answers, per measure (see the module docstring).
FLOORS: dict[str, float] = {
    "style": 0.55,
    "logic": 0.0,
    "lexical": 0.05,
    "embedding": 0.05,
}


def to_scale(raw: ArrayLike, floor: float) -> NDArray[np.float64]:
    """Raw similarity (array) -> 1-5, clipped."""
    x = np.asarray(raw, dtype=float)
    return 1.0 + 4.0 * np.clip((x - floor) / (1.0 - floor), 0.0, 1.0)
