"""Neighbour sampling over CSR arrays with numba (no torch here; ``gnn.loader`` wraps it).

PyG's own ``NeighborSampler`` needs pyg-lib or torch-sparse; neither is a dependency of
fashiongraph. ``sample_subgraph`` does the sampling on numpy arrays, and
``fashiongraph.gnn.loader.CSRNeighborSampler`` exposes it through PyG's ``BaseSampler``
interface, so that PyG's ``LinkLoader`` and ``NodeLoader`` drive it unchanged.

The semantics follow PyG's non-disjoint heterogeneous neighbour sampling: starting from the
seed nodes, each hop takes, for every edge type ``(src, rel, dst)`` and every node of type
``dst`` added in the previous hop, up to ``fan_out`` distinct incoming edges uniformly without
replacement (all of them for ``-1``). Source nodes not seen yet join the sample and become
the next hop's frontier. ``reference_sample`` does the same in plain Python, for the tests.
"""

from __future__ import annotations

import logging
import random
from functools import cache

import numpy as np

log = logging.getLogger(__name__)


@cache
def _kernels():
    """Compile the numba kernels once per process (numba is imported here, not at import)."""
    import numba

    @numba.njit(cache=False)
    def seed(value):
        np.random.seed(value)

    @numba.njit(cache=False)
    def sample_hop(colptr, row, frontier, first_col, fan_out):
        # Pass 1: how many edges each frontier node keeps.
        n = len(frontier)
        counts = np.empty(n + 1, dtype=np.int64)
        counts[0] = 0
        for i in range(n):
            v = frontier[i]
            deg = colptr[v + 1] - colptr[v]
            counts[i + 1] = counts[i] + (deg if fan_out < 0 or deg <= fan_out else fan_out)

        # Pass 2: pick them; Floyd's algorithm draws fan_out distinct slots out of deg.
        total = counts[n]
        src = np.empty(total, dtype=np.int64)
        col = np.empty(total, dtype=np.int64)
        eid = np.empty(total, dtype=np.int64)
        for i in range(n):
            v = frontier[i]
            lo = colptr[v]
            deg = colptr[v + 1] - lo
            out = counts[i]
            m = counts[i + 1] - out
            if m == deg:
                for j in range(deg):
                    eid[out + j] = lo + j
            else:
                for j in range(deg - m, deg):
                    t = np.random.randint(0, j + 1)
                    taken = False
                    for q in range(out, out + (j - (deg - m))):
                        if eid[q] == lo + t:
                            taken = True
                            break
                    eid[out + j - (deg - m)] = lo + (j if taken else t)
            for j in range(m):
                src[out + j] = row[eid[out + j]]
                col[out + j] = first_col + i
        return src, col, eid

    @numba.njit(cache=False)
    def relabel(mapping, first_new, candidates):
        # Local position of each candidate; unseen nodes are appended in order of appearance.
        pos = np.empty(len(candidates), dtype=np.int64)
        new = np.empty(len(candidates), dtype=np.int64)
        n_new = 0
        for i in range(len(candidates)):
            v = candidates[i]
            p = mapping[v]
            if p < 0:
                p = first_new + n_new
                mapping[v] = p
                new[n_new] = v
                n_new += 1
            pos[i] = p
        return pos, new[:n_new]

    return seed, sample_hop, relabel


class CSRAdjacency:
    """Incoming edges of every edge type as CSR (CSC) arrays, built once from ``HeteroData``.

    Attributes:
        colptr: per edge type, int64 array of shape (num_dst_nodes + 1,): the incoming edges of
            destination ``v`` are entries ``colptr[v]:colptr[v + 1]``.
        row: per edge type, int64 array of shape (num_edges,): the source node of each entry.
        perm: per edge type, int64 array of shape (num_edges,): the entry's edge id in the
            ``HeteroData`` ``edge_index`` (column position).
        num_nodes: nodes per node type.
    """

    def __init__(self, data):
        self.num_nodes = {t: int(data[t].num_nodes) for t in data.node_types}
        self.colptr, self.row, self.perm = {}, {}, {}
        for edge_type in data.edge_types:
            index = data[edge_type].edge_index.cpu().numpy()
            num_dst = self.num_nodes[edge_type[2]]
            order = np.argsort(index[1], kind="stable")
            self.perm[edge_type] = order.astype(np.int64)
            self.row[edge_type] = index[0][order].astype(np.int64)
            colptr = np.zeros(num_dst + 1, dtype=np.int64)
            np.cumsum(np.bincount(index[1], minlength=num_dst), out=colptr[1:])
            self.colptr[edge_type] = colptr

    @property
    def edge_types(self) -> list[tuple[str, str, str]]:
        return list(self.colptr)


def sample_subgraph(adj: CSRAdjacency, seeds: dict, num_neighbors, *, seed: int,
                    mappings: dict | None = None):
    """Sample a multi-hop neighbourhood of ``seeds`` with the numba kernels.

    Args:
        adj: incoming CSR arrays of every edge type.
        seeds: node type -> int64 array of shape (n,) of distinct local ids to start from.
        num_neighbors: fan-out per hop (same for every edge type); ``-1`` takes all.
        seed: seed of the random choices.
        mappings: node type -> int64 scratch array of shape (num_nodes,) filled with ``-1``
            (left filled with ``-1`` on return); allocated when ``None``.

    Returns:
        (nodes, rows, cols, edges, nodes_per_hop, edges_per_hop): ``nodes[t]`` int64 array of
        the sampled local ids of type ``t`` (seeds first); for each edge type, ``rows`` and
        ``cols`` int64 arrays of positions into ``nodes[src]`` and ``nodes[dst]``, ``edges``
        the edge ids; per-hop counts as lists.
    """
    seed_kernel, sample_hop, relabel = _kernels()
    seed_kernel(int(seed) % (2**32))
    if mappings is None:
        mappings = {t: np.full(n, -1, dtype=np.int64) for t, n in adj.num_nodes.items()}

    # Seeds are the first nodes of their types and the first frontier.
    nodes = {t: [] for t in adj.num_nodes}
    count = {t: 0 for t in adj.num_nodes}
    frontier, frontier_start = {}, {}
    for t, ids in seeds.items():
        ids = np.asarray(ids, dtype=np.int64)
        _, new = relabel(mappings[t], 0, ids)
        nodes[t].append(new)
        frontier[t], frontier_start[t], count[t] = new, 0, len(new)
    nodes_per_hop = {t: [count[t]] for t in adj.num_nodes}
    rows = {e: [] for e in adj.edge_types}
    cols = {e: [] for e in adj.edge_types}
    edges = {e: [] for e in adj.edge_types}
    edges_per_hop = {e: [] for e in adj.edge_types}

    # Each hop: every edge type into a frontier type, then the new sources form the next one.
    try:
        for fan_out in num_neighbors:
            grown = {t: count[t] for t in adj.num_nodes}
            for e in adj.edge_types:
                src_type, _, dst_type = e
                todo = frontier.get(dst_type)
                if todo is None or len(todo) == 0:
                    edges_per_hop[e].append(0)
                    continue
                src, col, eid = sample_hop(adj.colptr[e], adj.row[e], todo,
                                           frontier_start[dst_type], int(fan_out))
                pos, new = relabel(mappings[src_type], count[src_type], src)
                count[src_type] += len(new)
                nodes[src_type].append(new)
                rows[e].append(pos)
                cols[e].append(col)
                edges[e].append(adj.perm[e][eid])
                edges_per_hop[e].append(len(eid))
            frontier, frontier_start = {}, {}
            for t in adj.num_nodes:
                nodes_per_hop[t].append(count[t] - grown[t])
                if count[t] > grown[t]:
                    frontier[t] = np.concatenate(nodes[t])[grown[t]:]
                    frontier_start[t] = grown[t]
        out_nodes = {t: (np.concatenate(v) if v else np.empty(0, np.int64))
                     for t, v in nodes.items()}
    finally:
        # Leave the scratch maps clean for the next batch.
        for t, v in nodes.items():
            for part in v:
                mappings[t][part] = -1
    cat = {e: (np.concatenate(v) if v else np.empty(0, np.int64)) for e, v in rows.items()}
    return (out_nodes, cat,
            {e: (np.concatenate(v) if v else np.empty(0, np.int64)) for e, v in cols.items()},
            {e: (np.concatenate(v) if v else np.empty(0, np.int64)) for e, v in edges.items()},
            nodes_per_hop, edges_per_hop)


def reference_sample(edge_lists: dict, num_nodes: dict, seeds: dict, num_neighbors,
                     *, seed: int):
    """Plain Python version of ``sample_subgraph`` (slow, obvious; for tests).

    Args:
        edge_lists: edge type -> (src, dst) int arrays of shape (num_edges,).
        num_nodes: nodes per node type.
        seeds: node type -> distinct local ids to start from.
        num_neighbors: fan-out per hop; ``-1`` takes all.
        seed: seed of ``random.Random``.

    Returns:
        (nodes, edges): ``nodes[t]`` list of sampled local ids (seeds first, then in order of
        discovery); ``edges[edge_type]`` list of ``(src_id, dst_id, edge_id)`` in local ids.
    """
    rng = random.Random(seed)
    incoming = {}
    for e, (src, dst) in edge_lists.items():
        lists: dict[int, list[tuple[int, int]]] = {}
        for i, (s, d) in enumerate(zip(np.asarray(src).tolist(), np.asarray(dst).tolist())):
            lists.setdefault(d, []).append((s, i))
        incoming[e] = lists
    nodes = {t: [] for t in num_nodes}
    seen = {t: set() for t in num_nodes}
    for t, ids in seeds.items():
        for v in np.asarray(ids).tolist():
            if v not in seen[t]:
                seen[t].add(v)
                nodes[t].append(v)
    frontier = {t: list(nodes[t]) for t in nodes}
    edges = {e: [] for e in edge_lists}
    for fan_out in num_neighbors:
        nxt = {t: [] for t in num_nodes}
        for e in edge_lists:
            src_type, _, dst_type = e
            for v in frontier.get(dst_type, []):
                options = incoming[e].get(v, [])
                chosen = options if fan_out < 0 or len(options) <= fan_out else rng.sample(
                    options, fan_out)
                for s, i in chosen:
                    edges[e].append((s, v, i))
                    if s not in seen[src_type]:
                        seen[src_type].add(s)
                        nodes[src_type].append(s)
                        nxt[src_type].append(s)
        frontier = nxt
    return nodes, edges
