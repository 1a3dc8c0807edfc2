"""Helpers of the deployment-artifact checks (tests/deploy): paths, the gateway
process, YAML loading."""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

try:
    import yaml
except ImportError:  # a failure, never a skip: these checks must run in CI
    raise pytest.UsageError("PyYAML is needed by tests/deploy: add it to tests/requirements.txt")

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
LISTEN_RE = re.compile(r"realtime-events listening on (https?)://127\.0\.0\.1:(\d+)/")
SETTING_LINE_RE = re.compile(r"^  ([A-Z][A-Z0-9_]+)(?:\s|$)")


def gateway_binary():
    path = os.environ.get("RTE_BINARY") or str(REPO / "build" / "realtime-events")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        pytest.fail(f"gateway binary {path} is missing: build it or set RTE_BINARY")
    return path


def base_env(**extra):
    """A minimal environment: nothing of the caller's gateway settings leaks in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


class GatewayProcess:
    """`realtime-events serve` on a free loopback port; stdout is read by a
    thread for the listening line."""

    def __init__(self, binary, env, cwd, args=()):
        self.proc = subprocess.Popen([binary, "serve", *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout_lines, self.stderr_lines = [], []
        self.port = None
        self._listening = threading.Event()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout_lines, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr_lines, False), daemon=True).start()

    def _read(self, stream, sink, look_for_port):
        for line in stream:
            sink.append(line.rstrip("\n"))
            m = LISTEN_RE.search(line) if look_for_port else None
            if m:
                self.port = int(m.group(2))
                self._listening.set()

    def wait_listening(self, timeout=20):
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the readers collect the last lines
                raise AssertionError(f"gateway exited with {self.proc.returncode} before listening:\n"
                                     + "\n".join(self.stderr_lines[-20:]))
            if time.monotonic() > deadline:
                raise AssertionError(f"gateway printed no listening line in {timeout} s:\n"
                                     + "\n".join(self.stderr_lines[-20:]))
        return self.port

    def wait_exit(self, timeout=20):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"gateway still running after {timeout} s")
        time.sleep(0.2)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def one(k8s_docs, kind):
    objs = k8s_docs.get(kind, [])
    assert len(objs) == 1, f"expected one {kind} in deploy/k8s, found {len(objs)}"
    return objs[0]
