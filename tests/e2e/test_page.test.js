'use strict';
// End-to-end: the gateway's test page (web/index.html) in a real Chromium against the gateway demo
// (`$RTE_BINARY demo`: embedded mock Kafka producing payment/guest/reservation records for
// organizations 1..5 and properties 1..3). Every wait is on a condition with a bound; no sleeps.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startGateway } = require('./lib/gateway');
const { launchBrowser } = require('./lib/browser');
const { kWaitMs, screenshot, count, total, waitForCounts, connectWith, disconnect, statsLayoutProblems } = require('./lib/page');

const kResults = path.join(__dirname, 'test-results');
const kOrg = '1';
const kChosen = ['payment', 'guest'];
const kOther = 'reservation';

// Where each channel's tenant and property live in an event, as /api/channels says
// (e.g. "key.organization_id", "value.property_id"); filled in by the first test.
const fieldPaths = { organization_id: {}, property_id: {} };

function atPath(ev, dotted) {
  let v = ev;
  for (const part of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[part];
  }
  return v;
}

// The tenant or property of an event, as a string (ids are matched as strings). Without a path
// from the server, looks for the field at the top of the key, then of the value.
function fieldOf(ev, name) {
  const dotted = fieldPaths[name][ev.channel];
  const candidates = dotted ? [atPath(ev, dotted)] : [ev.key && ev.key[name], ev.value && ev.value[name]];
  const found = candidates.find((v) => v !== undefined && v !== null);
  return found === undefined ? undefined : String(found);
}

// The events the page shows: the rows on screen (the list is virtual: only visible rows are in the
// DOM), each checked against the channel it displays, plus every event the list keeps for scrolling.
async function shownEvents(page) {
  return page.evaluate(() => {
    const rows = Array.from(document.querySelectorAll('[data-testid="event-row"]')).map((r) => {
      const e = r._event || {};
      return { rowChannel: r.dataset.channel, rowText: r.children[1].textContent, channel: e.channel,
               partition: e.partition, offset: e.offset, key: e.key, value: e.value };
    });
    const kept = window.rteTestPage.events().map((e) => ({ rowChannel: e.channel, rowText: e.channel, ...e }));
    return rows.concat(kept);
  });
}

// Identifies the list's content: how many events it keeps and which is the newest.
async function listSignature(page) {
  return page.evaluate(() => {
    const ev = window.rteTestPage.events();
    return `${ev.length}:${ev.length ? `${ev[0].channel}/${ev[0].partition}/${ev[0].offset}` : ''}`;
  });
}

function assertEventsMatch(events, { org, channels, property }) {
  assert.ok(events.length > 0, 'no events shown');
  for (const ev of events) {
    const where = `event ${ev.channel} ${ev.partition}/${ev.offset} key=${JSON.stringify(ev.key)} value=${JSON.stringify(ev.value)}`;
    assert.ok(channels.includes(ev.channel), `${where}: channel not chosen`);
    assert.equal(ev.rowChannel, ev.channel, `${where}: row shows another channel`);
    assert.equal(ev.rowText, ev.channel, `${where}: row shows another channel`);
    assert.equal(fieldOf(ev, 'organization_id'), org, `${where}: other organization`);
    if (property !== undefined) assert.equal(fieldOf(ev, 'property_id'), property, `${where}: other property`);
  }
}

describe('test page against the demo gateway', { timeout: 240000 }, () => {
  let gateway;
  let browser;
  let page;
  const problems = [];  // page errors seen: any is a failure

  before(async () => {
    fs.mkdirSync(kResults, { recursive: true });
    gateway = await startGateway({ args: ['demo'], timeoutMs: 60000 });
    browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  });

  after(async () => {
    if (page) await screenshot(page, 'demo-final.png').catch(() => {});
    if (browser) await browser.close();
    if (gateway) {
      const exit = await gateway.stop();
      fs.writeFileSync(path.join(kResults, 'gateway-demo.log'), gateway.output);
      console.log(`gateway stopped: ${JSON.stringify(exit)}`);
    }
  });

  it('serves the page at / and lists the channels of /api/channels', async () => {
    const res = await page.goto(gateway.url);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'] || '', /text\/html/);
    const served = await res.text();
    await page.waitForSelector('body[data-ready="1"]');
    const api = await (await fetch(new URL('/api/channels', gateway.url))).json();
    const offered = api.channels.map((c) => c.name).sort();
    for (const c of api.channels) {
      if (c.tenant_field) fieldPaths.organization_id[c.name] = c.tenant_field;
      if (c.property_field) fieldPaths.property_id[c.name] = c.property_field;
    }
    for (const ch of [...kChosen, kOther]) assert.ok(offered.includes(ch), `server does not offer ${ch}: ${offered}`);
    const boxes = await page.$$eval('[data-testid^="channel-checkbox-"]', (els) => els.map((e) => e.value).sort());
    assert.deepEqual(boxes, offered);
    assert.equal(await page.textContent('[data-testid="channels-hint"]'), '', 'the page fell back to default channels');
    // The gateway embeds web/index.html when it is built (or serves $WEB_ROOT/index.html).
    const source = path.join(process.env.WEB_ROOT || path.join(__dirname, '..', '..', 'web'), 'index.html');
    assert.ok(served === fs.readFileSync(source, 'utf8'),
      `the gateway serves another page than ${source}: rebuild it (or set WEB_ROOT to test a page being edited)`);
  });

  let propertiesSeen = new Set();

  it('streams only organization 1 and the chosen channels over /ws', async () => {
    await connectWith(page, { org: kOrg, channels: kChosen });
    for (const ch of kChosen) {
      await page.waitForSelector(`[data-testid="sub-state-${ch}"][data-state="subscribed"]`, { timeout: kWaitMs });
    }
    await waitForCounts(page, kChosen, 3);
    // Keep watching until several properties of organization 1 were seen (the demo has 1..3),
    // so that the property filter below has something to narrow.
    await page.waitForFunction((paths) => {
      const props = new Set();
      for (const e of window.rteTestPage.events()) {
        let p = paths[e.channel] ? e : e.value;
        for (const part of (paths[e.channel] || 'property_id').split('.')) p = p && typeof p === 'object' ? p[part] : undefined;
        if (p !== undefined && p !== null) props.add(String(p));
      }
      return props.size >= 2;
    }, fieldPaths.property_id, { timeout: kWaitMs, polling: 200 });
    await screenshot(page, 'demo-test-page.png');

    const events = await shownEvents(page);
    assertEventsMatch(events, { org: kOrg, channels: kChosen });
    propertiesSeen = new Set(events.map((e) => fieldOf(e, 'property_id')).filter((p) => p !== undefined));
    assert.ok(propertiesSeen.size >= 2, `properties seen: ${[...propertiesSeen]}`);
    assert.equal(await count(page, kOther), 0, `${kOther} events arrived without a subscription`);
    assert.equal(await page.isHidden('[data-testid="errors"]'), true, 'the page shows errors');
  });

  it('shows organization and property columns read at the channel\'s field paths, and whole keys and values', async () => {
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="event-row"]')).map((r) => {
      const cell = (id) => r.querySelector(`[data-testid="${id}"]`);
      const e = r._event;
      return { channel: e.channel, key: e.key, value: e.value, org: cell('cell-org').textContent,
               property: cell('cell-property').textContent, keyText: cell('cell-key').textContent,
               keyCut: cell('cell-key').scrollWidth > cell('cell-key').clientWidth + 1 };
    }));
    assert.ok(rows.length >= 3, `rows: ${rows.length}`);
    for (const r of rows) {
      assert.equal(r.org, fieldOf(r, 'organization_id'), `org column of ${JSON.stringify(r)}`);
      assert.equal(r.property, fieldOf(r, 'property_id') || '', `property column of ${JSON.stringify(r)}`);
      assert.equal(r.keyCut, false, `key cut off: ${r.keyText}`);
    }
    // A value cell's tooltip is the value as indented JSON.
    const cell = page.locator('[data-testid="event-row"] [data-testid="cell-value"]').first();
    // The pointer reaching the cell, the tooltip it makes and the row's event, in one
    // synchronous step in the page: events keep arriving, rows are recycled (their title
    // cleared), and `.first()` resolves to the newest row each time it is used.
    const { tip, ev } = await cell.evaluate((c) => {
      c.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
      return { tip: c.getAttribute('title'), ev: c.parentElement._event.value };
    });
    assert.deepEqual(JSON.parse(tip.replace(/^value\n/, '')), ev);
  });

  it('fits the stat cards on one line at 1280x800, nothing cut off', async () => {
    assert.deepEqual(page.viewportSize(), { width: 1280, height: 800 });
    assert.deepEqual(await statsLayoutProblems(page), []);
  });

  it('keeps counting per channel', async () => {
    const before = {};
    for (const ch of kChosen) before[ch] = await count(page, ch);
    const target = Object.fromEntries(kChosen.map((ch) => [ch, before[ch] + 5]));
    await waitForCounts(page, kChosen, 0, target);
    // Read all counters in one go: the page updates them together, once per frame.
    const shown = await page.evaluate((chs) => {
      const n = (id) => Number(document.querySelector(`[data-testid="${id}"]`).textContent.replace(/[^0-9]/g, ''));
      return { total: n('total-count'), sum: chs.reduce((a, ch) => a + n(`count-${ch}`), 0) };
    }, [...kChosen, kOther]);
    assert.equal(shown.total, shown.sum, 'total differs from the sum of the channel counts');
    assertEventsMatch(await shownEvents(page), { org: kOrg, channels: kChosen });
  });

  it('holds the list while paused and shows an event\'s JSON', async () => {
    await page.click('[data-testid="pause-button"]');
    const held = await listSignature(page);
    const counted = await total(page);
    // Rows are recycled as the list moves: pick one while the list is held.
    const row = page.locator('[data-testid="event-row"]').nth(2);
    const ev = await row.evaluate((r) => ({ channel: r._event.channel, partition: r._event.partition, offset: r._event.offset }));
    await row.click();
    const json = JSON.parse(await page.textContent('[data-testid="event-json"]'));
    assert.equal(json.type, 'event');
    assert.deepEqual([json.channel, json.partition, json.offset], [ev.channel, ev.partition, ev.offset]);
    assert.equal(fieldOf(json, 'organization_id'), kOrg);
    await page.click('#closeDetail');
    assert.equal(await page.isHidden('[data-testid="event-detail"]'), true);

    await page.waitForFunction((n) => window.rteTestPage.total() >= n, counted + 10, { timeout: kWaitMs, polling: 100 });
    await page.waitForFunction(() => /[1-9][0-9]* new not shown/.test(
      document.querySelector('[data-testid="paused-note"]').textContent), null, { timeout: kWaitMs });
    assert.equal(await listSignature(page), held, 'the list moved while paused');
    await page.click('[data-testid="pause-button"]');
    await page.waitForFunction((h) => {
      const ev = window.rteTestPage.events();
      return `${ev.length}:${ev.length ? `${ev[0].channel}/${ev[0].partition}/${ev[0].offset}` : ''}` !== h;
    }, held, { timeout: kWaitMs, polling: 100 });
  });

  it('starts counters and lag from zero after Clear and on a new connection', async () => {
    await page.waitForFunction(() => /ms/.test(document.querySelector('[data-testid="lag"]').textContent),
      null, { timeout: kWaitMs, polling: 100 });
    // Read in the same task as the click: nothing can arrive in between.
    const afterClear = await page.evaluate((chs) => {
      document.querySelector('[data-testid="clear-button"]').click();
      const n = (id) => document.querySelector(`[data-testid="${id}"]`).textContent;
      return { total: n('total-count'), lag: n('lag'), counts: chs.map((ch) => n(`count-${ch}`)) };
    }, kChosen);
    assert.deepEqual(afterClear, { total: '0', lag: '–', counts: kChosen.map(() => '0') });
    await waitForCounts(page, kChosen, 2);
    await page.waitForFunction(() => /ms/.test(document.querySelector('[data-testid="lag"]').textContent),
      null, { timeout: kWaitMs, polling: 100 });
    await disconnect(page);
    assert.ok(await total(page) > 0);
    const afterConnect = await page.evaluate((chs) => {
      document.querySelector('[data-testid="connect-button"]').click();
      const n = (id) => document.querySelector(`[data-testid="${id}"]`).textContent;
      return { total: n('total-count'), lag: n('lag'), counts: chs.map((ch) => n(`count-${ch}`)),
               rows: window.rteTestPage.events().length };
    }, kChosen);
    assert.ok(afterConnect.rows > 0, 'a new connection emptied the list');
    delete afterConnect.rows;
    assert.deepEqual(afterConnect, { total: '0', lag: '–', counts: kChosen.map(() => '0') });
    await page.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: kWaitMs });
  });

  it('narrows to one property with the property filter', async () => {
    await disconnect(page);
    const property = [...propertiesSeen].sort()[0];
    await connectWith(page, { org: kOrg, property, channels: kChosen });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length >= 6,
      null, { timeout: kWaitMs, polling: 100 });
    await screenshot(page, 'demo-property-filter.png');
    const events = await shownEvents(page);
    assertEventsMatch(events, { org: kOrg, channels: kChosen, property });
  });

  it('stops the stream on disconnect', async () => {
    // A second page stays connected with the same filter and proves records keep flowing
    // while the first one, disconnected, receives nothing more.
    const witness = await browser.context.newPage();
    try {
      const q = new URLSearchParams({ org: kOrg, channels: kChosen.join(','), autoconnect: '1' });
      await witness.goto(`${gateway.url}?${q}`);
      await witness.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: kWaitMs });

      await disconnect(page);
      const state = await page.getAttribute('[data-testid="status"]', 'data-state');
      assert.equal(state, 'idle');
      assert.equal(await page.getAttribute('[data-testid="status"]', 'data-close-code'), '1000');
      const stoppedAt = await total(page);
      const listAt = await listSignature(page);

      const witnessAt = await total(witness);
      await witness.waitForFunction((n) => Number(document.querySelector('[data-testid="total-count"]')
        .textContent.replace(/[^0-9]/g, '')) >= n, witnessAt + 20, { timeout: kWaitMs, polling: 100 });

      assert.equal(await total(page), stoppedAt, 'events counted after disconnect');
      assert.equal(await listSignature(page), listAt, 'the list changed after disconnect');
      assert.equal(await page.isEnabled('[data-testid="connect-button"]'), true);
    } finally {
      await witness.close();
    }
  });

  it('streams one channel over the prototype endpoint /getEvents/{channel}', async () => {
    await connectWith(page, { org: kOrg, channels: ['payment'], endpoint: 'getEvents', user: 'e2e-user' });
    assert.match(await page.textContent('[data-testid="status-detail"]'), /\/getEvents\/payment/);
    await waitForCounts(page, ['payment'], 3);
    assertEventsMatch(await shownEvents(page), { org: kOrg, channels: ['payment'] });
    await disconnect(page);
  });

  it('remembers the form across a reload', async () => {
    await page.goto(gateway.url);
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.inputValue('[data-testid="org-input"]'), kOrg);
    assert.equal(await page.inputValue('[data-testid="endpoint-select"]'), 'getEvents');
    assert.equal(await page.inputValue('[data-testid="user-input"]'), 'e2e-user');
    assert.equal(await page.isChecked('[data-testid="channel-checkbox-payment"]'), true);
    assert.equal(await page.isChecked('[data-testid="channel-checkbox-guest"]'), false);
    assert.equal(await page.getAttribute('[data-testid="status"]', 'data-state'), 'idle', 'connected without autoconnect');
  });

  it('shows the server\'s error for a channel it does not offer, and keeps the others', async () => {
    const q = new URLSearchParams({ org: kOrg, channels: 'payment,no_such_channel', endpoint: 'ws', autoconnect: '1' });
    await page.goto(`${gateway.url}?${q}`);
    await page.waitForSelector('[data-testid="error-row"][data-code="unknown_channel"]', { timeout: kWaitMs });
    await page.waitForSelector('[data-testid="sub-state-no_such_channel"][data-state="error"]');
    await waitForCounts(page, ['payment'], 3);
    await screenshot(page, 'demo-errors.png');
    assertEventsMatch(await shownEvents(page), { org: kOrg, channels: ['payment'] });
    assert.equal(await page.getAttribute('[data-testid="status"]', 'data-state'), 'open');
    await disconnect(page);
  });

  it('resumes from its last offsets on reconnect: recovered, replayed, no duplicates, no stale error', async () => {
    await connectWith(page, { org: kOrg, channels: ['payment'] });
    await waitForCounts(page, ['payment'], 3);
    await disconnect(page);
    // The demo keeps producing while the page is away.
    await page.waitForTimeout(3000);
    await page.click('[data-testid="connect-button"]');
    await page.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: kWaitMs });
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="sub-state-payment"]');
      return el && el.dataset.state === 'subscribed' && /recovered/.test(el.title);
    }, null, { timeout: kWaitMs, polling: 100 });
    const detail = await page.getAttribute('[data-testid="sub-state-payment"]', 'title');
    assert.match(detail, /recovered, replayed [1-9][0-9]*/, `sub-state: ${detail}`);
    assert.doesNotMatch(detail, /could not be replayed/);
    assert.equal(await page.$$eval('[data-testid="error-row"][data-code="not_recovered"]', (r) => r.length), 0);
    const events = await page.evaluate(() => window.rteTestPage.events()
      .filter((e) => e.channel === 'payment').map((e) => `${e.partition}/${e.offset}`));
    assert.equal(new Set(events).size, events.length, 'an event shown twice across the resume');
    await disconnect(page);
  });

  it('raised no page errors', () => {
    assert.deepEqual(problems, []);
  });
});
