'use strict';
/**
 * One Kafka message as an n8n item: the value as text, its coordinates, key and headers.
 *
 * Text is never a lossy decoding. A value that is valid UTF-8 is given as the string it spells (unchanged:
 * spacing, key order, number spelling); one that is not is given as null with `messageUtf8: false`, and its
 * exact bytes are in the item's binary property `message` when the node's "Message as Binary" option is on
 * (the shipped ingest workflow sends that binary, so the gateway receives the bytes as produced, invalid
 * ones included). Keys and header values follow the same rule (a repeated header: an array of them). The
 * offset is a decimal string: offsets go to 2^63 - 1, past what a JavaScript number holds exactly.
 */
const { TextDecoder } = require('node:util');

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as a string when they are valid UTF-8; null when absent or not UTF-8. */
function text(bytes) {
  if (bytes === null || bytes === undefined) return null;
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** Whether the bytes (absent counts as valid) decode as UTF-8 without loss. */
function isUtf8(bytes) {
  return bytes === null || bytes === undefined || text(bytes) !== null;
}

/** The message's headers as text; a header the message repeats is an array of its values, in order. */
function headers(raw) {
  const decoded = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    decoded[name] = Array.isArray(value) ? value.map(text) : text(value);
  }
  return decoded;
}

/** The item's JSON for a kafkajs message read from topic and partition. */
function messageJson(message, topic, partition) {
  return {
    message: text(message.value),
    messageUtf8: isUtf8(message.value),
    topic,
    partition,
    offset: String(message.offset),
    key: text(message.key),
    headers: headers(message.headers),
    timestamp: String(message.timestamp),
  };
}

module.exports = { messageJson, text };
