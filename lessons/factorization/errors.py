"""The lesson's refusals, importable without torch (the page catches them, compute raises them)."""


class FactorizationError(ValueError):
    """A factorization we refuse, with a message for the student."""
