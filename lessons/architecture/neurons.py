"""Neuron-level picture of a small MLP, as TensorFlow Playground draws it (playground.tensorflow.org):
every neuron a node, every weight a line whose thickness and colour show its size and sign, node
colour the neuron's activation for one input.

The course's digits MLP (784-32-16-10) has 784 inputs, far too many to draw: each hidden neuron of
the first layer is drawn with its strongest input connections only, and only the input pixels they
come from appear. No streamlit here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from lessons.architecture.settings import LAYER_NAMES, MLP_HIDDEN


@dataclass
class MLPState:
    weights: list[np.ndarray]  # per Linear layer: (out, in)
    biases: list[np.ndarray]  # per Linear layer: (out,)
    activations: list[np.ndarray]  # input (784,), hidden 1 (32,), hidden 2 (16,), output probabilities (10,)
    prediction: int
    source: str  # where the weights come from


def untrained_mlp(seed: int = 0) -> nn.Module:
    """The same architecture as the bundled digits_mlp, freshly initialised with `seed`."""
    from models.digits import DigitsMLP
    from models.training import seeded

    with seeded(seed):
        return DigitsMLP(hidden=MLP_HIDDEN).eval()


def trained_mlp() -> tuple[nn.Module, str]:
    """The bundled trained digits_mlp (shared: read only). If its weight file is missing, a copy
    trained here for 3 epochs on the 4,000 training digits of MNIST-5k (seed 0)."""
    from models import zoo

    try:
        model, _ = zoo.load("digits_mlp")
        return model, "the bundled digits_mlp (trained)"
    except (FileNotFoundError, OSError):
        return _train_fallback_mlp(), "trained here for 3 epochs (the bundled weights are missing)"


def _train_fallback_mlp() -> nn.Module:
    import data
    from models.digits import to_tensor
    from models.training import TrainConfig, train_iter

    images, labels = data.load_mnist5k()
    train_idx, val_idx = data.mnist5k_split()
    model = untrained_mlp(0).train()
    x, y = to_tensor(images[train_idx]), torch.as_tensor(labels[train_idx])  # (4000, 1, 28, 28), (4000,)
    xv, yv = to_tensor(images[val_idx]), torch.as_tensor(labels[val_idx])
    for _ in train_iter(model, x, y, xv, yv, TrainConfig(epochs=3, seed=0)):
        pass
    return model.eval().requires_grad_(False)


def mlp_state(model: nn.Module, image: np.ndarray, source: str) -> MLPState:
    """Weights and the activations of every layer for one uint8 digit image (28, 28)."""
    from models.digits import to_tensor

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    x = to_tensor(image)  # (1, 1, 28, 28)
    acts = [x.reshape(-1).numpy()]  # (784,)
    with torch.no_grad():
        h = x.flatten(1)  # (1, 784)
        for i, layer in enumerate(linears):
            h = layer(h)  # (1, out)
            h = torch.relu(h) if i < len(linears) - 1 else h.softmax(-1)  # hidden: ReLU; output: probabilities
            acts.append(h[0].numpy().copy())
    return MLPState([layer.weight.detach().numpy().copy() for layer in linears],
                    [layer.bias.detach().numpy().copy() for layer in linears],
                    acts, int(np.argmax(acts[-1])), source)


def strongest_inputs(w1: np.ndarray, per_neuron: int) -> np.ndarray:
    """For each first-layer neuron, the indices of its `per_neuron` largest |weights|: (32, k)."""
    return np.argsort(-np.abs(w1), axis=1)[:, :per_neuron]


def _positions(n: int) -> np.ndarray:
    return (np.arange(n) + 0.5) / n if n else np.zeros(0)  # centred in [0, 1]


def network_frames(state: MLPState, per_neuron: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (layer, neuron, x, y, activation, shade) and edges (x, y, x2, y2, weight, strength).

    Edge strength is |w| divided by the largest |w| of its layer (layers differ in scale); node
    shade is the activation divided by the largest activation of its layer (output: probability).
    """
    top = strongest_inputs(state.weights[0], per_neuron)  # (32, k)
    shown_inputs = np.unique(top)  # sorted pixel indices
    drawn = [shown_inputs] + [np.arange(len(a)) for a in state.activations[1:]]
    ys = [dict(zip(idx.tolist(), _positions(len(idx)))) for idx in drawn]
    nodes = []
    for layer, idx in enumerate(drawn):
        act = state.activations[layer][idx]
        scale = 1.0 if layer == len(drawn) - 1 else max(float(np.abs(state.activations[layer]).max()), 1e-12)
        for j, a in zip(idx.tolist(), act.tolist()):
            label = f"pixel ({j // 28}, {j % 28})" if layer == 0 else f"{LAYER_NAMES[layer]} #{j}"
            nodes.append({"layer": LAYER_NAMES[layer], "neuron": j, "label": label, "x": float(layer),
                          "y": ys[layer][j], "activation": a, "shade": a / scale})
    edges = []
    for layer, w in enumerate(state.weights):  # w: (out, in)
        scale = float(np.abs(w).max())
        pairs = [(o, i) for o in range(w.shape[0]) for i in (top[o] if layer == 0 else range(w.shape[1]))]
        for o, i in pairs:
            edges.append({"layer": f"{LAYER_NAMES[layer]} → {LAYER_NAMES[layer + 1]}", "from": int(i), "to": int(o),
                          "x": float(layer), "y": ys[layer][int(i)], "x2": float(layer + 1), "y2": ys[layer + 1][o],
                          "weight": float(w[o, i]), "strength": abs(float(w[o, i])) / scale,
                          "sign": "positive" if w[o, i] >= 0 else "negative"})
    return pd.DataFrame(nodes), pd.DataFrame(edges).sort_values("strength").reset_index(drop=True)


def incoming_weights(state: MLPState, layer: int, neuron: int) -> pd.DataFrame:
    """The weights arriving at `neuron` of `layer` (1 = hidden 1 ... 3 = output), largest |w| first."""
    w = state.weights[layer - 1][neuron]  # (in,)
    names = ([f"pixel ({j // 28}, {j % 28})" for j in range(len(w))] if layer == 1
             else [f"{LAYER_NAMES[layer - 1]} #{j}" for j in range(len(w))])
    contribution = w * state.activations[layer - 1]  # (in,) what each input adds for this image
    frame = pd.DataFrame({"from": names, "weight": w, "input value": state.activations[layer - 1],
                          "weight × input": contribution})
    return frame.reindex(frame["weight"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def weight_image(state: MLPState, neuron: int) -> np.ndarray:
    """The 784 input weights of first-layer `neuron` as a (28, 28) image."""
    return state.weights[0][neuron].reshape(28, 28)


def neighbour_correlation(image: np.ndarray) -> float:
    """Correlation of each weight with its right-hand neighbour: near 0 for noise, higher for strokes."""
    a, b = image[:, :-1].reshape(-1), image[:, 1:].reshape(-1)
    return float(np.corrcoef(a, b)[0, 1])


def weight_summary(trained: MLPState, untrained: MLPState) -> pd.DataFrame:
    """Per layer: mean |w| and largest |w|, trained against untrained."""
    rows = []
    for i, (wt, wu) in enumerate(zip(trained.weights, untrained.weights)):
        rows.append({"layer": f"{LAYER_NAMES[i]} → {LAYER_NAMES[i + 1]}", "weights": wt.size,
                     "mean |w| trained": float(np.abs(wt).mean()), "mean |w| untrained": float(np.abs(wu).mean()),
                     "largest |w| trained": float(np.abs(wt).max()), "largest |w| untrained": float(np.abs(wu).max())})
    return pd.DataFrame(rows)
