"""``sigma-aetl keys create | list | revoke``: the API keys the HTTP gateway accepts (docs/security.md).

Keys live in the store, so every ``serve`` on it sees them: a key created closes an open gateway, and a
revoked one is refused, within ``auth_cache_seconds``. A token is printed once, by ``create``, and never
stored: only its SHA-256 is.

Exit codes: 0 done; 1 ``revoke``: no key has that id; 2 the command could not run (a bad scope, a store
error).
"""

from contextlib import closing
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sigma_aetl.cli.errors import EXIT_FAILED, fail, operational_errors
from sigma_aetl.cli.render import details, plain, print_json, stdout_console, timestamp
from sigma_aetl.cli.state import settings_of
from sigma_aetl.core.keys import ApiKey, ScopeError, parse_scope
from sigma_aetl.stores import open_store
from sigma_aetl.stores.keys import IssuedKey, issue, now

app = typer.Typer(
    help="API keys: who may send events to the HTTP gateway and who may read what it stored. Once a key "
    "exists, every endpoint but /healthz and /readyz needs one (see docs/security.md).",
    no_args_is_help=True,
)


def _scope(value: str) -> str:
    try:
        return parse_scope(value)
    except ScopeError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Option(metavar="NAME", help="Who holds the key (shown by keys list).")],
    scope: Annotated[
        list[str],
        typer.Option(
            parser=_scope,
            metavar="SCOPE",
            help="What the key may do; repeat for more: ingest:CONTRACT, ingest:*, read, read:raw, admin.",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"id", "name", "token", "scopes"} as JSON.')
    ] = False,
) -> None:
    """Create a key and print its token, once: it is not stored (only its hash is) and cannot be shown
    again. Send it as `Authorization: Bearer TOKEN` or `X-API-Key: TOKEN`."""
    if not name.strip():
        fail("a key needs a name (--name): who holds it")
    settings = settings_of(ctx)
    with operational_errors(settings), closing(open_store(settings.store_url)) as store:
        issued = issue(store, name, scope)
    if as_json:
        print_json(issued.shown())
    else:
        _show_issued(stdout_console(), issued)


def _show_issued(console: Console, issued: IssuedKey) -> None:
    key = issued.key
    rows = [("id", Text(key.key_id)), ("name", plain(key.name)), ("scopes", Text(" ".join(key.scopes)))]
    console.print(details([*rows, ("token", Text(issued.token, style="bold"))]))
    console.print("Store the token now: it is not shown again.", style="yellow", markup=False)


@app.command("list")
def list_keys(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the keys as a JSON list (never their tokens).")
    ] = False,
) -> None:
    """List every key, revoked ones too: id, name, scopes, when created and revoked. Tokens are never
    shown: they are not stored."""
    settings = settings_of(ctx)
    with operational_errors(settings), closing(open_store(settings.store_url, read_only=True)) as store:
        keys = store.list_keys()
    if as_json:
        print_json([key.shown() for key in keys])
    else:
        stdout_console().print(keys_table(keys))


def keys_table(keys: list[ApiKey]) -> Table:
    """The keys as a table, or a table saying there are none (and so that the gateway runs open)."""
    table = Table(title=f"{len(keys)} key(s)", title_justify="left")
    for column in ("id", "name", "scopes", "created", "revoked"):
        table.add_column(column, overflow="fold")
    for key in keys:
        revoked = timestamp(key.revoked_at) if key.revoked_at else "-"
        table.add_row(key.key_id, plain(key.name), " ".join(key.scopes), timestamp(key.created_at), revoked)
    if not keys:
        table.add_row(Text("none: the gateway runs open (loopback only)", style="dim"), "", "", "", "")
    return table


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id, as keys list shows it.")],
) -> None:
    """Revoke a key: requests with its token are refused (401) from the next request on, within
    auth_cache_seconds, by every gateway on the store. It stays listed, with when it was revoked."""
    settings = settings_of(ctx)
    with operational_errors(settings), closing(open_store(settings.store_url)) as store:
        revoked = store.revoke_key(key_id, now())
    if revoked is None:
        fail(f"no key has the id {key_id!r} (keys list shows them)", EXIT_FAILED)
    assert revoked.revoked_at is not None
    stdout_console().print(f"revoked {revoked.key_id} ({revoked.name}) at {timestamp(revoked.revoked_at)}")
