"""Which collection holds what: a records and a failures collection per contract, named after it.

    validated_{name}s      accepted records of contract NAME          validated_shipments
    failed_{name}s         failures routed to contract NAME           failed_shipments
    failed_unrouted        failures with no contract (unrouted, unknown contract or version)
    sigma_aetl_contracts   one document per contract stored: {"_id": name, "records": ..., "failures": ...}
    sigma_aetl_keys        one document per API key (``keys.py``)
    sigma_aetl_request_headers   each request's headers once: {"_id": SHA-256 of their JSON, "doc": JSON}

The names are fixed: for the shipment contract they are the original design's, which other tools may read
and write too, and the database the URL names already keeps one deployment apart from another.

Reads that span contracts list the contracts collection, then visit each contract's collections. A contract
is registered — and its indexes built — before its first document is written, so no reader ever misses a
collection that holds data. Failures of unknown contracts go to ``failed_unrouted`` and register nothing: a
producer's typo never makes the database grow a collection.
"""

from pymongo.collection import Collection
from pymongo.database import Database

from sigma_aetl.errors import StoreError
from sigma_aetl.stores.mongo import keys
from sigma_aetl.stores.mongo.documents import Doc
from sigma_aetl.stores.mongo.indexes import FAILURE_INDEXES, RECORD_INDEXES

_RECORDS = "validated_{name}s"
_FAILURES = "failed_{name}s"
_UNROUTED = "failed_unrouted"
_CONTRACTS = "sigma_aetl_contracts"
_HEADERS = "sigma_aetl_request_headers"


class Layout:
    """The collections of one database, and the contracts registered in it. Raises pymongo's errors."""

    def __init__(self, database: Database[Doc]) -> None:
        self._db = database
        self.unrouted: Collection[Doc] = database[_UNROUTED]
        self._contracts: Collection[Doc] = database[_CONTRACTS]
        self.keys: Collection[Doc] = database[keys.COLLECTION]
        self.headers: Collection[Doc] = database[_HEADERS]
        self._ready: set[str] = set()  # contracts whose collections have their indexes (this process)

    def set_up(self) -> None:
        """Build the indexes of the unrouted collection and of every registered contract's collections."""
        self.unrouted.create_indexes(FAILURE_INDEXES)
        self.keys.create_indexes(keys.INDEXES)
        for name in self.names():
            self.ensure(name)

    def ensure(self, contract: str) -> None:
        """Build a contract's indexes and register it, once per process, before its first write."""
        if contract in self._ready:
            return
        self.records(contract).create_indexes(RECORD_INDEXES)
        self.failures(contract).create_indexes(FAILURE_INDEXES)
        collections = {"records": self.records(contract).name, "failures": self.failures(contract).name}
        self._contracts.update_one({"_id": contract}, {"$setOnInsert": collections}, upsert=True)
        self._ready.add(contract)

    @property
    def database(self) -> Database[Doc]:
        """The database itself, for the collections this module does not name (``classes.py``)."""
        return self._db

    def names(self) -> list[str]:
        """The registered contracts, sorted."""
        return sorted(str(doc["_id"]) for doc in self._contracts.find({}, {"_id": 1}))

    def records(self, contract: str) -> Collection[Doc]:
        """Where accepted records of ``contract`` live."""
        return self._db[_collection_name(_RECORDS, contract)]

    def failures(self, contract: str | None) -> Collection[Doc]:
        """Where failures of ``contract`` live; unrouted failures (no contract) have their own."""
        if contract is None:
            return self.unrouted
        return self._db[_collection_name(_FAILURES, contract)]

    def failure_collections(self, contract: str | None) -> list[Collection[Doc]]:
        """The failure collections a query visits: one contract's, or every one (``None``)."""
        names = self.names()
        if contract is not None:
            return [self.failures(contract)] if contract in names else []
        return [self.unrouted, *(self.failures(name) for name in names)]


def _collection_name(template: str, contract: str) -> str:
    name = template.format(name=contract)
    if not contract or "$" in name or "\x00" in name or name.startswith("system."):
        raise StoreError(f"contract name {contract!r} cannot name a MongoDB collection ({name!r})")
    return name
