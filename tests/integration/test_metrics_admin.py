"""/metrics read by a real Prometheus parser (prometheus_client), every family
the operations guide names is there and moves when it should; the admin API
(/admin, /api/admin/...) behind ADMIN_TOKEN."""

import json
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

from helpers import WsClient, produce_records, record, wait_until

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"

# Every family an operator needs (docs/operations.md), with its type.
REQUIRED = {
    "rte_build_info": "gauge",
    "rte_connections": "gauge",  # by endpoint
    "rte_channel_subscriptions": "gauge",
    "rte_channel_records": "counter",  # _total, by channel and outcome
    "rte_channel_deliveries": "counter",
    "rte_partition_position": "gauge",
    "rte_partition_high_watermark": "gauge",
    "rte_partition_lag": "gauge",
    "rte_consumer_lag": "gauge",
    "rte_delivery_freshness_seconds": "histogram",
    "rte_ingest_freshness_seconds": "histogram",
    "rte_fanout_backlog": "gauge",
    "rte_send_queue_bytes": "gauge",
    "rte_slow_consumer_closes": "counter",
    "rte_rejected_records": "counter",  # decode errors by reason
    "rte_auth_failures": "counter",
    "rte_sent_bytes": "counter",
    "rte_queued_bytes": "counter",
    "rte_worker_events": "counter",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
}

# Labels whose values may only come from a fixed set or from configuration,
# never from a tenant or a user (bounded cardinality).
ALLOWED_LABELS = {"endpoint", "channel", "outcome", "topic", "partition", "worker", "reason", "part", "change",
                  "kind", "result", "le", "version", "commit"}


def scrape(gw):
    r = gw.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    return families, r.text


def value(families, name, **labels):
    """Sum of the samples named `name` whose labels include `labels`."""
    family = name
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            family = name[: -len(suffix)]
    f = families.get(family)
    assert f is not None, f"no family {family}"
    want = set(labels.items())
    return sum(s.value for s in f.samples if s.name == name and want <= set(s.labels.items()))


def admin(gw, path, token=ADMIN_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(gw.base + path, headers=headers, timeout=5)


def test_metrics_parse_and_move(kafka, topics, gateway):
    gw = gateway(topics, ADMIN_TOKEN=ADMIN_TOKEN, KAFKA_START_FROM="beginning")
    families, text = scrape(gw)
    for name, kind in REQUIRED.items():
        assert name in families, f"{name} missing from /metrics"
        assert families[name].type == kind, (name, families[name].type)
    for f in families.values():
        for s in f.samples:
            extra = set(s.labels) - ALLOWED_LABELS
            assert not extra, (s.name, s.labels)
    build = families["rte_build_info"].samples[0]
    assert build.value == 1 and build.labels["version"] and build.labels["commit"], build
    assert value(families, "process_resident_memory_bytes") > 1e6
    assert value(families, "process_open_fds") > 3
    assert abs(value(families, "process_start_time_seconds") - time.time()) < 600
    # Every configured partition is listed (3 per topic), at its position.
    positions = [s for s in families["rte_partition_position"].samples]
    assert {(s.labels["topic"], s.labels["partition"]) for s in positions} == \
        {(t, str(p)) for t in topics.values() for p in range(3)}, positions
    assert value(families, "rte_connections", endpoint="ws") == 0
    assert value(families, "rte_channel_subscriptions", channel="payment") == 0

    # A /ws client and a /getEvents client, then records for them and others.
    ws = WsClient(f"{gw.ws_base}/ws", "ws")
    ws.subscribe("s1", "payment", 42)
    ws.subscribe("s2", "guest", 42)
    proto = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u1", "proto")
    wait_until(lambda: value(scrape(gw)[0], "rte_connections", endpoint="getEvents") == 1, 10,
               "one /getEvents connection")
    families, _ = scrape(gw)
    assert value(families, "rte_connections", endpoint="ws") == 1
    assert value(families, "rte_channel_subscriptions", channel="payment") == 2
    assert value(families, "rte_channel_subscriptions", channel="guest") == 1
    assert value(families, "rte_channel_subscriptions", channel="reservation") == 0

    recs = [record(topics, "payment", 42, "7", p, p) for p in range(3)]
    recs += [record(topics, "payment", 99, "7", p, 10 + p) for p in range(3)]  # nobody's
    recs += [record(topics, "guest", 42, "7", 0, 20)]
    produce_records(kafka, recs)
    ws.wait_count(lambda m: m.get("type") == "event", 4, 20, "4 events on /ws")
    proto.wait_count(lambda m: m.get("type") == "event", 3, 20, "3 events on /getEvents")

    def settled():
        f, _ = scrape(gw)
        return f if value(f, "rte_channel_records_total", channel="payment", outcome="skipped") >= 3 and \
            value(f, "rte_delivery_freshness_seconds_count") >= 4 else None
    families = wait_until(settled, 10, "counters after delivery")
    assert value(families, "rte_channel_records_total", channel="payment", outcome="routed") == 3
    assert value(families, "rte_channel_records_total", channel="payment", outcome="skipped") == 3
    assert value(families, "rte_channel_records_total", channel="guest", outcome="routed") == 1
    assert value(families, "rte_channel_deliveries_total", channel="payment") == 6  # 3 x 2 clients
    assert value(families, "rte_channel_deliveries_total", channel="guest") == 1
    assert value(families, "rte_channel_deliveries_total", channel="reservation") == 0
    assert value(families, "rte_sent_bytes_total") > 0
    assert value(families, "rte_queued_bytes_total") >= value(families, "rte_sent_bytes_total")
    assert value(families, "rte_send_queue_bytes") == 0  # everything written
    # Positions and high watermarks: 3 records in each payment partition read.
    for p in range(3):
        labels = {"topic": topics["payment"], "partition": str(p)}
        assert value(families, "rte_partition_position", **labels) == 2, labels
        assert value(families, "rte_partition_high_watermark", **labels) == 2, labels
        assert value(families, "rte_partition_lag", **labels) == 0, labels
    assert value(families, "rte_consumer_lag") == 0

    # A record without a tenant is counted by reason and channel.
    kafka.producer().produce(topics["payment"], {"other": 1}, {"x": 1}, partition=1)

    def rejected():
        f, _ = scrape(gw)
        return f if value(f, "rte_channel_records_total", channel="payment", outcome="rejected") == 1 else None
    f = wait_until(rejected, 10, "the record without a tenant counted")
    assert value(f, "rte_rejected_records_total", reason="no_tenant") == 1

    ws.close()
    proto.close()
    wait_until(lambda: value(scrape(gw)[0], "rte_connections") == 0, 10, "connections back to 0")
    f, _ = scrape(gw)
    assert value(f, "rte_channel_subscriptions") == 0


def test_admin_requires_the_token(kafka, topics, gateway):
    gw = gateway(topics, ADMIN_TOKEN=ADMIN_TOKEN)
    for path in ("/api/admin/summary", "/api/admin/clients"):
        for token in (None, "wrong-token-wrong-token-wrong!!", ADMIN_TOKEN + "x", ADMIN_TOKEN[:-1]):
            r = admin(gw, path, token)
            assert r.status_code == 401, (path, token, r.status_code)
            assert r.headers.get("www-authenticate") == "Bearer"
            assert r.json()["error"] == "unauthorized"
    page = admin(gw, "/admin", None)
    assert page.status_code == 401 and "<html" in page.text.lower()
    assert admin(gw, "/admin").status_code == 200
    assert admin(gw, "/api/admin/nosuch").status_code == 404
    assert admin(gw, "/api/admin/clients?limit=0").status_code == 400
    assert admin(gw, "/api/admin/clients?sort=size").status_code == 400
    refusals = gw.metric("rte_admin_refusals_total")
    assert refusals == 8, refusals


def test_admin_off_without_a_token(kafka, topics, gateway):
    gw = gateway(topics)
    r = admin(gw, "/api/admin/summary", "anything-anything-anything")
    assert r.status_code == 401 and "ADMIN_TOKEN" in r.json()["message"]
    r = admin(gw, "/api/admin/summary", "")
    assert r.status_code == 401


def test_admin_summary_and_clients(kafka, topics, gateway):
    gw = gateway(topics, ADMIN_TOKEN=ADMIN_TOKEN, WORKERS=2)
    fast = WsClient(f"{gw.ws_base}/ws", "fast")
    fast.subscribe("s1", "payment", 42)
    fast.subscribe("s2", "payment", 43)
    proto = WsClient(f"{gw.ws_base}/getEvents/guest?organization_id=42&user_id=u-proto", "proto")
    wait_until(lambda: admin(gw, "/api/admin/summary").json()["connections"]["total"] == 2, 10,
               "2 connections in the summary")
    # A steady stream for a few seconds so the sampler sees a rate.
    stop = time.monotonic() + 4
    seq = 0
    while time.monotonic() < stop:
        produce_records(kafka, [record(topics, "payment", 42, "7", seq % 3, seq) for _ in range(1)])
        seq += 1
        time.sleep(0.02)
    fast.wait_count(lambda m: m.get("type") == "event", seq, 20, "every payment event")

    def has_rates():
        s = admin(gw, "/api/admin/summary").json()
        return s if any(h["deliveries_per_second"] > 0 for h in s["history"]) else None
    s = wait_until(has_rates, 10, "a non-zero rate in the history")
    assert s["connections"] == {"total": 2, "ws": 1, "getEvents": 1}, s["connections"]
    assert s["ready"] is True and s["kafka"] == "available"
    assert s["node"].endswith(f":{gw.port}"), s["node"]
    chans = {c["channel"]: c for c in s["channels"]}
    assert set(chans) == {"payment", "guest", "reservation"}
    assert chans["payment"]["subscriptions"] == 2 and chans["guest"]["subscriptions"] == 1
    assert chans["payment"]["records_total"] == seq and chans["payment"]["deliveries_total"] == seq
    assert chans["payment"]["topic"] == topics["payment"]
    assert len(s["partitions"]) == 9
    for p in s["partitions"]:
        assert p["lag"] == max(0, p["high_watermark"] - p["position"]) if p["position"] >= 0 else p["lag"] == 0
    assert s["freshness"]["p99_ms"] >= s["freshness"]["p50_ms"] >= 0

    c = admin(gw, "/api/admin/clients?sort=age&limit=10").json()
    assert c["total"] == 2 and len(c["clients"]) == 2
    by_endpoint = {x["endpoint"]: x for x in c["clients"]}
    assert by_endpoint["ws"]["subscriptions"] == 2 and by_endpoint["ws"]["events_sent"] == seq
    assert by_endpoint["getEvents"]["user_id"] == "u-proto"
    assert by_endpoint["ws"]["remote"].startswith("127.0.0.1:")
    assert c["clients"][0]["connected_ms"] <= c["clients"][1]["connected_ms"]  # oldest first
    assert len({x["id"] for x in c["clients"]}) == 2
    one = admin(gw, "/api/admin/clients?limit=1").json()
    assert one["total"] == 2 and len(one["clients"]) == 1
    fast.close()
    proto.close()
