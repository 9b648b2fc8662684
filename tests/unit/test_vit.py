"""The tiny Vision Transformer: shapes, token order, explicit attention equal to PyTorch's fused
attention, and the bundled weights."""
import pytest
import torch
import torch.nn.functional as F

from models import zoo
from models.training import seeded
from models.vit import SelfAttention, TinyViT, TinyViTConfig


@pytest.fixture(scope="module")
def untrained():
    with seeded(0):
        return TinyViT().eval()


def test_logits_and_attention_shapes(untrained):
    x = torch.randn(3, 1, 28, 28)  # (B, 1, H, W)
    logits, attention = untrained(x, return_attention=True)
    cfg = untrained.config
    assert logits.shape == (3, 10)
    assert cfg.tokens == 17  # [CLS] + a 4 x 4 grid of 7 x 7 patches
    assert attention.shape == (3, cfg.depth, cfg.heads, 17, 17)
    torch.testing.assert_close(attention.sum(-1), torch.ones(3, cfg.depth, cfg.heads, 17))
    assert (attention >= 0).all()
    torch.testing.assert_close(untrained(x), logits)  # the same logits with or without the weights


def test_patch_tokens_are_in_row_major_order(untrained):
    """Token 1 + r * grid + c holds the patch in row r, column c (the lessons draw maps with it)."""
    blank = torch.zeros(1, 1, 28, 28)
    for r, c in [(0, 0), (1, 3), (3, 2)]:
        x = blank.clone()
        x[..., 7 * r:7 * r + 7, 7 * c:7 * c + 7] = 1.0  # light up one patch
        changed = (untrained.tokens(x) - untrained.tokens(blank)).abs().sum(-1)[0]  # (T,)
        assert changed.nonzero().flatten().tolist() == [1 + r * 4 + c]


def test_explicit_attention_equals_pytorch_fused_attention():
    cfg = TinyViTConfig(dim=32, heads=4)
    with seeded(1):
        attn = SelfAttention(cfg).eval()
    x = torch.randn(2, 9, 32)  # (B, T, D)
    out, weights = attn(x)
    q, k, v = attn.qkv(x).split(32, dim=-1)  # 3 x (B, T, D)
    q, k, v = (z.view(2, 9, 4, 8).transpose(1, 2) for z in (q, k, v))  # (B, H, T, Dh)
    fused = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(2, 9, 32)  # (B, T, D)
    torch.testing.assert_close(out, attn.proj(fused), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, (q @ k.transpose(-2, -1) / 8**0.5).softmax(-1))


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError, match="divisible"):
        TinyViT(dim=30, heads=4)
    with pytest.raises(ValueError, match="patch size"):
        TinyViT(patch_size=5)


def test_zoo_serves_the_trained_vit_unchanged_and_deterministic():
    model, meta = zoo.load("digits_vit")
    assert meta.kind == "transformer" and meta.input_size == (1, 28, 28)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert all(model.get_submodule(path) is not None for path in meta.target_layers.values())
    x = torch.zeros(2, 1, 28, 28)
    with zoo.borrow("digits_vit"):
        a = model(x, return_attention=True)[1]
        b = model(x, return_attention=True)[1]
    torch.testing.assert_close(a, b)  # eval mode: no dropout on the attention weights
