"""Parity of the two engines on the bundled real sample (65 test customers, 2020-09-16..22).

The engines draw different random numbers, so they agree in distribution, not list by list.
Each check is calibrated against the embedded engine with another seed: the Neo4j engine must
differ from the embedded engine no more than the embedded engine differs from itself.

MAP@12 tolerance: 0.005 absolute per method. On these 65 customers the embedded engine's own
MAP@12 moved by up to 0.004 between seeds 42, 43 and 44 (random walk, 1000 walks per customer),
and the methods score 0 to 0.006, so a smaller tolerance would test the seed, not the engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fashiongraph.engines.base import FastRPParams, RandomWalkParams, make_engine
from fashiongraph.evaluation.evaluate import Split, evaluate, ground_truth
from fashiongraph.evaluation.metrics import bootstrap_ci

pytestmark = pytest.mark.neo4j

MAP_TOLERANCE = 0.005
WALKS_PER_NODE = 1000


def run(dataset, engine, seed):
    params = {"random_walk": {"params": RandomWalkParams(walks_per_node=WALKS_PER_NODE,
                                                         random_seed=seed)},
              "fastrp_knn": {"params": FastRPParams(random_seed=seed)}}
    result = evaluate(dataset, Split(test_start="2020-09-16"), engine=engine,
                      methods=["random_walk", "fastrp_knn"], method_params=params,
                      bootstrap_samples=10)
    return {m.label: m for m in result.methods}


@pytest.fixture(scope="module")
def results(sample_dataset, sample_engine):
    # sample_engine has loaded the sample: the evaluation's own neo4j engine finds it there.
    return {"embedded": run(sample_dataset, "embedded", 42),
            "embedded_other_seed": run(sample_dataset, "embedded", 43),
            "neo4j": run(sample_dataset, "neo4j", 42)}


def overlap(a, b) -> float:
    """Mean share of a customer's 12 articles found in both lists."""
    return float(np.mean([len(set(x) & set(y)) / len(x) for x, y in
                          zip(a.recommendations.article_idx, b.recommendations.article_idx)]))


LABELS = ["random_walk", "random_walk[keep_purchased]", "fastrp_knn",
          "fastrp_knn[keep_purchased]"]


@pytest.mark.parametrize("label", LABELS)
def test_map_at_12_within_tolerance(results, label):
    embedded = results["embedded"][label]
    neo4j = results["neo4j"][label]
    gap = abs(neo4j.metrics["all"]["map"] - embedded.metrics["all"]["map"])
    assert gap <= MAP_TOLERANCE, f"{label}: MAP@12 differs by {gap:.5f}"
    # And not significantly: the paired bootstrap interval of the AP difference holds 0.
    lo, hi = bootstrap_ci(neo4j.ap - embedded.ap)
    assert lo <= 0.0 <= hi, f"{label}: AP difference interval [{lo:.5f}, {hi:.5f}]"


@pytest.mark.parametrize("label", LABELS[:2])
def test_walk_lists_differ_no_more_than_between_two_seeds(results, label):
    across = overlap(results["embedded"][label], results["neo4j"][label])
    seeds = overlap(results["embedded"][label], results["embedded_other_seed"][label])
    assert across >= seeds - 0.1, f"{label}: overlap {across:.3f} across engines, {seeds:.3f} " \
                                  "across seeds"


def test_fastrp_cosines_agree_as_much_as_two_seeds_do(sample_engine, sample_context):
    """FastRP's customer-to-candidate cosines, correlated across engines and across seeds.

    Top-12 lists of FastRP + KNN vary too much from seed to seed on 65 customers for a
    one-draw test (overlap 0.43 to 0.55 between embedded seeds, 0.37 to 0.54 across engines);
    the cosines behind them are the stable statistic.
    """
    from fashiongraph.engines.embedded.knn import normalize_rows
    from test_sample_engine import candidate_vectors

    customers, _ = ground_truth(sample_context.dataset.between("2020-09-16", "2020-09-23"))
    candidates = np.flatnonzero(sample_context.sold_within(28))
    embedded = make_engine("embedded", sample_context.graph)

    def cosines(engine, seed):
        vectors = engine.fastrp(FastRPParams(random_seed=seed))
        articles = (candidate_vectors(engine, vectors, candidates) if engine is sample_engine
                    else vectors.article[candidates])
        return (normalize_rows(vectors.customer[customers]) @ normalize_rows(articles).T).ravel()

    e42, e43 = cosines(embedded, 42), cosines(embedded, 43)
    n42, n43 = cosines(sample_engine, 42), cosines(sample_engine, 43)
    within = min(np.corrcoef(e42, e43)[0, 1], np.corrcoef(n42, n43)[0, 1])
    across = np.corrcoef(e42, n42)[0, 1]
    assert across >= within - 0.05, f"cosine correlation {across:.3f} across engines, " \
                                    f"{within:.3f} across seeds"


def test_walk_visit_distributions_agree(sample_dataset, sample_context, sample_engine):
    """Chi-square homogeneity of the article visit counts, corrected for dependence.

    Visits within one walk are dependent, so the plain chi-square statistic runs about 5% above
    its degrees of freedom even for two runs of one engine. That overdispersion is measured
    between two seeds of the embedded engine and divides the cross-engine statistic
    (quasi-likelihood correction) before the p-value is read.
    """
    customers, _ = ground_truth(sample_dataset.between("2020-09-16", "2020-09-23"))
    embedded = make_engine("embedded", sample_context.graph)
    params = RandomWalkParams()
    first = embedded.random_walk_visits(customers, params)
    second = embedded.random_walk_visits(customers, RandomWalkParams(random_seed=43))
    neo4j = sample_engine.random_walk_visits(customers, params)

    def chi2(a, b):
        ta, tb = np.asarray(a.sum(0)).ravel(), np.asarray(b.sum(0)).ravel()
        keep = ta + tb >= 20
        statistic, _, dof, _ = stats.chi2_contingency(np.vstack([ta[keep], tb[keep]]))
        return statistic, dof, np.corrcoef(ta, tb)[0, 1]

    seed_stat, seed_dof, seed_corr = chi2(first, second)
    engine_stat, engine_dof, engine_corr = chi2(first, neo4j)
    dispersion = max(seed_stat / seed_dof, 1.0)
    p_value = stats.chi2.sf(engine_stat / dispersion, engine_dof)
    assert p_value > 0.001, (f"visit counts differ: chi2/dof {engine_stat / engine_dof:.3f} "
                             f"across engines, {seed_stat / seed_dof:.3f} across seeds")
    assert engine_corr >= seed_corr - 0.01
    assert neo4j.sum() == pytest.approx(first.sum(), rel=0.02)
