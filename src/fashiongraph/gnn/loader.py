"""``CSRNeighborSampler``: our numba sampler behind PyG's ``BaseSampler`` interface.

PyG's ``LinkLoader`` and ``NodeLoader`` accept any ``BaseSampler``; with this one they batch
supervision edges, draw negatives (PyG's ``NegativeSampling``, uniform or weighted) and cut
node and edge features out of the ``HeteroData`` as usual, while the neighbourhoods come from
``fashiongraph.gnn.sampler.sample_subgraph``. This module imports torch; it is loaded only to
train.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch_geometric.sampler import BaseSampler, HeteroSamplerOutput
from torch_geometric.sampler.neighbor_sampler import edge_sample, node_sample

from fashiongraph.gnn.sampler import CSRAdjacency, sample_subgraph

log = logging.getLogger(__name__)


class CSRNeighborSampler(BaseSampler):
    """Non-disjoint heterogeneous neighbour sampling over incoming-edge CSR arrays.

    Args:
        data: the ``HeteroData`` whose edges are sampled (the message-passing graph).
        num_neighbors: fan-out per hop, the same for every edge type; ``-1`` takes all.
        seed: base seed; each batch samples with a seed drawn from it, so a fixed seed
            reproduces a run (with ``num_workers=0``).

    Notes:
        Edge times, disjoint subgraphs and weighted neighbour choice are not supported.
    """

    def __init__(self, data, num_neighbors, *, seed: int = 0):
        self.adj = CSRAdjacency(data)
        self.num_neighbors = [int(k) for k in num_neighbors]
        self._rng = np.random.default_rng(seed)
        self._mappings = {t: np.full(n, -1, dtype=np.int64)
                          for t, n in self.adj.num_nodes.items()}

    def _sample(self, seed_dict, seed_time_dict=None) -> HeteroSamplerOutput:
        seeds = {t: v.cpu().numpy().astype(np.int64) for t, v in seed_dict.items()}
        nodes, rows, cols, edges, nodes_per_hop, edges_per_hop = sample_subgraph(
            self.adj, seeds, self.num_neighbors, seed=int(self._rng.integers(2**31)),
            mappings=self._mappings)
        return HeteroSamplerOutput(
            node={t: torch.from_numpy(v) for t, v in nodes.items()},
            row={e: torch.from_numpy(v) for e, v in rows.items()},
            col={e: torch.from_numpy(v) for e, v in cols.items()},
            edge={e: torch.from_numpy(v) for e, v in edges.items()},
            batch=None,
            num_sampled_nodes=nodes_per_hop,
            num_sampled_edges=edges_per_hop,
        )

    def sample_from_nodes(self, index, **kwargs) -> HeteroSamplerOutput:
        return node_sample(index, self._sample)

    def sample_from_edges(self, index, neg_sampling=None) -> HeteroSamplerOutput:
        return edge_sample(index, self._sample, self.adj.num_nodes, disjoint=False,
                           node_time=None, neg_sampling=neg_sampling)


def full_neighbourhood(data, seeds: dict[str, np.ndarray], num_layers: int):
    """The exact ``num_layers``-hop computation graph of ``seeds``, as a smaller ``HeteroData``.

    Every incoming edge of the seeds and of the nodes within ``num_layers - 1`` hops is kept
    (fan-out -1), so the encoder's output for a seed on this subgraph equals its output on
    ``data``. Scoring a validation window needs only its customers and the candidate articles;
    this skips the nodes none of them reaches (on the full H&M catalogue most articles were
    never sold and have no edges at all).

    Args:
        data: ``HeteroData`` from ``fashiongraph.gnn.hetero.to_hetero_data``.
        seeds: node type -> int64 array of distinct local ids.
        num_layers: the encoder's number of layers.

    Returns:
        HeteroData with the same node and edge types and node inputs as ``data``; per node
        type, ``n_id`` holds the local ids in ``data``, the seeds first and in the given order.
    """
    from torch_geometric.data import HeteroData

    nodes, rows, cols, _, _, _ = sample_subgraph(
        CSRAdjacency(data), seeds, [-1] * num_layers, seed=0)
    sub = HeteroData()
    for t in data.node_types:
        ids = torch.from_numpy(nodes[t])
        sub[t].num_nodes = len(ids)
        sub[t].n_id = ids
        for key in ("attr_codes", "activity"):
            if key in data[t]:
                sub[t][key] = data[t][key][ids]
    for e in data.edge_types:
        sub[e].edge_index = torch.from_numpy(np.stack([rows[e], cols[e]]))
    return sub
