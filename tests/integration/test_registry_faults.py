"""Schema-registry faults, classified (issue 8, item 4), against the real
broker, the real gateway and a real registry process (rte-test-registry):

- down (connections refused), then up: records needing a schema the gateway
  has not fetched wait (their partitions park, /readyz lists them), then all
  are delivered, in order, none lost or twice;
- slow: delivered late, all, in order;
- 401: /readyz is 503 naming the refusal, rte_registry_errors_total{kind=auth}
  counts it; once the registry accepts us again everything is delivered;
- 404 then found within REGISTRY_NOT_FOUND_GRACE_MS: delivered, not skipped;
- an unsupported schema (Protobuf): those records are skipped and counted,
  the other records of the same partition are delivered in order.

Every client's stream is checked by checker.DeliveryChecker."""

import io
import json
import time

import fastavro

from checker import DeliveryChecker
from helpers import WsClient, wait_until
from registry_fixtures import (avro_record, confluent_frame, produce,  # noqa: F401
                               registry, registry_clean)
from test_avro_registry import AvroTopics, start, wait_subscriptions

ORG = "42"


def subscribed_checker(gw, name="C"):
    """A /ws client subscribed to payment/42, and its checker."""
    c = WsClient(f"{gw.ws_base}/ws", name)
    c.subscribe("s1", "payment", ORG)
    wait_subscriptions(gw, {c: [("payment", ORG, None)]})
    return c, DeliveryChecker(c)


def payments(at, seqs, partitions=(0, 1, 2)):
    """Payment records for ORG, spread over the partitions in turn."""
    return [at.record("payment", ORG, None, partitions[i % len(partitions)], seq)
            for i, seq in enumerate(seqs)]


def readyz(gw):
    r = gw.get("/readyz")
    return r.status_code, r.text


def test_registry_down_then_up_delivers_everything_in_order(kafka, topics, gateway,
                                                           registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    c, checker = subscribed_checker(gw)

    reg.down()
    recs = produce(kafka, payments(at, range(1, 31)))
    # The gateway has fetched none of these schemas: every partition waits.
    wait_until(lambda: gw.metric("rte_parked_partitions") == 3, 20, "3 parked partitions")
    wait_until(lambda: "registry_unavailable" in readyz(gw)[1], 20,
               "/readyz to list partitions waiting for the registry")
    status, text = readyz(gw)
    assert status == 200, text  # a registry outage alone does not make the gateway unready
    assert text.count("waiting: ") == 3, text
    assert gw.metric("rte_registry_errors_total", kind="transient") >= 1
    time.sleep(2)
    assert not checker.events(), "records delivered while their schema was unavailable"

    reg.up()
    checker.expect(recs).wait_complete(60, "every record after the registry came back")
    checker.assert_clean()
    wait_until(lambda: gw.metric("rte_parked_partitions") == 0, 10, "no parked partition")
    assert "waiting: " not in readyz(gw)[1]
    assert gw.metric("rte_rejected_records_total") == 0
    # Later records flow at once (the schemas are cached now).
    more = produce(kafka, payments(at, range(100, 106)))
    checker.expect(more).wait_complete(20, "records after recovery")
    checker.assert_clean()


def test_slow_registry_delays_but_loses_nothing(kafka, topics, gateway, registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    c, checker = subscribed_checker(gw)

    reg.set_fault("slow", 2500)
    recs = produce(kafka, payments(at, range(1, 16)))
    wait_until(lambda: gw.stats()["records_parked"] > 0, 20, "records to wait for the slow registry")
    checker.expect(recs).wait_complete(60, "every record from the slow registry")
    checker.assert_clean()
    assert gw.metric("rte_rejected_records_total") == 0


def test_registry_refusing_credentials_makes_the_gateway_unready_until_it_accepts(
        kafka, topics, gateway, registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    c, checker = subscribed_checker(gw)

    reg.set_fault("401")
    recs = produce(kafka, payments(at, range(1, 13)))

    def refused():
        status, text = readyz(gw)
        # Not ready, naming the 401; the waiting partitions say why (they
        # re-check within a second of the refusal).
        return (status == 503 and "refuses the gateway's credentials" in text and "(401)" in text
                and text.count("registry_auth") == 3)
    wait_until(refused, 30, "/readyz 503 naming the registry's 401 and 3 partitions waiting on it")
    assert gw.metric("rte_registry_errors_total", kind="auth") >= 1
    assert gw.metric("rte_registry_auth_failing") == 1
    assert "schema registry refuses the gateway's credentials" in gw.stderr_text()
    assert not checker.events()

    reg.set_fault("none")
    wait_until(lambda: readyz(gw)[0] == 200, 60, "/readyz 200 once the registry accepts us")
    checker.expect(recs).wait_complete(30, "every record after the 401 cleared")
    checker.assert_clean()
    assert gw.metric("rte_registry_auth_failing") == 0
    assert gw.metric("rte_rejected_records_total") == 0


LATE_VALUE = {"type": "record", "name": "LateValue", "namespace": "it.faults",
              "fields": [{"name": "reservation_id", "type": ["null", "string"]},
                         {"name": "late", "type": "long"}]}


def test_schema_404_then_found_within_the_grace_is_delivered_not_skipped(
        kafka, topics, gateway, registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg, REGISTRY_NOT_FOUND_GRACE_MS=60000)
    c, checker = subscribed_checker(gw)
    # Warm-up: the existing ids are cached.
    warm = produce(kafka, payments(at, range(1, 4)))
    checker.expect(warm).wait_complete(30, "warm-up records")

    # Records framed with the id the next schema will get, produced before it
    # is registered (a producer whose registration has not replicated yet).
    late_text = json.dumps(LATE_VALUE, separators=(",", ":"))
    late_id = reg.next_id()

    def late_frame(n):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, fastavro.parse_schema(LATE_VALUE),
                                   {"reservation_id": f"L-{n}", "late": n})
        return confluent_frame(late_id, buf.getvalue())
    key = at.key["payment"]
    late = [avro_record(reg, topics, "payment", ORG, None, 0, key, {"organization_id": int(ORG)},
                        late_frame(n), expect=False) for n in range(3)]
    recs = produce(kafka, late[:1] + payments(at, [10], (0,)) + late[1:] +
                   payments(at, range(20, 26)))
    wait_until(lambda: "schema_not_found_yet" in readyz(gw)[1], 20,
               "/readyz to show the partition waiting for the unknown id")
    assert gw.metric("rte_registry_errors_total", kind="not_found") >= 1
    time.sleep(1)
    assert reg.register(f"{topics['payment']}-value", late_text) == late_id

    checker.expect(recs).wait_complete(60, "the records of the late schema and those after them")
    checker.assert_clean()
    evs = {(e["partition"], e["offset"]): e for e in checker.events()}
    assert evs[(late[0]["partition_out"], late[0]["offset"])]["value"] == \
        {"reservation_id": "L-0", "late": 0}
    assert gw.metric("rte_rejected_records_total", reason="schema_not_found") == 0
    assert gw.metric("rte_registry_permanent_ids") == 0


def test_unsupported_schema_records_are_skipped_and_counted_others_flow_in_order(
        kafka, topics, gateway, registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    c, checker = subscribed_checker(gw)

    proto_id = reg.register_typed(f"{topics['payment']}-proto",
                                  'syntax = "proto3"; message M { string a = 1; }', "PROTOBUF")
    key = at.key["payment"]

    def poison(partition):
        return avro_record(reg, topics, "payment", ORG, None, partition, key,
                           {"organization_id": int(ORG)}, confluent_frame(proto_id, b"\x00\x0a\x01x"),
                           expect=False)
    batch, bad = [], []
    seq = 1
    for partition in (0, 1):
        for i in range(4):
            batch += payments(at, [seq], (partition,))
            seq += 1
            if i < 3:
                p = poison(partition)
                batch.append(p)
                bad.append(p)
    recs = produce(kafka, batch)
    good = [r for r in recs if all(r is not b for b in bad)]
    checker.expect(good).forbid(bad).wait_complete(40, "the good records around the poison")
    wait_until(lambda: gw.metric("rte_rejected_records_total", reason="schema_unsupported") == len(bad),
               20, f"{len(bad)} records counted as schema_unsupported")
    # Barrier: later records prove the skipped ones are behind us.
    more = produce(kafka, payments(at, range(100, 103)))
    checker.expect(more).wait_complete(20, "records after the poison")
    checker.assert_clean()
    assert gw.metric("rte_parked_partitions") == 0
    assert gw.metric("rte_rejected_records_total", reason="schema_unsupported") == len(bad)
    assert gw.stats()["value_errors"] == len(bad)
