"""Process-wide settings the server, the tests and the benchmark share; `apply()` runs before
anything imports torch or numba (streamlit_app.py and tests/conftest.py call it first).

- One intra-op torch thread per computation: many students share the server's cores, and on 2
  cores two sessions each asking for 2 threads ran training 3-6x slower than with 1 (measured).
- numba (UMAP) compiles its functions on first use, 20-50 s in a fresh process: an on-disk cache
  outside site-packages (which may be read-only in a container) makes that once per installation,
  not once per server start.
- No Triton: the server computes on the CPU, but PyPI's default (CUDA) build of torch installs
  Triton, the GPU kernel compiler, and torch._dynamo imports it when it is present (torchvision.ops
  imports torch._dynamo, so every lesson that uses torchvision did): 75 MB of resident memory per
  server for nothing (measured with torch 2.14.1). Marking it absent makes such a machine behave as
  the CPU wheel does, which has no Triton at all (requirements.txt, the cloud deployment).
Each is a default: a variable already set in the environment wins (LOOK_INSIDE_ALLOW_TRITON=1 keeps Triton).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "look-inside-models"


def apply() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_DIR / "numba"))
    if os.environ.get("LOOK_INSIDE_ALLOW_TRITON") != "1" and "triton" not in sys.modules:
        sys.modules["triton"] = None  # `import triton` raises ImportError; find_spec("triton") is None
