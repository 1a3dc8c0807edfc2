"""Schema-registry side of the Avro integration tests.

- RegistryProcess: one `rte-test-registry` process (Basic auth on), driven
  through its REST API: register schemas, switch faults (401, 403, 404, 429,
  500, 503, slow, drop: src/registry/testing/fault_injector.h), and taken
  down and back up (connections refused meanwhile; schemas kept).
- `registry`: module-scoped fixture starting one per test module.
- AvroSubjectSchema: a schema registered under a subject; frames data the way
  Confluent's serializer does (magic 0, 4-byte big-endian id, Avro binary
  written by fastavro.schemaless_writer).
- expected_json(): what the gateway must send for a framed payload: the id is
  read from the frame, its schema fetched back from the registry, the body read
  with fastavro.schemaless_reader and rendered with the rules of docs/avro.md.
- AvroRecord helpers: produce, wait for delivery, and check exactly what each
  client received.
"""

import base64
import datetime
import decimal
import io
import json
import math
import os
import signal
import struct
import subprocess
import threading
import time
import uuid

import fastavro
import pytest
import requests

from helpers import entitled, wait_until
from kafka_broker import REPO

REGISTRY_USER = "it-registry-key:it-registry-secret"
_CT = "application/vnd.schemaregistry.v1+json"


def gateway_binary():
    """As conftest finds it (RTE_BINARY, else build-it/ or build/)."""
    return _binary("RTE_BINARY", "realtime-events")


def registry_binary():
    return _binary("RTE_REGISTRY_BINARY", "rte-test-registry")


def _binary(env, name):
    path = os.environ.get(env)
    if path:
        return path if os.access(path, os.X_OK) else None
    for d in ("build-it", "build"):
        p = os.path.join(REPO, d, name)
        if os.access(p, os.X_OK):
            return p
    return None


class RegistryProcess:
    """rte-test-registry on a free loopback port; stdout is read by a thread
    for the listening line, stderr goes to a file."""

    def __init__(self, binary, user, workdir):
        self.user = user
        self.url = None
        self.readers = {}  # schema id -> fastavro-parsed schema (ids are immutable)
        self.stderr_path = os.path.join(workdir, "rte-test-registry.stderr")
        self._err = open(self.stderr_path, "wb")
        self._listening = threading.Event()
        self._state = threading.Condition()
        self._states = []  # "down" / "up" acknowledgements, in order
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--user", user],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err, cwd=workdir)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        deadline = time.monotonic() + 15
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"rte-test-registry did not start (rc {self.proc.returncode}):"
                                     f"\n{self.stderr_tail()}")
        self._session = requests.Session()
        self._session.auth = tuple(user.split(":", 1))

    def _read_stdout(self):
        prefix = "rte-test-registry listening on "
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").strip()
            if line.startswith(prefix) and self.url is None:
                self.url = line[len(prefix):].rstrip("/")
                self._listening.set()
            elif line in ("rte-test-registry down", "rte-test-registry up"):
                with self._state:
                    self._states.append(line.rsplit(" ", 1)[1])
                    self._state.notify_all()

    def _signal(self, sig, state, timeout=10):
        with self._state:
            n = self._states.count(state)
            self.proc.send_signal(sig)
            ok = self._state.wait_for(lambda: self._states.count(state) > n, timeout)
        assert ok, f"rte-test-registry did not report {state}:\n{self.stderr_tail()}"

    def down(self):
        """Stops serving: the port refuses connections (schemas are kept)."""
        self._signal(signal.SIGUSR1, "down")

    def up(self):
        """Serves again on the same port."""
        self._signal(signal.SIGUSR2, "up")

    def stderr_tail(self, n=40):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def register(self, subject, schema_text):
        r = self._session.post(f"{self.url}/subjects/{subject}/versions",
                               data=json.dumps({"schema": schema_text}),
                               headers={"Content-Type": _CT}, timeout=10)
        assert r.status_code == 200, f"register {subject}: {r.status_code} {r.text}"
        return r.json()["id"]

    def reader(self, schema_id):
        """fastavro's parsing of the schema the registry serves for an id
        (fetched once: ids are immutable)."""
        if schema_id not in self.readers:
            text = self.schema_by_id(schema_id)
            assert text is not None, f"schema id {schema_id} unknown to the registry"
            self.readers[schema_id] = fastavro.parse_schema(json.loads(text))
        return self.readers[schema_id]

    def schema_by_id(self, schema_id):
        """The schema text the registry serves for an id (None when unknown)."""
        r = self._session.get(f"{self.url}/schemas/ids/{schema_id}", timeout=10)
        if r.status_code == 404:
            return None
        assert r.status_code == 200, f"GET /schemas/ids/{schema_id}: {r.status_code} {r.text}"
        return r.json()["schema"]

    def versions(self, subject):
        r = self._session.get(f"{self.url}/subjects/{subject}/versions", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def set_fault(self, mode, delay_ms=0):
        r = requests.post(f"{self.url}/_admin/faults",
                          data=json.dumps({"mode": mode, "delay_ms": delay_ms}), timeout=10)
        assert r.status_code == 200 and r.json()["mode"] == mode, r.text

    def next_id(self):
        """The id the next new schema will get (ids are 1, 2, ... in order)."""
        return self.admin_stats()["schemas"] + 1

    def register_typed(self, subject, schema_text, schema_type):
        r = self._session.post(f"{self.url}/subjects/{subject}/versions",
                               data=json.dumps({"schema": schema_text, "schemaType": schema_type}),
                               headers={"Content-Type": _CT}, timeout=10)
        assert r.status_code == 200, f"register {subject}: {r.status_code} {r.text}"
        return r.json()["id"]

    def admin_stats(self):
        r = requests.get(f"{self.url}/_admin/stats", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def serving(self):
        with self._state:
            return not self._states or self._states[-1] == "up"

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._err.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """One registry process per test module, Basic auth required."""
    binary = registry_binary()
    if binary is None:
        pytest.skip("rte-test-registry not built (set RTE_REGISTRY_BINARY)")
    reg = RegistryProcess(binary, REGISTRY_USER, str(tmp_path_factory.mktemp("registry")))
    yield reg
    alive = reg.alive()
    rc = reg.stop()
    assert alive, f"rte-test-registry died during the module (rc {rc}):\n{reg.stderr_tail()}"


@pytest.fixture
def registry_clean(registry):
    """The module's registry with no fault active, before and after the test."""
    registry.set_fault("none")
    yield registry
    if registry.alive() and not registry.serving():
        registry.up()
    registry.set_fault("none")


def registry_env(registry, user=None):
    """Gateway environment turning on Confluent decoding through `registry`."""
    return {"KAFKA_SCHEMA_REGISTRY_URL": registry.url,
            "KAFKA_SCHEMA_REGISTRY_USER": registry.user if user is None else user}


# -- Avro writing (Confluent wire format) ------------------------------------

def confluent_frame(schema_id, body):
    return b"\x00" + struct.pack(">I", schema_id) + body


class AvroSubjectSchema:
    """A schema registered under `subject`; writes data with fastavro."""

    def __init__(self, registry, subject, schema):
        self.subject = subject
        self.schema = schema
        self.text = json.dumps(schema, separators=(",", ":"))
        self.parsed = fastavro.parse_schema(json.loads(self.text))
        self.id = registry.register(subject, self.text)
        registry.reader(self.id)  # read it back now: tests fail the registry later

    def body(self, datum):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, self.parsed, datum)
        return buf.getvalue()

    def frame(self, datum):
        return confluent_frame(self.id, self.body(datum))


# -- the expected JSON (docs/avro.md) -----------------------------------------

def _timestamp_millis(dt):
    # fastavro reads timestamp-millis as an aware UTC datetime.
    dt = dt.astimezone(datetime.timezone.utc)
    assert dt.microsecond % 1000 == 0, dt
    return (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
            f"{dt.second:02d}.{dt.microsecond // 1000:03d}Z")


def to_json(v):
    """fastavro's reading of a datum → the JSON the gateway sends. Covers the
    types these tests write (timestamps are timestamp-millis only)."""
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, decimal.Decimal):
        # fastavro returns unscaled * 10^-scale: exactly `scale` fraction digits.
        return format(v, "f")
    if isinstance(v, datetime.datetime):
        return _timestamp_millis(v)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def expected_json(registry, framed):
    """Reads a Confluent-framed payload independently of the gateway: the id
    from the frame, that id's schema from the registry, the body with fastavro
    (which must consume it all)."""
    assert framed[0] == 0 and len(framed) >= 5, framed[:8]
    schema_id = struct.unpack(">I", framed[1:5])[0]
    buf = io.BytesIO(framed[5:])
    datum = fastavro.schemaless_reader(buf, registry.reader(schema_id), None)
    assert buf.tell() == len(framed) - 5, "fastavro left bytes unread"
    return to_json(datum)


def same_json(a, b):
    """Equal values with object members in the same order."""
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


# -- records --------------------------------------------------------------------

def avro_record(registry, topics, channel, org, prop, partition, key_schema, key_datum,
                value_frame, timestamp=None, expect=True):
    """A record with a Confluent-framed key and value (bytes). org/prop are the
    routing ids it carries (strings; prop None when the value has none).
    expect=False: a record the gateway must reject (no expected rendering)."""
    key = key_schema.frame(key_datum)
    rec = {"topic": topics[channel], "channel": channel, "key": key, "value": value_frame,
           "partition": partition,
           "timestamp": timestamp if timestamp is not None else int(time.time() * 1000),
           "org": str(org), "prop": None if prop is None else str(prop)}
    if expect:
        rec["exp_key"] = expected_json(registry, key)
        rec["exp_value"] = expected_json(registry, value_frame)
    return rec


def produce(broker, recs):
    """Produces recs in order; stores partition_out/offset into each."""
    where = broker.producer().produce_many(recs)
    for r, (p, o) in zip(recs, where):
        r["partition_out"], r["offset"] = p, o
    return recs


def pos(r):
    return (r["topic"], r["partition_out"], r["offset"])


def ev_pos(e):
    return (e["topic"], e["partition"], e["offset"])


def check_event(ev, rec):
    assert ev["type"] == "event", ev
    assert ev["channel"] == rec["channel"], (ev, rec["channel"])
    assert ev_pos(ev) == pos(rec), (ev, pos(rec))
    assert ev["timestamp"] == rec["timestamp"], (ev["timestamp"], rec["timestamp"])
    assert same_json(ev["key"], rec["exp_key"]), (ev["key"], rec["exp_key"])
    assert same_json(ev["value"], rec["exp_value"]), \
        f"value at {pos(rec)}:\n got      {json.dumps(ev['value'])}\n expected " \
        f"{json.dumps(rec['exp_value'])}"


def wait_positions(client, positions, timeout, what):
    want = set(positions)

    def have():
        return want <= {ev_pos(e) for e in client.events()}
    try:
        wait_until(have, timeout, f"{client.name}: {what}")
    except AssertionError as e:
        got = {ev_pos(x) for x in client.events()}
        raise AssertionError(f"{e}; missing {sorted(want - got)[:6]} (closed="
                             f"{client.closed.is_set()}, code={client.close_code})") from None


def check_exactly(client, subs, recs):
    """The client received every record of recs it is entitled to (subs: list
    of (channel, org, prop|None)), nothing else, once, in partition order, each
    rendered as expected."""
    by_pos = {pos(r): r for r in recs}
    want = {p for p, r in by_pos.items() if entitled(subs, r)}
    evs = client.events()
    got = [ev_pos(e) for e in evs]
    extra = [p for p in got if p not in want]
    assert not extra, f"{client.name} got events it should not have: {extra[:6]}"
    assert len(got) == len(set(got)), f"{client.name} got duplicates"
    missing = want - set(got)
    assert not missing, f"{client.name} is missing {sorted(missing)[:6]}"
    last = {}
    for e in evs:
        tp = (e["topic"], e["partition"])
        assert e["offset"] > last.get(tp, -1), f"{client.name}: out of order in {tp}: {e}"
        last[tp] = e["offset"]
        check_event(e, by_pos[ev_pos(e)])


def deliver_and_check(broker, clients, recs, make_barrier, partitions=3, timeout=30,
                      earlier=()):
    """clients: {WsClient: [(channel, org, prop|None), ...]}, subscribed.
    Produces recs, then for each subscription one barrier record per partition
    (make_barrier(channel, org, prop, partition)); once every client has all it
    is entitled to, the barriers prove everything before them was processed,
    and check_exactly() checks each client against `earlier` (records produced
    before, that the client may also have) and these. Returns the records
    produced here."""
    barriers = []
    for ch, org, prop in sorted({s for subs in clients.values() for s in subs}, key=str):
        for part in range(partitions):
            barriers.append(make_barrier(ch, org, prop, part))
    allrecs = produce(broker, list(recs)) + produce(broker, barriers)
    for c, subs in clients.items():
        wait_positions(c, [pos(r) for r in allrecs if entitled(subs, r)], timeout,
                       "every entitled record")
    for c, subs in clients.items():
        check_exactly(c, subs, list(earlier) + allrecs)
    return allrecs
