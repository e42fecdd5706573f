"""The ``sigma-aetl`` command line: one Typer app over the same gateway the HTTP app and the worker use.

Each command lives in its own module (``ingest_cmd``, ``validate_cmd``, ...); :mod:`~sigma_aetl.cli.app`
assembles them and builds the frozen :class:`~sigma_aetl.settings.Settings` once, from the global options
and the ``SIGMA_AETL_`` environment.
"""
