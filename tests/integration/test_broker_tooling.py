"""The test broker itself (scripts/kafka/broker through kafka_broker.py):
topics, partition growth and a produce/consume round trip with a real client.
Runs without the gateway, so the Kafka side is checked on its own."""

import time
import uuid

from confluent_kafka import Consumer, TopicPartition


def consume(bootstrap, topic, partitions, want, timeout=30):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-{uuid.uuid4()}",
                  "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                got.append((m.partition(), m.offset(), m.key(), m.value()))
        return got
    finally:
        c.close()


def test_round_trip_and_partition_growth(kafka):
    topic = kafka.create_topic(f"tooling-{uuid.uuid4().hex[:8]}", 3)
    assert kafka.partition_count(topic) == 3
    prod = kafka.producer()
    where = prod.produce_many([{"topic": topic, "key": {"organization_id": 42},
                                "value": {"n": i}, "partition": i % 3} for i in range(6)])
    assert sorted(where) == [(p, o) for p in range(3) for o in range(2)]

    kafka.add_partitions(topic, 5)
    assert kafka.partition_count(topic) == 5
    assert kafka.producer().produce(topic, "42", {"n": 6}, partition=4) == (4, 0)

    got = consume(kafka.bootstrap, topic, 5, 7)
    assert len(got) == 7, got
    assert (4, 0, b"42", b'{"n":6}') in got
    assert (1, 1, b'{"organization_id":42}', b'{"n":4}') in got
