"""Abuse limits: Origin allowlist, connections per IP and per user, command
rate, identifier rules, running out of file descriptors and a taken port.
Each test also checks that another client of the same gateway is still
served."""

import os
import socket
import subprocess
import time

import pytest

from authclients import (connect, expect_close_code, expect_status, expect_upgrade, probe,
                         raw_headers, wait_closed)
from conftest import gateway_binary
from helpers import WsClient, wait_until
from rawws import HandshakeError, RawWebSocket
from tokens import mint, new_secret


def witness(gw, name="witness"):
    c = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=w", name)
    wait_until(lambda: gw.stats()["subscriptions"] >= 1, 10, "the witness subscribed")
    return c


def test_origin_allowlist(kafka, topics, gateway):
    gw = gateway(topics, AUTH_MODE="none",
                 ALLOWED_ORIGINS="https://app.example.test,http://localhost:3000")
    w = witness(gw)
    for origin in ("https://evil.example.test", "null", "https://app.example.test.evil.test",
                   "http://app.example.test"):
        for path in ("/ws", "/getEvents/payment?organization_id=42&user_id=x"):
            expect_status(gw, path, 403, {"Origin": origin})
    for origin in ("https://app.example.test", "http://localhost:3000", None):
        ws = expect_upgrade(gw, "/ws", {"Origin": origin} if origin else None)
        ws.close()
    c = WsClient(f"{gw.ws_base}/ws", "listed origin", origin="http://localhost:3000")
    c.subscribe("s", "payment", 42)
    probe(kafka, topics, [w, c])
    assert gw.metric("rte_rejected_connections_total", reason="origin") >= 8


def test_connections_per_ip(kafka, topics, gateway):
    gw = gateway(topics, AUTH_MODE="none", MAX_CONNECTIONS_PER_IP=5)
    w = witness(gw)
    held = [RawWebSocket(gw.port, "/ws") for _ in range(4)]  # 5 with the witness
    try:
        for path in ("/ws", "/getEvents/payment?organization_id=42&user_id=x"):
            expect_status(gw, path, 429)
        # Another loopback address has its own budget.
        other = expect_upgrade(gw, "/ws", source="127.0.0.2")
        other.close()
        # Closing frees the slots.
        for ws in held[:2]:
            ws.send_close()
            ws.wait_eof(5)
            ws.close()

        def admitted():
            try:
                held.append(RawWebSocket(gw.port, "/ws"))
                return True
            except HandshakeError as e:
                assert e.code == 429, e.status
                return False
        wait_until(admitted, 10, "a slot freed", interval=0.1)
        probe(kafka, topics, [w])
    finally:
        for ws in held:
            ws.close()
    wait_until(lambda: gw.stats()["connections"] <= 2, 10, "connections released")
    assert gw.metric("rte_rejected_connections_total", reason="ip_limit") >= 2


def test_connections_per_user(kafka, topics, gateway):
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret,
                 MAX_CONNECTIONS_PER_USER=3)
    tok = mint(secret, "HS256", sub="busy", orgs=["42"])
    other_tok = mint(secret, "HS256", sub="other", orgs=["42"])
    mine = [connect(gw, "/ws", tok, t, name=f"busy {t}") for t in ("header", "query", "message")]
    expect_status(gw, "/ws", 429, raw_headers(tok, "header"))
    expect_status(gw, "/getEvents/payment?organization_id=42", 429, raw_headers(tok, "header"))
    # Token in an auth message: the connection is closed with 1013.
    late = WsClient(f"{gw.ws_base}/ws", "busy 4th via auth message")
    late.send({"type": "auth", "id": "a", "token": tok})
    wait_closed(late, 1013)
    o = connect(gw, "/ws", other_tok, "header", name="other user")
    o.subscribe("s", "payment", 42)
    mine[0].subscribe("s", "payment", 42)
    probe(kafka, topics, [o, mine[0]])
    mine[1].close()

    def admitted():
        try:
            RawWebSocket(gw.port, "/ws", headers=raw_headers(tok, "header")).close()
            return True
        except HandshakeError as e:
            assert e.code == 429, e.status
            return False
    wait_until(admitted, 10, "the user's slot freed", interval=0.1)
    assert gw.metric("rte_rejected_connections_total", reason="user_limit") >= 2


def test_command_rate_limit(kafka, topics, gateway):
    gw = gateway(topics, AUTH_MODE="none", COMMAND_RATE=1, COMMAND_BURST=10)
    w = witness(gw)
    c = WsClient(f"{gw.ws_base}/ws", "chatty")
    n = 15
    for i in range(n):
        c.send({"type": "subscribe", "id": f"b{i}", "channel": "payment",
                "filter": {"organization_id": "43"}})
    replies = c.wait_count(lambda m: str(m.get("id", "")).startswith("b"), n, 15,
                           "a reply to each command")
    limited = [m for m in replies if m.get("type") == "error"]
    assert limited, f"no limit_exceeded among {len(replies)} replies"
    assert all(m["code"] == "limit_exceeded" for m in limited), limited
    assert len(limited) <= n - 10, f"{len(limited)} limited, burst is 10"
    assert not c.closed.is_set()
    # Persisting far beyond the burst: closed with 1008.
    for i in range(40):
        if c.closed.is_set():
            break
        try:
            c.send({"type": "subscribe", "id": f"c{i}", "channel": "payment",
                    "filter": {"organization_id": "43"}})
        except Exception:
            break
    wait_closed(c, 1008)
    probe(kafka, topics, [w])
    assert gw.metric("rte_rate_limited_commands_total") >= len(limited)


def test_identifiers_are_checked(kafka, topics, gateway):
    gw = gateway(topics, AUTH_MODE="none", MAX_ID_LENGTH=16)
    w = witness(gw)
    c = WsClient(f"{gw.ws_base}/ws", "ids")
    bad = [{"organization_id": "4" * 10240}, {"organization_id": "4" * 17},
           {"organization_id": "42 43"}, {"organization_id": "42/../43"},
           {"organization_id": "<script>"}, {"organization_id": "42", "property_id": "7;8"},
           {"organization_id": "42", "property_id": "p" * 17}, {"organization_id": "42\n"},
           {"organization_id": "é"}]
    for i, filt in enumerate(bad):
        r = c.request({"type": "subscribe", "id": f"i{i}", "channel": "payment", "filter": filt})
        assert r["type"] == "error" and r["code"] == "bad_request", (filt, r)
    ok = c.subscribe("ok", "payment", "4" * 16)
    assert ok["type"] == "subscribed"
    c.subscribe("ok2", "payment", "42", "a.B_c:d@e-f")
    for path in ("/getEvents/payment?organization_id=" + "4" * 4000 + "&user_id=u",
                 "/getEvents/payment?organization_id=42%2043&user_id=u",
                 "/getEvents/payment?organization_id=42&user_id=" + "u" * 17,
                 "/getEvents/payment?organization_id=42&user_id=a%3Cb",
                 "/getEvents/payment?organization_id=42&property_id=7%0A&user_id=u"):
        ws = expect_upgrade(gw, path)
        try:
            expect_close_code(ws, 1008, what=path[:80])
        finally:
            ws.close()
    probe(kafka, topics, [w, c], prop="a.B_c:d@e-f")
    assert not c.closed.is_set()


def _fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.timeout(120)
def test_out_of_file_descriptors(kafka, topics, gateway):
    gw = gateway(topics, AUTH_MODE="none", nofile=64)
    w = witness(gw)
    base = _fd_count(gw.proc.pid)
    n = 64 - base + 30
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      b"Sec-WebSocket-Version: 13\r\n\r\n")
            socks.append(s)
        wait_until(lambda: _fd_count(gw.proc.pid) >= 60, 10, "the gateway near its fd limit")

        # While the listening socket keeps reporting connections it cannot
        # accept, the error is logged a bounded number of times: watched over
        # a window of 3 s, the count must stay small.
        def emfile_lines():
            return sum(1 for ln in gw.stderr_text().splitlines()
                       if "too many open files" in ln.lower())
        window_end = time.monotonic() + 3
        while time.monotonic() < window_end:
            gw.check_alive()
            assert emfile_lines() < 50, f"{emfile_lines()} 'Too many open files' lines"
            time.sleep(0.2)
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: _fd_count(gw.proc.pid) < 60, 20, "descriptors released")

    def metric_positive():
        try:
            return gw.metric("rte_accept_errors_total") > 0
        except Exception:
            return False
    wait_until(metric_positive, 20, "rte_accept_errors_total > 0")
    lines = sum(1 for ln in gw.stderr_text().splitlines() if "too many open files" in ln.lower())
    assert lines < 50, lines
    fresh = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=n", "fresh")
    wait_until(lambda: gw.stats()["subscriptions"] >= 2, 10, "the fresh client subscribed")
    probe(kafka, topics, [w, fresh])


def test_second_instance_on_a_taken_port_exits(kafka, topics, gateway, tmp_path):
    gw = gateway(topics)
    w = witness(gw)
    env = dict(os.environ)
    env.update({k: str(v) for k, v in gw.env.items()})
    env["PORT"] = str(gw.port)
    p = subprocess.run([gateway_binary(), "serve"], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30, cwd=tmp_path)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0, (p.returncode, err[-2000:])
    assert "address already in use" in err.lower(), err[-2000:]
    assert str(gw.port) in err, err[-2000:]
    probe(kafka, topics, [w])
