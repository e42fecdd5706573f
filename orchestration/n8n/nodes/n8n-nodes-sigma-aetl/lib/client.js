'use strict';
/**
 * The kafkajs client and consumer settings from n8n's own `kafka` credentials (the ones its Kafka nodes
 * use: client id, brokers, SSL with an optional CA, client certificate and key, SASL) and the node's options.
 */

/** A PEM field of the credentials, or undefined when it is empty. */
function pem(value) {
  return typeof value === 'string' && value.trim() ? value : undefined;
}

/** kafkajs's `ssl`: false, true (system CAs), or TLS options when the credentials carry PEM material. */
function ssl(credentials) {
  if (!credentials.ssl) return false;
  const tls = {};
  if (pem(credentials.ca)) tls.ca = [credentials.ca];
  if (pem(credentials.cert)) tls.cert = credentials.cert;
  if (pem(credentials.key)) tls.key = credentials.key;
  if (credentials.allowUnauthorizedCerts === true) tls.rejectUnauthorized = false;
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw new Error('Kafka credentials: a client certificate needs its private key, and a key its certificate');
  }
  return Object.keys(tls).length ? tls : true;
}

/** The kafkajs client configuration. */
function clientConfig(credentials, logLevel) {
  const brokers = String(credentials.brokers ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (!brokers.length) throw new Error('Kafka credentials: no brokers given');
  const config = { clientId: credentials.clientId || 'n8n-sigma-aetl', brokers, ssl: ssl(credentials), logLevel };
  if (credentials.authentication) {
    if (!(credentials.username && credentials.password)) {
      throw new Error('Kafka credentials: authentication needs a username and a password');
    }
    const { username, password, saslMechanism: mechanism } = credentials;
    config.sasl = { username, password, mechanism };
  }
  return config;
}

/** The consumer configuration: the group and its timings. */
function consumerConfig(groupId, options) {
  return {
    groupId,
    sessionTimeout: options.sessionTimeout ?? 30000,
    heartbeatInterval: options.heartbeatInterval ?? 3000,
    rebalanceTimeout: options.rebalanceTimeout ?? 60000,
  };
}

/** The topics named by the node's Topic field (comma-separated). */
function topics(field) {
  const names = String(field ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!names.length) throw new Error('Topic: name at least one topic');
  return names;
}

module.exports = { clientConfig, consumerConfig, topics };
