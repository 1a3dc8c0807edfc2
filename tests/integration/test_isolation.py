"""Tenant isolation, as a randomized property test: ~200 JWT clients (/ws and
/getEvents, every token transport) over 20 organizations x 5 properties,
each with a random entitlement (1-3 organizations, some restricted to a few
properties), random subscribes and unsubscribes (forbidden ones included),
then a few thousand records over the three channels. Every client must get
exactly the records of the subscriptions it held during the production
window (once per matching subscription) and never one outside its
entitlement. RTE_ISOLATION_SEED=N replays a run; the seed is printed."""

import collections
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from authclients import TRANSPORTS, connect
from conftest import CHANNELS
from helpers import produce_records, record, wait_until
from tokens import mint, new_secret

ORGS = [str(201 + i) for i in range(20)]
PROPS = [str(i) for i in range(1, 6)]
N_WS, N_LEGACY = 140, 60
MAX_HELD = 5


class Model:
    def __init__(self, i, kind, orgs, props, transport):
        self.name = f"c{i:03d}-{kind}"
        self.kind = kind            # "ws" or "legacy"
        self.orgs = orgs            # set of organization ids
        self.props = props          # None (every property) or a set
        self.transport = transport
        self.held = set()           # (channel, org, prop|None)
        self.plan = []              # per round: [("sub"|"unsub", (ch, org, prop), expected)]
        self.legacy_filter = None
        self.expect_refused = False
        self.client = None

    def allowed(self, org, prop):
        if org not in self.orgs:
            return False
        return self.props is None or (prop is not None and prop in self.props)

    def entitled_to(self, org, prop):
        """The event-level invariant: org in the token, and a property the
        token allows."""
        return org in self.orgs and (self.props is None or prop in self.props)


def pick_filter(rng, m):
    ch = rng.choice(CHANNELS)
    org = rng.choice(sorted(m.orgs)) if rng.random() < 0.7 else rng.choice(ORGS)
    r = rng.random()
    if m.props is not None:
        prop = rng.choice(sorted(m.props)) if r < 0.7 else (rng.choice(PROPS) if r < 0.85
                                                             else None)
    else:
        prop = None if r < 0.5 else rng.choice(PROPS)
    return ch, org, prop


def plan_round(rng, m):
    ops = []
    for _ in range(rng.randint(1, 4)):
        if m.held and rng.random() < 0.3:
            f = rng.choice(sorted(m.held, key=str))
            m.held.discard(f)
            ops.append(("unsub", f, "unsubscribed"))
        elif len(m.held) < MAX_HELD:
            f = pick_filter(rng, m)
            ok = m.allowed(f[1], f[2])
            if ok:
                m.held.add(f)
            ops.append(("sub", f, "subscribed" if ok else "forbidden"))
    return ops


def run_ops(m, ops, rnd):
    c = m.client
    for k, (op, (ch, org, prop), want) in enumerate(ops):
        filt = {"organization_id": org}
        if prop is not None:
            filt["property_id"] = prop
        rid = f"r{rnd}-{k}"
        reply = c.request({"type": "subscribe" if op == "sub" else "unsubscribe", "id": rid,
                           "channel": ch, "filter": filt}, timeout=20)
        got = reply.get("code") if reply.get("type") == "error" else reply.get("type")
        if got != want:
            return (f"{m.name} (orgs {sorted(m.orgs)}, props {m.props}): {op} {ch} {filt} -> "
                    f"{reply}, expected {want}")
    return None


def open_client(gw, secret, m, rnd):
    tok = mint(secret, "HS256", sub=m.name, orgs=sorted(m.orgs),
               props=None if m.props is None else sorted(m.props))
    try:
        if m.kind == "ws":
            m.client = connect(gw, "/ws", tok, m.transport, name=m.name)
            return run_ops(m, m.plan[rnd], rnd)
        ch, org, prop = m.legacy_filter
        path = f"/getEvents/{ch}?organization_id={org}&user_id={m.name}"
        if prop is not None:
            path += f"&property_id={prop}"
        m.client = connect(gw, path, tok, m.transport, name=m.name, wait_auth=False)
    except Exception as e:  # reported with the seed
        return f"{m.name} via {m.transport}: {type(e).__name__}: {e}"
    return None


def expected_counts(models, recs):
    want = {}
    for m in models:
        cnt = collections.Counter()
        for r in recs:
            n = sum(1 for ch, org, p in m.held
                    if ch == r["channel"] and org == r["org"] and (p is None or p == r["prop"]))
            if n:
                cnt[(r["topic"], r["partition_out"], r["offset"])] = n
        want[m] = cnt
    return want


@pytest.mark.timeout(150)
def test_tenant_isolation_under_random_entitlements(kafka, topics, gateway):
    seed = int(os.environ.get("RTE_ISOLATION_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"isolation seed {seed} (RTE_ISOLATION_SEED={seed} replays it)")
    rng = random.Random(seed)
    t0 = time.monotonic()
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret,
                 JWT_PROPERTIES_CLAIM="props", COMMAND_RATE=100, COMMAND_BURST=100)

    models = []
    for i in range(N_WS + N_LEGACY):
        kind = "ws" if i < N_WS else "legacy"
        orgs = set(rng.sample(ORGS, rng.randint(1, 3)))
        props = set(rng.sample(PROPS, rng.randint(1, 2))) if rng.random() < 0.3 else None
        m = Model(i, kind, orgs, props, rng.choice(TRANSPORTS))
        if kind == "ws":
            m.plan.append(plan_round(rng, m))
        else:
            f = pick_filter(rng, m)
            if rng.random() < 0.8 and not m.allowed(f[1], f[2]):
                # Mostly allowed filters: re-draw within the entitlement.
                org = rng.choice(sorted(m.orgs))
                prop = rng.choice(sorted(m.props)) if m.props is not None else f[2]
                f = (f[0], org, prop)
            m.legacy_filter = f
            if m.allowed(f[1], f[2]):
                m.held.add(f)
            else:
                m.expect_refused = True
        models.append(m)
    by_name = {m.name: m for m in models}

    def quiesce(what):
        live = [m for m in models if not m.expect_refused]
        n_subs = sum(len(m.held) for m in live)

        def ok():
            s = gw.stats()
            return s["connections"] == len(live) and s["subscriptions"] == n_subs
        try:
            wait_until(ok, 30, f"{len(live)} connections / {n_subs} subscriptions ({what})")
        except AssertionError as e:
            raise AssertionError(f"seed {seed}: {e}; stats {gw.stats()}") from None

    def produce_round(n, seq0):
        recs = []
        for k in range(n):
            prop = None if rng.random() < 0.1 else rng.choice(PROPS)
            recs.append(record(topics, rng.choice(CHANNELS), rng.choice(ORGS), prop,
                               rng.randrange(3), seq0 + k))
        # Barriers: after every other record in each partition, one record
        # per (channel, organization) held by anyone and property.
        held = sorted({(ch, org) for m in models for ch, org, _ in m.held})
        for ch, org in held:
            for part in range(3):
                for p in PROPS:
                    recs.append(record(topics, ch, org, p, part, seq0 + len(recs)))
        before = gw.stats()["records_received"]
        produce_records(kafka, recs)
        return recs, before

    def check_round(recs, before, starts, rnd):
        want = expected_counts(models, recs)
        problems = []
        deadline = time.monotonic() + 60
        for m in models:
            c = m.client
            if c is None:
                continue

            def have(m=m, c=c):
                got = collections.Counter((e["topic"], e["partition"], e["offset"])
                                          for e in c.events()[starts[m]:])
                return all(got[p] >= n for p, n in want[m].items())
            try:
                wait_until(have, max(0.5, deadline - time.monotonic()), f"{m.name} round {rnd}")
            except AssertionError:
                got = collections.Counter((e["topic"], e["partition"], e["offset"])
                                          for e in c.events()[starts[m]:])
                missing = [p for p, n in want[m].items() if got[p] < n]
                problems.append(f"{m.name} ({m.kind}, via {m.transport}, held {sorted(m.held, key=str)}): "
                                f"missing {len(missing)}/{len(want[m])} positions, closed="
                                f"{c.closed.is_set()} code={c.close_code}")
        wait_until(lambda: gw.stats()["records_received"] - before >= len(recs), 30,
                   f"round {rnd}: the gateway to count all {len(recs)} records")
        by_pos = {(r["topic"], r["partition_out"], r["offset"]): r for r in recs}
        leaks = 0
        for m in models:
            c = m.client
            if c is None:
                continue
            evs = c.events()[starts[m]:]
            for e in evs:
                org = str(e["key"]["organization_id"]) if isinstance(e["key"], dict) else str(e["key"])
                prop = e["value"].get("property_id") if isinstance(e["value"], dict) else None
                if not m.entitled_to(org, prop):
                    leaks += 1
                    if leaks <= 10:
                        problems.append(f"LEAK: {m.name} (orgs {sorted(m.orgs)}, props {m.props}) "
                                        f"received org {org} property {prop}: seq "
                                        f"{e['value'].get('seq')} {e['topic']}")
            got = collections.Counter((e["topic"], e["partition"], e["offset"]) for e in evs)
            extra = [(p, n, want[m].get(p, 0)) for p, n in got.items() if n > want[m].get(p, 0)]
            if extra:
                problems.append(f"{m.name} (held {sorted(m.held, key=str)}): {len(extra)} "
                                f"unexpected positions, e.g. "
                                f"{[(by_pos.get(p, {}).get('channel'), by_pos.get(p, {}).get('org'), by_pos.get(p, {}).get('prop'), n, w) for p, n, w in extra[:3]]}")
            if m.expect_refused and (evs or not c.closed.is_set() or c.close_code != 1008):
                problems.append(f"{m.name}: forbidden /getEvents {m.legacy_filter} got "
                                f"{len(evs)} events, closed={c.closed.is_set()} code={c.close_code}")
        assert not problems, f"seed {seed}, round {rnd}: {len(problems)} problems " \
            f"({leaks} leaked events):\n" + "\n".join(problems[:30])
        return sum(sum(w.values()) for w in want.values())

    # Round 1: connect everyone and apply the first plans.
    with ThreadPoolExecutor(16) as pool:
        errors = [e for e in pool.map(lambda m: open_client(gw, secret, m, 0), models) if e]
    assert not errors, f"seed {seed}:\n" + "\n".join(errors[:20])
    refused = [m for m in models if m.expect_refused]
    for m in refused:
        assert m.client.closed.wait(15), f"seed {seed}: {m.name} {m.legacy_filter} not closed"
    quiesce("round 1")
    starts = {m: 0 for m in models}
    recs, before = produce_round(2000, 0)
    n1 = check_round(recs, before, starts, 1)

    # Round 2: more subscribes and unsubscribes on /ws, then more records.
    for m in models:
        if m.kind == "ws":
            m.plan.append(plan_round(rng, m))
    with ThreadPoolExecutor(16) as pool:
        errors = [e for e in pool.map(lambda m: run_ops(m, m.plan[1], 1),
                                      [m for m in models if m.kind == "ws"]) if e]
    assert not errors, f"seed {seed}:\n" + "\n".join(errors[:20])
    quiesce("round 2")
    starts = {m: len(m.client.events()) for m in models if m.client is not None}
    recs2, before2 = produce_round(1500, 10000)
    n2 = check_round(recs2, before2, starts, 2)

    for m in models:
        if not m.expect_refused:
            assert not m.client.closed.is_set(), f"seed {seed}: {m.name} closed " \
                f"({m.client.close_code})"
    forbidden = sum(1 for m in models for ops in m.plan for o in ops if o[2] == "forbidden")
    print(f"seed {seed}: {len(models)} clients ({len(refused)} refused /getEvents, {forbidden} "
          f"forbidden subscribes), {len(recs) + len(recs2)} records, {n1 + n2} deliveries "
          f"checked in {time.monotonic() - t0:.1f} s")
    assert by_name
    for m in models:
        if m.client is not None:
            m.client.close()
