/*
 * Regression tests for crashes inside nDPI that the adapter
 * (inspector/insp-ndpi.c) works around.  Each case is a packet sequence
 * that killed the process holding the inspector with Debian's libndpi 4.2,
 * fed through the public API to a fresh inspector; without the workaround
 * the test dies of SIGSEGV in libndpi.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "flowsteer/inspector.h"
#include "test-packets.h"
#include "test-util.h"

/* ---------------------------------------------------------------------- */
/* A BitTorrent flow that nDPI detects after 8 packets with payload.
 *
 * nDPI's TCP BitTorrent dissector tries its handshake test on a flow's
 * first packet with payload, and again after each one-byte packet holding
 * 0x13 (the handshake's first byte).  Detected without a peer hash, the
 * flow gets an extra dissector, search_bittorrent_again(), which calls
 * ndpi_skip_bittorrent() once the flow has had more than 8 packets with
 * payload; that reads 'packet->tcp->source' without checking 'packet->tcp'
 * (protocols/bittorrent.c:482), and nDPI leaves it NULL for a packet whose
 * TCP header it does not find. */

#define BT_SPORT 50000
#define BT_DPORT 6881

static const char bt_handshake[] = "\x13" "BitTorrent protocol";

/* Writes into '*k' raw IPv6 from 2001:db8::1 to 2001:db8::2: if 'ah', an
 * Authentication Header (12 bytes) first, then TCP with PSH and 'n' bytes
 * of 'payload'. */
static void
build_ip6_tcp(struct pkt *k, int ah, const void *payload, size_t n)
{
    uint8_t *ip = k->data, *l4 = ip + 40;
    size_t plen = (ah ? 12 : 0) + 20 + n;

    memset(k, 0, sizeof *k);
    ip[0] = 0x60;
    ip[4] = plen >> 8, ip[5] = plen & 0xff;
    ip[6] = ah ? 51 : 6;
    ip[7] = 64;
    ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = 1;
    ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8, ip[39] = 2;
    if (ah) {
        l4[0] = 6;              /* Next header: TCP. */
        l4[1] = 1;              /* (1 + 2) * 4 = 12 bytes. */
        l4[7] = 1;              /* SPI 1. */
        l4 += 12;
    }
    put_tcp(l4, BT_SPORT, BT_DPORT, PSH, 1);
    if (n) {
        memcpy(l4 + 20, payload, n);    /* ('payload' may be NULL.) */
    }
    k->len = 40 + plen;
}

static int
send_link(struct fs_inspector *insp, const struct pkt *k, uint64_t ts,
          int link_type)
{
    struct fs_packet pkt = {
        .data = k->data, .caplen = k->len, .len = k->len, .ts_ns = ts,
        .port = 1, .link_type = link_type,
    };
    return fs_inspector_process(insp, &pkt);
}

/* Sends the 9 packets (of link type 'link_type', made by 'build') that get
 * a flow detected as BitTorrent with nDPI's extra dissection on and more
 * than 8 packets with payload.  Returns the time of the last. */
static uint64_t
bittorrent_9(struct fs_inspector *insp,
             void (*build)(struct pkt *, const void *, size_t),
             int link_type)
{
    uint64_t ts = SEC;
    struct pkt k;
    int i;

    for (i = 0; i < 8; i++) {
        build(&k, "\x13", 1);
        CHECK_INT(send_link(insp, &k, ts += 1000, link_type), FS_PKT_PASS);
    }
    build(&k, bt_handshake, sizeof bt_handshake); /* 21 bytes. */
    CHECK_INT(send_link(insp, &k, ts += 1000, link_type), FS_PKT_PASS);
    return ts;
}

static void
build_v6(struct pkt *k, const void *payload, size_t n)
{
    build_ip6_tcp(k, 0, payload, n);
}

/* Our parser follows IPv6 AH to the TCP header; nDPI 4.2 does not (it
 * knows hop-by-hop, routing, fragment, destination options and mobility
 * headers only), so the packet has no TCP header for nDPI.  No exception
 * class covers it: a VM can send it to any inspector. */
static void
test_bittorrent_ipv6_ah(void)
{
    /* As flowsteer-inspect runs it: every flow classified to the end. */
    FS_INSPECTOR_OPTS(opts, .classify_all = 1);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);
    uint64_t ts;
    struct pkt k;

    ts = bittorrent_9(insp, build_v6, FS_LINK_RAW);
    build_ip6_tcp(&k, 1, NULL, 0);
    CHECK_INT(send_link(insp, &k, ts += 1000, FS_LINK_RAW), FS_PKT_PASS);
    /* It was judged with its flow, and the flow goes on. */
    CHECK_INT(CTR(insp, FLOWS_CREATED), 1);
    build_v6(&k, "\x13", 1);
    CHECK_INT(send_link(insp, &k, ts += 1000, FS_LINK_RAW), FS_PKT_PASS);

    CHECK_INT(fs_inspector_flush(insp), 1);
    CHECK_STR(ev.last_app, "BitTorrent");
    CHECK_INT(ev.last_packets[0], 11);
    fs_inspector_destroy(insp);
}

/* Writes into '*k' Ethernet + IPv4 from 10.0.0.1 to 10.0.0.2, TCP with PSH
 * and the 'n' bytes at 'payload'. */
static void
build_v4(struct pkt *k, const void *payload, size_t n)
{
    uint8_t *ip = k->data + 14;

    memset(k, 0, sizeof *k);
    k->data[0] = 0x02, k->data[5] = 2;
    k->data[6] = 0x02, k->data[11] = 1;
    k->data[12] = 0x08;
    put_ip4(ip, 6, 1, 2, 20 + 20 + n, 0, 0);
    put_tcp(ip + 20, BT_SPORT, BT_DPORT, PSH, 1);
    if (n) {
        memcpy(ip + 40, payload, n);    /* ('payload' may be NULL.) */
    }
    k->len = 14 + 40 + n;
}

/* A TCP header whose data offset (24 bytes) runs past the packet (20):
 * nDPI takes it for no TCP header.  Our parser flags it (tcp_doff) and,
 * where that exception class is let through, judges it with its flow. */
static void
test_bittorrent_tcp_doff(void)
{
    /* As flowsteerd runs it: a rule on the host name keeps a detected flow
     * in classification while nDPI may still find one. */
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "priority=10, "
                                     "host=*.example.com, actions=drop\n");
    uint64_t ts;
    struct pkt k;

    CHECK_INT(fs_inspector_set_exception(insp, FS_EXC_TCP_DOFF,
                                         FS_EXC_ACTION_ALLOW), 0);
    ts = bittorrent_9(insp, build_v4, FS_LINK_ETHERNET);
    build_v4(&k, NULL, 0);
    k.data[14 + 20 + 12] = 6 << 4;
    CHECK_INT(send_link(insp, &k, ts += 1000, FS_LINK_ETHERNET), FS_PKT_PASS);
    CHECK_INT(CTR(insp, ERR_TCP_DOFF), 1);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 1);

    CHECK_INT(fs_inspector_flush(insp), 1);
    CHECK_STR(ev.last_app, "BitTorrent");
    CHECK_INT(ev.last_packets[0], 10);
    fs_inspector_destroy(insp);
}

int
main(void)
{
    RUN_TEST(test_bittorrent_ipv6_ah);
    RUN_TEST(test_bittorrent_tcp_doff);
    return test_exit_status();
}
