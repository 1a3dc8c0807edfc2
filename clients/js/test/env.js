// Real processes for the integration tests: a Kafka broker (scripts/kafka/broker), the
// gateway (`$RTE_BINARY serve`), a kafkajs producer and admin, and JWTs minted with jose.
// Every wait is bounded; everything started is stopped by the returned handles.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { SignJWT } from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

export function gatewayBinary() {
  return process.env.RTE_BINARY || path.join(repoRoot, 'build/realtime-events');
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check()` until it returns a truthy value, at most `timeoutMs`; rejects with
 * `what` (and `detail()`) otherwise.
 */
export async function waitFor(check, { timeoutMs = 15000, intervalMs = 25, what = 'condition', detail } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves with the arguments of the next `type` event of `emitter`, or rejects after `timeoutMs`. */
export function nextEvent(emitter, type, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(type, fn);
      reject(new Error(`no '${type}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const fn = (...args) => {
      clearTimeout(timer);
      emitter.off(type, fn);
      resolve(args[0]);
    };
    emitter.on(type, fn);
  });
}

/** A free TCP port on 127.0.0.1 (for a gateway that must come back on the same port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------------------------
// Kafka broker
// ------------------------------------------------------------------------------------

function run(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * A broker for the test file: `$RTE_KAFKA_BOOTSTRAP` when set (left running), else a
 * fresh one from scripts/kafka/broker (stopped and removed by `stop()`).
 */
export async function startBroker() {
  if (process.env.RTE_KAFKA_BOOTSTRAP) {
    return { bootstrap: process.env.RTE_KAFKA_BOOTSTRAP, stop: async () => {} };
  }
  const script = path.join(repoRoot, 'scripts/kafka/broker');
  const out = await run(script, ['start'], 180000);
  const bootstrap = /BOOTSTRAP=(\S+)/.exec(out)?.[1];
  const dir = /DIR=(\S+)/.exec(out)?.[1];
  if (!bootstrap || !dir) throw new Error(`broker start printed no BOOTSTRAP/DIR:\n${out}`);
  return {
    bootstrap,
    dir,
    stop: async () => {
      try { await run(script, ['stop', '--dir', dir], 60000); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    },
  };
}

/**
 * Topics for one test file (unique names, `partitions` each), a producer and helpers.
 * `produce(channel, org, value, partition?)` sends a JSON key {"organization_id": org} and a JSON value.
 */
export async function kafkaFixture(bootstrap, { partitions = 3 } = {}) {
  const kafka = new Kafka({ clientId: 'rte-js-client-tests', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const suffix = crypto.randomBytes(4).toString('hex');
  const topics = { payment: `jsc-${suffix}-payments`, guest: `jsc-${suffix}-guests`, reservation: `jsc-${suffix}-reservations` };
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
  });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    topics,
    partitions,
    env: { PAYMENT_TOPIC: topics.payment, GUEST_TOPIC: topics.guest, RESERVATION_TOPIC: topics.reservation },
    async produce(channel, org, value, partition) {
      const message = { key: JSON.stringify({ organization_id: org }), value: JSON.stringify(value) };
      if (partition !== undefined) message.partition = partition;
      const [meta] = await producer.send({ topic: topics[channel], acks: -1, messages: [message] });
      return { partition: meta.partition, offset: Number(meta.baseOffset) };
    },
    async stop() { await producer.disconnect(); },
  };
}

// ------------------------------------------------------------------------------------
// Tokens
// ------------------------------------------------------------------------------------

export const jwtSecret = crypto.randomBytes(32).toString('hex');  // 64 bytes of text

/** An HS256 JWT for `sub` allowed `orgs`, expiring in `expInS` seconds (from now, whole seconds). */
export async function mintToken({ sub = 'u1', orgs = ['1'], expInS = 300, secret = jwtSecret } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ orgs })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + expInS)
    .sign(new TextEncoder().encode(secret));
}

// ------------------------------------------------------------------------------------
// Gateway
// ------------------------------------------------------------------------------------

const kListening = /realtime-events listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/;

/**
 * Starts `$RTE_BINARY serve` (JWT auth, HS256 with `jwtSecret`, no leeway) and waits for its
 * listening line and /readyz. `port` 0 picks a free one.
 */
export async function startGateway({ bootstrap, env = {}, port = 0, timeoutMs = 60000 } = {}) {
  const bin = gatewayBinary();
  if (!fs.existsSync(bin)) throw new Error(`gateway binary not found: ${bin} (build it, or set RTE_BINARY)`);
  const child = spawn(bin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KAFKA_BOOTSTRAP_SERVER: bootstrap,
      BIND_ADDRESS: '127.0.0.1',
      PORT: String(port),
      AUTH_MODE: 'jwt',
      JWT_ALGORITHMS: 'HS256',
      JWT_SECRET: jwtSecret,
      JWT_LEEWAY: '0',
      KAFKA_METADATA_REFRESH_MS: '1000',
      WORKERS: '2',
      LOG_LEVEL: 'info',
      ...env,
    },
    cwd: here,  // no ./.env from the repository is read
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gw = {
    child,
    output: '',
    url: null,
    exited: null,
    tail: (n = 3000) => gw.output.slice(-n),
    /** SIGKILL (no drain): the clients see the connection drop. */
    async kill() { return gw.stop('SIGKILL'); },
    async stop(signal = 'SIGTERM') {
      if (gw.exited) return gw.exited;
      const done = new Promise((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
      child.kill(signal);
      const t = setTimeout(() => { if (!gw.exited) child.kill('SIGKILL'); }, 15000);
      const res = await done;
      clearTimeout(t);
      return res;
    },
  };
  const onProcessExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onProcessExit);
  child.once('exit', (code, signal) => { gw.exited = { code, signal }; process.removeListener('exit', onProcessExit); });
  const onData = (chunk) => {
    gw.output += chunk.toString('utf8');
    if (gw.output.length > 1 << 20) gw.output = gw.output.slice(-(1 << 19));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  try {
    const m = await waitFor(() => gw.exited ? Promise.reject(new Error(`gateway exited early ${JSON.stringify(gw.exited)}`)) : kListening.exec(gw.output),
      { timeoutMs, what: 'the gateway listening line', detail: () => gw.tail() });
    gw.url = m[1];
    gw.port = Number(m[2]);
    await waitFor(async () => {
      try { return (await fetch(gw.url + 'readyz')).status === 200; } catch { return false; }
    }, { timeoutMs, intervalMs: 100, what: 'gateway /readyz', detail: () => gw.tail() });
  } catch (err) {
    await gw.stop('SIGKILL');
    throw new Error(`${err.message}\n--- gateway output ---\n${gw.tail()}`);
  }
  return gw;
}
