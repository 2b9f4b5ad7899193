"""Compressed sparse row projection of the knowledge graph: the embedded engine's storage.

Every embedded algorithm (walks, FastRP, neighbour sampling) reads these arrays. They are
written as plain ``.npy`` files and opened memory-mapped, so a full-scale graph (about 11M nodes,
160M directed entries) is shared between processes without copying.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from fashiongraph.errors import GraphError


@dataclass
class CSRGraph:
    """An undirected graph as CSR arrays over global node ids, with typed id ranges.

    Attributes:
        indptr: int64 array of shape (num_nodes + 1,): row ``v`` spans
            ``indices[indptr[v]:indptr[v + 1]]``.
        indices: int32 array of shape (num_entries,): neighbour ids, sorted within each row.
        weights: float32 array of shape (num_entries,): weight of each entry.
        type_names: node type names in global id order.
        type_bounds: int64 array of shape (num_types + 1,): type ``i`` owns global ids
            ``type_bounds[i] <= v < type_bounds[i + 1]``.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    type_names: list[str]
    type_bounds: np.ndarray

    @property
    def num_nodes(self) -> int:
        return len(self.indptr) - 1

    @property
    def num_entries(self) -> int:
        return len(self.indices)

    def degree(self) -> np.ndarray:
        """int64 array of shape (num_nodes,): number of neighbours of each node."""
        return np.diff(self.indptr)

    def weighted_degree(self) -> np.ndarray:
        """float64 array of shape (num_nodes,): sum of entry weights of each node."""
        return np.add.reduceat(
            np.append(self.weights.astype(np.float64), 0.0), self.indptr[:-1]
        ) * (self.degree() > 0)

    def type_range(self, node_type: str) -> tuple[int, int]:
        """Global id range ``[lo, hi)`` of ``node_type``."""
        try:
            i = self.type_names.index(node_type)
        except ValueError:
            raise GraphError(
                f"node type {node_type!r} is not in the graph (has {self.type_names})"
            ) from None
        return int(self.type_bounds[i]), int(self.type_bounds[i + 1])

    def neighbours(self, v: int) -> np.ndarray:
        return self.indices[self.indptr[v]:self.indptr[v + 1]]

    def to_scipy(self):
        """The adjacency as ``scipy.sparse.csr_matrix`` (shares memory where it can)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.weights, self.indices, self.indptr),
                             shape=(self.num_nodes, self.num_nodes))

    @classmethod
    def from_edges(cls, src, dst, weight, *, num_nodes: int, type_names, type_bounds) -> CSRGraph:
        """Build the symmetric CSR of undirected edges ``src[i] -- dst[i]``.

        Each edge is stored in both rows; parallel edges are summed into one entry (in input
        order). Two counting sorts, by column then by row, put every row in column order in
        ``O(num_edges)`` time; memory beyond the result is one int32 and one float32 array
        of ``2 * num_edges`` (a full-scale H&M graph: about 0.5 GB).

        Args:
            src, dst: integer arrays of shape (num_edges,): global node ids.
            weight: float array of shape (num_edges,).
        """
        src, dst = np.asarray(src), np.asarray(dst)
        src = src if src.dtype.kind in "iu" else src.astype(np.int64)  # e.g. an empty list
        dst = dst if dst.dtype.kind in "iu" else dst.astype(np.int64)
        weight = np.asarray(weight, dtype=np.float32)
        if not (len(src) == len(dst) == len(weight)):
            raise GraphError(
                f"edge arrays differ in length (src {len(src)}, dst {len(dst)}, "
                f"weight {len(weight)})"
            )
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= num_nodes):
            raise GraphError(f"edge endpoint outside 0..{num_nodes - 1}")
        if num_nodes >= 2**31:
            raise GraphError(f"at most 2**31 - 1 nodes fit int32 ids (got {num_nodes:,})")
        # Arrays come from numpy, which asks for huge pages on large ones (kernels that jump
        # around the graph then miss the TLB far less often).
        n = 2 * len(src)
        indptr = np.zeros(num_nodes + 1, dtype=np.int64)
        indices, weights = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.float32)
        scratch_rows, scratch_w = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.float32)
        kept = _kernels()(src, dst, weight, indptr, indices, weights, scratch_rows, scratch_w)
        del scratch_rows, scratch_w
        if kept < n:
            indices, weights = indices[:kept].copy(), weights[:kept].copy()
        return cls(indptr, indices, weights, list(type_names),
                   np.asarray(type_bounds, dtype=np.int64))

    # ------------------------------------------------------------------ storage
    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "indptr.npy", self.indptr)
        np.save(directory / "indices.npy", self.indices)
        np.save(directory / "weights.npy", self.weights)
        np.save(directory / "type_bounds.npy", self.type_bounds)
        (directory / "csr.json").write_text(json.dumps({"type_names": self.type_names}))
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> CSRGraph:
        """Open a saved CSR; with ``mmap`` the arrays are read-only memory maps."""
        directory = Path(directory)
        mode = "r" if mmap else None
        return cls(
            np.load(directory / "indptr.npy", mmap_mode=mode),
            np.load(directory / "indices.npy", mmap_mode=mode),
            np.load(directory / "weights.npy", mmap_mode=mode),
            json.loads((directory / "csr.json").read_text())["type_names"],
            np.load(directory / "type_bounds.npy"),
        )


@cache
def _kernels():
    """The numba CSR builder, compiled on first use (numba is imported only then)."""
    from numba import njit

    return njit(cache=True)(_symmetric_csr)


def _symmetric_csr(src, dst, weight, indptr, indices, weights, by_col_row, by_col_w):
    """Fill ``indptr`` (zeros on entry), ``indices`` and ``weights``; return the entry count."""
    n_edges = len(src)
    num_nodes = len(indptr) - 1
    # Entry e < n_edges is (src[e], dst[e]); entry n_edges + e is its mirror (dst[e], src[e]).
    # Both endpoints count once per edge, so column counts equal row counts (symmetry).
    for e in range(n_edges):
        indptr[src[e] + 1] += 1
        indptr[dst[e] + 1] += 1
    for v in range(num_nodes):
        indptr[v + 1] += indptr[v]

    # Pass 1: entries in column order (stable: input order within a column).
    cursor = indptr[:-1].copy()
    for mirror in range(2):
        for e in range(n_edges):
            r, c = (src[e], dst[e]) if mirror == 0 else (dst[e], src[e])
            p = cursor[c]
            by_col_row[p] = r
            by_col_w[p] = weight[e]
            cursor[c] = p + 1

    # Pass 2: walking columns in order, drop each entry into its row: rows come out sorted.
    cursor[:] = indptr[:-1]
    for c in range(num_nodes):
        for p in range(indptr[c], indptr[c + 1]):
            r = by_col_row[p]
            q = cursor[r]
            indices[q] = c
            weights[q] = by_col_w[p]
            cursor[r] = q + 1

    # Sum parallel entries (adjacent now), compacting rows in place.
    out = 0
    for v in range(num_nodes):
        lo, hi = indptr[v], indptr[v + 1]
        start = out
        for j in range(lo, hi):
            if out > start and indices[out - 1] == indices[j]:
                weights[out - 1] += weights[j]
            else:
                indices[out] = indices[j]
                weights[out] = weights[j]
                out += 1
        indptr[v] = start
    indptr[num_nodes] = out
    return out
