"""Test-wide settings: the same process settings as the server (lessons/process_settings.py: one
intra-op torch thread, numba's on-disk cache), set before anything imports torch.

Two OpenMP threads on two cores shared with a Streamlit server (the browser tests) stall badly;
one thread is steady. OMP_NUM_THREADS in the environment overrides it.
"""
from lessons import process_settings

process_settings.apply()
