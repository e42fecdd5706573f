"""The hot path's histogram answers exactly what prometheus_client's own would."""

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client import Histogram as ClientHistogram
from prometheus_client.exposition import generate_latest

from sigma_aetl.ingest.histograms import Histogram
from sigma_aetl.ingest.metrics import SECONDS, SIZES

VALUES = (0.00005, 0.0001, 0.003, 0.5, 1, 2, 3, 7, 20, 5000, 20_000)


@pytest.mark.parametrize("buckets", [SECONDS, SIZES], ids=["seconds", "sizes"])
def test_same_text_as_prometheus_client(buckets: tuple[float, ...]) -> None:
    """The same observations give the same exposition, line for line: buckets (a value on a bound counts
    in that bucket), count and sum (prometheus_client's ``_created`` line aside)."""
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = ClientHistogram("x_seconds", "doc", buckets=buckets, registry=theirs)
    histogram = Histogram("x_seconds", "doc", buckets, ours)
    for value in VALUES:
        reference.observe(value)
        histogram.observe(value)
    expected = [line for line in generate_latest(theirs).decode().splitlines() if "_created" not in line]
    assert generate_latest(ours).decode().splitlines() == expected


def test_a_second_histogram_of_the_same_name_is_refused() -> None:
    """The registry refuses a second collector with the same name, as it would for its own histograms."""
    registry = CollectorRegistry()
    Histogram("x_seconds", "doc", SECONDS, registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Histogram("x_seconds", "doc", SECONDS, registry)
