"""Attention flow (numpy and scipy, no torch: the page computes it from shipped attention too).

Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020
(https://arxiv.org/abs/2005.00928), and their code (https://github.com/samiraabnar/attention_flow):
the layers become a graph with one node per token per layer (layer 0 = the input tokens). An edge
runs from token i in layer l to token j in layer l - 1 with capacity A~_l[i, j], the residual-
adjusted attention 0.5 A + 0.5 I of rollout.with_residual. The flow from output token i to input
token j is the maximum flow from node (L, i) to node (0, j); each row is then normalised to sum to 1.

Rollout multiplies the layers, so it adds up every path and gives the mass of paths that share an
edge more than once; flow lets every edge carry at most its capacity, which spreads the mass more
evenly. The price: one maximum-flow problem per (output, input) pair, T^2 of them, so the page
computes it for at most MAX_TOKENS tokens.

scipy's `maximum_flow` (Dinic's algorithm) takes integer capacities: the weights are scaled by
CAPACITY_SCALE and rounded, an error of at most 1e-6 per edge of the minimum cut.
"""
from __future__ import annotations

import numpy as np

MAX_TOKENS = 32  # T^2 flows on a graph of (L+1) T nodes: about 2 s at 32 tokens and 6 layers
CAPACITY_SCALE = 1_000_000


def layered_graph(layers: np.ndarray) -> np.ndarray:
    """(L, T, T) row-stochastic layers -> the ((L+1) T, (L+1) T) capacity matrix: node l * T + i is
    token i after layer l, with an edge to each token j of layer l - 1 of capacity layers[l-1][i, j]."""
    L, T, _ = layers.shape
    capacity = np.zeros(((L + 1) * T, (L + 1) * T))
    for l in range(1, L + 1):
        capacity[l * T:(l + 1) * T, (l - 1) * T:l * T] = layers[l - 1]  # (T, T)
    return capacity


def max_flows(layers: np.ndarray, outputs=None) -> np.ndarray:
    """(L, T, T) layers -> (len(outputs), T): the maximum flow from each output token (all of them by
    default) after the last layer to every input token, not normalised (each at most 1)."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    L, T, _ = layers.shape
    outputs = range(T) if outputs is None else outputs
    graph = csr_array(np.rint(layered_graph(layers) * CAPACITY_SCALE).astype(np.int32))
    return np.array([[maximum_flow(graph, L * T + i, j).flow_value for j in range(T)] for i in outputs],
                    dtype=np.float64) / CAPACITY_SCALE  # (N, T)


def attention_flow(layers: np.ndarray, outputs=None) -> np.ndarray:
    """(L, T, T) residual-adjusted layers -> (len(outputs), T): max_flows with each row normalised to
    sum to 1, as Abnar & Zuidema do."""
    flows = max_flows(layers, outputs)  # (N, T)
    return (flows / flows.sum(-1, keepdims=True)).astype(np.float32)  # (N, T): rows sum to 1
