"""Confluent compatibility: Avro records written by an independent writer
(fastavro, framed as Confluent's serializer does) with schemas in a real
registry process (rte-test-registry, Basic auth on), read by the real gateway
through KAFKA_SCHEMA_REGISTRY_URL/USER in the default `auto` format.

Every delivered key and value is compared with what fastavro reads back from
the same bytes, rendered by the rules of docs/avro.md (unions unwrapped, enum
as its symbol, decimal as an exact string, timestamp-millis as ISO-8601 UTC)."""

import datetime
import decimal
import os
import subprocess

import pytest

from helpers import WsClient, wait_until
from registry_fixtures import (AvroSubjectSchema, avro_record, check_exactly,  # noqa: F401
                               confluent_frame, deliver_and_check, gateway_binary, pos, produce,
                               registry, registry_clean, registry_env, same_json,
                               wait_positions)

# The prototype's schemas (key long; int on the guest topic) and a richer value.
KEY_LONG = {"type": "record", "name": "Key",
            "fields": [{"name": "organization_id", "type": "long"}]}
KEY_INT = {"type": "record", "name": "Key",
           "fields": [{"name": "organization_id", "type": "int"}]}
VALUE_PROTO = {"type": "record", "name": "Value",
               "fields": [{"name": "reservation_id", "type": ["null", "string"]}]}
VALUE_RICH = {
    "type": "record", "name": "Payment", "namespace": "it.avro",
    "fields": [
        {"name": "reservation_id", "type": ["null", "string"]},
        {"name": "property_id", "type": "string"},
        {"name": "amount",
         "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "method",
         "type": {"type": "enum", "name": "Method", "symbols": ["card", "cash", "wallet"]}},
        {"name": "rate", "type": "double"},
        {"name": "tags", "type": {"type": "map", "values": "string"}},
        {"name": "items", "type": {"type": "array", "items": ["null", "long", "string"]}},
        {"name": "guest", "type": {
            "type": "record", "name": "Guest",
            "fields": [{"name": "name", "type": "string"},
                       {"name": "nights", "type": "int"},
                       {"name": "email", "type": ["null", "string"]}]}},
    ]}

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def rich_value(seq, prop):
    """Varied data: null and non-null unions, negative and small decimals,
    timestamps before and after 1970, strings that need JSON escaping."""
    ms = [-1, 0, 1764362110123, 86_399_999, -315_619_200_001][seq % 5] + seq
    return {
        "reservation_id": None if seq % 3 == 0 else f"R-{seq}",
        "property_id": str(prop),
        "amount": decimal.Decimal((seq * 1237 - 5000) * (1 if seq % 2 else -1)).scaleb(-2),
        "created_at": EPOCH + datetime.timedelta(milliseconds=ms),
        "method": ["card", "cash", "wallet"][seq % 3],
        "rate": [0.1, 1.5, -2.25e-7, 1e21][seq % 4],
        "tags": {"src": "it", "seq": str(seq), 'q"\\\n': "é✓"},
        "items": [None, seq, -seq * 1_000_000_007, f"s{seq}", None][: 1 + seq % 5],
        "guest": {"name": f"Gäst \"{seq}\"\t", "nights": seq % 7,
                  "email": None if seq % 2 else f"g{seq}@example.test"},
    }


class AvroTopics:
    """Schemas registered for one test's topics (TopicNameStrategy subjects):
    payment: long key + rich value; guest: int key + prototype value;
    reservation: long key + prototype value."""

    def __init__(self, registry, topics):
        self.registry = registry
        self.topics = topics
        self.key = {
            "payment": AvroSubjectSchema(registry, f"{topics['payment']}-key", KEY_LONG),
            "guest": AvroSubjectSchema(registry, f"{topics['guest']}-key", KEY_INT),
            "reservation": AvroSubjectSchema(registry, f"{topics['reservation']}-key", KEY_LONG),
        }
        self.value = {
            "payment": AvroSubjectSchema(registry, f"{topics['payment']}-value", VALUE_RICH),
            "guest": AvroSubjectSchema(registry, f"{topics['guest']}-value", VALUE_PROTO),
            "reservation": AvroSubjectSchema(registry, f"{topics['reservation']}-value",
                                             VALUE_PROTO),
        }
        assert self.key["payment"].id == self.key["reservation"].id  # same text, same id
        assert self.key["guest"].id != self.key["payment"].id

    def record(self, channel, org, prop, partition, seq, value_schema=None, datum=None):
        vs = value_schema or self.value[channel]
        if datum is None:
            if channel == "payment":
                datum = rich_value(seq, prop if prop is not None else "7")
            else:
                datum = {"reservation_id": None if seq % 4 == 0 else f"R-{seq}"}
        prop_out = datum.get("property_id")
        return avro_record(self.registry, self.topics, channel, org, prop_out, partition,
                           self.key[channel], {"organization_id": int(org)}, vs.frame(datum))

    def barrier(self, seq):
        counter = iter(range(seq, seq + 100000))

        def make(ch, org, prop, part):
            return self.record(ch, org, prop, part, next(counter))
        return make


def start(gateway, topics, registry, **env):
    # Fresh topics: read them from the beginning. With the fixture's default
    # (end), a partition whose end offset could not be queried at start-up is
    # assigned at the logical end and /readyz still says ready, so a record
    # produced right after can be missed (src/ingest/kafka_consumer.cc, the
    # kEnd case of RefreshAssignment); that is not what these tests are about.
    full = {"KAFKA_START_FROM": "beginning"}
    full.update(registry_env(registry))
    full.update(env)
    return gateway(topics, **full)


def interest_keys(gw):
    for line in gw.get("/metrics").text.splitlines():
        if line.startswith("rte_interest_keys"):
            return int(float(line.split()[-1]))
    raise AssertionError("no rte_interest_keys in /metrics")


def wait_subscriptions(gw, clients, timeout=15):
    """Waits until every subscription of clients ({client: [(channel, org,
    prop|None)]}) is in effect. /api/stats counts a /getEvents subscription
    before the ingest thread applies it (and that endpoint sends no ack), so
    also wait for the ingest thread's (channel, tenant) interest count."""
    n_subs = sum(len(s) for s in clients.values())
    n_keys = len({(ch, org) for subs in clients.values() for ch, org, _ in subs})

    def ok():
        s = gw.stats()
        return (s["connections"] == len(clients) and s["subscriptions"] == n_subs and
                interest_keys(gw) == n_keys)
    wait_until(ok, timeout, f"{len(clients)} connections / {n_subs} subscriptions / "
               f"{n_keys} interest keys")


def errors(gw):
    s = gw.stats()
    return s["key_errors"], s["value_errors"]


# 1 -------------------------------------------------------------------------------

def test_avro_records_reach_exactly_their_tenant_as_plain_json(kafka, topics, gateway,
                                                               registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    ws = gw.ws_base
    a = WsClient(f"{ws}/getEvents/payment?organization_id=42&user_id=a", "A")
    b = WsClient(f"{ws}/getEvents/payment?organization_id=42&user_id=b&property_id=7", "B")
    c = WsClient(f"{ws}/getEvents/guest?organization_id=42&user_id=c", "C")
    d = WsClient(f"{ws}/ws", "D")
    for i, ch in enumerate(("payment", "guest", "reservation")):
        d.subscribe(f"d{i}", ch, "42")
    e = WsClient(f"{ws}/ws", "E")
    e.subscribe("e1", "payment", 43, 8)
    e.subscribe("e2", "reservation", "43")
    clients = {a: [("payment", "42", None)], b: [("payment", "42", "7")],
               c: [("guest", "42", None)],
               d: [("payment", "42", None), ("guest", "42", None), ("reservation", "42", None)],
               e: [("payment", "43", "8"), ("reservation", "43", None)]}
    wait_subscriptions(gw, clients)
    before = gw.stats()
    reg_before = reg.admin_stats()

    recs, seq = [], 0
    for part in range(3):
        for org in ("42", "43", "44"):
            for prop in ("7", "8"):
                seq += 1
                recs.append(at.record("payment", org, prop, part, seq))
            for ch in ("guest", "reservation"):
                seq += 1
                recs.append(at.record(ch, org, None, part, seq))
    allrecs = deliver_and_check(kafka, clients, recs, at.barrier(1000))

    # Beyond the comparison with fastavro's reading: two records written out by
    # hand (seq 1 and 2 are organization 42's first payments on partition 0).
    by_res = {x["value"]["reservation_id"]: x for x in a.events()}
    r1 = by_res["R-1"]
    assert r1["key"] == {"organization_id": 42}
    assert same_json(r1["value"], {
        "reservation_id": "R-1", "property_id": "7", "amount": "-37.63",
        "created_at": "1970-01-01T00:00:00.001Z", "method": "cash", "rate": 1.5,
        "tags": {"src": "it", "seq": "1", 'q"\\\n': "é✓"}, "items": [None, 1],
        "guest": {"name": 'Gäst "1"\t', "nights": 1, "email": None}}), r1["value"]
    r2 = by_res["R-2"]["value"]
    assert (r2["amount"], r2["created_at"], r2["method"], r2["rate"], r2["items"]) == \
        ("25.26", "2025-11-28T20:35:10.125Z", "wallet", -2.25e-7, [None, 2, -2000000014])
    guest_ev = c.events()[0]
    assert guest_ev["key"] == {"organization_id": 42}  # int key schema, same filter

    after = gw.stats()
    assert (after["key_errors"], after["value_errors"]) == \
        (before["key_errors"], before["value_errors"]), after
    assert after["records_received"] - before["records_received"] >= len(allrecs)
    # The gateway fetched the schemas it needed, with the right credentials.
    reg_after = reg.admin_stats()
    assert reg_after["authorized"] > reg_before["authorized"]
    for cl in clients:
        assert not cl.closed.is_set(), f"{cl.name} closed ({cl.close_code})"
        cl.close()


# 2 -------------------------------------------------------------------------------

VALUE_V2 = {"type": "record", "name": "Value",
            "fields": [{"name": "reservation_id", "type": ["null", "string"]},
                       {"name": "property_id", "type": "string", "default": "0"},
                       {"name": "status", "default": "confirmed",
                        "type": {"type": "enum", "name": "Status",
                                 "symbols": ["confirmed", "cancelled"]}},
                       {"name": "nights", "type": "int", "default": 1}]}


def test_each_record_is_decoded_with_its_own_schema_version(kafka, topics, gateway,
                                                            registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    subject = f"{topics['reservation']}-value"
    v1 = at.value["reservation"]
    v2 = AvroSubjectSchema(reg, subject, VALUE_V2)
    assert v2.id != v1.id
    assert reg.versions(subject) == [1, 2]
    gw = start(gateway, topics, reg)
    a = WsClient(f"{gw.ws_base}/getEvents/reservation?organization_id=42&user_id=a", "A")
    b = WsClient(f"{gw.ws_base}/ws", "B")
    b.subscribe("b1", "reservation", 42, 5)
    clients = {a: [("reservation", "42", None)], b: [("reservation", "42", "5")]}
    wait_subscriptions(gw, clients)

    recs = []
    for seq in range(12):
        part = seq % 2
        org = "42" if seq % 3 else "43"
        if seq % 2 == 0:
            recs.append(at.record("reservation", org, None, part, seq, v1,
                                  {"reservation_id": f"R-{seq}"}))
        else:
            recs.append(at.record("reservation", org, None, part, seq, v2,
                                  {"reservation_id": None if seq % 5 == 0 else f"R-{seq}",
                                   "property_id": "5" if seq % 4 == 1 else "6",
                                   "status": "cancelled" if seq % 3 else "confirmed",
                                   "nights": seq}))
    counter = iter(range(500, 1000))

    def barrier(ch, org, prop, part):  # schema v2 with the property, so B gets it too
        n = next(counter)
        return at.record(ch, org, None, part, n, v2,
                         {"reservation_id": f"B-{n}", "property_id": prop or "5",
                          "status": "confirmed", "nights": 0})
    deliver_and_check(kafka, clients, recs, barrier)

    v1_fields = [f["name"] for f in VALUE_PROTO["fields"]]
    v2_fields = [f["name"] for f in VALUE_V2["fields"]]
    by_pos = {pos(r): r for r in recs}
    seen = set()
    for ev in a.events():
        r = by_pos.get((ev["topic"], ev["partition"], ev["offset"]))
        if r is None:
            continue  # a barrier
        writer = r["value"][1:5]
        want = v1_fields if writer == v1.id.to_bytes(4, "big") else v2_fields
        assert list(ev["value"]) == want, (ev, want)
        seen.add(tuple(want))
    assert seen == {tuple(v1_fields), tuple(v2_fields)}
    # The property filter matched only schema-v2 records with property_id "5".
    assert b.events() and all(ev["value"]["property_id"] == "5" for ev in b.events())
    assert errors(gw) == (0, 0)


# 3 -------------------------------------------------------------------------------

def test_registry_outage_parks_only_partitions_needing_a_new_schema(kafka, topics, gateway,
                                                                   registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    w = WsClient(f"{gw.ws_base}/ws", "W")
    w.subscribe("w1", "payment", 42)
    w.subscribe("w2", "guest", 42)
    lg = WsClient(f"{gw.ws_base}/getEvents/reservation?organization_id=42&user_id=l", "L")
    subs = {w: [("payment", "42", None), ("guest", "42", None)],
            lg: [("reservation", "42", None)]}
    wait_subscriptions(gw, subs)

    # Warm-up: every id in use now is cached by the gateway.
    allrecs = deliver_and_check(kafka, subs, [], at.barrier(0))

    # A new version of the payment value schema, registered just before the outage.
    newer = dict(VALUE_RICH, fields=VALUE_RICH["fields"] + [
        {"name": "note", "type": "string", "default": ""}])
    v2 = AvroSubjectSchema(reg, f"{topics['payment']}-value", newer)
    assert v2.id not in {s.id for s in list(at.key.values()) + list(at.value.values())}
    reg_before = reg.admin_stats()
    reg.set_fault("500")
    before = gw.stats()

    def rich2(seq):
        return dict(rich_value(seq, "7"), note=f"v2 #{seq}")
    blocked = [at.record("payment", "42", None, 0, 101, v2, rich2(101)),
               at.record("payment", "42", None, 0, 102),
               at.record("payment", "42", None, 0, 103, v2, rich2(103))]
    first = [at.record("payment", "42", None, 0, 100)]
    flowing = ([at.record("payment", "42", None, p, 110 + p) for p in (1, 2)] +
               [at.record("guest", "42", None, p, 120 + p) for p in range(3)] +
               [at.record("reservation", "42", None, p, 130 + p) for p in range(3)])
    allrecs += produce(kafka, first + blocked)
    allrecs += produce(kafka, flowing)
    flow = first + flowing
    wait_positions(w, [pos(r) for r in flow if r["channel"] != "reservation"], 30,
                   "cached-schema records during the outage")
    wait_positions(lg, [pos(r) for r in flow if r["channel"] == "reservation"], 30,
                   "reservation records during the outage")
    wait_until(lambda: gw.stats()["records_parked"] > before["records_parked"], 20,
               "records_parked to grow")
    # Wait until the gateway's registry client has failed at least one whole
    # fetch (first try + retries) and tried again, and the partition was
    # retried and parked again, while other partitions keep flowing.
    wait_until(lambda: reg.admin_stats()["requests"] >= reg_before["requests"] + 5, 30,
               "the gateway to retry the schema fetch against the failing registry")
    wait_until(lambda: gw.stats()["records_parked"] >= before["records_parked"] + 2, 20,
               "the parked partition to be retried and parked again")
    more = produce(kafka, [at.record("payment", "42", None, 1, 140),
                           at.record("guest", "42", None, 0, 141)])
    allrecs += more
    wait_positions(w, [pos(r) for r in more], 20, "records after the retry")
    got = {(e["topic"], e["partition"], e["offset"]) for e in w.events()}
    assert not got & {pos(r) for r in blocked}, \
        "records behind a schema the registry could not serve were delivered"

    reg.set_fault("none")
    wait_positions(w, [pos(r) for r in blocked], 45, "the parked records after recovery")
    allrecs += deliver_and_check(kafka, subs, [], at.barrier(200), earlier=allrecs)
    assert errors(gw) == (0, 0)
    # The two versions were each rendered with their own schema.
    evs = {(e["topic"], e["partition"], e["offset"]): e for e in w.events()}
    assert evs[pos(blocked[0])]["value"]["note"] == "v2 #101"
    assert "note" not in evs[pos(blocked[1])]["value"]


# 4 -------------------------------------------------------------------------------

def test_unknown_schema_id_is_counted_and_skipped(kafka, topics, gateway, registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    w = WsClient(f"{gw.ws_base}/ws", "W")
    w.subscribe("w1", "payment", 42)
    lg = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=l", "L")
    subs = {w: [("payment", "42", None)], lg: [("payment", "42", None)]}
    wait_subscriptions(gw, subs)
    unknown_value, unknown_key = 987654, 987655
    assert reg.schema_by_id(unknown_value) is None and reg.schema_by_id(unknown_key) is None

    good = at.value["payment"].body(rich_value(1, "7"))
    bad_value = at.record("payment", "42", None, 0, 0)
    bad_value["value"] = confluent_frame(unknown_value, good)
    bad_key = at.record("payment", "42", None, 1, 0)
    bad_key["key"] = confluent_frame(unknown_key, at.key["payment"].body({"organization_id": 42}))
    recs = [at.record("payment", "42", None, 0, 1), bad_value,
            at.record("payment", "42", None, 0, 2), at.record("payment", "42", None, 0, 3),
            at.record("payment", "42", None, 1, 4), bad_key,
            at.record("payment", "42", None, 1, 5)]
    allrecs = produce(kafka, recs)
    wanted = [pos(r) for r in allrecs if r is not bad_value and r is not bad_key]
    for cl in subs:
        wait_positions(cl, wanted, 40, "the records around the unknown ids")
    wait_until(lambda: errors(gw) == (1, 1), 20, "key_errors 1 and value_errors 1")
    good = [r for r in allrecs if r is not bad_value and r is not bad_key]
    deliver_and_check(kafka, subs, [], at.barrier(100), earlier=good)
    assert errors(gw) == (1, 1)


# 5 -------------------------------------------------------------------------------

def test_wrong_registry_credentials_stop_start_up(kafka, topics, registry_clean):
    binary = gateway_binary()
    if binary is None:
        pytest.skip("realtime-events binary not built (set RTE_BINARY)")
    key = registry_clean.user.split(":")[0]
    for user in (f"{key}:not-the-secret-5x7", "someone-else:not-the-secret-5x7", None):
        env = dict(os.environ)
        env.update({"KAFKA_BOOTSTRAP_SERVER": kafka.bootstrap, "PORT": "0",
                    "BIND_ADDRESS": "127.0.0.1", "PAYMENT_TOPIC": topics["payment"],
                    "GUEST_TOPIC": topics["guest"], "RESERVATION_TOPIC": topics["reservation"],
                    "KAFKA_SCHEMA_REGISTRY_URL": registry_clean.url})
        env.pop("KAFKA_SCHEMA_REGISTRY_USER", None)
        if user is not None:
            env["KAFKA_SCHEMA_REGISTRY_USER"] = user
        p = subprocess.run([binary, "serve"], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, f"user {user!r}: exit 0\n{p.stderr}"
        assert "listening" not in p.stdout, p.stdout
        assert "KAFKA_SCHEMA_REGISTRY_USER" in p.stderr and "401" in p.stderr, \
            f"user {user!r}: {p.stderr}"
        assert "not-the-secret-5x7" not in p.stderr + p.stdout, "the secret was printed"


# 6 -------------------------------------------------------------------------------

def test_corrupted_avro_bodies_are_counted_and_skipped(kafka, topics, gateway, registry_clean):
    reg = registry_clean
    at = AvroTopics(reg, topics)
    gw = start(gateway, topics, reg)
    w = WsClient(f"{gw.ws_base}/ws", "W")
    w.subscribe("w1", "payment", 42)
    w.subscribe("w2", "reservation", 42)
    subs = {w: [("payment", "42", None), ("reservation", "42", None)]}
    wait_subscriptions(gw, subs)
    # Cache every id first: the corrupt records below are decode errors, not
    # lookups.
    allrecs = deliver_and_check(kafka, subs, [], at.barrier(0))
    before = errors(gw)
    parked = gw.stats()["records_parked"]  # first sight of each id parks once

    pay, res = at.value["payment"], at.value["reservation"]
    body = pay.body(rich_value(3, "7"))
    corrupt_values = [
        ("payment", confluent_frame(pay.id, body[: len(body) // 2])),   # truncated
        ("payment", confluent_frame(pay.id, body[:-1])),                # last byte missing
        ("payment", confluent_frame(pay.id, b"")),                      # header only
        ("payment", confluent_frame(pay.id, body + b"\x00")),           # trailing byte
        ("reservation", confluent_frame(res.id, b"\x04")),              # union index 2 of 2
        ("reservation", confluent_frame(res.id, b"\x02\xfe\xff\xff\xff\xff\x7f")),  # huge length
        ("reservation", confluent_frame(res.id, b"\x02\x04\xc3\x28")),  # invalid UTF-8
    ]
    recs = []
    seq = 10
    for i, (ch, value) in enumerate(corrupt_values):
        part = i % 3
        bad = at.record(ch, "42", None, part, seq)
        bad["value"] = value
        bad["corrupt"] = True
        recs += [bad, at.record(ch, "42", None, part, seq + 1)]
        seq += 2
    bad_key = at.record("reservation", "42", None, 0, seq)
    bad_key["key"] = confluent_frame(at.key["reservation"].id, b"\x80")  # varint cut short
    bad_key["corrupt"] = True
    recs += [bad_key, at.record("reservation", "42", None, 0, seq + 1)]
    produced = produce(kafka, recs)
    good = [r for r in produced if not r.get("corrupt")]
    wait_positions(w, [pos(r) for r in good], 30, "the records after the corrupt ones")
    want = (before[0] + 1, before[1] + len(corrupt_values))
    wait_until(lambda: errors(gw) == want, 20, f"(key_errors, value_errors) == {want}")
    allrecs += good
    deliver_and_check(kafka, subs, [], at.barrier(300), earlier=allrecs)
    assert errors(gw) == want
    assert gw.stats()["records_parked"] == parked  # errors never park
