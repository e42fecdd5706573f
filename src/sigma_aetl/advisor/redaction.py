"""What of a failure may leave the gateway for the model: values cut short, sensitive fields removed.

A payload is walked as JSON: a field the contract marks sensitive (``x-sensitive``) becomes
``"[redacted]"`` whatever it holds, a string (or a key) longer than ``max_chars`` is cut to that length
with the length it had, and numbers, booleans and nulls stay (they are short). A payload that is not JSON
(or not text) is described by its size alone: without its structure nothing in it can be told sensitive.

The texts of the errors (messages and explanations) can quote values, so every sensitive or over-long
value found in the payload is replaced in them too, and each text is cut to ``MAX_TEXT`` characters; an
error on a sensitive field keeps only its path and type.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sigma_aetl.core.classes import normalise_path
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.records import RawPayload

REDACTED = "[redacted]"
MAX_TEXT = 300
"""Longest error message or explanation sent, in characters."""


@dataclass
class Redactor:
    """Redacts one payload and the texts about it; ``hidden`` collects the values it took out."""

    sensitive: frozenset[str]
    max_chars: int
    hidden: set[str] = field(default_factory=set)

    def payload(self, raw: RawPayload) -> str:
        """The payload as the model may see it: redacted JSON text, or a description of its size."""
        if raw.encoding != "utf-8":
            return f"[not text: {raw.size} bytes]"
        try:
            parsed = json.loads(raw.text)
        except (ValueError, RecursionError):
            return f"[not JSON: {raw.size} bytes]"
        return json.dumps(self._value(parsed, ""), ensure_ascii=False, sort_keys=True)

    def error(self, error: FieldError) -> dict[str, str]:
        """An error as the model may see it: path and type, and its words unless the field is sensitive."""
        shown = {"path": self._cut(error.path), "type": error.type}
        if self._is_sensitive(normalise_path(error.path)):
            return shown
        return {**shown, "message": self.text(error.message), "explanation": self.text(error.explanation)}

    def text(self, text: str) -> str:
        """``text`` with every value taken out of the payload replaced, cut to MAX_TEXT characters."""
        for value in sorted(self.hidden, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"

    def _value(self, value: Any, path: str) -> Any:
        if path and self._is_sensitive(path):
            self.hidden.update(_leaves(value))
            return REDACTED
        if isinstance(value, dict):
            return {
                self._cut(str(key)): self._value(item, _child(path, str(key))) for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._value(item, f"{path}[*]") for item in value]
        if isinstance(value, str):
            return self._cut(value)
        return value

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        self.hidden.add(text)
        return f"{text[: self.max_chars]}…[{len(text)} chars]"

    def _is_sensitive(self, path: str) -> bool:
        """The field, or a field it lies within, is marked sensitive."""
        return any(
            path == marked or path.startswith((marked + ".", marked + "[")) for marked in self.sensitive
        )


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _leaves(value: Any) -> Iterator[str]:
    """The texts a value holds (its strings, and numbers as written), to find them quoted elsewhere."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
        yield str(value)
