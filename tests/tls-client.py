#!/usr/bin/env python3
"""A TLS client for the enforcement tests: one HTTPS GET from a fixed local
port, so that a second connection reuses the 5-tuple of the first.

    tls-client.py HOST PORT SNI LOCAL_PORT CLOSE

CLOSE says how the connection ends: 'fin' (the server closes, then we do:
no TIME_WAIT on our side, so the port is free at once) or 'rst' (we reset
it).  Prints 'ok' and exits 0 if the handshake and the GET succeeded;
prints why not and exits 1 otherwise (2 for a bind error).
"""
import socket
import ssl
import struct
import sys


def main(argv):
    if len(argv) != 6 or argv[5] not in ("fin", "rst"):
        sys.exit(__doc__)
    host, port, sni, local_port, close = (argv[1], int(argv[2]), argv[3],
                                          int(argv[4]), argv[5])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("", local_port))
    except OSError as e:
        print("bind: %s" % e)
        sys.exit(2)
    sock.settimeout(3)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ok = False
    try:
        sock.connect((host, port))
        tls = ctx.wrap_socket(sock, server_hostname=sni)
        tls.sendall(b"GET / HTTP/1.0\r\nHost: " + sni.encode() + b"\r\n\r\n")
        data = b""
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            data += chunk
        ok = data.startswith(b"HTTP/1.0 200")
        print("ok" if ok else "bad reply: %r" % data[:40])
        sock = tls
    except (OSError, ssl.SSLError) as e:
        print("failed: %s" % e)
    if close == "rst":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    sock.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv)
