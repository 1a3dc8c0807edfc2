'use strict';
// Debian's Chromium driven by playwright-core: no browser download, a fresh profile per launch.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const kChromium = process.env.RTE_CHROMIUM || '/usr/bin/chromium';

async function launchBrowser({ viewport = { width: 1360, height: 860 } } = {}) {
  if (!fs.existsSync(kChromium)) {
    throw new Error(`${kChromium} is missing: apt-get install -y chromium (or set RTE_CHROMIUM)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rte-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: kChromium,
    headless: true,  // playwright passes --headless
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
    viewport,
    timeout: 60000,
  });
  context.setDefaultTimeout(30000);
  // RTE_CLIENT_JS=path: pages get /client.js from that file instead of the gateway (to try a client
  // being edited without rebuilding the gateway, like WEB_ROOT for the pages).
  if (process.env.RTE_CLIENT_JS) {
    const body = fs.readFileSync(process.env.RTE_CLIENT_JS, 'utf8');
    await context.route(/\/client\.js$/, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body }));
  }
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

module.exports = { launchBrowser };
