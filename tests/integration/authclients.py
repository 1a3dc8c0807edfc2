"""Client-side helpers shared by the auth, isolation and limits tests: every
way of presenting a token, expected refusals (HTTP status or close code), a
one-record delivery probe and the never-logged-secrets check."""

import itertools
import json
import urllib.parse

import pytest

from helpers import WsClient, produce_records, record
from rawws import HandshakeError, RawWebSocket

TRANSPORTS = ("header", "query", "subprotocol", "message")
_seq = itertools.count(500000)


def with_query(path, **params):
    sep = "&" if "?" in path else "?"
    return path + sep + urllib.parse.urlencode(params)


def connect(gw, path, token, transport, name=None, auth_id="auth-1", wait_auth=True, **kw):
    """A WsClient on `path` that presents `token` by `transport`; for
    "message" it sends {"type":"auth"} first and (when wait_auth) waits for
    the authenticated reply."""
    headers, protos = None, None
    if transport == "header":
        headers = {"Authorization": f"Bearer {token}"}
    elif transport == "query":
        path = with_query(path, token=token)
    elif transport == "subprotocol":
        protos = ["bearer", token]
    elif transport not in ("message", None):
        raise ValueError(transport)
    c = WsClient(gw.ws_base + path, name or f"{path} via {transport}", headers=headers,
                 subprotocols=protos, **kw)
    if transport == "subprotocol":
        assert c.subprotocol == "bearer", f"server chose subprotocol {c.subprotocol!r}"
    if transport == "message":
        c.send({"type": "auth", "id": auth_id, "token": token})
        if wait_auth:
            c.wait_for(lambda m: m.get("type") in ("authenticated", "error")
                       and m.get("id") == auth_id, 10, "the auth reply")
            reply = [m for m in c.snapshot() if m.get("id") == auth_id][0]
            assert reply["type"] == "authenticated", reply
    return c


def raw_headers(token, transport):
    if transport == "header":
        return {"Authorization": f"Bearer {token}"}
    if transport == "subprotocol":
        return {"Sec-WebSocket-Protocol": f"bearer, {token}"}
    return {}


def raw_path(path, token, transport):
    return with_query(path, token=token) if transport == "query" else path


def expect_status(gw, path, status, headers=None, **kw):
    """The upgrade is refused with HTTP `status`."""
    try:
        ws = RawWebSocket(gw.port, path, headers=headers, **kw)
    except HandshakeError as e:
        assert e.code == status, f"{path} {list((headers or {}).keys())}: got {e.status!r}, " \
            f"expected {status}; head {e.head[:300]!r}"
        return e
    ws.close()
    pytest.fail(f"{path} {list((headers or {}).keys())}: upgraded (101), expected HTTP {status}")


def expect_upgrade(gw, path, headers=None, **kw):
    try:
        return RawWebSocket(gw.port, path, headers=headers, **kw)
    except HandshakeError as e:
        pytest.fail(f"{path}: upgrade refused ({e.status!r}); expected 101")


def expect_close_code(ws, code, timeout=10, what=""):
    """A rawws socket receives a close frame with `code`."""
    got, seen = ws.wait_close(timeout)
    assert got == code, f"{what}: close code {got}, expected {code}; frames before: {seen}"


def wait_closed(client, code, timeout=15):
    """A WsClient is closed by the server with `code`."""
    assert client.closed.wait(timeout), f"{client.name}: still open after {timeout} s, " \
        f"expected close {code}; last messages {client.snapshot()[-3:]}"
    assert client.close_code == code, f"{client.name}: close code {client.close_code}, " \
        f"expected {code}; last messages {client.snapshot()[-3:]}"


def probe(kafka, topics, clients, channel="payment", org="42", prop="7", partition=0,
          not_clients=(), timeout=20):
    """Produces one record; every client of `clients` receives it. Returns
    it. Clients of `not_clients` are expected not to receive it, checked
    with a later record in the same partition they are entitled to (caller
    passes (client, (channel, org, prop)) pairs)."""
    rec = produce_records(kafka, [record(topics, channel, org, prop, partition, next(_seq))])[0]
    for c in clients:
        c.wait_for(lambda m: m.get("type") == "event" and m.get("topic") == rec["topic"]
                   and m.get("offset") == rec["offset"] and m.get("partition") ==
                   rec["partition_out"], timeout, f"record {channel}/{org}/{prop}")
    for c, (ch2, org2, prop2) in not_clients:
        later = produce_records(kafka, [record(topics, ch2, org2, prop2, partition,
                                               next(_seq))])[0]
        c.wait_for(lambda m: m.get("type") == "event" and m.get("offset") == later["offset"]
                   and m.get("topic") == later["topic"], timeout, "the later record")
        assert not [m for m in c.events() if m["topic"] == rec["topic"]
                    and m["offset"] == rec["offset"]], f"{c.name} got {rec}"
    return rec


def assert_not_logged(gw, *secrets):
    """Tokens, secrets and query strings never appear in stderr/stdout."""
    text = gw.stderr_text() + "\n".join(gw.stdout_lines)
    for s in secrets:
        if not s:
            continue
        assert s not in text, f"{gw.name} logged a secret ({s[:12]}...)"
        # The signature part alone (a token cut at a log-line limit).
        if s.count(".") == 2 and len(s.rsplit(".", 1)[1]) >= 16:
            assert s.rsplit(".", 1)[1] not in text, f"{gw.name} logged a token signature"


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))
