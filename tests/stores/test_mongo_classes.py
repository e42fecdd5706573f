"""MongoDB specifics of failure classes: a class update retried with its write's token counts once, and
producer labels holding dots or dollars survive as field names."""

from collections.abc import Callable

from sigma_aetl.core.classes import class_id_of
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.stores.classes import ClassDelta, Classifier
from sigma_aetl.stores.mongo import MongoStore
from sigma_aetl.stores.mongo.classes import CLASSES, apply_deltas, escape, unescape

FailureFactory = Callable[..., FailureRecord]


def test_a_class_update_applied_twice_with_one_token_counts_once(
    mongo_store: MongoStore, make_failure: FailureFactory
) -> None:
    """The same write's class update, sent again (a transient error retried), changes nothing more."""
    failure = make_failure("a")
    mongo_store.write([], [failure])
    classifier = Classifier()
    class_id = classifier.class_of(failure)
    delta = ClassDelta()
    delta.add_failure("fail_extra", 1, 1, 1, ("stdin",))
    collection = mongo_store._layout.database[CLASSES]
    for _ in range(2):
        apply_deltas(collection, classifier.meta, {class_id: delta}, "one-token")
    found = mongo_store.get_class(class_id_of(failure))
    assert found is not None
    assert (found.count, found.producers.get("stdin")) == (2, 1)


def test_producer_labels_round_trip_as_field_names() -> None:
    """A label with dots, dollars and percent signs is escaped to a field name and back unchanged."""
    for label in ("client:10.0.0.7", "topic:a$b", "file:/x/100%.jsonl", "key:key_1"):
        assert "." not in escape(label)
        assert "$" not in escape(label)
        assert unescape(escape(label)) == label
