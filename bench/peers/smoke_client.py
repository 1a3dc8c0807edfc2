#!/usr/bin/env python3
"""A tiny checking client for the peers and the floor (not the load generator).

Opens CONNS connections per organization on
ws://127.0.0.1:PORT/getEvents/payment?organization_id=O&user_id=U, collects
text messages for SECONDS, then checks for every connection that each event
is for its own organization, that the per-organization "seq" values arrive in
order without duplicates, and (with --expect) that the expected seqs all
arrived. Prints a summary line per organization and exits 1 on any failure.

  smoke_client.py --port 5000 --orgs 0,1,2 --conns 3 --seconds 5 [--expect 0-9]
  smoke_client.py ... --ready-file F   # touches F once every client is connected

Needs the `websockets` package (the repository's .venv has it).
"""

import argparse
import asyncio
import json
import re
import statistics
import sys
import time

import websockets

SEQ = re.compile(r'"seq":(\d+)')
SENT = re.compile(r'"sent_us":(\d+)')
ORG = re.compile(r'"organization_id":"([^"]*)"')


async def client(port, org, idx, seconds, out, ready, prop):
    url = f"ws://127.0.0.1:{port}/getEvents/payment?organization_id={org}&user_id=u{idx}"
    if prop is not None:
        url += f"&property_id={prop}"
    got = []
    pings = 0
    async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
        ready.set_result(None) if not ready.done() else None
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout=left)
            except asyncio.TimeoutError:
                break
            now_us = time.time_ns() // 1000
            if msg == '{"type":"ping"}':
                pings += 1
                continue
            got.append((msg, now_us))
    out[(org, idx)] = (got, pings)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--orgs", default="0,1,2")
    ap.add_argument("--conns", type=int, default=2, help="connections per organization")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--expect", help="seqs every connection must see: lo-hi[/step], e.g. 0-9")
    ap.add_argument("--property", help="subscribe with property_id=P; every event must be P's")
    ap.add_argument("--ready-file")
    ap.add_argument("--show", type=int, default=0, help="print the first N messages")
    a = ap.parse_args()
    orgs = a.orgs.split(",")
    out = {}
    readies = []
    tasks = []
    for org in orgs:
        for i in range(a.conns):
            fut = asyncio.get_running_loop().create_future()
            readies.append(fut)
            tasks.append(asyncio.create_task(client(a.port, org, i, a.seconds, out, fut, a.property)))
    await asyncio.wait_for(asyncio.gather(*readies), timeout=30)
    if a.ready_file:
        open(a.ready_file, "w").close()
    await asyncio.gather(*tasks)

    ok = True
    shown = 0
    for org in orgs:
        counts, lat = [], []
        for i in range(a.conns):
            got, pings = out[(org, i)]
            seqs = []
            for msg, now_us in got:
                if shown < a.show:
                    print("  msg:", msg[:300])
                    shown += 1
                try:
                    ev = json.loads(msg)
                except ValueError:
                    print(f"FAIL org {org} conn {i}: not JSON: {msg[:120]}")
                    ok = False
                    continue
                if ev.get("type") != "event" or ev.get("channel") != "payment":
                    print(f"FAIL org {org} conn {i}: unexpected message {msg[:120]}")
                    ok = False
                    continue
                m = ORG.search(msg)
                if not m or m.group(1) != org or ev["value"].get("organization_id") != org:
                    print(f"FAIL org {org} conn {i}: event for another organization: {msg[:160]}")
                    ok = False
                if a.property is not None and ev["value"].get("property_id") != a.property:
                    print(f"FAIL org {org} conn {i}: event for another property: {msg[:160]}")
                    ok = False
                s = SEQ.search(msg)
                t = SENT.search(msg)
                if s:
                    seqs.append(int(s.group(1)))
                if t:
                    lat.append((now_us - int(t.group(1))) / 1000.0)
            if any(b <= x for x, b in zip(seqs, seqs[1:])):
                print(f"FAIL org {org} conn {i}: out of order or duplicated: {seqs[:50]}")
                ok = False
            if a.expect:
                rng, _, step = a.expect.partition("/")
                lo, hi = (int(x) for x in rng.split("-"))
                want = list(range(lo, hi + 1, int(step or 1)))
                if seqs != want:
                    print(f"FAIL org {org} conn {i}: expected seqs {lo}..{hi}, got {seqs[:50]}")
                    ok = False
            elif a.property is None and seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
                print(f"FAIL org {org} conn {i}: gap in seqs {seqs[:50]}")
                ok = False
            counts.append(len(seqs))
        lat_s = ""
        if lat:
            lat.sort()
            lat_s = (f" latency ms p50={statistics.median(lat):.2f}"
                     f" p99={lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.2f} max={lat[-1]:.2f}")
        print(f"org {org}: events per connection {counts}{lat_s}")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
