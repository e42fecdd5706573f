"""The MongoDB store (production, many gateways and workers), one concept per module (docs/mongodb.md).

    store.py       MongoStore: the Store protocol, composed from the modules below
    connection.py  a URL → the client and the database it names (write concern, read preference)
    layout.py      which collection holds what; a contract is registered before its first document
    indexes.py     the indexes of the record and failure collections, and the order they serve
    documents.py   record ⇄ document: the exact JSON in ``doc``, typed copies of the queried fields
    writes.py      unordered bulk inserts that tell new ids from stored ones, across retries
    queries.py     failure filters, the newest-first merge of pages, keyset paging, counts, the records stream
    errors.py      transient or not, the retries, pymongo's errors → StoreError / StoreUnavailable

Only this package imports pymongo; :func:`sigma_aetl.stores.open_store` imports it on a ``mongodb://`` URL.
"""

from sigma_aetl.stores.mongo.store import MongoStore

__all__ = ["MongoStore"]
