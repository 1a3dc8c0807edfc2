'use strict';
// Benchmark peer (issue 7): the Node.js design of the Kafka -> WebSocket gateway.
//
// One process, one event loop. A kafkajs consumer reads every partition of
// TOPIC from its end (a consumer group of its own, so nothing is split with
// other processes), parses each record once, renders the gateway's event
// message once, and sends the same buffer to every WebSocket of the record's
// organization (Map org -> Set(ws)); a connection that gave property_id only
// gets that property's records. Protocol as docs/protocol.md §1 and §3:
//   ws://127.0.0.1:PORT/getEvents/{channel}?organization_id=O&user_id=U[&property_id=P]
//
// Environment: PORT (5000), KAFKA_BOOTSTRAP_SERVER (127.0.0.1:9092),
// TOPIC (payments), CHANNEL (payment: the only channel served),
// PING_SECONDS (20), QUEUE_CAP_BYTES (4 MiB: a connection with more buffered
// is dropped), MAX_SECONDS (0 = run until SIGTERM).
//
// The HTTP port opens only once the consumer has its partitions and has made
// its first fetch, so every record produced after "listening" is delivered.

const http = require('http');
const { WebSocketServer } = require('ws');
const { Kafka, logLevel } = require('kafkajs');

const PORT = parseInt(process.env.PORT || '5000', 10);
const BOOTSTRAP = (process.env.KAFKA_BOOTSTRAP_SERVER || '127.0.0.1:9092').split(',');
const TOPIC = process.env.TOPIC || 'payments';
const CHANNEL = process.env.CHANNEL || 'payment';
const PING_MS = parseFloat(process.env.PING_SECONDS || '20') * 1000;
const QUEUE_CAP = parseInt(process.env.QUEUE_CAP_BYTES || String(4 << 20), 10);
const MAX_SECONDS = parseFloat(process.env.MAX_SECONDS || '0');
const ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

function log(...args) {
  console.error(new Date().toISOString(), 'peer-node:', ...args);
}

// ------------------------------------------------------------- subscriptions

const byOrg = new Map(); // organization_id -> Set(ws)
let connections = 0;
const stats = { records: 0, deliveries: 0, dropped: 0, skipped: 0 };

function subscribe(ws, org, property) {
  ws.org = org;
  ws.property = property;
  let set = byOrg.get(org);
  if (!set) {
    set = new Set();
    byOrg.set(org, set);
  }
  set.add(ws);
  connections++;
}

function unsubscribe(ws) {
  const set = byOrg.get(ws.org);
  if (!set || !set.delete(ws)) return;
  connections--;
  if (set.size === 0) byOrg.delete(ws.org);
}

// Sends one framed text message to ws; drops a connection that is backed up
// beyond the cap instead of buffering without limit.
function deliver(ws, buf) {
  if (ws.readyState !== 1) return;
  if (ws.bufferedAmount > QUEUE_CAP) {
    stats.dropped++;
    unsubscribe(ws);
    ws.terminate();
    return;
  }
  ws.send(buf, { binary: false });
  stats.deliveries++;
}

// ------------------------------------------------------------- records

function parseJson(buf) {
  if (buf === null || buf === undefined) return null;
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (_) {
    return text; // not JSON: sent as a JSON string, like the gateway
  }
}

function orgOf(key, value) {
  if (key && typeof key === 'object' && key.organization_id !== undefined) return String(key.organization_id);
  if (value && typeof value === 'object' && value.organization_id !== undefined) return String(value.organization_id);
  return null;
}

function handleRecord(topic, partition, message) {
  stats.records++;
  const key = parseJson(message.key);
  const value = parseJson(message.value);
  const org = orgOf(key, value);
  const subs = org === null ? undefined : byOrg.get(org);
  if (!subs) {
    stats.skipped++;
    return;
  }
  // Rendered once per record; the same buffer goes to every recipient.
  const buf = Buffer.from(JSON.stringify({
    type: 'event',
    channel: CHANNEL,
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key,
    value,
  }));
  const property = value && typeof value === 'object' && value.property_id !== undefined
    ? String(value.property_id) : null;
  for (const ws of subs) {
    if (ws.property !== null && ws.property !== property) continue;
    deliver(ws, buf);
  }
}

// ------------------------------------------------------------- WebSocket server

const PING = Buffer.from('{"type":"ping"}');
const PONG = Buffer.from('{"type":"pong"}');

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', connections, ...stats }));
    return;
  }
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  const m = /^\/getEvents\/([^/]+)$/.exec(url.pathname);
  if (!m) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    socket.setNoDelay(true);
    const channel = decodeURIComponent(m[1]);
    const org = url.searchParams.get('organization_id');
    const property = url.searchParams.get('property_id');
    if (channel !== CHANNEL) return ws.close(1008, 'unknown channel');
    if (!org || !ID_RE.test(org)) return ws.close(1008, 'missing or malformed organization_id');
    if (property !== null && !ID_RE.test(property)) return ws.close(1008, 'malformed property_id');
    subscribe(ws, org, property);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'binary frames are not accepted');
      if (data.length < 64 && data.toString() === '{"type":"ping"}') ws.send(PONG, { binary: false });
    });
    ws.on('close', () => unsubscribe(ws));
    ws.on('error', () => unsubscribe(ws));
  });
});

const pingTimer = setInterval(() => {
  for (const set of byOrg.values()) for (const ws of set) deliver(ws, PING);
}, PING_MS);

// ------------------------------------------------------------- Kafka

const kafka = new Kafka({
  clientId: 'rte-peer-node',
  brokers: BOOTSTRAP,
  logLevel: logLevel.WARN,
  retry: { retries: 10 },
});
// A group of its own: this process gets every partition, and a new group
// without committed offsets starts at the end of each partition.
const groupId = `rte-peer-node-${process.pid}-${Date.now()}`;
const consumer = kafka.consumer({
  groupId,
  minBytes: 1,
  maxWaitTimeInMs: 100,
  maxBytes: 10 << 20,
  sessionTimeout: 30000,
});

let listening = false;
function startListening() {
  if (listening) return;
  listening = true;
  server.listen(PORT, '127.0.0.1', () => {
    log(`listening on 127.0.0.1:${PORT} (topic ${TOPIC}, bootstrap ${BOOTSTRAP.join(',')})`);
  });
}

async function main() {
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: false });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    log('assigned', JSON.stringify(e.payload.memberAssignment));
  });
  // The first fetch means the end offsets were resolved: open the port then.
  consumer.on(consumer.events.FETCH, () => startListening());
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const { topic, partition } = batch;
      for (const message of batch.messages) handleRecord(topic, partition, message);
    },
  });
}

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why}): ${JSON.stringify({ connections, ...stats })}`);
  clearInterval(pingTimer);
  server.close();
  for (const set of byOrg.values()) for (const ws of set) ws.terminate();
  const hard = setTimeout(() => process.exit(0), 3000);
  hard.unref();
  try {
    await consumer.disconnect();
  } catch (_) { /* exiting anyway */ }
  process.exit(0);
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (MAX_SECONDS > 0) setTimeout(() => stop('MAX_SECONDS reached'), MAX_SECONDS * 1000).unref();

main().catch((err) => {
  log('fatal:', err && err.stack ? err.stack : err);
  process.exit(1);
});
