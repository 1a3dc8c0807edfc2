// The client against the real gateway process and a real Kafka broker: tenant isolation,
// unsubscribe, error replies, refused tokens (bounded reconnects), token refresh past the
// first token's expiry, and reconnect + resume across a gateway that was killed and
// restarted on the same port. Every wait is bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeEventsClient } from '../src/node.js';
import {
  startBroker, kafkaFixture, startGateway, mintToken, freePort, waitFor, nextEvent, sleep,
} from './env.js';

let broker;
let kafka;
let gateway;
const clients = [];

before(async () => {
  broker = await startBroker();
  kafka = await kafkaFixture(broker.bootstrap);
  gateway = await startGateway({ bootstrap: broker.bootstrap, env: kafka.env });
}, { timeout: 240000 });

after(async () => {
  for (const c of clients) c.close();
  await gateway?.stop();
  await kafka?.stop();
  await broker?.stop();
}, { timeout: 120000 });

/** A client for the shared gateway (closed after the file); quick reconnects. */
function newClient(options = {}) {
  const client = new RealtimeEventsClient({
    url: gateway.url,  // http://127.0.0.1:PORT/ → ws://127.0.0.1:PORT/ws
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 },
    ...options,
  });
  clients.push(client);
  return client;
}

/** Collects a subscription's events as `partition:offset` and values. */
function collect(sub) {
  const events = [];
  sub.on('event', (e) => events.push(e));
  return events;
}

const detail = (events) => () => `received: ${JSON.stringify(events.map((e) => [e.partition, e.offset, e.value]))}\n--- gateway ---\n${gateway.tail(1500)}`;

test('receives its own tenant\'s records only, each once', { timeout: 60000 }, async () => {
  const client = newClient({ token: await mintToken({ sub: 'iso', orgs: ['iso-a'] }) });
  const wire = [];
  client.on('message', (m) => { if (m.type === 'event') wire.push(m); });
  const sub = client.subscribe('payment', { organization_id: 'iso-a' });
  const events = collect(sub);
  const subscribed = await nextEvent(sub, 'subscribed');
  assert.equal(subscribed.recovered, true);

  const mine = [];
  for (let i = 0; i < 9; i++) {
    mine.push(await kafka.produce('payment', 'iso-a', { property_id: '101', seq: i }, i % 3));
    await kafka.produce('payment', 'iso-b', { property_id: '101', seq: i, foreign: true }, i % 3);
  }
  mine.push(await kafka.produce('payment', 'iso-a', { property_id: '101', seq: 'last' }, 0));
  await waitFor(() => events.some((e) => e.value.seq === 'last'), { what: 'the last own record', detail: detail(events) });

  assert.ok(wire.every((e) => e.key.organization_id === 'iso-a' && !e.value.foreign), 'a foreign record reached the socket');
  const got = events.map((e) => `${e.partition}:${e.offset}`).sort();
  assert.deepEqual(got, mine.map((m) => `${m.partition}:${m.offset}`).sort());
  client.close();
});

test('unsubscribe stops delivery', { timeout: 60000 }, async () => {
  const token = await mintToken({ sub: 'unsub', orgs: ['uns-1'] });
  const client = newClient({ token });
  const witness = newClient({ token });
  const sub = client.subscribe('guest', { organization_id: 'uns-1' });
  const wsub = witness.subscribe('guest', { organization_id: 'uns-1' });
  const events = collect(sub);
  const seen = collect(wsub);
  await Promise.all([nextEvent(sub, 'subscribed'), nextEvent(wsub, 'subscribed')]);
  await kafka.produce('guest', 'uns-1', { property_id: '1', n: 1 });
  await waitFor(() => events.length === 1 && seen.length === 1, { what: 'the first record on both', detail: detail(events) });

  const wireAfter = [];
  await sub.unsubscribe();
  assert.equal(sub.state, 'unsubscribed');
  client.on('message', (m) => { if (m.type === 'event') wireAfter.push(m); });
  for (let n = 2; n <= 4; n++) await kafka.produce('guest', 'uns-1', { property_id: '1', n });
  await waitFor(() => seen.length === 4, { what: 'the witness to get the later records', detail: detail(seen) });
  assert.equal(events.length, 1);
  assert.deepEqual(wireAfter, []);
  assert.equal(client.state, 'open');
});

test('error replies: forbidden organization, unknown channel; the connection stays usable', { timeout: 60000 }, async () => {
  const client = newClient({ token: await mintToken({ sub: 'errs', orgs: ['err-1'] }) });
  const clientErrors = [];
  client.on('error', (e) => clientErrors.push(e.code));
  const forbidden = client.subscribe('payment', { organization_id: 'err-2' });
  const unknown = client.subscribe('no-such-channel', { organization_id: 'err-1' });
  const ok = client.subscribe('payment', { organization_id: 'err-1' });
  const [e1, e2] = await Promise.all([nextEvent(forbidden, 'error'), nextEvent(unknown, 'error'), nextEvent(ok, 'subscribed')]);
  assert.equal(e1.code, 'forbidden');
  assert.equal(e2.code, 'unknown_channel');
  assert.equal(forbidden.state, 'failed');
  assert.equal(unknown.state, 'failed');
  assert.deepEqual(clientErrors.sort(), ['forbidden', 'unknown_channel']);
  const events = collect(ok);
  await kafka.produce('payment', 'err-1', { property_id: '1', ok: true });
  await waitFor(() => events.length === 1, { what: 'an event after the errors', detail: detail(events) });
  assert.equal(client.state, 'open');
});

test('a refused token: no reconnect with a static token, bounded backed-off attempts with a token function', { timeout: 60000 }, async () => {
  const bad = await mintToken({ sub: 'bad', orgs: ['x'], secret: 'another-secret-another-secret-another-secret' });

  const fixed = newClient({ token: bad });
  const closes = [];
  const reconnects = [];
  const errors = [];
  fixed.on('close', (c) => closes.push(c));
  fixed.on('reconnecting', (r) => reconnects.push(r));
  fixed.on('error', (e) => errors.push(e.code));
  await assert.rejects(fixed.connect(), /not reconnecting/);
  assert.deepEqual(closes, [{ code: 1008, reason: 'unauthorized', willReconnect: false }]);
  assert.deepEqual(reconnects, []);
  assert.ok(errors.includes('unauthorized'), `errors: ${errors}`);
  assert.equal(fixed.state, 'closed');

  let calls = 0;
  const reconnect = { initialDelayMs: 50, maxDelayMs: 400, factor: 2, jitter: 0.5, maxAuthFailures: 4 };
  const fn = newClient({ token: () => { calls++; return bad; }, reconnect });
  const attempts = [];
  fn.on('reconnecting', (r) => attempts.push(r));
  await assert.rejects(fn.connect(), /refused their token/);
  assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
  attempts.forEach((a, i) => {
    const base = Math.min(400, 50 * 2 ** i);
    assert.ok(a.delayMs >= base / 2 && a.delayMs <= base, `attempt ${a.attempt}: ${a.delayMs} ms`);
  });
  assert.equal(calls, 4, 'one fresh token per connection');
  assert.equal(fn.state, 'closed');
});

test('token refresh: short-lived tokens are replaced before they expire; the connection stays open and events flow', { timeout: 60000 }, async () => {
  const expiries = [];
  const client = newClient({
    token: () => mintToken({ sub: 'refresh', orgs: ['ref-1'], expInS: 3 }),
    refreshTokenBeforeMs: 60000,
  });
  const closes = [];
  client.on('close', (c) => closes.push(c));
  client.on('authenticated', (a) => expiries.push(a.expires));
  const sub = client.subscribe('payment', { organization_id: 'ref-1' });
  const events = collect(sub);
  await nextEvent(sub, 'subscribed');
  const firstExpiry = expiries[0];
  assert.ok(firstExpiry > Date.now(), 'the gateway reports the expiry');

  let n = 0;
  while (Date.now() < firstExpiry + 2000) {
    await kafka.produce('payment', 'ref-1', { property_id: '1', n: n++ });
    await sleep(250);
  }
  await kafka.produce('payment', 'ref-1', { property_id: '1', n: 'after' });
  await waitFor(() => events.some((e) => e.value.n === 'after'), { what: 'a record produced after the first token expired', detail: detail(events) });
  assert.deepEqual(closes, [], 'the connection was never closed');
  assert.ok(expiries.length >= 3, `re-authenticated ${expiries.length - 1} times`);
  assert.ok(expiries.at(-1) > firstExpiry);
  assert.equal(events.length, n + 1);
  assert.equal(client.state, 'open');
  client.close();
});

test('reconnect after the gateway is killed and restarted on the same port: resumes, each record once, in order', { timeout: 120000 }, async () => {
  const port = await freePort();
  let gw = await startGateway({ bootstrap: broker.bootstrap, env: kafka.env, port });
  try {
    const client = newClient({
      url: `http://127.0.0.1:${port}`,
      token: () => mintToken({ sub: 'resume', orgs: ['res-1'] }),
      reconnect: { initialDelayMs: 100, maxDelayMs: 800, factor: 2, jitter: 0.5 },
    });
    const closes = [];
    const opens = [];
    client.on('close', (c) => closes.push(c));
    client.on('open', (o) => opens.push(o));
    const sub = client.subscribe('payment', { organization_id: 'res-1' });
    const subscribed = [];
    sub.on('subscribed', (s) => subscribed.push(s));
    const events = collect(sub);
    await waitFor(() => subscribed.length === 1, { what: 'subscribed' });

    const produced = [];
    const produce = async (phase, i, partition) => {
      const r = await kafka.produce('payment', 'res-1', { property_id: '7', phase, i }, partition);
      produced.push({ ...r, phase, i });
    };
    for (let i = 0; i < 6; i++) await produce('before', i, i % 3);
    await waitFor(() => events.length === 6, { what: 'the records before the kill', detail: detail(events) });

    await gw.kill();
    await waitFor(() => closes.length >= 1, { what: 'the client to notice the dead gateway' });
    assert.equal(closes[0].willReconnect, true);
    for (let i = 0; i < 9; i++) await produce('down', i, i % 3);
    await sleep(300);  // let it retry against the closed port at least once
    gw = await startGateway({ bootstrap: broker.bootstrap, env: kafka.env, port });
    await waitFor(() => subscribed.length === 2, { timeoutMs: 30000, what: 'the resumed subscription', detail: detail(events) });
    assert.equal(subscribed[1].resumed, true);
    assert.equal(subscribed[1].recovered, true);
    assert.equal(opens.at(-1).reconnected, true);
    for (let i = 0; i < 3; i++) await produce('after', i, i % 3);
    await waitFor(() => events.length >= produced.length && events.some((e) => e.value.phase === 'after' && e.value.i === 2),
      { timeoutMs: 30000, what: 'every record', detail: detail(events) });

    for (const p of [0, 1, 2]) {
      const want = produced.filter((r) => r.partition === p).map((r) => `${r.offset}/${r.phase}/${r.i}`);
      const got = events.filter((e) => e.partition === p).map((e) => `${e.offset}/${e.value.phase}/${e.value.i}`);
      assert.deepEqual(got, want, `partition ${p}`);
    }
    assert.equal(events.length, produced.length);
    // Resumed from its positions (`since`): the gateway replays exactly what is missing, so
    // the client had no duplicate to drop at the seam.
    assert.equal(client.stats.duplicatesDropped, 0);
    assert.deepEqual(sub.positions(), Object.fromEntries([0, 1, 2].map((p) => [String(p), Math.max(...produced.filter((r) => r.partition === p).map((r) => r.offset))])));
    client.close();
  } finally {
    await gw.stop();
  }
});
