"""Reading Prometheus text (what ``/metrics`` answers) and what ``/v1/stats`` says the same counters are."""

from collections import Counter
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

UNREGISTERED = "_unregistered"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples named ``name`` (e.g. ``sigma_aetl_events_total``), by their sorted label pairs."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def names(text: str) -> set[str]:
    """Every name in ``text``: as declared (``sigma_aetl_events_total``), as a family (without
    ``_total``) and of each sample (``_bucket``, ``_count``...)."""
    found = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    for family in text_string_to_metric_families(text):
        found.add(family.name)
        found.update(sample.name for sample in family.samples)
    return found


def events_by(text: str, *keys: str, status: set[str] | None = None) -> Counter[tuple[str, ...]]:
    """``sigma_aetl_events_total`` summed by the labels ``keys``, for the statuses given (else all)."""
    totals: Counter[tuple[str, ...]] = Counter()
    for labels, value in samples(text, "sigma_aetl_events_total").items():
        as_dict = dict(labels)
        if status is None or as_dict["status"] in status:
            totals[tuple(as_dict[key] for key in keys)] += int(value)
    return +totals


def stats_as_labels(stats: dict[str, Any], registered: set[str]) -> dict[str, Counter[tuple[str, ...]]]:
    """``/v1/stats`` in the metrics' terms: a contract version the registry lacks folded, as the labels
    fold it, under ``_unregistered`` (written out here, not taken from the code under test)."""

    def label(ref: str) -> tuple[str, str]:
        name, _, version = ref.rpartition("@")
        if ref in registered:
            return name, version
        known = {known.rpartition("@")[0] for known in registered}
        return (name if name in known else UNREGISTERED), UNREGISTERED

    def fold(by_ref: dict[str, int]) -> Counter[tuple[str, ...]]:
        folded: Counter[tuple[str, ...]] = Counter()
        for ref, count in by_ref.items():
            folded[label(ref)] += count
        return +folded

    return {
        "accepted": fold(stats["accepted_by_contract"]),
        "failed": fold(stats["failures_by_contract"]),
        "arrivals": fold(stats["failure_occurrences_by_contract"]),
        "failed_by_cause": by_cause(stats["failures_by_root_cause"]),
        "arrivals_by_cause": by_cause(stats["failure_occurrences_by_root_cause"]),
    }


def by_cause(counts: dict[str, int]) -> Counter[tuple[str, ...]]:
    """Counts per root cause, keyed as :func:`events_by` keys them."""
    keyed: Counter[tuple[str, ...]] = Counter({(cause,): count for cause, count in counts.items()})
    return +keyed


def assert_metrics_match_stats(text: str, stats: dict[str, Any], registered: set[str]) -> None:
    """The events counters equal the stats: accepted per contract version; new failures and failure
    arrivals (failed + repeat) per contract version and per root cause."""
    expected = stats_as_labels(stats, registered)
    arrivals = {"failed", "repeat"}
    assert events_by(text, "contract", "version", status={"accepted"}) == expected["accepted"]
    assert events_by(text, "contract", "version", status={"failed"}) == expected["failed"]
    assert events_by(text, "contract", "version", status=arrivals) == expected["arrivals"]
    assert events_by(text, "root_cause", status={"failed"}) == expected["failed_by_cause"]
    assert events_by(text, "root_cause", status=arrivals) == expected["arrivals_by_cause"]


V2_VALID = b'{"shipment_id": "SHIP-V2-1", "weight_kg": 3, "destination": "Cork", "service_level": "express"}'
V2_BAD_LEVEL = b'{"shipment_id": "SHIP-V2-2", "weight_kg": 3, "destination": "Cork", "service_level": "fast"}'
ORDER_BAD_ITEM = (
    b'{"order_id": "O-1", "status": "placed", "customer": {"customer_id": "C-1", "country": "IE"},'
    b' "items": [{"sku": "ABC-1234", "quantity": 1, "unit_price": "2.50"},'
    b' {"sku": "nope", "quantity": 0, "unit_price": "2.50"}], "total": "2.50",'
    b' "placed_at": "2026-01-01T00:00:00Z"}'
)
