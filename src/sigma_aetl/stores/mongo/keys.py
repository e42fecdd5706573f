"""The ``sigma_aetl_keys`` collection: one document per API key, the token's SHA-256 under a unique index.

    {"_id": "key_...", "token_hash": "<64 hex>", "name": "...", "scopes": ["read"],
     "created_us": 1714564800123000, "revoked_us": 1714568400000000 | null}

Times are integer microseconds since the epoch (UTC), as the failures' ``*_us`` fields are: exact, and an
update sets them as plainly as an insert. The token itself is never stored. Raises pymongo's errors; the
store translates them.
"""

from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from sigma_aetl.core.keys import ApiKey
from sigma_aetl.errors import StoreError
from sigma_aetl.stores.base import from_micros, micros
from sigma_aetl.stores.mongo.documents import Doc

COLLECTION = "sigma_aetl_keys"
INDEXES = [IndexModel([("token_hash", ASCENDING)], name="token_hash_unique", unique=True)]


def add(keys: Collection[Doc], key: ApiKey) -> None:
    """Insert ``key``; an id or token hash stored already is a StoreError."""
    doc = {
        "_id": key.key_id,
        "token_hash": key.token_hash,
        "name": key.name,
        "scopes": list(key.scopes),
        "created_us": micros(key.created_at),
        "revoked_us": None,
    }
    try:
        keys.insert_one(doc)
    except DuplicateKeyError as exc:
        raise StoreError(f"a key with id {key.key_id!r} or the same token is stored already") from exc


def revoke(keys: Collection[Doc], key_id: str, at: datetime) -> ApiKey | None:
    """Set ``revoked_us`` unless it is set; the key as it is now, or None if unknown."""
    keys.update_one({"_id": key_id, "revoked_us": None}, {"$set": {"revoked_us": micros(at)}})
    return _key(keys.find_one({"_id": key_id}))


def find(keys: Collection[Doc], token_hash: str) -> ApiKey | None:
    """The key with this token hash."""
    return _key(keys.find_one({"token_hash": token_hash}))


def every(keys: Collection[Doc]) -> list[ApiKey]:
    """Every key, oldest first."""
    found = (_key(doc) for doc in keys.find({}).sort([("created_us", ASCENDING), ("_id", ASCENDING)]))
    return [key for key in found if key is not None]


def any_key(keys: Collection[Doc]) -> bool:
    """Whether any key was stored, revoked or not."""
    return keys.find_one({}, {"_id": 1}) is not None


def _key(doc: Doc | None) -> ApiKey | None:
    if doc is None:
        return None
    scopes = tuple(str(scope) for scope in doc["scopes"])
    revoked = doc.get("revoked_us")
    revoked_at = None if revoked is None else from_micros(int(revoked))
    created_at = from_micros(int(doc["created_us"]))
    return ApiKey(str(doc["_id"]), str(doc["name"]), scopes, str(doc["token_hash"]), created_at, revoked_at)
