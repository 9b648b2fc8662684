"""Make the shipped results: `python -m lessons.features.precompute` (seeded, a few minutes on 2 cores).

- the gallery: four channels of four stages of EfficientNet-Lite0, each optimised with the full
  recipe at the lesson's default settings (lessons/features/gallery/<layer>_<channel>.png);
- the regularizer comparison of the default objective: every regularizer on, each one off in turn,
  every one off (regularizers_<variant>.png);
- gallery.json: the settings, and for each picture its objective on the stored PNG and its spectrum
  measures, which the page's sentences quote without computing anything.

A test recomputes some of them and compares them with the stored files, so a stale file fails.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

GALLERY_DIR = Path(__file__).resolve().parent / "gallery"
GALLERY_FILE = GALLERY_DIR / "gallery.json"
GALLERY_STAGES = ("stage 2 (24 ch, 56 px)", "stage 3 (40 ch, 28 px)", "stage 5 (112 ch, 14 px)",
                  "stage 7 (320 ch, 7 px)")
GALLERY_CHANNELS = (0, 1, 2, 3)
DEFAULT_STAGE, DEFAULT_CHANNEL = "stage 3 (40 ch, 28 px)", 3  # the Optimize view's default objective


def gallery_file(layer: str, channel: int) -> str:
    return f"{layer.replace('.', '_')}_{channel}.png"


def variant_file(name: str) -> str:
    return f"regularizers_{name.replace(' ', '_')}.png"


def measures(model, layer: str, image, settings) -> dict:
    from lessons.features import compute, optimize

    return {"activation": round(optimize.activation_of(model, layer, image, settings.objective, settings.channel,
                                                       settings.mean, settings.std), 4),
            "centroid": round(compute.spectral_centroid(image), 5),
            "hf_share": round(compute.high_frequency_share(image), 5),
            "radial": [round(float(v), 5) for v in compute.radial_spectrum(image)[1]]}


def default_settings(layer: str, channel: int):
    from lessons.features.optimize import Settings

    return Settings(layer=layer, channel=channel)


def main() -> None:
    import torch
    from PIL import Image

    from lessons.features import optimize
    from models import zoo
    from models.catalogue import EFFICIENTNET_LITE0_STAGES as STAGES

    torch.set_num_threads(1)  # a run's last digits depend on the thread count; one thread is reproducible
    model, _ = zoo.load("efficientnet_lite0")
    GALLERY_DIR.mkdir(exist_ok=True)
    out = {"settings": replace(default_settings("", 0), layer="", channel=0).to_dict(), "gallery": [],
           "regularizers": {"stage": DEFAULT_STAGE, "layer": STAGES[DEFAULT_STAGE], "channel": DEFAULT_CHANNEL,
                            "variants": []}}
    with zoo.borrow("efficientnet_lite0"):
        for stage in GALLERY_STAGES:
            for channel in GALLERY_CHANNELS:
                settings = default_settings(STAGES[stage], channel)
                image, values, _ = optimize.run(model, settings)
                name = gallery_file(settings.layer, channel)
                Image.fromarray(image).save(GALLERY_DIR / name, optimize=True)
                out["gallery"].append({"stage": stage, "layer": settings.layer, "channel": channel, "file": name,
                                       "final_objective": round(values[-1], 4), **measures(model, settings.layer,
                                                                                            image, settings)})
                print(stage, channel, out["gallery"][-1]["activation"], flush=True)
        base = default_settings(STAGES[DEFAULT_STAGE], DEFAULT_CHANNEL)
        for name in optimize.VARIANTS:
            settings = optimize.variant(base, name)
            image, values, _ = optimize.run(model, settings)
            Image.fromarray(image).save(GALLERY_DIR / variant_file(name), optimize=True)
            out["regularizers"]["variants"].append({"name": name, "file": variant_file(name),
                                                    "final_objective": round(values[-1], 4),
                                                    **measures(model, settings.layer, image, settings)})
            print(name, out["regularizers"]["variants"][-1]["hf_share"], flush=True)
    GALLERY_FILE.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
