"""The numba neighbour sampler against the plain Python reference, and inside PyG's loader."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from fashiongraph.gnn.hetero import PURCHASE_EDGE, purchase_pairs, to_hetero_data  # noqa: E402
from fashiongraph.gnn.sampler import CSRAdjacency, reference_sample, sample_subgraph  # noqa: E402
from fashiongraph.graph.build import build_knowledge_graph  # noqa: E402

CUTOFF = "2020-09-16"


@pytest.fixture(scope="module")
def data(small_dataset):
    return to_hetero_data(build_knowledge_graph(small_dataset, CUTOFF))


@pytest.fixture(scope="module")
def edge_lists(data):
    return {e: (data[e].edge_index[0].numpy(), data[e].edge_index[1].numpy())
            for e in data.edge_types}


@pytest.fixture(scope="module")
def seeds():
    return {"customer": np.array([0, 3, 7, 11]), "article": np.array([1, 2, 40, 99])}


def _numba(data, seeds, fan_out, seed):
    """Run the numba sampler; return nodes and (src_id, dst_id, edge_id) lists in local ids."""
    nodes, rows, cols, edges, _, _ = sample_subgraph(CSRAdjacency(data), seeds, fan_out,
                                                     seed=seed)
    out = {}
    for e in data.edge_types:
        src = nodes[e[0]][rows[e]]
        dst = nodes[e[2]][cols[e]]
        out[e] = list(zip(src.tolist(), dst.tolist(), edges[e].tolist()))
    return {t: v.tolist() for t, v in nodes.items()}, out


def _reference(data, edge_lists, seeds, fan_out, seed):
    num_nodes = {t: data[t].num_nodes for t in data.node_types}
    return reference_sample(edge_lists, num_nodes, seeds, fan_out, seed=seed)


def test_full_fan_out_equals_reference_exactly(data, edge_lists, seeds):
    nodes, edges = _numba(data, seeds, (-1, -1), seed=0)
    ref_nodes, ref_edges = _reference(data, edge_lists, seeds, (-1, -1), seed=0)
    assert nodes == ref_nodes
    assert {e: sorted(v) for e, v in edges.items()} == {e: sorted(v) for e, v in ref_edges.items()}
    assert sum(len(v) for v in edges.values()) > 100


@pytest.mark.parametrize("implementation", ["numba", "reference"])
@pytest.mark.parametrize("fan_out", [(3, 2), (1, 1), (10, 5)])
def test_only_true_neighbours_and_fan_out_respected(data, edge_lists, seeds, implementation,
                                                    fan_out):
    if implementation == "numba":
        nodes, edges = _numba(data, seeds, fan_out, seed=7)
    else:
        nodes, edges = _reference(data, edge_lists, seeds, fan_out, seed=7)

    # Every sampled edge is an edge of the graph, with its own id.
    for e, sampled in edges.items():
        src, dst = edge_lists[e]
        for s, d, i in sampled:
            assert (src[i], dst[i]) == (s, d)

    # Hop by hop: each frontier node keeps min(degree, fan-out) distinct incoming edges.
    frontier = {t: list(v) for t, v in seeds.items()}
    seen = {t: set(v) for t, v in seeds.items()}
    for k in fan_out:
        nxt = {}
        for e, sampled in edges.items():
            src, dst = edge_lists[e]
            for v in frontier.get(e[2], []):
                mine = [i for s, d, i in sampled if d == v]
                degree = int((dst == v).sum())
                assert len(mine) == len(set(mine)) == min(degree, k), (e, v)
                for i in mine:
                    if src[i] not in seen.setdefault(e[0], set()):
                        seen[e[0]].add(int(src[i]))
                        nxt.setdefault(e[0], []).append(int(src[i]))
        frontier = nxt
    # No node joins the sample without a sampled edge bringing it in.
    assert {t: set(v) for t, v in nodes.items() if v} == {t: v for t, v in seen.items() if v}


def test_same_seed_same_sample_other_seed_other_sample(data, seeds):
    a = _numba(data, seeds, (3, 2), seed=1)
    b = _numba(data, seeds, (3, 2), seed=1)
    c = _numba(data, seeds, (3, 2), seed=2)
    assert a == b
    assert a != c


def test_choices_are_spread_over_all_neighbours(data):
    # A hub with many incoming edges: over many draws every neighbour gets picked.
    e = ("article", "HAS_INDEX_GROUP", "index_group")
    dst = data[e].edge_index[1].numpy()
    hub = int(np.bincount(dst).argmax())
    degree = int((dst == hub).sum())
    adj = CSRAdjacency(data)
    picked = set()
    for s in range(40 * degree // 3 + 10):
        _, _, _, edges, _, _ = sample_subgraph(adj, {"index_group": np.array([hub])}, (3,),
                                               seed=s)
        picked.update(edges[e].tolist())
    assert len(picked) == degree


def test_loader_batches_hold_true_edges_and_supervision(small_dataset):
    from torch_geometric.loader import LinkLoader
    from torch_geometric.sampler import NegativeSampling

    from fashiongraph.gnn.loader import CSRNeighborSampler

    mp = to_hetero_data(build_knowledge_graph(small_dataset, "2020-09-02"))
    supervision = purchase_pairs(small_dataset.transactions, "2020-09-02", CUTOFF)
    loader = LinkLoader(mp, CSRNeighborSampler(mp, (4, 2), seed=3),
                        edge_label_index=(PURCHASE_EDGE, torch.from_numpy(supervision)),
                        neg_sampling=NegativeSampling("triplet", 2), batch_size=64)
    true_pairs = {e: set(zip(*mp[e].edge_index.tolist())) for e in mp.edge_types}
    sup = set(zip(*supervision.tolist()))
    batches = 0
    for batch in loader:
        batches += 1
        for e in mp.edge_types:
            src = batch[e[0]].n_id[batch[e].edge_index[0]].tolist()
            dst = batch[e[2]].n_id[batch[e].edge_index[1]].tolist()
            assert set(zip(src, dst)) <= true_pairs[e]
        c = batch["customer"].n_id[batch["customer"].src_index].tolist()
        a = batch["article"].n_id[batch["article"].dst_pos_index].tolist()
        assert set(zip(c, a)) <= sup
        assert batch["article"].dst_neg_index.shape == (len(c), 2)
    assert batches == -(-supervision.shape[1] // 64)
