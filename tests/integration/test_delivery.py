"""Routing: each client gets exactly the records it is entitled to (tenant,
and property when it filtered on one), in partition order, with every field
right; on both endpoints, with one and with two gateway instances."""

import itertools
import json

from helpers import WsClient, deliver_and_check, produce_records, record, wait_until


def wait_subscriptions(gw, connections, subscriptions, timeout=15):
    def ok():
        s = gw.stats()
        return s["connections"] == connections and s["subscriptions"] == subscriptions
    wait_until(ok, timeout, f"{gw.name}: {connections} connections / {subscriptions} "
               f"subscriptions in /api/stats")


def all_records(topics, orgs=("42", "43", "44"), props=("7", "8", "9"),
                channels=("payment", "guest", "reservation")):
    recs = []
    for seq, (ch, org, prop, part) in enumerate(
            itertools.product(channels, orgs, props, range(3))):
        recs.append(record(topics, ch, org, prop, part, seq, plain_key=(seq % 4 == 3)))
    return recs


def test_each_client_gets_exactly_its_records(kafka, topics, gateway):
    gw = gateway(topics)
    ws = gw.ws_base
    clients = {}
    a = WsClient(f"{ws}/getEvents/payment?organization_id=42&user_id=u1", "A")
    clients[a] = [("payment", "42", None)]
    b = WsClient(f"{ws}/getEvents/payment?organization_id=42&user_id=u2&property_id=7", "B")
    clients[b] = [("payment", "42", "7")]
    c = WsClient(f"{ws}/getEvents/payment?organization_id=43&user_id=u3", "C",
                 compression="deflate")
    clients[c] = [("payment", "43", None)]
    f = WsClient(f"{ws}/getEvents/guest?organization_id=42&user_id=u4", "F")
    clients[f] = [("guest", "42", None)]
    d = WsClient(f"{ws}/ws", "D")
    d.subscribe("d1", "payment", 42)
    clients[d] = [("payment", "42", None)]
    e = WsClient(f"{ws}/ws", "E")
    e.subscribe("e1", "payment", 42, 8)
    e.subscribe("e2", "guest", 43)
    clients[e] = [("payment", "42", "8"), ("guest", "43", None)]
    wait_subscriptions(gw, 6, 7)
    before = gw.stats()

    recs = deliver_and_check(kafka, topics, clients, all_records(topics))

    n_entitled = sum(1 for subs in clients.values() for r in recs
                     if any(r["channel"] == ch and r["org"] == o and (p is None or p == r["prop"])
                            for ch, o, p in subs))
    nobody = sum(1 for r in recs if not any(
        r["channel"] == ch and r["org"] == o and (p is None or p == r["prop"])
        for subs in clients.values() for ch, o, p in subs))
    try:
        wait_until(lambda: gw.stats()["records_received"] - before["records_received"]
                   >= len(recs), 15, "records_received to count every record")
    except AssertionError as e:
        raise AssertionError(f"{e}: produced {len(recs)}, before {before}, now {gw.stats()}")
    after = gw.stats()
    assert after["records_received"] - before["records_received"] == len(recs)
    assert after["deliveries"] - before["deliveries"] == n_entitled
    assert after["records_skipped"] - before["records_skipped"] >= nobody
    assert after["decode_errors"] == before["decode_errors"]
    for cl in clients:
        assert not cl.closed.is_set(), f"{cl.name} closed ({cl.close_code})"
        cl.close()


def test_numeric_and_string_ids_match_as_strings(kafka, topics, gateway):
    gw = gateway(topics)
    cl = WsClient(f"{gw.ws_base}/getEvents/reservation?organization_id=42&user_id=u&property_id=7",
                  "N")
    w = WsClient(f"{gw.ws_base}/ws", "W")
    w.subscribe("w1", "reservation", "42", "7")
    wait_subscriptions(gw, 2, 2)
    recs = [
        record(topics, "reservation", 42, None, 0, 1, value_extra={"property_id": 7}),
        record(topics, "reservation", 42, "7", 1, 2, plain_key=True),
        record(topics, "reservation", 42, None, 2, 3, value_extra={"property_id": 77}),
        record(topics, "reservation", 420, "7", 0, 4),
    ]
    recs[0]["prop"] = "7"
    recs[2]["prop"] = "77"
    recs[3]["org"] = "420"
    deliver_and_check(kafka, topics, {cl: [("reservation", "42", "7")],
                                      w: [("reservation", "42", "7")]}, recs)
    assert len(cl.events()) == 2 + 3  # two entitled records + one barrier per partition


def test_two_gateways_both_deliver_everything(kafka, topics, gateway):
    gws = [gateway(topics), gateway(topics)]
    clients = {}
    for i, gw in enumerate(gws):
        a = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=u{i}", f"g{i}A")
        clients[a] = [("payment", "42", None)]
        b = WsClient(f"{gw.ws_base}/ws", f"g{i}B")
        b.subscribe("b", "payment", 42, 7)
        b.subscribe("c", "guest", 43)
        clients[b] = [("payment", "42", "7"), ("guest", "43", None)]
        wait_subscriptions(gw, 2, 3)
    recs = all_records(topics, orgs=("42", "43"), props=("7", "8"),
                       channels=("payment", "guest"))
    deliver_and_check(kafka, topics, clients, recs)
    # The same records through both instances (interleaving across
    # partitions may differ).
    for x, y in ((0, 2), (1, 3)):
        cx, cy = list(clients)[x], list(clients)[y]
        assert sorted(json.dumps(e, sort_keys=True) for e in cx.events()) == \
            sorted(json.dumps(e, sort_keys=True) for e in cy.events())


def test_unsubscribe_stops_delivery(kafka, topics, gateway):
    gw = gateway(topics)
    cl = WsClient(f"{gw.ws_base}/ws", "U")
    cl.subscribe("s42", "payment", 42)
    cl.subscribe("s43", "payment", 43)
    wait_subscriptions(gw, 1, 2)
    deliver_and_check(kafka, topics, {cl: [("payment", "42", None), ("payment", "43", None)]},
                      [record(topics, "payment", 42, "7", p, p) for p in range(3)])
    n42 = len([e for e in cl.events() if e["key"] == {"organization_id": 42}])

    ack = cl.request({"type": "unsubscribe", "id": "u1", "channel": "payment",
                      "filter": {"organization_id": "42"}})
    assert ack == {"type": "unsubscribed", "id": "u1", "channel": "payment"}
    wait_subscriptions(gw, 1, 1)

    # Later in every partition: org 42 (no longer wanted), then org 43.
    recs = [record(topics, "payment", 42, "7", p, 10 + p) for p in range(3)]
    recs += [record(topics, "payment", 43, "7", p, 20 + p) for p in range(3)]
    start = len(cl.events())
    produce_records(kafka, recs)
    last43 = {r["partition_out"]: r["offset"] for r in recs[3:]}
    cl.wait_count(lambda m: m.get("type") == "event" and m["partition"] in last43
                  and m["offset"] == last43[m["partition"]], 3, 20,
                  "org 43 records produced after the unsubscribe")
    # Each org 43 record came after the org 42 one in its partition, so a
    # wrong delivery of org 42 would have arrived already.
    later = cl.events()[start:]
    assert [e["key"] for e in later] == [{"organization_id": 43}] * 3, later
    assert len([e for e in cl.events() if e["key"] == {"organization_id": 42}]) == n42


def test_one_connection_several_channels(kafka, topics, gateway):
    gw = gateway(topics)
    cl = WsClient(f"{gw.ws_base}/ws", "M")
    cl.subscribe("p", "payment", 42)
    cl.subscribe("g", "guest", 42, 8)
    cl.subscribe("r", "reservation", 43)
    other = WsClient(f"{gw.ws_base}/getEvents/reservation?organization_id=42&user_id=x", "O")
    wait_subscriptions(gw, 2, 4)
    recs = all_records(topics, orgs=("42", "43"), props=("7", "8"))
    deliver_and_check(kafka, topics, {
        cl: [("payment", "42", None), ("guest", "42", "8"), ("reservation", "43", None)],
        other: [("reservation", "42", None)]}, recs)
    assert {e["channel"] for e in cl.events()} == {"payment", "guest", "reservation"}
