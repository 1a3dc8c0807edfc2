"""bench/k6.js: valid JavaScript (node --check on an ES module copy: k6's own
modules such as 'k6/ws' are not resolved by a syntax check), both endpoints
covered, and the isolation threshold present."""

import re
import shutil
import subprocess

import pytest

from deploy_helpers import REPO

SCRIPT = REPO / "bench" / "k6.js"


@pytest.fixture(scope="module")
def source():
    assert SCRIPT.is_file(), "bench/k6.js is missing"
    return SCRIPT.read_text(encoding="utf-8")


def test_k6_script_syntax(tmp_path):
    node = shutil.which("node")
    assert node, "node is needed for the syntax check (scripts/setup installs nodejs)"
    copy = tmp_path / "k6.mjs"
    shutil.copy(SCRIPT, copy)
    out = subprocess.run([node, "--check", str(copy)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_k6_script_covers_both_endpoints(source):
    assert "/getEvents/" in source and "organization_id=" in source and "user_id=" in source
    assert re.search(r"/ws`", source), "the /ws endpoint"
    assert "'subscribe'" in source or '"subscribe"' in source
    assert "from 'k6/ws'" in source


def test_k6_script_thresholds(source):
    # Another organization's event must fail the run.
    assert re.search(r"foreign_events:\s*\[\s*'count==0'\s*\]", source)
    for metric in ("event_latency", "events_received", "ws_upgrade_ok"):
        assert re.search(rf"{metric}:\s*\[", source), metric
    assert "r.status === 101" in source


def test_k6_script_settings(source):
    for name in ("BASE_URL", "CHANNEL", "ORGS", "VUS", "DURATION", "JWT_SECRET"):
        assert f"'{name}'" in source or f"__ENV.{name}" in source, name
