"""DeliveryChecker: the delivery guarantees, checked from the client side.

It records every event a client received and, given the records that were
produced, asserts per (topic, partition):
- no loss: every expected record arrived;
- no duplicate: none arrived twice;
- order: offsets increase strictly in arrival order;
- nothing unexpected: no event for a record that must not be delivered
  (skipped poison records, other tenants).

Reusable by any delivery test: expected records are dicts with "topic",
"partition_out" and "offset" (as kafka_broker/registry_fixtures' produce
fill them), or (topic, partition, offset) tuples.

    checker = DeliveryChecker(client)
    checker.expect(good_records)
    checker.forbid(poison_records)
    checker.wait_complete(30)     # every expected record arrived
    checker.assert_clean()        # loss / duplicate / order / forbidden
"""

import time


def position(r):
    """(topic, partition, offset) of a produced record or a tuple."""
    if isinstance(r, tuple):
        return r
    return (r["topic"], r["partition_out"], r["offset"])


def event_position(e):
    return (e["topic"], e["partition"], e["offset"])


class DeliveryChecker:
    """Thread rule: use from the test's thread; it reads the client's
    messages through WsClient.events() (a locked snapshot)."""

    def __init__(self, client):
        self.client = client
        self.expected = set()
        self.forbidden = set()

    def expect(self, records):
        self.expected |= {position(r) for r in records}
        return self

    def forbid(self, records):
        self.forbidden |= {position(r) for r in records}
        return self

    def events(self):
        return [e for e in self.client.events() if e.get("type") == "event"]

    def missing(self):
        got = {event_position(e) for e in self.events()}
        return sorted(self.expected - got)

    def wait_complete(self, timeout, what="every expected record"):
        deadline = time.monotonic() + timeout
        while True:
            missing = self.missing()
            if not missing:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{self.client.name}: timed out after {timeout} s waiting for {what}: "
                    f"{len(missing)} of {len(self.expected)} missing, first {missing[:5]} "
                    f"(closed={self.client.closed.is_set()}, code={self.client.close_code})")
            time.sleep(0.05)

    def report(self):
        """{"lost": [...], "duplicated": [...], "out_of_order": [...],
        "forbidden": [...]}: positions (each list empty when all is well)."""
        evs = self.events()
        seen, dup, disorder, last = set(), [], [], {}
        for e in evs:
            p = event_position(e)
            if p in seen:
                dup.append(p)
            seen.add(p)
            tp = p[:2]
            if tp in last and p[2] <= last[tp]:
                disorder.append(p)
            last[tp] = max(last.get(tp, -1), p[2])
        return {"lost": sorted(self.expected - seen), "duplicated": dup,
                "out_of_order": disorder, "forbidden": sorted(seen & self.forbidden)}

    def assert_clean(self):
        r = self.report()
        problems = {k: v[:6] for k, v in r.items() if v}
        assert not problems, (f"{self.client.name}: delivery broken: "
                              f"{ {k: len(v) for k, v in r.items()} } e.g. {problems}")
