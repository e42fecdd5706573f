"""Explicit routing of Kafka messages (pure): the topic map first, else the headers, else no route."""

import pytest

from sigma_aetl.core.refs import ContractRef, parse_ref
from sigma_aetl.kafka.routing import Route, header_text, parse_route, resolve, route_map

ROUTES = {"shipments": ("shipment", "1")}


def headers(contract: str | None = None, version: str | None = None) -> list[tuple[str, bytes | None]]:
    """Routing headers naming ``contract`` and ``version`` (each only when given)."""
    found: list[tuple[str, bytes | None]] = []
    if contract is not None:
        found.append(("sigma-contract", contract.encode()))
    if version is not None:
        found.append(("sigma-version", version.encode()))
    return found


def test_a_mapped_topic_routes_to_its_contract_version() -> None:
    """A topic in the map routes every message to the mapped contract@version, headers or not."""
    assert resolve("shipments", [], ROUTES) == Route("shipment", "1", "topic")


def test_headers_route_a_topic_outside_the_map() -> None:
    """On a topic outside the map, the sigma-contract and sigma-version headers name the route."""
    assert resolve("events", headers("shipment", "2"), ROUTES) == Route("shipment", "2", "headers")


def test_no_map_and_no_headers_is_no_route() -> None:
    """A message on an unmapped topic without routing headers names no contract and no version."""
    assert resolve("events", [("other", b"x")], ROUTES) == Route(None, None, "none")


def test_a_contract_header_alone_leaves_the_version_unnamed() -> None:
    """Half a route is kept as given (the version stays None), so the pipeline stores it as unrouted."""
    assert resolve("events", headers("shipment"), ROUTES) == Route("shipment", None, "headers")


def test_the_topic_map_wins_over_disagreeing_headers_and_says_so() -> None:
    """When headers disagree with the topic map, the map routes and the headers' route is recorded."""
    route = resolve("shipments", headers("shipment", "9"), ROUTES)
    assert route == Route("shipment", "1", "topic", ignored_headers="shipment@9")
    assert route.metadata() == {"by": "topic", "ignored_headers": "shipment@9"}


def test_headers_that_agree_with_the_map_are_not_reported() -> None:
    """Headers naming the mapped contract (fully or in part) are no disagreement."""
    assert resolve("shipments", headers("shipment", "1"), ROUTES).ignored_headers is None
    assert resolve("shipments", headers(version="1"), ROUTES).ignored_headers is None
    assert resolve("shipments", headers("parcel"), ROUTES).ignored_headers == "parcel@?"


def test_a_repeated_header_with_different_values_counts_as_absent() -> None:
    """An ambiguous header is never resolved by picking one of its values."""
    repeated = [("sigma-contract", b"shipment"), ("sigma-contract", b"parcel"), ("sigma-version", b"1")]
    assert resolve("events", repeated, ROUTES) == Route(None, "1", "headers")
    assert header_text([("h", b"a"), ("h", b"a")], "h") == "a"


def test_null_and_non_utf8_header_values() -> None:
    """A null header value is absent; a non-UTF-8 one is kept with replacement characters (never a name)."""
    assert header_text([("sigma-contract", None)], "sigma-contract") is None
    assert header_text([("sigma-contract", b"ship\xffment")], "sigma-contract") == "ship\ufffdment"


def test_header_names_match_exactly() -> None:
    """Routing header names are lower case and matched exactly."""
    assert resolve("events", [("Sigma-Contract", b"shipment"), ("Sigma-Version", b"1")], {}).by == "none"


def test_parse_route_and_ref() -> None:
    """``topic=name@version`` and ``name@version`` parse; anything else is refused with an example."""
    assert parse_route("shipments=shipment@1") == ("shipments", "shipment@1")
    assert parse_ref(" shipment@2 ") == ContractRef("shipment", "2")
    assert route_map({"a": "shipment@1"}) == {"a": ("shipment", "1")}
    for bad in ("shipments", "shipments=shipment", "=shipment@1", "a=b@c@d"):
        with pytest.raises(ValueError, match="for example"):
            parse_route(bad)
