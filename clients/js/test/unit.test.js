// Unit tests of the client against an in-memory WebSocket and manual timers: backoff and
// jitter, reconnect/resume messages, dedupe at the seam, gaps, close-code policy, heartbeat,
// token refresh scheduling, routing, URLs and the admin client. No real waiting.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeEventsClient, AdminClient, backoffDelay, websocketUrl } from '../src/index.js';
import { FakeWebSocket, FakeTimers, flush } from './fakes.js';

beforeEach(() => FakeWebSocket.reset());

function setup(options = {}) {
  const timers = new FakeTimers();
  const log = [];
  const client = new RealtimeEventsClient({
    url: 'ws://gw.test/ws',
    WebSocket: FakeWebSocket,
    timers,
    random: () => 0.5,
    ...options,
  });
  for (const type of ['open', 'close', 'reconnecting', 'error', 'gap', 'authenticated', 'status']) {
    client.on(type, (info) => log.push([type, info]));
  }
  return { client, timers, log, of: (type) => log.filter((e) => e[0] === type).map((e) => e[1]) };
}

/** Opens the newest fake socket and answers its auth. */
async function accept(user = 'u1', expires = null) {
  await flush();
  const ws = FakeWebSocket.last();
  ws.accept();
  const auth = ws.sentOfType('auth').at(-1);
  if (auth) ws.deliver({ type: 'authenticated', id: auth.id, user, expires });
  return ws;
}

const ev = (partition, offset, value = {}, org = '1', channel = 'payment') => ({
  type: 'event', channel, topic: 'payments', partition, offset, timestamp: 1, key: { organization_id: org }, value,
});

test('backoffDelay: exponential, capped, jitter within [base*(1-jitter), base]', () => {
  const opts = { initialDelayMs: 500, maxDelayMs: 30000, factor: 2, jitter: 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(a, opts, () => 0)),
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.deepEqual([1, 2, 3].map((a) => backoffDelay(a, opts, () => 0.999999)), [250, 500, 1000]);
  assert.equal(backoffDelay(3, { ...opts, jitter: 0 }, () => 0.7), 2000);
  assert.equal(backoffDelay(2, { ...opts, jitter: 1 }, () => 0.5), 500);
  // Bounds over many draws.
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let a = 1; a <= 12; a++) {
    const base = Math.min(30000, 500 * 2 ** (a - 1));
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(a, opts, rnd);
      assert.ok(d >= base * 0.5 - 1 && d <= base, `attempt ${a}: ${d} outside [${base / 2}, ${base}]`);
    }
  }
  // Defaults and odd input.
  assert.equal(backoffDelay(1, undefined, () => 0), 500);
  assert.equal(backoffDelay(0, {}, () => 0), 500);
  assert.equal(backoffDelay(1, {}, () => NaN), 500);
});

test('reconnect: backoff delays follow the injected random and reset after a successful open', async () => {
  const draws = [0, 0.5, 0.999999, 0.25];
  const { client, timers, of } = setup({ token: 't', random: () => draws.shift() ?? 0, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
  client.connect().catch(() => {});
  await flush();
  FakeWebSocket.last().drop(1006);   // refused
  assert.deepEqual(of('reconnecting').at(-1), { attempt: 1, delayMs: 100 });
  assert.equal(client.state, 'reconnecting');
  timers.advance(100); await flush();
  FakeWebSocket.last().drop(1006);
  assert.deepEqual(of('reconnecting').at(-1), { attempt: 2, delayMs: 150 });
  timers.advance(150); await flush();
  FakeWebSocket.last().drop(1006);
  assert.deepEqual(of('reconnecting').at(-1), { attempt: 3, delayMs: 200 });
  timers.advance(200);
  const ws = await accept();
  assert.equal(client.state, 'open');
  assert.equal(of('open').length, 1);
  ws.drop(1001, 'server shutting down; reconnect');
  assert.deepEqual(of('close').at(-1), { code: 1001, reason: 'server shutting down; reconnect', willReconnect: true });
  assert.deepEqual(of('reconnecting').at(-1), { attempt: 1, delayMs: 88 });  // reset: 100 × (1 − 0.5 × 0.25)
  assert.equal(FakeWebSocket.instances.length, 4);
  client.close();
  assert.equal(client.state, 'closed');
  timers.advance(60000); await flush();
  assert.equal(FakeWebSocket.instances.length, 4, 'no reconnect after close()');
});

test('auth first, subscribes queued until authenticated; token never in the URL', async () => {
  const { client } = setup({ token: 'secret-token' });
  const sub = client.subscribe('payment', { organization_id: 42, property_id: 7 });
  assert.equal(sub.state, 'pending');
  await flush();
  const ws = FakeWebSocket.last();
  assert.equal(ws.url, 'ws://gw.test/ws');
  ws.accept();
  assert.deepEqual(ws.sent.map((m) => m.type), ['auth']);
  assert.equal(ws.sent[0].token, 'secret-token');
  ws.deliver({ type: 'authenticated', id: ws.sent[0].id, user: 'u1', expires: null });
  assert.equal(ws.sent[1].type, 'subscribe');
  assert.deepEqual(ws.sent[1].filter, { organization_id: '42', property_id: '7' });
  assert.equal('since' in ws.sent[1] || 'since_time' in ws.sent[1], false);
  assert.equal(sub.state, 'subscribing');
  ws.deliver({ type: 'subscribed', id: ws.sent[1].id, channel: 'payment', recovered: true, replayed: 0 });
  assert.equal(sub.state, 'active');
  assert.equal(client.user, 'u1');
  assert.equal(client.subscribe('payment', { organization_id: '42', property_id: '7' }), sub, 'same channel+filter: same Subscription');
  client.close();
});

test('resume: since = positions seen; dedupe drops offsets already seen at the seam', async () => {
  const { client, timers, of } = setup({ token: () => 'fresh', reconnect: { initialDelayMs: 10, jitter: 0 } });
  const sub = client.subscribe('payment', { organization_id: '1' });
  const got = [];
  sub.on('event', (e) => got.push(`${e.partition}:${e.offset}`));
  const subscribed = [];
  sub.on('subscribed', (s) => subscribed.push(s));
  let ws = await accept();
  let req = ws.sentOfType('subscribe')[0];
  ws.deliver({ type: 'subscribed', id: req.id, channel: 'payment', recovered: true, replayed: 0 });
  for (const [p, o] of [[0, 5], [1, 3], [0, 6], [0, 7], [1, 4]]) ws.deliver(ev(p, o));
  ws.deliver(ev(0, 6));  // a duplicate on the same connection is dropped too
  assert.deepEqual(sub.positions(), { 0: 7, 1: 4 });
  assert.deepEqual(client.positions(), { payment: { 0: 7, 1: 4 } });
  ws.drop(1006);
  assert.equal(sub.state, 'pending');
  timers.advance(10);
  ws = await accept();
  req = ws.sentOfType('subscribe')[0];
  assert.deepEqual(req.since, { 0: 7, 1: 4 });
  assert.equal(req.since_time, undefined);
  ws.deliver({ type: 'subscribed', id: req.id, channel: 'payment', recovered: true, replayed: 4 });
  // The replay overlaps what was seen (0:6, 0:7, 1:4): only new offsets get through.
  for (const [p, o] of [[0, 6], [0, 7], [0, 8], [1, 4], [1, 5], [0, 9]]) ws.deliver(ev(p, o));
  assert.deepEqual(got, ['0:5', '1:3', '0:6', '0:7', '1:4', '0:8', '1:5', '0:9']);
  assert.equal(client.stats.duplicatesDropped, 4);
  assert.deepEqual(subscribed.map((s) => [s.recovered, s.resumed]), [[true, false], [true, true]]);
  assert.equal(of('open').at(-1).reconnected, true);
  client.close();
});

test('resume: a subscription that saw nothing resumes with since_time = when it subscribed; given since/since_time are kept', async () => {
  const { client, timers } = setup({ reconnect: { initialDelayMs: 10, jitter: 0 } });
  const t0 = timers.now();
  const a = client.subscribe('payment', { organization_id: '1' });
  const b = client.subscribe('guest', { organization_id: '1' }, { since: { 2: 40 } });
  const c = client.subscribe('reservation', { organization_id: '1' }, { since_time: 12345 });
  let ws = await accept();  // no token: ready at once
  let subs = ws.sentOfType('subscribe');
  assert.deepEqual(subs.map((m) => [m.channel, m.since, m.since_time]),
    [['payment', undefined, undefined], ['guest', { 2: 40 }, undefined], ['reservation', undefined, 12345]]);
  for (const m of subs) ws.deliver({ type: 'subscribed', id: m.id, channel: m.channel, recovered: true, replayed: 0 });
  timers.advance(5000);
  ws.drop(1006);
  timers.advance(10);
  ws = await accept();
  subs = ws.sentOfType('subscribe');
  assert.deepEqual(subs.map((m) => [m.channel, m.since, m.since_time]),
    [['payment', undefined, t0], ['guest', { 2: 40 }, undefined], ['reservation', undefined, 12345]]);
  assert.deepEqual([a.state, b.state, c.state], ['subscribing', 'subscribing', 'subscribing']);
  client.close();
});

test('gap: surfaced to the app; positions keep tracking events after it (the hole is not re-fetched on resume)', async () => {
  const { client, timers, of } = setup({ reconnect: { initialDelayMs: 10, jitter: 0 } });
  const sub = client.subscribe('payment', { organization_id: '1' });
  const gaps = [];
  sub.on('gap', (g) => gaps.push(g));
  let ws = await accept();
  const req = ws.sentOfType('subscribe')[0];
  ws.deliver({ type: 'subscribed', id: req.id, channel: 'payment', recovered: true, replayed: 0 });
  ws.deliver(ev(0, 10));
  const gap = { type: 'gap', channel: 'payment', dropped: 40, partitions: { 0: { from: 11, to: 50 } }, since: { 0: 10 } };
  ws.deliver(gap);
  ws.deliver(ev(0, 51));
  assert.deepEqual(gaps, [gap]);
  assert.deepEqual(of('gap'), [gap]);
  assert.deepEqual(sub.positions(), { 0: 51 });
  ws.drop(1006);
  timers.advance(10);
  ws = await accept();
  assert.deepEqual(ws.sentOfType('subscribe')[0].since, { 0: 51 });
  client.close();
});

test('close codes: policy closes stop, 1001/1006/1011/1013 reconnect, expired token reconnects with a fresh token', async () => {
  for (const [code, reason, again] of [[1001, 'idle timeout', true], [1011, '', true], [1013, 'slow consumer', true],
    [1006, '', true], [1008, 'command rate exceeded', false], [1002, 'protocol error', false], [1009, 'too big', false]]) {
    FakeWebSocket.reset();
    const { client, of } = setup({ token: 'static' });
    client.connect().catch(() => {});
    const ws = await accept();
    ws.drop(code, reason);
    assert.equal(of('close').at(-1).willReconnect, again, `${code} ${reason}`);
    assert.equal(of('reconnecting').length, again ? 1 : 0, `${code}`);
    assert.equal(client.state, again ? 'reconnecting' : 'closed');
    if (!again) assert.equal(of('error').at(-1).code, 'closed');
    client.close();
  }

  // Static token that expired: nothing fresh to send, so no reconnect.
  FakeWebSocket.reset();
  let s = setup({ token: 'static' });
  s.client.connect().catch(() => {});
  (await accept()).drop(1008, 'token expired');
  assert.equal(s.of('close').at(-1).willReconnect, false);
  s.client.close();

  // Token function: a fresh token on the new connection.
  FakeWebSocket.reset();
  let n = 0;
  s = setup({ token: () => `tok-${++n}`, reconnect: { initialDelayMs: 10, jitter: 0 } });
  s.client.connect().catch(() => {});
  (await accept()).drop(1008, 'token expired');
  assert.equal(s.of('close').at(-1).willReconnect, true);
  s.timers.advance(10);
  const ws2 = await accept();
  assert.equal(ws2.sentOfType('auth')[0].token, 'tok-2');
  s.client.close();
});

test('a refused token: no reconnect with a static token; bounded attempts with a token function', async () => {
  let s = setup({ token: 'bad' });
  const opened = s.client.connect();
  await flush();
  let ws = FakeWebSocket.last();
  ws.accept();
  ws.deliver({ type: 'error', id: ws.sentOfType('auth')[0].id, code: 'unauthorized', message: 'bad signature' });
  ws.drop(1008, 'unauthorized');
  await assert.rejects(opened, (e) => /not reconnecting/.test(e.message) && e.code === 1008 && e.reason === 'unauthorized');
  assert.equal(s.of('reconnecting').length, 0);
  assert.deepEqual(s.of('close'), [{ code: 1008, reason: 'unauthorized', willReconnect: false }]);
  assert.deepEqual(s.of('error').map((e) => e.code), ['unauthorized', 'closed']);

  FakeWebSocket.reset();
  s = setup({ token: () => 'bad', reconnect: { initialDelayMs: 10, jitter: 0, maxAuthFailures: 3 } });
  const p = s.client.connect();
  for (let i = 0; i < 10 && s.client.state !== 'closed'; i++) {
    await flush();
    ws = FakeWebSocket.last();
    ws.accept();
    ws.deliver({ type: 'error', id: ws.sentOfType('auth')[0].id, code: 'unauthorized', message: 'bad signature' });
    ws.drop(1008, 'unauthorized');
    s.timers.advance(1000);
  }
  await assert.rejects(p);
  assert.deepEqual(s.of('reconnecting'), [{ attempt: 1, delayMs: 10 }, { attempt: 2, delayMs: 20 }]);
  assert.equal(FakeWebSocket.instances.length, 3);
  assert.equal(s.of('close').at(-1).willReconnect, false);
});

test('heartbeat: pings every interval; nothing received for deadAfterMs drops and reopens', async () => {
  const { client, timers, of } = setup({ pingIntervalMs: 1000, reconnect: { initialDelayMs: 10, jitter: 0 } });
  client.connect().catch(() => {});
  const ws = await accept();
  timers.advance(1000);
  timers.advance(1000);
  assert.equal(ws.sentOfType('ping').length, 2);
  ws.deliver({ type: 'ping' });  // traffic re-arms the dead timer
  timers.advance(2500);
  assert.equal(of('reconnecting').length, 0);
  timers.advance(600);  // 3000 ms since the last message
  assert.equal(ws.terminated, true);
  assert.equal(of('error').at(-1).code, 'no_traffic');
  assert.deepEqual(of('close').at(-1), { code: 1006, reason: 'no traffic', willReconnect: true });
  timers.advance(10);
  await flush();
  assert.equal(FakeWebSocket.instances.length, 2);
  client.close();
});

test('token refresh: re-auth refreshTokenBeforeMs before expiry (half the lifetime for short tokens)', async () => {
  let n = 0;
  const { client, timers, of } = setup({ token: () => `tok-${++n}`, refreshTokenBeforeMs: 60000, pingIntervalMs: 1e9 });
  client.connect().catch(() => {});
  await flush();
  const ws = FakeWebSocket.last();
  ws.accept();
  ws.deliver({ type: 'authenticated', id: ws.sentOfType('auth')[0].id, user: 'u1', expires: timers.now() + 600000 });
  timers.advance(539000); await flush();
  assert.equal(ws.sentOfType('auth').length, 1);
  timers.advance(1000); await flush();
  const auths = ws.sentOfType('auth');
  assert.equal(auths.length, 2);
  assert.equal(auths[1].token, 'tok-2');
  // A 3-second token: refreshed halfway.
  ws.deliver({ type: 'authenticated', id: auths[1].id, user: 'u1', expires: timers.now() + 3000 });
  timers.advance(1499); await flush();
  assert.equal(ws.sentOfType('auth').length, 2);
  timers.advance(1); await flush();
  assert.equal(ws.sentOfType('auth').length, 3);
  assert.equal(of('authenticated').length, 2);
  assert.equal(of('close').length, 0);
  client.close();
});

test('routing: several subscriptions of one channel get their own events, each once', async () => {
  const { client } = setup();
  const a = client.subscribe('payment', { organization_id: '1' });
  const b = client.subscribe('payment', { organization_id: '2' });
  const a7 = client.subscribe('payment', { organization_id: '1', property_id: '7' });
  const got = { a: [], b: [], a7: [], all: [] };
  a.on('event', (e) => got.a.push(e.offset));
  b.on('event', (e) => got.b.push(e.offset));
  a7.on('event', (e) => got.a7.push(e.offset));
  client.on('event', (e, sub) => got.all.push([e.offset, sub === a ? 'a' : sub === b ? 'b' : 'a7']));
  const ws = await accept();
  for (const m of ws.sentOfType('subscribe')) ws.deliver({ type: 'subscribed', id: m.id, channel: 'payment', recovered: true, replayed: 0 });
  ws.deliver(ev(0, 1, { property_id: '3' }, '1'));
  ws.deliver(ev(0, 2, { property_id: '3' }, 2));
  ws.deliver(ev(0, 3, { property_id: '7' }, '1'));  // matches a and a7: the gateway sends it twice
  ws.deliver(ev(0, 3, { property_id: '7' }, '1'));
  assert.deepEqual(got.a, [1, 3]);
  assert.deepEqual(got.b, [2]);
  assert.deepEqual(got.a7, [3]);
  assert.equal(got.all.length, 4);
  client.close();
});

test('unsubscribe stops delivery at once; subscribe errors fail the subscription', async () => {
  const { client, of } = setup();
  const sub = client.subscribe('payment', { organization_id: '1' });
  const bad = client.subscribe('nope', { organization_id: '1' });
  const errors = [];
  bad.on('error', (e) => errors.push(e.code));
  const got = [];
  sub.on('event', (e) => got.push(e.offset));
  const ws = await accept();
  const [s1, s2] = ws.sentOfType('subscribe');
  ws.deliver({ type: 'subscribed', id: s1.id, channel: 'payment', recovered: true, replayed: 0 });
  ws.deliver({ type: 'error', id: s2.id, code: 'unknown_channel', message: 'unknown channel "nope"' });
  assert.deepEqual(errors, ['unknown_channel']);
  assert.equal(bad.state, 'failed');
  assert.equal(of('error').at(-1).code, 'unknown_channel');
  ws.deliver(ev(0, 1));
  const done = sub.unsubscribe();
  ws.deliver(ev(0, 2));  // in flight before the gateway saw the unsubscribe
  const u = ws.sentOfType('unsubscribe')[0];
  assert.deepEqual([u.channel, u.filter], ['payment', { organization_id: '1' }]);
  ws.deliver({ type: 'unsubscribed', id: u.id, channel: 'payment' });
  await done;
  assert.equal(sub.state, 'unsubscribed');
  assert.deepEqual(got, [1]);
  assert.deepEqual(client.subscriptions(), []);
  client.close();
});

test('urls: http(s) and bare hosts map to /ws; other schemes are refused', () => {
  assert.equal(websocketUrl('http://h:5000'), 'ws://h:5000/ws');
  assert.equal(websocketUrl('https://h/'), 'wss://h/ws');
  assert.equal(websocketUrl('ws://h:5000/ws'), 'ws://h:5000/ws');
  assert.equal(websocketUrl('wss://h/custom/ws'), 'wss://h/custom/ws');
  assert.throws(() => websocketUrl('ftp://h'), /unsupported URL scheme/);
  assert.throws(() => new RealtimeEventsClient({}), /url is required/);
});

test('AdminClient: bearer token, query string, errors with status', async () => {
  const calls = [];
  const reply = { status: 200, body: '{"connections":3}' };
  const fetch = async (url, init) => {
    calls.push([url, init.headers.Authorization]);
    return { ok: reply.status < 300, status: reply.status, text: async () => reply.body, json: async () => JSON.parse(reply.body) };
  };
  const admin = new AdminClient({ baseUrl: 'http://gw.test:5000/', token: 'adm', fetch });
  assert.deepEqual(await admin.summary(), { connections: 3 });
  await admin.clients({ sort: 'queue', limit: 5 });
  assert.deepEqual(calls, [
    ['http://gw.test:5000/api/admin/summary', 'Bearer adm'],
    ['http://gw.test:5000/api/admin/clients?sort=queue&limit=5', 'Bearer adm'],
  ]);
  reply.status = 401; reply.body = 'bad admin token\n';
  await assert.rejects(admin.summary(), (e) => e.status === 401 && /admin token was refused/.test(e.message));
  reply.status = 503; reply.body = 'later';
  await assert.rejects(admin.clients(), (e) => e.status === 503 && /HTTP 503/.test(e.message));
});
