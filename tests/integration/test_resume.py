"""Resume from Kafka positions: a client that reconnects with the last offset it
saw per partition (`since`), or with a time (`since_time`), gets what it
missed, in partition order, then continues live with no gap and no duplicate
at the seam; on both endpoints, on the same or another instance, while
records keep coming. `recovered:false` when a limit cut the replay short.
Checked with DeliveryChecker (no loss, no duplicate, order per partition)."""

import threading
import time

from checker import DeliveryChecker
from helpers import WsClient, produce_records, record, wait_until


def _batch(topics, start, n, org=42, other=43):
    """n records of `org` over 3 partitions, with one of `other` between each."""
    recs = []
    for i in range(start, start + n):
        recs.append(record(topics, "payment", org, "7", i % 3, i))
        recs.append(record(topics, "payment", other, "7", i % 3, i))
    return recs


def _mine(recs, org="42"):
    return [r for r in recs if r["org"] == org]


def _last_seen(events):
    """{"partition": last offset} of a client's events, as `since` wants it."""
    since = {}
    for e in events:
        since[str(e["partition"])] = max(since.get(str(e["partition"]), -1), e["offset"])
    return since


def _subscribe(client, rid, **extra):
    cmd = {"type": "subscribe", "id": rid, "channel": "payment", "filter": {"organization_id": "42"}}
    cmd.update(extra)
    reply = client.request(cmd, timeout=30)
    assert reply["type"] == "subscribed", reply
    return reply


def _ws(gw, name):
    return WsClient(f"{gw.ws_base}/ws", name)


def _see_then_leave(kafka, topics, gw, n_before, subscribe_checks=False):
    """A client subscribes, receives n_before records of organization 42 (and
    of 43 around them), records its last offsets and disconnects: returns
    (records produced, its `since`)."""
    first = _ws(gw, "first")
    reply = _subscribe(first, "s1")
    if subscribe_checks:
        assert reply["recovered"] is True
    before = produce_records(kafka, _batch(topics, 0, n_before))
    DeliveryChecker(first).expect(_mine(before)).wait_complete(20)
    since = _last_seen(first.events())
    first.close()
    return before, since


def _resume(gw, since, missed):
    """A new connection subscribes with `since`: recovered, and at most
    `missed` (organization 42's part) replayed: what the live stream had not
    reached yet when the in-memory window was read comes right after, live
    (the DeliveryChecker of each test sees that nothing is missing)."""
    again = _ws(gw, "again")
    reply = _subscribe(again, "s2", since=since)
    assert reply["recovered"] is True and 0 < reply["replayed"] <= len(_mine(missed)), reply
    return again, reply


def test_resume_by_offsets_replays_what_was_missed_then_continues_live(kafka, topics, gateway):
    gw = gateway(topics)
    before, since = _see_then_leave(kafka, topics, gw, 30, subscribe_checks=True)
    missed = produce_records(kafka, _batch(topics, 30, 40))
    again, reply = _resume(gw, since, missed)
    after = produce_records(kafka, _batch(topics, 70, 20))
    checker = DeliveryChecker(again).expect(_mine(missed) + _mine(after)).forbid(_mine(before))
    checker.forbid([r for r in before + missed + after if r["org"] == "43"])
    checker.wait_complete(20)
    time.sleep(0.5)
    checker.assert_clean()
    # The replayed events come first, right after the acknowledgement.
    msgs = again.snapshot()
    ack = next(i for i, m in enumerate(msgs) if m.get("id") == "s2")
    replayed = [(m["partition"], m["offset"]) for m in msgs[ack + 1:ack + 1 + reply["replayed"]]]
    assert set(replayed) <= {(r["partition_out"], r["offset"]) for r in _mine(missed)}
    s = gw.stats()
    assert s["replays_recovered"] == 1 and s["replayed_events"] == reply["replayed"], s
    # Served from the in-memory window: no record read from Kafka for it.
    assert s["replay_window_hits"] == 3 and s["replay_records_read"] == 0, s
    again.close()


def test_beyond_the_in_memory_window_the_resume_reads_kafka(kafka, topics, gateway):
    gw = gateway(topics, REPLAY_WINDOW_RECORDS=5)
    before, since = _see_then_leave(kafka, topics, gw, 6)
    missed = produce_records(kafka, _batch(topics, 6, 60))  # 40 records per partition: past the window of 5
    again, _ = _resume(gw, since, missed)
    after = produce_records(kafka, _batch(topics, 100, 10))
    checker = DeliveryChecker(again).expect(_mine(missed) + _mine(after)).forbid(_mine(before))
    checker.wait_complete(20)
    time.sleep(0.3)
    checker.assert_clean()
    s = gw.stats()
    assert s["replay_window_hits"] == 0 and s["replay_records_read"] >= len(missed), s
    again.close()


def test_resume_by_time_and_on_the_prototype_endpoint(kafka, topics, gateway):
    gw = gateway(topics)
    produce_records(kafka, _batch(topics, 0, 10))
    time.sleep(0.2)
    t = int(time.time() * 1000)
    time.sleep(0.2)
    missed = produce_records(kafka, _batch(topics, 10, 25))

    by_time = _ws(gw, "by-time")
    reply = _subscribe(by_time, "t1", since_time=t)
    assert reply["recovered"] is True and 0 < reply["replayed"] <= len(_mine(missed)), reply

    # /getEvents?since=P:O: the last offsets before `missed`, per partition.
    first_missed = {}
    for r in _mine(missed):
        first_missed[r["partition_out"]] = min(first_missed.get(r["partition_out"], 1 << 62), r["offset"])
    since = ",".join(f"{p}:{o - 1}" for p, o in sorted(first_missed.items()))
    proto = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=p&since={since}", "proto")
    proto_t = WsClient(f"{gw.ws_base}/getEvents/payment?organization_id=42&user_id=q&since_time={t}", "proto-time")
    wait_until(lambda: gw.stats()["replays_recovered"] == 3, 20, "three resumes served")
    after = produce_records(kafka, _batch(topics, 35, 10))
    for cl in (by_time, proto, proto_t):
        checker = DeliveryChecker(cl).expect(_mine(missed) + _mine(after))
        checker.forbid([r for r in missed + after if r["org"] == "43"])
        checker.wait_complete(20)
        time.sleep(0.3)
        checker.assert_clean()
        cl.close()


def test_no_gap_and_no_duplicate_at_the_seam_while_records_keep_coming(kafka, topics, gateway):
    gw = gateway(topics)
    first = _ws(gw, "first")
    _subscribe(first, "s1")
    produced = []
    stop = threading.Event()

    def producer():
        i = 0
        while not stop.is_set():
            produced.extend(produce_records(kafka, _batch(topics, 1000 + i * 5, 5)))
            i += 1
            time.sleep(0.02)

    t = threading.Thread(target=producer, daemon=True)
    t.start()
    try:
        time.sleep(1.0)
        since = _last_seen(first.events())
        first.close()
        time.sleep(0.5)  # records go by while nobody listens
        again = _ws(gw, "again")
        reply = _subscribe(again, "s2", since=since)
        assert reply["recovered"] is True, reply
        time.sleep(1.0)
    finally:
        stop.set()
        t.join(10)
    seen = {(e["partition"], e["offset"]) for e in DeliveryChecker(first).events()}
    want = [r for r in _mine(produced)
            if r["offset"] > since.get(str(r["partition_out"]), -1)]
    checker = DeliveryChecker(again).expect(want)
    checker.wait_complete(30)
    time.sleep(0.5)
    checker.assert_clean()
    assert len(seen) > 0
    again.close()


def test_resume_on_another_instance_after_the_first_stops(kafka, topics, gateway):
    one = gateway(topics)
    two = gateway(topics)
    first = _ws(one, "on-one")
    _subscribe(first, "s1")
    before = produce_records(kafka, _batch(topics, 0, 15))
    DeliveryChecker(first).expect(_mine(before)).wait_complete(20)
    since = _last_seen(first.events())
    one.stop()  # a deploy: this instance goes away (drain), the client moves on
    missed = produce_records(kafka, _batch(topics, 15, 20))
    moved = _ws(two, "on-two")
    reply = _subscribe(moved, "s2", since=since)
    assert reply["recovered"] is True and 0 < reply["replayed"] <= len(_mine(missed)), reply
    after = produce_records(kafka, _batch(topics, 35, 10))
    checker = DeliveryChecker(moved).expect(_mine(missed) + _mine(after)).forbid(_mine(before))
    checker.wait_complete(20)
    time.sleep(0.3)
    checker.assert_clean()
    moved.close()


def test_a_replay_cut_short_says_not_recovered(kafka, topics, gateway):
    gw = gateway(topics, REPLAY_MAX_RECORDS=10, REPLAY_WINDOW_BYTES=0)  # the limit is on Kafka reads
    produce_records(kafka, _batch(topics, 0, 3))
    since = {"0": -1, "1": -1, "2": -1}  # everything from the start: 6 records of 42 and 43 each
    produce_records(kafka, _batch(topics, 3, 30))
    cl = _ws(gw, "cut")
    reply = _subscribe(cl, "s1", since=since)
    assert reply["recovered"] is False, reply
    # Still subscribed: live records arrive.
    after = produce_records(kafka, _batch(topics, 100, 5))
    DeliveryChecker(cl).expect(_mine(after)).wait_complete(20)
    assert gw.stats()["replays_not_recovered"] == 1
    cl.close()


def test_a_resume_larger_than_the_send_queue_flows_at_the_clients_pace(kafka, topics, gateway):
    # 4 KiB of send queue, ~60 KB of missed events: replayed in steps as the client reads,
    # never over the bound (which would close it with 1013).
    gw = gateway(topics, SEND_QUEUE_BYTES=4096)
    _, since = _see_then_leave(kafka, topics, gw, 3)
    missed = produce_records(kafka, _batch(topics, 3, 300))
    again, _ = _resume(gw, since, missed)
    # A few live ones after it: together with what the replay may still have queued
    # (at most half the queue) they fit the 4 KiB. (20 at once, ~5 KB in one fan-out
    # pass, would overflow it whatever the client's pace, and close it as slow.)
    after = produce_records(kafka, _batch(topics, 400, 5))
    checker = DeliveryChecker(again).expect(_mine(missed) + _mine(after))
    checker.wait_complete(30)
    time.sleep(0.3)
    checker.assert_clean()
    assert gw.stats()["slow_consumer_closes"] == 0
    again.close()
