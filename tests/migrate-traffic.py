#!/usr/bin/python3
"""The traffic of a VM that migrates (tests/migrate.sh).

  migrate-traffic.py server HOST PORT
      An echo server: every line it reads it sends back.
  migrate-traffic.py stream HOST PORT FILE
      One long-lived connection: a numbered line every 50 ms, each echo
      checked.  Writes the number of lines echoed to FILE (atomically) as
      it goes; exits 1 at the first reset, timeout or wrong echo, with the
      reason in FILE.err.
  migrate-traffic.py later HOST PORT FILE
      A connection that says nothing until FILE.go exists (its flow stays
      in classification), then sends an HTTP request and reads it back
      (the echo server's): writes "open" to FILE once connected, then
      "done", or the reason it failed to FILE.err.
  migrate-traffic.py retry HOST PORT SPORT FILE
      A connection the policy drops, tried again and again from the same
      source port SPORT (so every try is the same 5-tuple): writes
      "TRIES CONNECTED" to FILE after each try.
  migrate-traffic.py udpsink HOST PORT FILE
      Receives datagrams "seq N ..." and writes the numbers, in the order
      they came, to FILE (atomically) after each.
  migrate-traffic.py udpseq HOST PORT SPORT N FILE
      From source port SPORT, datagrams 1 to N, 20 ms apart; once FILE.go
      exists, three more back to back; once FILE.go2 exists, N more back
      to back.  Writes the number sent so far to FILE.
"""
import os
import socket
import sys
import threading
import time


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def serve(host, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)

    def echo(c):
        with c:
            f = c.makefile("rb")
            for line in f:
                c.sendall(line)

    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def stream(host, port, path):
    s = socket.create_connection((host, port), timeout=5)
    f = s.makefile("rb")
    n = 0
    try:
        while True:
            n += 1
            want = b"line %d\n" % n
            s.sendall(want)
            got = f.readline()
            if got != want:
                raise RuntimeError("echo %r, wanted %r" % (got, want))
            write(path, "%d\n" % n)
            time.sleep(0.05)
    except Exception as e:  # noqa: BLE001 - the reason is the result
        write(path + ".err", "after %d lines: %s\n" % (n - 1, e))
        sys.exit(1)


def later(host, port, path):
    try:
        s = socket.create_connection((host, port), timeout=5)
        write(path, "open\n")
        while not os.path.exists(path + ".go"):
            time.sleep(0.05)
        req = b"GET /later HTTP/1.1\r\nHost: later.example\r\n\r\n"
        s.sendall(req)
        got = b""
        while len(got) < len(req):
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("closed after %d bytes" % len(got))
            got += chunk
        if got != req:
            raise RuntimeError("echo %r" % got)
        write(path, "done\n")
        time.sleep(3600)
    except Exception as e:  # noqa: BLE001 - the reason is the result
        write(path + ".err", "%s\n" % e)
        sys.exit(1)


def retry(host, port, sport, path):
    tries = connected = 0
    while True:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(0.3)
        tries += 1
        try:
            s.bind(("", sport))
            s.connect((host, port))
            connected += 1
        except OSError:
            pass
        finally:
            s.close()
        write(path, "%d %d\n" % (tries, connected))
        time.sleep(0.2)


def udpsink(host, port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    seen = []
    while True:
        data = s.recv(2048)
        words = data.split()
        seen.append(words[1].decode() if len(words) > 1 else "?")
        write(path, " ".join(seen) + "\n")


def udpseq(host, port, sport, n, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    # Payload no dissector of nDPI's knows: the flow stays in
    # classification (until its give-up budget, far off).
    pad = bytes(range(7, 120))
    for i in range(1, n + 1):
        s.sendto(b"seq %d " % i + pad, (host, port))
        write(path, "%d\n" % i)
        time.sleep(0.02)
    sent = n
    for go, count in ((".go", 3), (".go2", n)):
        while not os.path.exists(path + go):
            time.sleep(0.001)
        for i in range(sent + 1, sent + count + 1):
            s.sendto(b"seq %d " % i + pad, (host, port))
        sent += count
        write(path, "%d\n" % sent)
    time.sleep(3600)


def main():
    mode = sys.argv[1]
    if mode == "server":
        serve(sys.argv[2], int(sys.argv[3]))
    elif mode == "stream":
        stream(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "later":
        later(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "retry":
        retry(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif mode == "udpsink":
        udpsink(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "udpseq":
        udpseq(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
               int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
