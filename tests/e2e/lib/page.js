'use strict';
// Helpers that drive the test page (web/index.html) through its data-testid hooks. Every wait is on
// a condition with a bound.
const fs = require('node:fs');
const path = require('node:path');

const kWaitMs = 30000;
const kScreenshots = path.join(__dirname, '..', 'test-results', 'screenshots');

// A full-page screenshot in tests/e2e/test-results/screenshots/ (made when first needed).
async function screenshot(page, name) {
  fs.mkdirSync(kScreenshots, { recursive: true });
  const file = path.join(kScreenshots, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

function digits(text) { return Number(String(text).replace(/[^0-9]/g, '')); }

async function count(page, channel) {
  return digits(await page.textContent(`[data-testid="count-${channel}"]`));
}

async function total(page) {
  return digits(await page.textContent('[data-testid="total-count"]'));
}

// Waits until every channel in `channels` has shown at least `atLeast[ch]` (or `min`) events.
async function waitForCounts(page, channels, min, atLeast = {}, timeout = kWaitMs) {
  await page.waitForFunction(({ channels, min, atLeast }) => channels.every((ch) => {
    const el = document.querySelector(`[data-testid="count-${ch}"]`);
    const n = el ? Number(el.textContent.replace(/[^0-9]/g, '')) : 0;
    return n >= (atLeast[ch] !== undefined ? atLeast[ch] : min);
  }), { channels, min, atLeast }, { timeout, polling: 100 });
}

async function setChannels(page, wanted) {
  const boxes = await page.$$('[data-testid^="channel-checkbox-"]');
  for (const box of boxes) {
    const name = await box.getAttribute('value');
    if (wanted.includes(name)) await box.check(); else await box.uncheck();
  }
}

async function connectWith(page, { org, property = '', channels, endpoint = 'ws', user = '', clear = true }) {
  await page.selectOption('[data-testid="endpoint-select"]', endpoint);
  if (endpoint === 'getEvents') await page.fill('[data-testid="user-input"]', user);
  await page.fill('[data-testid="org-input"]', org);
  await page.fill('[data-testid="property-input"]', property);
  await setChannels(page, channels);
  if (clear) await page.click('[data-testid="clear-button"]');
  await page.click('[data-testid="connect-button"]');
  await page.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: kWaitMs });
}

async function disconnect(page) {
  await page.click('[data-testid="disconnect-button"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').dataset.state !== 'open'
    && !document.querySelector('[data-testid="connect-button"]').disabled, null, { timeout: kWaitMs });
}

// The stat cards at the top of the page: one row, nothing cut off or scrolled away.
async function statsLayoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const stats = document.querySelector('[data-testid="stats"]');
    if (stats.scrollWidth > stats.clientWidth + 1) problems.push(`stats row overflows: ${stats.scrollWidth} > ${stats.clientWidth}`);
    const cards = Array.from(stats.querySelectorAll('.card'));
    const tops = new Set(cards.map((c) => Math.round(c.getBoundingClientRect().top)));
    if (tops.size !== 1) problems.push(`cards on ${tops.size} lines`);
    for (const card of cards) {
      for (const el of [card, ...card.querySelectorAll('*')]) {
        if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible') {
          problems.push(`cut off: "${el.textContent.trim().slice(0, 40)}" (${el.scrollWidth} > ${el.clientWidth})`);
        }
        const r = el.getBoundingClientRect();
        const c = card.getBoundingClientRect();
        if (el !== card && r.width > 0 && (r.right > c.right + 1 || r.left < c.left - 1)) {
          problems.push(`sticks out of its card: "${el.textContent.trim().slice(0, 40)}"`);
        }
      }
    }
    return problems;
  });
}

module.exports = { kWaitMs, screenshot, count, total, waitForCounts, setChannels, connectWith, disconnect, statsLayoutProblems };
