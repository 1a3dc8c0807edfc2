"""Three `realtime-events serve` instances as one service: one real Redis
(Debian's redis-server), one real Kafka. Clients spread over the instances get
exactly their tenants' records; presence is the same from every instance's
admin API; a dead instance's entries expire; a per-user limit holds across
instances; disconnect-everywhere works; Redis stopped mid-stream never stops
delivery, and presence is rebuilt when it returns."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from helpers import WsClient, deliver_and_check, produce_records, record, wait_until
from tokens import mint, new_secret

ADMIN = "cluster-admin-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on a loopback port, in its own directory, no persistence."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        assert os.path.exists(binary), "redis-server is missing (scripts/setup installs it)"
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False
        wait_until(answers, 15, "redis-server answering PING")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def redis(tmp_path):
    r = Redis(str(tmp_path))
    r.start()
    yield r
    r.stop()


def admin_get(gw, path):
    return requests.get(gw.base + path, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5)


def presence(gw, channel, org):
    r = admin_get(gw, f"/api/admin/presence?channel={channel}&organization_id={org}")
    assert r.status_code == 200, r.text
    return sorted((e["node"], e["user_id"], e["channel"], e["organization_id"], e["property_id"])
                  for e in r.json()["presence"])


def start_nodes(gateway, topics, redis, n=3, **env):
    return [gateway(topics, REDIS_URL=redis.url, NODE_NAME=f"node{i + 1}", ADMIN_TOKEN=ADMIN,
                    NODE_TTL_SECONDS=3, **env) for i in range(n)]


def test_clients_spread_over_instances_get_exactly_their_tenants(kafka, topics, gateway, redis):
    nodes = start_nodes(gateway, topics, redis)
    subs = {}
    for i, org in enumerate(("41", "42", "43", "42")):
        gw = nodes[i % 3]
        cl = WsClient(f"{gw.ws_base}/ws", f"c{i}@{gw.name}")
        cl.subscribe("s", "payment", org)
        subs[cl] = [("payment", org, None)]
    recs = [record(topics, "payment", org, "7", p, seq)
            for seq, (org, p) in enumerate((o, p) for o in ("41", "42", "43", "44") for p in range(3))]
    deliver_and_check(kafka, topics, subs, recs)
    for cl in subs:
        cl.close()


def test_presence_is_cluster_wide_and_a_dead_instance_disappears(kafka, topics, gateway, redis):
    nodes = start_nodes(gateway, topics, redis)
    clients = [WsClient(f"{nodes[i].ws_base}/getEvents/payment?organization_id=42&user_id=u{i}", f"p{i}")
               for i in range(3)]
    clients.append(WsClient(f"{nodes[0].ws_base}/getEvents/guest?organization_id=42&property_id=7&user_id=ux", "g"))
    want = sorted([(f"node{i + 1}", f"u{i}", "payment", "42", "") for i in range(3)])
    for gw in nodes:
        wait_until(lambda gw=gw: presence(gw, "payment", "42") == want, 15,
                   f"presence of payment/42 from {gw.name}")
        assert presence(gw, "guest", "42") == [("node1", "ux", "guest", "42", "7")]
        assert presence(gw, "payment", "43") == []
    names = sorted(n["name"] for n in admin_get(nodes[1], "/api/admin/nodes").json()["nodes"])
    assert names == ["node1", "node2", "node3"]
    counts = admin_get(nodes[2], "/api/admin/connections").json()
    assert counts["organizations"] == {"42": 4}, counts

    # An instance killed without a goodbye: its node and presence expire
    # (NODE_TTL_SECONDS=3) and the others' stay.
    nodes[2].proc.send_signal(signal.SIGKILL)
    nodes[2].proc.wait(10)
    nodes[2]._stopping = True
    want_after = [e for e in want if e[0] != "node3"]
    wait_until(lambda: presence(nodes[0], "payment", "42") == want_after, 20,
               "node3's presence gone after NODE_TTL_SECONDS")
    wait_until(lambda: sorted(n["name"] for n in admin_get(nodes[0], "/api/admin/nodes").json()["nodes"])
               == ["node1", "node2"], 20, "node3 gone from /api/admin/nodes")
    assert admin_get(nodes[1], "/api/admin/connections").json()["organizations"] == {"42": 3}
    # A client that closes leaves presence at once.
    clients[0].close()
    wait_until(lambda: presence(nodes[1], "payment", "42") == [("node2", "u1", "payment", "42", "")], 10,
               "presence after a client left")
    for c in clients[1:]:
        c.close()


def test_user_limit_holds_across_instances_and_disconnect_reaches_every_node(kafka, topics, gateway, redis):
    secret = new_secret()
    nodes = start_nodes(gateway, topics, redis, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret,
                        MAX_CONNECTIONS_PER_USER=2)
    tok = mint(secret, "HS256", sub="alice", orgs=["42"])
    headers = {"Authorization": f"Bearer {tok}"}
    a1 = WsClient(f"{nodes[0].ws_base}/getEvents/payment?organization_id=42", "a1", headers=headers)
    a2 = WsClient(f"{nodes[1].ws_base}/ws", "a2", headers=headers)
    a2.subscribe("s", "payment", "42")
    wait_until(lambda: admin_get(nodes[2], "/api/admin/connections").json()["organizations"] == {"42": 2}, 10,
               "alice's two connections counted")
    # The third, on the third instance: /ws counts a connection from its upgrade (the token
    # says who it is), not from its first subscribe, so even an idle one is refused:
    # an error limit_exceeded, then 1008 naming the limit.
    a3 = WsClient(f"{nodes[2].ws_base}/ws", "a3", headers=headers)
    err = a3.wait_for(lambda m: m.get("type") == "error", 10, "limit_exceeded")
    assert err["code"] == "limit_exceeded", err
    assert "MAX_CONNECTIONS_PER_USER" in err["message"], err
    assert a3.closed.wait(10) and a3.close_code == 1008 and "MAX_CONNECTIONS_PER_USER" in a3.close_reason
    assert not a3.of_type("subscribed")
    a4 = WsClient(f"{nodes[2].ws_base}/getEvents/payment?organization_id=42", "a4", headers=headers)
    assert a4.closed.wait(10) and a4.close_code == 1008 and "MAX_CONNECTIONS_PER_USER" in a4.close_reason
    # Another user is not affected; records still flow to alice's admitted ones.
    bob = WsClient(f"{nodes[2].ws_base}/getEvents/payment?organization_id=42", "bob",
                   headers={"Authorization": f"Bearer {mint(secret, 'HS256', sub='bob', orgs=['42'])}"})
    produce_records(kafka, [record(topics, "payment", 42, "7", 0, 1)])
    for c in (a1, a2, bob):
        c.wait_for(lambda m: m.get("type") == "event", 20, "the record")
    refused = sum(gw.metric("rte_rejected_connections_total", reason="user_limit") for gw in nodes)
    assert refused == 2, refused

    # Disconnect alice everywhere, asked on the instance that holds none of hers.
    r = requests.post(nodes[2].base + "/api/admin/disconnect?user_id=alice",
                      headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5)
    assert r.status_code == 200 and r.json()["nodes_notified"] == 3, r.text
    for c in (a1, a2):
        assert c.closed.wait(10), c.name
        assert c.close_code == 1008 and "administrator" in c.close_reason
    assert not bob.closed.is_set()
    # Her slots are free again.
    wait_until(lambda: admin_get(nodes[0], "/api/admin/connections").json()["organizations"] == {"42": 1}, 10,
               "only bob left")
    a5 = WsClient(f"{nodes[0].ws_base}/ws", "a5", headers=headers)
    a5.subscribe("s", "payment", "42")
    for c in (a5, bob):
        c.close()
    assert requests.get(nodes[0].base + "/api/admin/disconnect?user_id=x",
                        headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5).status_code == 405


def test_organization_limit(kafka, topics, gateway, redis):
    nodes = start_nodes(gateway, topics, redis, n=2, MAX_CONNECTIONS_PER_ORGANIZATION=1)
    first = WsClient(f"{nodes[0].ws_base}/getEvents/payment?organization_id=7&user_id=a", "first")
    wait_until(lambda: admin_get(nodes[1], "/api/admin/connections").json()["organizations"] == {"7": 1}, 10,
               "org 7 counted")
    second = WsClient(f"{nodes[1].ws_base}/getEvents/payment?organization_id=7&user_id=b", "second")
    assert second.closed.wait(10) and second.close_code == 1008
    assert "MAX_CONNECTIONS_PER_ORGANIZATION" in second.close_reason
    other = WsClient(f"{nodes[1].ws_base}/getEvents/payment?organization_id=8&user_id=b", "other")
    time.sleep(0.5)
    assert not other.closed.is_set() and not first.closed.is_set()
    first.close()
    other.close()


def test_redis_down_never_stops_delivery_and_presence_comes_back(kafka, topics, gateway, redis):
    nodes = start_nodes(gateway, topics, redis, n=2)
    c1 = WsClient(f"{nodes[0].ws_base}/getEvents/payment?organization_id=42&user_id=u1", "c1")
    c2 = WsClient(f"{nodes[1].ws_base}/ws", "c2")
    c2.subscribe("s", "payment", "42")
    want = [("node1", "u1", "payment", "42", ""), ("node2", "", "payment", "42", "")]
    wait_until(lambda: presence(nodes[0], "payment", "42") == want, 10, "presence before the outage")

    produced = []
    produced += produce_records(kafka, [record(topics, "payment", 42, "7", i % 3, i) for i in range(10)])
    redis.stop()
    wait_until(lambda: all(gw.metric("rte_cluster_degraded") == 1 for gw in nodes), 15, "degraded on both")
    produced += produce_records(kafka, [record(topics, "payment", 42, "7", i % 3, i) for i in range(10, 30)])
    for gw in nodes:
        assert gw.get("/readyz").status_code == 200  # Redis is not on the delivery path
        assert admin_get(gw, "/api/admin/presence?channel=payment&organization_id=42").status_code == 503
    # A new client is admitted meanwhile (limits fall back to the instance's own counts).
    c3 = WsClient(f"{nodes[1].ws_base}/getEvents/payment?organization_id=42&user_id=u3", "c3")
    time.sleep(0.3)
    produced += produce_records(kafka, [record(topics, "payment", 42, "7", i % 3, i) for i in range(30, 40)])
    redis.start()  # same port, empty: every instance writes its state again
    wait_until(lambda: all(gw.metric("rte_cluster_degraded") == 0 for gw in nodes), 20, "Redis back on both")
    want_after = sorted(want + [("node2", "u3", "payment", "42", "")])
    wait_until(lambda: presence(nodes[1], "payment", "42") == want_after, 20, "presence rebuilt")
    produced += produce_records(kafka, [record(topics, "payment", 42, "7", i % 3, i) for i in range(40, 45)])

    keys = sorted((r["partition_out"], r["offset"]) for r in produced)
    for c in (c1, c2):
        c.wait_count(lambda m: m.get("type") == "event", len(produced), 30, "every record")
        got = sorted((e["partition"], e["offset"]) for e in c.events())
        assert got == keys, c.name  # none lost, none twice
    c3.wait_count(lambda m: m.get("type") == "event", 15, 30, "records after it connected")
    assert sum(gw.metric("rte_cluster_resyncs_total") for gw in nodes) >= 2
    for c in (c1, c2, c3):
        c.close()
