"""Overfitting in plain PyTorch: a wide MLP on 100 digits, training vs validation loss per epoch.

Run it: python lessons/training/diy.py   (writes training_curves.png)
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

# %%
torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # (1797, 64)
y = torch.tensor(digits.target)  # (1797,)
x_train, x_val, y_train, y_val = train_test_split(x, y, train_size=100, stratify=y, random_state=0)

# %%
model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # no weight decay, no dropout
loss_fn = nn.CrossEntropyLoss()

train_losses, val_losses = [], []
for epoch in range(100):
    model.train()
    for batch in torch.randperm(len(x_train)).split(32):
        optimizer.zero_grad()
        loss = loss_fn(model(x_train[batch]), y_train[batch])  # logits (B, 10)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        train_losses.append(loss_fn(model(x_train), y_train).item())
        val_losses.append(loss_fn(model(x_val), y_val).item())

# %%
best = int(np.argmin(val_losses))
print(f"validation loss lowest at epoch {best + 1}: {val_losses[best]:.3f}")
print(f"at the end: training loss {train_losses[-1]:.4f}, validation loss {val_losses[-1]:.3f}")

# %%
plt.plot(range(1, 101), train_losses, label="training")
plt.plot(range(1, 101), val_losses, label="validation")
plt.axvline(best + 1, linestyle="--", color="gray", label="checkpoint to keep")
plt.xlabel("epoch")
plt.ylabel("cross-entropy loss")
plt.yscale("log")
plt.legend()
plt.savefig("training_curves.png", dpi=100)
