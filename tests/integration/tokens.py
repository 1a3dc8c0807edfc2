"""JWTs for the auth tests, minted with PyJWT over keys made by cryptography,
and a JWKS server on 127.0.0.1 whose key set can be swapped while it runs."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

ASYMMETRIC = {"RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"}


def new_secret():
    """An HMAC secret (64 URL-safe characters) usable as an env var value."""
    return secrets.token_urlsafe(48)


class KeyPair:
    """A private key for `alg` (RS*, ES256, ES384, EdDSA) with its public
    key as PEM text and as a JWK."""

    def __init__(self, alg, kid=None):
        self.alg = alg
        self.kid = kid
        if alg.startswith("RS"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            conv = RSAAlgorithm
        elif alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            conv = ECAlgorithm
        elif alg == "ES384":
            self.private = ec.generate_private_key(ec.SECP384R1())
            conv = ECAlgorithm
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            conv = OKPAlgorithm
        else:
            raise ValueError(alg)
        self.public = self.private.public_key()
        self.public_pem = self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.jwk = conv.to_jwk(self.public, as_dict=True)
        if kid is not None:
            self.jwk["kid"] = kid
        self.jwk["alg"] = alg
        self.jwk["use"] = "sig"

    def write_pem(self, path):
        with open(path, "w") as f:
            f.write(self.public_pem)
        return str(path)


def claims(sub="u1", orgs=("42",), exp_in=300, iss=None, aud=None, nbf_in=None, props=None,
           user_claim="sub", orgs_claim="orgs", props_claim="props", extra=None, now=None):
    """A claim set; orgs may be a list or a single string; exp_in None
    leaves exp out."""
    now = int(time.time()) if now is None else now
    c = {user_claim: sub, orgs_claim: list(orgs) if isinstance(orgs, (list, tuple)) else orgs,
         "iat": now}
    if exp_in is not None:
        c["exp"] = now + exp_in
    if nbf_in is not None:
        c["nbf"] = now + nbf_in
    if iss is not None:
        c["iss"] = iss
    if aud is not None:
        c["aud"] = aud
    if props is not None:
        c[props_claim] = list(props)
    if extra:
        c.update(extra)
    return c


def mint(key, alg, kid=None, **kw):
    """key: a KeyPair (asymmetric algs) or a secret string (HS*). Keyword
    arguments go to claims()."""
    headers = {"kid": kid} if kid is not None else None
    k = key.private if isinstance(key, KeyPair) else key
    return jwt.encode(claims(**kw), k, algorithm=alg, headers=headers)


def mint_none(**kw):
    """An unsigned token: alg "none", empty signature."""
    return jwt.encode(claims(**kw), None, algorithm="none")


class _AnyBytesHMAC(HMACAlgorithm):
    """PyJWT's HMAC with its asymmetric-key guard off: to make the
    RS256->HS256 confusion token (HMAC keyed with the public key's PEM)."""

    def prepare_key(self, key):
        return key.encode() if isinstance(key, str) else key


def mint_hs_with_public_pem(pem_text, alg="HS256", kid=None, **kw):
    names = {"HS256": HMACAlgorithm.SHA256, "HS384": HMACAlgorithm.SHA384,
             "HS512": HMACAlgorithm.SHA512}
    jws = jwt.PyJWS()
    jws.unregister_algorithm(alg)
    jws.register_algorithm(alg, _AnyBytesHMAC(names[alg]))
    payload = json.dumps(claims(**kw), separators=(",", ":")).encode()
    headers = {"typ": "JWT"}
    if kid is not None:
        headers["kid"] = kid
    return jws.encode(payload, pem_text, algorithm=alg, headers=headers)


class JwksServer:
    """Serves {"keys": [...]} at http://127.0.0.1:PORT/jwks.json from a
    thread; set_keys() swaps the set, fetches counts GETs of it."""

    def __init__(self, keys=()):
        self._lock = threading.Lock()
        self._keys = [k.jwk if isinstance(k, KeyPair) else k for k in keys]
        self.fetches = 0
        self.fetch_times = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] != "/jwks.json":
                    self.send_error(404)
                    return
                with outer._lock:
                    body = json.dumps({"keys": outer._keys}).encode()
                    outer.fetches += 1
                    outer.fetch_times.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/jwks.json"
        self._t = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                   daemon=True)
        self._t.start()

    def set_keys(self, keys):
        with self._lock:
            self._keys = [k.jwk if isinstance(k, KeyPair) else k for k in keys]

    def count(self):
        with self._lock:
            return self.fetches

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._t.join(5)
