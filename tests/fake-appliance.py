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
    return struct.pack('>BBHII', 1, t, 0, n, xid) + body


def hello(role):
    name = b'fake-appliance'
    return msg(1, struct.pack('>BBBBI', 1, 1, role, 0, os.getpid())
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
while True:
    try:
        if not s.recv(65536):
            time.sleep(3600)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        time.sleep(3600)
