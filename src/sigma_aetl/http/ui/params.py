"""The dashboard's query parameters, checked by Pydantic: a bad one is a 422 page saying which, never a 5xx.

They are read here rather than declared on the routes, so that a bad value answers an HTML page (FastAPI's
own validation answers problem+json, for the API). An empty value (``?contract=``, as a link may carry)
means the parameter is not set; a parameter no page knows is ignored, as a browser may add one.
"""

from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sigma_aetl.core.classes import CLASS_ID
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.stores.base import MAX_INTEGER

Window = Literal["1h", "24h", "7d"]
Params = TypeVar("Params", bound="PageParams")


class PageParams(BaseModel):
    """What every page's parameters share: unknown ones ignored, empty ones unset."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


class OverviewParams(PageParams):
    """The overview's window."""

    window: Window = Field(default="24h", description="The last hour, day or week.")


class ListParams(PageParams):
    """A list page's filters and position (classes, failures)."""

    contract: str | None = Field(default=None, max_length=200, description="A contract name.")
    version: int | None = Field(default=None, ge=1, le=MAX_INTEGER)
    root_cause: RootCause | None = None
    class_id: str | None = Field(default=None, pattern=CLASS_ID.pattern)
    offset: int = Field(default=0, ge=0, le=MAX_INTEGER)


class DiffParams(PageParams):
    """The two versions a contract page compares."""

    old: int | None = Field(default=None, alias="from", ge=1, le=MAX_INTEGER)
    new: int | None = Field(default=None, alias="to", ge=1, le=MAX_INTEGER)


class BadParameters(Exception):
    """Query parameters a page cannot use; ``problems`` says which and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse(model: type[Params], query: dict[str, str]) -> Params:
    """``query`` as ``model``; raises :class:`BadParameters` naming each bad parameter."""
    try:
        return model.model_validate(query)
    except ValidationError as exc:
        raise BadParameters(
            [f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()]
        ) from None
