'use strict';
// End-to-end against a REAL Kafka broker (scripts/kafka/broker, KRaft) and `realtime-events serve`:
// the test page over /ws (through /client.js) and over the prototype /getEvents, both across a
// crash and restart of the gateway on the same port, and the admin view. Records are JSON, produced
// with kafkajs: key {"organization_id": O}, value {"property_id": P, "id": ...}. Every wait is on a
// condition with a bound; nothing asserts on timing.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startGateway, freePort } = require('./lib/gateway');
const { launchBrowser } = require('./lib/browser');
const { startBroker } = require('./lib/kafka');
const { kWaitMs, screenshot, connectWith, statsLayoutProblems } = require('./lib/page');

const kResults = path.join(__dirname, 'test-results');
const kAdminToken = 'e2e-admin-token-0123456789';
const kTopics = { payment: 'payments', guest: 'guests', reservation: 'reservations' };
const kPartitions = { payments: 2, guests: 2, reservations: 1 };
const kChosen = ['payment', 'guest'];
const kOrg = '1';
const kProperties = ['11', '12', '13'];

// Records of one batch: `perChannel` for each channel and each of organizations 1 and 2,
// spread over the topic's partitions, each with a unique id. Organization 2 is produced first
// in each partition, so a wrongly delivered record would come before the last expected one.
function batch(name, perChannel) {
  const records = [];
  for (let i = 0; i < perChannel; i++) {
    for (const org of ['2', '1']) {
      for (const [channel, topic] of Object.entries(kTopics)) {
        const property = kProperties[i % kProperties.length];
        records.push({
          topic, partition: i % kPartitions[topic],
          key: { organization_id: org },
          value: { id: `${name}-${channel}-${org}-${i}`, property_id: property, batch: name,
                   amount: 100 + i, note: `record ${i} of batch ${name} for organization ${org}` },
          channel, org,
        });
      }
    }
  }
  return records;
}

// What a page subscribed to `channels` for organization 1 must show of `records`.
function expectedIds(records, channels) {
  return records.filter((r) => r.org === kOrg && channels.includes(r.channel)).map((r) => r.value.id).sort();
}

async function pageEvents(page) {
  return page.evaluate(() => window.rteTestPage.events());
}

// Waits until the page keeps at least `n` events.
async function waitForEvents(page, n, timeout = kWaitMs) {
  await page.waitForFunction((n) => window.rteTestPage.events().length >= n, n, { timeout, polling: 100 });
}

function assertExactly(events, ids, what) {
  const shown = events.map((e) => e.value && e.value.id);
  const dupes = shown.filter((id, i) => shown.indexOf(id) !== i);
  assert.deepEqual(dupes, [], `${what}: shown more than once`);
  const positions = events.map((e) => `${e.channel}/${e.partition}/${e.offset}`);
  assert.equal(new Set(positions).size, positions.length, `${what}: a position shown twice`);
  assert.deepEqual(shown.slice().sort(), ids, `${what}: events shown differ from those produced`);
}

describe('test page and admin view against a real Kafka broker', { timeout: 240000 }, () => {
  let broker;
  let gateway;
  let port;
  let browser;
  let page;        // /ws, payment + guest, organization 1
  let proto;       // /getEvents/payment, organization 1
  const gatewayLogs = [];
  const produced = [];
  const problems = [];

  const gatewayEnv = () => ({
    KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
    PORT: String(port),
    BIND_ADDRESS: '127.0.0.1',
    ADMIN_TOKEN: kAdminToken,
    PAYMENT_TOPIC: kTopics.payment,
    GUEST_TOPIC: kTopics.guest,
    RESERVATION_TOPIC: kTopics.reservation,
    KAFKA_METADATA_REFRESH_MS: '1000',
    LOG_LEVEL: 'info',
  });
  async function startServe() {
    gateway = await startGateway({ args: ['serve'], env: gatewayEnv(), timeoutMs: 60000 });
    await gateway.waitReady(60000);
  }
  function watch(p, name) {
    p.on('pageerror', (e) => problems.push(`${name} pageerror: ${e.message}`));
    p.on('console', (m) => {
      // Expected: a refused WebSocket while the gateway is down, the admin API's 401 to a missing or
      // wrong token (Chromium logs both); anything else is a problem.
      if (m.type() === 'error' && !/WebSocket connection to .* failed|status of 401/.test(m.text())) {
        problems.push(`${name} console: ${m.text()}`);
      }
    });
  }
  async function produce(records) {
    await broker.produce(records);
    produced.push(...records);
  }

  before(async () => {
    fs.mkdirSync(kResults, { recursive: true });
    broker = await startBroker();
    await broker.createTopics(kPartitions);
    port = await freePort();
    await startServe();
    browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    page = await browser.context.newPage();
    watch(page, 'page');
  });

  after(async () => {
    if (browser) await browser.close();
    if (gateway) {
      await gateway.stop();
      gatewayLogs.push(gateway.output);
    }
    fs.writeFileSync(path.join(kResults, 'gateway-kafka.log'), gatewayLogs.join('\n--- restarted ---\n'));
    if (broker) {
      await broker.stop().catch((e) => console.log(`broker stop: ${e.message}`));
      fs.rmSync(broker.dir, { recursive: true, force: true });
    }
  });

  it('serves /client.js and /admin (401 without the admin token, 200 with it)', async () => {
    const js = await fetch(new URL('/client.js', gateway.url));
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /javascript/);
    assert.match(await js.text(), /export class RealtimeEventsClient/);

    const noToken = await fetch(new URL('/admin', gateway.url));
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers.get('content-type'), /text\/html/);
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'web', 'admin.html'), 'utf8');
    assert.ok(await noToken.text() === source, 'the gateway serves another admin page than web/admin.html: rebuild it');
    const wrong = await fetch(new URL('/admin', gateway.url), { headers: { Authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401);
    const withToken = await fetch(new URL('/admin', gateway.url), { headers: { Authorization: `Bearer ${kAdminToken}` } });
    assert.equal(withToken.status, 200);
    assert.equal((await fetch(new URL('/api/admin/summary', gateway.url))).status, 401);
    const summary = await fetch(new URL('/api/admin/summary', gateway.url), { headers: { Authorization: `Bearer ${kAdminToken}` } });
    assert.equal(summary.status, 200);
    assert.equal((await summary.json()).ready, true);
  });

  it('shows only organization 1 of the two chosen channels, with organization and property columns', async () => {
    await page.goto(gateway.url);
    await page.waitForSelector('body[data-ready="1"]');
    await connectWith(page, { org: kOrg, channels: kChosen });
    for (const ch of kChosen) {
      await page.waitForSelector(`[data-testid="sub-state-${ch}"][data-state="subscribed"]`, { timeout: kWaitMs });
    }
    // The prototype endpoint in a second page, on the same records.
    proto = await browser.context.newPage();
    watch(proto, 'proto');
    const q = new URLSearchParams({ org: kOrg, channels: 'payment', endpoint: 'getEvents', user: 'e2e-proto', autoconnect: '1' });
    await proto.goto(`${gateway.url}?${q}`);
    await proto.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: kWaitMs });

    const a = batch('A', 6);
    await produce(a);
    const want = expectedIds(a, kChosen);
    await waitForEvents(page, want.length);
    await waitForEvents(proto, expectedIds(a, ['payment']).length);
    assertExactly(await pageEvents(page), want, '/ws page');
    assertExactly(await pageEvents(proto), expectedIds(a, ['payment']), '/getEvents page');

    // Each row on screen: its channel, organization and property columns, and the whole key.
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="event-row"]')).map((r) => {
      const cell = (id) => r.querySelector(`[data-testid="${id}"]`);
      return { event: { channel: r._event.channel, key: r._event.key, value: r._event.value },
               channel: r.children[1].textContent, org: cell('cell-org').textContent, property: cell('cell-property').textContent,
               key: cell('cell-key').textContent, keyCut: cell('cell-key').scrollWidth > cell('cell-key').clientWidth + 1,
               value: cell('cell-value').textContent };
    }));
    assert.equal(rows.length, want.length, 'rows on screen');
    for (const r of rows) {
      const where = JSON.stringify(r);
      assert.ok(kChosen.includes(r.channel), `${where}: channel`);
      assert.equal(r.channel, r.event.channel, `${where}: channel column`);
      assert.equal(r.org, kOrg, `${where}: organization column`);
      assert.equal(r.event.key.organization_id, kOrg, `${where}: organization of the record`);
      assert.equal(r.property, r.event.value.property_id, `${where}: property column`);
      assert.ok(kProperties.includes(r.property), `${where}: property`);
      assert.equal(r.key, 'organization_id: 1', `${where}: key cell`);
      assert.equal(r.keyCut, false, `${where}: key cut off`);
      assert.match(r.value, new RegExp(`^id: ${r.event.value.id} `), `${where}: value cell`);
    }
    const counts = await page.evaluate(() => window.rteTestPage.counts());
    assert.deepEqual(counts, { payment: 6, guest: 6 });
    assert.deepEqual(await statsLayoutProblems(page), []);
    await screenshot(page, 'kafka-test-page.png');
  });

  it('resumes after the gateway is killed and restarted on the same port: what was produced meanwhile appears exactly once', async () => {
    const crashed = gateway;
    await crashed.kill();
    gatewayLogs.push(crashed.output);
    gateway = null;
    // Both pages say they are reconnecting, with the delay and the attempt.
    for (const p of [page, proto]) {
      await p.waitForSelector('[data-testid="status"][data-state="reconnecting"]', { timeout: kWaitMs });
      await p.waitForFunction(() => /^Reconnecting in \d+\.\d s \(attempt \d+\)$/.test(
        document.querySelector('[data-testid="status-text"]').textContent), null, { timeout: kWaitMs, polling: 50 });
    }
    await screenshot(page, 'kafka-reconnecting.png');

    const b = batch('B', 5);       // produced while no gateway runs
    await produce(b);
    await startServe();
    for (const p of [page, proto]) {
      await p.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: kWaitMs });
    }
    for (const ch of kChosen) {
      await page.waitForSelector(`[data-testid="sub-state-${ch}"][data-state="subscribed"]`, { timeout: kWaitMs });
    }
    const c = batch('C', 4);       // produced after the restart
    await produce(c);

    const wantWs = expectedIds(produced, kChosen);
    const wantProto = expectedIds(produced, ['payment']);
    await waitForEvents(page, wantWs.length);
    await waitForEvents(proto, wantProto.length);
    assertExactly(await pageEvents(page), wantWs, '/ws page across the restart');
    assertExactly(await pageEvents(proto), wantProto, '/getEvents page across the restart');
    assert.ok(await page.evaluate(() => window.rteTestPage.reconnects()) >= 1);
    // The counters kept counting across the automatic reconnect (same connection for the reader).
    assert.deepEqual(await page.evaluate(() => window.rteTestPage.counts()), { payment: 15, guest: 15 });
    const detail = await page.getAttribute('[data-testid="sub-state-payment"]', 'title');
    assert.match(detail, /recovered/, `sub-state: ${detail}`);
    assert.equal(await page.$$eval('[data-testid="error-row"]', (r) => r.length), 0, 'the page shows errors');
    await screenshot(page, 'kafka-resumed.png');
    await screenshot(proto, 'kafka-resumed-getEvents.png');
  });

  it('shows live connections, rates, partitions and the slowest clients in the admin view', async () => {
    const admin = await browser.context.newPage();
    watch(admin, 'admin');
    // Records keep flowing while the admin view is open, so that the rates are above zero.
    let producing = true;
    let seq = 0;
    const feeder = (async () => {
      while (producing) {
        const recs = [0, 1].map((p) => ({ topic: kTopics.payment, partition: p, key: { organization_id: kOrg },
          value: { id: `L-${seq++}`, property_id: '11' } }));
        await broker.produce(recs);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const res = await admin.goto(new URL('/admin', gateway.url).toString());
      assert.equal(res.status(), 401);
      await admin.waitForSelector('[data-testid="token-gate"]:not([hidden])', { timeout: kWaitMs });
      await admin.fill('[data-testid="token-input"]', 'not-the-token');
      await admin.click('[data-testid="token-submit"]');
      await admin.waitForFunction(() => /refused/.test(document.querySelector('[data-testid="token-error"]').textContent),
        null, { timeout: kWaitMs });
      await admin.fill('[data-testid="token-input"]', kAdminToken);
      await admin.click('[data-testid="token-submit"]');
      await admin.waitForSelector('[data-testid="token-gate"]', { state: 'hidden', timeout: kWaitMs });

      const num = (id) => admin.evaluate((id) => Number(document.querySelector(`[data-testid="${id}"]`).textContent.replace(/[^0-9.]/g, '')) || 0, id);
      await admin.waitForFunction(() => {
        const n = (id) => Number(document.querySelector(`[data-testid="${id}"]`).textContent.replace(/[^0-9.]/g, '')) || 0;
        return n('rate-records') > 0 && n('rate-deliveries') > 0 && n('conn-total') >= 2
          && Number(document.querySelector('[data-testid="chart"]').dataset.samples || 0) >= 3
          && document.querySelectorAll('[data-testid="client-row"]').length >= 2;
      }, null, { timeout: kWaitMs, polling: 200 }).catch(async (e) => {
        await screenshot(admin, 'kafka-admin-failed.png').catch(() => {});
        const shown = await admin.evaluate(() => document.querySelector('main').innerText.slice(0, 1500));
        throw new Error(`${e.message}\nthe admin view shows:\n${shown}`);
      });
      assert.ok(await num('conn-ws') >= 1, 'a /ws connection');
      assert.ok(await num('conn-getEvents') >= 1, 'a /getEvents connection');
      assert.equal(await admin.getAttribute('[data-testid="ready"]', 'data-state'), 'good');
      assert.equal(await admin.getAttribute('[data-testid="kafka"]', 'data-state'), 'good');
      assert.match(await admin.textContent('[data-testid="fresh-p50"]'), /ms|s$/);

      const endpoints = await admin.$$eval('[data-testid="client-row"]', (rows) => rows.map((r) => r.dataset.endpoint));
      assert.ok(endpoints.includes('ws') && endpoints.includes('getEvents'), `client rows: ${endpoints}`);
      const channels = await admin.$$eval('[data-testid="channel-row"]', (rows) => rows.map((r) => r.dataset.channel).sort());
      assert.deepEqual(channels, Object.keys(kTopics).sort());
      await admin.waitForFunction(() => {
        const row = document.querySelector('[data-testid="channel-row"][data-channel="payment"]');
        return row && Number(row.querySelector('[data-testid="channel-records-rate"]').textContent.replace(/[^0-9.]/g, '')) > 0;
      }, null, { timeout: kWaitMs, polling: 200 });
      const partitions = await admin.$$eval('[data-testid="partition-row"]', (rows) => rows.map((r) => `${r.dataset.topic}/${r.dataset.partition}`).sort());
      assert.deepEqual(partitions, ['guests/0', 'guests/1', 'payments/0', 'payments/1', 'reservations/0']);
      await screenshot(admin, 'kafka-admin.png');

      // The token stays for this tab: a reload asks for nothing.
      const again = await admin.reload();
      assert.equal(again.status(), 401);
      await admin.waitForFunction(() => document.body.dataset.auth === 'ok', null, { timeout: kWaitMs });
      assert.equal(await admin.isHidden('[data-testid="token-gate"]'), true);
    } finally {
      producing = false;
      await feeder;
      await admin.close();
    }
  });

  it('raised no page errors', () => {
    assert.deepEqual(problems, []);
  });
});
