"""The MongoDB store (production, many gateways and workers)."""
