#!/usr/bin/python3
# fake-appliance.py: a hostile inspector appliance for
# tests/appliance-hostile.sh.  flowsteerd starts it in place of
# flowsteer-inspectord (--inspectord), with the channel on the descriptor
# of --channel-fd.  It reads what flowsteerd sends and, as FAKE_MODE says,
# answers with what a compromised appliance might send:
#   garbage     bytes that are no message
#   hello       a HELLO that claims to be flowsteerd
#   echo        an answer to an echo flowsteerd never sent
#   daemon      a message only flowsteerd sends (ECHO_REQUEST)
#   long        a header that claims more bytes than the message has
#   silent      nothing at all (a hung appliance)
#   quiet       a healthy appliance (answers each echo with STATS that say
#               its port is open, and the answer) for FAKE_HEALTHY seconds
#               (default 3) from its first answer, then nothing at all
#   chatty      the same, then never an answer but a stream of harmless
#               messages (RESULTs), as if the answer were behind them
# quiet and chatty need FAKE_N_DP, the number of data path figures in
# STATS (fs-chan.h), and FAKE_PORT_OPEN, the index of port_open among them.
# It never exits by itself: flowsteerd must end it.
import os, socket, struct, sys, time

fd = 3
for a in sys.argv[1:]:
    if a.startswith('--channel-fd='):
        fd = int(a.split('=', 1)[1])
s = socket.socket(fileno=fd)
mode = os.environ.get('FAKE_MODE', 'silent')


def msg(t, body, xid=1, length=None):
    n = 12 + len(body) if length is None else length
    return struct.pack('>BBHII', 2, t, 0, n, xid) + body


def hello(role):
    name = b'fake-appliance'
    return msg(1, struct.pack('>BBBBI', 2, 2, role, 0, os.getpid())
               + struct.pack('>H', len(name)) + name)


s.setblocking(False)
time.sleep(0.2)
if mode == 'garbage':
    out = [bytes(range(7, 107))]
elif mode == 'hello':
    out = [hello(1)]                    # FS_CHAN_ROLE_DAEMON
elif mode == 'echo':
    out = [hello(2), msg(32, struct.pack('>Q', 987654321))]
elif mode == 'daemon':
    out = [hello(2), msg(3, struct.pack('>Q', 1))]
elif mode == 'long':
    out = [hello(2), msg(32, struct.pack('>Q', 1), length=4096)]
else:
    out = []
for m in out:
    try:
        s.send(m)
    except OSError:
        pass


def stats():
    n_dp = int(os.environ['FAKE_N_DP'])
    dp = [0] * n_dp
    dp[int(os.environ['FAKE_PORT_OPEN'])] = 1
    return msg(36, struct.pack('>H', 0) + struct.pack('>IIII', 0, 0, 16, 0)
               + struct.pack('>QQ', 0, 0)
               + b''.join(struct.pack('>Q', v) for v in dp)
               + struct.pack('>H', 0), xid=0)


def result():
    return msg(33, struct.pack('>iQQH', 0, 0, 0, 0), xid=0)


if mode in ('quiet', 'chatty'):
    s.setblocking(True)
    s.send(hello(2))
    healthy_until = None
    s.settimeout(0.005)
    while True:
        try:
            m = s.recv(65536)
            if not m:
                time.sleep(3600)
        except socket.timeout:
            m = None
        except OSError:
            time.sleep(3600)
        healthy = healthy_until is None or time.time() < healthy_until
        if m and len(m) >= 20 and m[1] == 3 and healthy:
            if healthy_until is None:
                healthy_until = (time.time()
                                 + float(os.environ.get('FAKE_HEALTHY', '3')))
            xid = struct.unpack('>I', m[8:12])[0]
            s.send(stats())
            s.send(msg(32, m[12:20], xid=xid))
        elif not healthy and mode == 'chatty':
            try:
                s.send(result())
            except OSError:
                pass
while True:
    try:
        if not s.recv(65536):
            time.sleep(3600)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        time.sleep(3600)
