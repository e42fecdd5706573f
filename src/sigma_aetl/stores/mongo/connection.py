"""A MongoDB URL → a client and the database it names, with the store's write concern and read preference.

Every pymongo URL option passes through (``replicaSet``, ``tls``, ``journal``, ``wtimeoutMS``,
``serverSelectionTimeoutMS``...). The store adds three rules of its own: the URL must name the database,
writes wait for ``w=majority`` unless the URL says otherwise (and ``w=0`` is refused), and reads go to the
primary whatever ``readPreference`` says. One URL option is the store's own, not pymongo's:
``recordsSettleMS``, how long the records stream waits before it shows a record (:func:`settle_option`).
"""

from datetime import timedelta

from pymongo import MongoClient, ReadPreference
from pymongo.database import Database
from pymongo.errors import ConfigurationError
from pymongo.write_concern import WriteConcern

from sigma_aetl.errors import ConfigError
from sigma_aetl.redact import redact
from sigma_aetl.stores.mongo.documents import Doc

SETTLE_OPTION = "recordsSettleMS"
DEFAULT_SETTLE = timedelta(seconds=30)
"""How old a record's ``_id`` must be before the records stream shows it (see docs/records.md): longer
than any one write takes to land, a primary election included, plus the clock skew between hosts."""


def connect(url: str) -> tuple[MongoClient[Doc], Database[Doc]]:
    """A client for ``url`` and the database it names; raises ConfigError for a URL that cannot work.

    Connecting is lazy (pymongo's): nothing is sent to the server until the first command.
    """
    try:
        client: MongoClient[Doc] = MongoClient(url, tz_aware=True)
    except ConfigurationError as exc:
        raise ConfigError(f"bad MongoDB URL: {exc}") from exc
    try:
        database = client.get_default_database()
    except ConfigurationError as exc:
        client.close()
        raise ConfigError(
            f"a MongoDB URL names its database, e.g. mongodb://host:27017/sigma: {redact(url)!r}"
        ) from exc
    concern = WriteConcern(**{"w": "majority", **client.write_concern.document})
    if not concern.acknowledged:
        client.close()
        raise ConfigError("w=0 is refused: unacknowledged writes cannot tell a new id from a stored one")
    # the primary only: telling a duplicate from a new id, and reading one's own writes, need it
    return client, database.with_options(write_concern=concern, read_preference=ReadPreference.PRIMARY)


def settle_option(url: str) -> tuple[str, timedelta]:
    """``url`` without the store's own ``recordsSettleMS`` option (pymongo would warn about it), and its
    value (DEFAULT_SETTLE when absent); raises ConfigError unless it is a whole number of milliseconds."""
    base, mark, query = url.partition("?")
    kept: list[str] = []
    settle = DEFAULT_SETTLE
    for option in query.split("&") if mark else []:
        name, _, value = option.partition("=")
        if name.lower() != SETTLE_OPTION.lower():
            kept.append(option)
        elif value.isascii() and value.isdigit() and len(value) <= 12:
            settle = timedelta(milliseconds=int(value))
        else:
            raise ConfigError(f"{SETTLE_OPTION} must be a whole number of milliseconds, not {value!r}")
    return (base + "?" + "&".join(kept) if kept else base), settle
