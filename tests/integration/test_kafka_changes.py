"""Kafka changing under the gateway: a broker restart mid-stream, and
partitions added to a topic."""

import shutil

import pytest
import requests

from conftest import make_topics
from helpers import WsClient, produce_records, record, wait_until
from kafka_broker import KafkaBroker


@pytest.fixture
def own_kafka():
    """A broker of its own, so restarting it disturbs no other test."""
    broker = KafkaBroker().start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.dir, ignore_errors=True)


def test_broker_restart_is_survived(gateway, own_kafka, request):
    topics = make_topics(own_kafka, request.node.name)
    gw = gateway(topics, broker=own_kafka, KAFKA_METADATA_REFRESH_MS=1000)
    legacy = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u", "legacy")
    multi = WsClient(f"{gw.ws_base}/ws", "multi")
    multi.subscribe("s", "payment", 42)
    wait_until(lambda: gw.stats()["subscriptions"] == 2, 10, "2 subscriptions")

    first = produce_records(own_kafka, [record(topics, "payment", 42, "7", p, p)
                                        for p in range(3)])
    for cl in (legacy, multi):
        cl.wait_count(lambda m: m.get("type") == "event", 3, 20, "records before the restart")

    own_kafka.stop()
    # Let the gateway notice the outage: wait (bounded) for /readyz to say so,
    # without requiring it.
    def not_ready():
        try:
            return gw.get("/readyz", timeout=2).status_code != 200
        except requests.RequestException:
            return False
    try:
        wait_until(not_ready, 8, "/readyz to report the outage", interval=0.2)
    except AssertionError:
        pass
    gw.check_alive()
    assert gw.get("/healthz").status_code == 200

    own_kafka.restart()
    gw.wait_ready(60)
    second = produce_records(own_kafka, [record(topics, "payment", 42, "7", p, 10 + p)
                                         for p in range(3)])
    for r1, r2 in zip(first, second):
        assert r2["partition_out"] == r1["partition_out"] and r2["offset"] > r1["offset"]
    want = {(r["partition_out"], r["offset"]) for r in first + second}
    for cl in (legacy, multi):
        wait_until(lambda cl=cl: want <= {(e["partition"], e["offset"]) for e in cl.events()},
                   60, f"{cl.name}: records produced after the restart")
        got = [(e["partition"], e["offset"]) for e in cl.events()]
        assert sorted(got) == sorted(want), got
        assert not cl.closed.is_set()


def test_new_partitions_are_picked_up(kafka, topics, gateway):
    gw = gateway(topics, KAFKA_METADATA_REFRESH_MS=500)
    legacy = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u", "legacy")
    multi = WsClient(f"{gw.ws_base}/ws", "multi")
    multi.subscribe("s", "payment", 42, 7)
    wait_until(lambda: gw.stats()["subscriptions"] == 2, 10, "2 subscriptions")

    kafka.add_partitions(topics["payment"], 5)
    recs = produce_records(kafka, [record(topics, "payment", 42, "7", p, p) for p in (3, 4, 0)])
    assert [r["partition_out"] for r in recs] == [3, 4, 0]
    want = {(r["partition_out"], r["offset"]) for r in recs}
    for cl in (legacy, multi):
        wait_until(lambda cl=cl: want <= {(e["partition"], e["offset"]) for e in cl.events()},
                   30, f"{cl.name}: records in the new partitions 3 and 4")
        evs = cl.events()
        assert sorted((e["partition"], e["offset"]) for e in evs) == sorted(want)
        for e in evs:
            assert e["topic"] == topics["payment"] and e["channel"] == "payment"
    # And the new partitions keep flowing.
    more = produce_records(kafka, [record(topics, "payment", 42, "7", p, 10 + p) for p in (3, 4)])
    for cl in (legacy, multi):
        cl.wait_count(lambda m: m.get("type") == "event", 5, 30, "more records")
        assert {(e["partition"], e["offset"]) for e in cl.events()} == \
            want | {(r["partition_out"], r["offset"]) for r in more}


def test_kafka_outage_is_reported_and_delivery_continues_after_it(gateway, own_kafka, request):
    import threading
    from checker import DeliveryChecker
    topics = make_topics(own_kafka, request.node.name)
    gw = gateway(topics, broker=own_kafka, KAFKA_METADATA_REFRESH_MS=500)
    multi = WsClient(f"{gw.ws_base}/ws", "multi")
    multi.subscribe("s", "payment", 42)
    legacy = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u", "legacy")
    wait_until(lambda: gw.stats()["subscriptions"] == 2, 10, "2 subscriptions")
    before = produce_records(own_kafka, [record(topics, "payment", 42, "7", i % 3, i) for i in range(6)])

    own_kafka.stop()

    def unavailable(cl):
        return any(m.get("type") == "status" and m.get("kafka") == "unavailable" for m in cl.snapshot())
    wait_until(lambda: unavailable(multi) and unavailable(legacy), 60, "clients told Kafka is unavailable")
    r = gw.get("/readyz")
    assert r.status_code == 503 and "Kafka is not answering" in r.text, r.text
    assert gw.stats()["kafka_outage"] is True
    assert not multi.closed.is_set() and not legacy.closed.is_set()

    # Records produced during the outage (the producer holds them until the broker is back).
    during = [record(topics, "payment", 42, "7", i % 3, 100 + i) for i in range(6)]
    producer = threading.Thread(target=lambda: produce_records(own_kafka, during), daemon=True)
    producer.start()
    own_kafka.restart()
    producer.join(90)
    assert "offset" in during[-1], "the records produced during the outage were not delivered to Kafka"

    def available(cl):
        return any(m.get("type") == "status" and m.get("kafka") == "available" for m in cl.snapshot())
    wait_until(lambda: available(multi) and available(legacy), 60, "clients told Kafka is back")
    after = produce_records(own_kafka, [record(topics, "payment", 42, "7", i % 3, 200 + i) for i in range(6)])
    for cl in (multi, legacy):
        checker = DeliveryChecker(cl).expect(before + during + after)
        checker.wait_complete(60)
        checker.assert_clean()
    gw.wait_ready(30)
    multi.close()
    legacy.close()
