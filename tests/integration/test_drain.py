"""Graceful drain on SIGTERM: the listening socket closes at once (new
connections are refused), Kafka input stops, every client receives every
frame already queued for it followed by close 1001 "server shutting down;
reconnect", and the process exits within DRAIN_TIMEOUT, cutting clients that
do not read by then."""

import json
import socket
import struct
import time

from helpers import produce_records, record, wait_until
from rawws import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT
from test_slow_consumer import StalledWebSocket

PAD = "x" * 8000  # ~8 KB per record: a few hundred fill the kernel's buffers


def _refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def _read_events_until_close(ws, timeout):
    """Reads the (until now unread) connection to its close frame: returns
    ([event messages], close code, close reason)."""
    deadline = time.monotonic() + timeout
    events = []
    while time.monotonic() < deadline:
        f = ws.recv_frame(deadline - time.monotonic())
        if f is None:
            continue
        _, op, payload = f
        if op == OP_TEXT:
            msg = json.loads(payload)
            if msg.get("type") == "event":
                events.append(msg)
        elif op == OP_PING:
            ws.send_frame(OP_PONG, payload)
        elif op == OP_CLOSE:
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
            return events, code, payload[2:].decode("utf-8", "replace")
    raise TimeoutError(f"no close frame within {timeout} s ({len(events)} events read)")


def test_sigterm_delivers_every_queued_frame_then_closes_1001(kafka, topics, gateway):
    gw = gateway(topics, DRAIN_TIMEOUT=30, SEND_QUEUE_BYTES=64 * 1024 * 1024, HEART_BEAT_INTERVAL=120)
    ws = StalledWebSocket(gw.port, "/getEvents/payment?organization_id=42&user_id=drain")
    try:
        wait_until(lambda: gw.stats()["subscriptions"] == 1, 10, "the subscription")
        wait_until(lambda: gw.stats()["interest_keys"] == 1, 10, "interest applied")
        recs = []
        for start in range(0, 800, 100):  # ~6.4 MB: more than the kernel buffers hold
            recs += produce_records(kafka, [record(topics, "payment", 42, "7", i % 3, i, value_extra={"pad": PAD})
                                            for i in range(start, start + 100)])
        wait_until(lambda: gw.stats()["deliveries"] >= len(recs), 30, "every record queued for the client")
        assert gw.stats()["slow_consumer_closes"] == 0

        started = time.monotonic()
        gw.terminate()
        wait_until(lambda: _refused(gw.port), 5, "new connections refused once draining")

        events, code, reason = _read_events_until_close(ws, 60)
        assert code == 1001, (code, reason)
        assert "reconnect" in reason, reason
        got = [(e["partition"], e["offset"]) for e in events]
        want = [(r["partition_out"], r["offset"]) for r in recs]
        assert len(got) == len(set(got)), "duplicates"
        assert set(got) == set(want), f"{len(set(want) - set(got))} records lost in the drain"
        for p in {p for p, _ in want}:
            offsets = [o for q, o in got if q == p]
            assert offsets == sorted(offsets), f"partition {p} out of order"
        ws.send_frame(OP_CLOSE, struct.pack(">H", 1001))
        gw.proc.wait(40)
        assert gw.proc.returncode == 0, gw.stderr_tail()
        # It ended because the client had everything and closed, long before DRAIN_TIMEOUT.
        assert time.monotonic() - started < 20, gw.stderr_tail()
        assert "still open at the drain deadline" not in gw.stderr_text()
    finally:
        ws.close()


def test_drain_ends_at_drain_timeout_when_a_client_never_reads(kafka, topics, gateway):
    gw = gateway(topics, DRAIN_TIMEOUT=2, SEND_QUEUE_BYTES=64 * 1024 * 1024, HEART_BEAT_INTERVAL=120)
    ws = StalledWebSocket(gw.port, "/getEvents/payment?organization_id=42&user_id=never")
    try:
        wait_until(lambda: gw.stats()["interest_keys"] == 1, 10, "interest applied")
        recs = produce_records(kafka, [record(topics, "payment", 42, "7", i % 3, i, value_extra={"pad": PAD})
                                       for i in range(800)])
        wait_until(lambda: gw.stats()["deliveries"] >= len(recs), 30, "every record queued")
        started = time.monotonic()
        gw.terminate()
        gw.proc.wait(20)
        elapsed = time.monotonic() - started
        assert gw.proc.returncode == 0, gw.stderr_tail()
        assert elapsed >= 1.5, f"exited after {elapsed:.1f} s, before DRAIN_TIMEOUT"
        assert elapsed < 2 + 8, f"exited after {elapsed:.1f} s, long past DRAIN_TIMEOUT=2"
        assert "still open at the drain deadline" in gw.stderr_text()
    finally:
        ws.close()
