#!/usr/bin/env node
// An example partner consumer of o2o's domain events, read straight from Kafka (see docs/partner-kafka.md).
//
// Joins a consumer group, reads the topics, decodes each value as the protobuf message its ce_type header names
// (looked up in the o2o descriptor set, so no generated code is needed), and prints one JSON line per event on
// stdout: {topic, partition, offset, key, id, type, time, subject, data}, data in canonical proto3 JSON.
// Delivery is at least once: events already seen in this run (same ce_id) are not printed again. Messages it cannot
// decode (unknown ce_type, missing headers, bad bytes) are reported on stderr and skipped. Offsets are committed
// after the messages were processed. Stops cleanly on SIGINT/SIGTERM, or after MAX_EVENTS events.
//
// Plain Node ESM, no build step: `node examples/partner-consumer/consume.mjs` (README.md lists the variables).
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { setImmediate } from 'node:timers';
import { URL, fileURLToPath } from 'node:url';
import { createFileRegistry, fromBinary, toJson } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Kafka, logLevel } from 'kafkajs';

const DEFAULT_DESCRIPTOR_SET = fileURLToPath(
  new URL('../../services/contracts/descriptors/o2o.binpb', import.meta.url),
);
const CONTENT_TYPE = 'application/protobuf';
const LEVEL_NAMES = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** One JSON line on stderr: everything that is not an event. */
function report(level, msg, fields = {}) {
  process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
}

function fail(message) {
  report('error', message);
  process.exit(2);
}

function readConfig(env) {
  const list = (value) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const bool = (name, fallback) => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
    return fail(`${name} must be true or false, got "${value}"`);
  };
  const prefix = env.TOPIC_PREFIX ?? '';
  const topics = list(env.TOPICS || 'o2o.orders.v1,o2o.delivery.v1').map((t) => `${prefix}${t}`);
  if (topics.length === 0) fail('TOPICS names no topic');

  const positiveInteger = (name, fallback) => {
    if (!env[name]) return fallback;
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0
      ? value
      : fail(`${name} must be a positive integer, got "${env[name]}"`);
  };
  const maxEvents = positiveInteger('MAX_EVENTS', undefined);

  // SASL (SCRAM or PLAIN), when the operator gave you a username and password.
  let sasl;
  if (env.KAFKA_SASL_MECHANISM) {
    const mechanism = env.KAFKA_SASL_MECHANISM.toLowerCase();
    if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
      fail(`KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got "${env.KAFKA_SASL_MECHANISM}"`);
    }
    if (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD) {
      fail('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SASL_MECHANISM is set');
    }
    sasl = { mechanism, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD };
  }

  // TLS, with a client certificate for the mTLS listener (Strimzi KafkaUser with authentication: tls).
  const readPem = (name) => (env[name] ? readFileSync(env[name], 'utf8') : undefined);
  const tlsFiles = { ca: readPem('KAFKA_SSL_CA'), cert: readPem('KAFKA_SSL_CERT'), key: readPem('KAFKA_SSL_KEY') };
  if (Boolean(tlsFiles.cert) !== Boolean(tlsFiles.key)) fail('KAFKA_SSL_CERT and KAFKA_SSL_KEY go together');
  const anyTlsFile = Object.values(tlsFiles).some(Boolean);
  let ssl = bool('KAFKA_SSL', anyTlsFile);
  if (ssl && anyTlsFile) {
    ssl = Object.fromEntries(Object.entries(tlsFiles).filter(([, v]) => v !== undefined));
  }

  return {
    brokers: list(env.KAFKA_BROKERS || '127.0.0.1:9092'),
    clientId: env.KAFKA_CLIENT_ID || 'o2o-partner-consumer-example',
    groupId: env.GROUP_ID || 'partner-acme-example',
    topics,
    fromBeginning: bool('FROM_BEGINNING', true),
    descriptorSet: env.DESCRIPTOR_SET || DEFAULT_DESCRIPTOR_SET,
    maxEvents,
    dedupeWindow: positiveInteger('DEDUPE_WINDOW', 100_000),
    sasl,
    ssl,
    logLevel: logLevel[(env.KAFKA_LOG_LEVEL || 'warn').toUpperCase()] ?? logLevel.WARN,
  };
}

/** The ids of the last `size` events printed: a redelivered event (same ce_id) is recognised and not printed twice. */
function recentIds(size) {
  const ids = new Set();
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.add(id);
      if (ids.size > size) ids.delete(ids.values().next().value);
    },
  };
}

/** Kafka header values are bytes (or arrays of them when repeated): the last value, as UTF-8. */
function headersOf(message) {
  const headers = {};
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return headers;
}

async function main() {
  const config = readConfig(process.env);
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(config.descriptorSet)));
  const seen = recentIds(config.dedupeWindow);
  let printed = 0;
  const maxReached = () => config.maxEvents !== undefined && printed >= config.maxEvents;

  /** Decodes and prints one message; 'printed', 'duplicate' or 'skipped'. Never throws for a bad message. */
  function handle(topic, partition, message) {
    const where = { topic, partition, offset: message.offset };
    const headers = headersOf(message);
    const id = headers.ce_id;
    const type = headers.ce_type;
    if (!id || !type) {
      report('warn', 'not a CloudEvent (ce_id or ce_type missing); skipped', where);
      return 'skipped';
    }
    if (headers['content-type'] && headers['content-type'] !== CONTENT_TYPE) {
      report('warn', `content-type is not ${CONTENT_TYPE}; skipped`, { ...where, id, type });
      return 'skipped';
    }
    if (seen.has(id)) {
      report('info', 'duplicate (ce_id already processed); skipped', { ...where, id, type });
      return 'duplicate';
    }
    // ce_type is the full protobuf name of the value, e.g. o2o.orders.v1.OrderConfirmed.
    const schema = registry.getMessage(type);
    if (!schema) {
      report('warn', 'unknown event type (not in the descriptor set: update it?); skipped', { ...where, id, type });
      return 'skipped';
    }
    let data;
    try {
      data = toJson(schema, fromBinary(schema, message.value ?? new Uint8Array()), { registry });
    } catch (error) {
      report('warn', `value does not decode as ${type}; skipped`, { ...where, id, type, error: String(error) });
      return 'skipped';
    }
    const event = {
      topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString('utf8') : null,
      id,
      type,
      time: headers.ce_time ?? null,
      subject: headers.ce_subject ?? null,
      data,
    };
    process.stdout.write(`${JSON.stringify(event)}\n`);
    seen.add(id);
    printed++;
    return 'printed';
  }

  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl,
    logLevel: config.logLevel,
    // stdout carries the events only: kafkajs's own log lines go to stderr.
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, ...rest } = log;
        delete rest.timestamp; // the line is about kafkajs, not when it was written
        report(LEVEL_NAMES[level] ?? 'info', message, { namespace, ...rest });
      },
  });
  const consumer = kafka.consumer({
    groupId: config.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 1_000,
  });

  let stopping;
  const stop = (why) => {
    stopping ??= (async () => {
      report('info', `stopping (${why})`, { printed });
      await consumer.disconnect();
      report('info', 'stopped', { printed });
    })();
    return stopping;
  };

  const stopFailed = (error) => {
    report('error', 'could not stop cleanly', { error: String(error) });
    process.exitCode = 1;
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopping) {
        report('warn', `${signal} again: exiting without waiting`);
        process.exit(130);
      }
      stop(signal).catch(stopFailed);
    });
  }
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return; // kafkajs rejoins the group and resumes from the last commit
    report('error', 'consumer stopped for good', { error: String(payload.error) });
    process.exitCode = 1;
    stop('crashed').catch(stopFailed);
  });

  await consumer.connect();
  await consumer.subscribe({ topics: config.topics, fromBeginning: config.fromBeginning });
  report('info', 'consuming', { groupId: config.groupId, topics: config.topics, brokers: config.brokers });

  await consumer.run({
    autoCommit: false, // committed below, after the messages were processed
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      let next; // offset to commit: the one after the last processed message
      for (const message of batch.messages) {
        // Stopping, or the partition was revoked/reset by a rebalance: what is not committed is redelivered.
        if (stopping || maxReached() || !isRunning() || isStale()) break;
        handle(batch.topic, batch.partition, message);
        resolveOffset(message.offset); // processed: the next fetch starts after it
        next = (BigInt(message.offset) + 1n).toString();
        await heartbeat();
      }
      if (next !== undefined) {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
      if (maxReached() && !stopping) {
        // disconnect() waits for this batch to finish, so it is called after it returns.
        setImmediate(() => stop(`MAX_EVENTS=${config.maxEvents} reached`).catch(stopFailed));
      }
    },
  });
}

main().catch((error) => {
  const fields = { error: error instanceof Error ? error.message : String(error) };
  if (error?.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    fields.hint = 'a topic in TOPICS (with TOPIC_PREFIX) does not exist, or your user may not describe it';
  }
  report('error', 'consumer failed', fields);
  process.exit(1);
});
