"""A minimal RFC 6455 client over a plain socket, for what a normal client
library hides: observing ping frames, never answering, sending oversized or
binary frames and reading the exact close code."""

import base64
import hashlib
import os
import select
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeError(Exception):
    def __init__(self, status, head):
        super().__init__(f"handshake failed: {status!r}")
        self.status = status
        self.head = head

    @property
    def code(self):
        """The HTTP status code, or None when the server closed without one."""
        parts = (self.status or "").split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class RawWebSocket:
    """Thread rule: one thread at a time."""

    def __init__(self, port, path, timeout=10.0, host="127.0.0.1", headers=None,
                 ssl_context=None, source=None):
        """headers: extra request headers, {name: value} or [(name, value)];
        ssl_context: wss; source: local address to connect from (e.g.
        "127.0.0.2")."""
        if source:
            self.sock = socket.create_connection((host, port), timeout=timeout,
                                                 source_address=(source, 0))
        else:  # (test_slow_consumer swaps create_connection for one without source_address)
            self.sock = socket.create_connection((host, port), timeout=timeout)
        if ssl_context is not None:
            self.sock = ssl_context.wrap_socket(self.sock, server_hostname=host)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in
                        (headers.items() if isinstance(headers, dict) else headers or ()))
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n{extra}\r\n")
        self.sock.sendall(req.encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no handshake answer")
            try:
                chunk = self.sock.recv(4096)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise HandshakeError(None, self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if " 101 " not in status + " ":
            raise HandshakeError(status, head)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise HandshakeError(status, head)
        self.status = status
        self.headers = headers
        self.eof = False

    # -- sending -----------------------------------------------------------
    def send_frame(self, opcode, payload=b"", fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", b0, 0x80 | n)
        elif n < 65536:
            head = struct.pack(">BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
            _mask_fast(payload, mask)
        self.sock.sendall(head + mask + masked)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_close(self, code=1000):
        self.send_frame(OP_CLOSE, struct.pack(">H", code))

    # -- receiving ---------------------------------------------------------
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            # TLS: decrypted bytes already buffered do not wake select().
            pending = self.sock.pending() if hasattr(self.sock, "pending") else 0
            if not pending:
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    return False
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                self.eof = True
                raise EOFError("connection closed by peer")
            self.buf += chunk
        return True

    def recv_frame(self, timeout=10.0):
        """Returns (fin, opcode, payload), or None on timeout; raises EOFError
        when the peer closed the TCP connection."""
        deadline = time.monotonic() + timeout
        if not self._fill(2, deadline):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            if not self._fill(4, deadline):
                return None
            n = struct.unpack(">H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            if not self._fill(10, deadline):
                return None
            n = struct.unpack(">Q", self.buf[2:10])[0]
            pos = 10
        masked = bool(b1 & 0x80)
        need = pos + (4 if masked else 0) + n
        if not self._fill(need, deadline):
            return None
        payload = self.buf[pos + (4 if masked else 0):need]
        if masked:
            payload = _mask_fast(payload, self.buf[pos:pos + 4])
        self.buf = self.buf[need:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def wait_close(self, timeout=10.0, answer_pings=True, answer_close=True):
        """Reads until a close frame arrives and (like any client) answers it;
        returns (code or None when the frame had none, [other frames seen]).
        Raises TimeoutError or EOFError."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no close frame; frames seen: {seen[:10]}")
            f = self.recv_frame(left)
            if f is None:
                continue
            _, op, payload = f
            if op == OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                if answer_close:
                    try:
                        self.send_frame(OP_CLOSE, payload[:2])
                    except OSError:
                        pass
                return code, seen
            if op == OP_PING and answer_pings:
                self.send_frame(OP_PONG, payload)
            seen.append((op, payload[:200]))

    def wait_eof(self, timeout=10.0):
        """True when the peer closed TCP within timeout (frames are discarded)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.recv_frame(deadline - time.monotonic())
        except EOFError:
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _mask_fast(payload, mask):
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")
