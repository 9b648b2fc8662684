"""Compute the default view's result and ship it (the page's first render draws it without torch).

    python -m lessons.factorization.precompute

Deterministic (NMF with seed 0 on one thread). Writes lessons/factorization/shipped_results.npz;
tests/unit/test_factorization.py recomputes it and compares, so a stale file fails.
"""
from __future__ import annotations

from lessons.factorization import inputs, results, store
from lessons.factorization.settings import DEFAULTS as D


def default_key() -> str:
    return store.result_key("concepts", image=D["image"], framing=D["framing"], layer=D["layer"], k=D["k"])


def default_jobs() -> dict:
    return {default_key(): lambda: results.concepts(inputs.bundled_rgb(D["image"], D["framing"]), D["layer"], D["k"])}


def main() -> None:
    shipped = {key: job() for key, job in default_jobs().items()}
    store.write(shipped)
    print(f"wrote {store.SHIPPED_FILE} ({store.SHIPPED_FILE.stat().st_size / 1024:.1f} KB)")


if __name__ == "__main__":
    main()
