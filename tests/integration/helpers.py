"""Shared helpers for the integration tests: the gateway process, a WebSocket
client that collects messages in the background, and condition waits."""

import json
import os
import re
import select
import signal
import subprocess
import threading
import time
import resource

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

LISTEN_RE = re.compile(r"realtime-events listening on (https?)://127\.0\.0\.1:(\d+)/")


def read_until_eof(sock, timeout, limit=None):
    """Reads from a raw socket until the peer closes it, `timeout` seconds
    pass, or `limit` bytes arrived. Returns (data, eof); a reset counts as
    EOF."""
    data, eof = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (limit is None or len(data) < limit):
        r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            eof = True
            break
        data += chunk
    return data, eof


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns a truthy value (returned) or the timeout
    passes (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


_SAMPLE_RE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            continue
        labels = tuple(sorted(_LABEL_RE.findall(m.group(3) or "")))
        try:
            out[(m.group(1), labels)] = float(m.group(4))
        except ValueError:
            pass
    return out


class Gateway:
    """A realtime-events process started with `serve`; stdout is read by a
    thread (for the listening line), stderr goes to a file."""

    def __init__(self, binary, env, workdir, name, nofile=None):
        """nofile: a soft and hard RLIMIT_NOFILE for the process."""
        self.name = name
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        self.stdout_lines = []
        self.port = None
        self.scheme = "http"
        self.verify = True  # for requests: a CA file when the gateway serves TLS
        self._listening = threading.Event()
        self._stopping = False
        full_env = dict(os.environ)
        full_env.update({k: str(v) for k, v in env.items()})
        self.env = env
        self._err = open(self.stderr_path, "wb")
        preexec = None
        if nofile is not None:
            def preexec():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([binary, "serve"], env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._err, cwd=workdir,
                                     preexec_fn=preexec)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stdout_lines.append(line)
            m = LISTEN_RE.search(line)
            if m and self.port is None:
                self.scheme = m.group(1)
                self.port = int(m.group(2))
                self._listening.set()

    @property
    def base(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def ws_base(self):
        return f"{'wss' if self.scheme == 'https' else 'ws'}://127.0.0.1:{self.port}"

    def wait_listening(self, timeout=20):
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited (rc {self.proc.returncode}) before "
                                     f"listening:\n{self.stderr_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} printed no listening line in {timeout} s; "
                                     f"stdout {self.stdout_lines[-5:]}\n{self.stderr_tail()}")

    def wait_ready(self, timeout=45):
        def ready():
            self.check_alive()
            try:
                return requests.get(self.base + "/readyz", timeout=2,
                                    verify=self.verify).status_code == 200
            except requests.RequestException:
                return False
        wait_until(ready, timeout, f"{self.name} /readyz 200", interval=0.1)

    def check_alive(self):
        if self.proc.poll() is not None and not self._stopping:
            raise AssertionError(f"{self.name} died (rc {self.proc.returncode}):\n"
                                 f"{self.stderr_tail()}")

    def get(self, path, timeout=5):
        return requests.get(self.base + path, timeout=timeout, verify=self.verify)

    def metrics(self):
        """/metrics parsed: {(name, ((label, value), ...)): float}."""
        r = self.get("/metrics")
        assert r.status_code == 200, r.text
        return parse_metrics(r.text)

    def metric(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels` (0 when
        there is none)."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.metrics().items()
                   if n == name and want <= set(ls))

    def stderr_text(self):
        if not self._err.closed:
            self._err.flush()
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stats(self):
        r = self.get("/api/stats")
        assert r.status_code == 200, r.text
        return r.json()

    def stderr_tail(self, n=80):
        if not self._err.closed:
            self._err.flush()
        try:
            with open(self.stderr_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def terminate(self):
        """Sends SIGTERM without waiting (a drain under test): the process
        exiting afterwards is expected, not a crash."""
        self._stopping = True
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL; returns the exit code and whether it had
        died on its own before."""
        exited = self.proc.poll() is not None
        died_before = exited and not self._stopping  # terminate() asked for it: not a crash
        self._stopping = True
        if not exited:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._err.close()
        return self.proc.returncode, died_before


class WsClient:
    """A websockets (sync) client whose messages are parsed and collected by a
    background thread. Thread rule: send from one thread at a time."""

    def __init__(self, url, name=None, compression=None, open_timeout=10, headers=None,
                 subprotocols=None, origin=None, ssl=None):
        self.url = url
        self.name = name or url
        self.messages = []
        self.times = []  # monotonic arrival time of each message
        self.close_code = None
        self.close_reason = None
        self.closed = threading.Event()
        self._cv = threading.Condition()
        self.ws = connect(url, open_timeout=open_timeout, close_timeout=3,
                          ping_interval=None, max_size=None, compression=compression,
                          additional_headers=headers, subprotocols=subprotocols,
                          origin=origin, ssl=ssl, proxy=None, legacy=True)
        self.subprotocol = self.ws.subprotocol
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        try:
            for raw in self.ws:
                msg = json.loads(raw) if isinstance(raw, str) else {"_binary": raw}
                with self._cv:
                    self.messages.append(msg)
                    self.times.append(time.monotonic())
                    self._cv.notify_all()
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            self.close_code = rcvd.code if rcvd is not None else None
            self.close_reason = rcvd.reason if rcvd is not None else None
            self.closed.set()
            with self._cv:
                self._cv.notify_all()

    def send(self, obj):
        self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    def snapshot(self):
        with self._cv:
            return list(self.messages)

    def arrivals(self, t):
        """Arrival times of the messages of type t."""
        with self._cv:
            return [ts for ts, m in zip(self.times, self.messages) if m.get("type") == t]

    def events(self):
        return [m for m in self.snapshot() if m.get("type") == "event"]

    def of_type(self, t):
        return [m for m in self.snapshot() if m.get("type") == t]

    def wait_for(self, pred, timeout, what="a message"):
        """Waits until some collected message satisfies pred; returns it."""
        return self.wait_count(pred, 1, timeout, what)[0]

    def wait_count(self, pred, n, timeout, what="messages"):
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                got = [m for m in self.messages if pred(m)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0 or self.closed.is_set():
                    raise AssertionError(
                        f"{self.name}: {len(got)}/{n} {what} within {timeout} s (closed="
                        f"{self.closed.is_set()}, code={self.close_code}); last: "
                        f"{self.messages[-5:]}")
                self._cv.wait(min(left, 0.2))

    def request(self, cmd, timeout=10):
        """Sends a command with an id; returns the first reply carrying it."""
        self.send(cmd)
        return self.wait_for(lambda m: m.get("id") == cmd["id"] and m.get("type") != "event",
                             timeout, f"reply to {cmd}")

    def subscribe(self, rid, channel, org, prop=None, timeout=10):
        filt = {"organization_id": str(org)}
        if prop is not None:
            filt["property_id"] = str(prop)
        reply = self.request({"type": "subscribe", "id": rid, "channel": channel,
                              "filter": filt}, timeout)
        assert reply.get("type") == "subscribed", reply
        assert reply.get("channel") == channel, reply
        return reply

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self._t.join(5)


# -- records and entitlement ------------------------------------------------

def record(topics, channel, org, prop, partition=None, seq=0, plain_key=False,
           timestamp=None, value_extra=None):
    """A JSON record for `channel` of tenant `org` (key) and property `prop`
    (value.property_id; None leaves it out)."""
    value = {"reservation_id": f"r-{seq}", "amount": 10.5 + seq, "seq": seq}
    if prop is not None:
        value["property_id"] = prop
    if value_extra:
        value.update(value_extra)
    key = str(org) if plain_key else {"organization_id": int(org)}
    return {"topic": topics[channel], "channel": channel, "key": key, "value": value,
            "partition": partition, "timestamp": timestamp if timestamp is not None
            else int(time.time() * 1000), "org": str(org),
            "prop": None if prop is None else str(prop), "plain_key": plain_key}


def entitled(subs, rec):
    """subs: list of (channel, org, prop or None)."""
    return any(ch == rec["channel"] and org == rec["org"] and (p is None or p == rec["prop"])
               for ch, org, p in subs)


def check_event_fields(ev, rec):
    """Every field of a delivered event against the produced record."""
    assert ev["type"] == "event", ev
    assert ev["channel"] == rec["channel"], (ev, rec)
    assert ev["topic"] == rec["topic"], (ev, rec)
    assert ev["partition"] == rec["partition_out"], (ev, rec)
    assert ev["offset"] == rec["offset"], (ev, rec)
    assert ev["timestamp"] == rec["timestamp"], (ev, rec)
    if rec["plain_key"]:
        # A plain "42" key is also valid JSON (the number 42).
        assert ev["key"] in (int(rec["org"]), rec["org"]), (ev, rec)
    else:
        assert ev["key"] == rec["key"], (ev, rec)
    assert ev["value"] == rec["value"], (ev, rec)


def produce_records(broker, recs):
    """Produces recs in order; stores partition_out/offset into each."""
    where = broker.producer().produce_many(recs)
    for r, (p, o) in zip(recs, where):
        r["partition_out"], r["offset"] = p, o
    return recs


def deliver_and_check(broker, topics, clients, recs, partitions=3, timeout=30):
    """clients: {WsClient: [(channel, org, prop|None), ...]}, already
    subscribed. Produces recs, then one barrier record per partition for each
    subscription (later in every partition than all of recs), waits until every
    client has everything it is entitled to, and checks that it got nothing
    else, in partition order, with every field right. Returns all records."""
    barriers = []
    seq = 100000
    distinct = sorted({s for subs in clients.values() for s in subs}, key=str)
    for ch, org, p in distinct:
        for part in range(partitions):
            seq += 1
            barriers.append(record(topics, ch, org, p if p is not None else "barrier",
                                   part, seq))
    allrecs = produce_records(broker, list(recs)) + produce_records(broker, barriers)
    by_pos = {(r["topic"], r["partition_out"], r["offset"]): r for r in allrecs}
    for c, subs in clients.items():
        want = {pos for pos, r in by_pos.items() if entitled(subs, r)}

        def have_all(c=c, want=want):
            got = {(e["topic"], e["partition"], e["offset"]) for e in c.events()}
            return want <= got
        try:
            wait_until(have_all, timeout, f"{c.name}: {len(want)} entitled events",
                       interval=0.05)
        except AssertionError as e:
            got = {(x["topic"], x["partition"], x["offset"]) for x in c.events()}
            missing = [by_pos[p] for p in sorted(want - got)]
            raise AssertionError(f"{e}; got {len(got & want)}/{len(want)} (+{len(got - want)} "
                                 f"unexpected), closed={c.closed.is_set()} code={c.close_code}; "
                                 f"missing: {missing[:4]}") from None
        evs = c.events()
        got = [(e["topic"], e["partition"], e["offset"]) for e in evs]
        extra = [by_pos.get(p, p) for p in got if p not in want]
        assert not extra, f"{c.name} got events it is not entitled to: {extra[:5]}"
        assert len(got) == len(set(got)), f"{c.name} got duplicates"
        last = {}
        for e in evs:
            tp = (e["topic"], e["partition"])
            assert e["offset"] > last.get(tp, -1), f"{c.name}: out of order in {tp}: {e}"
            last[tp] = e["offset"]
            check_event_fields(e, by_pos[(e["topic"], e["partition"], e["offset"])])
    return allrecs
