/*
 * Packets and event recording for the inspector's unit tests (included by
 * each test program; everything is static).
 */
#ifndef TEST_PACKETS_H
#define TEST_PACKETS_H 1

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsteer/inspector.h"
#include "test-util.h"

#define SEC 1000000000ULL

/* ---------------------------------------------------------------------- */
/* Packet building. */

struct pkt {
    uint8_t data[1600];
    uint32_t len;
};

static inline uint16_t
csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;

    for (; n > 1; p += 2, n -= 2) {
        s += p[0] << 8 | p[1];
    }
    if (n) {
        s += p[0] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return ~s;
}

/* Writes a 20-byte IPv4 header from 10.0.0.'a' to 10.0.0.'b' at 'ip'. */
static inline void
put_ip4(uint8_t *ip, uint8_t proto, uint8_t a, uint8_t b, size_t total_len,
        uint16_t id, uint16_t frag)
{
    uint16_t c;

    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = total_len >> 8, ip[3] = total_len & 0xff;
    ip[4] = id >> 8, ip[5] = id & 0xff;
    ip[6] = frag >> 8, ip[7] = frag & 0xff;
    ip[8] = 64;
    ip[9] = proto;
    ip[12] = 10, ip[15] = a;
    ip[16] = 10, ip[19] = b;
    c = csum(ip, 20);
    ip[10] = c >> 8, ip[11] = c & 0xff;
}

/* The sequence numbers a real TCP connection would have: the next one of
 * each direction of each 4-tuple that build() made a segment of. */
struct tcp_seq_slot {
    uint8_t a, b;
    uint16_t sport, dport;
    uint32_t next;
};

static inline void
put_be32_at(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static inline uint32_t *
tcp_next_seq(uint8_t a, uint16_t sport, uint8_t b, uint16_t dport)
{
    static struct tcp_seq_slot slots[1024];
    static size_t n_slots;
    size_t i;

    for (i = 0; i < n_slots; i++) {
        struct tcp_seq_slot *t = &slots[i];

        if (t->a == a && t->b == b && t->sport == sport
            && t->dport == dport) {
            return &t->next;
        }
    }
    i = n_slots < sizeof slots / sizeof *slots ? n_slots++ : 0;
    slots[i] = (struct tcp_seq_slot) { a, b, sport, dport,
                                       1000 + 7919 * (uint32_t) i };
    return &slots[i].next;
}

/* Builds Ethernet (with 'vlan' if nonzero) + IPv4 + TCP/UDP from
 * 10.0.0.'a':sport to 10.0.0.'b':dport carrying 'payload'.  TCP segments
 * carry the sequence and acknowledgement numbers of a real connection: a
 * SYN without ACK starts one (a new initial number), and each segment
 * follows the last one built in its direction. */
static inline void
build(struct pkt *k, uint8_t proto, uint8_t a, uint16_t sport, uint8_t b,
      uint16_t dport, uint8_t tcp_flags, const char *payload, uint16_t vlan)
{
    size_t plen = payload ? strlen(payload) : 0;
    size_t l4len = proto == 6 ? 20 : 8;
    uint8_t *p = k->data;
    uint8_t *ip;
    size_t off = 12;

    memset(k, 0, sizeof *k);
    p[0] = 0x02, p[5] = b;                      /* dst MAC */
    p[6] = 0x02, p[11] = a;                     /* src MAC */
    if (vlan) {
        p[12] = 0x81, p[13] = 0x00;
        p[14] = vlan >> 8, p[15] = vlan & 0xff;
        off = 16;
    }
    p[off] = 0x08, p[off + 1] = 0x00;
    ip = p + off + 2;
    put_ip4(ip, proto, a, b, 20 + l4len + plen, 0, 0);
    uint8_t *l4 = ip + 20;
    l4[0] = sport >> 8, l4[1] = sport & 0xff;
    l4[2] = dport >> 8, l4[3] = dport & 0xff;
    if (proto == 6) {
        uint32_t *mine = tcp_next_seq(a, sport, b, dport);
        uint32_t ack = *tcp_next_seq(b, dport, a, sport);

        if ((tcp_flags & 0x12) == 0x02) {
            *mine += 1000003;   /* SYN: a new connection, a new ISN. */
        }
        put_be32_at(l4 + 4, *mine);
        put_be32_at(l4 + 8, tcp_flags & 0x10 ? ack : 0);
        *mine += (uint32_t) plen + !!(tcp_flags & 0x02) + !!(tcp_flags & 0x01);
        l4[12] = 5 << 4;
        l4[13] = tcp_flags;
        l4[14] = 0xff, l4[15] = 0xff;
    } else {
        l4[4] = (8 + plen) >> 8, l4[5] = (8 + plen) & 0xff;
    }
    memcpy(l4 + l4len, payload ? payload : "", plen);
    k->len = (uint32_t) (ip - p + 20 + l4len + plen);
}

static inline int
send(struct fs_inspector *insp, const struct pkt *k, uint64_t ts,
     uint32_t port)
{
    struct fs_packet pkt = {
        .data = k->data, .caplen = k->len, .len = k->len, .ts_ns = ts,
        .port = port, .link_type = FS_LINK_ETHERNET,
    };
    return fs_inspector_process(insp, &pkt);
}

static inline int
send_udp(struct fs_inspector *insp, uint8_t a, uint16_t sport, uint8_t b,
         uint16_t dport, const char *payload, uint64_t ts)
{
    struct pkt k;

    build(&k, 17, a, sport, b, dport, 0, payload, 0);
    return send(insp, &k, ts, 1);
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08

/* Sends a TCP handshake and an HTTP request from 10.0.0.1:'sport' to
 * 10.0.0.2:80 and the server's response; returns the action for the last
 * packet. */
static inline int
http_flow(struct fs_inspector *insp, uint16_t sport, uint64_t ts,
          uint32_t port)
{
    struct pkt k;

    build(&k, 6, 1, sport, 2, 80, SYN, NULL, 0);
    send(insp, &k, ts, port);
    build(&k, 6, 2, 80, 1, sport, SYN | ACK, NULL, 0);
    send(insp, &k, ts + 1000, port);
    build(&k, 6, 1, sport, 2, 80, ACK, NULL, 0);
    send(insp, &k, ts + 2000, port);
    build(&k, 6, 1, sport, 2, 80, ACK | PSH,
          "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
          "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", 0);
    send(insp, &k, ts + 3000, port);
    build(&k, 6, 2, 80, 1, sport, ACK | PSH,
          "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
          "Content-Length: 5\r\n\r\nhello", 0);
    return send(insp, &k, ts + 4000, port);
}

/* Writes a 20-byte TCP header at 'p' (checksum 0). */
static inline void
put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags,
        uint32_t seq)
{
    memset(p, 0, 20);
    p[0] = sport >> 8, p[1] = sport & 0xff;
    p[2] = dport >> 8, p[3] = dport & 0xff;
    p[4] = seq >> 24, p[5] = seq >> 16, p[6] = seq >> 8, p[7] = seq;
    p[12] = 5 << 4;
    p[13] = flags;
    p[14] = 0xff, p[15] = 0xff;
}

/* Builds Ethernet + IPv4 from 10.0.0.'a' to 10.0.0.'b', protocol 'proto',
 * IP id 'id', fragment offset 'off' (bytes, a multiple of 8) and the
 * more-fragments flag 'mf', carrying the 'n' bytes at 'data' (the
 * datagram's bytes from 'off'). */
static inline void
build_ip4(struct pkt *k, uint8_t proto, uint8_t a, uint8_t b, uint16_t id,
          uint16_t off, int mf, const uint8_t *data, size_t n)
{
    uint8_t *p = k->data, *ip = p + 14;
    uint16_t frag = (off / 8) | (mf ? 0x2000 : 0);

    memset(k, 0, sizeof *k);
    p[0] = 0x02, p[5] = b;
    p[6] = 0x02, p[11] = a;
    p[12] = 0x08, p[13] = 0x00;
    put_ip4(ip, proto, a, b, 20 + n, id, frag);
    memcpy(ip + 20, data, n);
    k->len = 14 + 20 + n;
}

/* Builds Ethernet + IPv6 from fd00::'a' to fd00::'b' with 'n_dstopts'
 * Destination Options headers (8 bytes each) before a TCP header. */
static inline void
build_ip6_dstopts(struct pkt *k, uint8_t a, uint8_t b, int n_dstopts,
                  uint16_t sport, uint16_t dport, uint8_t flags)
{
    uint8_t *p = k->data, *ip = p + 14, *x;
    size_t plen = n_dstopts * 8 + 20;
    int i;

    memset(k, 0, sizeof *k);
    p[0] = 0x02, p[5] = b;
    p[6] = 0x02, p[11] = a;
    p[12] = 0x86, p[13] = 0xdd;
    ip[0] = 0x60;
    ip[4] = plen >> 8, ip[5] = plen & 0xff;
    ip[6] = n_dstopts ? 60 : 6;
    ip[7] = 64;
    ip[8] = 0xfd, ip[23] = a;
    ip[24] = 0xfd, ip[39] = b;
    x = ip + 40;
    for (i = 0; i < n_dstopts; i++, x += 8) {
        x[0] = i + 1 < n_dstopts ? 60 : 6;
        x[1] = 0;               /* 8 bytes. */
        x[2] = 1, x[3] = 4;     /* PadN, 4 bytes. */
    }
    put_tcp(x, sport, dport, flags, 1);
    k->len = 14 + 40 + plen;
}

/* Inserts 'n' 802.1Q tags (VIDs 1, 2, ...) after the MAC addresses. */
static inline void
push_tags(struct pkt *k, int n)
{
    int i;

    memmove(k->data + 12 + 4 * n, k->data + 12, k->len - 12);
    for (i = 0; i < n; i++) {
        uint8_t *t = k->data + 12 + 4 * i;

        t[0] = 0x81, t[1] = 0x00, t[2] = 0, t[3] = i + 1;
    }
    k->len += 4 * n;
}

/* ---------------------------------------------------------------------- */
/* Event recording. */

struct events {
    int verdicts, changed, ends;
    char last_app[64], last_host[128], last_rule[128];
    uint32_t last_actions, old_actions;
    uint64_t last_packets[2];
};

static inline void
record(void *aux, enum fs_event_type type, const struct fs_flow_info *f,
       const struct fs_verdict *old)
{
    struct events *ev = aux;

    switch (type) {
    case FS_EVENT_VERDICT:
        ev->verdicts++;
        break;
    case FS_EVENT_VERDICT_CHANGED:
        ev->changed++;
        ev->old_actions = old ? old->actions : 0;
        break;
    case FS_EVENT_FLOW_END:
        ev->ends++;
        break;
    case FS_EVENT_REINSPECT:
        break;
    }
    snprintf(ev->last_app, sizeof ev->last_app, "%s", f->app);
    snprintf(ev->last_host, sizeof ev->last_host, "%s", f->host);
    snprintf(ev->last_rule, sizeof ev->last_rule, "%s", f->rule);
    ev->last_actions = f->verdict.actions;
    memcpy(ev->last_packets, f->packets, sizeof ev->last_packets);
}

static inline struct fs_inspector *
make(struct fs_inspector_opts *opts, struct events *ev, const char *policy)
{
    struct fs_inspector *insp = NULL;
    char err[256];
    int error;

    memset(ev, 0, sizeof *ev);
    opts->event_cb = record;
    opts->event_aux = ev;
    error = fs_inspector_create(opts, &insp);
    CHECK_INT(error, 0);
    if (error) {
        exit(1);
    }
    if (policy) {
        error = fs_inspector_set_policy(insp, "t", policy, NULL, err,
                                        sizeof err);
        if (error) {
            fprintf(stderr, "policy: %s\n", err);
        }
        CHECK_INT(error, 0);
    }
    return insp;
}

#define CTR(INSP, NAME) fs_inspector_counter(INSP, FS_CTR_##NAME)

#endif /* TEST_PACKETS_H */
