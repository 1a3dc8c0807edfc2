"""Demo smoke test: `realtime-events demo` starts on its own (embedded Kafka and
schema registry), and WebSocket clients receive its decoded Avro records."""

import asyncio
import json
import os
import re
import subprocess
import time

import pytest
import websockets

from conftest import gateway_binary


@pytest.fixture
def demo():
    binary = gateway_binary()
    if binary is None:
        pytest.fail("realtime-events binary not built (set RTE_BINARY)")
    env = dict(os.environ, PORT="0", BIND_ADDRESS="127.0.0.1", PING_INTERVAL="1", LOG_LEVEL="info")
    proc = subprocess.Popen([binary, "demo", "--rate", "50"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd="/tmp")
    deadline = time.monotonic() + 30
    port = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        proc.kill()
        pytest.fail("demo did not print its URL; stderr:\n" + proc.stderr.read()[-3000:])
    yield port
    proc.terminate()
    try:
        assert proc.wait(timeout=15) == 0, "demo did not exit cleanly on SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()


async def _collect(url, send, want, timeout):
    got = []
    async with websockets.connect(url) as ws:
        for msg in send:
            await ws.send(json.dumps(msg))
        async with asyncio.timeout(timeout):
            while len([m for m in got if m["type"] == "event"]) < want:
                got.append(json.loads(await ws.recv()))
    return got


def test_demo_streams_decoded_avro_to_both_endpoints(demo):
    port = demo
    msgs = asyncio.run(_collect(
        f"ws://127.0.0.1:{port}/ws",
        [{"type": "subscribe", "id": "p", "channel": "payment", "filter": {"organization_id": "1"}},
         {"type": "subscribe", "id": "r", "channel": "reservation", "filter": {"organization_id": 2}}],
        want=6, timeout=30))
    acks = [m for m in msgs if m["type"] == "subscribed"]
    assert sorted(a["id"] for a in acks) == ["p", "r"]
    events = [m for m in msgs if m["type"] == "event"]
    for ev in events:
        want_org = 1 if ev["channel"] == "payment" else 2
        assert ev["key"] == {"organization_id": want_org}
        assert ev["value"]["organization_id"] == want_org
        if ev["channel"] == "payment":
            assert re.fullmatch(r"\d+\.\d\d", ev["value"]["amount"]), ev
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["value"]["created_at"]), ev
            assert ev["value"]["method"] in ("card", "bank_transfer", "cash", "wallet")
        else:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", ev["value"]["check_in"]), ev
            assert ev["value"]["reservation_id"].startswith("R-2-")

    proto = asyncio.run(_collect(
        f"ws://127.0.0.1:{port}/getEvents/guest?organization_id=3&user_id=u1", [], want=2, timeout=30))
    guest_events = [m for m in proto if m["type"] == "event"]
    assert len(guest_events) >= 2
    assert all(e["channel"] == "guest" and e["key"] == {"organization_id": 3} for e in guest_events)

    stats = json.loads(subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/api/stats"],
                                      capture_output=True, text=True, timeout=10).stdout)
    assert stats["records_received"] > 0
    assert stats["records_skipped"] > 0  # other organizations' records were not decoded
    assert stats["value_errors"] == 0 and stats["key_errors"] == 0
