"""Random walks with restart expressed as restart-free walks, which is all ``gds.randomWalk`` runs.

The embedded engine's walk takes ``L`` steps; before each step it jumps back to its start with
probability ``p``. Cut at its restarts, such a walk is a series of restart-free segments from
the start node, and by the Markov property each segment is an independent walk from the start.
After step ``t`` the walker is ``d`` steps into its current segment with probability

    P(depth_t = d) = p (1 - p)^(d - 1)   for d < t,   and   (1 - p)^(t - 1)   for d = t,

so the expected number of steps landing at depth ``d`` over one walk is

    N_d = sum_{t=d..L} P(depth_t = d) = (1 - p)^(d - 1) * (1 + p (L - d)).

A restart-free walk of ``m`` steps lands once at each depth ``1..m``. Running
``W_m = N_m - N_(m+1)`` walks of exactly ``m`` steps per walk with restart (``N_(L+1) = 0``)
therefore lands, in expectation, exactly as often at every depth, hence on every node, as the
walks with restart do. ``segment_walks`` turns this into whole numbers of GDS walks per length.

What differs: the counts agree in expectation, not walk by walk (the number of segments per
walk is random in the embedded engine and fixed here), so visit counts have a slightly
different variance; and a walk that reaches a node without neighbours ends in both engines,
which ends one segment here but the whole walk there.
"""

from __future__ import annotations

import numpy as np

from fashiongraph.errors import ConfigError


def expected_depth_visits(walk_length: int, restart_probability: float) -> np.ndarray:
    """float64 array of shape (walk_length,): ``N_d`` for ``d = 1..walk_length`` (see module)."""
    d = np.arange(1, walk_length + 1, dtype=np.float64)
    p = float(restart_probability)
    return (1.0 - p) ** (d - 1) * (1.0 + p * (walk_length - d))


def segment_walks(walk_length: int, walks_per_node: int, restart_probability: float
                  ) -> dict[int, int]:
    """Restart-free walks per start node, by number of steps, equivalent to walks with restart.

    Args:
        walk_length: steps of each walk with restart (>= 1).
        walks_per_node: walks with restart per start node (>= 1).
        restart_probability: in [0, 1).

    Returns:
        dict ``{steps: number_of_walks}`` (only non-zero counts, ``steps`` ascending). The total
        ``sum(steps * n)`` is within rounding of ``walk_length * walks_per_node``.
    """
    if walk_length < 1 or walks_per_node < 1:
        raise ConfigError(
            f"walk_length and walks_per_node must be >= 1 (got {walk_length}, {walks_per_node})"
        )
    if not 0.0 <= restart_probability < 1.0:
        raise ConfigError(f"restart_probability must be in [0, 1) (got {restart_probability})")
    if restart_probability == 0.0:
        return {walk_length: walks_per_node}

    n = expected_depth_visits(walk_length, restart_probability)
    exact = walks_per_node * (n - np.append(n[1:], 0.0))

    # Largest-remainder rounding keeps the total number of walks.
    counts = np.floor(exact).astype(np.int64)
    short = int(round(exact.sum())) - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return {int(m): int(c) for m, c in zip(range(1, walk_length + 1), counts) if c > 0}
