"""A secured MongoDB setup (docs/security.md): credentials and TLS options in the URL reach pymongo, and
the password never appears in a message or a log line."""

import pytest
from structlog.testing import capture_logs

from sigma_aetl.errors import ConfigError
from sigma_aetl.redact import redact
from sigma_aetl.settings import Settings
from sigma_aetl.stores import open_store
from sigma_aetl.stores.mongo.connection import connect

SECURED = (
    "mongodb://ingest:s3cret-pass@db1:27017,db2:27017/sigma?replicaSet=rs0&authSource=admin"
    "&authMechanism=SCRAM-SHA-256&tls=true&tlsAllowInvalidHostnames=false&serverSelectionTimeoutMS=200"
)


def test_credentials_and_tls_in_the_url_reach_pymongo() -> None:
    """User, password, auth source and mechanism, TLS and the replica set pass through to the client."""
    client, database = connect(SECURED)
    try:
        assert database.name == "sigma"
        options = client.options
        credentials = options.pool_options._credentials  # pymongo keeps them only here
        assert credentials is not None
        assert (credentials.username, credentials.password) == ("ingest", "s3cret-pass")
        assert (credentials.source, credentials.mechanism) == ("admin", "SCRAM-SHA-256")
        assert options.replica_set_name == "rs0"
        assert options._options["tls"] is True  # the parsed URL options
    finally:
        client.close()


def test_the_password_is_masked_wherever_the_url_is_shown() -> None:
    """The redacted URL keeps the user and host and hides the password; so does the settings' form."""
    assert redact(SECURED).startswith("mongodb://ingest:***@db1:27017,db2:27017/sigma?")
    assert "s3cret-pass" not in Settings(store_url=SECURED).store_url_redacted


@pytest.mark.parametrize(
    "url",
    ["mongodb://ingest:s3cret-pass@db1:27017/?tls=true", "mongodx://ingest:s3cret-pass@db1:27017/sigma"],
)
def test_a_refused_url_is_named_without_its_password(url: str) -> None:
    """A URL without a database, or of an unknown scheme, is refused naming it with the password masked."""
    with capture_logs() as logged, pytest.raises(ConfigError) as refused:
        open_store(url)
    assert "ingest:***@db1" in str(refused.value)
    assert "s3cret-pass" not in str(refused.value)
    assert "s3cret-pass" not in str(logged)
