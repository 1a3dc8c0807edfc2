'use strict';
// A real Apache Kafka broker for the browser tests: scripts/kafka/broker (single-node KRaft on free
// loopback ports, from the jars scripts/kafka/fetch caches) started and stopped as a process, and a
// kafkajs admin and producer for topics and JSON records. Every step has a time bound.
const { execFile } = require('node:child_process');
const path = require('node:path');
const { Kafka, Partitioners, logLevel } = require('kafkajs');

const kBrokerScript = path.resolve(__dirname, '../../../scripts/kafka/broker');

function run(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(kBrokerScript, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${kBrokerScript} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
        return;
      }
      const out = {};
      for (const line of stdout.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
      }
      resolve(out);
    });
  });
}

class Broker {
  constructor(bootstrap, dir) {
    this.bootstrap = bootstrap;
    this.dir = dir;
    this.kafka = new Kafka({ clientId: 'rte-e2e', brokers: [bootstrap], logLevel: logLevel.ERROR,
                             retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 } });
    this.producer = null;
  }

  // Creates the topics ({name: partitions}) and waits until their leaders are known.
  async createTopics(topics) {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30000,
        topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })),
      });
    } finally {
      await admin.disconnect();
    }
  }

  // Produces records [{topic, partition, key, value}] (key and value as JSON), acknowledged by the
  // broker; returns [{topic, partition, offset}] in the same order.
  async produce(records) {
    if (!this.producer) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await this.producer.connect();
    }
    const byTopic = new Map();
    for (const r of records) {
      if (!byTopic.has(r.topic)) byTopic.set(r.topic, []);
      byTopic.get(r.topic).push({ partition: r.partition, key: JSON.stringify(r.key), value: JSON.stringify(r.value) });
    }
    const result = await this.producer.sendBatch({
      acks: -1,
      timeout: 30000,
      topicMessages: Array.from(byTopic, ([topic, messages]) => ({ topic, messages })),
    });
    return result;
  }

  async stop() {
    if (this.producer) await this.producer.disconnect().catch(() => {});
    this.producer = null;
    await run(['stop', '--dir', this.dir], 90000);
  }
}

// Starts a fresh broker; resolves once it answers metadata.
async function startBroker({ timeoutMs = 180000 } = {}) {
  const out = await run(['start'], timeoutMs);
  if (!out.BOOTSTRAP || !out.DIR) throw new Error(`broker start printed no BOOTSTRAP/DIR: ${JSON.stringify(out)}`);
  return new Broker(out.BOOTSTRAP, out.DIR);
}

module.exports = { startBroker };
