"""``sigma-aetl worker partitions`` and ``worker resume``: a running worker's partitions paused by a flood.

Both call the worker's admin endpoints on its health port (``kafka/admin.py``): ``--url`` is that port's
address (``http://127.0.0.1:PORT``); the API key, of scope ``admin``, comes from ``--api-key`` or
``SIGMA_AETL_API_KEY`` (none needed while the store holds no key). Exit codes: 0 done, 1 refused by the
worker (its problem's detail is printed: not paused, not assigned, no key...), 2 the worker could not be
reached.
"""

import json
import urllib.error
import urllib.request
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from sigma_aetl.cli.errors import fail
from sigma_aetl.cli.render import plain, print_json, stdout_console

UrlOption = Annotated[
    str,
    typer.Option(
        metavar="URL", help="The worker's health port, e.g. http://127.0.0.1:8081 (its --health-port)."
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        metavar="TOKEN",
        envvar="SIGMA_AETL_API_KEY",
        help="An API key of scope admin. Env SIGMA_AETL_API_KEY.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the worker's answer as JSON.")]
TIMEOUT = 15.0
"""Seconds to wait for the worker's answer (a resume waits up to 5 s for the worker's next batch)."""


def partitions(*, url: UrlOption, api_key: ApiKeyOption = None, as_json: JsonOption = False) -> None:
    """List the partitions a running worker is assigned: paused by the flood guard or not, why, and the
    alert that paused them."""
    answer = call("GET", url, "/admin/partitions", api_key)
    if as_json:
        print_json(answer)
        return
    table = Table("partition", "paused", "alert", "since", "reason", title="Assigned partitions")
    for item in answer["partitions"]:
        where = f"{item['topic']}:{item['partition']}"
        paused = "paused" if item["paused"] else "consuming"
        table.add_row(
            plain(where), paused, plain(item["alert_id"]), plain(item["paused_at"]), plain(item["reason"])
        )
    stdout_console().print(table)


def resume(
    topic: Annotated[str, typer.Argument(metavar="TOPIC", help="The topic of the paused partition.")],
    partition: Annotated[int, typer.Argument(metavar="PARTITION", min=0, help="The partition number.")],
    *,
    url: UrlOption,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resume a partition the flood guard paused: the worker consumes it again from the message after the
    last one it stored, and its guard is re-armed."""
    answer = call("POST", url, f"/admin/partitions/{quote(topic, safe='')}/{partition}/resume", api_key)
    if as_json:
        print_json(answer)
    elif answer["resumed"]:
        stdout_console().print(f"resumed {topic}:{partition}", markup=False)
    else:
        stdout_console().print(f"resuming {topic}:{partition} before the worker's next batch", markup=False)


def call(method: str, url: str, path: str, api_key: str | None) -> dict[str, Any]:
    """The worker's JSON answer; a problem answer is printed and exits 1, no answer exits 2."""
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            found: dict[str, Any] = json.loads(answer.read())
            return found
    except urllib.error.HTTPError as refused:
        fail(f"the worker answered {refused.code}: {_detail(refused)}", code=1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        fail(f"no answer from the worker at {url}: {exc}")


def _detail(refused: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(refused.read())
    except ValueError:
        return str(refused.reason)
    return str(body.get("detail", refused.reason)) if isinstance(body, dict) else str(refused.reason)
