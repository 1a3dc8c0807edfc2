"""AUTH_MODE=allowlist: organization/user pairs from ALLOWLIST_FILE decide who
may open /getEvents and what /ws?user_id=U may subscribe to; the file is
reloaded on change and a removed pair drops the affected subscriptions."""

import os

from authclients import expect_close_code, expect_status, probe, wait_closed
from helpers import WsClient, wait_until
from rawws import RawWebSocket

ALLOWLIST = """# organization user
42 alice
43,bob
  44   *     # any user of 44
42 bob

# 45 carol (commented out)
"""


def write_allowlist(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def getevents(org, user=None, channel="payment"):
    p = f"/getEvents/{channel}?organization_id={org}"
    return p + (f"&user_id={user}" if user is not None else "")


def refused_1008(gw, path):
    ws = RawWebSocket(gw.port, path)
    try:
        expect_close_code(ws, 1008, what=path)
    finally:
        ws.close()


def test_allowlist_pairs_decide_access(kafka, topics, gateway, tmp_path):
    path = tmp_path / "allowlist.txt"
    write_allowlist(path, ALLOWLIST)
    gw = gateway(topics, AUTH_MODE="allowlist", ALLOWLIST_FILE=str(path))
    ok = [WsClient(gw.ws_base + getevents(o, u), f"{o}/{u}")
          for o, u in (("42", "alice"), ("43", "bob"), ("44", "zed"), ("42", "bob"))]
    for o, u in (("42", "carol"), ("43", "alice"), ("45", "carol")):
        refused_1008(gw, getevents(o, u))
    # Missing user_id: refused before the upgrade.
    expect_status(gw, getevents("42"), 401)
    expect_status(gw, "/ws", 401)

    alice = WsClient(f"{gw.ws_base}/ws?user_id=alice", "alice /ws")
    alice.subscribe("a42", "payment", 42)
    alice.subscribe("a42g", "guest", 42, 7)
    bob = WsClient(f"{gw.ws_base}/ws?user_id=bob", "bob /ws")
    bob.subscribe("b43", "payment", 43)
    bob.subscribe("b44", "payment", 44)  # 44 allows any user
    for c, org in ((alice, "43"), (alice, "46"), (bob, "45")):
        r = c.request({"type": "subscribe", "id": f"x{org}", "channel": "payment",
                       "filter": {"organization_id": org}})
        assert r["type"] == "error" and r["code"] == "forbidden", (c.name, org, r)
    wait_until(lambda: gw.stats()["subscriptions"] == 8, 15, "8 subscriptions")
    probe(kafka, topics, [ok[0], ok[3], alice], "payment", "42")
    probe(kafka, topics, [ok[1], bob], "payment", "43")
    probe(kafka, topics, [ok[2], bob], "payment", "44")
    assert gw.metric("rte_rejected_connections_total", reason="unauthorized") >= 2
    assert "alice" not in "".join(gw.stdout_lines)


def test_allowlist_reload_drops_removed_pairs(kafka, topics, gateway, tmp_path):
    path = tmp_path / "allowlist.txt"
    write_allowlist(path, ALLOWLIST)
    gw = gateway(topics, AUTH_MODE="allowlist", ALLOWLIST_FILE=str(path))
    legacy_alice = WsClient(gw.ws_base + getevents(42, "alice"), "alice /getEvents 42")
    legacy_bob = WsClient(gw.ws_base + getevents(42, "bob"), "bob /getEvents 42")
    legacy_any = WsClient(gw.ws_base + getevents(44, "zed"), "zed /getEvents 44")
    alice = WsClient(f"{gw.ws_base}/ws?user_id=alice", "alice /ws")
    alice.subscribe("a42", "payment", 42)
    bob = WsClient(f"{gw.ws_base}/ws?user_id=bob", "bob /ws")
    bob.subscribe("b43", "payment", 43)
    bob.subscribe("b42", "payment", 42)
    wait_until(lambda: gw.stats()["subscriptions"] == 6, 15, "6 subscriptions")
    probe(kafka, topics, [legacy_alice, legacy_bob, alice, bob], "payment", "42")

    # (42, alice) and (44, *) removed, (45, carol) added.
    write_allowlist(path, "42 bob\n43 bob\n45 carol\n")
    wait_closed(legacy_alice, 1008, timeout=15)
    wait_closed(legacy_any, 1008, timeout=15)
    err = alice.wait_for(lambda m: m.get("type") == "error", 15, "the forbidden error")
    assert err["code"] == "forbidden", err
    assert not alice.closed.is_set()
    wait_until(lambda: gw.stats()["subscriptions"] == 3, 15, "3 subscriptions left")
    refused_1008(gw, getevents(42, "alice"))
    refused_1008(gw, getevents(44, "zed"))
    carol = WsClient(gw.ws_base + getevents(45, "carol"), "carol /getEvents 45")
    wait_until(lambda: gw.stats()["subscriptions"] == 4, 15, "carol subscribed")
    n_alice = len(alice.events())
    probe(kafka, topics, [legacy_bob, bob], "payment", "42")
    probe(kafka, topics, [carol], "payment", "45")
    probe(kafka, topics, [bob], "payment", "43")
    assert len(alice.events()) == n_alice, alice.events()[n_alice:]
    for c in (legacy_bob, bob, carol):
        assert not c.closed.is_set(), c.name
