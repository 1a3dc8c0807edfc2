"""Heartbeats ({"type":"ping"} messages and WebSocket ping frames) and the
idle timeout that removes clients which stopped answering."""

import json
import time

from helpers import WsClient, wait_until
from rawws import OP_PING, OP_PONG, OP_TEXT, RawWebSocket

PING_INTERVAL = 1


def test_json_pings_at_the_configured_interval(kafka, topics, gateway):
    gw = gateway(topics, PING_INTERVAL=PING_INTERVAL, IDLE_TIMEOUT=30)
    legacy = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u", "legacy")
    multi = WsClient(f"{gw.ws_base}/ws", "multi")
    multi.subscribe("s", "guest", 42)
    for cl in (legacy, multi):
        pings = cl.wait_count(lambda m: m.get("type") == "ping", 4, 15, "pings")
        assert all(p == {"type": "ping"} for p in pings), pings
        t = cl.arrivals("ping")
        gaps = [b - a for a, b in zip(t, t[1:])]
        mean = (t[-1] - t[0]) / (len(t) - 1)
        # Tolerant bounds: a loaded 2-core machine delays timers, but pings
        # must neither burst nor come at a different period.
        assert 0.5 * PING_INTERVAL <= mean <= 2.0 * PING_INTERVAL, gaps
        assert min(gaps) >= 0.25 * PING_INTERVAL, gaps
        assert not cl.closed.is_set()


def _collect_ping_frames(port, path, want, timeout, subscribe=None):
    ws = RawWebSocket(port, path)
    try:
        if subscribe:
            ws.send_text(json.dumps(subscribe))
        pings, texts = 0, []
        deadline = time.monotonic() + timeout
        while pings < want and time.monotonic() < deadline:
            f = ws.recv_frame(deadline - time.monotonic())
            if f is None:
                break
            _, op, payload = f
            if op == OP_PING:
                pings += 1
                ws.send_frame(OP_PONG, payload)
            elif op == OP_TEXT:
                texts.append(json.loads(payload))
        return pings, texts
    finally:
        ws.close()


def test_websocket_ping_frames_on_both_endpoints(kafka, topics, gateway):
    gw = gateway(topics, PING_INTERVAL=PING_INTERVAL, IDLE_TIMEOUT=4)
    for path, sub in (("/getEvents/payment?organization_id=42&user_id=u", None),
                      ("/ws", {"type": "subscribe", "id": "s", "channel": "payment",
                               "filter": {"organization_id": "42"}})):
        pings, texts = _collect_ping_frames(gw.port, path, 2, 20, sub)
        assert pings >= 2, f"{path}: {pings} ping frames in 20 s; text frames {texts[:5]}"


def test_silent_client_is_closed_after_idle_timeout(kafka, topics, gateway):
    idle = 2
    gw = gateway(topics, PING_INTERVAL=PING_INTERVAL, IDLE_TIMEOUT=idle)
    before = gw.stats()
    # Did the handshake, then never reads nor writes (not even pongs).
    silent_ws = RawWebSocket(gw.port, "/ws")
    silent_legacy = RawWebSocket(gw.port, "/getEvents/payment?organization_id=42&user_id=s")
    # Answers ping frames (the websockets library does), sends nothing else.
    alive = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=a", "alive")
    try:
        wait_until(lambda: gw.stats()["connections"] == 3, 10, "3 connections")
        wait_until(lambda: gw.stats()["connections"] == 1, 8 * idle,
                   "the two silent connections to be closed")
        s = gw.stats()
        assert s["idle_closes"] - before["idle_closes"] == 2, s
        assert s["subscriptions"] == 1, s
        # The server also closed the TCP connections.
        assert silent_ws.wait_eof(15), "silent /ws socket still open"
        assert silent_legacy.wait_eof(15), "silent /getEvents socket still open"
        # The answering client outlives several idle periods (5 JSON pings at
        # 1 s >= 2 idle timeouts after it connected) and still works.
        alive.wait_count(lambda m: m.get("type") == "ping", 5, 30, "pings")
        assert not alive.closed.is_set(), alive.close_code
        s = gw.stats()
        assert s["connections"] == 1 and s["idle_closes"] - before["idle_closes"] == 2, s
    finally:
        silent_ws.close()
        silent_legacy.close()
        alive.close()
