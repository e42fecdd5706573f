"""The JSON Schema validator backend: a contract is a Draft 2020-12 document plus declarative rules.

The schema is compiled once per version, when the contract is loaded, by jsonschema-rs; validating never
mutates the payload and never fills in defaults (``default`` is an annotation). Errors are mapped onto the
same shape and taxonomy as the Pydantic backend, with the same explanations (:mod:`sigma_aetl.core.explain`).

Strictness, kept equal to the Pydantic backend's:

- ``"integer"`` rejects ``2.0``. JSON Schema counts a number with a zero fraction as an integer; here it is
  a ``type_mismatch``, as in Pydantic's strict mode. A reserved keyword (:data:`STRICT_INTEGER`) is added,
  at compile time, to every subschema whose type admits integers but not numbers.
- ``"number"`` accepts integers (as Pydantic's strict ``float`` does); booleans are never numbers.
- A value of the wrong type reports only its type: constraints on the same path are not reported.
- Closed by default: every object schema that lists ``properties`` must say ``additionalProperties`` (or
  ``unevaluatedProperties``) explicitly, or be covered by an enclosing schema that does
  (:mod:`~sigma_aetl.contracts.backends.json_schema_content`); ``false`` rejects unknown fields, one error
  per field.
- ``format`` is asserted, not only annotated; an unknown format is a load error. References never leave the
  document (no network).
"""

import copy
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

import jsonschema_rs
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from sigma_aetl.contracts.backends.json_schema_content import open_objects
from sigma_aetl.contracts.backends.json_schema_errors import STRICT_INTEGER, Scope, to_field_errors
from sigma_aetl.contracts.backends.json_schema_order import FieldOrder
from sigma_aetl.contracts.backends.json_schema_walk import Key, children, walk
from sigma_aetl.core.contract import Contract, SchemaCheck, UnknownFields
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.rule_kinds import field_node
from sigma_aetl.core.rules import Rule, problem_words
from sigma_aetl.core.temporal import is_date, is_instant
from sigma_aetl.errors import ContractLoadError

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
Formats = Literal["assert", "annotate"]


class ContractDocument(BaseModel):
    """The file format of a JSON Schema contract (``contracts/<name>/v<N>.json``)."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, description="The contract's name; must match its folder.")
    version: int = Field(ge=1, description="The version; must match the file name v<N>.json.")
    description: str = Field(default="", description="What the contract describes.")
    identity: list[str] = Field(default_factory=list, description="Fields that identify a record.")
    rules: list[Rule] = Field(default_factory=list, description="Declarative business rules.")
    json_schema: dict[str, Any] = Field(alias="schema", description="A JSON Schema, Draft 2020-12.")
    formats: Formats = Field(
        default="assert",
        description="`assert`: a value must match its `format` (the default); `annotate`: `format` only "
        "describes, as the specification's default says.",
    )
    unknown_fields: UnknownFields = Field(
        default="forbid",
        description="`forbid`: an undeclared top-level field fails the event (the default); `ignore`: it is "
        "left out of the record and listed in `/api/validate`'s `ignored_fields` (needs a closed schema).",
    )


class StrictInteger:
    """The :data:`STRICT_INTEGER` keyword for jsonschema-rs: a float is never an integer."""

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
        self.enabled = value is True

    def validate(self, instance: Any) -> None:
        """Raise for a float with a zero fraction (other floats already fail ``type``)."""
        if self.enabled and type(instance) is float and instance.is_integer():
            raise ValueError(
                f'{instance!r} is not of type "integer" (strict: a number written with a fraction)'
            )


def jsonschema_contract(
    *,
    name: str,
    version: int,
    schema: dict[str, Any],
    identity: Sequence[str] = (),
    rules: Sequence[Rule] = (),
    description: str = "",
    formats: Formats = "assert",
    unknown_fields: UnknownFields = "forbid",
) -> Contract:
    """Define a contract version from a JSON Schema document (Draft 2020-12) and rules; ``formats`` says
    whether ``format`` is asserted (the default) or only annotates, ``unknown_fields`` whether undeclared
    top-level fields fail the event (the default) or are ignored."""
    schema = copy.deepcopy(schema)  # the fingerprint must not change if the caller's dict does
    where = f"{name}@{version}"
    check_schema(where, schema)
    _check_fields(where, schema, identity, rules)
    contract = Contract(
        name=name,
        version=version,
        backend="jsonschema",
        description=description,
        identity=tuple(identity),
        rules=tuple(rules),
        allow_extra=_open(schema),
        json_schema=schema,
        check=_checker(compile_schema(where, schema, formats), schema, formats),
        formats=formats,
        unknown_fields=unknown_fields,
    )
    _check_annotated(contract)
    return contract


def _check_annotated(contract: Contract) -> None:
    """A rule comparing instants or dates needs the values checked: refused when formats only annotate."""
    if contract.formats == "assert":
        return
    for rule in contract.rules:
        for path in rule.fields():
            kind = contract.rule_kinds.get(path)
            if kind in ("instant", "date"):
                raise ContractLoadError(
                    f"{contract.ref}: rule {rule.name} reads {path}, a {_KIND_FORMAT[kind]} that nothing "
                    "checks under formats: annotate, so it could compare text that is no "
                    f"{_KIND_FORMAT[kind]}; assert formats (the default), or compare it as a string"
                )


_KIND_FORMAT = {"instant": "date-time", "date": "date"}


def contract_from_document(document: Any) -> Contract:
    """The contract a parsed ``v<N>.json`` file defines; raises ContractLoadError naming each problem."""
    try:
        parsed = ContractDocument.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_document_problem(document, e) for e in exc.errors(include_url=False))
        raise ContractLoadError(f"not a JSON Schema contract: {problems}") from None
    return jsonschema_contract(
        name=parsed.name,
        version=parsed.version,
        schema=parsed.json_schema,
        identity=parsed.identity,
        rules=parsed.rules,
        description=parsed.description,
        formats=parsed.formats,
        unknown_fields=parsed.unknown_fields,
    )


def _document_problem(document: Any, error: ErrorDetails) -> str:
    """``rule max_weight (rules[0]): op: "lte" is not an operator...``, or ``version: ...`` for the file."""
    loc = error["loc"]
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = document.get("rules") if isinstance(document, dict) else None
        entry = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"rule {name} (rules[{loc[1]}])" if isinstance(name, str) else f"rules[{loc[1]}]"
        return f"{label}: {problem_words({**error, 'loc': loc[2:]}, 'rule')}"
    return problem_words(error, "contract file") if loc else f"file: {error['msg']}"


def check_schema(where: str, schema: dict[str, Any]) -> None:
    """Refuse a schema that is not a closed-by-default Draft 2020-12 object schema."""
    declared = schema.get("$schema", DRAFT_2020_12)
    if declared.rstrip("#") != DRAFT_2020_12:
        raise ContractLoadError(f"{where}: $schema must be {DRAFT_2020_12} (Draft 2020-12), not {declared!r}")
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        raise ContractLoadError(f"{where}: not a valid JSON Schema: {meta_problem(exc)}") from None
    if schema.get("type") != "object":
        raise ContractLoadError(f'{where}: the schema must describe an object ("type": "object")')
    for path, node in walk(schema):
        _check_node(where, path, node)
    for problem in open_objects(schema):
        raise ContractLoadError(f"{where}: {problem}")


def _check_node(where: str, path: str, node: dict[str, Any]) -> None:
    if STRICT_INTEGER in node:
        raise ContractLoadError(f"{where}: {STRICT_INTEGER} is reserved ({path or 'root'})")
    for name in _unsatisfiable_required(node):
        raise ContractLoadError(
            f"{where}: the object schema at {path or 'the root'} requires {name!r} but does not define it, "
            "and it rejects unknown fields (additionalProperties: false), so no event could pass: add "
            f"{name!r} to its properties, or remove it from required"
        )


def _unsatisfiable_required(node: dict[str, Any]) -> list[str]:
    """Required names a closed object can never hold: not a property, matching no patternProperties."""
    if node.get("additionalProperties") is not False or not isinstance(node.get("required"), list):
        return []
    defined = node.get("properties") or {}
    patterns = list(node.get("patternProperties") or {})
    return [name for name in node["required"] if name not in defined and not _matches_any(patterns, name)]


def _matches_any(patterns: list[str], name: str) -> bool:
    for pattern in patterns:
        try:
            if re.search(pattern, name):
                return True
        except re.error:  # an ECMA-262 pattern Python cannot read: it might match, so do not refuse
            return True
    return False


def strict_copy(schema: Any) -> Any:
    """A copy of ``schema`` with :data:`STRICT_INTEGER` on every integer-only subschema."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for keyword, key, child in children(schema):
        _set(out, keyword, key, strict_copy(child))
    if _integer_only(schema.get("type")):
        out[STRICT_INTEGER] = True
    return out


def _set(out: dict[str, Any], keyword: str, key: Key, value: Any) -> None:
    if key is None:
        out[keyword] = value
    elif isinstance(key, int):
        out[keyword] = [*out[keyword]]
        out[keyword][key] = value
    else:
        out[keyword] = {**out[keyword], key: value}


def _integer_only(declared: Any) -> bool:
    types = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    return "integer" in types and "number" not in types


FORMATS = {"date-time": is_instant, "date": is_date, "decimal": lambda text: False}
"""Formats decided by this gateway's own grammar, so both backends accept the same strings: RFC 3339 as
:mod:`sigma_aetl.core.temporal` reads it (the Pydantic backend's ``datetime`` and ``date`` use it too),
and ``decimal``, which marks a number as a decimal (for rules) and is never a string."""


def compile_schema(
    where: str, schema: dict[str, Any], formats: Formats = "assert"
) -> jsonschema_rs.Validator:
    """Compile once: Draft 2020-12, formats asserted (unless annotated), no retrieval, strict integers. An
    unknown format is refused either way: a misspelt one would otherwise never be checked."""
    try:
        if formats == "annotate":  # compiled with assertions once, only to refuse unknown formats
            jsonschema_rs.Draft202012Validator(strict_copy(schema), **_options("assert"))
        return jsonschema_rs.Draft202012Validator(strict_copy(schema), **_options(formats))
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        raise ContractLoadError(f"{where}: the schema does not compile: {compile_problem(exc)}") from None


def _options(formats: Formats) -> dict[str, Any]:
    return {
        "validate_formats": formats == "assert",
        "ignore_unknown_formats": False,
        "keywords": {STRICT_INTEGER: StrictInteger},
        "formats": FORMATS,
        "offline": True,
    }


class Subschemas:
    """Validators for the subschemas of one contract's schema, compiled together the first time one is
    asked for: only an event failing a schema-valued ``unevaluatedProperties`` needs one, to report each
    property's own errors."""

    def __init__(self, schema: dict[str, Any], formats: Formats) -> None:
        self._schema = schema
        self._formats = formats
        self._locations = {id(node): location for location, node in walk(schema)}
        self._map: jsonschema_rs.ValidatorMap | None = None

    def __call__(self, node: Any) -> jsonschema_rs.Validator | None:
        """The validator of ``node``, a subschema of the contract's schema as written."""
        location = self._locations.get(id(node))
        if location is None:
            return None
        if self._map is None:  # two threads may both compile it: the same map, once too often
            self._map = jsonschema_rs.validator_map_for(strict_copy(self._schema), **_options(self._formats))
        return self._map.get("#" + location)


def _checker(validator: jsonschema_rs.Validator, schema: dict[str, Any], formats: Formats) -> SchemaCheck:
    order = FieldOrder(schema)
    subschemas = Subschemas(schema, formats)

    def check(text: str, value: Any) -> list[FieldError]:
        if validator.is_valid(value):
            return []
        return to_field_errors(validator.iter_errors(value), Scope(schema, value, subschemas), order)

    return check


def _open(schema: dict[str, Any]) -> bool:
    return (
        schema.get("additionalProperties") is not False and schema.get("unevaluatedProperties") is not False
    )


def _check_fields(where: str, schema: dict[str, Any], identity: Sequence[str], rules: Sequence[Rule]) -> None:
    for field in identity:  # rule paths, nested ones too, are checked by Contract against the schema
        if field_node(schema, (field,)) is None:
            raise ContractLoadError(f"{where}: {field!r} is not a property of the schema")


_UNKNOWN_FORMAT = re.compile(r"Unknown format: '(.*)'")
_NOT_PRESENT = re.compile(r"Resource '(.*)' is not present in a registry")
_NO_POINTER = re.compile(r"Pointer '(.*)' does not exist")


def compile_problem(exc: Exception) -> str:
    """jsonschema-rs' compile error in this gateway's terms (its advice is for its own API)."""
    text = _first_line(exc)
    if found := _UNKNOWN_FORMAT.match(text):
        return (
            f"format {found.group(1)!r} is not one the validator knows (formats are asserted: date-time, "
            "date, email, uuid, uri, ipv4...); check its spelling, or state the form with pattern"
        )
    if found := _NOT_PRESENT.match(text):
        return (
            f"$ref {found.group(1)!r} points outside the contract file; references stay inside it "
            "(#/$defs/Name), since schemas are never fetched"
        )
    if found := _NO_POINTER.match(text):
        return f"$ref '#{found.group(1)}' points to nothing in the schema; define it under $defs"
    return text


def meta_problem(exc: jsonschema_rs.ValidationError) -> str:
    """Why the schema is not a JSON Schema, with where (``/properties/a/type``)."""
    where = "/" + "/".join(str(part) for part in exc.instance_path)
    if exc.instance_path and exc.instance_path[-1] == "type":
        names = "string, number, integer, boolean, object, array, null"
        return f"at {where}: {json.dumps(exc.instance)} is not a JSON type ({names})"
    return f"at {where}: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0]
