"""A counter-based random number generator for numba kernels.

Each walk (or each initial FastRP vector) gets its own stream seeded from
``(random_seed, node, index)``, so results do not depend on how threads split the work.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@nb.njit(inline="always")
def splitmix64(state):
    """One splitmix64 step: returns (new_state, 64-bit output)."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return state, z ^ (z >> np.uint64(31))


@nb.njit(inline="always")
def seed_stream(seed, a, b):
    """A state for stream ``(seed, a, b)``."""
    s = np.uint64(seed) * np.uint64(0x2545F4914F6CDD1D)
    s, z = splitmix64(s ^ np.uint64(a))
    s, z = splitmix64(z ^ (np.uint64(b) * _M2))
    return z


@nb.njit(inline="always")
def uniform(state):
    """(new_state, float64 uniform in [0, 1))."""
    state, z = splitmix64(state)
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)
