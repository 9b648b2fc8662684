"""Two-parameter toy surfaces and the optimizers' paths on them (numpy only).

A ravine (a long, narrow valley), a saddle and a plateau: the three shapes that slow gradient
descent. Paths of SGD, SGD with heavy-ball momentum (Polyak 1964, as torch.optim.SGD implements it)
and Adam (Kingma & Ba, ICLR 2015) from the same start with the same learning rate.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")
OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "Momentum (0.9)", "adam": "Adam"}
MOMENTUM, BETA1, BETA2, EPS = 0.9, 0.9, 0.999, 1e-8


@dataclass(frozen=True)
class Toy:
    title: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[float, float], np.ndarray]
    start: tuple[float, float]
    box: tuple[float, float, float, float]  # x min, x max, y min, y max
    minimum: float  # the lowest value of f
    note: str


SURFACES = {
    "ravine": Toy("Ravine", lambda x, y: 0.05 * x ** 2 + 2.0 * y ** 2,
                  lambda x, y: np.array([0.1 * x, 4.0 * y]), (-4.5, 1.0), (-5, 5, -1.5, 1.5), 0.0,
                  "f = 0.05 x\u00b2 + 2 y\u00b2: 40 times steeper across the valley than along it"),
    "saddle": Toy("Saddle", lambda x, y: 0.5 * x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2,
                  lambda x, y: np.array([x, y ** 3 - y]), (2.0, 0.001), (-2.5, 2.5, -1.6, 1.6), -0.25,
                  "f = x\u00b2/2 + y\u2074/4 \u2212 y\u00b2/2: a saddle at the origin, minima at y = \u00b11"),
    "plateau": Toy("Plateau", lambda x, y: 1.0 - np.exp(-(x ** 2 + y ** 2) / 2),
                   lambda x, y: np.array([x, y]) * np.exp(-(x ** 2 + y ** 2) / 2), (3.2, 2.4), (-4, 4, -3, 3), 0.0,
                   "f = 1 \u2212 exp(\u2212(x\u00b2 + y\u00b2)/2): almost flat far from the minimum"),
}


def path(surface: str, optimizer: str, lr: float, steps: int) -> np.ndarray:
    """Positions (steps + 1, 2), the start first."""
    toy = SURFACES[surface]
    p = np.array(toy.start, dtype=np.float64)
    v, m, s = np.zeros(2), np.zeros(2), np.zeros(2)
    out = [p.copy()]
    for t in range(1, steps + 1):
        g = toy.grad(*p)
        if optimizer == "sgd":
            p = p - lr * g
        elif optimizer == "momentum":
            v = MOMENTUM * v + g
            p = p - lr * v
        else:
            m = BETA1 * m + (1 - BETA1) * g
            s = BETA2 * s + (1 - BETA2) * g ** 2
            p = p - lr * (m / (1 - BETA1 ** t)) / (np.sqrt(s / (1 - BETA2 ** t)) + EPS)
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 1e6:
            break  # diverged: the path ends here
        out.append(p.copy())
    return np.array(out)


def paths(surface: str, lr: float, steps: int) -> dict[str, np.ndarray]:
    return {name: path(surface, name, lr, steps) for name in OPTIMIZERS}


def losses(surface: str, positions: np.ndarray) -> np.ndarray:
    return SURFACES[surface].f(positions[:, 0], positions[:, 1])


def surface_grid(surface: str, points: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x0, x1, y0, y1 = SURFACES[surface].box
    xs, ys = np.linspace(x0, x1, points), np.linspace(y0, y1, points)
    return xs, ys, SURFACES[surface].f(xs[None, :], ys[:, None])  # (points, points): rows y, columns x


LEFT_SADDLE = 0.5  # a path has left the saddle once |y| exceeds this (its minima are at y = +-1)


def crossings(positions: np.ndarray) -> int:
    """How many times a path crosses the line y = 0 (the ravine's floor, the saddle's ridge)."""
    signs = np.sign(positions[:, 1])
    signs = signs[signs != 0]
    return int(np.sum(signs[1:] != signs[:-1]))


def share_of_the_way(positions: np.ndarray) -> float:
    """How much of the start's distance to x = 0 (where every surface's minima lie) the path has covered
    along x: 1 - |x_end| / |x_start|, negative when it ends farther out than it began."""
    return float(1 - abs(positions[-1, 0]) / abs(positions[0, 0]))


def steps_to_leave_saddle(positions: np.ndarray) -> int | None:
    """The first step at which |y| > LEFT_SADDLE, None if the path never gets there."""
    left = np.flatnonzero(np.abs(positions[:, 1]) > LEFT_SADDLE)
    return int(left[0]) if len(left) else None


def summary(surface: str, lr: float, steps: int) -> dict[str, dict[str, float]]:
    """Per optimizer: final loss above the minimum (and the start's), distance travelled from the start,
    steps run, the first step's length, and the observations the page's sentences read (crossings of
    y = 0, share of the way along x, the step that left the saddle)."""
    toy = SURFACES[surface]
    out = {}
    for name, p in paths(surface, lr, steps).items():
        out[name] = {"gap": float(losses(surface, p[-1:])[0] - toy.minimum),
                     "start_gap": float(losses(surface, p[:1])[0] - toy.minimum),
                     "moved": float(np.linalg.norm(p[-1] - p[0])), "steps": len(p) - 1,
                     "diverged": len(p) - 1 < steps,
                     "first_step": float(np.linalg.norm(p[1] - p[0])) if len(p) > 1 else 0.0,
                     "crossings": crossings(p), "along": share_of_the_way(p), "left_at": steps_to_leave_saddle(p)}
    return out
