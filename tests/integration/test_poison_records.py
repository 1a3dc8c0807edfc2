"""Poison records (issue 8, item 5) between good ones, on a real broker with
the real gateway: a record whose key or value cannot be decoded (corrupt Avro
bytes under a valid schema id, invalid JSON in a json channel) is counted,
logged with its position and skipped; the partition does not stall (the good
records around it are all delivered, in order, once); with DLQ_TOPIC the raw
record lands in the dead-letter topic with the error and its source position
in headers."""

import time

from confluent_kafka import Consumer, TopicPartition

from checker import DeliveryChecker
from helpers import WsClient, wait_until
from registry_fixtures import produce, registry, registry_clean, registry_env  # noqa: F401
from test_avro_registry import AvroTopics, wait_subscriptions

ORG = "42"


def read_topic(kafka, topic, count, timeout=30):
    """The first `count` records of `topic` (partition 0), as
    (key, value, {header: str})."""
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": f"it-dlq-{time.time()}",
                  "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        out, deadline = [], time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            headers = {k: (v or b"").decode() for k, v in (m.headers() or [])}
            out.append((m.key(), m.value(), headers))
        return out
    finally:
        c.close()


def test_poison_records_are_counted_skipped_and_dead_lettered(kafka, topics, gateway,
                                                              registry_clean, tmp_path):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    dlq = kafka.create_topic(f"{topics['payment']}-dlq", 1)
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "channels:\n"
        f"  payment:\n    topic: {topics['payment']}\n"
        f"  guest:\n    topic: {topics['guest']}\n    key_format: json\n    value_format: json\n")
    env = {"KAFKA_START_FROM": "beginning", "CHANNELS_FILE": str(channels), "DLQ_TOPIC": dlq}
    env.update(registry_env(reg))
    gw = gateway(topics, **env)
    c = WsClient(f"{gw.ws_base}/ws", "C")
    c.subscribe("p", "payment", ORG)
    c.subscribe("g", "guest", ORG)
    wait_subscriptions(gw, {c: [("payment", ORG, None), ("guest", ORG, None)]})
    checker = DeliveryChecker(c)

    key_schema = at.key["payment"]
    good_body = at.record("payment", ORG, None, 0, 99)["value"]
    bad_value = good_body[:9]  # a valid id, the Avro body cut short
    bad_key = key_schema.frame({"organization_id": 42})[:5] + b"\xff" * 11  # varint overflow

    def raw(topic_channel, partition, key, value):
        return {"topic": topics[topic_channel], "channel": topic_channel, "partition": partition,
                "key": key, "value": value, "org": ORG, "prop": None}
    good_key = key_schema.frame({"organization_id": 42})
    batch, poison = [], []
    for partition in (0, 1):
        for i in range(5):
            batch.append(at.record("payment", ORG, None, partition, 10 * partition + i))
            if i == 1:
                poison.append(raw("payment", partition, good_key, bad_value))
                batch.append(poison[-1])
            if i == 3:
                poison.append(raw("payment", partition, bad_key, good_body))
                batch.append(poison[-1])
    for i in range(5):
        batch.append(raw("guest", 2, b'{"organization_id":42}', b'{"n":%d}' % i))
        if i == 2:
            poison.append(raw("guest", 2, b'{"organization_id":42}', b'{"n": oops'))
            batch.append(poison[-1])
    recs = produce(kafka, batch)
    good = [r for r in recs if all(r is not p for p in poison)]
    checker.expect(good).forbid(poison).wait_complete(40, "every good record around the poison")
    wait_until(lambda: gw.metric("rte_rejected_records_total") == len(poison), 20,
               f"{len(poison)} rejected records")
    assert gw.metric("rte_rejected_records_total", reason="bad_value") == 3
    assert gw.metric("rte_rejected_records_total", reason="bad_key") == 2
    checker.assert_clean()
    assert gw.metric("rte_parked_partitions") == 0
    log = gw.stderr_text()
    for p in poison:
        assert f"record {p['topic']}/{p['partition_out']}@{p['offset']} rejected" in log, p

    # The dead-letter topic holds each poison record, raw, with why and where.
    wait_until(lambda: gw.metric("rte_dead_letters_total", outcome="produced") == len(poison), 30,
               "every poison record produced to the dead-letter topic")
    assert gw.metric("rte_dead_letters_total", outcome="dropped") == 0
    assert gw.metric("rte_dead_letters_total", outcome="failed") == 0
    got = read_topic(kafka, dlq, len(poison))
    assert len(got) == len(poison), got
    by_pos = {(h["rte.topic"], int(h["rte.partition"]), int(h["rte.offset"])): (k, v, h)
              for k, v, h in got}
    for p in poison:
        k, v, h = by_pos[(p["topic"], p["partition_out"], p["offset"])]
        assert (k, v) == (p["key"], p["value"])
        assert h["rte.error"].startswith("value: " if p["key"] != bad_key else "key: "), h
    assert "not valid JSON" in by_pos[next(iter(
        (q["topic"], q["partition_out"], q["offset"]) for q in poison
        if q["channel"] == "guest"))][2]["rte.error"]
