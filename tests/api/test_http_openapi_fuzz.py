"""Schemathesis against the OpenAPI document of a real `serve`: no 5xx, every answer as documented."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.config import GenerationConfig
from schemathesis.core.jsonschema import CANONICALIZE_DRAFT_BY_VALIDATOR
from schemathesis.generation.case import Case
from schemathesis.generation.jsonschema import Alphabet, StrategyContext
from schemathesis.generation.jsonschema.strategy import UnsupportedView, from_schema
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi import _hypothesis
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from api.conftest import CONTRACTS
from serve_support import ServeProcess
from sigma_aetl.stores import open_store
from sigma_aetl.stores.keys import issue

HEADER_SETS = ("open", "no key", "read key", "admin key")
"""Who sends each generated request, one run per set: the open gateway (no key exists), and a gateway with
keys, sent no key (401 everywhere but the health checks), a `read` key (403 on ingest) and an `admin` key."""
# Not checked: that every schema-valid request is accepted. A cursor is an opaque token, any string fits its
# schema, and one this API did not issue is rightly a 422; the other checks (no 5xx, documented status,
# content type, headers and body) all run.
_EXCLUDED: list[Callable[..., bool | None]] = [positive_data_acceptance]  # type: ignore[list-item]
# The open gateway (no key was ever made) serves requests whatever credentials they carry, by design, so
# schemathesis' check that a declared authentication is enforced runs only against the gateway with keys.
_EXCLUDED_OPEN: list[Callable[..., bool | None]] = [*_EXCLUDED, ignored_auth]  # type: ignore[list-item]
EXAMPLES = 100
"""Generated requests per operation and header set: the whole run takes 15-40 s on a loaded machine."""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One real, open `serve` for the module."""
    with ServeProcess(tmp_path_factory.mktemp("fuzz"), CONTRACTS) as running:
        yield running


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, dict[str, str]]]:
    """One real `serve` over a store holding a `read` and an `admin` key, with each set's headers."""
    workdir = tmp_path_factory.mktemp("fuzz-keyed")
    store = open_store(f"sqlite:///{workdir / 'gateway.db'}")
    try:
        tokens = {scope: issue(store, scope, [scope]).token for scope in ("read", "admin")}
    finally:
        store.close()
    with ServeProcess(workdir, CONTRACTS) as running:
        yield running, {"read key": tokens["read"], "admin key": tokens["admin"]}


def _target(header_set: str, request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """The gateway's URL and the headers one header set sends."""
    if header_set == "open":
        open_gateway: ServeProcess = request.getfixturevalue("gateway")
        return open_gateway.url, {}
    running, tokens = request.getfixturevalue("keyed")
    token = tokens.get(header_set)
    return running.url, ({} if token is None else {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def api_schema(gateway: ServeProcess) -> BaseSchema:
    """The OpenAPI document the running gateway serves."""
    return schemathesis.openapi.from_url(f"{gateway.url}/openapi.json")


OPERATIONS = [
    ("POST", "/api/validate"),
    ("POST", "/v1/ingest/{contract}/{version}"),
    ("GET", "/v1/records"),
    ("GET", "/v1/records/{record_id}"),
    ("GET", "/v1/records/{record_id}/raw"),
    ("GET", "/v1/failures"),
    ("GET", "/v1/failures/{failure_id}"),
    ("GET", "/v1/failures/{failure_id}/raw"),
    ("GET", "/v1/failure-classes"),
    ("GET", "/v1/failure-classes/{class_id}"),
    ("GET", "/v1/failures/{failure_id}/diagnosis"),
    ("GET", "/v1/failure-classes/{class_id}/diagnosis"),
    ("GET", "/v1/stats"),
    ("POST", "/v1/replays"),
    ("GET", "/v1/replays"),
    ("GET", "/v1/replays/{replay_id}"),
    ("GET", "/v1/contracts"),
    ("GET", "/v1/contracts/{name}/{version}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/v1/failure-classes/{class_id}/advisories"),
    ("GET", "/v1/failures/{failure_id}/advisories"),
    ("GET", "/metrics"),
    ("GET", "/v1/analytics/failures"),
    ("GET", "/v1/analytics/traffic"),
    ("GET", "/v1/analytics/new-classes"),
    ("GET", "/v1/analytics/stale-versions"),
    ("GET", "/v1/alerts"),
]
"""Every operation of the document, one test each (a test below says when the document has others)."""


def _check(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    url: str,
    headers: dict[str, str],
    excluded: list[Callable[..., bool | None]],
) -> None:
    """Drive one operation with Hypothesis (deterministic: derandomised, bounded)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    def answers_as_documented(case: Case[Any]) -> None:
        case.call_and_validate(base_url=url, headers=headers, excluded_checks=excluded)

    answers_as_documented()


def _canonical_strategy(
    schema: dict[str, Any] | bool, config: GenerationConfig, validator: type[jsonschema_rs.Validator]
) -> SearchStrategy[object] | None:
    """Schemathesis' own generator for a schema; None (hypothesis-jsonschema) when it has none."""
    if isinstance(schema, dict) and "x-bundled" in schema:  # a body naming schemas: each put in its place
        schema = _inlined(schema, schema["x-bundled"])
    if isinstance(schema, dict) and schema.get("type") == "object" and "properties" in schema:
        return _object_strategy(schema, config, validator)
    if isinstance(schema, dict) and schema.get("format") == "date-time":  # a format it does not draw
        return st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
    if isinstance(schema, dict) and "anyOf" in schema:  # a body's optional member: each option, drawn alike
        options = [_canonical_strategy(option, config, validator) for option in schema["anyOf"]]
        return None if any(option is None for option in options) else st.one_of(*options)  # type: ignore[arg-type]
    draft = CANONICALIZE_DRAFT_BY_VALIDATOR[validator]
    try:
        canonical = jsonschema_rs.canonicalize(schema, draft=draft)
    except (jsonschema_rs.ValidationError, jsonschema_rs.canonical.CanonicalizationError):
        return None
    kinds = jsonschema_rs.canonical
    if canonical.kind == kinds.CanonicalKind.RAW or canonical.satisfiability() != kinds.Satisfiability.YES:
        return None
    alphabet = Alphabet(allow_x00=config.allow_x00, codec=config.codec)
    try:
        strategy: SearchStrategy[object] = from_schema(canonical, StrategyContext(alphabet=alphabet))
    except UnsupportedView:
        return None
    return strategy


def _object_strategy(
    schema: dict[str, Any], config: GenerationConfig, validator: type[jsonschema_rs.Validator]
) -> SearchStrategy[object] | None:
    """An object of named parameters (what FastAPI declares for path and query), member by member."""
    members = {
        name: _canonical_strategy(sub, config, validator) for name, sub in schema["properties"].items()
    }
    if any(strategy is None for strategy in members.values()) or set(schema) - _OBJECT_KEYWORDS:
        return None
    required = set(schema.get("required", ()))
    present = {name: strategy for name, strategy in members.items() if name in required}
    optional = {name: strategy for name, strategy in members.items() if name not in required}
    return st.fixed_dictionaries(present, optional=optional)  # type: ignore[arg-type]


_OBJECT_KEYWORDS = {"type", "properties", "required", "additionalProperties", "title", "description"}


def _inlined(schema: Any, bundled: dict[str, Any]) -> Any:
    """``schema`` with every ``#/x-bundled/NAME`` reference replaced by that schema (they do not nest
    into themselves here: a request body's models are plain)."""
    if isinstance(schema, list):
        return [_inlined(item, bundled) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/x-bundled/"):
        return _inlined(bundled[ref.removeprefix("#/x-bundled/")], bundled)
    return {key: _inlined(value, bundled) for key, value in schema.items() if key != "x-bundled"}


@pytest.fixture
def generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemathesis 4.24 as it works with this environment's libraries: its canonical-schema generator
    asks ``CanonicalSchema.is_satisfiable()``, which jsonschema-rs 0.61 names ``satisfiability()``; and
    its fallback, hypothesis-jsonschema 0.23, does not run under Hypothesis 6.170, so the objects of
    path and query parameters, which the canonical generator does not take, are drawn member by member."""
    monkeypatch.setattr(_hypothesis, "_canonical_strategy_or_none", _canonical_strategy)


def test_every_operation_is_fuzzed(api_schema: BaseSchema) -> None:
    """OPERATIONS lists exactly the operations the OpenAPI document declares."""
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    declared = {(operation.method.upper(), operation.path) for operation in operations}
    assert declared == set(OPERATIONS)


# schemathesis' own pytest loader (``from_fixture``) does not run under pytest 9, hence explicit operations.
@pytest.mark.parametrize("header_set", HEADER_SETS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.usefixtures("generation")
def test_api_answers_as_documented(
    api_schema: BaseSchema,
    method: str,
    path: str,
    header_set: str,
    request: pytest.FixtureRequest,
) -> None:
    """Every generated request gets no 5xx and an answer the OpenAPI document allows, with and without
    keys. (Requests the document does not allow are schemathesis' negative mode, which needs
    hypothesis-jsonschema.)"""
    url, headers = _target(header_set, request)
    excluded = _EXCLUDED_OPEN if header_set == "open" else _EXCLUDED
    _check(api_schema[path][method], GenerationMode.POSITIVE, url, headers, excluded)


OUT_OF_RANGE = [
    "/v1/failures?version=-3287734212541269089961952797523968",
    "/v1/failures?offset=9223372036854775808",
    "/v1/records?version=9223372036854775808",
]
"""Requests schemathesis found 5xx for (SQLite integer overflow), before out-of-range parameters were 422."""


@pytest.mark.parametrize("target", OUT_OF_RANGE)
def test_out_of_range_parameters_are_not_server_errors(gateway: ServeProcess, target: str) -> None:
    """A query parameter out of the store's range is a problem the client can act on, never a 5xx."""
    response = gateway.http.get(target)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
