#!/usr/bin/env python3
"""conn-bench.py: short TCP connections, for run-e2e-bench.sh.

  conn-bench.py server ADDR PORT
      A minimal HTTP/1.0 server: for each connection, reads the request
      head, answers "200 OK" with a 2-byte body and closes.  One thread,
      non-blocking, so that it keeps up with many clients.

  conn-bench.py client ADDR PORT [--seconds S | --count N] [--parallel P]
                       [--bind IP] [--port-base B]
      Opens short connections to ADDR:PORT, P at a time: connect, send
      "GET / HTTP/1.0", read the answer to its end, close; then the next.
      Stops starting new ones after S seconds (default 3) or N connections.
      With --port-base, connection i binds client port B+i (wrapping from
      65535 to 1024), and no port is used twice in one run: a connection
      that reused the 5-tuple of an earlier one would find that flow's
      verdict rule still installed and skip inspection; ports that another
      socket holds are skipped.  Without it, the kernel chooses.  Prints one line of KEY=VALUE: conns (completed),
      errors, next_port (for the next run's --port-base), ports_exhausted
      (1 if it stopped for lack of ports), seconds
      (first connect to last completion), conn_per_s, connect_p50_ms,
      connect_p99_ms (connect() start to the socket being connected: the
      SYN out and the SYN-ACK back), req_p50_ms, req_p99_ms (connect()
      start to the server's close).  Exits 1 if no connection completed.

Python 3 standard library only.
"""

import argparse
import errno
import selectors
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.0\r\nHost: bench\r\nUser-Agent: conn-bench\r\n\r\n"
RESPONSE = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
TIMEOUT = 5.0               # Seconds before a connection counts as failed.
N_PORTS = 65536 - 1024      # Client ports for --port-base: 1024 to 65535.


def serve(addr, port):
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(1024)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, None)
    heads = {}
    while True:
        for key, _ in sel.select():
            if key.data is None:
                try:
                    conn, _ = lsock.accept()
                except (BlockingIOError, ConnectionAbortedError):
                    continue
                conn.setblocking(False)
                heads[conn] = b""
                sel.register(conn, selectors.EVENT_READ, True)
                continue
            conn = key.fileobj
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            heads[conn] += data
            if data and b"\r\n\r\n" not in heads[conn]:
                continue
            if data:
                try:
                    conn.send(RESPONSE)
                except OSError:
                    pass
            sel.unregister(conn)
            del heads[conn]
            conn.close()


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100.0))]


class Client:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.next_port = args.port_base
        self.ports_left = N_PORTS if args.port_base else None
        self.started = 0
        self.errors = 0
        self.connect_s = []
        self.req_s = []
        self.t_first = None
        self.t_last = None

    def more(self, now):
        if self.ports_left == 0:
            return False
        if self.args.count is not None:
            return self.started < self.args.count
        return now < self.deadline

    def bind_next(self, s):
        """Binds 's' to the next free client port; False if none is left."""
        while self.ports_left:
            port = self.next_port
            self.ports_left -= 1
            self.next_port = port + 1 if port < 65535 else 1024
            try:
                s.bind((self.args.bind or "", port))
                return True
            except OSError as e:
                # Held by another socket, e.g. one in TIME_WAIT.
                if e.errno != errno.EADDRINUSE:
                    raise
        return False

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.ports_left is not None:
            if not self.bind_next(s):
                s.close()
                return
        elif self.args.bind:
            s.bind((self.args.bind, 0))
        s.setblocking(False)
        t0 = time.perf_counter()
        if self.t_first is None:
            self.t_first = t0
        err = s.connect_ex((self.args.addr, self.args.port))
        if err not in (0, errno.EINPROGRESS):
            sys.exit("conn-bench: connect: %s" % errno.errorcode.get(err, err))
        self.started += 1
        # [time connect() started, time it completed or None]
        self.sel.register(s, selectors.EVENT_WRITE, [t0, None])

    def done(self, s, ok, now):
        self.sel.unregister(s)
        s.close()
        if ok:
            self.t_last = now
        else:
            self.errors += 1

    def step(self, s, st, now):
        if st[1] is None:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self.done(s, False, now)
                return
            st[1] = now
            self.connect_s.append(now - st[0])
            try:
                s.send(REQUEST)
            except OSError:
                self.done(s, False, now)
                return
            self.sel.modify(s, selectors.EVENT_READ, st)
            return
        try:
            data = s.recv(4096)
        except OSError:
            self.done(s, False, now)
            return
        if not data:
            self.req_s.append(now - st[0])
            self.done(s, True, now)

    def run(self):
        self.deadline = time.perf_counter() + self.args.seconds
        while self.more(time.perf_counter()) and \
                len(self.sel.get_map()) < self.args.parallel:
            self.start()
        while self.sel.get_map():
            for key, _ in self.sel.select(0.1):
                self.step(key.fileobj, key.data, time.perf_counter())
            now = time.perf_counter()
            for key in list(self.sel.get_map().values()):
                if now - key.data[0] > TIMEOUT:
                    self.done(key.fileobj, False, now)
            while self.more(now) and \
                    len(self.sel.get_map()) < self.args.parallel:
                self.start()
        n = len(self.req_s)
        secs = (self.t_last - self.t_first) if n else 0.0
        ms = 1000.0
        print("conns=%d errors=%d next_port=%d ports_exhausted=%d "
              "seconds=%.3f conn_per_s=%.1f "
              "connect_p50_ms=%.3f connect_p99_ms=%.3f "
              "req_p50_ms=%.3f req_p99_ms=%.3f" % (
                  n, self.errors, self.next_port, self.ports_left == 0,
                  secs, n / secs if secs > 0 else 0.0,
                  percentile(self.connect_s, 50) * ms,
                  percentile(self.connect_s, 99) * ms,
                  percentile(self.req_s, 50) * ms,
                  percentile(self.req_s, 99) * ms))
        return 0 if n else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    sp = sub.add_parser("server")
    sp.add_argument("addr")
    sp.add_argument("port", type=int)
    cp = sub.add_parser("client")
    cp.add_argument("addr")
    cp.add_argument("port", type=int)
    cp.add_argument("--seconds", type=float, default=3.0)
    cp.add_argument("--count", type=int)
    cp.add_argument("--parallel", type=int, default=1)
    cp.add_argument("--bind")
    cp.add_argument("--port-base", type=int, default=0)
    args = ap.parse_args()
    if args.mode == "client" and args.port_base \
            and not 1024 <= args.port_base <= 65535:
        ap.error("--port-base: 1024 to 65535")
    if args.mode == "server":
        serve(args.addr, args.port)
        return 0
    return Client(args).run()


if __name__ == "__main__":
    sys.exit(main())
