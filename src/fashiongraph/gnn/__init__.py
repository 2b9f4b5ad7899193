"""GraphSAGE link prediction on the knowledge graph (PyTorch Geometric, CPU by default).

Modules, in pipeline order:

- ``params``: ``GraphSAGEParams``, the hyperparameters and the training budget.
- ``hetero``: ``KnowledgeGraph`` -> PyG ``HeteroData`` (reverse edges, attribute codes).
- ``sampler``: a numba neighbour sampler over CSR arrays that plugs into PyG's loaders
  (no pyg-lib, no torch-sparse), plus a plain Python reference.
- ``model``: the heterogeneous GraphSAGE encoder and the dot-product decoder.
- ``training``: temporal windows (message passing / supervision / validation), the training
  loop with a budget and early stopping, full-graph embeddings.
- ``saved``: the model directory: weights, embeddings, manifest, training curves; loading
  checks that a saved model matches the graph.

Nothing here is imported by the request path: ``recommenders.graphsage`` serves from the saved
numpy embeddings and imports torch only to train.
"""
