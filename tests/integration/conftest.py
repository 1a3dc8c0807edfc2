"""Fixtures for the gateway integration tests: one real Kafka broker for the
session, fresh topics per test, and a factory of real gateway processes."""

import itertools
import os
import re
import shutil

import pytest

from helpers import Gateway
from kafka_broker import REPO, KafkaBroker

CHANNELS = ("payment", "guest", "reservation")
_topic_seq = itertools.count(1)


def gateway_binary():
    path = os.environ.get("RTE_BINARY")
    if path:
        # Absolute: the gateway runs with the test's tmp_path as its cwd.
        path = os.path.abspath(path)
        return path if os.access(path, os.X_OK) else None
    for d in ("build-it", "build"):
        p = os.path.join(REPO, d, "realtime-events")
        if os.access(p, os.X_OK):
            return p
    return None


@pytest.fixture(scope="session")
def kafka():
    broker = KafkaBroker().start()
    print(f"kafka broker {broker.bootstrap} in {broker.dir}")
    yield broker
    broker.stop()
    if not os.environ.get("RTE_KEEP_KAFKA"):
        shutil.rmtree(broker.dir, ignore_errors=True)


def make_topics(broker, test_name, partitions=3):
    """Creates one fresh topic per channel; returns {channel: topic}."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", test_name)[:60].strip("-")
    n = next(_topic_seq)
    topics = {}
    for ch in CHANNELS:
        topics[ch] = broker.create_topic(f"it{n}-{slug}-{ch}", partitions)
    return topics


@pytest.fixture
def topics(kafka, request):
    return make_topics(kafka, request.node.name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for gw in getattr(item, "_rte_gateways", []):
            rep.sections.append((f"{gw.name} stderr (last lines)", gw.stderr_tail()))
            rep.sections.append((f"{gw.name} stdout", "\n".join(gw.stdout_lines[-20:])))


@pytest.fixture
def gateway(request, kafka, tmp_path):
    """Factory: gateway(topics, broker=None, nofile=None, **env) starts
    `realtime-events serve` on a free port (with RLIMIT_NOFILE `nofile` when
    given), waits for the listening line and /readyz, and returns a
    helpers.Gateway. All are stopped at teardown; one that died on its own
    fails the test."""
    binary = gateway_binary()
    if binary is None:
        pytest.skip("realtime-events binary not built (set RTE_BINARY)")
    started = []
    request.node._rte_gateways = started

    def start(topics, broker=None, ready=True, nofile=None, **env):
        broker = broker or kafka
        full = {
            "KAFKA_BOOTSTRAP_SERVER": broker.bootstrap,
            "PORT": 0,
            "BIND_ADDRESS": "127.0.0.1",
            "PAYMENT_TOPIC": topics["payment"],
            "GUEST_TOPIC": topics["guest"],
            "RESERVATION_TOPIC": topics["reservation"],
            "PING_INTERVAL": 20,
            "IDLE_TIMEOUT": 120,
            "KAFKA_METADATA_REFRESH_MS": 1000,
            "KAFKA_START_FROM": "end",
            "LOG_LEVEL": "debug",
        }
        full.update(env)
        gw = Gateway(binary, full, str(tmp_path), f"gateway{len(started) + 1}", nofile=nofile)
        if full.get("TLS_CERT_FILE"):
            gw.verify = str(full["TLS_CERT_FILE"])  # self-signed: the certificate is the CA
        started.append(gw)
        gw.wait_listening()
        if ready:
            gw.wait_ready()
        return gw

    yield start

    crashed = []
    for gw in started:
        rc, died_before = gw.stop()
        if died_before:
            crashed.append(f"{gw.name} died during the test (rc {rc}):\n{gw.stderr_tail()}")
    if crashed:
        pytest.fail("\n".join(crashed))
