"""The names of the shipped results (plain strings; no torch): one function per kind of result,
with the same arguments as the computation in results.py."""
from __future__ import annotations

from lessons.landscapes.store import result_key


def interpolation_key(samples: int, reach: float) -> str:
    return result_key("interpolation", samples=samples, reach=reach)


def slices_key(model: str, seed: int, span: float, samples: int) -> str:
    return result_key("slices", model=model, seed=seed, span=span, samples=samples)


def surface_key(model: str, seed: int, span: float, resolution: int, samples: int) -> str:
    return result_key("surface", model=model, seed=seed, span=span, resolution=resolution, samples=samples)


def multiples_key(model: str, span: float, samples: int) -> str:
    return result_key("multiples", model=model, span=span, samples=samples)


def trajectory_key(optimizer: str, seed: int, resolution: int, samples: int) -> str:
    return result_key("trajectory", optimizer=optimizer, seed=seed, resolution=resolution, samples=samples)


def skips_key(samples: int, seed: int) -> str:
    return result_key("skips", samples=samples, seed=seed)


def batch_key(samples: int) -> str:
    return result_key("batch", samples=samples)
