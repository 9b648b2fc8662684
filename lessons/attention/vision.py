"""The tiny ViT for digits (models/vit.py, zoo "digits_vit"): [CLS] attention per layer and head,
attention rollout, and Grad-CAM on the same model and digit.

Grad-CAM (Selvaraju et al., ICCV 2017, https://arxiv.org/abs/1610.02391) for a ViT as
pytorch-grad-cam does it: the activations are the patch tokens coming out of the last block's
first LayerNorm (the input of its attention: the last place where patch tokens still reach
[CLS]), reshaped to the 4 x 4 patch grid; each channel is weighted by the mean gradient of the
class score over the patches, and the weighted sum is passed through ReLU.
"""
from __future__ import annotations

import numpy as np
import torch

from models import zoo

MODEL = "digits_vit"


def heldout_order() -> np.ndarray:
    """The 1,000 held-out MNIST-5k indices, interleaved by class: position i holds label i % 10
    (the held-out set is stored grouped by class, so a slider over it would show 100 zeros first)."""
    from data import load_mnist5k, mnist5k_split

    _, labels = load_mnist5k()
    _, heldout = mnist5k_split(seed=0)  # sorted, grouped by class
    rank = np.zeros(len(heldout), dtype=int)
    for digit in range(10):
        members = labels[heldout] == digit
        rank[members] = np.arange(members.sum())
    return heldout[np.lexsort((labels[heldout], rank))]  # by rank within the class, then by class


def heldout_digit(index: int) -> tuple[np.ndarray, int]:
    """Held-out digit `index` (0..999) in class-interleaved order: uint8 pixels (28, 28) and its label."""
    from data import load_mnist5k

    images, labels = load_mnist5k()
    chosen = heldout_order()[index]
    return images[chosen], int(labels[chosen])


def _input(pixels: np.ndarray) -> torch.Tensor:
    from models.digits import to_tensor

    return to_tensor(pixels[None])  # (1, 1, 28, 28)


@torch.no_grad()
def attentions(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(depth, H, T, T) attention and the class probabilities (10,)."""
    with zoo.borrow(MODEL) as model:
        logits, att = model(_input(pixels), return_attention=True)  # (1, 10), (1, depth, H, T, T)
    return att[0].numpy().astype(np.float32), logits.softmax(-1)[0].numpy()


def grad_cam(pixels: np.ndarray, target: int) -> np.ndarray:
    """Grad-CAM for class `target` on the patch grid (G, G), not rescaled (ReLU of the weighted sum)."""
    with zoo.borrow(MODEL) as model:
        x = _input(pixels)  # (1, 1, 28, 28)
        h = model.tokens(x)  # (1, T, D)
        for block in model.blocks[:-1]:
            h, _ = block(h)  # (1, T, D)
        last = model.blocks[-1]
        normed = last.norm1(h).detach().requires_grad_(True)  # (1, T, D): the activations
        with torch.enable_grad():
            attended, _ = last.attn(normed)  # (1, T, D)
            out = h + attended  # (1, T, D)
            out = out + last.mlp(last.norm2(out))  # (1, T, D)
            score = model.head(model.norm(out[:, 0]))[0, target]
            (grad,) = torch.autograd.grad(score, normed)  # (1, T, D)
    grid = model.config.grid
    patches = normed[0, 1:].detach()  # (G*G, D)
    weights = grad[0, 1:].mean(0)  # (D,): mean gradient over the patches
    cam = torch.relu(patches @ weights)  # (G*G,)
    return cam.reshape(grid, grid).numpy().astype(np.float32)


def digit_result(index: int) -> dict:
    """Everything the image view draws for one held-out digit."""
    pixels, label = heldout_digit(index)
    att, probs = attentions(pixels)
    predicted = int(np.argmax(probs))
    return {"pixels": pixels, "label": np.int64(label), "probs": probs.astype(np.float32),
            "attentions": att, "gradcam": grad_cam(pixels, predicted)}
