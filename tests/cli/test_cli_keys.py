"""``sigma-aetl keys``: create prints a token once, list never shows one, revoke refuses unknown ids."""

from cli_support import Cli
from sigma_aetl.core.keys import token_hash
from sigma_aetl.stores import open_store


def test_create_prints_the_token_once_and_stores_only_its_hash(cli: Cli) -> None:
    """``keys create --json`` prints id, name, token and scopes; the store holds the hash, not the token."""
    created = cli.json("keys", "create", "--name", "billing", "--scope", "read", "--scope", "ingest:shipment")
    assert set(created) == {"id", "name", "token", "scopes"}
    assert created["name"] == "billing"
    assert created["scopes"] == ["ingest:shipment", "read"]
    assert created["token"].startswith("sgk_")
    store = open_store(cli.store_url, read_only=True)
    try:
        found = store.find_key(token_hash(created["token"]))
        assert found is not None
        assert found.key_id == created["id"]
    finally:
        store.close()
    assert created["token"].encode() not in cli.db.read_bytes()


def test_create_without_json_shows_the_token_and_says_it_is_not_shown_again(cli: Cli) -> None:
    """The human output shows the token and warns that it is not shown again."""
    result = cli.run("keys", "create", "--name", "ops", "--scope", "admin")
    assert result.exit_code == 0, result.output
    assert "sgk_" in result.stdout
    assert "it is not shown again" in result.stdout


def test_a_bad_scope_is_a_usage_error_listing_the_grammar(cli: Cli) -> None:
    """An unknown scope exits 2, names it and lists every scope form; no key is stored."""
    result = cli.run("keys", "create", "--name", "x", "--scope", "write", env={"COLUMNS": "250"})
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "'write' is not a scope; use ingest:<contract>, ingest:*, read, read:raw or admin" in message
    assert not cli.db.exists()


def test_an_empty_name_is_refused(cli: Cli) -> None:
    """A blank --name exits 2 saying a key needs a name."""
    result = cli.run("keys", "create", "--name", " ", "--scope", "read")
    assert result.exit_code == 2
    assert "a key needs a name" in result.stderr


def test_list_shows_every_key_and_never_a_token_or_hash(cli: Cli) -> None:
    """``keys list`` (table and JSON) shows ids, names and scopes, never the tokens or their hashes."""
    first = cli.json("keys", "create", "--name", "billing", "--scope", "read")
    second = cli.json("keys", "create", "--name", "shop", "--scope", "ingest:*")
    listed = cli.json("keys", "list")
    assert [(k["id"], k["name"], k["scopes"]) for k in listed] == [
        (first["id"], "billing", ["read"]),
        (second["id"], "shop", ["ingest:*"]),
    ]
    table = cli.run("keys", "list", env={"COLUMNS": "250"})
    assert first["id"] in table.stdout
    assert "shop" in table.stdout
    for created in (first, second):
        for secret in (created["token"], token_hash(created["token"])):
            assert secret not in table.stdout
            assert secret not in str(listed)


def test_list_of_a_store_without_keys_says_the_gateway_runs_open(cli: Cli) -> None:
    """With no key, the table says the gateway runs open, and the JSON list is empty."""
    open_store(cli.store_url).close()  # an empty store
    assert cli.json("keys", "list") == []
    assert "the gateway runs open" in cli.run("keys", "list").stdout


def test_revoke_marks_the_key_and_an_unknown_id_exits_1(cli: Cli) -> None:
    """``keys revoke ID`` sets revoked_at (listed after); an unknown id is a clear error with exit code 1."""
    created = cli.json("keys", "create", "--name", "billing", "--scope", "read")
    result = cli.run("keys", "revoke", created["id"])
    assert result.exit_code == 0, result.output
    assert f"revoked {created['id']} (billing)" in result.stdout
    [listed] = cli.json("keys", "list")
    assert listed["revoked_at"] is not None
    unknown = cli.run("keys", "revoke", "key_nope")
    assert unknown.exit_code == 1
    assert "no key has the id 'key_nope'" in unknown.stderr
