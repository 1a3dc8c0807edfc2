// Type-checked by `npm run typecheck` (never run): proves the published typings work.
import { RealtimeEventsClient, AdminClient, backoffDelay } from '@realtime-events/client';
import type { EventMessage, ServerMessage, Subscription, Positions } from '@realtime-events/client';

interface Payment { property_id: string; amount: number; reservation_id: string }

const client = new RealtimeEventsClient({
  url: 'http://localhost:5000',
  token: async () => 'a.jwt.token',
  reconnect: { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.5 },
  refreshTokenBeforeMs: 60_000,
});

client.on('event', (e, sub) => {
  const offset: number = e.offset;
  const partition: number = e.partition;
  const channel: string = sub.channel;
  console.log(channel, partition, offset, e.value);
});
client.on('close', ({ code, reason, willReconnect }) => console.log(code, reason.length, willReconnect === true));
client.on('reconnecting', ({ attempt, delayMs }) => console.log(attempt + delayMs));
client.on('status', (s) => { const k: 'available' | 'unavailable' = s.kafka; console.log(k); });
client.on('gap', (g) => { const since: Positions = g.since; console.log(g.dropped, since); });
client.on('authenticated', (a) => { const exp: number | null = a.expires; console.log(a.user, exp); });
client.on('error', (err) => console.log(err.code, err.message));
client.on('message', (m: ServerMessage) => {
  // The union narrows on `type`.
  switch (m.type) {
    case 'event': { const o: number = m.offset; console.log(o); break; }
    case 'subscribed': { const r: boolean = m.recovered; console.log(r, m.replayed); break; }
    case 'error': { const c: string = m.code; console.log(c); break; }
    case 'status': console.log(m.kafka); break;
    default: break;
  }
});

const payments: Subscription<Payment> = client.subscribe<Payment>('payment', { organization_id: '42', property_id: 7 }, { since: { '0': 1200 } });
payments.on('event', (e: EventMessage<Payment>) => {
  const amount: number = e.value.amount;
  console.log(amount.toFixed(2), e.value.property_id);
});
payments.on('subscribed', (s) => { if (!s.recovered) console.log('reload state'); console.log(s.resumed); });
payments.on('error', (e) => console.log(e.code === 'forbidden'));
const where: Positions = payments.positions();
const all: Record<string, Positions> = client.positions();
console.log(where, all, client.state satisfies 'connecting' | 'open' | 'reconnecting' | 'closed');

const untyped = client.subscribe('guest', { organization_id: 42 }, { since_time: Date.now() - 60_000 });
untyped.on('event', (e) => console.log(e.value?.anything));

async function main(): Promise<void> {
  await client.connect();
  const sent: boolean = client.send({ type: 'ping' });
  console.log(sent);
  await payments.unsubscribe();
  client.close();
  const admin = new AdminClient({ baseUrl: 'http://localhost:5000', token: 'admin-token' });
  try {
    console.log(await admin.summary(), await admin.clients({ sort: 'queue', limit: 10 }));
  } catch (err) {
    console.log((err as Error & { status: number }).status);
  }
  console.log(backoffDelay(3, { initialDelayMs: 100 }, () => 0.5));
}
void main;

// @ts-expect-error: an unknown event name is refused
client.on('nope', () => {});
// @ts-expect-error: a filter needs organization_id
client.subscribe('payment', { property_id: '7' });
// @ts-expect-error: listener arguments are typed
client.on('reconnecting', (info: { attempt: string }) => console.log(info));
