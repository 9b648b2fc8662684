"""Deep feature factorization of the cat photo with pytorch-grad-cam: the picture of the lesson's first view."""
import numpy as np
import torch
from PIL import Image
from pytorch_grad_cam import DeepFeatureFactorization
from pytorch_grad_cam.utils.image import show_factorization_on_image

from data import load_image
from models.efficientnet_lite import imagenet_labels, load_efficientnet_lite0, preprocess_image

# %%
model = load_efficientnet_lite0()  # our own copy, so the hooks cannot disturb anyone
x = preprocess_image(load_image("cat"))  # (1, 3, 224, 224), normalised (centre crop)
k = 5
dff = DeepFeatureFactorization(model=model, target_layer=model._head_act, computation_on_concepts=model._fc)
concepts, maps, logits = dff(x, n_components=k)  # (1280, k), [(k, 224, 224)], (k, 1000)
dff.activations_and_grads.release()  # remove the hook

# %%
scores = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()  # (k, 1000)
labels = imagenet_labels()
for i, row in enumerate(scores):
    best = np.argsort(row)[::-1][:3]
    print(f"concept {i + 1}: " + ", ".join(f"{labels[c]} {row[c]:.2f}" for c in best))

# %%
rgb = (x[0].permute(1, 2, 0).numpy() * 0.5 + 0.5).clip(0, 1)  # undo the normalisation
colours = [np.array([0.8, 0.4, 0.47]), np.array([0.2, 0.13, 0.53]), np.array([0.87, 0.8, 0.47]),
           np.array([0.07, 0.47, 0.2]), np.array([0.53, 0.8, 0.93])]  # pass colours: the default needs an old matplotlib
overlay = show_factorization_on_image(rgb, maps[0], colors=colours, image_weight=0.3)
Image.fromarray(overlay).save("dff_cat.png")
print("pixels per concept:", np.bincount(maps[0].argmax(axis=0).ravel(), minlength=k))
