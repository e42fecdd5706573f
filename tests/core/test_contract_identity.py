"""An identity field must always be there and never be null, or the contract is refused at load."""

from typing import Any

import pytest

from sigma_aetl.contracts import ContractModel, jsonschema_contract, pydantic_contract
from sigma_aetl.errors import ContractLoadError


class OptionalId(ContractModel):
    """An order whose id may be left out."""

    order_id: str | None = None


class NullableId(ContractModel):
    """An order whose id must be sent but may be null."""

    order_id: str | None


class GoodId(ContractModel):
    """An order whose id is always a string."""

    order_id: str


def schema(required: list[str], id_type: Any) -> dict[str, Any]:
    """A closed order schema whose order_id has ``id_type``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {"order_id": {"type": id_type}},
    }


@pytest.mark.parametrize(("model", "problem"), [(OptionalId, "is optional"), (NullableId, "may be null")])
def test_a_pydantic_identity_that_may_be_missing_or_null_is_refused(model: type, problem: str) -> None:
    """Pydantic: an optional or nullable identity field is refused, naming the field."""
    with pytest.raises(ContractLoadError, match=f"order@1: identity field order_id {problem}"):
        pydantic_contract(name="order", version=1, model=model, identity=["order_id"])


@pytest.mark.parametrize(
    ("required", "id_type", "problem"),
    [([], "string", "is optional"), (["order_id"], ["string", "null"], "may be null")],
)
def test_a_json_schema_identity_that_may_be_missing_or_null_is_refused(
    required: list[str], id_type: Any, problem: str
) -> None:
    """JSON Schema: an identity field not in ``required``, or whose type admits null, is refused."""
    with pytest.raises(ContractLoadError, match=f"order@1: identity field order_id {problem}"):
        jsonschema_contract(name="order", version=1, schema=schema(required, id_type), identity=["order_id"])


def test_a_required_non_null_identity_loads_on_both_backends() -> None:
    """A required string identity is accepted by both backends."""
    assert pydantic_contract(name="order", version=1, model=GoodId, identity=["order_id"]).identity == (
        "order_id",
    )
    json_twin = jsonschema_contract(
        name="order", version=1, schema=schema(["order_id"], "string"), identity=["order_id"]
    )
    assert json_twin.identity == ("order_id",)
