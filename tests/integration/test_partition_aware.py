"""Partition-aware mode (PARTITION_AWARE=true): an instance reads only the
partitions holding its subscribers' tenants, found with Kafka's default key
partitioner (murmur2 of the key bytes), against a real broker whose producer
partitions with librdkafka's murmur2_random (the Java client's default; the
confluent-kafka default, consistent_random, is CRC32-based and would not
match). Checked: the partitions the broker reports equal ours; exactly the
subscribed tenants' partitions are assigned (metric and log); a new
subscriber gets every record produced after its `subscribed`, in order; an
unsubscribed tenant's partition goes after the linger; a resume with `since`
across a partition assigned anew loses nothing; other tenants' partitions are
never read."""

import json
import re
import threading
import time

from confluent_kafka import Producer

from checker import DeliveryChecker
from conftest import make_topics
from helpers import WsClient, wait_until

PARTITIONS = 6


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2 (a signed 32-bit int), written independently of
    the gateway's C++ version."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = data[length - length % 4:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if len(tail) >= 1:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_of(key: str, partitions=PARTITIONS) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def tenants_in_distinct_partitions(n, prefix="org-"):
    """n tenant ids whose partitions differ: [(tenant, partition), ...]."""
    out, used, i = [], set(), 0
    while len(out) < n:
        t = f"{prefix}{i}"
        p = partition_of(t)
        if p not in used:
            used.add(p)
            out.append((t, p))
        i += 1
    return out


class Murmur2Producer:
    """A producer keyed by tenant with the Java client's partitioner."""

    def __init__(self, bootstrap):
        self.p = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random",
                           "linger.ms": 0, "acks": "all", "message.timeout.ms": 30000})

    def produce(self, topic, tenant, seqs, wait=True):
        """Produces one record per seq for `tenant` (key = tenant id, plain
        string); returns [{"topic", "partition_out", "offset", "seq"}] once
        all are acknowledged (wait=False: a list filled as they are)."""
        out, errors = [], []

        def done(err, msg):
            if err is not None:
                errors.append(err)
            else:
                out.append({"topic": msg.topic(), "partition_out": msg.partition(),
                            "offset": msg.offset(), "seq": json.loads(msg.value())["seq"],
                            "tenant": tenant})
        for s in seqs:
            while True:
                try:
                    self.p.produce(topic, key=tenant.encode(),
                                   value=json.dumps({"seq": s, "property_id": "p1"}).encode(),
                                   on_delivery=done)
                    break
                except BufferError:
                    self.p.poll(0.05)
            self.p.poll(0)
        if wait:
            assert self.p.flush(30) == 0 and not errors, errors
            out.sort(key=lambda r: r["offset"])
        return out

    def warm(self, topic):
        """Metadata known, connection up: the next produce goes out at once."""
        self.p.list_topics(topic, timeout=10)


def subscribe(client, rid, tenant, **extra):
    cmd = {"type": "subscribe", "id": rid, "channel": "payment", "filter": {"organization_id": tenant}}
    cmd.update(extra)
    reply = client.request(cmd, timeout=30)
    assert reply["type"] == "subscribed", reply
    return reply


def unsubscribe(client, rid, tenant):
    reply = client.request({"type": "unsubscribe", "id": rid, "channel": "payment",
                            "filter": {"organization_id": tenant}}, timeout=10)
    assert reply["type"] == "unsubscribed", reply


def reading_lines(gw, topic):
    """Partitions of `topic` the log says were assigned / given up, in order."""
    text = gw.stderr_text()
    assigned = [int(p) for p in re.findall(rf"kafka: reading {re.escape(topic)}\[(\d+)\]", text)]
    dropped = [int(p) for p in re.findall(rf"kafka: no longer reading {re.escape(topic)}\[(\d+)\]", text)]
    return assigned, dropped


def assigned(gw):
    return gw.metric("rte_kafka_assigned_partitions")


def received(gw):
    return gw.metric("rte_records_received_total")


def aware_gateway(gateway, topics, **env):
    base = {"PARTITION_AWARE": "true", "PARTITION_LINGER_MS": 500, "REPLAY_WINDOW_RECORDS": 5}
    base.update(env)
    return gateway(topics, **base)


def test_broker_partitions_equal_our_murmur2(kafka, request):
    topics = make_topics(kafka, request.node.name, partitions=PARTITIONS)
    prod = Murmur2Producer(kafka.bootstrap)
    tenants = [f"org-{i}" for i in range(40)] + ["1", "42", "tenant-a", "été"]
    for t in tenants:
        (r,) = prod.produce(topics["payment"], t, [0])
        assert r["partition_out"] == partition_of(t), t
    # A few values from Java's Utils.murmur2 (as in src/ingest/partitioner_test.cc).
    assert murmur2(b"tenant-a") == -502566269 and murmur2(b"") == 275646681
    assert murmur2("été".encode()) == -2101193575


def test_only_subscribed_partitions_are_read_and_a_new_subscriber_misses_nothing(kafka, gateway, request):
    topics = make_topics(kafka, request.node.name, partitions=PARTITIONS)
    topic = topics["payment"]
    (a, pa), (b, pb), (c, pc) = tenants_in_distinct_partitions(3)
    prod = Murmur2Producer(kafka.bootstrap)
    prod.warm(topic)
    # Records from before any subscriber, in every partition: never read.
    early = prod.produce(topic, c, range(300)) + prod.produce(topic, a, range(20))

    gw = aware_gateway(gateway, topics)
    # Ready with nothing assigned: readiness waits for no partition nobody needs.
    assert assigned(gw) == 0
    assert reading_lines(gw, topic) == ([], [])

    first = WsClient(f"{gw.ws_base}/ws", "first")
    subscribe(first, "a1", a)
    assert assigned(gw) == 1  # assigned before the acknowledgement
    assert reading_lines(gw, topic)[0] == [pa]
    for other in topics.values():
        if other != topic:
            assert reading_lines(gw, other) == ([], [])

    # A second client subscribes to b; produce right after the ack, in a loop.
    second = WsClient(f"{gw.ws_base}/ws", "second")
    subscribe(second, "b1", b)
    b_recs = []
    for round_ in range(20):
        b_recs += prod.produce(topic, b, range(round_ * 10, round_ * 10 + 10))
    a_recs = prod.produce(topic, a, range(100, 150))
    c_recs = prod.produce(topic, c, range(300, 600))
    assert {r["partition_out"] for r in b_recs} == {pb}

    DeliveryChecker(second).expect(b_recs).wait_complete(20)
    DeliveryChecker(first).expect(a_recs).wait_complete(20)
    time.sleep(0.3)
    for cl, mine, others in ((second, b_recs, a_recs + c_recs + early), (first, a_recs, b_recs + c_recs + early)):
        ch = DeliveryChecker(cl).expect(mine).forbid(others)
        ch.assert_clean()
        assert [e["value"]["seq"] for e in ch.events()] == [r["seq"] for r in mine]  # in order, none missing
    assert assigned(gw) == 2
    assert sorted(reading_lines(gw, topic)[0]) == sorted([pa, pb])

    # Only the subscribed tenants' partitions were read: neither c's 600
    # records nor the early ones.
    n = received(gw)
    print(f"records read by the instance: {int(n)} of {len(early) + len(a_recs) + len(b_recs) + len(c_recs)} "
          f"produced ({len(a_recs) + len(b_recs)} for its subscribers)")
    assert n == len(a_recs) + len(b_recs), n

    # b unsubscribes: its partition goes after the linger (500 ms), a's stays.
    unsubscribe(second, "b2", b)
    wait_until(lambda: assigned(gw) == 1, 10, "b's partition unassigned")
    assert reading_lines(gw, topic)[1] == [pb]
    more_b = prod.produce(topic, b, range(1000, 1050))
    time.sleep(0.5)
    assert received(gw) == n  # b's partition is not read any more
    assert not [e for e in second.events() if e["offset"] in {r["offset"] for r in more_b}
                and e["partition"] == pb]
    first.close()
    second.close()


def test_repeated_subscribe_to_a_partition_assigned_anew_misses_nothing(kafka, gateway, request):
    """Each round assigns b's partition anew (the linger is 0) and produces
    right after the acknowledgement (the producer is connected already): with
    the logical end instead of a concrete offset, resolved by librdkafka only
    after the assignment, the first records could be lost."""
    topics = make_topics(kafka, request.node.name, partitions=PARTITIONS)
    topic = topics["payment"]
    (b, pb), = tenants_in_distinct_partitions(1, prefix="t-")
    prod = Murmur2Producer(kafka.bootstrap)
    prod.warm(topic)
    gw = aware_gateway(gateway, topics, PARTITION_LINGER_MS=0)
    cl = WsClient(f"{gw.ws_base}/ws", "client")
    for round_ in range(6):
        prod.produce(topic, b, range(5))  # unread: the partition is not assigned
        subscribe(cl, f"s{round_}", b)
        recs = prod.produce(topic, b, range(100 * round_, 100 * round_ + 40))
        DeliveryChecker(cl).expect(recs).wait_complete(20)
        unsubscribe(cl, f"u{round_}", b)
        wait_until(lambda: assigned(gw) == 0, 10, "the partition unassigned")
    assigned_log, dropped_log = reading_lines(gw, topic)
    assert assigned_log == [pb] * 6 and dropped_log == [pb] * 6
    ch = DeliveryChecker(cl)
    ch.assert_clean()
    cl.close()


def test_resume_with_since_across_a_partition_assigned_anew(kafka, gateway, request):
    topics = make_topics(kafka, request.node.name, partitions=PARTITIONS)
    topic = topics["payment"]
    (b, pb), = tenants_in_distinct_partitions(1, prefix="r-")
    prod = Murmur2Producer(kafka.bootstrap)
    prod.warm(topic)
    gw = aware_gateway(gateway, topics)

    first = WsClient(f"{gw.ws_base}/ws", "first")
    subscribe(first, "s1", b)
    seen = prod.produce(topic, b, range(0, 30))
    DeliveryChecker(first).expect(seen).wait_complete(20)
    last = max(e["offset"] for e in first.events())
    first.close()
    wait_until(lambda: assigned(gw) == 0, 10, "the partition unassigned after its client left")

    # Produced while nobody reads the partition; then a resume assigns it anew
    # (at its end) and the replay reads what was missed from Kafka.
    missed = prod.produce(topic, b, range(30, 80))
    again = WsClient(f"{gw.ws_base}/ws", "again")
    stop = threading.Event()
    live = []

    def keep_producing():
        s = 1000
        while not stop.is_set():
            live.extend(prod.produce(topic, b, range(s, s + 5)))
            s += 5

    t = threading.Thread(target=keep_producing)
    t.start()
    try:
        reply = subscribe(again, "s2", b, since={str(pb): last})
        assert reply["recovered"] is True, reply
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(30)
    after = prod.produce(topic, b, range(5000, 5020))
    ch = DeliveryChecker(again).expect(missed + after).forbid(seen)
    # Every record produced while the subscription was being made is there too
    # (replayed or live: no hole at the seam, no duplicate).
    ch.expect([r for r in live])
    ch.wait_complete(20)
    time.sleep(0.3)
    ch.assert_clean()
    assert assigned(gw) == 1
    again.close()
