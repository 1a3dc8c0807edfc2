"""AUTH_MODE=jwt: every algorithm family through every token transport,
refusals before the upgrade (HTTP 401) for every kind of bad token, JWKS
rotation, refresh and expiry, forbidden subscriptions, and the start-up
checks of the auth settings. Tokens and secrets never reach the logs."""

import os
import subprocess
import time

import jwt
import pytest

from authclients import (TRANSPORTS, assert_not_logged, connect, expect_close_code,
                         expect_status, expect_upgrade, probe, raw_headers, raw_path,
                         wait_closed)
from conftest import gateway_binary
from helpers import LISTEN_RE, WsClient, deliver_and_check, produce_records, record, wait_until
from rawws import HandshakeError, RawWebSocket
from tokens import (KeyPair, JwksServer, mint, mint_hs_with_public_pem, mint_none,
                    new_secret)

GETEVENTS = "/getEvents/payment?organization_id=42"


def wait_subs(gw, n, timeout=15):
    wait_until(lambda: gw.stats()["subscriptions"] == n, timeout, f"{n} subscriptions")


def key_env(alg, tmp_path, secret=None, key=None):
    env = {"AUTH_MODE": "jwt", "JWT_ALGORITHMS": alg}
    if alg.startswith("HS"):
        env["JWT_SECRET"] = secret
    else:
        env["JWT_PUBLIC_KEY_FILE"] = key.write_pem(tmp_path / f"{alg}.pem")
    return env


# -- accepted tokens ----------------------------------------------------------

@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS256", "RS384", "ES256", "ES384", "EdDSA"])
def test_algorithm_accepted_through_every_transport(kafka, topics, gateway, tmp_path, alg):
    secret = new_secret() if alg.startswith("HS") else None
    key = None if secret else KeyPair(alg)
    gw = gateway(topics, **key_env(alg, tmp_path, secret, key))
    signer = secret or key
    clients, tokens = [], []
    for t in TRANSPORTS:
        tok = mint(signer, alg, sub=f"u-{t}", orgs=["42", "43"])
        tokens.append(tok)
        c = connect(gw, "/ws", tok, t, name=f"/ws {t}")
        c.subscribe(f"s-{t}", "payment", 42)
        clients.append(c)
        if t == "message":
            reply = [m for m in c.snapshot() if m.get("type") == "authenticated"][0]
            exp = jwt.decode(tok, options={"verify_signature": False})["exp"]
            assert reply["id"] == "auth-1" and reply["user"] == "u-message", reply
            assert reply["expires"] in (exp * 1000, (exp + 30) * 1000), (reply, exp)
        tok2 = mint(signer, alg, sub=f"g-{t}", orgs="42")
        tokens.append(tok2)
        clients.append(connect(gw, f"{GETEVENTS}&user_id=g-{t}", tok2, t, name=f"getEvents {t}",
                               wait_auth=False))
    wait_subs(gw, 2 * len(TRANSPORTS))
    probe(kafka, topics, clients)
    for c in clients:
        assert not c.closed.is_set(), (c.name, c.close_code)
        c.close()
    assert_not_logged(gw, secret, *tokens)
    # Nor query strings (the /getEvents ones carry user ids and tokens).
    text = gw.stderr_text()
    assert "organization_id=42&user_id=" not in text and "token=" not in text, \
        [ln for ln in text.splitlines() if "user_id=" in ln or "token=" in ln][:3]


def test_public_key_file_may_be_a_certificate(kafka, topics, gateway, tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    key = KeyPair("RS256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rte-test-issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key.private, hashes.SHA256()))
    path = tmp_path / "issuer.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="RS256", JWT_PUBLIC_KEY_FILE=str(path))
    tok = mint(key, "RS256", orgs=["42"])
    c = connect(gw, "/ws", tok, "header")
    c.subscribe("s", "payment", 42)
    probe(kafka, topics, [c])
    bad = mint(KeyPair("RS256"), "RS256", orgs=["42"])
    expect_status(gw, "/ws", 401, raw_headers(bad, "header"))
    assert_not_logged(gw, tok, bad)


# -- refused tokens -----------------------------------------------------------

def test_bad_tokens_are_refused_with_401_before_the_upgrade(kafka, topics, gateway):
    good_key = KeyPair("RS256", kid="k1")
    ec_key = KeyPair("ES256", kid="e1")
    other = KeyPair("RS256", kid="k1")  # same kid, another key: bad signature
    jwks = JwksServer([good_key, ec_key])
    try:
        gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="RS256,ES256",
                     JWT_JWKS_URL=jwks.url, JWT_JWKS_MIN_REFRESH=60, JWT_ISSUER="https://issuer.test",
                     JWT_AUDIENCE="rte", JWT_LEEWAY=30)
        ok = dict(iss="https://issuer.test", aud="rte", orgs=["42"], sub="u1")
        good = mint(good_key, "RS256", kid="k1", **ok)
        good_ec = mint(ec_key, "ES256", kid="e1", **ok)
        secret = new_secret()
        cases = [
            ("bad_signature", mint(other, "RS256", kid="k1", **ok)),
            ("bad_signature", good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")),
            ("algorithm_not_allowed", mint_none(**ok)),
            ("algorithm_not_allowed", mint(secret, "HS256", kid="k1", **ok)),
            ("algorithm_not_allowed", mint_hs_with_public_pem(good_key.public_pem, kid="k1", **ok)),
            ("algorithm_not_allowed", mint(KeyPair("EdDSA"), "EdDSA", kid="k1", **ok)),
            ("expired", mint(good_key, "RS256", kid="k1", **dict(ok, exp_in=-120))),
            ("not_yet_valid", mint(good_key, "RS256", kid="k1", **dict(ok, nbf_in=600))),
            ("wrong_issuer", mint(good_key, "RS256", kid="k1", **dict(ok, iss="https://evil.test"))),
            ("wrong_issuer", mint(good_key, "RS256", kid="k1", **dict(ok, iss=None))),
            ("wrong_audience", mint(good_key, "RS256", kid="k1", **dict(ok, aud="other"))),
            ("wrong_audience", mint(good_key, "RS256", kid="k1", **dict(ok, aud=None))),
            ("unknown_key", mint(KeyPair("RS256"), "RS256", kid="nosuch", **ok)),
            ("malformed", "not-a-jwt"),
            ("malformed", "eyJhbGciOiJSUzI1NiJ9.e30"),
        ]
        # The good tokens pass through each transport (control).
        for t in ("header", "query", "subprotocol"):
            for tok in (good, good_ec):
                ws = expect_upgrade(gw, raw_path("/ws", tok, t), raw_headers(tok, t))
                ws.close()
        fetches_before = jwks.count()
        started = time.monotonic()
        for reason, tok in cases:
            for t in ("header", "query", "subprotocol"):
                for path in ("/ws", f"{GETEVENTS}&user_id=u1"):
                    expect_status(gw, raw_path(path, tok, t), 401, raw_headers(tok, t))
        # Unknown kids: at most one on-demand JWKS fetch per JWT_JWKS_MIN_REFRESH (60 s).
        for i in range(10):
            tok = mint(KeyPair("ES256"), "ES256", kid=f"nosuch{i}", **ok)
            expect_status(gw, "/ws", 401, raw_headers(tok, "header"))
        elapsed = time.monotonic() - started
        extra = jwks.count() - fetches_before
        assert extra <= 1 + int(elapsed // 60), \
            f"{extra} JWKS fetches for {6 * 1 + 10} unknown-kid tokens in {elapsed:.0f} s"

        # A bad token in an auth message: error unauthorized, then close 1008.
        for reason, tok in cases[:3] + cases[6:8]:
            c = WsClient(f"{gw.ws_base}/ws", f"auth message {reason}")
            c.send({"type": "auth", "id": "a", "token": tok})
            err = c.wait_for(lambda m: m.get("type") == "error", 10, "the auth error")
            assert err["code"] == "unauthorized" and err.get("id") == "a", err
            wait_closed(c, 1008)

        wait_until(lambda: gw.metric("rte_auth_failures_total") >= 6 * len(cases), 10,
                   "auth failures counted")
        for reason in ("bad_signature", "algorithm_not_allowed", "expired", "wrong_issuer",
                       "wrong_audience", "unknown_key", "malformed"):
            assert gw.metric("rte_auth_failures_total", reason=reason) > 0, reason
        assert gw.metric("rte_rejected_connections_total", reason="unauthorized") >= \
            6 * len(cases) + 10
        assert_not_logged(gw, good, good_ec, secret, *(t for _, t in cases if len(t) > 20))
    finally:
        jwks.close()


@pytest.mark.parametrize("algs", ["RS256", "RS256,HS256"])
def test_rs256_to_hs256_confusion_is_refused(kafka, topics, gateway, tmp_path, algs):
    key = KeyPair("RS256")
    secret = new_secret()
    env = {"AUTH_MODE": "jwt", "JWT_ALGORITHMS": algs,
           "JWT_PUBLIC_KEY_FILE": key.write_pem(tmp_path / "rs.pem")}
    if "HS256" in algs:
        env["JWT_SECRET"] = secret
    gw = gateway(topics, **env)
    confused = [mint_hs_with_public_pem(key.public_pem, orgs=["42"]),
                mint_hs_with_public_pem(key.public_pem.strip(), orgs=["42"])]
    for tok in confused:
        for t in ("header", "query", "subprotocol"):
            expect_status(gw, raw_path("/ws", tok, t), 401, raw_headers(tok, t))
        c = WsClient(f"{gw.ws_base}/ws", "confused auth message")
        c.send({"type": "auth", "id": "a", "token": tok})
        assert c.wait_for(lambda m: m.get("id") == "a", 10)["code"] == "unauthorized"
        wait_closed(c, 1008)
    good = [mint(key, "RS256", orgs=["42"])]
    if "HS256" in algs:
        good.append(mint(secret, "HS256", orgs=["42"]))
    clients = []
    for tok in good:
        c = connect(gw, "/ws", tok, "header")
        c.subscribe("s", "payment", 42)
        clients.append(c)
    probe(kafka, topics, clients)
    assert_not_logged(gw, secret, *confused, *good)


def test_jwks_rotation(kafka, topics, gateway):
    k1 = KeyPair("RS256", kid="k1")
    k2 = KeyPair("ES256", kid="k2")
    k3 = KeyPair("EdDSA", kid="k3")
    jwks = JwksServer([k1])
    try:
        gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="RS256,ES256,EdDSA",
                     JWT_JWKS_URL=jwks.url, JWT_JWKS_REFRESH=10, JWT_JWKS_MIN_REFRESH=1)
        t1 = mint(k1, "RS256", kid="k1", orgs=["42"], sub="one")
        a = connect(gw, "/ws", t1, "header", name="k1 client")
        a.subscribe("s", "payment", 42)
        # New keys published after start: tokens with their kids are accepted
        # once the on-demand refresh (rate limited to 1 s) has run.
        jwks.set_keys([k1, k2, k3])
        clients = [a]
        for key, alg in ((k2, "ES256"), (k3, "EdDSA")):
            tok = mint(key, alg, kid=key.kid, orgs=["42"], sub=key.kid)

            def try_upgrade(tok=tok):
                try:
                    RawWebSocket(gw.port, "/ws", headers=raw_headers(tok, "header")).close()
                    return True
                except Exception:
                    return False
            wait_until(try_upgrade, 10, f"a token with new kid {key.kid} accepted", interval=0.3)
            c = connect(gw, "/ws", tok, "query", name=f"{key.kid} client")
            c.subscribe("s", "payment", 42)
            clients.append(c)
        probe(kafka, topics, clients)

        # k1 removed: after the periodic refresh (10 s, the minimum) its
        # tokens are refused. A fetch counted after set_keys() returned was
        # served the new set.
        jwks.set_keys([k2, k3])
        n = jwks.count()
        wait_until(lambda: jwks.count() >= n + 1, 25, "a periodic JWKS refresh")
        t1b = mint(k1, "RS256", kid="k1", orgs=["42"], sub="one-again")

        def refused(tok=t1b):
            try:
                RawWebSocket(gw.port, "/ws", headers=raw_headers(tok, "header")).close()
                return False
            except HandshakeError as e:
                assert e.code == 401, e.status
                return True
        wait_until(refused, 5, "the removed key's token refused", interval=0.2)
        expect_status(gw, "/ws", 401, raw_headers(t1b, "header"))
        t2 = mint(k2, "ES256", kid="k2", orgs=["42"], sub="k2-again")
        expect_upgrade(gw, "/ws", raw_headers(t2, "header")).close()
        assert gw.metric("rte_auth_failures_total", reason="unknown_key") > 0
        assert_not_logged(gw, t1, t1b, t2)
    finally:
        jwks.close()


# -- refresh and expiry -------------------------------------------------------

def test_refresh_keeps_the_connection_past_the_first_expiry(kafka, topics, gateway):
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret,
                 JWT_LEEWAY=1)
    short = mint(secret, "HS256", sub="u1", orgs=["42"], exp_in=3)
    fresh = mint(secret, "HS256", sub="u1", orgs=["42"], exp_in=300)
    refreshed = connect(gw, "/ws", short, "header", name="refreshed")
    refreshed.subscribe("s", "payment", 42)
    plain = connect(gw, "/ws", short, "header", name="not refreshed (/ws header)")
    plain.subscribe("s", "payment", 42)
    by_msg = connect(gw, "/ws", short, "message", name="not refreshed (/ws auth message)")
    by_msg.subscribe("s", "payment", 42)
    legacy = connect(gw, f"{GETEVENTS}&user_id=u1", short, "query",
                     name="not refreshed (/getEvents)")
    legacy_refreshed = connect(gw, f"{GETEVENTS}&user_id=u1", short, "header",
                               name="refreshed /getEvents")
    wait_subs(gw, 5)
    legacy_refreshed.send({"type": "auth", "id": "r2", "token": fresh})
    reply = refreshed.request({"type": "auth", "id": "r1", "token": fresh})
    assert reply["type"] == "authenticated" and reply["user"] == "u1", reply
    fresh_exp = int(time.time()) + 300
    assert abs(reply["expires"] - fresh_exp * 1000) <= 40_000, reply
    for c in (plain, by_msg, legacy):
        wait_closed(c, 1008, timeout=20)
    assert not refreshed.closed.is_set(), refreshed.close_code
    assert not legacy_refreshed.closed.is_set(), legacy_refreshed.close_code
    probe(kafka, topics, [refreshed, legacy_refreshed])
    assert not refreshed.closed.is_set() and not legacy_refreshed.closed.is_set()
    wait_until(lambda: gw.stats()["connections"] == 2, 10, "the expired connections gone")
    assert_not_logged(gw, secret, short, fresh)


def test_refresh_errors_and_narrowing(kafka, topics, gateway):
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret)
    t1 = mint(secret, "HS256", sub="u1", orgs=["42", "43"])
    c = connect(gw, "/ws", t1, "header", name="u1")
    c.subscribe("p42", "payment", 42)
    c.subscribe("p43", "payment", 43)
    c.subscribe("g43", "guest", 43)
    bad = [
        ("bad signature", mint(new_secret(), "HS256", sub="u1", orgs=["42"])),
        ("another user", mint(secret, "HS256", sub="u2", orgs=["42", "43"])),
        ("expired", mint(secret, "HS256", sub="u1", orgs=["42"], exp_in=-300)),
        ("alg none", mint_none(sub="u1", orgs=["42", "43", "44"])),
        ("garbage", "x.y.z"),
    ]
    for i, (what, tok) in enumerate(bad):
        reply = c.request({"type": "auth", "id": f"bad{i}", "token": tok})
        assert reply["type"] == "error" and reply["code"] == "unauthorized", (what, reply)
        assert not c.closed.is_set(), f"closed after a bad refresh ({what}): {c.close_code}"
    # Still subscribed to all three with the old token.
    probe(kafka, topics, [c], "guest", "43", "7")
    # A narrower token: the two organization-43 subscriptions are dropped.
    t2 = mint(secret, "HS256", sub="u1", orgs=["42"])
    reply = c.request({"type": "auth", "id": "good", "token": t2})
    assert reply["type"] == "authenticated" and reply["user"] == "u1", reply
    errs = c.wait_count(lambda m: m.get("type") == "error" and m.get("code") == "forbidden", 2,
                        10, "a forbidden error per dropped subscription")
    assert len(errs) == 2, errs
    wait_subs(gw, 1)
    # Records of 43 (payment and guest) are no longer delivered; 42 still is.
    assert_not_delivered(kafka, topics, gw, c, [("payment", "43"), ("guest", "43")],
                         ("payment", "42"))
    # Subscribing to 43 again is forbidden now.
    r = c.request({"type": "subscribe", "id": "again", "channel": "payment",
                   "filter": {"organization_id": "43"}})
    assert r["type"] == "error" and r["code"] == "forbidden", r
    assert_not_logged(gw, secret, t1, t2, *(t for _, t in bad if len(t) > 10))


def test_auth_message_timeout_and_subscribe_before_auth(kafka, topics, gateway):
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret,
                 AUTH_TIMEOUT=2)
    early = WsClient(f"{gw.ws_base}/ws", "subscribes first")
    r = early.request({"type": "subscribe", "id": "s1", "channel": "payment",
                       "filter": {"organization_id": "42"}})
    assert r["type"] == "error" and r["code"] == "unauthorized", r
    silent_ws = WsClient(f"{gw.ws_base}/ws", "silent /ws")
    silent_legacy = WsClient(f"{gw.ws_base}{GETEVENTS}&user_id=u1", "silent /getEvents")
    for c in (early, silent_ws, silent_legacy):
        wait_closed(c, 1008, timeout=15)
    # /getEvents without a token on the upgrade waits for the auth message.
    tok = mint(secret, "HS256", sub="u1", orgs=["42"])
    legacy = connect(gw, f"{GETEVENTS}&user_id=u1", tok, "message", name="late /getEvents",
                     wait_auth=False)
    ws = connect(gw, "/ws", tok, "message", name="late /ws")
    ws.subscribe("s", "payment", 42)
    wait_subs(gw, 2)
    probe(kafka, topics, [legacy, ws])
    # After the timeout has passed, authenticated connections stay.
    assert not legacy.closed.is_set() and not ws.closed.is_set()
    assert_not_logged(gw, secret, tok)


def test_forbidden_subscriptions_and_property_claim(kafka, topics, gateway):
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS384", JWT_SECRET=secret,
                 JWT_USER_CLAIM="email", JWT_ORGS_CLAIM="tenants", JWT_PROPERTIES_CLAIM="props")
    kw = dict(user_claim="email", orgs_claim="tenants", props_claim="props")
    ta = mint(secret, "HS384", sub="a@x.test", orgs="42", **kw)  # orgs as a single string
    tb = mint(secret, "HS384", sub="b@x.test", orgs=["42", "43"], props=["7"], **kw)
    a = connect(gw, "/ws", ta, "header", name="A")
    b = connect(gw, "/ws", tb, "message", name="B")
    reply = [m for m in b.snapshot() if m.get("type") == "authenticated"][0]
    assert reply["user"] == "b@x.test", reply
    a.subscribe("a1", "payment", 42)
    a.subscribe("a2", "guest", 42, 8)
    b.subscribe("b1", "payment", 42, 7)
    b.subscribe("b2", "payment", 43, 7)
    forbidden = [(a, "payment", "43", None), (a, "guest", "44", "7"),
                 (b, "payment", "42", None), (b, "payment", "42", "8"), (b, "payment", "44", "7"),
                 (b, "guest", "43", None)]
    for i, (c, ch, org, prop) in enumerate(forbidden):
        filt = {"organization_id": org}
        if prop:
            filt["property_id"] = prop
        r = c.request({"type": "subscribe", "id": f"f{i}", "channel": ch, "filter": filt})
        assert r["type"] == "error" and r["code"] == "forbidden", (ch, filt, r)
    legacy_ok = connect(gw, "/getEvents/payment?organization_id=43&property_id=7", tb, "header",
                        name="B /getEvents 43/7")
    refused = []
    for path in ("/getEvents/payment?organization_id=43",                   # property required
                 "/getEvents/payment?organization_id=43&property_id=8",     # property not allowed
                 "/getEvents/payment?organization_id=44&property_id=7"):    # organization
        ws = RawWebSocket(gw.port, path, headers=raw_headers(tb, "header"))
        refused.append((path, ws))
    for path, ws in refused:
        expect_close_code(ws, 1008, what=path)
        ws.close()
    wait_subs(gw, 5)
    recs = [record(topics, ch, org, prop, part, i)
            for i, (ch, org, prop, part) in enumerate(
                (ch, org, prop, part) for ch in ("payment", "guest") for org in ("42", "43", "44")
                for prop in ("7", "8") for part in range(3))]
    deliver_and_check(kafka, topics, {
        a: [("payment", "42", None), ("guest", "42", "8")],
        b: [("payment", "42", "7"), ("payment", "43", "7")],
        legacy_ok: [("payment", "43", "7")]}, recs)
    assert gw.metric("rte_auth_failures_total", reason="forbidden") > 0
    assert_not_logged(gw, secret, ta, tb)


def test_getevents_user_and_organization_must_match_the_token(kafka, topics, gateway):
    secret = new_secret()
    gw = gateway(topics, AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret)
    tok = mint(secret, "HS256", sub="u1", orgs=["42"])
    for path in ("/getEvents/payment?organization_id=42&user_id=u2",
                 "/getEvents/payment?organization_id=43&user_id=u1",
                 "/getEvents/payment?organization_id=43"):
        for t in ("header", "query", "subprotocol"):
            ws = RawWebSocket(gw.port, raw_path(path, tok, t), headers=raw_headers(tok, t))
            try:
                expect_close_code(ws, 1008, what=f"{path} via {t}")
            finally:
                ws.close()
        # Token in an auth message: the contradiction is found then.
        ws = RawWebSocket(gw.port, path)
        try:
            ws.send_text(f'{{"type":"auth","token":"{tok}"}}')
            expect_close_code(ws, 1008, what=f"{path} via auth message")
        finally:
            ws.close()
    same = connect(gw, "/getEvents/payment?organization_id=42&user_id=u1", tok, "header",
                   name="same user")
    no_user = connect(gw, "/getEvents/payment?organization_id=42", tok, "query", name="no user_id")
    wait_subs(gw, 2)
    probe(kafka, topics, [same, no_user])
    assert_not_logged(gw, secret, tok)


def assert_not_delivered(kafka, topics, gw, client, bad, good):
    """Produces a record for each (channel, org) of `bad` and then, in the
    same partition, one of `good`; the client gets the good one and none of
    the bad ones (also once the gateway has counted them all as received)."""
    before = gw.stats()["records_received"]
    start = len(client.events())
    recs = [record(topics, ch, org, "7", 0, 900 + i) for i, (ch, org) in enumerate(bad)]
    recs.append(record(topics, good[0], good[1], "7", 0, 999))
    produce_records(kafka, recs)
    client.wait_for(lambda m: m.get("type") == "event" and m["offset"] == recs[-1]["offset"]
                    and m["topic"] == recs[-1]["topic"], 20, "the entitled record")
    wait_until(lambda: gw.stats()["records_received"] - before >= len(recs), 10,
               "the gateway to count every record")
    pos = {(r["topic"], r["offset"]) for r in recs[:-1]}
    leaked = [e for e in client.events()[start:] if (e["topic"], e["offset"]) in pos]
    assert not leaked, f"{client.name} received records it is not entitled to: {leaked}"


# -- start-up checks ----------------------------------------------------------

def private_netns_available():
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_serve(env, tmp_path, timeout=20, netns=False):
    """Runs `serve` until it exits; a process that starts listening instead
    is stopped at once. netns: in a private network namespace (only its own
    loopback), for the BIND_ADDRESS=0.0.0.0 cases. Returns (rc, stdout,
    stderr, listened)."""
    full = dict(os.environ)
    full.update({"KAFKA_BOOTSTRAP_SERVER": "127.0.0.1:9", "PORT": "0",
                 "BIND_ADDRESS": "127.0.0.1", "LOG_LEVEL": "debug"})
    full.pop("AUTH_MODE", None)
    full.update({k: str(v) for k, v in env.items()})
    errp = tmp_path / f"serve-{time.monotonic_ns()}.stderr"
    with open(errp, "wb") as err:
        argv = (["unshare", "-n", "--"] if netns else []) + [gateway_binary(), "serve"]
        p = subprocess.Popen(argv, env=full, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=err, cwd=tmp_path)
        out, listened = [], False
        deadline = time.monotonic() + timeout
        try:
            for raw in p.stdout:
                line = raw.decode(errors="replace")
                out.append(line)
                if LISTEN_RE.search(line) or "realtime-events listening on" in line:
                    listened = True
                    break
                if time.monotonic() > deadline:
                    break
        finally:
            if p.poll() is None:
                p.kill()
            rc = p.wait(10)
    return rc, "".join(out), errp.read_text(errors="replace"), listened


def test_public_bind_without_auth_mode_refuses_to_start(tmp_path):
    if gateway_binary() is None:
        pytest.skip("realtime-events binary not built")
    if not private_netns_available():
        pytest.skip("needs `unshare -n` (a private network namespace) to bind 0.0.0.0 safely")
    rc, out, err, listened = run_serve({"BIND_ADDRESS": "0.0.0.0"}, tmp_path, netns=True)
    assert not listened, f"started listening on 0.0.0.0 without AUTH_MODE: {out}"
    assert rc == 2, (rc, err[-2000:])
    assert "AUTH_MODE" in err, err[-2000:]


def test_auth_mode_none_on_a_public_bind_starts_with_a_warning(tmp_path):
    if gateway_binary() is None:
        pytest.skip("realtime-events binary not built")
    if not private_netns_available():
        pytest.skip("needs `unshare -n` (a private network namespace) to bind 0.0.0.0 safely")
    rc, out, err, listened = run_serve({"BIND_ADDRESS": "0.0.0.0", "AUTH_MODE": "none"},
                                       tmp_path, netns=True)
    assert listened, (rc, out, err[-2000:])
    lines = [ln for ln in err.splitlines()
             if "warn" in ln.lower() and ("AUTH_MODE" in ln or "authentication" in ln.lower())]
    assert lines, f"no warning about AUTH_MODE=none on 0.0.0.0:\n{err[-2000:]}"


def test_auth_mode_none_serves_anyone(kafka, topics, gateway):
    gw = gateway(topics, AUTH_MODE="none")
    c = WsClient(f"{gw.ws_base}/ws", "anonymous")
    c.subscribe("s", "payment", 42)
    probe(kafka, topics, [c])


def test_every_bad_setting_is_named_at_once(tmp_path):
    if gateway_binary() is None:
        pytest.skip("realtime-events binary not built")
    short_secret = "tooShortSecret-7f3a9"
    rc, out, err, listened = run_serve({
        "AUTH_MODE": "jwt", "JWT_ALGORITHMS": "HS256,XS999", "JWT_SECRET": short_secret,
        "MAX_CONNECTIONS_PER_IP": "many", "HANDSHAKE_TIMEOUT": "-3", "COMMAND_BURST": "x",
        "JWT_LEEWAY": "soon"}, tmp_path)
    assert not listened and rc != 0, (rc, out, err[-2000:])
    for var in ("JWT_ALGORITHMS", "JWT_SECRET", "MAX_CONNECTIONS_PER_IP", "HANDSHAKE_TIMEOUT",
                "COMMAND_BURST", "JWT_LEEWAY"):
        assert var in err, f"{var} not named:\n{err[-2000:]}"
    assert short_secret not in err + out, "the secret was logged"
    rc, out, err, listened = run_serve({"AUTH_MODE": "sometimes", "ALLOWED_ORIGINS": ""},
                                       tmp_path)
    assert not listened and rc != 0 and "AUTH_MODE" in err, (rc, err[-2000:])
    rc, out, err, listened = run_serve({"AUTH_MODE": "jwt"}, tmp_path)  # no key at all
    assert not listened and rc != 0, (rc, err[-2000:])
    assert "JWT" in err, err[-2000:]
