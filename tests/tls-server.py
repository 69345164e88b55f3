#!/usr/bin/env python3
"""An HTTPS server for the tests: serves the current directory over TLS,
each connection in its own thread (openssl s_server serves one at a time,
and a connection the policy cuts would hang it).

    tls-server.py ADDRESS PORT CERT KEY
"""
import http.server
import ssl
import sys

if len(sys.argv) != 5:
    sys.exit(__doc__)
server = http.server.ThreadingHTTPServer(
    (sys.argv[1], int(sys.argv[2])), http.server.SimpleHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
# The handshake then happens in each connection's thread, not in accept().
server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                do_handshake_on_connect=False)
server.serve_forever()
