"""Slow and stalled clients: each connection's send queue is bounded in bytes
(SEND_QUEUE_BYTES); a client that stops reading is closed with 1013 (or, when
its pending write stalls longer than HEART_BEAT_INTERVAL, dropped) and
counted, while every other client still gets every record in order."""

import socket
import time

from helpers import WsClient, produce_records, record, wait_until
from rawws import RawWebSocket

BIG = "x" * 8000  # ~8 KB per record


class StalledWebSocket(RawWebSocket):
    """Does the handshake with a tiny receive buffer, then never reads."""

    def __init__(self, port, path):
        orig = socket.create_connection

        def small_buffer_connection(addr, timeout=None):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(timeout)
            s.connect(addr)
            return s

        socket.create_connection = small_buffer_connection
        try:
            super().__init__(port, path)
        finally:
            socket.create_connection = orig


def _flood(kafka, topics, n, wave=100, pause=0.1):
    """n records of ~8 KB in waves (about 8 MB/s): a client that reads keeps
    up; one that does not falls further behind with every wave."""
    out = []
    for start in range(0, n, wave):
        recs = [record(topics, "payment", 42, "7", i % 3, i, value_extra={"pad": BIG})
                for i in range(start, min(n, start + wave))]
        out += produce_records(kafka, recs)
        time.sleep(pause)
    return out


def _check_in_order(client, recs):
    want = {(r["partition_out"], r["offset"]) for r in recs}
    wait_until(lambda: want <= {(e["partition"], e["offset"]) for e in client.events()}, 60,
               f"{client.name}: all {len(recs)} records")
    per_partition = {}
    for e in client.events():
        per_partition.setdefault(e["partition"], []).append(e["offset"])
    for offsets in per_partition.values():
        assert offsets == sorted(offsets) and len(offsets) == len(set(offsets)), offsets


def _stalled_and_healthy(gw):
    """A client that never reads and one that does, both on organization 42's
    payments, once both subscriptions are in effect."""
    stalled = StalledWebSocket(gw.port, "/getEvents/payment?organization_id=42&user_id=slow")
    healthy = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=ok", "healthy")
    try:
        wait_until(lambda: gw.stats()["subscriptions"] == 2, 10, "2 subscriptions")
        wait_until(lambda: gw.stats()["interest_keys"] == 1, 10, "interest applied")
    except BaseException:
        stalled.close()
        healthy.close()
        raise
    return stalled, healthy


def test_client_over_its_queue_bound_is_closed_and_others_keep_up(kafka, topics, gateway):
    gw = gateway(topics, SEND_QUEUE_BYTES=1024 * 1024, HEART_BEAT_INTERVAL=120)
    stalled, healthy = _stalled_and_healthy(gw)
    try:
        # ~10 MB over ~1.5 s: more than the stalled connection's kernel
        # buffers (up to ~4 MB of send buffer) plus its 1 MB bound.
        recs = _flood(kafka, topics, 1200)
        wait_until(lambda: gw.stats()["slow_consumer_closes"] >= 1, 60, "the stalled client to be closed")
        # The stalled client reads again: after what was already in flight it
        # finds the close frame, 1013 (the server waits HEART_BEAT_INTERVAL for
        # a stalled write and 2 s for the close to go out).
        code, _ = stalled.wait_close(30)
        assert code == 1013
        _check_in_order(healthy, recs)
        wait_until(lambda: gw.stats()["connections"] == 1, 10, "the slow connection to be gone")
        s = gw.stats()
        assert s["slow_consumer_closes"] == 1 and s["write_timeouts"] == 0, s
        assert s["subscriptions"] == 1, s
    finally:
        stalled.close()
        healthy.close()


def test_client_whose_write_stalls_is_dropped(kafka, topics, gateway):
    gw = gateway(topics, SEND_QUEUE_BYTES=512 * 1024 * 1024, HEART_BEAT_INTERVAL=1)
    stalled, healthy = _stalled_and_healthy(gw)
    try:
        recs = _flood(kafka, topics, 2500)
        wait_until(lambda: gw.stats()["write_timeouts"] == 1, 60, "the stalled client to be dropped")
        _check_in_order(healthy, recs)
        s = gw.stats()
        assert s["slow_consumer_closes"] == 0 and s["connections"] == 1, s
        assert stalled.wait_eof(30), "the stalled socket is still open"
    finally:
        stalled.close()
        healthy.close()


def _read_all(ws, quiet_s=3.0, timeout=120):
    """Reads the connection until it stays quiet for quiet_s: the parsed text
    messages in arrival order."""
    import json as _json
    from rawws import OP_PING, OP_PONG, OP_TEXT
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f = ws.recv_frame(quiet_s)
        if f is None:
            return out
        _, op, payload = f
        if op == OP_TEXT:
            out.append(_json.loads(payload))
        elif op == OP_PING:
            ws.send_frame(OP_PONG, payload)
    raise TimeoutError("the connection never went quiet")


def test_drop_policy_drops_oldest_and_sends_a_gap_where_the_hole_is(kafka, topics, gateway):
    gw = gateway(topics, SEND_QUEUE_BYTES=1024 * 1024, HEART_BEAT_INTERVAL=120, SLOW_CLIENT_POLICY="drop")
    stalled, healthy = _stalled_and_healthy(gw)
    try:
        recs = _flood(kafka, topics, 1200)  # ~10 MB: kernel buffers + the 1 MB queue overflow
        wait_until(lambda: gw.stats()["slow_consumer_drops"] >= 1, 60, "events dropped for the stalled client")
        _check_in_order(healthy, recs)
        msgs = _read_all(stalled)
        s = gw.stats()
        assert s["slow_consumer_closes"] == 0 and s["connections"] == 2, s
        gaps = [m for m in msgs if m["type"] == "gap"]
        assert gaps and s["gaps_sent"] == len(gaps), (len(gaps), s)
        # Every record is either delivered or inside a reported gap, none twice;
        # each gap sits where its hole is, and `since` resumes right before it.
        delivered = [(m["partition"], m["offset"]) for m in msgs if m["type"] == "event"]
        assert len(delivered) == len(set(delivered)), "duplicates"
        dropped = sum(g["dropped"] for g in gaps)
        assert s["slow_consumer_drops"] == dropped, (s, dropped)
        assert len(delivered) + dropped == len(recs), (len(delivered), dropped, len(recs))
        for r in recs:
            pos = (r["partition_out"], r["offset"])
            in_gap = any(g["partitions"].get(str(pos[0]), {"from": 1, "to": 0})["from"] <= pos[1]
                         <= g["partitions"].get(str(pos[0]), {"from": 1, "to": 0})["to"] for g in gaps)
            assert (pos in set(delivered)) != in_gap, f"{pos}: delivered and dropped, or neither"
        last = {}
        for m in msgs:
            if m["type"] == "event":
                assert m["offset"] > last.get(m["partition"], -1), "out of order"
                last[m["partition"]] = m["offset"]
            elif m["type"] == "gap":
                for p, rng in m["partitions"].items():
                    assert rng["from"] > last.get(int(p), -1), "a gap reported after later events"
                    assert m["since"][p] == rng["from"] - 1
                    last[int(p)] = rng["to"]
        assert gw.stats()["subscriptions"] == 2
    finally:
        stalled.close()
        healthy.close()
