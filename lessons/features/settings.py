"""The activation-maximization settings and their choices, without torch (the page draws its controls
from here before torch is imported; lessons/features/optimize.py runs them)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

OBJECTIVES = ("channel", "neuron", "class logit", "layer (DeepDream)")
PARAMETERIZATIONS = ("pixels", "fourier")
TRANSFORMS = ("pad", "jitter", "scale", "rotate")
LOGITS = "_fc"  # the classifier layer of EfficientNet-Lite0
MAX_LR = 1e36  # larger ones overflow inside Adam (float32); this one already turns the image into NaN
# The regularizer comparison: everything on, each one off in turn, everything off.
VARIANTS = ("all on", "no Fourier", "no decorrelation", "no pad", "no jitter", "no scale", "no rotate", "all off")


@dataclass(frozen=True)
class Settings:
    """One activation-maximization run, plain values only (the page's controls)."""

    layer: str = "_blocks.4"  # submodule path; LOGITS for a class logit
    objective: str = "channel"
    channel: int = 0  # channel, or class index for "class logit"
    parameterization: str = "fourier"
    decorrelate: bool = True
    transforms: tuple[str, ...] = TRANSFORMS
    steps: int = 128
    lr: float = 0.05
    size: int = 128
    seed: int = 0
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.5, 0.5, 0.5)
    channels_in: int = 3

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Settings":
        values = dict(values)
        for name in ("transforms", "mean", "std"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def regularizers(self) -> dict[str, bool]:
        """Which of the recipe's regularizers this run uses."""
        return {"Fourier": self.parameterization == "fourier", "decorrelation": self.decorrelate,
                **{name: name in self.transforms for name in TRANSFORMS}}


def variant(settings: Settings, name: str) -> Settings:
    """`settings` with every regularizer on, then the one `name` says switched off (or all)."""
    full = replace(settings, parameterization="fourier", decorrelate=True, transforms=TRANSFORMS)
    if name == "all on":
        return full
    if name == "all off":
        return replace(full, parameterization="pixels", decorrelate=False, transforms=())
    if name == "no Fourier":
        return replace(full, parameterization="pixels")
    if name == "no decorrelation":
        return replace(full, decorrelate=False)
    dropped = name.removeprefix("no ")
    if dropped not in TRANSFORMS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {name!r}")
    return replace(full, transforms=tuple(t for t in TRANSFORMS if t != dropped))
