"""Grad-CAM on the cat photo with pytorch-grad-cam: the picture of the lesson's first view."""
import numpy as np
import torch
from PIL import Image
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.image import show_cam_on_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from data import load_image
from models.efficientnet_lite import imagenet_labels, load_efficientnet_lite0, preprocess_image

# %%
model = load_efficientnet_lite0()  # our own copy, so hooks and gradients cannot disturb anyone
x = preprocess_image(load_image("cat"))  # (1, 3, 224, 224), normalised
with torch.no_grad():
    probs = model(x).softmax(-1)[0]  # (1000,)
top = int(probs.argmax())
print(f"top class: {imagenet_labels()[top]} ({probs[top]:.0%})")

# %%
with GradCAM(model=model, target_layers=[model._head_act]) as cam:  # last conv block, 7 x 7
    heatmap = cam(input_tensor=x, targets=[ClassifierOutputTarget(top)])[0]  # (224, 224) in [0, 1]

rgb = (x[0].permute(1, 2, 0).numpy() * 0.5 + 0.5).clip(0, 1)  # undo the normalisation
Image.fromarray(show_cam_on_image(np.float32(rgb), heatmap, use_rgb=True)).save("gradcam_cat.png")
print(f"hottest pixel at row {heatmap.argmax() // 224}, column {heatmap.argmax() % 224}")
