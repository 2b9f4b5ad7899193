"""Paired bootstrap verdicts: against the baselines, and GraphSAGE against FastRP."""

import numpy as np

from fashiongraph.evaluation.evaluate import MethodResult, compare


def _result(method: str, ap: np.ndarray, exclude: bool = True) -> MethodResult:
    label = method if exclude else f"{method}[keep_purchased]"
    return MethodResult(label=label, method=method, params={"exclude_purchased": exclude},
                        metrics={}, map_ci=(0.0, 0.0), fit_seconds=0.0, recommend_seconds=0.0,
                        ap=ap, recommendations=None, share_from_model=1.0)


def test_graphsage_is_compared_with_fastrp_of_the_same_exclusion():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.1, 400)
    results = [_result("popularity", base), _result("fastrp_knn", base + 0.02),
               _result("fastrp_knn", base, exclude=False), _result("graphsage", base + 0.01),
               _result("graphsage", base + 0.05, exclude=False)]
    rows = {(c["method"], c["baseline"]): c for c in compare(results, num_samples=200)}

    assert rows[("graphsage", "fastrp_knn")]["verdict"] == "worse"
    assert abs(rows[("graphsage", "fastrp_knn")]["map_difference"] + 0.01) < 1e-12
    assert rows[("graphsage[keep_purchased]", "fastrp_knn[keep_purchased]")]["verdict"] == "beats"
    assert rows[("graphsage", "popularity")]["verdict"] == "beats"
    # FastRP is not compared back, and nothing across exclusion settings.
    assert ("fastrp_knn", "graphsage") not in rows
    assert ("graphsage", "fastrp_knn[keep_purchased]") not in rows
    assert ("graphsage[keep_purchased]", "fastrp_knn") not in rows
