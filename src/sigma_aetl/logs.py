"""Structured logging (structlog): key-value lines on stderr, configured once at the edge."""

import logging
import sys

import structlog


def configure(level: str = "info") -> None:
    """Route structlog to stderr at ``level`` with ISO timestamps."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"], sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """A logger on the current ``sys.stderr``, looked up at each use: one bound when ``configure`` ran would
    outlive a redirected stream (a test runner's capture) and fail on it once closed."""
    return structlog.PrintLogger(sys.stderr)


def get(name: str) -> structlog.typing.FilteringBoundLogger:
    """A logger tagged with the component ``name``."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(component=name)
    return logger
