"""Gradient flow in plain PyTorch: a 10-layer sigmoid MLP against the same net with ReLU and
Kaiming initialization, one backward pass on 64 digits each, every layer's weight-gradient norm.

Run it: python lessons/gradients/diy.py   (writes gradient_flow.png)
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from torch import nn

# %%
digits = load_digits()
x = torch.tensor(digits.data[:64] / 16.0, dtype=torch.float32)  # (64, 64): 64 images of 8x8 pixels
y = torch.tensor(digits.target[:64])  # (64,)


# %%
def deep_mlp(activation, depth=10, width=64, kaiming=False):
    torch.manual_seed(0)
    layers, size = [], x.shape[1]
    for _ in range(depth):
        linear = nn.Linear(size, width)
        if kaiming:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
        size = width
    return nn.Sequential(*layers, nn.Linear(width, 10))


def gradient_norms(model):
    """One forward and backward pass; the norm of each Linear layer's weight gradient, input first."""
    nn.functional.cross_entropy(model(x), y).backward()
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


# %%
for name, model in [("sigmoid", deep_mlp(nn.Sigmoid)), ("relu", deep_mlp(nn.ReLU, kaiming=True))]:
    norms = gradient_norms(model)
    print(f"{name}: first/last layer gradient norm ratio {norms[0] / norms[-1]:.3g}")
    plt.plot(range(1, len(norms) + 1), norms, marker="o", label=name)

plt.yscale("log")  # a fixed log axis: the sigmoid net's first layers would vanish on a linear one
plt.xlabel("layer (input -> output)")
plt.ylabel("weight gradient norm")
plt.legend()
plt.savefig("gradient_flow.png", dpi=100)
