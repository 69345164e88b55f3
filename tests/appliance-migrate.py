#!/usr/bin/python3
# Drives a real flowsteer-inspectord over its channel as flowsteerd would
# for a migration (tests/appliance-migrate.sh): IMPORT_BATCH, EXPORT,
# RELEASE, with records built here from the format in
# inspector/insp-record.h (an encoder independent of the library's).
# Prints "ok WHAT" or "FAIL WHAT" per check; exits 1 if any failed.
#
# Usage: appliance-migrate.py INSPECTORD [ARGS...]
import os
import socket
import struct
import subprocess
import sys
import time

HELLO, ERROR, RESULT, EVENT, RECORDS = 1, 2, 33, 34, 37
POLICY, EXPORT, IMPORT_BATCH, RELEASE = 18, 26, 27, 28
VERSION = 2
F_MORE = 1
PORT_ANY = 0xffffffff
EVENT_VERDICT, EVENT_FLOW_END = 0, 2
END_MIGRATED = 6
ACT_ALLOW, ACT_DROP = 1, 2

failed = 0


def check(what, cond):
    global failed
    print(('ok ' if cond else 'FAIL ') + what)
    if not cond:
        failed += 1


def msg(t, body, xid, flags=0):
    return struct.pack('>BBHII', VERSION, t, flags, 12 + len(body), xid) + body


def s_(text):
    text = text.encode()
    return struct.pack('>H', len(text)) + text


def mapped(a):
    return bytes(10) + b'\xff\xff' + bytes(a)


def key(src, dst, sport, dport, proto=6):
    """The channel's key item (40 bytes)."""
    return (mapped(src) + mapped(dst)
            + struct.pack('>HHHBB', sport, dport, 0, proto, 4))


def record(rid, src, dst, sport, dport, actions, port=1, rule='t:1'):
    """A version-2 record of a decided TCP flow, no TLVs."""
    rule = rule.encode()
    fixed = bytearray(180)
    struct.pack_into('>HBBHBB', fixed, 0, 0x4672, 2, 0, 180 + len(rule),
                     2, 1)                      # classified final, SYN seen
    struct.pack_into('>Q', fixed, 8, rid)
    fixed[16:32] = mapped(src)
    fixed[32:48] = mapped(dst)
    struct.pack_into('>HHHBB', fixed, 48, sport, dport, 0, 6, 4)
    struct.pack_into('>II', fixed, 56, port, 0)
    struct.pack_into('>HHH', fixed, 76, 7, 0, 5)        # HTTP, Web
    struct.pack_into('>IIi', fixed, 108, actions, 0, 100)
    struct.pack_into('>QQQQ', fixed, 120, 3, 200, 2, 300)
    struct.pack_into('>BBBB', fixed, 176, 0, 0, len(rule), 0)
    return bytes(fixed) + rule


def tlvs(rec):
    """A record's TLVs, type to value (the origin's as an integer)."""
    m, h, r = rec[176], rec[177], rec[178]
    off, out = 180 + m + h + r, {}
    while off + 4 <= len(rec):
        t, n = struct.unpack('>HH', rec[off:off + 4])
        v = rec[off + 4:off + 4 + n]
        out[t] = struct.unpack('>Q', v)[0] if t == 6 else v
        off += 4 + n
    return out


class Channel:
    def __init__(self, sock):
        self.s = sock
        self.events = []
        self.xid = 100

    def send(self, t, body, flags=0):
        self.xid += 1
        self.s.send(msg(t, body, self.xid, flags))
        return self.xid

    def recv(self, timeout=10):
        """The next message that is not an EVENT (kept in self.events),
        or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.s.settimeout(max(deadline - time.time(), 0.01))
            try:
                m = self.s.recv(1 << 18)
            except socket.timeout:
                return None
            if not m:
                return None
            if m[1] == EVENT:
                self.events.append(m)
                continue
            return m
        return None

    def until(self, xid, types):
        """Messages up to the one of 'types' answering 'xid'."""
        out = []
        while True:
            m = self.recv()
            if m is None:
                return out
            t, flags, _, mxid = struct.unpack('>BHII', m[1:12])
            if mxid != xid:
                continue
            out.append(m)
            if t in types and not (t == RECORDS and flags & F_MORE):
                return out


def result(m):
    code, value, value2 = struct.unpack('>iQQ', m[12:32])
    n = struct.unpack('>H', m[32:34])[0]
    return code, value, value2, m[34:34 + n].decode()


def export(ch, since=0, port=PORT_ANY):
    """(mark, [records]) of an EXPORT."""
    xid = ch.send(EXPORT, struct.pack('>IQI', port, since, 0))
    recs, mark = [], None
    for m in ch.until(xid, (RECORDS, ERROR)):
        if m[1] != RECORDS:
            continue
        mark, n = struct.unpack('>QH', m[12:22])
        off = 22
        for _ in range(n):
            length = struct.unpack('>H', m[off + 4:off + 6])[0]
            recs.append(m[off:off + length])
            off += length
    return mark, recs


def import_batch(ch, recs, port_map=()):
    body = struct.pack('>IH', 0, len(port_map))
    for a, b in port_map:
        body += struct.pack('>II', a, b)
    xid = ch.send(IMPORT_BATCH, body + b''.join(recs))
    ms = ch.until(xid, (RESULT, ERROR))
    return result(ms[-1]) if ms and ms[-1][1] == RESULT else None


def main():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    proc = subprocess.Popen([sys.argv[1], '--channel-fd=%d' % b.fileno()]
                            + sys.argv[2:], pass_fds=[b.fileno()])
    b.close()
    ch = Channel(a)
    m = ch.recv()
    check('the appliance says HELLO', m is not None and m[1] == HELLO)
    ch.send(HELLO, struct.pack('>BBBBI', VERSION, VERSION, 1, 0, os.getpid())
            + s_('appliance-migrate.py'))
    policy = b'priority=10, tcp, tp_dst=22, actions=drop\n' \
             b'priority=0, actions=allow\n'
    xid = ch.send(POLICY, struct.pack('>BII', 0, len(policy), 0)
                  + s_('policy') + policy)
    ms = ch.until(xid, (RESULT, ERROR))
    check('the policy is taken', ms and ms[-1][1] == RESULT
          and result(ms[-1])[0] == 0)

    # Three flows from another host: ids 11, 12, 13 there, port 9 there.
    recs = [record(11, [10, 0, 0, 1], [10, 0, 0, 2], 40001, 80, ACT_ALLOW, 9),
            record(12, [10, 0, 1, 1], [10, 0, 0, 2], 40002, 80, ACT_ALLOW, 9),
            record(13, [10, 0, 2, 1], [10, 0, 0, 2], 40003, 22, ACT_DROP, 9)]
    ch.events = []
    r = import_batch(ch, recs, port_map=[(9, 5)])
    check('a batch of 3 records is imported: %s' % (r,),
          r is not None and r[0] == 0 and r[1] == 3 and r[2] == 0)
    time.sleep(0.3)
    while ch.recv(timeout=0.2):
        pass
    verdicts = [e for e in ch.events if e[12] == EVENT_VERDICT]
    check('each comes up as a verdict event (%d)' % len(verdicts),
          len(verdicts) == 3)

    mark, out = export(ch)
    check('EXPORT gives the 3 back (%d)' % len(out), len(out) == 3)
    ids = sorted(struct.unpack('>Q', x[8:16])[0] for x in out)
    ports = {struct.unpack('>I', x[56:60])[0] for x in out}
    origins = sorted(tlvs(x).get(6, 0) for x in out)
    check('with ids of this appliance\'s own (%s), the exporter\'s kept as '
          'their origin (%s)' % (ids, origins),
          len(set(ids)) == 3 and max(ids) < 11 and origins == [11, 12, 13])
    check('on port 5, the map\'s (%s)' % ports, ports == {5})
    _, none = export(ch, since=mark)
    check('nothing changed since the mark (%d)' % len(none), len(none) == 0)

    # A batch with one bad record changes nothing.
    bad = bytearray(record(14, [10, 0, 3, 1], [10, 0, 0, 2], 40004, 80,
                           ACT_ALLOW))
    bad[2] = 9
    good = record(15, [10, 0, 4, 1], [10, 0, 0, 2], 40005, 80, ACT_ALLOW)
    r = import_batch(ch, [good, bytes(bad)])
    check('a batch with a bad record is refused: %s' % (r,),
          r is not None and r[0] == -22)
    _, out2 = export(ch)
    check('and nothing of it stays (%d flows)' % len(out2), len(out2) == 3)

    # Released: gone, reported as migrated.
    victim = out[0]
    vid = struct.unpack('>Q', victim[8:16])[0]
    vkey = victim[16:48] + victim[48:56]
    ch.events = []
    xid = ch.send(RELEASE, struct.pack('>Q', vid) + vkey)
    ms = ch.until(xid, (RESULT, ERROR))
    check('RELEASE of flow %d' % vid, ms and ms[-1][1] == RESULT
          and result(ms[-1])[0] == 0)
    time.sleep(0.2)
    while ch.recv(timeout=0.2):
        pass
    # The flow's end reason: after the event type, its id, key, ports,
    # state, guessed and pinned (dpdk-pmd/fs-chan.c's fs_chan_put_flow()).
    ends = [e for e in ch.events if e[12] == EVENT_FLOW_END]
    check('it ends as migrated', len(ends) == 1
          and ends[0][12 + 1 + 8 + 40 + 4 + 4 + 3] == END_MIGRATED)
    _, out3 = export(ch)
    check('EXPORT gives 2 now (%d)' % len(out3), len(out3) == 2)
    xid = ch.send(RELEASE, struct.pack('>Q', vid) + vkey)
    ms = ch.until(xid, (RESULT, ERROR))
    check('releasing it again: -ENOENT', ms and ms[-1][1] == RESULT
          and result(ms[-1])[0] == -2)

    # The same batch again: two updates (same flows there), one new.
    r = import_batch(ch, recs, port_map=[(9, 5)])
    check('the batch again: 3 live, no conflict: %s' % (r,),
          r is not None and r[0] == 0 and r[1] == 3 and r[2] == 0
          and '1 imported, 2 updated' in r[3])

    # Records whose lengths do not frame them: the channel is broken.
    xid = ch.send(IMPORT_BATCH, struct.pack('>IH', 0, 0) + good[:4]
                  + struct.pack('>H', 4000) + good[6:])
    code = proc.wait(timeout=10)
    check('a batch that does not frame its records: the appliance exits '
          '(status %d, "it was sent a bad message")' % code, code == 5)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
