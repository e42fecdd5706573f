"""The advisory AI face: drains the store's advisory queue through an Ollama server (docs/diagnostics.md).

It only ever writes advisories, apart from the failures they are about: it has no authority over a decision.
"""
