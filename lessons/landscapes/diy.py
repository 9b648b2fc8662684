"""A filter-normalised 2-D slice of a small MLP's loss (Li et al. 2018) in plain PyTorch.

Run it: python lessons/landscapes/diy.py   (writes loss_landscape.png)
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.func import functional_call

# %%
torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # (1797, 64)
y = torch.tensor(digits.target)  # (1797,)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(300):  # full-batch training, enough to reach a minimum
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()

# %%
theta = {name: p.detach().clone() for name, p in model.named_parameters()}


def filter_normalized_direction(seed):
    """Gaussian direction, each filter (row) rescaled to the norm of the weights' row; biases zero."""
    g = torch.Generator().manual_seed(seed)
    direction = {}
    for name, w in theta.items():
        if w.dim() <= 1:
            direction[name] = torch.zeros_like(w)
            continue
        d = torch.randn(w.shape, generator=g)
        direction[name] = d * (w.norm(dim=1, keepdim=True) / d.norm(dim=1, keepdim=True))
    return direction


# %%
d1, d2 = filter_normalized_direction(1), filter_normalized_direction(2)
steps = np.linspace(-1, 1, 21)
loss = np.zeros((len(steps), len(steps)))  # rows: beta, columns: alpha
with torch.no_grad():  # never write into the model: functional_call takes the weights explicitly
    for i, b in enumerate(steps):
        for j, a in enumerate(steps):
            weights = {n: theta[n] + a * d1[n] + b * d2[n] for n in theta}
            loss[i, j] = nn.functional.cross_entropy(functional_call(model, weights, (x,)), y).item()

# %%
centre = loss[10, 10]
print(f"loss at the trained weights {centre:.4f}; across the slice {loss.min():.4f} to {loss.max():.2f}")
plt.contourf(steps, steps, np.log10(loss), levels=20, cmap="viridis")
plt.colorbar(label="log10(loss)")
plt.plot(0, 0, "w+", markersize=12)
plt.xlabel("alpha (direction 1)")
plt.ylabel("beta (direction 2)")
plt.savefig("loss_landscape.png", dpi=100)
