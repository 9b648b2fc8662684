"""The course models: architectures, the training engine, bundled weights (see zoo.py)."""
