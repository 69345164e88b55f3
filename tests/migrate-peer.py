#!/usr/bin/python3
"""A hostile migration peer of flowsteerd (tests/migrate-faults.sh): speaks
the messages of ovs-ext/fs-mig-msg.h, encoded here (independently of the
C encoder), over TLS with the certificate it is given.

  migrate-peer.py MODE HOST PORT CERT KEY CA [ARGS...]

MODE:
  hello IFACE         REQUEST IFACE: prints the first answer's type (and
                      its text), or "closed" if the peer closes or the TLS
                      handshake fails.
  offer IFACE         OFFER IFACE: prints the answer as above.
  bad-record IFACE P  OFFER IFACE (port P here), then RECORDS with one
                      record of junk: prints the answers.
  other-port IFACE P  OFFER IFACE (port P), then RECORDS with a good
                      record of a flow of port P+1: prints the answers.
  cut IFACE P         OFFER IFACE (port P), then half a RECORDS message,
                      and closes.
  junk                bytes that are no message.
"""
import importlib.util
import os
import socket
import ssl
import struct
import sys

REQUEST, OFFER, ACCEPT, REFUSE, RECORDS, ENDED, ACK, SWITCH, CANCEL = \
    range(1, 10)
NAMES = {1: 'REQUEST', 2: 'OFFER', 3: 'ACCEPT', 4: 'REFUSE', 5: 'RECORDS',
         6: 'ENDED', 7: 'ACK', 8: 'SWITCH', 9: 'CANCEL'}


def message(t, body, flags=0):
    return struct.pack('>4sBBHI', b'FSMG', 1, t, flags, len(body)) + body


def text(s):
    s = s.encode()
    return bytes([len(s)]) + s


def offer(iface, port):
    return message(OFFER, text(iface) + struct.pack('>IQI', port, 0, 1))


def records(recs, seq=1):
    body = struct.pack('>II', seq, len(recs))
    for r in recs:
        body += struct.pack('>H', len(r)) + r
    return message(RECORDS, body)


def read_exact(s, n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def answer(s):
    """The next message's type name (and text), or 'closed'."""
    try:
        h = read_exact(s, 12)
        if not h:
            return 'closed'
        _, _, t, _, n = struct.unpack('>4sBBHI', h)
        body = read_exact(s, n) if n else b''
        if body is None:
            return 'closed'
        if t in (REFUSE, CANCEL):
            return '%s %s' % (NAMES[t], body[1:1 + body[0]].decode())
        return NAMES.get(t, 'unknown')
    except (OSError, ssl.SSLError):
        return 'closed'


def app_record():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'appliance-migrate.py')
    spec = importlib.util.spec_from_file_location('appliance_migrate', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.record


def main():
    mode, host, port, cert, key, ca = sys.argv[1:7]
    args = sys.argv[7:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    raw = socket.create_connection((host, int(port)), timeout=5)
    try:
        s = ctx.wrap_socket(raw)
    except (OSError, ssl.SSLError):
        print('closed')
        return 0
    if mode == 'hello':
        s.sendall(message(REQUEST, text(args[0])))
        print(answer(s))
    elif mode == 'offer':
        s.sendall(offer(args[0], 7))
        print(answer(s))
    elif mode in ('bad-record', 'other-port', 'cut'):
        p = int(args[1])
        s.sendall(offer(args[0], p))
        print(answer(s))
        if mode == 'bad-record':
            s.sendall(records([os.urandom(40)]))
        elif mode == 'other-port':
            record = app_record()
            s.sendall(records([record(77, (10, 0, 0, 1), (10, 0, 0, 9),
                                      40000, 80, 1, port=p + 1)]))
        else:
            m = records([bytes(200)])
            s.sendall(m[:len(m) // 2])
            s.close()
            return 0
        print(answer(s))
    elif mode == 'junk':
        s.sendall(b'GET / HTTP/1.0\r\n\r\n')
        print(answer(s))
    else:
        sys.exit('unknown mode ' + mode)
    return 0


if __name__ == '__main__':
    sys.exit(main())
