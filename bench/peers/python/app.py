"""Benchmark peer (issue 7): the prototype's design in Python, its consumer flaw fixed.

FastAPI on uvicorn (one worker, one asyncio loop) serves
  ws://127.0.0.1:PORT/getEvents/{channel}?organization_id=O&user_id=U[&property_id=P]
as in docs/protocol.md §1 and §3. The prototype gave every connection a share
of one consumer group, so each record reached one connection only. Here one
confluent-kafka consumer serves the whole process: it assigns itself every
partition of TOPIC at the end offsets read at start-up (no group, nothing
split), polls in a thread, and hands each batch of records to the asyncio loop
with call_soon_threadsafe. The loop renders each record's event message once
and queues the same string on every matching connection (dict org -> set);
a sender task per connection writes its queue in order.

Environment: KAFKA_BOOTSTRAP_SERVER (127.0.0.1:9092), TOPIC (payments),
CHANNEL (payment), PING_SECONDS (20), QUEUE_CAP_BYTES (4 MiB: a connection
with more queued is dropped), MAX_SECONDS (0 = until SIGTERM). uvicorn only accepts connections once start-up
(the assignment) is done, so every record produced after that is delivered.
"""

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import threading
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9092")
TOPIC = os.environ.get("TOPIC", "payments")
CHANNEL = os.environ.get("CHANNEL", "payment")
PING_SECONDS = float(os.environ.get("PING_SECONDS", "20"))
QUEUE_CAP = int(os.environ.get("QUEUE_CAP_BYTES", str(4 << 20)))
MAX_SECONDS = float(os.environ.get("MAX_SECONDS", "0"))  # 0: until SIGTERM
ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
PING = '{"type":"ping"}'

log = logging.getLogger("peer-python")
logging.basicConfig(level=logging.INFO, format="%(asctime)s peer-python: %(message)s")


class Conn:
    """One subscribed WebSocket. Thread: the asyncio loop only."""

    __slots__ = ("ws", "org", "prop", "queue", "queued_bytes", "wake", "closed", "dropped")

    def __init__(self, ws, org, prop):
        self.ws = ws
        self.org = org
        self.prop = prop
        self.queue = []  # texts not yet sent, in order
        self.queued_bytes = 0
        self.wake = asyncio.Event()
        self.closed = False
        self.dropped = False  # over the queue cap


subs: dict[str, set[Conn]] = {}  # organization_id -> connections
stats = {"records": 0, "deliveries": 0, "dropped": 0, "connections": 0}


def enqueue(conn: Conn, text: str) -> None:
    if conn.closed:
        return
    if conn.queued_bytes + len(text) > QUEUE_CAP:
        stats["dropped"] += 1
        drop(conn)
        return
    conn.queue.append(text)
    conn.queued_bytes += len(text)
    conn.wake.set()


def drop(conn: Conn) -> None:
    unsubscribe(conn)
    conn.dropped = True
    conn.closed = True
    conn.wake.set()


def unsubscribe(conn: Conn) -> None:
    s = subs.get(conn.org)
    if s is not None and conn in s:
        s.discard(conn)
        stats["connections"] -= 1
        if not s:
            del subs[conn.org]


def _json_or_text(raw):
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def dispatch(records) -> None:
    """Fans a batch of Kafka messages out. Thread: the asyncio loop."""
    for msg in records:
        stats["records"] += 1
        key = _json_or_text(msg.key())
        value = _json_or_text(msg.value())
        org = None
        if isinstance(key, dict) and "organization_id" in key:
            org = str(key["organization_id"])
        elif isinstance(value, dict) and "organization_id" in value:
            org = str(value["organization_id"])
        conns = subs.get(org) if org is not None else None
        if not conns:
            continue
        _, ts = msg.timestamp()
        text = json.dumps({"type": "event", "channel": CHANNEL, "topic": msg.topic(),
                           "partition": msg.partition(), "offset": msg.offset(),
                           "timestamp": ts, "key": key, "value": value},
                          separators=(",", ":"))
        prop = str(value["property_id"]) if isinstance(value, dict) and "property_id" in value else None
        for conn in list(conns):
            if conn.prop is None or conn.prop == prop:
                enqueue(conn, text)


class Ingest:
    """The process's one consumer: every partition from its end, polled in a thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.stop = threading.Event()
        self.consumer = Consumer({
            "bootstrap.servers": BOOTSTRAP,
            # Required by the client; no group is joined (assign, no commits).
            "group.id": f"rte-peer-python-{os.getpid()}-{int(time.time())}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.wait.max.ms": 100,
            "fetch.min.bytes": 1,
        })
        self.thread = threading.Thread(target=self.run, name="kafka-poll", daemon=True)

    def assign_at_end(self) -> None:
        md = self.consumer.list_topics(TOPIC, timeout=10)
        topic = md.topics.get(TOPIC)
        if topic is None or topic.error is not None or not topic.partitions:
            raise RuntimeError(f"topic {TOPIC!r} not found: {topic.error if topic else 'no metadata'}")
        tps = []
        for p in sorted(topic.partitions):
            _, high = self.consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10,
                                                          cached=False)
            tps.append(TopicPartition(TOPIC, p, high))
        self.consumer.assign(tps)
        log.info("assigned %s", ", ".join(f"{tp.partition}@{tp.offset}" for tp in tps))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                # consume(n, t) waits until n records or t: that is a latency
                # floor. Wait for one record, then take what is already there.
                first = self.consumer.poll(0.1)
                if first is None:
                    continue
                msgs = [first] + self.consumer.consume(num_messages=499, timeout=0)
            except KafkaException as e:
                log.warning("consume: %s", e)
                continue
            good = [m for m in msgs if m.error() is None]
            if len(good) != len(msgs):
                for m in msgs:
                    if m.error() is not None:
                        log.warning("consume error: %s", m.error())
            if good:
                self.loop.call_soon_threadsafe(dispatch, good)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.consumer.close()


async def pinger() -> None:
    while True:
        await asyncio.sleep(PING_SECONDS)
        for conns in list(subs.values()):
            for conn in list(conns):
                enqueue(conn, PING)


@contextlib.asynccontextmanager
async def lifespan(_app):
    ingest = Ingest(asyncio.get_running_loop())
    await asyncio.to_thread(ingest.assign_at_end)
    ingest.thread.start()
    ping_task = asyncio.create_task(pinger())
    timed_out = threading.Event()

    def time_up():
        timed_out.set()
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down gracefully

    if MAX_SECONDS > 0:
        asyncio.get_running_loop().call_later(MAX_SECONDS, time_up)
    log.info("ready (topic %s, bootstrap %s)", TOPIC, BOOTSTRAP)
    try:
        yield
    finally:
        ping_task.cancel()
        await asyncio.to_thread(ingest.close)
        log.info("stopped: %s", stats)
        if timed_out.is_set():  # uvicorn would re-raise the SIGTERM: exit 0 instead
            logging.shutdown()
            os._exit(0)


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return {"status": "ok", **stats}


async def sender(conn: Conn) -> None:
    ws = conn.ws
    while not conn.closed:
        if not conn.queue:
            conn.wake.clear()
            await conn.wake.wait()
            continue
        batch, conn.queue = conn.queue, []
        for text in batch:
            conn.queued_bytes -= len(text)
            await ws.send_text(text)
            stats["deliveries"] += 1


@app.websocket("/getEvents/{channel}")
async def get_events(websocket: WebSocket, channel: str, organization_id: str | None = None,
                     user_id: str | None = None, property_id: str | None = None):
    await websocket.accept()
    if channel != CHANNEL:
        await websocket.close(code=1008, reason="unknown channel")
        return
    if not organization_id or not ID_RE.match(organization_id):
        await websocket.close(code=1008, reason="missing or malformed organization_id")
        return
    if property_id is not None and not ID_RE.match(property_id):
        await websocket.close(code=1008, reason="malformed property_id")
        return
    conn = Conn(websocket, organization_id, property_id)
    subs.setdefault(organization_id, set()).add(conn)
    stats["connections"] += 1
    send_task = asyncio.create_task(sender(conn))
    try:
        while True:
            recv = asyncio.ensure_future(websocket.receive_text())
            done, _ = await asyncio.wait({recv, send_task}, return_when=asyncio.FIRST_COMPLETED)
            if send_task in done:  # dropped at the cap, or the send failed
                recv.cancel()
                send_task.result()
                break
            text = recv.result()
            if text == PING:
                enqueue(conn, '{"type":"pong"}')
    except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
        pass
    except Exception as e:  # a send on a closed socket, for instance
        log.debug("connection ended: %r", e)
    finally:
        unsubscribe(conn)
        conn.closed = True
        conn.wake.set()
        send_task.cancel()
        if conn.dropped:
            with contextlib.suppress(Exception):
                await websocket.close(code=1008, reason="slow consumer")
