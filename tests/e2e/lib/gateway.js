'use strict';
// Starts the gateway as a real process (`$RTE_BINARY demo` or `serve`; PORT=0 unless given) and waits,
// with a bound, for the line it prints once it listens. Collects its output for the failure message;
// stop() ends it (SIGTERM, then SIGKILL), kill() drops it at once (SIGKILL, as in a crash).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const kListening = /realtime-events listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/;

function gatewayBinary() {
  const fromEnv = process.env.RTE_BINARY;
  if (fromEnv) return fromEnv;
  const candidates = [
    path.resolve(__dirname, '../../../build/realtime-events'),
  ];
  return candidates.find((p) => fs.existsSync(p)) || candidates[0];
}

class Gateway {
  constructor(child) {
    this.child = child;
    this.output = '';
    this.exited = null;  // {code, signal} once it exited
    this.url = null;
  }

  // Last part of what the process printed, for assertion messages.
  tail(chars = 4000) { return this.output.slice(-chars); }

  async stop(graceMs = 5000) {
    const child = this.child;
    if (this.exited) return this.exited;
    const done = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (!this.exited) child.kill('SIGKILL'); }, graceMs);
    const result = await done;
    clearTimeout(timer);
    return result;
  }

  // SIGKILL: the process ends without closing its connections (clients see 1006).
  async kill() {
    if (this.exited) return this.exited;
    const done = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.kill('SIGKILL');
    return done;
  }

  // Resolves once GET /readyz answers 200, or rejects after timeoutMs with its last answer.
  async waitReady(timeoutMs = 60000) {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`gateway exited (${JSON.stringify(this.exited)})\n${this.tail()}`);
      try {
        const res = await fetch(new URL('/readyz', this.url), { signal: AbortSignal.timeout(2000) });
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) return;
      } catch (e) {
        last = String(e.message || e);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`gateway not ready within ${timeoutMs} ms: ${last}\n${this.tail()}`);
  }
}

// A TCP port that was free a moment ago on 127.0.0.1 (for a gateway restarted on the same port).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Resolves to a running Gateway with .url set, or rejects (after killing the process) if it does not
// print the listening line within timeoutMs or exits first.
function startGateway({ args = ['demo'], env = {}, timeoutMs = 60000 } = {}) {
  const bin = gatewayBinary();
  if (!fs.existsSync(bin)) {
    return Promise.reject(new Error(`gateway binary not found: ${bin} (build it, or set RTE_BINARY)`));
  }
  const child = spawn(bin, args, {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gw = new Gateway(child);
  const onExit = () => { try { child.kill('SIGKILL'); } catch (e) { /* gone */ } };
  process.once('exit', onExit);
  child.once('exit', (code, signal) => { gw.exited = { code, signal }; process.removeListener('exit', onExit); });

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      gw.stop().finally(() => reject(new Error(`${why}\n--- gateway output ---\n${gw.tail()}`)));
    };
    const timer = setTimeout(() => fail(`gateway did not print its listening line within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk) => {
      gw.output += chunk.toString('utf8');
      if (gw.output.length > 1 << 20) gw.output = gw.output.slice(-(1 << 19));
      const m = kListening.exec(gw.output);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        gw.url = m[1];
        resolve(gw);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => fail(`cannot start ${bin}: ${e.message}`));
    child.once('exit', (code, signal) => fail(`gateway exited early (code ${code}, signal ${signal})`));
  });
}

module.exports = { startGateway, gatewayBinary, freePort };
