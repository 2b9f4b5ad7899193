"""The heterogeneous GraphSAGE link predictor: node inputs, encoder, dot-product decoder.

This module imports torch and torch_geometric at the top; it is loaded only to train or to
re-embed a graph, never on the request path (which reads the saved numpy embeddings).
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor, nn
from torch_geometric.nn import HeteroConv, SAGEConv

from fashiongraph.errors import ConfigError
from fashiongraph.gnn.hetero import HeteroSpec
from fashiongraph.graph.model import ARTICLE, CUSTOMER

log = logging.getLogger(__name__)

NUM_ACTIVITY = 2
"""Activity inputs per customer and article (see ``fashiongraph.gnn.hetero``)."""


class NodeInputs(nn.Module):
    """First-layer vectors of every node from learnable tables.

    Attribute nodes (``colour_group``, ``age_band``, ...) have one embedding row per node, plus
    a padding row that stands for a missing value. A customer or an article starts from the sum
    of the rows of its attribute codes (the same tables, so an article's ``colour_group`` input
    is the ``colour_group`` node's own vector), a linear map of its two activity inputs (see
    ``hetero``) and, with ``id_embeddings``, a row of its own.

    Args:
        spec: the graph's node counts and attribute inputs.
        channels: vector width.
        id_embeddings: give every customer and article a learnable id vector.
    """

    def __init__(self, spec: HeteroSpec, channels: int, *, id_embeddings: bool):
        super().__init__()
        owners = (CUSTOMER, ARTICLE)
        self.attributes = {o: [a for a, _ in spec.attributes.get(o, [])] for o in owners}
        for o in owners:
            if not id_embeddings and not self.attributes[o]:
                raise ConfigError(
                    f"{o} nodes have no attribute inputs in this graph, so they need "
                    f"id embeddings (got id_embeddings=False)"
                )
        self.tables = nn.ModuleDict()
        for t, n in spec.num_nodes.items():
            if t in owners:
                if id_embeddings:
                    self.tables[t] = nn.Embedding(n, channels)
            else:
                self.tables[t] = nn.Embedding(n + 1, channels, padding_idx=n)
        self.activity = nn.ModuleDict({o: nn.Linear(NUM_ACTIVITY, channels) for o in owners})
        for table in self.tables.values():
            nn.init.normal_(table.weight, std=0.1)
            if table.padding_idx is not None:
                with torch.no_grad():
                    table.weight[table.padding_idx].zero_()

    def forward(self, n_id: dict[str, Tensor], attr_codes: dict[str, Tensor],
                activity: dict[str, Tensor]) -> dict[str, Tensor]:
        """Input vectors of the nodes in ``n_id``.

        Args:
            n_id: node type -> int64 tensor of shape (num_nodes_t,): local ids of the nodes.
            attr_codes: ``customer``/``article`` -> int64 tensor of shape
                (num_nodes_t, num_attributes_t): attribute codes (padding id where missing).
            activity: ``customer``/``article`` -> float tensor of shape (num_nodes_t, 2).

        Returns:
            node type -> float tensor of shape (num_nodes_t, channels).
        """
        x = {}
        for t, ids in n_id.items():
            if t in self.attributes:
                parts = [self.tables[a](attr_codes[t][:, j])
                         for j, a in enumerate(self.attributes[t])]
                parts.append(self.activity[t](activity[t]))
                if t in self.tables:
                    parts.append(self.tables[t](ids))
                x[t] = torch.stack(parts).sum(0)
            else:
                x[t] = self.tables[t](ids)
        return x


class GraphSAGELinkPredictor(nn.Module):
    """Heterogeneous GraphSAGE encoder with a dot-product decoder for customer -> article edges.

    Each layer is a ``HeteroConv`` of one ``SAGEConv`` (mean aggregation, root weight) per edge
    type, reverse types included, summed per destination type; ReLU and dropout sit between
    layers. The decoder scores a customer-article pair as
    ``<h_customer, h_article> + bias(h_article)`` with a learned linear ``bias`` (it captures
    popularity); the edge probability is the sigmoid of that logit. Because the score is an
    inner product of ``[h_customer, 1]`` and ``[h_article, bias(h_article)]``, recommending is a
    maximum inner product search over precomputed vectors (see ``export_vectors``).

    Args:
        spec: the heterogeneous graph the model is built for.
        hidden_channels: width of every layer.
        num_layers: number of GraphSAGE layers.
        id_embeddings: learnable id vectors for customers and articles.
        dropout: dropout between layers.

    Notes:
        Edge weights (purchase recency, quantity) are not used: ``SAGEConv`` averages
        neighbours uniformly.
    """

    def __init__(self, spec: HeteroSpec, *, hidden_channels: int, num_layers: int,
                 id_embeddings: bool, dropout: float):
        super().__init__()
        self.inputs = NodeInputs(spec, hidden_channels, id_embeddings=id_embeddings)
        self.convs = nn.ModuleList(
            HeteroConv({e: SAGEConv(hidden_channels, hidden_channels, aggr="mean")
                        for e in spec.edge_types}, aggr="mean")
            for _ in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)
        self.article_bias = nn.Linear(hidden_channels, 1)

    def encode(self, n_id: dict[str, Tensor], attr_codes: dict[str, Tensor],
               activity: dict[str, Tensor], edge_index: dict[tuple[str, str, str], Tensor]
               ) -> dict[str, Tensor]:
        """Node vectors after all GraphSAGE layers.

        Args:
            n_id: node type -> int64 tensor of shape (num_nodes_t,): local ids in the graph.
            attr_codes: ``customer``/``article`` -> int64 tensor of shape
                (num_nodes_t, num_attributes_t).
            activity: ``customer``/``article`` -> float tensor of shape (num_nodes_t, 2).
            edge_index: edge type -> int64 tensor of shape (2, num_edges_e) of positions into
                the ``n_id`` tensors of its source and destination types.

        Returns:
            node type -> float tensor of shape (num_nodes_t, hidden_channels).
        """
        x = self.inputs(n_id, attr_codes, activity)
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = {t: self.dropout(v.relu()) for t, v in x.items()}
        return x

    def decode(self, customer: Tensor, article: Tensor) -> Tensor:
        """Logits of customer-article pairs.

        Args:
            customer: float tensor of shape (..., hidden_channels).
            article: float tensor of shape (..., hidden_channels), broadcastable to
                ``customer``.

        Returns:
            float tensor of the broadcast batch shape: logits (sigmoid -> edge probability).
        """
        return (customer * article).sum(-1) + self.article_bias(article).squeeze(-1)

    def forward(self, n_id: dict[str, Tensor], attr_codes: dict[str, Tensor],
                activity: dict[str, Tensor], edge_index: dict[tuple[str, str, str], Tensor],
                customer_index: Tensor, article_index: Tensor) -> Tensor:
        """Logits that each customer buys each article.

        Args:
            n_id: see ``encode``.
            attr_codes: see ``encode``.
            activity: see ``encode``.
            edge_index: see ``encode``.
            customer_index: int64 tensor of shape (B,): positions into ``n_id["customer"]``.
            article_index: int64 tensor of shape (B,) or (B, M): positions into
                ``n_id["article"]``; with shape (B, M) each customer is scored against M
                articles (e.g. one positive and sampled negatives).

        Returns:
            float tensor of shape (B,) or (B, M): logits.

        Shapes:
            - **n_id**: ``{t: (N_t,)}``
            - **attr_codes**: ``{"customer": (N_customer, A_c), "article": (N_article, A_a)}``
            - **activity**: ``{"customer": (N_customer, 2), "article": (N_article, 2)}``
            - **edge_index**: ``{(s, r, d): (2, E_srd)}``
            - **customer_index**: ``(B,)``; **article_index**: ``(B,)`` or ``(B, M)``
            - **output**: ``(B,)`` or ``(B, M)``
        """
        h = self.encode(n_id, attr_codes, activity, edge_index)
        customer = h[CUSTOMER][customer_index]
        article = h[ARTICLE][article_index]
        if article.dim() == 3:
            customer = customer.unsqueeze(1)
        return self.decode(customer, article)

    @torch.no_grad()
    def export_vectors(self, h: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Customer and article vectors whose inner product equals ``decode``.

        Args:
            h: output of ``encode`` over all nodes.

        Returns:
            (customer, article): float tensors of shapes (num_customers, hidden_channels + 1)
            and (num_articles, hidden_channels + 1).
        """
        customer = torch.cat([h[CUSTOMER], torch.ones_like(h[CUSTOMER][:, :1])], dim=1)
        article = torch.cat([h[ARTICLE], self.article_bias(h[ARTICLE])], dim=1)
        return customer, article
