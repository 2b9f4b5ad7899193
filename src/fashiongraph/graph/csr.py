"""Compressed sparse row projection of the knowledge graph: the embedded engine's storage.

Every embedded algorithm (walks, FastRP, neighbour sampling) reads these arrays. They are
written as plain ``.npy`` files and opened memory-mapped, so a full-scale graph (about 11M nodes,
160M directed entries) is shared between processes without copying.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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

        Each edge is stored in both rows; parallel edges are summed into one entry.
        """
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        weight = np.asarray(weight, dtype=np.float32)
        if not (len(src) == len(dst) == len(weight)):
            raise GraphError(
                f"edge arrays differ in length (src {len(src)}, dst {len(dst)}, "
                f"weight {len(weight)})"
            )
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= num_nodes):
            raise GraphError(f"edge endpoint outside 0..{num_nodes - 1}")

        # Both directions, sorted by (row, column) so that duplicates are adjacent.
        rows = np.concatenate([src, dst])
        cols = np.concatenate([dst, src])
        w = np.concatenate([weight, weight])
        order = np.lexsort((cols, rows))
        rows, cols, w = rows[order], cols[order], w[order]

        # Sum parallel entries.
        if len(rows):
            new = np.empty(len(rows), dtype=bool)
            new[0] = True
            new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            starts = np.flatnonzero(new)
            w = np.add.reduceat(w, starts).astype(np.float32)
            rows, cols = rows[starts], cols[starts]

        indptr = np.zeros(num_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=num_nodes), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), w, list(type_names),
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
