// In-memory stand-ins for unit tests: a WebSocket whose "server" side the test drives, and
// timers that fire only when the test says so (no real waiting).

export class FakeWebSocket {
  static instances = [];
  static reset() { FakeWebSocket.instances = []; }
  static last() { return FakeWebSocket.instances[FakeWebSocket.instances.length - 1]; }

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    this.terminated = false;
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    FakeWebSocket.instances.push(this);
  }

  send(data) { this.sent.push(JSON.parse(data)); }
  close(code, reason) { this.closedWith = { code, reason }; this.readyState = 2; }
  terminate() { this.terminated = true; this.readyState = 3; }

  // --- the server side, driven by the test ---
  accept() { this.readyState = 1; this.onopen?.({}); }
  deliver(msg) { this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) }); }
  drop(code = 1006, reason = '') {
    this.readyState = 3;
    if (code === 1006) this.onerror?.({ message: 'connection lost' });
    this.onclose?.({ code, reason });
  }
  sentOfType(type) { return this.sent.filter((m) => m.type === type); }
}

export class FakeTimers {
  constructor(now = 1_700_000_000_000) {
    this.time = now;
    this.nextId = 1;
    this.pending = new Map();  // id -> {fn, at, ms}
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.pending.set(id, { fn, at: this.time + ms, ms });
      return id;
    };
    this.clearTimeout = (id) => { this.pending.delete(id); };
    this.now = () => this.time;
  }

  /** Delays of the timers waiting now. */
  delays() { return [...this.pending.values()].map((t) => t.ms); }

  /** Moves the clock forward by `ms`, firing every timer due, in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.pending) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }
}

/** Lets promise callbacks and queued microtasks run. */
export const flush = () => new Promise((r) => setImmediate(r));
