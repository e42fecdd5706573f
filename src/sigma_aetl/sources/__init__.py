"""Sources: where envelopes come from (files; HTTP builds its own; Kafka in its own module)."""

from sigma_aetl.sources.base import Source
from sigma_aetl.sources.files import FileSource

__all__ = ["FileSource", "Source"]
