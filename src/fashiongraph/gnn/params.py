"""Hyperparameters and the training budget of the GraphSAGE recommender."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from fashiongraph.errors import ConfigError

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True, kw_only=True)
class GraphSAGEParams:
    """How the GraphSAGE link predictor is built, trained and stopped.

    Time windows, counted back from the cutoff ``T``::

        message passing  <  T - validation_days - supervision_days  (strictly older)
        supervision      [T - validation_days - supervision_days, T - validation_days)
        validation       [T - validation_days, T)   (early stopping only)

    The validation window is scored with embeddings of the graph before it, the way the
    evaluation window is scored with embeddings of the graph before ``T``. With
    ``validation_days=0`` there is no early stopping and supervision ends at ``T``.

    Args:
        hidden_channels: width of every GraphSAGE layer and of the final embeddings.
        num_layers: number of GraphSAGE layers (message-passing hops).
        num_neighbors: fan-out per hop and per edge type; ``len`` must equal ``num_layers``.
            ``-1`` takes every neighbour.
        id_embeddings: learn an id embedding per customer and per article on top of their
            attribute embeddings (attribute nodes always have one).
        dropout: dropout between layers.
        supervision_days: length of the supervision window, days (>= 1).
        validation_days: length of the validation window, days (>= 0).
        batch_size: positive supervision edges per mini-batch.
        num_negatives: negative articles sampled per positive edge in each batch.
        negative_popularity: exponent ``alpha`` of popularity-aware negatives: an article is
            drawn with probability proportional to ``(purchases + 1) ** alpha``; 0 is uniform.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        max_epochs: upper bound on passes over the supervision edges.
        max_steps: upper bound on optimiser steps (``None``: no bound).
        max_minutes: upper bound on training wall time (``None``: no bound).
        patience: epochs without validation improvement before stopping.
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
            ``"cuda:N"``.
        num_threads: torch CPU threads while training (restored afterwards); ``None`` keeps
            torch's setting. 1 is the default because on a small shared machine OpenMP threads
            spin against other processes: on the 2-core machine of the benchmark, 1 thread
            trained about 10x faster than 2 under load.
        seed: seed of the weights, the neighbour sampler and the negatives.
    """

    hidden_channels: int = 64
    num_layers: int = 2
    num_neighbors: tuple[int, ...] = (10, 5)
    id_embeddings: bool = True
    dropout: float = 0.1
    supervision_days: int = 7
    validation_days: int = 7
    batch_size: int = 256
    num_negatives: int = 4
    negative_popularity: float = 0.0
    lr: float = 0.01
    weight_decay: float = 0.0
    max_epochs: int = 30
    max_steps: int | None = None
    max_minutes: float | None = 10.0
    patience: int = 5
    device: str = "auto"
    num_threads: int | None = 1
    seed: int = 42

    def __post_init__(self):
        object.__setattr__(self, "num_neighbors", tuple(int(k) for k in self.num_neighbors))
        _at_least(self, "hidden_channels", 1)
        _at_least(self, "num_layers", 1)
        if len(self.num_neighbors) != self.num_layers:
            raise ConfigError(
                f"num_neighbors needs one fan-out per layer ({self.num_layers} layers) "
                f"(got {list(self.num_neighbors)})"
            )
        if any(k == 0 or k < -1 for k in self.num_neighbors):
            raise ConfigError(
                f"num_neighbors entries must be >= 1 or -1 for all (got {list(self.num_neighbors)})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1) (got {self.dropout})")
        _at_least(self, "supervision_days", 1)
        _at_least(self, "validation_days", 0)
        _at_least(self, "batch_size", 1)
        _at_least(self, "num_negatives", 1)
        if self.negative_popularity < 0:
            raise ConfigError(
                f"negative_popularity must be >= 0 (got {self.negative_popularity})"
            )
        if not self.lr > 0:
            raise ConfigError(f"lr must be > 0 (got {self.lr})")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0 (got {self.weight_decay})")
        _at_least(self, "max_epochs", 1, budget=True)
        if self.max_steps is not None:
            _at_least(self, "max_steps", 1, budget=True)
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ConfigError(
                f"max_minutes must be > 0 or None for no limit: a zero budget trains nothing "
                f"(got {self.max_minutes})"
            )
        _at_least(self, "patience", 1)
        if self.num_threads is not None:
            _at_least(self, "num_threads", 1)
        if not isinstance(self.device, str) or not _DEVICE.match(self.device):
            raise ConfigError(
                f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (got {self.device!r})"
            )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["num_neighbors"] = list(self.num_neighbors)
        return d


def _at_least(params, name: str, low: int, *, budget: bool = False) -> None:
    value = getattr(params, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        hint = ": a zero budget trains nothing" if budget else ""
        raise ConfigError(f"{name} must be an integer >= {low}{hint} (got {value!r})")


def resolve_device(name: str):
    """The ``torch.device`` for a ``GraphSAGEParams.device`` string.

    Raises:
        ConfigError: CUDA was asked for and torch sees no GPU, or the index is out of range.
    """
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {name!r} was requested but torch sees no CUDA GPU; "
                "use device='cpu' or 'auto' (got torch.cuda.is_available() == False)"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {name!r}: there are only {torch.cuda.device_count()} CUDA devices "
                f"(got index {index})"
            )
    return torch.device(name)
