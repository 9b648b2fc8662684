"""The tiny ViT for digits (models/vit.py, zoo "digits_vit"): [CLS] attention per layer and head,
the gradient of every class score with respect to each layer's attention (for Grad-rollout,
rollout.grad_rollout), and Grad-CAM for every class on the same model and digit.

Grad-CAM (Selvaraju et al., ICCV 2017, https://arxiv.org/abs/1610.02391) for a ViT as
pytorch-grad-cam does it: the activations are the patch tokens coming out of the last block's
first LayerNorm (the input of its attention: the last place where patch tokens still reach
[CLS]), reshaped to the 4 x 4 patch grid; each channel is weighted by the mean gradient of the
class score over the patches, and the weighted sum is passed through ReLU.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from models import zoo

MODEL = "digits_vit"


@functools.cache
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
    order = heldout[np.lexsort((labels[heldout], rank))]  # by rank within the class, then by class
    order.setflags(write=False)  # cached: shared by every caller
    return order


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
    return grad_cams(pixels, [target])[0]


def grad_cams(pixels: np.ndarray, targets=None) -> np.ndarray:
    """Grad-CAM (G, G) for each class in `targets` (all classes by default): (N, G, G). One batch of
    N copies of the digit, copy n backpropagating the score of class targets[n]."""
    with zoo.borrow(MODEL) as model:
        targets = list(range(model.config.num_classes)) if targets is None else list(targets)
        x = _input(pixels).expand(len(targets), -1, -1, -1)  # (N, 1, 28, 28)
        h = model.tokens(x)  # (N, T, D)
        for block in model.blocks[:-1]:
            h, _ = block(h)  # (N, T, D)
        last = model.blocks[-1]
        normed = last.norm1(h).detach().requires_grad_(True)  # (N, T, D): the activations
        with torch.enable_grad():
            attended, _ = last.attn(normed)  # (N, T, D)
            out = h + attended  # (N, T, D)
            out = out + last.mlp(last.norm2(out))  # (N, T, D)
            logits = model.head(model.norm(out[:, 0]))  # (N, C)
            score = logits[torch.arange(len(targets)), targets].sum()  # copy n's class score
            (grad,) = torch.autograd.grad(score, normed)  # (N, T, D)
    grid = model.config.grid
    patches = normed[:, 1:].detach()  # (N, G*G, D)
    weights = grad[:, 1:].mean(1)  # (N, D): mean gradient over the patches
    cam = torch.relu((patches @ weights[:, :, None])[..., 0])  # (N, G*G)
    return cam.reshape(len(targets), grid, grid).numpy().astype(np.float32)


def attention_gradients(pixels: np.ndarray) -> np.ndarray:
    """(C, depth, H, T, T): the gradient of each class score (logit) with respect to each layer's
    attention weights (after the softmax, where vit-explain hooks its `attn_drop`). One batch of C
    copies of the digit, copy c backpropagating the score of class c."""
    with zoo.borrow(MODEL) as model:
        classes = model.config.num_classes
        with torch.enable_grad():
            h = model.tokens(_input(pixels).expand(classes, -1, -1, -1)).detach().requires_grad_(True)  # (C, T, D)
            weights = []
            for block in model.blocks:
                h, w = block(h)  # (C, T, D), (C, H, T, T)
                weights.append(w)
            logits = model.head(model.norm(h[:, 0]))  # (C, C)
            grads = torch.autograd.grad(logits.diagonal().sum(), weights)  # depth x (C, H, T, T)
    return torch.stack(grads, dim=1).numpy().astype(np.float32)  # (C, depth, H, T, T)


def digit_result(index: int) -> dict:
    """Everything the image view draws for one held-out digit; the class-specific maps for every class."""
    pixels, label = heldout_digit(index)
    att, probs = attentions(pixels)
    gradcam = grad_cams(pixels)  # (C, G, G)
    return {"pixels": pixels, "label": np.int64(label), "probs": probs.astype(np.float32),
            "attentions": att, "gradients": attention_gradients(pixels), "gradcam": gradcam}
