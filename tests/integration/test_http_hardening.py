"""Malformed HTTP gets one short response with Connection: close and the
connection is closed; a request trickled a byte at a time is cut off after
HANDSHAKE_TIMEOUT. Other clients keep receiving records."""

import select
import socket
import threading
import time

import pytest

from authclients import probe
from helpers import WsClient, read_until_eof, wait_until


def witness(gw):
    c = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=w", "witness")
    wait_until(lambda: gw.stats()["subscriptions"] >= 1, 10, "the witness subscribed")
    return c


def send_and_read(port, payload, timeout=10):
    """Sends payload (from a thread: the server may answer before it has
    read it all) and reads until EOF. Returns (bytes read, EOF seen)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def writer():
        try:
            s.sendall(payload)
        except OSError:
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        data, eof = read_until_eof(s, timeout, limit=65536)
    finally:
        s.close()
        t.join(5)
    return data, eof


BIG_HEADER = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
CASES = [
    ("garbage", b"GARBAGE\r\n\r\n", 400),
    ("bad header line", b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400),
    ("bad request line", b"GET\r\n\r\n", 400),
    ("bad version", b"GET /healthz HTTP/9.7\r\nHost: x\r\n\r\n", 400),
    ("broken chunked body", b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
     b"\r\nZZZ\r\nabc\r\n0\r\n\r\n", 400),
    ("bad content-length", b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
     400),
    ("200 KB header", BIG_HEADER, 431),
    ("body over MAX_BODY_BYTES", b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
     b"\r\n" + b"b" * 100_000, 413),
    ("binary junk", bytes(range(256)) * 4 + b"\r\n\r\n", 400),
    ("NUL in header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
]


def test_malformed_requests_get_one_short_response_and_close(kafka, topics, gateway):
    gw = gateway(topics, MAX_BODY_BYTES=1024)
    w = witness(gw)
    before = gw.metric("rte_http_bad_requests_total")
    problems = []
    for what, payload, status in CASES:
        data, eof = send_and_read(gw.port, payload)
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        if not eof:
            problems.append(f"{what}: no EOF within 10 s (read {len(data)} bytes)")
        if len(data) >= 2048:
            problems.append(f"{what}: {len(data)} bytes before EOF")
        if not lines[0].startswith(f"HTTP/1.1 {status}"):
            problems.append(f"{what}: status line {lines[0]!r}, expected {status}")
        if not any(ln.lower().replace(" ", "") == "connection:close" for ln in lines[1:]):
            problems.append(f"{what}: no 'Connection: close' in {lines[1:]}")
        if data.count(b"HTTP/1.") > 1:
            problems.append(f"{what}: more than one response: {data[:300]!r}")
    assert not problems, "\n".join(problems)
    # The gateway answers good requests and the witness still receives.
    assert gw.get("/healthz").status_code == 200
    probe(kafka, topics, [w])
    assert gw.metric("rte_http_bad_requests_total") - before >= len(CASES), gw.metric(
        "rte_http_bad_requests_total")


@pytest.mark.timeout(60)
def test_slow_loris_is_cut_off_after_handshake_timeout(kafka, topics, gateway):
    gw = gateway(topics, HANDSHAKE_TIMEOUT=2)
    w = witness(gw)
    # A request trickled a byte at a time, forever: closed by the server.
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    silent = socket.create_connection(("127.0.0.1", gw.port), timeout=5)  # sends nothing
    request = b"GET /ws HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 10_000
    closed_by_server = False
    sent = 0
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline and sent < len(request):
            try:
                s.sendall(request[sent:sent + 1])
            except OSError:
                closed_by_server = True
                break
            sent += 1
            r, _, _ = select.select([s], [], [], 0.1)  # the client's trickle pace
            if r:
                try:
                    if not s.recv(4096):
                        closed_by_server = True
                        break
                except ConnectionResetError:
                    closed_by_server = True
                    break
        assert closed_by_server, f"still open after {sent} bytes over 20 s"
        r, _, _ = select.select([silent], [], [], 15)
        assert r, "the silent connection was not closed within 15 s"
        try:
            assert len(silent.recv(4096)) < 2048
        except ConnectionResetError:
            pass
    finally:
        s.close()
        silent.close()
    assert gw.get("/healthz").status_code == 200
    probe(kafka, topics, [w])
