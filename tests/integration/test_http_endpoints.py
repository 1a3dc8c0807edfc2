"""Plain HTTP endpoints: /healthz, /readyz (503 until the topics' partitions
are assigned), /api/stats and /metrics."""

import re
import socket
import time
import uuid

from helpers import WsClient, produce_records, record, wait_until

STATS_FIELDS = ("connections", "subscriptions", "records_received", "records_skipped",
                "deliveries", "decode_errors", "bad_frames", "idle_closes",
                "slow_consumer_closes")


def test_not_ready_while_kafka_is_unreachable(gateway):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    broker = type("NoBroker", (), {"bootstrap": dead})()
    topics = {ch: f"none-{ch}" for ch in ("payment", "guest", "reservation")}
    gw = gateway(topics, broker=broker, ready=False)
    assert gw.get("/healthz").status_code == 200
    # Observed over several metadata attempts: never ready.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        r = gw.get("/readyz")
        assert r.status_code == 503, (r.status_code, r.text)
        time.sleep(0.2)
    gw.check_alive()


def test_topics_created_after_start_are_read_from_their_beginning(kafka, gateway):
    # Missing topics do not block readiness; they are picked up when created.
    suffix = uuid.uuid4().hex[:8]
    topics = {ch: f"late-{suffix}-{ch}" for ch in ("payment", "guest", "reservation")}
    gw = gateway(topics, KAFKA_METADATA_REFRESH_MS=500)
    cl = WsClient(f"{gw.ws_base}/ws", "C")
    cl.subscribe("s", "guest", 42)
    for t in topics.values():
        kafka.create_topic(t, 3)
    recs = produce_records(kafka, [record(topics, "guest", 42, "7", p, p) for p in range(3)])
    cl.wait_count(lambda m: m.get("type") == "event", 3, 20, "records of the late topics")
    assert sorted((e["partition"], e["offset"]) for e in cl.events()) == \
        sorted((r["partition_out"], r["offset"]) for r in recs)


def test_stats_and_metrics(kafka, topics, gateway):
    gw = gateway(topics)
    assert gw.get("/healthz").status_code == 200
    assert gw.get("/readyz").status_code == 200
    s = gw.stats()
    for f in STATS_FIELDS:
        assert isinstance(s.get(f), int) and s[f] >= 0, (f, s)
    assert s["connections"] == 0 and s["subscriptions"] == 0, s

    cl = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u", "C")
    wait_until(lambda: gw.stats()["connections"] == 1, 10, "1 connection in /api/stats")
    assert gw.stats()["subscriptions"] == 1

    r = gw.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    samples = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            assert not line or re.match(r"# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", line), line
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        assert m, f"not Prometheus text: {line!r}"
        float(m.group(3))
        samples.setdefault(m.group(1), []).append(float(m.group(3)))
    assert len(samples) >= 5, samples
    cl.close()
    wait_until(lambda: gw.stats()["connections"] == 0, 10, "the connection to be gone")
