"""TLS_CERT_FILE/TLS_KEY_FILE: the gateway serves https:// and wss:// (a
self-signed certificate made here is the clients' CA); plain HTTP to the
TLS port gets no HTTP answer and is closed."""

import datetime
import ipaddress
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from authclients import connect, probe
from helpers import WsClient, read_until_eof, wait_until
from tokens import mint, new_secret


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_gateway(topics, gateway, tmp_path):
    cert, key = self_signed(tmp_path)
    secret = new_secret()
    gw = gateway(topics, TLS_CERT_FILE=cert, TLS_KEY_FILE=key, HANDSHAKE_TIMEOUT=2,
                 AUTH_MODE="jwt", JWT_ALGORITHMS="HS256", JWT_SECRET=secret)
    ctx = ssl.create_default_context(cafile=cert)
    return gw, ctx, secret


def test_wss_clients_receive_records(kafka, topics, tls_gateway):
    gw, ctx, secret = tls_gateway
    assert any(ln == f"realtime-events listening on https://127.0.0.1:{gw.port}/"
               for ln in gw.stdout_lines), gw.stdout_lines
    assert gw.base.startswith("https://") and gw.ws_base.startswith("wss://")
    assert gw.get("/healthz").status_code == 200
    tok = mint(secret, "HS256", sub="u1", orgs=["42"])
    legacy = connect(gw, "/getEvents/payment?organization_id=42&user_id=u1", tok, "header",
                     name="wss /getEvents", ssl=ctx)
    ws = connect(gw, "/ws", tok, "message", name="wss /ws", ssl=ctx)
    ws.subscribe("s", "payment", 42)
    wait_until(lambda: gw.stats()["subscriptions"] == 2, 10, "2 subscriptions")
    probe(kafka, topics, [legacy, ws])
    # A client that does not trust the certificate cannot connect.
    with pytest.raises(ssl.SSLError):
        WsClient(f"{gw.ws_base}/ws", "untrusting", ssl=ssl.create_default_context())
    assert secret not in gw.stderr_text() and tok not in gw.stderr_text()


def test_plain_http_to_the_tls_port_is_closed(kafka, topics, tls_gateway):
    gw, ctx, secret = tls_gateway
    tok = mint(secret, "HS256", sub="u1", orgs=["42"])
    ws = connect(gw, "/ws", tok, "header", name="wss witness", ssl=ctx)
    ws.subscribe("s", "payment", 42)
    for payload in (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b""):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        try:
            if payload:
                s.sendall(payload)
            data, eof = read_until_eof(s, 15)  # HANDSHAKE_TIMEOUT is 2 s
            assert eof, f"{payload[:20]!r}: the connection is still open"
            assert not data.startswith(b"HTTP/"), data[:200]
            assert len(data) < 2048, len(data)
        finally:
            s.close()
    probe(kafka, topics, [ws])
    assert gw.get("/healthz").status_code == 200
