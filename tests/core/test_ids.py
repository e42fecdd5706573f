"""Deterministic identifiers and the source identity of an envelope."""

from datetime import UTC, datetime

from hypothesis import given

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.envelope import Envelope, Truncation
from sigma_aetl.core.ids import SourceIdentity, failure_id, raw_identity, record_id
from strategies import failure_addresses

Address = tuple[str | None, str | None, SourceIdentity]

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def envelope(raw: bytes = b"{}", **fields: object) -> Envelope:
    """An envelope for shipment@1 received at a fixed instant, with ``fields`` overridden."""
    values: dict[str, object] = {"contract": "shipment", "version": "1", "received_at": NOW, **fields}
    return Envelope(raw=raw, **values)  # type: ignore[arg-type]


def test_record_id_is_stable_and_prefixed() -> None:
    """The same contract, version and identity always give the same record id."""
    first = record_id("shipment", 1, ["SHIP-1"])
    assert first == record_id("shipment", 1, ("SHIP-1",))
    assert first.startswith("rec_")
    assert len(first) == len("rec_") + 32


def test_record_id_depends_on_name_version_and_identity() -> None:
    """Changing the contract name, the version or any identity value changes the record id."""
    base = record_id("shipment", 1, ["SHIP-1"])
    assert record_id("parcel", 1, ["SHIP-1"]) != base
    assert record_id("shipment", 2, ["SHIP-1"]) != base
    assert record_id("shipment", 1, ["SHIP-2"]) != base
    assert record_id("shipment", 1, ["SHIP-1", "x"]) != base


def test_record_id_keeps_json_types_apart() -> None:
    """Identity values of different JSON types (1, "1", true) give different ids."""
    ids = {record_id("c", 1, [value]) for value in (1, "1", True, None, 1.5)}
    assert len(ids) == 5


def test_record_id_of_a_whole_record_ignores_key_order() -> None:
    """A contract without identity fields identifies a record by its data, whatever the key order."""
    assert record_id("c", 1, [{"a": 1, "b": 2}]) == record_id("c", 1, [{"b": 2, "a": 1}])


def test_failure_id_depends_on_contract_version_and_source() -> None:
    """The failure id changes with the contract and version as addressed and with the source identity."""
    base = failure_id("shipment", "1", ("key", "k-1"))
    assert base == failure_id("shipment", "1", ("key", "k-1"))
    assert base.startswith("fail_")
    assert failure_id("shipment", "2", ("key", "k-1")) != base
    assert failure_id("parcel", "1", ("key", "k-1")) != base
    assert failure_id("shipment", "1", ("key", "k-2")) != base
    assert failure_id("shipment", "1", ("raw", "k-1")) != base


def test_failure_ids_of_plain_addresses_are_those_stored_before() -> None:
    """An address without ``@`` in its name or ``?`` for a part keeps the id it always had (replay safety)."""
    legacy = sha256_hex(canonical_bytes(["failure", "shipment@1", ["key", "k-1"]]))[:32]
    assert failure_id("shipment", "1", ("key", "k-1")) == f"fail_{legacy}"
    unnamed = sha256_hex(canonical_bytes(["failure", "?@?", ["raw", "x"]]))[:32]
    assert failure_id(None, None, ("raw", "x")) == f"fail_{unnamed}"


def test_an_address_cannot_spell_another() -> None:
    """A name holding ``@`` or a part named ``?`` never takes the id of another address."""
    source = ("key", "k")
    assert failure_id("a@b", "1", source) != failure_id("a", "b@1", source)
    assert failure_id("?", "1", source) != failure_id(None, "1", source)
    assert failure_id("", "1", source) != failure_id(None, "1", source)
    assert failure_id("a", "?", source) != failure_id("a", None, source)


def test_a_key_cannot_spell_a_batch_event() -> None:
    """A single event keyed ``batch-7#0`` and event 0 of a batch keyed ``batch-7`` have two identities."""
    single = envelope(b"{}", idempotency_key="batch-7#0")
    batched = envelope(b"{}", idempotency_key="batch-7", batch_index=0)
    assert batched.source_identity() == ("key", "batch-7", "0")
    assert single.source_identity() != batched.source_identity()
    assert failure_id("shipment", "1", single.source_identity()) != failure_id(
        "shipment", "1", batched.source_identity()
    )


@given(failure_addresses, failure_addresses)
def test_failure_ids_are_injective(one: Address, other: Address) -> None:
    """Distinct (contract, version, source identity) give distinct ids; the same give the same id."""
    if one == other:
        assert failure_id(*one) == failure_id(*other)
    else:
        assert failure_id(*one) != failure_id(*other)


@given(failure_addresses)
def test_failure_ids_are_deterministic(address: Address) -> None:
    """The same (contract, version, source identity) always gives the same id."""
    contract, version, source = address
    assert failure_id(*address) == failure_id(contract, version, tuple(source))


def test_idempotency_key_beats_transport_identity_and_bytes() -> None:
    """With an idempotency key, the source identity is the key, whatever the transport or bytes."""
    keyed = envelope(b"a", idempotency_key="k-1", transport_identity=("kafka", "t", "0", "5"))
    assert keyed.source_identity() == ("key", "k-1")


def test_transport_identity_beats_bytes() -> None:
    """Without a key, the transport's coordinates identify the arrival."""
    assert envelope(b"a", transport_identity=("kafka", "t", "0", "5")).source_identity() == (
        "kafka",
        "t",
        "0",
        "5",
    )


def test_raw_bytes_identify_an_arrival_without_key_or_transport_identity() -> None:
    """Without key or coordinates, the SHA-256 of the raw bytes identifies the arrival."""
    assert envelope(b"abc").source_identity() == ("raw", sha256_hex(b"abc"))
    assert raw_identity(b"abc") == ("raw", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_a_location_is_qualified_by_the_bytes() -> None:
    """At a location (a file's line), the identity is the place and the bytes: other bytes there differ."""
    at = ("file", "/data/in.jsonl", "7")
    assert envelope(b"abc", location=at).source_identity() == (*at, "raw", sha256_hex(b"abc"))
    assert envelope(b"abd", location=at).source_identity() != envelope(b"abc", location=at).source_identity()
    other = ("file", "/data/in.jsonl", "8")
    assert (
        envelope(b"abc", location=other).source_identity() != envelope(b"abc", location=at).source_identity()
    )


def test_key_and_coordinates_beat_a_location() -> None:
    """A producer's key, or a transport's coordinates, still win over a location."""
    at = ("file", "/data/in.jsonl", "7")
    assert envelope(b"a", location=at, idempotency_key="k").source_identity() == ("key", "k")
    kafka = ("kafka", "t", "0", "5")
    assert envelope(b"a", location=at, transport_identity=kafka).source_identity() == kafka


def test_a_truncated_arrival_is_identified_by_its_whole_bytes() -> None:
    """When only a prefix is kept, the identity is the whole arrival's hash, as if it had been kept."""
    whole = b"abcdef"
    cut = envelope(whole[:2], truncated=Truncation(len(whole), sha256_hex(whole)))
    assert cut.source_identity() == envelope(whole).source_identity() == raw_identity(whole)
    at = ("file", "/data/in.jsonl", "7")
    kept = envelope(whole[:2], location=at, truncated=Truncation(len(whole), sha256_hex(whole)))
    assert kept.source_identity() == envelope(whole, location=at).source_identity()


def test_empty_idempotency_key_still_counts() -> None:
    """An empty idempotency key is a key (it is not confused with no key)."""
    assert envelope(b"abc", idempotency_key="").source_identity() == ("key", "")


def test_same_key_gives_the_same_failure_id_for_different_bytes() -> None:
    """Two payloads sent under one idempotency key share a failure id; without a key they do not."""
    one, two = envelope(b"one", idempotency_key="k"), envelope(b"two", idempotency_key="k")
    assert failure_id("shipment", "1", one.source_identity()) == failure_id(
        "shipment", "1", two.source_identity()
    )
    bare_one, bare_two = envelope(b"one"), envelope(b"two")
    assert failure_id("shipment", "1", bare_one.source_identity()) != failure_id(
        "shipment", "1", bare_two.source_identity()
    )


def test_contract_ref_marks_what_was_not_named() -> None:
    """The contract as addressed shows ? for a missing name or version, and keeps what was given verbatim."""
    assert envelope().contract_ref == "shipment@1"
    assert envelope(contract=None, version=None).contract_ref == "?@?"
    assert envelope(version=None).contract_ref == "shipment@?"
    assert envelope(version="v01").contract_ref == "shipment@v01"
