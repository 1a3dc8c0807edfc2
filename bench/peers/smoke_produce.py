#!/usr/bin/env python3
"""Produces contract-shaped records for the peer smoke tests (not the load generator).

For each organization in --orgs, --count records with key {"organization_id":"O"}
and value {"organization_id":"O","property_id":"P","seq":S,"sent_us":T,"pad":"..."},
seq from 0, interleaved across organizations, at about --rate records/s. The key
picks the partition, so each organization's records stay in order.

  smoke_produce.py --bootstrap 127.0.0.1:9092 --topic payments --orgs 0,1,2 --count 10

Needs confluent-kafka (the repository's .venv has it).
"""

import argparse
import json
import sys
import time

from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", default="payments")
    ap.add_argument("--orgs", default="0,1,2")
    ap.add_argument("--count", type=int, default=10, help="records per organization")
    ap.add_argument("--rate", type=float, default=200, help="records per second, all orgs")
    ap.add_argument("--pad", type=int, default=100)
    ap.add_argument("--properties", type=int, default=1, help="property_id cycles over 0..N-1")
    a = ap.parse_args()
    p = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 1, "acks": "1"})
    orgs = a.orgs.split(",")
    interval = 1.0 / a.rate
    t0 = time.monotonic()
    n = 0
    for seq in range(a.count):
        for org in orgs:
            value = {"organization_id": org, "property_id": str(seq % a.properties), "seq": seq,
                     "sent_us": time.time_ns() // 1000, "pad": "x" * a.pad}
            p.produce(a.topic, key=json.dumps({"organization_id": org}, separators=(",", ":")),
                      value=json.dumps(value, separators=(",", ":")))
            p.poll(0)
            n += 1
            delay = t0 + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    left = p.flush(10)
    print(f"produced {n} records ({left} not acknowledged)")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
