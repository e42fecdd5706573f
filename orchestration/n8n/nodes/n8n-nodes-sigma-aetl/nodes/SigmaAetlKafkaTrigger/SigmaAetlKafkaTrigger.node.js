'use strict';
/**
 * SIGMA-AETL Kafka Trigger: starts one workflow execution per message (or per chunk of messages), each
 * item carrying the message's text, topic, partition, offset, key and headers (lib/message.js), and
 * commits a partition's offset only after the execution of its messages finished with status `success`.
 *
 * n8n's own Kafka Trigger v1.x hands a workflow the message, its topic and headers but never its
 * partition or offset, and its v2 needs a client that cannot always be installed; a workflow that sends
 * the coordinates on (X-Kafka-Topic, X-Kafka-Partition, X-Kafka-Offset) lets the gateway identify each
 * message exactly as its own worker does, so a redelivery stores nothing new.
 *
 * Commit after success: offsets are resolved in kafkajs only once the execution's done-promise (the
 * mechanism n8n's own trigger uses) reports `success`, then committed. A failed or interrupted execution
 * leaves its offset unresolved; after the retry delay kafkajs fetches the partition again from the first
 * unresolved message, so nothing is skipped. In manual (editor test) mode the first message is emitted
 * and nothing is committed.
 */
const { loadKafkajs } = require('../../lib/kafkajs');
const { clientConfig, consumerConfig, topics } = require('../../lib/client');
const { messageJson } = require('../../lib/message');

const CLOSE_TIMEOUT_MS = 30000;

const options = [
  {
    displayName: 'Batch Size',
    name: 'batchSize',
    type: 'number',
    default: 1,
    typeOptions: { minValue: 1 },
    description: 'Messages of one partition per execution (one item each); offsets commit per execution',
  },
  {
    displayName: 'Heartbeat Interval',
    name: 'heartbeatInterval',
    type: 'number',
    default: 3000,
    description: 'Milliseconds between heartbeats to the group coordinator, also while an execution runs',
  },
  {
    displayName: 'Message as Binary',
    name: 'binaryMessage',
    type: 'boolean',
    default: false,
    description:
      'Whether to attach the exact message bytes as the binary property "message" (for an HTTP node that sends them as produced, UTF-8 or not)',
  },
  {
    displayName: 'Binary MIME Type',
    name: 'binaryMimeType',
    type: 'string',
    default: 'application/json',
    description: 'The MIME type given to the binary message (the HTTP node sends it as Content-Type)',
    displayOptions: { show: { binaryMessage: [true] } },
  },
  {
    displayName: 'Read From Beginning',
    name: 'fromBeginning',
    type: 'boolean',
    default: true,
    description: 'Whether a group with no committed offset starts at the oldest message (else the newest)',
  },
  {
    displayName: 'Retry Delay',
    name: 'retryDelay',
    type: 'number',
    default: 5000,
    description: 'Milliseconds to wait after a failed execution before its messages are fetched again',
  },
  {
    displayName: 'Session Timeout',
    name: 'sessionTimeout',
    type: 'number',
    default: 30000,
    description: 'Milliseconds without a heartbeat after which the group gives this consumer\'s partitions away',
  },
];

const description = {
  displayName: 'SIGMA-AETL Kafka Trigger',
  name: 'sigmaAetlKafkaTrigger',
  icon: 'fa:stream',
  group: ['trigger'],
  version: 1,
  description: 'Consume Kafka messages with their topic, partition and offset; commit after the run succeeded',
  defaults: { name: 'Kafka Trigger (coordinates)' },
  inputs: [],
  outputs: ['main'],
  credentials: [{ name: 'kafka', required: true }],
  properties: [
    {
      displayName: 'Topic',
      name: 'topic',
      type: 'string',
      default: '',
      required: true,
      placeholder: 'shipments',
      description: 'The topic to consume (several: separated by commas)',
    },
    {
      displayName: 'Group ID',
      name: 'groupId',
      type: 'string',
      default: '',
      required: true,
      placeholder: 'n8n-sigma-aetl',
      description: 'The consumer group whose committed offsets say where to resume',
    },
    { displayName: 'Options', name: 'options', type: 'collection', default: {}, placeholder: 'Add option', options },
  ],
};

/** The trigger's close signal, and one promise that resolves (to undefined) when it fires. */
function closer() {
  const controller = new AbortController();
  const closed = new Promise((resolve) => controller.signal.addEventListener('abort', resolve, { once: true }));
  return { controller, signal: controller.signal, closed: closed.then(() => undefined) };
}

/** Wait for `ms`, or less if the trigger closes meanwhile. */
async function pause(ms, closed) {
  let timer;
  await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), closed]);
  clearTimeout(timer);
}

/** `task`, with `heartbeat` called every `ms` until it settles. */
async function withHeartbeat(task, heartbeat, ms) {
  const timer = setInterval(() => heartbeat().catch(() => undefined), ms);
  try {
    return await task;
  } finally {
    clearInterval(timer);
  }
}

/** A promise that settles as `promise` does, or rejects after `ms`. */
async function bounded(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

class SigmaAetlKafkaTrigger {
  constructor() {
    this.description = description;
  }

  async trigger() {
    const kafkajs = loadKafkajs();
    const settings = this.getNodeParameter('options', {});
    const credentials = await this.getCredentials('kafka');
    const kafka = new kafkajs.Kafka(clientConfig(credentials, kafkajs.logLevel.ERROR));
    const groupId = this.getNodeParameter('groupId');
    const closing = closer();
    const consumer = kafka.consumer({
      ...consumerConfig(groupId, settings),
      retry: { restartOnFailure: async () => !closing.signal.aborted },
    });
    const manual = this.getMode() === 'manual';
    const run = execution(this, settings, closing, manual);
    const eachBatch = batchHandler(this, settings, run, closing.signal, manual);
    const start = async () => {
      await consumer.connect();
      for (const topic of topics(this.getNodeParameter('topic'))) {
        await consumer.subscribe({ topic, fromBeginning: settings.fromBeginning !== false });
      }
      await consumer.run({ autoCommit: true, autoCommitThreshold: 1, eachBatchAutoResolve: false, eachBatch });
    };
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart && !closing.signal.aborted) this.emitError(payload.error);
    });
    const closeFunction = async () => {
      closing.controller.abort();
      await bounded(consumer.disconnect(), CLOSE_TIMEOUT_MS, 'Disconnecting the Kafka consumer');
    };
    if (manual) return { closeFunction, manualTriggerFunction: start };
    await start();
    return { closeFunction };
  }
}

/** Runs one execution of `items`; resolves true once it finished with status `success`. */
function execution(ctx, settings, { signal, closed }, manual) {
  return async (items) => {
    if (signal.aborted) return false;
    if (manual) {
      ctx.emit([items]);
      return false; // an editor test run never moves the group's offsets
    }
    const done = ctx.helpers.createDeferredPromise();
    ctx.emit([items], undefined, done);
    try {
      const outcome = await Promise.race([done.promise, closed]);
      if (outcome?.status === 'success') return true;
      if (outcome) ctx.logger.warn(`SIGMA-AETL Kafka Trigger: execution ended "${outcome.status}", not committed`);
    } catch (error) {
      ctx.logger.warn(`SIGMA-AETL Kafka Trigger: execution failed, not committed: ${error.message}`);
    }
    await pause(settings.retryDelay ?? 5000, closed);
    return false;
  };
}

/** kafkajs's eachBatch: chunks of a partition's messages, each resolved and committed after success. */
function batchHandler(ctx, settings, run, signal, manual) {
  const size = Math.max(1, settings.batchSize ?? 1);
  return async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
    for (let start = 0; start < batch.messages.length; start += size) {
      if (signal.aborted || !isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + size);
      const items = await Promise.all(chunk.map((message) => item(ctx, settings, message, batch)));
      const ok = await withHeartbeat(run(items), heartbeat, settings.heartbeatInterval ?? 3000);
      if (!ok || manual) return; // unresolved: the partition is fetched again from this chunk
      resolveOffset(chunk[chunk.length - 1].offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  };
}

/** The n8n item of one message: its JSON, and its bytes as binary when asked for. */
async function item(ctx, settings, message, batch) {
  const json = messageJson(message, batch.topic, batch.partition);
  if (!settings.binaryMessage) return { json };
  const bytes = message.value ?? Buffer.alloc(0);
  const mime = settings.binaryMimeType || 'application/json';
  return { json, binary: { message: await ctx.helpers.prepareBinaryData(bytes, undefined, mime) } };
}

module.exports = { SigmaAetlKafkaTrigger };
