"""A secured Kafka setup (docs/security.md): SASL/TLS properties from SIGMA_AETL_KAFKA_CONFIG reach both
clients, the delivery guarantee stays fixed, and refusals never echo a secret."""

import os

import pytest

from sigma_aetl.errors import ConfigError
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.settings import Settings

SECURED = (
    '{"security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "ingest", '
    '"sasl.password": "s3cret-pass", "ssl.ca.location": "/etc/kafka/ca.pem", '
    '"ssl.endpoint.identification.algorithm": "https"}'
)


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as if no SIGMA_AETL_* variable were set on this machine."""
    for key in [key for key in os.environ if key.startswith("SIGMA_AETL_")]:
        monkeypatch.delenv(key)


def test_sasl_and_tls_settings_reach_the_consumer_and_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every property of SIGMA_AETL_KAFKA_CONFIG is passed to both clients, beside the fixed ones."""
    monkeypatch.setenv("SIGMA_AETL_KAFKA_CONFIG", SECURED)
    monkeypatch.setenv("SIGMA_AETL_KAFKA_ROUTES", '{"shipments": "shipment@1"}')
    monkeypatch.setenv("SIGMA_AETL_KAFKA_BOOTSTRAP_SERVERS", "broker-1:9093,broker-2:9093")
    built = KafkaConfig.from_settings(Settings())
    expected = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "ingest",
        "sasl.password": "s3cret-pass",
        "ssl.ca.location": "/etc/kafka/ca.pem",
        "ssl.endpoint.identification.algorithm": "https",
        "bootstrap.servers": "broker-1:9093,broker-2:9093",
    }
    consumer, producer = built.consumer_properties(), built.producer_properties()
    assert expected.items() <= consumer.items()
    assert expected.items() <= producer.items()
    assert consumer["enable.auto.commit"] is False
    assert producer["enable.idempotence"] is True


def test_client_specific_properties_stay_with_their_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGMA_AETL_KAFKA_PRODUCER_CONFIG (a producer's own credentials, say) reaches the producer only."""
    monkeypatch.setenv("SIGMA_AETL_KAFKA_CONFIG", SECURED)
    monkeypatch.setenv("SIGMA_AETL_KAFKA_PRODUCER_CONFIG", '{"sasl.username": "publisher"}')
    monkeypatch.setenv("SIGMA_AETL_KAFKA_ROUTES", '{"shipments": "shipment@1"}')
    built = KafkaConfig.from_settings(Settings())
    assert built.producer_properties()["sasl.username"] == "publisher"
    assert built.consumer_properties()["sasl.username"] == "ingest"


def test_a_refused_configuration_never_echoes_the_password() -> None:
    """Overriding a fixed property is refused by name; the SASL password is not in the message."""
    common = {"sasl.password": "s3cret-pass", "enable.auto.commit": True}
    settings = Settings(kafka_routes={"t": "shipment@1"}, kafka_config=common)
    with pytest.raises(ConfigError, match=r"enable\.auto\.commit") as refused:
        KafkaConfig.from_settings(settings)
    assert "s3cret-pass" not in str(refused.value)
