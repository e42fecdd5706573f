"""Contract backends: how each kind of contract file becomes a a ``Contract``."""
