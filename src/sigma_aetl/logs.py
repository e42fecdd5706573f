"""Structured logging (structlog): one line per event on stderr, configured once at the edge.

Two formats (``SIGMA_AETL_LOG_FORMAT``): ``console``, ``key='value'`` pairs led by the timestamp, level and
event, for a person reading a terminal or grep; ``json``, one JSON object per line, for a log collector.
Lines logged through the standard library — uvicorn's own (``uvicorn.error``, and ``uvicorn.access`` when
the access log is on), and any library's — pass the same processors and the same renderer, so a process
writes one format only. Their ``component`` is the logger's name, and an access line's parts become fields
(``client``, ``method``, ``path``, ``http_version``, ``status``).

The HTTP request id (``http/requestid.py`` sets :data:`REQUEST_ID` for the request's task) and values
bound with ``structlog.contextvars`` are added to every line logged meanwhile, uvicorn's included. The
request id has a context variable of its own: setting and resetting it costs a fifth of
``bind_contextvars``, on every request.
"""

import logging
import sys
from contextvars import ContextVar
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["console", "json"]
_ORDER = ["timestamp", "level", "event"]
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the HTTP request being served in this context, if any (``http/requestid.py``)."""


def configure(level: str = "info", log_format: LogFormat = "console") -> None:
    """Route structlog and the standard library's loggers to stderr at ``level``, in ``log_format``."""
    renderer = _renderer(log_format)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    threshold = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _component, _access_fields],
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    _install(formatter, threshold)


def _renderer(log_format: LogFormat) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer(sort_keys=True)
    return structlog.processors.KeyValueRenderer(key_order=_ORDER, sort_keys=True)


def _request_id(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """The current request's id, when a request is being served."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _component(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """A standard-library line's component: its logger's name (``uvicorn.error``)."""
    record = event.get("_record")
    if record is not None:
        event.setdefault("component", record.name)
    return event


def _access_fields(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """uvicorn's access line (``'%s - "%s %s HTTP/%s" %d'``) as fields instead of one sentence; any
    other line's format arguments are dropped (its message is already formatted)."""
    args = event.pop("positional_args", ())
    record = event.get("_record")
    if record is not None and record.name == "uvicorn.access" and len(args) == 5:
        client, method, path, http_version, status = args
        event.update(event="http.access", client=client, method=method, path=path)
        event.update(http_version=http_version, status=status)
    return event


class _StderrHandler(logging.StreamHandler[TextIO]):
    """A handler on the current ``sys.stderr``, looked up at each line (see :func:`_stderr_logger`)."""

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """Ignored: the stream is always the current standard error."""


_HANDLER_NAME = "sigma-aetl"


def _install(formatter: logging.Formatter, threshold: int) -> None:
    """The root logger's one handler of ours, replacing the one a previous ``configure`` installed."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(threshold)


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """A logger on the current ``sys.stderr``, looked up at each use: one bound when ``configure`` ran would
    outlive a redirected stream (a test runner's capture) and fail on it once closed."""
    return structlog.PrintLogger(sys.stderr)


def get(name: str) -> structlog.typing.FilteringBoundLogger:
    """A logger tagged with the component ``name``."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(component=name)
    return logger
