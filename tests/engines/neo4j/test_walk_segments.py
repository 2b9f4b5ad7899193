"""Walks with restart as restart-free segments (no server needed)."""

import numpy as np
import pytest

from fashiongraph.engines.base import RandomWalkParams
from fashiongraph.engines.neo4j.walks import (
    expected_depth_visits,
    gds_walk_configs,
    segment_walks,
)
from fashiongraph.errors import ConfigError


def simulated_depth_visits(walk_length, restart_probability, walks, seed=0):
    """Monte Carlo of the embedded walk's depth: restart before each step with probability p."""
    rng = np.random.default_rng(seed)
    depth = np.zeros(walks, dtype=np.int64)
    counts = np.zeros(walk_length + 1)
    for _ in range(walk_length):
        depth = np.where(rng.random(walks) < restart_probability, 0, depth) + 1
        counts += np.bincount(depth, minlength=walk_length + 1)
    return counts[1:] / walks


@pytest.mark.parametrize("walk_length, p", [(20, 0.2), (5, 0.5), (12, 0.05)])
def test_expected_depth_visits_match_a_simulation(walk_length, p):
    expected = expected_depth_visits(walk_length, p)
    simulated = simulated_depth_visits(walk_length, p, walks=200_000)
    assert expected.sum() == pytest.approx(walk_length)
    np.testing.assert_allclose(simulated, expected, atol=0.01)


@pytest.mark.parametrize("walk_length, walks, p", [(20, 200, 0.2), (7, 1000, 0.5), (3, 1, 0.9)])
def test_segments_land_at_every_depth_as_often_as_walks_with_restart(walk_length, walks, p):
    segments = segment_walks(walk_length, walks, p)
    # A segment of m steps lands once at each depth 1..m.
    landed = np.zeros(walk_length)
    for steps, n in segments.items():
        landed[:steps] += n
    target = walks * expected_depth_visits(walk_length, p)
    assert sum(steps * n for steps, n in segments.items()) == pytest.approx(
        walk_length * walks, abs=walk_length)
    np.testing.assert_allclose(landed, target, atol=walk_length)


def test_no_restart_is_one_length():
    assert segment_walks(20, 200, 0.0) == {20: 200}


def test_gds_configs_count_the_start_node_in_walk_length():
    configs = gds_walk_configs(RandomWalkParams(walk_length=3, walks_per_node=10,
                                                restart_probability=0.0, random_seed=5), 1)
    assert configs == [{"walkLength": 4, "walksPerNode": 10, "concurrency": 1,
                        "randomSeed": 5 + 7919 * 3, "relationshipWeightProperty": "weight"}]


def test_bad_segment_arguments_are_named():
    with pytest.raises(ConfigError, match=r"restart_probability must be in \[0, 1\) \(got 1.0\)"):
        segment_walks(5, 5, 1.0)
    with pytest.raises(ConfigError,
                       match=r"walk_length and walks_per_node must be >= 1 \(got 0, 5\)"):
        segment_walks(0, 5, 0.1)
