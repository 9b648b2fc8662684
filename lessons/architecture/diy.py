"""Look at a model's architecture with the libraries themselves: torchview, torchinfo, torchviz.

Runs as it is (python lessons/architecture/diy.py) and prints what it found. No Graphviz binary
is needed: only .render() / .pipe() would call it; we keep the DOT text.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torchinfo import summary
from torchview import draw_graph
from torchviz import make_dot

# %%
# The course's digits CNN, written out (models/digits.py has the same layers).
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (B, 16, 14, 14)
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 7, 7)
    nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, 10),  # (B, 10)
)

# %%
# 1. Layer diagram (Keras plot_model style) as DOT text; st.graphviz_chart(dot) draws it in a browser.
#    (device="meta" would trace without values but moves the model itself to the meta device.)
graph = draw_graph(model, input_size=(1, 1, 28, 28), device="cpu", depth=2, roll=True)
dot = graph.visual_graph.source
print("diagram boxes:", dot.count("fillcolor="))

# %%
# 2. Parameter table like the page's (output shapes, parameters, multiply-adds).
stats = summary(model, input_size=(1, 1, 28, 28), verbose=0, col_names=("output_size", "num_params", "mult_adds"))
print("parameters:", stats.total_params, "=", sum(p.numel() for p in model.parameters()))

# %%
# 3. Autograd graph of a forward pass plus loss (torchviz colours: light blue = parameters,
#    gray = backward operations, orange = saved tensors with show_saved=True, green = the loss).
x = torch.randn(1, 1, 28, 28)  # (B, C, H, W)
loss = F.cross_entropy(model(x), torch.tensor([3]))  # () scalar
autograd_dot = make_dot(loss, params=dict(model.named_parameters()), show_saved=False).source
print("parameter boxes:", autograd_dot.count("fillcolor=lightblue"), "of", len(list(model.parameters())))

# %%
# 4. A conv layer's parameter count by hand: k*k*C_in*C_out + C_out.
conv = model[3]
print("conv2 parameters:", 3 * 3 * 16 * 32 + 32, "=", sum(p.numel() for p in conv.parameters()))
