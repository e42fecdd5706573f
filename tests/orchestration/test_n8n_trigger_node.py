"""Our n8n trigger node (``orchestration/n8n/nodes/n8n-nodes-sigma-aetl``) run by plain node, outside n8n:
it loads as n8n's custom-directory loader loads a node (the class named as its file), the package and the
shipped workflow name it, a Kafka message becomes the item the workflow reads, n8n's ``kafka``
credentials become the client's settings, and without kafkajs it says how to get it.

A fraction of a second; the node inside a real n8n is in test_n8n_ingest_coordinates_workflow.py.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from n8n_support import install_dir, node_binary

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "orchestration" / "n8n" / "nodes" / "n8n-nodes-sigma-aetl"
WORKFLOW = ROOT / "orchestration" / "n8n" / "ingest-coordinates-workflow.json"


def node() -> str:
    """A node binary: the machine's, else the one of the cached n8n install."""
    found = shutil.which("node")
    if found is None and node_binary(install_dir()).exists():
        found = str(node_binary(install_dir()))
    if found is None:
        pytest.fail("node is not installed: apt-get install nodejs (or warm the n8n cache: n8n_support.py)")
    return found


def evaluate(script: str) -> Any:
    """What ``script`` (run by node in the package's directory) prints as JSON."""
    done = subprocess.run(
        [node(), "-e", script], cwd=PACKAGE, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_package_and_the_workflow_name_the_node_n8n_loads() -> None:
    """Each file package.json declares exports the class its file is named for, a trigger on n8n's
    ``kafka`` credentials, whose custom-node type is the one the shipped workflow uses."""
    declared = json.loads((PACKAGE / "package.json").read_text())["n8n"]["nodes"]
    assert declared
    for path in declared:
        class_name = Path(path).name.split(".")[0]
        script = (
            f"const n = new (require('./{path}').{class_name})(); console.log(JSON.stringify(n.description))"
        )
        description = evaluate(script)
        assert description["group"] == ["trigger"]
        assert description["credentials"] == [{"name": "kafka", "required": True}]
        types = {node["type"] for node in json.loads(WORKFLOW.read_text())["nodes"]}
        assert f"CUSTOM.{description['name']}" in types


MESSAGES = """
const { messageJson } = require('./lib/message');
const b = (text) => Buffer.from(text, 'latin1');
console.log(JSON.stringify([
  messageJson({ value: b('{"a" :  1.50 }'), key: b('k'), offset: '9223372036854775807',
                timestamp: '1700000000000',
                headers: { one: b('x'), twice: [b('1'), b('2')], bad: b('\\xff') } }, 'shipments', 3),
  messageJson({ value: b('{"a": "\\xff"}'), key: null, offset: '0', timestamp: '1', headers: {} }, 't', 0),
  messageJson({ value: null, key: b('\\xfe'), offset: '1', timestamp: '1' }, 't', 0),
]));
"""


def test_a_message_becomes_the_item_the_workflow_reads() -> None:
    """The value is its text unchanged only when it is UTF-8 (else null, and said so, never a lossy
    decoding), the offset a decimal string however large, a repeated header an array of its values."""
    utf8, not_utf8, tombstone = evaluate(MESSAGES)
    assert utf8 == {
        "message": '{"a" :  1.50 }',
        "messageUtf8": True,
        "topic": "shipments",
        "partition": 3,
        "offset": "9223372036854775807",
        "key": "k",
        "headers": {"one": "x", "twice": ["1", "2"], "bad": None},
        "timestamp": "1700000000000",
    }
    assert (not_utf8["message"], not_utf8["messageUtf8"], not_utf8["key"]) == (None, False, None)
    assert (tombstone["message"], tombstone["messageUtf8"], tombstone["key"], tombstone["headers"]) == (
        None,
        True,
        None,
        {},
    )


CLIENT = """
const { clientConfig, topics } = require('./lib/client');
const attempt = (f) => { try { return f(); } catch (e) { return { error: e.message }; } };
console.log(JSON.stringify([
  clientConfig({ clientId: 'n8n', brokers: ' a:9092, b:9092 ,', ssl: false }, 1),
  clientConfig({ brokers: 'a:9092', ssl: true, authentication: true, username: 'u', password: 'p',
                 saslMechanism: 'scram-sha-512' }, 1),
  attempt(() => clientConfig({ brokers: 'a:9092', ssl: true, cert: '-----BEGIN CERTIFICATE-----' }, 1)),
  attempt(() => clientConfig({ brokers: ' ' }, 1)),
  topics('shipments, orders'),
]));
"""


def test_n8ns_kafka_credentials_become_the_clients_settings() -> None:
    """Brokers are split and trimmed, SSL and SASL follow the credentials, and an incomplete credential is
    refused with the reason rather than sent to the broker."""
    plain, sasl, half_tls, no_brokers, names = evaluate(CLIENT)
    assert plain == {"clientId": "n8n", "brokers": ["a:9092", "b:9092"], "ssl": False, "logLevel": 1}
    assert (sasl["ssl"], sasl["sasl"]) == (
        True,
        {"username": "u", "password": "p", "mechanism": "scram-sha-512"},
    )
    assert "needs its private key" in half_tls["error"]
    assert "no brokers" in no_brokers["error"]
    assert names == ["shipments", "orders"]


def test_without_kafkajs_the_node_says_how_to_get_it() -> None:
    """Outside n8n, with no kafkajs beside the package, loading the client fails naming the fix."""
    script = (
        "try { require('./lib/kafkajs').loadKafkajs(); console.log('null') }"
        " catch (e) { console.log(JSON.stringify(e.message)) }"
    )
    assert "npm install kafkajs" in evaluate(script)
