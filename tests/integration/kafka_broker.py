"""A real Apache Kafka broker for the integration tests.

KafkaBroker wraps scripts/kafka/broker (start/stop/restart of a single-node
KRaft broker on free loopback ports) and adds the client-side helpers the tests
need, built on confluent-kafka: topic creation, partition growth and producing
JSON records with their (partition, offset) returned.
"""

import json
import os
import subprocess
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

REPO = os.environ.get("RTE_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BROKER_SCRIPT = os.path.join(REPO, "scripts", "kafka", "broker")


def _run_script(*args, timeout=180):
    proc = subprocess.run([BROKER_SCRIPT, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{BROKER_SCRIPT} {' '.join(args)} failed "
                           f"(rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    out = {}
    for line in proc.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


class KafkaBroker:
    """One broker process; the data and logs stay in `dir` until removed."""

    def __init__(self):
        self.bootstrap = None
        self.dir = None
        self._admin = None
        self._producer = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, directory=None):
        args = ["start"] + (["--dir", directory] if directory else [])
        out = _run_script(*args)
        self.bootstrap, self.dir = out["BOOTSTRAP"], out["DIR"]
        self._drop_clients()
        return self

    def stop(self):
        self._drop_clients()
        if self.dir:
            _run_script("stop", "--dir", self.dir, timeout=60)

    def restart(self):
        """Stops (if running) and starts again on the same ports and data
        directory; after stop() it just starts the broker again."""
        self._drop_clients()
        out = _run_script("restart", "--dir", self.dir)
        assert out["BOOTSTRAP"] == self.bootstrap, out

    def _drop_clients(self):
        self._admin = None
        if self._producer is not None:
            self._producer.close()
            self._producer = None

    def log_tail(self, n=60):
        path = os.path.join(self.dir or "", "logs", "server.log")
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    # -- admin -------------------------------------------------------------
    @property
    def admin(self):
        if self._admin is None:
            self._admin = AdminClient({"bootstrap.servers": self.bootstrap})
        return self._admin

    def partition_count(self, topic, timeout=10):
        md = self.admin.list_topics(topic=topic, timeout=timeout)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return 0
        if any(p.leader < 0 for p in t.partitions.values()):
            return 0
        return len(t.partitions)

    def _wait_partitions(self, topic, count, timeout):
        """Waits until metadata shows `count` partitions with leaders AND each
        leader answers offset queries: right after creation a KRaft broker
        can briefly answer NOT_LEADER_OR_FOLLOWER although metadata names it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.partition_count(topic) == count:
                    break
            except KafkaException:
                pass
            time.sleep(0.1)
        else:
            raise TimeoutError(f"topic {topic} did not reach {count} partitions with leaders")
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "rte-it-probe",
                      "enable.auto.commit": False})
        try:
            pending = list(range(count))
            while pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{topic}: partitions {pending} answer no offset query")
                left = []
                for p in pending:
                    try:
                        c.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
                    except KafkaException:
                        left.append(p)
                pending = left
                if pending:
                    time.sleep(0.1)
        finally:
            c.close()

    def create_topic(self, name, partitions=3, timeout=30):
        futures = self.admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1)],
            operation_timeout=timeout)
        futures[name].result(timeout)
        self._wait_partitions(name, partitions, timeout)
        return name

    def add_partitions(self, name, total, timeout=30):
        futures = self.admin.create_partitions([NewPartitions(name, total)],
                                               operation_timeout=timeout)
        futures[name].result(timeout)
        self._wait_partitions(name, total, timeout)
        # A producer's cached metadata would refuse the new partitions.
        self._drop_clients()

    # -- produce -----------------------------------------------------------
    def producer(self):
        """One shared producer per broker run."""
        if self._producer is None:
            self._producer = JsonProducer(self.bootstrap)
        return self._producer


def encode(obj):
    """bytes as-is, str UTF-8, anything else as compact JSON."""
    if obj is None or isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return obj.encode()
    return json.dumps(obj, separators=(",", ":")).encode()


class JsonProducer:
    """A confluent-kafka producer that reports where each record landed."""

    def __init__(self, bootstrap):
        self._p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0,
                            "acks": "all", "message.timeout.ms": 60000})

    def produce_many(self, records, timeout=60):
        """records: iterable of dicts with topic, key, value and optional
        partition, timestamp (ms), headers. Returns a list of
        (partition, offset), in the order given; raises on any failure."""
        results = []
        errors = []
        for i, r in enumerate(records):
            results.append(None)

            def done(err, msg, i=i):
                if err is not None:
                    errors.append((i, err))
                else:
                    results[i] = (msg.partition(), msg.offset())

            kwargs = {}
            if r.get("partition") is not None:
                kwargs["partition"] = r["partition"]
            if r.get("timestamp") is not None:
                kwargs["timestamp"] = r["timestamp"]
            if r.get("headers"):
                kwargs["headers"] = r["headers"]
            while True:
                try:
                    self._p.produce(r["topic"], key=encode(r.get("key")),
                                    value=encode(r.get("value")), on_delivery=done, **kwargs)
                    break
                except BufferError:
                    self._p.poll(0.1)
        left = self._p.flush(timeout)
        if left or errors:
            raise RuntimeError(f"produce failed: {left} undelivered, errors {errors}")
        return results

    def close(self):
        self._p.flush(5)
        self._p = None

    def produce(self, topic, key, value, partition=None, timestamp=None, timeout=60):
        return self.produce_many([{"topic": topic, "key": key, "value": value,
                                   "partition": partition, "timestamp": timestamp}],
                                 timeout)[0]
