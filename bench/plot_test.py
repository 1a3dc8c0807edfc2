#!/usr/bin/env python3
"""bench/plot on small synthetic results in the real shape (and on the committed ones), and
bench/sitting's order, naming, floor merge and failure handling with a fake bench/run.

    python3 bench/plot_test.py        (CTest: bench_plot, label unit)
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLOT = HERE / "plot"
SVG = "{http://www.w3.org/2000/svg}"

# The shape of a realtime-events-bench result (bench/src/main.cc), shrunk: one step, two samples.
TEMPLATE = {
    "scenario": {"name": "s1", "connections": 10000, "endpoint": "getEvents", "organizations": 100,
                 "properties_per_org": 0, "subscriptions_per_connection": 1, "streams": 100, "record_bytes": 200,
                 "stalled_fraction": 0.0, "connect_rate": 5000.0, "source": "kafka", "threads": 1,
                 "scenario_file": "/x/bench/scenarios/s1.yaml"},
    "target": "gateway", "host": "vm", "cores": 2, "started_unix_s": 1796000285.0, "gateway_pid": 20424,
    "connect": {"target": 10000, "ready": 10000, "failures": 0, "failed_connect": 0, "failed_timeout": 0,
                "failed_status": 0, "failed_ws": 0, "failed_closed": 0, "seconds": 2.01,
                "connect_rate_offered": 5000.0, "upgrades_per_s": 4999.0,
                "handshake": {"count": 10000, "p50_us": 296, "p90_us": 865, "p99_us": 13727, "p999_us": 42111,
                              "max_us": 43899},
                "gateway_rss_kb_before": 11472, "gateway_rss_kb_after": 29392,
                "gateway_rss_bytes_per_connection": 1835.0},
    "steps": [],
    "totals": {"deliveries": 0, "losses": 0, "losses_gaps": 0, "losses_tail": 0, "undelivered_at_end": 0,
               "duplicates": 0, "foreign": 0, "stalled": 0, "stalled_closed": 0,
               "latency": {"count": 1, "p50_us": 1, "p90_us": 1, "p99_us": 1, "p999_us": 1, "max_us": 1},
               "gateway_rss_kb": 29588, "gateway_rss_kb_peak": 29588, "gateway_cpu_s": 20.78, "bench_cpu_s": 16.68},
    "samples": [{"t": 1.0, "step": 0, "offered_deliveries_per_s": 0.0, "deliveries_per_s": 0.0, "p50_us": 0,
                 "p99_us": 0, "max_us": 0, "connections": 4997, "losses": 0, "duplicates": 0, "produced": 0}],
    "notes": [], "errors": [], "failed": [], "ok": True,
}


def step(i, offered, delivered, p50_ms, p99_ms, losses=0, **extra):
    s = {"step": i, "duration_s": 15.0, "offered_records_per_s": offered / 100, "offered_deliveries_per_s": offered,
         "produced_records": 1, "expected_deliveries": 1, "deliveries": 1, "delivered_per_s": delivered,
         "backlog_at_end": 0, "drained": True, "drain_s": 0.0,
         "latency": {"count": 1000, "p50_us": int(p50_ms * 1000), "p90_us": int(p50_ms * 1500),
                     "p99_us": int(p99_ms * 1000), "p999_us": int(p99_ms * 1100), "max_us": int(p99_ms * 1200)},
         "losses": losses, "duplicates": 0, "foreign": 0, "closed_by_server": 0, "closed_1013": 0,
         "connections": 10000, "gateway_cpu_pct": 50.0, "gateway_cpu_us_per_delivery": 8.46,
         "gateway_rss_kb": 29588, "gateway_rss_bytes_per_connection": 1855.0}
    s.update(extra)
    return s


def result(scenario, target, steps, **top):
    d = copy.deepcopy(TEMPLATE)
    d["scenario"]["name"] = scenario
    d["target"] = target
    d["steps"] = steps
    d.update(top)
    return d

# Stands in for bench/run: writes a result from the scenario's steps; node fails (exit 1).
FAKE_RUN = r"""#!/usr/bin/env python3
import json, os, re, sys
from pathlib import Path
sys.path.insert(0, os.environ["PLOT_TEST_DIR"])
from plot_test import result, step
args = sys.argv[1:]
scenario, target, out = args[0], args[args.index("--target") + 1], Path(args[args.index("--out") + 1])
yaml = Path(scenario) if scenario.endswith(".yaml") else Path(__file__).parent / "scenarios" / f"{scenario}.yaml"
text = yaml.read_text()
name = (re.findall(r"^name: *(\S+)", text, re.M) or [yaml.stem])[0]
rates = [float(d) for d in re.findall(r"deliveries: *([0-9.]+)", text)] or [0.0]
steps = [step(i, 0 if target == "floor" else d, d * 0.99 or 0, 1, 2) for i, d in enumerate(rates, 1)]
doc = result(name, target, steps, notes=[f"BATCH={os.environ.get('BATCH', '-')} extra={args[4:]}"])
out.write_text(json.dumps(doc))
sys.exit(1 if target == "node" else 0)
"""


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="plot-test-"))

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, doc):
        (self.dir / name).write_text(doc if isinstance(doc, str) else json.dumps(doc))

    def run_plot(self, directory=None):
        return subprocess.run([sys.executable, str(PLOT), str(directory or self.dir)], capture_output=True,
                              text=True, timeout=60)

    def polylines(self, name):
        root = ET.parse(self.dir / name).getroot()  # raises if not well-formed XML
        self.assertEqual(root.tag, SVG + "svg")
        return root.findall(f".//{SVG}polyline")

    def test_synthetic_sitting(self):
        self.write("s1-gateway.json", result("s1", "gateway", [
            step(1, 10000, 9990, 2, 5), step(2, 100000, 83000, 20, 60),
            step(3, 600000, 450000, 400, 900), step(4, 800000, 460000, 800, 1500)]))
        self.write("s1-node.json", result("s1", "node", [
            step(1, 10000, 10000, 5, 20), step(2, 100000, 40000, 2000, 3000)], started_unix_s=1796000400.0))
        # Losses at 10k: python sustains nothing.
        self.write("s1-python.json", result("s1", "python", [step(1, 10000, 9980, 30, 90, losses=3)]))
        # A floor variant, named by its file; one step has no offered load (the floor made the records).
        self.write("s1-floor-batch1.json", result("s1", "floor", [
            step(1, 0, 10000, 0.5, 1), step(2, 200000, 166000, 5, 40)]))
        s3 = result("s3", "gateway", [
            step(1, 0, 0, 0, 0, connections=10000, gateway_rss_kb=29000, gateway_rss_bytes_per_connection=1800.0),
            {"step": 2, "skipped": "step 2: 50000 connections need RLIMIT_NOFILE >= 50064"}])
        s3["steps"][0]["latency"]["count"] = 0
        self.write("s3-gateway.json", s3)
        self.write("broken.json", '{"scenario": {"name": "s1"}, "steps": [')
        self.write("other.json", '{"hello": 1}')

        p = self.run_plot()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("broken.json", p.stderr)
        self.assertIn("other.json", p.stderr)

        lat = self.polylines("latency-vs-load.svg")
        for label in ("gateway", "node", "python", "floor-batch1"):
            kinds = {pl.get("data-kind") for pl in lat if pl.get("data-target") == label}
            self.assertEqual(kinds, {"p50", "p99"}, label)
        root = ET.parse(self.dir / "latency-vs-load.svg").getroot()
        rings = [c for c in root.iter(SVG + "circle") if c.get("class") == "saturated"]
        # Delivered < 95% of offered: gateway steps 2, 3, 4, node step 2, floor step 2; p50 and p99 each.
        self.assertEqual(len(rings), 2 * 5)
        text = "".join(root.itertext())
        self.assertIn("offered deliveries/s", text)
        self.assertIn("S1: latency vs offered load", text)

        mem = self.polylines("memory-vs-connections.svg")
        self.assertEqual({pl.get("data-target") for pl in mem}, {"gateway"})
        self.assertEqual({pl.get("data-kind") for pl in mem}, {"RSS", "bytes/connection"})

        md = (self.dir / "summary.md").read_text()
        self.assertIn("## S1: 10,000 connections", md)
        self.assertIn("| gateway | 2 | 100k | 83.0k (saturated) | 20.0 ms | 30.0 ms | 60.0 ms | 66.0 ms | 72.0 ms "
                      "| 0 | 0 | 8.5 | 28.9 MB |", md)
        self.assertIn("| node | 2 | 100k | 40.0k (saturated) |", md)
        self.assertIn("| floor-batch1 | 1 | — | 10.0k |", md)
        self.assertIn("| gateway | 2 | skipped |", md)
        self.assertIn("RSS B/connection", md)
        # Ratios: gateway 83.0k at p99 <= 100 ms; node 10.0k; python none (losses); floor 166k.
        self.assertIn("| S1 | gateway | 83.0k | 100k | 60.0 ms | — |", md)
        self.assertIn("| S1 | node | 10.0k | 10k | 20.0 ms | 8.3× |", md)
        self.assertIn("| S1 | python | none | — | — | — |", md)
        self.assertIn("| S1 | floor-batch1 | 166k | 200k | 40.0 ms | 0.5× |", md)

    def test_nothing_to_do(self):
        self.assertEqual(self.run_plot().returncode, 1)
        self.write("bad.json", "not json")
        p = self.run_plot()
        self.assertEqual(p.returncode, 1)
        self.assertIn("bad.json", p.stderr)
        self.assertFalse((self.dir / "summary.md").exists())

    def test_committed_results(self):
        real = HERE / "results" / "2026-11-30"
        if not real.is_dir():
            self.skipTest("no committed results")
        for f in real.glob("*.json"):
            shutil.copy(f, self.dir)
        p = self.run_plot()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreaterEqual(len(self.polylines("latency-vs-load.svg")), 2)
        self.assertFalse((self.dir / "memory-vs-connections.svg").exists())  # no S3 there
        self.assertIn("## S2", (self.dir / "summary.md").read_text())

    def test_sitting_with_a_fake_run(self):
        bench = self.dir / "bench"
        (bench / "scenarios").mkdir(parents=True)
        for f in ("sitting", "plot"):
            shutil.copy(HERE / f, bench / f)
        for f in (HERE / "scenarios").glob("*.yaml"):
            shutil.copy(f, bench / "scenarios")
        (bench / "run").write_text(FAKE_RUN)
        (bench / "run").chmod(0o755)
        out = self.dir / "out"
        env = dict(os.environ, PLOT_TEST_DIR=str(HERE), PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run([str(bench / "sitting"), "--out-dir", str(out), "--only", "s1,s3",
                            "--targets", "gateway,node,floor", "--", "--duration", "5"],
                           capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 1, p.stderr)  # node failed, the sitting went on
        self.assertIn("s1-node FAILED: exit code 1", p.stderr)
        self.assertIn("wall time", p.stderr)
        names = sorted(f.name for f in out.glob("*.json"))
        self.assertEqual(names, ["s1-floor-batch1.json", "s1-floor-batch4.json", "s1-gateway.json", "s1-node.json",
                                 "s3-gateway.json"])
        self.assertEqual(len(list((out / "parts").glob("s1-floor-batch*-step*.json"))), 8)
        floor = json.loads((out / "s1-floor-batch4.json").read_text())
        self.assertEqual([s["offered_deliveries_per_s"] for s in floor["steps"]], [10000, 100000, 600000, 800000])
        self.assertEqual([s["step"] for s in floor["steps"]], [1, 2, 3, 4])
        self.assertEqual(len(floor["merged_from"]), 4)
        self.assertTrue(floor["notes"][0].startswith("step 1: BATCH=4 extra="), floor["notes"])
        self.assertIn("'--duration', '5'", floor["notes"][0])
        log = (out / "sitting.log").read_text()
        self.assertIn("s1-node\texit 1", log)
        self.assertLess(log.index("s1-gateway"), log.index("s1-node"))
        self.assertLess(log.index("s1-floor-batch4-step4"), log.index("s3-gateway"))
        md = (out / "summary.md").read_text()
        self.assertIn("| S1 | floor-batch1 | 792k | 800k |", md)
        self.assertIn("| S1 | node | 792k | 800k | 2.0 ms | 1.0× |", md)
        self.assertTrue((out / "memory-vs-connections.svg").exists() or "## S3" in md)


if __name__ == "__main__":
    unittest.main()
