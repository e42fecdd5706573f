"""Asking the model: one ``chat`` call through the official ``ollama`` client, its answer validated.

Every way a call can fail becomes :class:`CallFailed` with a short reason (stored as the advisory's error
once the attempts are spent), so no ``ollama`` or ``httpx`` exception leaves this module:

    the call took longer than the timeout     → "timed out after 10s"
    the server answered an HTTP error          → "HTTP 500: <its error, cut short>"
    nothing listens / the connection broke     → "unreachable: …"
    the answer is not JSON of the Advice shape → "invalid answer: …"
"""

import asyncio
from typing import Any, Protocol

import httpx
import ollama
from pydantic import ValidationError

from sigma_aetl.core.advisories import Advice

_REASON = 200
"""Longest reason kept, in characters."""


class CallFailed(Exception):
    """A call gave no valid answer; ``reason`` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:_REASON]


class Model(Protocol):
    """What the advisor needs of a model: one answer per request, or CallFailed."""

    async def ask(self, request: dict[str, Any]) -> Advice:
        """The validated answer to ``request`` (``chat`` keyword arguments); raises CallFailed."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class OllamaModel:
    """An Ollama server at ``url``, each call bounded by ``timeout`` seconds."""

    def __init__(self, url: str, timeout: float) -> None:
        self._timeout = timeout
        self._client = ollama.AsyncClient(host=url, timeout=httpx.Timeout(timeout))

    async def ask(self, request: dict[str, Any]) -> Advice:
        """Send ``request`` (``stream`` false) and validate the answer's content as :class:`Advice`."""
        try:
            response = await asyncio.wait_for(self._client.chat(**request, stream=False), self._timeout)
        except (TimeoutError, httpx.TimeoutException):
            raise CallFailed(f"timed out after {self._timeout:g}s") from None
        except ollama.ResponseError as exc:
            raise CallFailed(f"HTTP {exc.status_code}: {exc.error}") from None
        except (ConnectionError, httpx.TransportError) as exc:
            raise CallFailed(f"unreachable: {exc}") from None
        except (ValidationError, ValueError) as exc:  # a body that is not a chat response at all
            raise CallFailed(f"invalid response: {_first_line(exc)}") from None
        return parse_advice(response.message.content or "")

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.close()  # type: ignore[no-untyped-call]


def parse_advice(content: str) -> Advice:
    """The model's answer as :class:`Advice`; raises CallFailed when it is not JSON of that shape."""
    try:
        return Advice.model_validate_json(content)
    except ValidationError as exc:
        raise CallFailed(f"invalid answer: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    lines = str(exc).splitlines()
    return " ".join(lines[:3]) if lines else type(exc).__name__


def probe(url: str, model: str, timeout: float = 5.0) -> str:
    """One line on the server at ``url``: its version and whether ``model`` is pulled, or why it cannot
    be reached (``GET /api/version`` and ``/api/tags``; for ``advisor status``)."""
    try:
        with httpx.Client(base_url=url, timeout=timeout) as client:
            version = client.get("/api/version").raise_for_status().json().get("version", "?")
            tags = client.get("/api/tags").raise_for_status().json().get("models") or []
    except (httpx.HTTPError, ValueError) as exc:
        return f"not answering: {_first_line(exc)}"
    names = {str(tag.get("name")) for tag in tags if isinstance(tag, dict)}
    pulled = "pulled" if model in names or f"{model}:latest" in names else f"not pulled (ollama pull {model})"
    return f"Ollama {version}, model {model} {pulled}"
