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
