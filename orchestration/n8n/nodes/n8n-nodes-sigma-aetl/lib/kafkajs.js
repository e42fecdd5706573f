'use strict';
/**
 * kafkajs, found without installing it: this package declares it as an optional peer, because n8n already
 * ships it for its own Kafka nodes. Installed as a package beside kafkajs, plain require() finds it; loaded
 * from a directory named by N8N_CUSTOM_EXTENSIONS (outside n8n's node_modules), it is resolved from n8n's
 * own install: first beside the n8n command, then beside n8n-nodes-base (whose dependency it is).
 */
const { createRequire } = require('node:module');

function fromN8n() {
  const entry = require.main?.filename ?? process.argv[1];
  if (!entry) return undefined;
  const n8nRequire = createRequire(entry);
  try {
    return n8nRequire('kafkajs');
  } catch {
    const base = n8nRequire.resolve('n8n-nodes-base/package.json');
    return createRequire(base)('kafkajs');
  }
}

function loadKafkajs() {
  try {
    return require('kafkajs');
  } catch {
    // not beside this package: n8n's own copy below
  }
  try {
    const found = fromN8n();
    if (found) return found;
  } catch {
    // reported below
  }
  throw new Error(
    'kafkajs was not found beside n8n-nodes-sigma-aetl nor in n8n\'s own install: ' +
      'run the node inside n8n, or install kafkajs next to this package (npm install kafkajs@2)',
  );
}

module.exports = { loadKafkajs };
