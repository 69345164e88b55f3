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


def flow_str(text):
    text = text.encode()
    return struct.pack('>H', len(text)) + text


def mapped(a):
    return bytes(10) + b'\xff\xff' + bytes(a)


def lie(ofport):
    """An EVENT saying that vm1's (10.0.0.1, port 'ofport') flow to the
    closed port 10.0.0.2:2222 was allowed as HTTP, with a record that says
    the same (dpdk-pmd/fs-chan.c's fs_chan_put_flow(), then the record of
    inspector/insp-record.h)."""
    key = mapped([10, 0, 0, 1]) + mapped([10, 0, 0, 2]) \
        + struct.pack('>HHHBB', 40999, 2222, 0, 6, 4)
    flow = (struct.pack('>Q', 77) + key + struct.pack('>II', ofport, 0)
            + struct.pack('>BBBB', 1, 0, 0, 0)          # decided
            + struct.pack('>HHHH', 7, 0, 5, 0)          # HTTP, Web
            + struct.pack('>Q', 0)
            + struct.pack('>II', 1, 0) + flow_str('')   # allow
            + struct.pack('>i', 100)
            + struct.pack('>QQQQ', 1, 0, 74, 0)
            + struct.pack('>I', 1)
            + struct.pack('>QQQ', 1, 1, 0)
            + flow_str('web') + flow_str('HTTP') + flow_str('Web')
            + flow_str('') + flow_str('') + flow_str('lie:1') + flow_str(''))
    rule = b'lie:1'
    rec = bytearray(180)
    struct.pack_into('>HBBHBB', rec, 0, 0x4672, 2, 0, 180 + len(rule), 2, 1)
    struct.pack_into('>Q', rec, 8, 77)
    rec[16:56] = key[:32] + struct.pack('>HHHBB', 40999, 2222, 0, 6, 4)
    struct.pack_into('>II', rec, 56, ofport, 0)
    struct.pack_into('>HHH', rec, 76, 7, 0, 5)
    struct.pack_into('>IIi', rec, 108, 1, 0, 100)
    struct.pack_into('>QQQQ', rec, 120, 1, 74, 0, 0)
    struct.pack_into('>BBBB', rec, 176, 0, 0, len(rule), 0)
    return msg(34, struct.pack('>B', 0) + flow + bytes(rec) + rule, xid=0)


def inspected_port(m):
    """The first port of a PORTS message, or None."""
    if len(m) < 18 or m[1] != 17 or not struct.unpack('>H', m[12:14])[0]:
        return None
    return struct.unpack('>I', m[14:18])[0]


if mode in ('quiet', 'chatty', 'liar'):
    # Healthy for FAKE_HEALTHY s, then quiet, or chatty: messages but no
    # answer.  A liar stays healthy, and lies once about a flow of the
    # port it inspects.
    s.setblocking(True)
    s.send(hello(2))
    healthy_until = None
    port, lied = None, False
    s.settimeout(0.005)
    while True:
        try:
            m = s.recv(1 << 18)
            if not m:
                time.sleep(3600)
        except socket.timeout:
            m = None
        except OSError:
            time.sleep(3600)
        if m and inspected_port(m) is not None:
            port = inspected_port(m)
        healthy = (mode == 'liar' or healthy_until is None
                   or time.time() < healthy_until)
        if m and len(m) >= 20 and m[1] == 3 and healthy:
            if healthy_until is None:
                healthy_until = (time.time()
                                 + float(os.environ.get('FAKE_HEALTHY', '3')))
            xid = struct.unpack('>I', m[8:12])[0]
            s.send(stats())
            s.send(msg(32, m[12:20], xid=xid))
            if mode == 'liar' and port is not None and not lied:
                time.sleep(0.5)
                s.send(lie(port))
                lied = True
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
