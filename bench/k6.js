// k6 load test of a running realtime-events gateway (bench/k6/README.md).
//
// Two scenarios, one per endpoint, each VU holding one WebSocket at a time:
//   getevents  ws://HOST/getEvents/{CHANNEL}?organization_id=O&user_id=U  (the prototype's endpoint)
//   ws         ws://HOST/ws, one {"type":"subscribe"} per channel of CHANNELS
// Each VU is one user of one organization (ORGS, round robin); every event it
// receives must be of that organization (foreign_events must stay 0).
//
//   k6 run bench/k6.js                                   # http://localhost:5000, no auth
//   k6 run -e BASE_URL=https://rt.example.com -e JWT_SECRET=... -e ORGS=1,2,3 -e VUS=50 -e DURATION=2m bench/k6.js
//
// Environment (k6 -e NAME=value, or the process environment):
//   BASE_URL      http(s)://host:port of the gateway or its load balancer   [http://localhost:5000]
//   CHANNEL       channel of the getevents scenario                          [payment]
//   CHANNELS      channels the ws scenario subscribes to, comma-separated    [CHANNEL]
//   ORGS          organization ids, comma-separated; VU n gets ORGS[n % len]  [1,2,3,4,5]
//   VUS           VUs per scenario                                           [10]
//   DURATION      length of each scenario                                    [30s]
//   HOLD          seconds one connection stays open before the VU reconnects [30]
//   SCENARIOS     which scenarios run: getevents,ws                          [both]
//   Tokens (AUTH_MODE=jwt), the first that is set:
//   JWT_SECRET    mint HS256 tokens here: {"sub":"k6-<vu>","orgs":["<org>"],"exp":now+TOKEN_TTL}
//                 (claims named by JWT_USER_CLAIM / JWT_ORGS_CLAIM, iss/aud from JWT_ISSUER / JWT_AUDIENCE)
//   TOKENS_FILE   JSON file [{"token":"...","org":"42"}, ...]; VU n uses entry n % len
//   TOKEN         one token for every VU (its organizations must cover ORGS)
//   (none)        no credentials: AUTH_MODE=none on the gateway
//   TENANT_FIELD  where an event's organization is: key.organization_id, value.org, header.x  [key.organization_id]
//   LATENCY_P95_MS  threshold on the 95th percentile of event latency        [1000]

import { check, fail, sleep } from 'k6';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import ws from 'k6/ws';

const env = (name, dflt) => (__ENV[name] !== undefined && __ENV[name] !== '' ? __ENV[name] : dflt);
const list = (s) => String(s).split(',').map((x) => x.trim()).filter((x) => x.length > 0);

const BASE_URL = env('BASE_URL', 'http://localhost:5000').replace(/\/+$/, '');
const WS_BASE = BASE_URL.replace(/^http(s?):\/\//, 'ws$1://');
const CHANNEL = env('CHANNEL', 'payment');
const CHANNELS = list(env('CHANNELS', CHANNEL));
const ORGS = list(env('ORGS', '1,2,3,4,5'));
const VUS = parseInt(env('VUS', '10'), 10);
const DURATION = env('DURATION', '30s');
const HOLD_S = parseFloat(env('HOLD', '30'));
const SCENARIOS = list(env('SCENARIOS', 'getevents,ws'));
const JWT_SECRET = env('JWT_SECRET', '');
const TOKEN_TTL_S = parseInt(env('TOKEN_TTL', '3600'), 10);
const TENANT_PATH = list(env('TENANT_FIELD', 'key.organization_id').replace(/\./g, ','));
const LATENCY_P95_MS = parseFloat(env('LATENCY_P95_MS', '1000'));
// open() only works in the init context: read the tokens file once, here.
const TOKENS = __ENV.TOKENS_FILE ? JSON.parse(open(__ENV.TOKENS_FILE)) : null;

if (!/^wss?:\/\//.test(WS_BASE)) throw new Error(`BASE_URL must start with http:// or https://: ${BASE_URL}`);
if (ORGS.length === 0) throw new Error('ORGS is empty');

// --- metrics
const eventLatency = new Trend('event_latency', true); // now - the record's Kafka timestamp
const eventsReceived = new Counter('events_received');
const foreignEvents = new Counter('foreign_events'); // another organization's event: must stay 0
const gaps = new Counter('gap_messages');
const serverErrors = new Counter('server_errors'); // {"type":"error"} answers
const upgradeOk = new Rate('ws_upgrade_ok');

const scenarioDefs = {
  getevents: { executor: 'constant-vus', exec: 'getEvents', vus: VUS, duration: DURATION, gracefulStop: `${HOLD_S + 5}s` },
  ws: { executor: 'constant-vus', exec: 'multiChannel', vus: VUS, duration: DURATION, gracefulStop: `${HOLD_S + 5}s` },
};
const scenarios = {};
for (const name of SCENARIOS) {
  if (!scenarioDefs[name]) throw new Error(`unknown scenario ${name} (getevents, ws)`);
  scenarios[name] = scenarioDefs[name];
}

export const options = {
  scenarios,
  thresholds: {
    foreign_events: ['count==0'], // tenant isolation: never another organization's record
    events_received: ['count>0'],
    ws_upgrade_ok: ['rate>0.99'],
    checks: ['rate>0.99'],
    event_latency: [`p(95)<${LATENCY_P95_MS}`],
    server_errors: ['count==0'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

// --- identity of this VU
function identity() {
  const vu = exec.vu.idInTest;
  if (TOKENS && TOKENS.length > 0) {
    const t = TOKENS[vu % TOKENS.length];
    return { user: `k6-${vu}`, org: String(t.org), token: t.token };
  }
  const org = ORGS[vu % ORGS.length];
  const user = `k6-${vu}`;
  if (JWT_SECRET) return { user, org, token: mintToken(user, org) };
  return { user, org, token: env('TOKEN', '') };
}

function b64url(s) {
  return encoding.b64encode(s, 'rawurl');
}

// HS256 JWT (RFC 7519): base64url(header).base64url(claims).base64url(HMAC-SHA256).
function mintToken(user, org) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iat: now, exp: now + TOKEN_TTL_S };
  claims[env('JWT_USER_CLAIM', 'sub')] = user;
  claims[env('JWT_ORGS_CLAIM', 'orgs')] = [org];
  if (__ENV.JWT_ISSUER) claims.iss = __ENV.JWT_ISSUER;
  if (__ENV.JWT_AUDIENCE) claims.aud = __ENV.JWT_AUDIENCE;
  const signingInput = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${signingInput}.${crypto.hmac('sha256', JWT_SECRET, signingInput, 'base64rawurl')}`;
}

function tenantOf(event) {
  let v = event;
  const [where, ...rest] = TENANT_PATH;
  if (where === 'header') return event.headers ? event.headers[rest.join('.')] : undefined;
  for (const part of [where, ...rest]) {
    if (v === null || v === undefined) return undefined;
    v = v[part];
  }
  return v;
}

// One connection: counts events, checks their organization, closes after HOLD.
function session(url, id, onOpen, wantSubscribed) {
  const params = { headers: {}, tags: { endpoint: url.includes('/getEvents/') ? 'getEvents' : 'ws' } };
  if (id.token) params.headers.Authorization = `Bearer ${id.token}`;
  let received = 0;
  let foreign = 0;
  let subscribed = 0;
  const res = ws.connect(url, params, (socket) => {
    socket.on('open', () => {
      if (onOpen) onOpen(socket);
      socket.setTimeout(() => socket.close(), HOLD_S * 1000);
    });
    socket.on('message', (data) => {
      let msg;
      try {
        msg = JSON.parse(data);
      } catch (e) {
        serverErrors.add(1, { reason: 'not_json' });
        return;
      }
      switch (msg.type) {
        case 'event': {
          received++;
          eventsReceived.add(1);
          if (typeof msg.timestamp === 'number') eventLatency.add(Date.now() - msg.timestamp);
          if (String(tenantOf(msg)) !== id.org) {
            foreign++;
            foreignEvents.add(1);
          }
          break;
        }
        case 'subscribed':
          subscribed++;
          break;
        case 'gap':
          gaps.add(1);
          break;
        case 'error':
          serverErrors.add(1, { code: String(msg.code) });
          break;
        default: // ping, pong, status, authenticated
          break;
      }
    });
    socket.on('error', (e) => {
      if (e.error() !== 'websocket: close sent') serverErrors.add(1, { reason: 'socket' });
    });
  });
  const upgraded = !!res && res.status === 101;
  upgradeOk.add(upgraded);
  check(res, { 'upgrade 101': (r) => !!r && r.status === 101 });
  if (!upgraded) {
    sleep(1); // refused (401, 429, ...) or unreachable: don't spin
    return;
  }
  if (wantSubscribed) check(subscribed, { 'subscribed to every channel': (n) => n === wantSubscribed });
  check(received, { 'events received': (n) => n > 0 });
  check(foreign, { 'only own organization': (n) => n === 0 });
}

// Scenario getevents: the prototype's endpoint, subscribed by the URL.
export function getEvents() {
  const id = identity();
  const q = `organization_id=${encodeURIComponent(id.org)}&user_id=${encodeURIComponent(id.user)}`;
  session(`${WS_BASE}/getEvents/${encodeURIComponent(CHANNEL)}?${q}`, id, null, 0);
}

// Scenario ws: the multi-channel endpoint, one subscribe per channel.
export function multiChannel() {
  const id = identity();
  session(`${WS_BASE}/ws`, id, (socket) => {
    CHANNELS.forEach((channel, i) => {
      socket.send(JSON.stringify({ type: 'subscribe', id: `s${i}`, channel, filter: { organization_id: id.org } }));
    });
  }, CHANNELS.length);
}

export function setup() {
  if (!JWT_SECRET && !TOKENS && !__ENV.TOKEN) {
    console.log('no JWT_SECRET / TOKENS_FILE / TOKEN: connecting without credentials (AUTH_MODE=none)');
  }
  if (JWT_SECRET && JWT_SECRET.length < 32) fail('JWT_SECRET is shorter than 32 bytes: the gateway would refuse it');
}
