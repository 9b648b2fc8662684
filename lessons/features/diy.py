"""Activation maximization in plain PyTorch: a Fourier image with 1/f scaling and random jitter,
optimised to excite channel 3 of EfficientNet-Lite0's stage 3 (the recipe of Olah et al., Distill 2017)."""
import torch
from PIL import Image

from models.efficientnet_lite import load_efficientnet_lite0

# %%
model = load_efficientnet_lite0().requires_grad_(False)  # our own copy; only the image is optimised
size, channel, steps = 96, 3, 48
generator = torch.Generator().manual_seed(0)

fy = torch.fft.fftfreq(size)[:, None]
fx = torch.fft.rfftfreq(size)[None, :]
scale = 1.0 / torch.sqrt(fx**2 + fy**2).clamp(min=1.0 / size)  # (S, S//2+1): 1/f
spectrum = (torch.randn(1, 3, size, size // 2 + 1, 2, generator=generator) * 0.01).requires_grad_(True)
optimizer = torch.optim.Adam([spectrum], lr=0.05)
captured = {}
model._blocks[4].register_forward_hook(lambda module, inputs, output: captured.update(out=output))


def to_image(spectrum):
    complex_spectrum = torch.view_as_complex(spectrum * scale[None, None, :, :, None] / 4)
    return torch.sigmoid(torch.fft.irfft2(complex_spectrum, s=(size, size), norm="ortho"))  # (1, 3, S, S) in [0, 1]


# %%
for step in range(steps):
    optimizer.zero_grad()
    image = to_image(spectrum)
    dx, dy = torch.randint(0, 9, (2,), generator=generator).tolist()
    jittered = torch.nn.functional.pad(image, (4, 4, 4, 4), value=0.5)[..., dy:dy + size, dx:dx + size]
    model((jittered - 0.5) / 0.5)  # the model's normalisation: mean 0.5, std 0.5
    loss = -captured["out"][0, channel].mean()  # maximise the channel's mean activation
    loss.backward()
    optimizer.step()

# %%
with torch.no_grad():
    image = to_image(spectrum)
    model((image - 0.5) / 0.5)
print(f"channel {channel} of stage 3: mean activation {captured['out'][0, channel].mean():.2f}")
Image.fromarray((image[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8")).save("channel.png")
