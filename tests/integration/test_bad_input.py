"""Bad client input gets the right error or close code and is counted, while
other clients keep receiving records."""

import json

import pytest

from helpers import WsClient, produce_records, record, wait_until
from rawws import OP_BINARY, HandshakeError, RawWebSocket


def expect_close(port, path, code, send=None, timeout=10):
    try:
        ws = RawWebSocket(port, path)
    except HandshakeError as e:
        pytest.fail(f"{path}: upgrade refused ({e.status}); expected close code {code}")
    try:
        if send:
            send(ws)
        got, seen = ws.wait_close(timeout)
        assert got == code, f"{path}: close code {got}, expected {code}; frames before: {seen}"
        assert ws.wait_eof(10), f"{path}: TCP connection not closed after the close frame"
    finally:
        ws.close()


def test_legacy_endpoint_rejects_unknown_channel_and_missing_tenant(kafka, topics, gateway):
    gw = gateway(topics)
    for path in ("/getEvents/nosuch?organization_id=42&user_id=u",
                 "/getEvents/payment?user_id=u",
                 "/getEvents/payment?organization_id=&user_id=u"):
        expect_close(gw.port, path, 1008)
    wait_until(lambda: gw.stats()["connections"] == 0, 10, "no connections left")
    assert gw.stats()["subscriptions"] == 0


def test_bad_commands_and_frames(kafka, topics, gateway):
    gw = gateway(topics)
    witness = WsClient(f"{gw.ws_base}/ws", "witness")
    witness.subscribe("w", "payment", 42)
    legacy = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=l", "legacy")
    wait_until(lambda: gw.stats()["subscriptions"] == 2, 10, "2 subscriptions")
    first = produce_records(kafka, [record(topics, "payment", 42, "7", 0, 1)])[0]
    for cl in (witness, legacy):
        cl.wait_for(lambda m: m.get("offset") == first["offset"] and m.get("type") == "event",
                    20, "the first record")
    before = gw.stats()

    bad = WsClient(f"{gw.ws_base}/ws", "bad")
    cases = [
        ('{"type": "subscribe", "id": ', None, "bad_request"),
        ("[1, 2, 3]", None, "bad_request"),
        ({"type": "dance", "id": "t1"}, "t1", "bad_request"),
        ({"id": "t2", "channel": "payment"}, "t2", "bad_request"),
        ({"type": "subscribe", "id": "t3", "channel": "nosuch",
          "filter": {"organization_id": "42"}}, "t3", "unknown_channel"),
        ({"type": "subscribe", "id": "t4", "channel": "payment"}, "t4", "bad_request"),
        ({"type": "subscribe", "id": "t5", "channel": "payment", "filter": {}}, "t5",
         "bad_request"),
        ({"type": "subscribe", "id": "t6", "channel": "payment",
          "filter": {"organization_id": ""}}, "t6", "bad_request"),
        ({"type": "unsubscribe", "id": "t7", "channel": "nosuch",
          "filter": {"organization_id": "42"}}, "t7", "unknown_channel"),
    ]
    for i, (msg, rid, code) in enumerate(cases):
        bad.send(msg)
        errors = bad.wait_count(lambda m: m.get("type") == "error", i + 1, 10,
                                f"error reply to {msg!r}")
        err = errors[i]
        assert err["code"] == code, (msg, err)
        if rid is not None:
            assert err["id"] == rid, (msg, err)
        assert isinstance(err.get("message", ""), str)
    # Still open and usable after all that.
    bad.send({"type": "ping"})
    bad.wait_for(lambda m: m.get("type") == "pong", 10, "pong")
    assert not bad.closed.is_set()
    assert not [m for m in bad.snapshot() if m.get("type") == "subscribed"]

    # Oversized text frame (default MAX_FRAME_BYTES 65536) -> 1009.
    expect_close(gw.port, "/ws", 1009,
                 send=lambda ws: ws.send_text(json.dumps({"type": "ping", "pad": "x" * 70000})))
    # Binary frame -> 1003.
    expect_close(gw.port, "/ws", 1003, send=lambda ws: ws.send_frame(OP_BINARY, b"\x00\x01"))

    # A record without a tenant in its key is counted and delivered to no one.
    # A value that is not JSON passes as a string (the default channels'
    # formats are "auto"). Both come before a good record in partition 0.
    no_tenant = record(topics, "payment", 42, "7", 0, 2)
    no_tenant["key"] = {"org": 42}
    text_value = record(topics, "payment", 42, "7", 0, 3)
    text_value["value"] = '{"property_id": "7", "amount": '
    after = record(topics, "payment", 42, "7", 0, 4)
    produce_records(kafka, [no_tenant, text_value, after])
    for cl in (witness, legacy):
        cl.wait_for(lambda m: m.get("offset") == after["offset"] and m.get("type") == "event",
                    20, "the record after the bad ones")
        evs = cl.events()
        assert [e["offset"] for e in evs] == [first["offset"], text_value["offset"],
                                              after["offset"]], evs
        assert evs[1]["value"] == text_value["value"], evs[1]
        assert not cl.closed.is_set()

    wait_until(lambda: gw.stats()["connections"] == 3, 10, "the two closed connections gone")
    s = gw.stats()
    # The oversized and the binary frame; bad commands are answered, not
    # protocol violations (counted apart when the gateway reports them).
    assert s["bad_frames"] - before["bad_frames"] == 2, (before, s)
    if "bad_commands" in s:
        assert s["bad_commands"] - before["bad_commands"] == len(cases), (before, s)
    assert s["decode_errors"] - before["decode_errors"] == 1, (before, s)
    assert s["subscriptions"] == 2, s
