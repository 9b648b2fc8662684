"""Test-wide settings: the same single intra-op torch thread as the server (streamlit_app.py).

Two OpenMP threads on two cores shared with a Streamlit server (the browser tests) stall badly;
one thread is steady. Set before anything imports torch; OMP_NUM_THREADS overrides it.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
