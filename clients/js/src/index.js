// @ts-check
/**
 * @file Realtime Events client: one ES module with no imports, for browsers and Node.js.
 *
 * It speaks the gateway's `/ws` protocol (docs/protocol.md): authenticates with a first
 * `{"type":"auth"}` message (the token never goes into the URL), queues subscriptions until
 * the connection is authenticated, reconnects with exponential backoff and jitter, resumes
 * every subscription from the last offset it saw per partition (`since`), drops duplicates
 * at the seam, refreshes the token before it expires, and keeps idle connections alive.
 *
 * In browsers it uses `globalThis.WebSocket`; in Node.js import the package (its `node`
 * entry wires in the `ws` package) or pass `options.WebSocket`.
 * The gateway serves this very file at `/client.js`.
 */

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

/**
 * An identifier in a filter: matched as a string by the gateway (`42` and `"42"` are equal).
 * @typedef {string | number} Id
 */

/**
 * What a subscription selects within a channel.
 * @typedef {object} Filter
 * @property {Id} organization_id the tenant
 * @property {Id} [property_id] one property of the tenant (absent: every property)
 */

/**
 * Last offset seen per partition: `{"<partition>": offset}`.
 * @typedef {Record<string, number>} Positions
 */

/**
 * A Kafka record delivered to a subscription (docs/protocol.md §3).
 * @template [V=any]
 * @template [K=any]
 * @typedef {object} EventMessage
 * @property {'event'} type
 * @property {string} channel
 * @property {string} topic
 * @property {number} partition
 * @property {number} offset
 * @property {number} timestamp Kafka record timestamp, ms since the epoch
 * @property {K} key the record key as JSON (`null` for a null key)
 * @property {V} value the record value as JSON (`null` for a tombstone)
 */

/**
 * @typedef {object} SubscribedMessage
 * @property {'subscribed'} type
 * @property {string} [id]
 * @property {string} channel
 * @property {boolean} recovered false: events between the positions asked for and now may be missing: reload your state
 * @property {number} replayed how many missed events follow this message
 */

/**
 * @typedef {object} UnsubscribedMessage
 * @property {'unsubscribed'} type
 * @property {string} [id]
 * @property {string} channel
 */

/**
 * @typedef {object} AuthenticatedMessage
 * @property {'authenticated'} type
 * @property {string} [id]
 * @property {string} user
 * @property {number | null} expires the token's `exp` in ms since the epoch, or null
 */

/**
 * Error codes sent by the gateway.
 * @typedef {'bad_request' | 'unknown_channel' | 'limit_exceeded' | 'forbidden' | 'unauthorized' | 'internal'} ServerErrorCode
 */

/**
 * @typedef {object} ErrorMessage
 * @property {'error'} type
 * @property {string} [id]
 * @property {ServerErrorCode | string} code
 * @property {string} message
 */

/**
 * Events dropped from this connection's queue (`SLOW_CLIENT_POLICY=drop`).
 * @typedef {object} GapMessage
 * @property {'gap'} type
 * @property {string} channel
 * @property {number} dropped
 * @property {Record<string, {from: number, to: number}>} partitions
 * @property {Positions} since what to subscribe with to get the dropped events back
 */

/**
 * @typedef {object} StatusMessage
 * @property {'status'} type
 * @property {'available' | 'unavailable'} kafka
 */

/** @typedef {{type: 'ping'}} PingMessage */
/** @typedef {{type: 'pong'}} PongMessage */

/**
 * Every message the gateway sends on `/ws`, discriminated by `type`.
 * @typedef {EventMessage | SubscribedMessage | UnsubscribedMessage | AuthenticatedMessage | ErrorMessage |
 *           GapMessage | StatusMessage | PingMessage | PongMessage} ServerMessage
 */

/**
 * An error raised by the client itself (not sent by the gateway): `transport` (the socket
 * failed), `no_traffic` (nothing arrived for `deadAfterMs`), `token` (the token function
 * threw), `closed` (the connection ended and will not be reopened), `bad_message`
 * (a frame that is not JSON).
 * @typedef {object} ClientError
 * @property {'error'} type
 * @property {'transport' | 'no_traffic' | 'token' | 'closed' | 'bad_message'} code
 * @property {string} message
 * @property {string} [id]
 * @property {unknown} [cause]
 */

/**
 * @typedef {object} OpenInfo
 * @property {string} url
 * @property {boolean} reconnected true when this is not the first open
 * @property {string | null} user the authenticated user (null without a token)
 */

/**
 * @typedef {object} CloseInfo
 * @property {number} code WebSocket close code (1006: no close frame, e.g. a network error)
 * @property {string} reason
 * @property {boolean} willReconnect
 */

/**
 * @typedef {object} ReconnectingInfo
 * @property {number} attempt 1 for the first retry after a connection was lost or refused
 * @property {number} delayMs how long the client waits before this attempt
 */

/**
 * A `subscribed` acknowledgement, with `resumed`: whether it answered a resume
 * (`since` / `since_time`).
 * @typedef {SubscribedMessage & {resumed: boolean}} SubscribedInfo
 */

/**
 * Listener arguments of the client's events.
 * @typedef {object} ClientEventMap
 * @property {[OpenInfo]} open the connection is open and authenticated; subscriptions are being (re)sent
 * @property {[CloseInfo]} close
 * @property {[ReconnectingInfo]} reconnecting
 * @property {[ErrorMessage | ClientError]} error
 * @property {[StatusMessage]} status
 * @property {[EventMessage, Subscription]} event every event delivered to any subscription (after dedupe)
 * @property {[GapMessage]} gap
 * @property {[AuthenticatedMessage]} authenticated
 * @property {[ServerMessage]} message every message from the gateway, as parsed
 */

/**
 * Listener arguments of a subscription's events.
 * @template [V=any]
 * @typedef {object} SubscriptionEventMap
 * @property {[EventMessage<V>]} event
 * @property {[SubscribedInfo]} subscribed
 * @property {[GapMessage]} gap
 * @property {[ErrorMessage]} error
 * @property {[UnsubscribedMessage]} unsubscribed
 */

/**
 * Reconnect settings. `reconnect: false` turns reconnecting off.
 * @typedef {object} ReconnectOptions
 * @property {number} [initialDelayMs] first delay (500)
 * @property {number} [maxDelayMs] cap (30000)
 * @property {number} [factor] growth per attempt (2)
 * @property {number} [jitter] 0..1: a delay is drawn uniformly from `[base × (1 − jitter), base]` (0.5)
 * @property {number} [maxAttempts] consecutive failed attempts before giving up (Infinity)
 * @property {number} [maxAuthFailures] consecutive connections refused for their token before giving up (5)
 */

/**
 * A token, or a function called on every (re)connect and refresh for a fresh one.
 * @typedef {string | (() => string | Promise<string>)} TokenSource
 */

/**
 * Timer functions (injectable for tests).
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(handle: any) => void} clearTimeout
 * @property {() => number} now ms since the epoch
 */

/**
 * The minimal WebSocket a client needs: the browser's, or the `ws` package's.
 * @typedef {object} WebSocketLike
 * @property {number} readyState
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {(() => void)} [terminate] `ws` only: drop at once
 * @property {((ev: any) => void) | null} onopen
 * @property {((ev: any) => void) | null} onmessage
 * @property {((ev: any) => void) | null} onerror
 * @property {((ev: any) => void) | null} onclose
 */

/** @typedef {new (url: string, protocols?: string | string[]) => WebSocketLike} WebSocketConstructor */

/**
 * Where an event carries its tenant and property, to tell several subscriptions of one
 * channel apart (the gateway's `TENANT_FIELD` / `PROPERTY_FIELD`): `key`, `key.a.b` or
 * `value.a.b`. Header fields cannot be read from an event; give `null` then.
 * @typedef {object} RoutingFields
 * @property {string | null} [tenant] default `key.organization_id`
 * @property {string | null} [property] default `value.property_id`
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} [url] `ws(s)://host:port/ws`, or `http(s)://host:port` (→ `/ws`); in a browser defaults to the page's origin
 * @property {TokenSource} [token] omit when the gateway runs without tokens
 * @property {WebSocketConstructor} [WebSocket] default `globalThis.WebSocket`
 * @property {ReconnectOptions | false} [reconnect]
 * @property {number} [refreshTokenBeforeMs] with a token function and a known expiry: re-authenticate this long before it (60000; at most half the remaining lifetime)
 * @property {number} [pingIntervalMs] how often `{"type":"ping"}` is sent (20000)
 * @property {number} [deadAfterMs] no message at all for this long: the connection is presumed dead, dropped and reopened (3 × pingIntervalMs)
 * @property {RoutingFields & {channels?: Record<string, RoutingFields>}} [routing] how events are matched to subscriptions when one channel has several
 * @property {() => number} [random] uniform [0, 1) for jitter (default Math.random)
 * @property {Timers} [timers]
 */

/**
 * @typedef {object} SubscribeOptions
 * @property {Positions} [since] last offset seen per partition: replay what came after
 * @property {number} [since_time] replay from this time (ms since the epoch) on every partition
 */

/** @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} ClientState */
/** @typedef {'pending' | 'subscribing' | 'active' | 'unsubscribing' | 'unsubscribed' | 'failed'} SubscriptionState */

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

const OPEN = 1;  // WebSocket.OPEN

/** @type {Required<ReconnectOptions>} */
const DEFAULT_RECONNECT = {
  initialDelayMs: 500,
  maxDelayMs: 30000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
  maxAuthFailures: 5,
};

/** Close codes after which reconnecting cannot help (the client itself broke the protocol). */
const NO_RECONNECT_CODES = new Set([1002, 1003, 1007, 1009, 1010]);

/** @type {Timers} */
const DEFAULT_TIMERS = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h),
  now: () => Date.now(),
};

/**
 * The delay before reconnect attempt `attempt` (1, 2, ...): `base = min(maxDelayMs,
 * initialDelayMs × factor^(attempt−1))`, then drawn uniformly from
 * `[base × (1 − jitter), base]` with `random()` in [0, 1). Pure.
 * @param {number} attempt
 * @param {ReconnectOptions} [options]
 * @param {() => number} [random]
 * @returns {number} ms (an integer)
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
  const o = { ...DEFAULT_RECONNECT, ...options };
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.factor, n - 1));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  let r = random();
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 0.999999;
  return Math.round(base * (1 - jitter * r));
}

/**
 * `ws(s)://` URL of the `/ws` endpoint from what the caller gave.
 * @param {string | undefined} url
 * @returns {string}
 */
export function websocketUrl(url) {
  const loc = /** @type {any} */ (globalThis).location;
  if (!url) {
    if (!loc || !loc.origin) throw new TypeError('RealtimeEventsClient: options.url is required outside a browser page');
    url = String(loc.origin);
  }
  const u = loc && loc.href ? new URL(url, loc.href) : new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new TypeError(`RealtimeEventsClient: unsupported URL scheme ${u.protocol} (use ws:, wss:, http: or https:)`);
  }
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/ws';
  u.hash = '';
  return u.toString();
}

/**
 * Reads `key`, `key.a.b`, `value.a.b` from an event; undefined when absent or not readable.
 * @param {EventMessage} event
 * @param {string | null | undefined} path
 * @returns {unknown}
 */
function readField(event, path) {
  if (!path) return undefined;
  const parts = path.split('.');
  /** @type {any} */
  let v;
  if (parts[0] === 'key') v = event.key;
  else if (parts[0] === 'value') v = event.value;
  else return undefined;
  for (let i = 1; i < parts.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[parts[i]];
  }
  return v;
}

/** @param {unknown} x */
function isId(x) {
  return (typeof x === 'string' && x.length > 0) || (typeof x === 'number' && Number.isFinite(x));
}

/**
 * Listener storage, kept out of the public shape of the classes.
 * @type {WeakMap<object, Map<string, Set<Function>>>}
 */
const LISTENERS = new WeakMap();

/**
 * Calls the listeners of `type` on `target` in order. A listener that throws does not stop
 * the others or the client: its exception is rethrown asynchronously (reported like any
 * uncaught exception).
 * @param {object} target
 * @param {string} type
 * @param {...any} args
 */
function emit(target, type, ...args) {
  const set = LISTENERS.get(target)?.get(type);
  if (!set || set.size === 0) return;
  for (const fn of [...set]) {
    try {
      fn(...args);
    } catch (err) {
      globalThis.setTimeout(() => { throw err; }, 0);
    }
  }
}

/** @param {object} target @param {string} type */
function hasListeners(target, type) {
  const set = LISTENERS.get(target)?.get(type);
  return !!set && set.size > 0;
}

/**
 * A typed event emitter.
 * @template {Record<string, any[]>} M
 */
class Emitter {
  constructor() {
    LISTENERS.set(this, new Map());
  }

  /**
   * Adds a listener.
   * @template {keyof M & string} T
   * @param {T} type
   * @param {(...args: M[T]) => void} fn
   * @returns {this}
   */
  on(type, fn) {
    const map = /** @type {Map<string, Set<Function>>} */ (LISTENERS.get(this));
    let set = map.get(type);
    if (!set) map.set(type, (set = new Set()));
    set.add(fn);
    return this;
  }

  /**
   * Removes a listener added with `on` (or `once`).
   * @template {keyof M & string} T
   * @param {T} type
   * @param {(...args: M[T]) => void} fn
   * @returns {this}
   */
  off(type, fn) {
    const set = LISTENERS.get(this)?.get(type);
    if (set) {
      set.delete(fn);
      for (const wrapped of set) {
        if (/** @type {any} */ (wrapped).listener === fn) set.delete(wrapped);
      }
    }
    return this;
  }

  /**
   * Adds a listener called at most once.
   * @template {keyof M & string} T
   * @param {T} type
   * @param {(...args: M[T]) => void} fn
   * @returns {this}
   */
  once(type, fn) {
    /** @type {any} */
    const wrapped = (/** @type {M[T]} */ ...args) => {
      this.off(type, wrapped);
      fn(...args);
    };
    wrapped.listener = fn;
    return this.on(type, wrapped);
  }
}

// ---------------------------------------------------------------------------------------
// Subscription
// ---------------------------------------------------------------------------------------

/**
 * The client's bookkeeping for one subscription (not part of the public API).
 * @typedef {object} SubCore
 * @property {string} key
 * @property {SubscriptionState} state
 * @property {Positions} positions last offset seen per partition
 * @property {Positions | undefined} since the caller's `since` (first send)
 * @property {number | undefined} sinceTime the caller's `since_time`
 * @property {number} subscribedAt client time of subscribe()
 * @property {boolean} sentBefore a subscribe for it went out on some connection
 * @property {string | null} requestId of the subscribe in flight
 * @property {boolean} resumeInFlight whether the subscribe in flight is a resume
 * @property {Promise<void> | null} unsubscribing
 * @property {(() => void) | null} resolveUnsubscribe
 * @property {number} duplicates events dropped as already seen
 * @property {(sub: Subscription<any>) => Promise<void>} unsubscribe the client's unsubscribe
 */

/** @type {WeakMap<Subscription<any>, SubCore>} */
const CORES = new WeakMap();

/**
 * One subscription: a channel and a filter. Created by `client.subscribe`, kept across
 * reconnects (resent with `since` = its positions) until `unsubscribe()` or a refusal.
 * @template [V=any]
 * @extends {Emitter<SubscriptionEventMap<V>>}
 */
export class Subscription extends Emitter {
  /**
   * @param {RealtimeEventsClient} client
   * @param {string} channel
   * @param {{organization_id: string, property_id?: string}} filter
   * @param {SubCore} core
   * Created by `client.subscribe()`; not meant to be constructed directly.
   */
  constructor(client, channel, filter, core) {
    super();
    /** The client this subscription belongs to. @readonly */
    this.client = client;
    /** @readonly */
    this.channel = channel;
    /** Organization and (optional) property, as strings. @readonly */
    this.filter = Object.freeze({ ...filter });
    CORES.set(this, core);
  }

  /**
   * `pending` (waiting for a connection), `subscribing` (sent, not acknowledged),
   * `active`, `unsubscribing`, `unsubscribed`, `failed` (refused by the gateway).
   * @returns {SubscriptionState}
   */
  get state() {
    return /** @type {SubCore} */ (CORES.get(this)).state;
  }

  /**
   * Last offset seen per partition, e.g. `{"0": 1200, "2": 17}` (a copy). Store it to resume
   * later with `subscribe(channel, filter, {since})`.
   * @returns {Positions}
   */
  positions() {
    return { .../** @type {SubCore} */ (CORES.get(this)).positions };
  }

  /**
   * Stops delivery at once (no more 'event' from it) and tells the gateway. Resolves when the
   * gateway confirmed (or at once when there was no connection).
   * @returns {Promise<void>}
   */
  unsubscribe() {
    return /** @type {SubCore} */ (CORES.get(this)).unsubscribe(this);
  }
}

// ---------------------------------------------------------------------------------------
// RealtimeEventsClient
// ---------------------------------------------------------------------------------------

/**
 * A connection to the gateway's `/ws` endpoint that stays up: see the README for the
 * reconnect, resume and token-refresh rules.
 * @extends {Emitter<ClientEventMap>}
 */
export class RealtimeEventsClient extends Emitter {
  /** @type {string} */ #url;
  /** @type {TokenSource | undefined} */ #token;
  /** @type {WebSocketConstructor | undefined} */ #WebSocket;
  /** @type {Required<ReconnectOptions> | null} */ #reconnect;
  /** @type {number} */ #refreshBeforeMs;
  /** @type {number} */ #pingIntervalMs;
  /** @type {number} */ #deadAfterMs;
  /** @type {{tenant: string | null, property: string | null, channels: Record<string, RoutingFields>}} */ #routing;
  /** @type {() => number} */ #random;
  /** @type {Timers} */ #timers;

  /** @type {ClientState} */ #state = 'closed';
  /** @type {WebSocketLike | null} */ #ws = null;
  #generation = 0;          // bumps with every socket and on close(): stale callbacks check it
  #ready = false;           // open and (if there is a token) authenticated
  #closeRequested = false;
  #everOpened = false;
  #attempt = 0;             // consecutive failed attempts since the last successful open
  #authFailures = 0;        // consecutive connections refused for their token
  #authRejected = false;    // this connection's first auth was refused
  #nextId = 1;
  /** @type {string | null} */ #user = null;
  /** @type {number | null} */ #expires = null;
  /** @type {Map<string, Subscription<any>>} */ #subs = new Map();
  /** @type {Map<string, {kind: 'auth' | 'subscribe' | 'unsubscribe', sub?: Subscription<any>, refresh?: boolean}>} */
  #requests = new Map();
  /** @type {{resolve: () => void, reject: (e: Error) => void}[]} */ #waiters = [];
  /** @type {any} */ #reconnectTimer = null;
  /** @type {any} */ #pingTimer = null;
  /** @type {any} */ #deadTimer = null;
  /** @type {any} */ #refreshTimer = null;
  #counters = { reconnects: 0, duplicatesDropped: 0, eventsDelivered: 0 };

  /**
   * @param {ClientOptions} [options]
   */
  constructor(options = {}) {
    super();
    this.#url = websocketUrl(options.url);
    if (options.token !== undefined && typeof options.token !== 'string' && typeof options.token !== 'function') {
      throw new TypeError('RealtimeEventsClient: token must be a string or a function');
    }
    this.#token = options.token;
    this.#WebSocket = options.WebSocket;
    this.#reconnect = options.reconnect === false ? null : { ...DEFAULT_RECONNECT, ...(options.reconnect || {}) };
    this.#refreshBeforeMs = options.refreshTokenBeforeMs ?? 60000;
    this.#pingIntervalMs = options.pingIntervalMs ?? 20000;
    this.#deadAfterMs = options.deadAfterMs ?? 3 * this.#pingIntervalMs;
    const routing = options.routing || {};
    this.#routing = {
      tenant: routing.tenant === undefined ? 'key.organization_id' : routing.tenant,
      property: routing.property === undefined ? 'value.property_id' : routing.property,
      channels: routing.channels || {},
    };
    this.#random = options.random || Math.random;
    this.#timers = options.timers || DEFAULT_TIMERS;
  }

  /** The `ws(s)://.../ws` URL connected to. */
  get url() {
    return this.#url;
  }

  /**
   * `connecting` (first connection, until authenticated), `open`, `reconnecting` (waiting
   * or trying again), `closed` (before `connect()`, after `close()`, or after giving up).
   * @returns {ClientState}
   */
  get state() {
    return this.#state;
  }

  /** The user the gateway authenticated (null before, or without a token). */
  get user() {
    return this.#user;
  }

  /** Counters: reconnects, duplicatesDropped (events dropped as already seen), eventsDelivered. */
  get stats() {
    return { ...this.#counters };
  }

  /**
   * Sends one message as it is (an object is sent as JSON, a string verbatim), e.g.
   * `client.send({type: 'ping'})`. For subscriptions use `subscribe`, whose state the client
   * keeps. Returns false when the connection is not open.
   * @param {object | string} message
   * @returns {boolean}
   */
  send(message) {
    return this.#send(message);
  }

  /** The active subscriptions. @returns {Subscription<any>[]} */
  subscriptions() {
    return [...this.#subs.values()];
  }

  /**
   * Opens the connection (and keeps it open). Resolves once it is open and authenticated;
   * rejects if the client gives up (see `close` events with `willReconnect: false`) or is
   * closed first. Calling it while connected resolves at once.
   * @returns {Promise<void>}
   */
  connect() {
    if (this.#state === 'open' && this.#ready) return Promise.resolve();
    const p = new Promise((resolve, reject) => {
      this.#waiters.push({ resolve: () => resolve(undefined), reject });
    });
    if (this.#state === 'closed') {
      this.#closeRequested = false;
      this.#attempt = 0;
      this.#authFailures = 0;
      this.#state = this.#everOpened ? 'reconnecting' : 'connecting';
      void this.#openSocket();
    }
    return /** @type {Promise<void>} */ (p);
  }

  /**
   * Closes the connection for good: no reconnect afterwards (until `connect()` or
   * `subscribe()` is called again). Subscriptions are kept, and resume if reopened.
   * @param {number} [code] 1000 or 3000-4999
   * @param {string} [reason]
   */
  close(code = 1000, reason = 'client closed') {
    this.#closeRequested = true;
    this.#generation++;
    this.#clearTimers();
    if (this.#reconnectTimer !== null) {
      this.#timers.clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    const ws = this.#ws;
    const wasClosed = this.#state === 'closed';
    this.#detach();
    if (ws) {
      try { ws.close(code, reason); } catch { /* already closing */ }
    }
    this.#afterConnectionLost();
    this.#state = 'closed';
    this.#rejectWaiters(new Error('RealtimeEventsClient: closed'));
    if (!wasClosed) emit(this, 'close', { code, reason, willReconnect: false });
  }

  /**
   * Subscribes to `channel` for `filter`. Returns at once; the subscription is sent when the
   * connection is open and authenticated (the connection is opened if it is not), and resent
   * with `since` after every reconnect. Subscribing again to the same channel and filter
   * returns the same Subscription.
   * @template [V=any]
   * @param {string} channel
   * @param {Filter} filter
   * @param {SubscribeOptions} [options]
   * @returns {Subscription<V>}
   */
  subscribe(channel, filter, options = {}) {
    if (typeof channel !== 'string' || channel.length === 0) throw new TypeError('subscribe: channel must be a non-empty string');
    if (!filter || !isId(filter.organization_id)) throw new TypeError('subscribe: filter.organization_id is required');
    if (filter.property_id !== undefined && filter.property_id !== null && !isId(filter.property_id)) {
      throw new TypeError('subscribe: filter.property_id must be a string or a number');
    }
    if (options.since !== undefined && options.since_time !== undefined) {
      throw new TypeError('subscribe: give since or since_time, not both');
    }
    /** @type {{organization_id: string, property_id?: string}} */
    const f = { organization_id: String(filter.organization_id) };
    if (filter.property_id !== undefined && filter.property_id !== null) f.property_id = String(filter.property_id);
    const key = `${channel}\u0000${f.organization_id}\u0000${f.property_id ?? ''}`;
    const existing = this.#subs.get(key);
    if (existing) return existing;

    /** @type {Positions} */
    const positions = {};
    if (options.since) {
      for (const [p, o] of Object.entries(options.since)) {
        if (!Number.isInteger(Number(p)) || typeof o !== 'number') throw new TypeError('subscribe: since must map partitions to offsets');
        positions[String(Number(p))] = o;
      }
    }
    /** @type {SubCore} */
    const core = {
      key,
      state: 'pending',
      positions,
      since: options.since ? { ...positions } : undefined,
      sinceTime: options.since_time,
      subscribedAt: this.#timers.now(),
      sentBefore: false,
      requestId: null,
      resumeInFlight: false,
      unsubscribing: null,
      resolveUnsubscribe: null,
      duplicates: 0,
      unsubscribe: (s) => this.#unsubscribe(s),
    };
    /** @type {Subscription<V>} */
    const sub = new Subscription(this, channel, f, core);
    this.#subs.set(key, sub);
    if (this.#ready) this.#sendSubscribe(sub);
    else if (this.#state === 'closed') this.connect().catch(() => { /* reported through 'close' / 'error' */ });
    return sub;
  }

  /**
   * Last offset seen per partition, per channel: `{channel: {partition: offset}}`. When one
   * channel has several subscriptions, a partition's value is the lowest of theirs (a resume
   * from it loses nothing; the extra events are dropped as duplicates by a subscription that
   * has seen them). `sub.positions()` is exact.
   * @returns {Record<string, Positions>}
   */
  positions() {
    /** @type {Record<string, Positions>} */
    const out = {};
    for (const sub of this.#subs.values()) {
      const mine = /** @type {SubCore} */ (CORES.get(sub)).positions;
      const ch = (out[sub.channel] ||= {});
      for (const [p, o] of Object.entries(mine)) {
        ch[p] = ch[p] === undefined ? o : Math.min(ch[p], o);
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------
  // Connection
  // -------------------------------------------------------------------------------------

  async #openSocket() {
    const gen = ++this.#generation;
    this.#authRejected = false;
    /** @type {string | undefined} */
    let token;
    try {
      token = await this.#getToken();
    } catch (err) {
      if (gen !== this.#generation) return;
      emit(this, 'error', { type: 'error', code: 'token', message: `token function failed: ${errorText(err)}`, cause: err });
      this.#onClosed(gen, 1006, 'no token');
      return;
    }
    if (gen !== this.#generation) return;
    const WS = this.#WebSocket || /** @type {any} */ (globalThis).WebSocket;
    if (!WS) {
      this.#closeRequested = true;
      emit(this, 'error', { type: 'error', code: 'transport', message: 'no WebSocket implementation: pass options.WebSocket (in Node.js 20, the ws package)' });
      this.#onClosed(gen, 1006, 'no WebSocket implementation');
      return;
    }
    /** @type {WebSocketLike} */
    let ws;
    try {
      ws = new WS(this.#url);
    } catch (err) {
      emit(this, 'error', { type: 'error', code: 'transport', message: `cannot open ${this.#url}: ${errorText(err)}`, cause: err });
      this.#onClosed(gen, 1006, 'cannot open');
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (gen !== this.#generation) return;
      this.#onOpen(gen, token);
    };
    ws.onmessage = (ev) => {
      if (gen !== this.#generation) return;
      this.#onFrame(ev.data);
    };
    ws.onerror = (ev) => {
      if (gen !== this.#generation) return;
      const msg = (ev && (ev.message || (ev.error && ev.error.message))) || 'WebSocket error';
      emit(this, 'error', { type: 'error', code: 'transport', message: String(msg), cause: ev && ev.error });
    };
    ws.onclose = (ev) => {
      if (gen !== this.#generation) return;
      this.#detach();
      this.#onClosed(gen, typeof ev.code === 'number' ? ev.code : 1006, String(ev.reason || ''));
    };
  }

  /** @returns {Promise<string | undefined>} */
  async #getToken() {
    const t = this.#token;
    if (typeof t === 'function') {
      const v = await t();
      if (typeof v !== 'string' || v.length === 0) throw new TypeError('the token function returned no token');
      return v;
    }
    return t;
  }

  /** @param {number} gen @param {string | undefined} token */
  #onOpen(gen, token) {
    this.#startHeartbeat(gen);
    if (token !== undefined) {
      const id = this.#newId('a');
      this.#requests.set(id, { kind: 'auth' });
      this.#send({ type: 'auth', id, token });
    } else {
      this.#onReady(null);
    }
  }

  /** @param {AuthenticatedMessage | null} auth */
  #onReady(auth) {
    this.#ready = true;
    this.#state = 'open';
    this.#attempt = 0;
    this.#authFailures = 0;
    const reconnected = this.#everOpened;
    this.#everOpened = true;
    if (auth) {
      this.#user = auth.user;
      this.#scheduleRefresh(auth.expires);
      emit(this, 'authenticated', auth);
    }
    // Subscriptions first, so nothing the app does in 'open' races them.
    for (const sub of [...this.#subs.values()]) {
      const core = /** @type {SubCore} */ (CORES.get(sub));
      if (core.state === 'pending') this.#sendSubscribe(sub);
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
    emit(this, 'open', { url: this.#url, reconnected, user: this.#user });
  }

  /**
   * The socket is gone (closed, failed, or presumed dead): decide whether to reconnect.
   * @param {number} gen
   * @param {number} code
   * @param {string} reason
   */
  #onClosed(gen, code, reason) {
    if (gen !== this.#generation) return;
    this.#generation++;
    this.#clearTimers();
    this.#ws = null;
    this.#afterConnectionLost();
    if (this.#closeRequested) {
      const was = this.#state;
      this.#state = 'closed';
      this.#rejectWaiters(new Error(`RealtimeEventsClient: closed (${code} ${reason})`));
      if (was !== 'closed') emit(this, 'close', { code, reason, willReconnect: false });
      return;
    }

    let reconnect = this.#reconnect !== null;
    let why = '';
    const tokenFn = typeof this.#token === 'function';
    const authProblem = this.#authRejected || (code === 1008 && (reason === 'unauthorized' || reason === 'authentication timeout'));
    if (authProblem) this.#authFailures++;
    if (code === 1008) {
      if (reason === 'token expired' || authProblem) {
        if (!tokenFn) { reconnect = false; why = 'the token was refused or expired and there is no token function to get a fresh one'; }
      } else {
        reconnect = false;
        why = 'policy violation';
      }
    } else if (authProblem && !tokenFn) {
      reconnect = false;
      why = 'the token was refused';
    }
    if (NO_RECONNECT_CODES.has(code)) { reconnect = false; why = 'protocol error'; }
    if (reconnect && this.#reconnect && this.#authFailures >= this.#reconnect.maxAuthFailures) {
      reconnect = false;
      why = `${this.#authFailures} connections in a row refused their token`;
    }
    if (reconnect && this.#reconnect && this.#attempt + 1 > this.#reconnect.maxAttempts) {
      reconnect = false;
      why = `${this.#attempt} reconnect attempts failed`;
    }

    emit(this, 'close', { code, reason, willReconnect: reconnect });
    if (!reconnect) {
      this.#state = 'closed';
      const message = `connection closed (${code}${reason ? ' ' + reason : ''})${why ? ': ' + why : ''}; not reconnecting`;
      if (this.#reconnect !== null || code === 1008) emit(this, 'error', { type: 'error', code: 'closed', message });
      this.#rejectWaiters(Object.assign(new Error(`RealtimeEventsClient: ${message}`), { code, reason }));
      return;
    }
    const settings = /** @type {Required<ReconnectOptions>} */ (this.#reconnect);
    this.#attempt++;
    const delayMs = backoffDelay(this.#attempt, settings, this.#random);
    this.#state = 'reconnecting';
    this.#counters.reconnects++;
    emit(this, 'reconnecting', { attempt: this.#attempt, delayMs });
    this.#reconnectTimer = this.#timers.setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#closeRequested || this.#state !== 'reconnecting') return;
      void this.#openSocket();
    }, delayMs);
  }

  /** Subscriptions go back to `pending` (resent on the next connection); replies in flight are void. */
  #afterConnectionLost() {
    this.#ready = false;
    this.#requests.clear();
    this.#expires = null;
    for (const sub of [...this.#subs.values()]) {
      const core = /** @type {SubCore} */ (CORES.get(sub));
      if (core.state === 'subscribing' || core.state === 'active') {
        core.state = 'pending';
        core.requestId = null;
      }
    }
    // Unsubscribes waiting for their answer: the gateway dropped everything with the connection.
    for (const sub of this.#unsubscribingSubs) this.#finishUnsubscribe(sub, undefined);
    this.#unsubscribingSubs.clear();
  }

  /** @type {Set<Subscription<any>>} */
  #unsubscribingSubs = new Set();

  #detach() {
    const ws = this.#ws;
    if (!ws) return;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onerror = () => {};  // `ws` throws on an 'error' event nobody listens to (e.g. closed while connecting)
    ws.onclose = null;
    this.#ws = null;
  }

  #clearTimers() {
    for (const t of [this.#pingTimer, this.#deadTimer, this.#refreshTimer]) {
      if (t !== null) this.#timers.clearTimeout(t);
    }
    this.#pingTimer = this.#deadTimer = this.#refreshTimer = null;
  }

  /**
   * `connect()` promises reject with an Error carrying the close `code` and `reason` (when
   * there was one).
   * @param {Error} err
   */
  #rejectWaiters(err) {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }

  /** @param {string} prefix */
  #newId(prefix) {
    return `${prefix}${this.#nextId++}`;
  }

  /** @param {object | string} msg @returns {boolean} */
  #send(msg) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return false;
    try {
      ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
      return true;
    } catch (err) {
      emit(this, 'error', { type: 'error', code: 'transport', message: `send failed: ${errorText(err)}`, cause: err });
      return false;
    }
  }

  // -------------------------------------------------------------------------------------
  // Heartbeat
  // -------------------------------------------------------------------------------------

  /** @param {number} gen */
  #startHeartbeat(gen) {
    const tick = () => {
      this.#pingTimer = null;
      if (gen !== this.#generation) return;
      this.#send({ type: 'ping' });
      this.#pingTimer = this.#timers.setTimeout(tick, this.#pingIntervalMs);
    };
    this.#pingTimer = this.#timers.setTimeout(tick, this.#pingIntervalMs);
    this.#armDeadTimer(gen);
  }

  /** @param {number} gen */
  #armDeadTimer(gen) {
    if (this.#deadTimer !== null) this.#timers.clearTimeout(this.#deadTimer);
    this.#deadTimer = this.#timers.setTimeout(() => {
      this.#deadTimer = null;
      if (gen !== this.#generation) return;
      const ws = this.#ws;
      this.#detach();
      if (ws) {
        try {
          if (typeof ws.terminate === 'function') ws.terminate();
          else ws.close(4000, 'no traffic');
        } catch { /* gone */ }
      }
      emit(this, 'error', { type: 'error', code: 'no_traffic', message: `nothing received for ${this.#deadAfterMs} ms; reconnecting` });
      this.#onClosed(gen, 1006, 'no traffic');
    }, this.#deadAfterMs);
  }

  // -------------------------------------------------------------------------------------
  // Token refresh
  // -------------------------------------------------------------------------------------

  /** @param {number | null | undefined} expires */
  #scheduleRefresh(expires, retry = false) {
    this.#expires = typeof expires === 'number' ? expires : null;
    if (this.#refreshTimer !== null) {
      this.#timers.clearTimeout(this.#refreshTimer);
      this.#refreshTimer = null;
    }
    if (typeof this.#token !== 'function' || this.#expires === null) return;
    const remaining = this.#expires - this.#timers.now();
    if (retry && remaining < 200) return;  // too late: the gateway closes with 'token expired', the reconnect gets a fresh one
    let delay = remaining - this.#refreshBeforeMs;
    if (delay < remaining / 2) delay = remaining / 2;  // short-lived tokens: halfway through
    if (retry) delay = Math.min(delay, 5000);
    delay = Math.max(0, Math.floor(delay));
    const gen = this.#generation;
    this.#refreshTimer = this.#timers.setTimeout(() => {
      this.#refreshTimer = null;
      if (gen === this.#generation) void this.#refresh(gen);
    }, delay);
  }

  /** @param {number} gen */
  async #refresh(gen) {
    /** @type {string | undefined} */
    let token;
    try {
      token = await this.#getToken();
    } catch (err) {
      if (gen !== this.#generation) return;
      emit(this, 'error', { type: 'error', code: 'token', message: `token refresh failed: ${errorText(err)}`, cause: err });
      this.#scheduleRefresh(this.#expires, true);
      return;
    }
    if (gen !== this.#generation || !this.#ready || token === undefined) return;
    const id = this.#newId('a');
    this.#requests.set(id, { kind: 'auth', refresh: true });
    this.#send({ type: 'auth', id, token });
  }

  // -------------------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------------------

  /** @param {unknown} data */
  #onFrame(data) {
    const gen = this.#generation;
    this.#armDeadTimer(gen);
    let text;
    if (typeof data === 'string') text = data;
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) text = new TextDecoder().decode(/** @type {any} */ (data));
    else text = String(data);
    /** @type {ServerMessage} */
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      emit(this, 'error', { type: 'error', code: 'bad_message', message: 'a message from the gateway is not JSON', cause: err });
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    emit(this, 'message', msg);
    if (gen !== this.#generation) return;  // a listener closed the client
    switch (msg.type) {
      case 'event': this.#onEvent(msg); break;
      case 'subscribed': this.#onSubscribed(msg); break;
      case 'unsubscribed': this.#onUnsubscribed(msg); break;
      case 'authenticated': this.#onAuthenticated(msg); break;
      case 'error': this.#onError(msg); break;
      case 'gap': this.#onGap(msg); break;
      case 'status': emit(this, 'status', msg); break;
      default: break;  // ping, pong, and anything newer
    }
  }

  /** @param {AuthenticatedMessage} msg */
  #onAuthenticated(msg) {
    const req = msg.id !== undefined ? this.#requests.get(msg.id) : undefined;
    if (req) this.#requests.delete(/** @type {string} */ (msg.id));
    if (!this.#ready) {
      this.#onReady(msg);
      return;
    }
    this.#user = msg.user;
    this.#scheduleRefresh(msg.expires);
    emit(this, 'authenticated', msg);
  }

  /** @param {ErrorMessage} msg */
  #onError(msg) {
    const req = msg.id ? this.#requests.get(msg.id) : undefined;
    if (req && msg.id) this.#requests.delete(msg.id);
    if (req && req.kind === 'auth') {
      if (this.#ready) {
        this.#scheduleRefresh(this.#expires, true);  // refresh refused: try again while time is left
      } else if (msg.code === 'unauthorized') {
        this.#authRejected = true;  // the gateway closes with 1008 next
      } else if (msg.code !== 'limit_exceeded') {  // limit_exceeded: a 1013 close follows
        emit(this, 'error', msg);
        this.#onReady(null);  // e.g. "this gateway does not use tokens": carry on without
        return;
      }
    } else if (req && req.kind === 'subscribe' && req.sub) {
      const sub = req.sub;
      const core = /** @type {SubCore} */ (CORES.get(sub));
      if (core.requestId === msg.id && (core.state === 'subscribing' || core.state === 'unsubscribing')) {
        this.#fail(sub, msg);
      }
    } else if (req && req.kind === 'unsubscribe' && req.sub) {
      // e.g. "not subscribed": either way, it is not subscribed any more.
      this.#finishUnsubscribe(req.sub, undefined);
    } else if (!msg.id && msg.code === 'forbidden') {
      // A refreshed token no longer allows a subscription: the gateway names only the channel.
      const m = /^subscription to (.+) is no longer allowed/.exec(msg.message || '');
      if (m) {
        const onChannel = [...this.#subs.values()].filter((s) => s.channel === m[1]);
        if (onChannel.length === 1) this.#fail(onChannel[0], msg);
      }
    }
    emit(this, 'error', msg);
  }

  /** @param {Subscription<any>} sub @param {ErrorMessage} msg */
  #fail(sub, msg) {
    const core = /** @type {SubCore} */ (CORES.get(sub));
    core.state = 'failed';
    core.requestId = null;
    if (this.#subs.get(core.key) === sub) this.#subs.delete(core.key);
    emit(sub, 'error', msg);
  }

  /** @param {Subscription<any>} sub */
  #sendSubscribe(sub) {
    const core = /** @type {SubCore} */ (CORES.get(sub));
    const id = this.#newId('s');
    /** @type {Record<string, unknown>} */
    const msg = { type: 'subscribe', id, channel: sub.channel, filter: { ...sub.filter } };
    const seen = Object.keys(core.positions).length > 0;
    if (seen) msg.since = { ...core.positions };
    else if (core.sinceTime !== undefined) msg.since_time = core.sinceTime;
    else if (core.sentBefore) msg.since_time = core.subscribedAt;  // saw nothing yet: lose nothing since subscribe()
    core.resumeInFlight = 'since' in msg || 'since_time' in msg;
    core.state = 'subscribing';
    core.requestId = id;
    core.sentBefore = true;
    this.#requests.set(id, { kind: 'subscribe', sub });
    this.#send(msg);
  }

  /** @param {SubscribedMessage} msg */
  #onSubscribed(msg) {
    const req = msg.id ? this.#requests.get(msg.id) : undefined;
    if (!req || req.kind !== 'subscribe' || !req.sub) return;
    this.#requests.delete(/** @type {string} */ (msg.id));
    const core = /** @type {SubCore} */ (CORES.get(req.sub));
    if (core.requestId !== msg.id || core.state !== 'subscribing') return;
    core.state = 'active';
    core.requestId = null;
    emit(req.sub, 'subscribed', { ...msg, resumed: core.resumeInFlight });
  }

  /** @param {Subscription<any>} sub @returns {Promise<void>} */
  #unsubscribe(sub) {
    const core = /** @type {SubCore} */ (CORES.get(sub));
    if (core.unsubscribing) return core.unsubscribing;
    if (core.state === 'unsubscribed' || core.state === 'failed') return Promise.resolve();
    if (this.#subs.get(core.key) === sub) this.#subs.delete(core.key);
    core.unsubscribing = new Promise((resolve) => { core.resolveUnsubscribe = () => resolve(undefined); });
    const onServer = this.#ready && (core.state === 'subscribing' || core.state === 'active');
    core.state = 'unsubscribing';
    if (onServer) {
      const id = this.#newId('u');
      this.#requests.set(id, { kind: 'unsubscribe', sub });
      this.#unsubscribingSubs.add(sub);
      if (this.#send({ type: 'unsubscribe', id, channel: sub.channel, filter: { ...sub.filter } })) {
        return core.unsubscribing;
      }
      this.#requests.delete(id);
      this.#unsubscribingSubs.delete(sub);
    }
    const p = core.unsubscribing;
    queueMicrotask(() => this.#finishUnsubscribe(sub, undefined));
    return p;
  }

  /** @param {UnsubscribedMessage} msg */
  #onUnsubscribed(msg) {
    const req = msg.id ? this.#requests.get(msg.id) : undefined;
    if (!req || req.kind !== 'unsubscribe' || !req.sub) return;
    this.#requests.delete(/** @type {string} */ (msg.id));
    this.#finishUnsubscribe(req.sub, msg);
  }

  /** @param {Subscription<any>} sub @param {UnsubscribedMessage | undefined} msg */
  #finishUnsubscribe(sub, msg) {
    const core = /** @type {SubCore} */ (CORES.get(sub));
    this.#unsubscribingSubs.delete(sub);
    if (core.state === 'unsubscribed') return;
    core.state = 'unsubscribed';
    core.requestId = null;
    emit(sub, 'unsubscribed', msg || { type: 'unsubscribed', channel: sub.channel });
    if (core.resolveUnsubscribe) core.resolveUnsubscribe();
  }

  /**
   * Finds the subscription an event belongs to and delivers it there, unless that
   * subscription has already seen its offset (a duplicate, dropped).
   * @param {EventMessage} event
   */
  #onEvent(event) {
    /** @type {Subscription<any>[]} */
    let candidates = [];
    for (const sub of this.#subs.values()) {
      if (sub.channel === event.channel && /** @type {SubCore} */ (CORES.get(sub)).state === 'active') candidates.push(sub);
    }
    if (candidates.length === 0) return;  // e.g. unsubscribed a moment ago
    if (candidates.length > 1) {
      const fields = { ...this.#routing, ...(this.#routing.channels[event.channel] || {}) };
      const tenant = readField(event, fields.tenant);
      const property = readField(event, fields.property);
      const narrowed = candidates.filter((s) => {
        if (isId(tenant) && String(tenant) !== s.filter.organization_id) return false;
        if (s.filter.property_id !== undefined && isId(property) && String(property) !== s.filter.property_id) return false;
        return true;
      });
      if (narrowed.length > 0) candidates = narrowed;
    }
    // The gateway sends one copy per matching subscription: each copy goes to the first
    // candidate that has not seen this offset yet.
    const partition = String(event.partition);
    for (const sub of candidates) {
      const core = /** @type {SubCore} */ (CORES.get(sub));
      const last = core.positions[partition];
      if (last !== undefined && event.offset <= last) continue;
      core.positions[partition] = event.offset;
      this.#counters.eventsDelivered++;
      emit(sub, 'event', event);
      emit(this, 'event', event, sub);
      return;
    }
    this.#counters.duplicatesDropped++;
    /** @type {SubCore} */ (CORES.get(candidates[0])).duplicates++;
  }

  /**
   * A gap (events dropped for a slow client) is told to the app: positions are not moved
   * back, so a later resume does not fetch the hole again; `gap.since` does.
   * @param {GapMessage} msg
   */
  #onGap(msg) {
    for (const sub of this.#subs.values()) {
      const state = /** @type {SubCore} */ (CORES.get(sub)).state;
      if (sub.channel === msg.channel && (state === 'active' || state === 'subscribing')) emit(sub, 'gap', msg);
    }
    emit(this, 'gap', msg);
  }
}

/** @param {unknown} err */
function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------
// AdminClient
// ---------------------------------------------------------------------------------------

/**
 * @typedef {object} AdminClientOptions
 * @property {string} [baseUrl] `http(s)://host:port`; in a browser defaults to the page's origin
 * @property {TokenSource} [token] the admin token (sent as `Authorization: Bearer`)
 * @property {typeof fetch} [fetch] default `globalThis.fetch`
 */

/**
 * An HTTP error from the admin API.
 * @typedef {Error & {status: number, body: string}} AdminHttpError
 */

/**
 * Reads the gateway's admin API.
 */
export class AdminClient {
  /** @type {string} */ #baseUrl;
  /** @type {TokenSource | undefined} */ #token;
  /** @type {typeof fetch | undefined} */ #fetch;

  /** @param {AdminClientOptions} [options] */
  constructor(options = {}) {
    let base = options.baseUrl;
    const loc = /** @type {any} */ (globalThis).location;
    if (!base) {
      if (!loc || !loc.origin) throw new TypeError('AdminClient: options.baseUrl is required outside a browser page');
      base = String(loc.origin);
    }
    const u = loc && loc.href ? new URL(base, loc.href) : new URL(base);
    if (u.protocol === 'ws:') u.protocol = 'http:';
    else if (u.protocol === 'wss:') u.protocol = 'https:';
    this.#baseUrl = u.origin + u.pathname.replace(/\/+$/, '').replace(/\/ws$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch;
  }

  /**
   * `GET /api/admin/summary`.
   * @returns {Promise<any>}
   */
  summary() {
    return this.#get('/api/admin/summary');
  }

  /**
   * `GET /api/admin/clients?sort=&limit=` (`sort`: `queue`, the largest send queues first, or `age`).
   * @param {{sort?: 'queue' | 'age' | (string & {}), limit?: number}} [options]
   * @returns {Promise<any>}
   */
  clients(options = {}) {
    const q = new URLSearchParams();
    if (options.sort !== undefined) q.set('sort', String(options.sort));
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    const qs = q.toString();
    return this.#get('/api/admin/clients' + (qs ? '?' + qs : ''));
  }

  /** @param {string} path */
  async #get(path) {
    const f = this.#fetch || globalThis.fetch;
    if (!f) throw new Error('AdminClient: no fetch implementation');
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    const token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await f(this.#baseUrl + path, { headers });
    if (!res.ok) {
      let body = '';
      try { body = await res.text(); } catch { /* none */ }
      const detail = body.trim().split('\n')[0].slice(0, 200);
      const message = res.status === 401
        ? `admin API: the admin token was refused (401)${detail ? ': ' + detail : ''}`
        : `admin API: GET ${path} failed with HTTP ${res.status}${detail ? ': ' + detail : ''}`;
      const err = /** @type {AdminHttpError} */ (new Error(message));
      err.status = res.status;
      err.body = body;
      throw err;
    }
    return res.json();
  }
}
