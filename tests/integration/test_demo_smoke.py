"""Demo smoke test: `realtime-events demo` starts on its own (embedded Kafka and
schema registry), prints what it produces and URLs to try, keeps a clean log,
and WebSocket clients receive its decoded Avro records. Also the command line's
error messages (unknown subcommand, every bad setting at once, the env file a
bad value came from)."""

import asyncio
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest
import websockets

from conftest import gateway_binary


@dataclass
class DemoProcess:
    proc: subprocess.Popen
    started: float
    port: int = 0
    stdout: list = field(default_factory=list)  # lines, as printed
    stderr: list = field(default_factory=list)

    def wait_stdout(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return None


def _drain(stream, into):
    for line in stream:
        into.append(line.rstrip("\n"))


@pytest.fixture
def demo():
    binary = gateway_binary()
    if binary is None:
        pytest.fail("realtime-events binary not built (set RTE_BINARY)")
    env = dict(os.environ, PORT="0", BIND_ADDRESS="127.0.0.1", PING_INTERVAL="1", LOG_LEVEL="info")
    proc = subprocess.Popen([binary, "demo", "--rate", "50"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd="/tmp")
    d = DemoProcess(proc, time.monotonic())
    # Both pipes are read all along: a full pipe would stall the demo's logging.
    readers = [threading.Thread(target=_drain, args=(proc.stdout, d.stdout), daemon=True),
               threading.Thread(target=_drain, args=(proc.stderr, d.stderr), daemon=True)]
    for t in readers:
        t.start()
    m = d.wait_stdout(r"^realtime-events listening on http://127\.0\.0\.1:(\d+)/$", 30)
    if m is None:
        proc.kill()
        pytest.fail("demo did not print its URL; stderr:\n" + "\n".join(d.stderr[-40:]))
    d.port = int(m.group(1))
    yield d
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
    port = demo.port
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


def _get(url):
    return subprocess.run(["curl", "-s", "-w", "\n%{http_code}", url], capture_output=True, text=True, timeout=10).stdout


def test_demo_prints_the_ids_it_produces_and_keeps_a_clean_log(demo):
    port = demo.port
    assert demo.wait_stdout(r"/metrics$", 10), "demo printed no guide:\n" + "\n".join(demo.stdout)
    guide = "\n".join(demo.stdout)
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    assert demo.stdout[0] == f"realtime-events listening on {base}/"
    assert re.search(rf"^\s+test page\s+{re.escape(base)}/$", guide, re.M), guide
    assert re.search(r"^\s+organizations\s+1\.\.5$", guide, re.M), guide
    # "101..103 for org 1, 201..203 for org 2, ...": every organization, its properties.
    props_line = re.search(r"^\s+properties\s+(.*)$", guide, re.M).group(1)
    ranges = {int(o): (int(lo), int(hi)) for lo, hi, o in re.findall(r"(\d+)\.\.(\d+) for org (\d+)", props_line)}
    assert sorted(ranges) == [1, 2, 3, 4, 5], props_line
    get_events = f"{ws_base}/getEvents/payment?organization_id=1&user_id=u1"
    assert get_events in guide and f"{base}/metrics" in guide, guide
    sub = re.search(rf"{re.escape(ws_base)}/ws and send (\{{.*\}})$", guide, re.M)
    assert sub, guide
    subscribe = json.loads(sub.group(1))
    assert subscribe["type"] == "subscribe"
    org, prop = int(subscribe["filter"]["organization_id"]), int(subscribe["filter"]["property_id"])
    assert ranges[org][0] <= prop <= ranges[org][1]

    # The printed ids are the records' ids: the printed /ws message, sent as it is,
    # gets that organization's records of that property ...
    msgs = asyncio.run(_collect(f"{ws_base}/ws", [subscribe], want=2, timeout=20))
    events = [m for m in msgs if m["type"] == "event"]
    assert events and all(e["value"]["organization_id"] == org and e["value"]["property_id"] == str(prop)
                          for e in events), events
    # ... and every property of an organization's records is in its printed range.
    msgs = asyncio.run(_collect(get_events.replace("organization_id=1", "organization_id=4")
                                .replace("/payment", "/reservation"), [], want=12, timeout=20))
    seen = {int(m["value"]["property_id"]) for m in msgs if m["type"] == "event"}
    lo, hi = ranges[4]
    assert seen and all(lo <= p <= hi for p in seen), (seen, ranges[4])
    # The same ids over /getEvents with a property_id.
    one = f"{ws_base}/getEvents/guest?organization_id=2&property_id={ranges[2][1]}&user_id=u1"
    msgs = asyncio.run(_collect(one, [], want=1, timeout=20))
    assert [m["value"]["property_id"] for m in msgs if m["type"] == "event"] == [str(ranges[2][1])]

    metrics = _get(f"{base}/metrics")
    assert metrics.endswith("\n200") and "# TYPE" in metrics

    # A clean log over ~15 s: librdkafka warned AUTOCREATE every ~5 s (the mock
    # broker cannot honour allow.auto.create.topics=false), from the first second.
    time.sleep(max(0.0, demo.started + 15 - time.monotonic()))
    noisy = [l for l in demo.stderr if "AUTOCREATE" in l or re.search(r" (warning|error) \[\d+\] kafka", l)]
    assert not noisy, "\n".join(noisy[:10])


def _run(args, cwd, **env):
    binary = gateway_binary()
    if binary is None:
        pytest.fail("realtime-events binary not built (set RTE_BINARY)")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("KAFKA_", "PING_", "PORT", "AUTH_", "BIND_", "JWT_", "TLS_"))}
    base.update(env)
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30, cwd=cwd, env=base)


def test_unknown_subcommand_is_named(tmp_path):
    r = _run(["nosuch"], tmp_path)
    assert r.returncode == 2 and '"nosuch"' in r.stderr, r.stderr


def test_every_bad_setting_is_reported_at_once(tmp_path):
    r = _run(["serve"], tmp_path, PORT="abc", PING_INTERVAL="0", BIND_ADDRESS="127.0.0.1")
    assert r.returncode == 2
    assert "3 configuration errors" in r.stderr, r.stderr
    for name in ("KAFKA_BOOTSTRAP_SERVER", 'PORT="abc"', "PING_INTERVAL=0"):
        assert name in r.stderr, r.stderr


def test_a_bad_value_from_an_env_file_names_the_file(tmp_path):
    env_file = tmp_path / "gateway.env"
    env_file.write_text("PING_INTERVAL=0\n")
    r = _run(["serve", "--env-file", str(env_file)], tmp_path, KAFKA_BOOTSTRAP_SERVER="127.0.0.1:1",
             BIND_ADDRESS="127.0.0.1")
    assert r.returncode == 2
    assert f"PING_INTERVAL=0 (from {env_file}) is out of range" in r.stderr, r.stderr
    # ./.env, read by serve and by demo, is named by its full path.
    (tmp_path / ".env").write_text("PING_INTERVAL=0\n")
    for args in (["serve"], ["demo"]):
        r = _run(args, tmp_path, KAFKA_BOOTSTRAP_SERVER="127.0.0.1:1", BIND_ADDRESS="127.0.0.1")
        assert r.returncode == 2
        assert f"PING_INTERVAL=0 (from {tmp_path / '.env'}) is out of range" in r.stderr, (args, r.stderr)
