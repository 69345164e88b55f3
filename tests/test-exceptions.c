/*
 * Unit tests of the inspector's exception classes: every packet that
 * cannot be judged with a flow gets its class's action (drop by default),
 * fragments follow their first fragment's verdict or are orphans, IPv6
 * extension-header chains are followed, and the actions can be set by the
 * embedder, by spec strings and by the policy's 'exception=' lines.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsteer/inspector.h"
#include "test-packets.h"
#include "test-util.h"

/* Drops TCP to port 80, allows the rest. */
static const char *const policy_drop_80 =
    "priority=100, tcp, tp_dst=80, actions=drop\n"
    "priority=100, tcp6, tp_dst=80, actions=drop\n"
    "priority=0, actions=allow\n";

static int n_alerts;

static void
count_alerts(void *aux, enum fs_log_level level, const char *msg)
{
    (void) aux;
    if (level == FS_LOG_WARN && strstr(msg, "exception ")) {
        n_alerts++;
    }
}

static struct fs_inspector *
make_drop_80(struct events *ev)
{
    FS_INSPECTOR_OPTS(opts, .log_cb = count_alerts);

    n_alerts = 0;
    return make(&opts, ev, policy_drop_80);
}

/* A TCP SYN from 10.0.0.1:'sport' to 10.0.0.2:'dport' split after 'first'
 * bytes of TCP header: the first fragment, then the second. */
static void
syn_fragments(struct pkt *f1, struct pkt *f2, uint16_t sport,
              uint16_t dport, uint16_t id, size_t first)
{
    uint8_t tcp[40];

    memset(tcp, 0, sizeof tcp);
    put_tcp(tcp, sport, dport, SYN, 7);
    tcp[12] = 10 << 4;          /* 40 bytes: 20 of options (NOPs). */
    memset(tcp + 20, 1, 20);
    build_ip4(f1, 6, 1, 2, id, 0, 1, tcp, first);
    build_ip4(f2, 6, 1, 2, id, first, 0, tcp + first, sizeof tcp - first);
}

static void
test_unparseable_dropped_by_default(void)
{
    struct events ev;
    struct fs_inspector *insp = make_drop_80(&ev);
    struct pkt k;
    int before;

    /* Short TCP header: IP total length ends 8 bytes into it. */
    build(&k, 6, 1, 40000, 2, 443, SYN, NULL, 0);
    k.data[14 + 3] = 28;
    k.len = 14 + 28;
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_TRUNCATED_TCP), 1);

    /* IHL 4. */
    build(&k, 6, 1, 40000, 2, 443, SYN, NULL, 0);
    k.data[14] = 0x44;
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_IPV4_IHL), 1);

    /* An IPv6 header behind the IPv4 ethertype. */
    build_ip6_dstopts(&k, 1, 2, 0, 40000, 443, SYN);
    k.data[12] = 0x08, k.data[13] = 0x00;
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_IP_VERSION), 1);

    /* Three VLAN tags (the parser follows two). */
    build(&k, 6, 1, 40000, 2, 443, SYN, NULL, 0);
    push_tags(&k, 3);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_VLAN_DEPTH), 1);
    build(&k, 6, 1, 40000, 2, 443, SYN, NULL, 0);
    push_tags(&k, 2);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_PASS);

    /* TCP data offset 4: the packet has ports, yet it is dropped. */
    build(&k, 6, 1, 40001, 2, 443, SYN, NULL, 0);
    k.data[14 + 20 + 12] = 4 << 4;
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_TCP_DOFF), 1);

    /* Non-IP (ARP) passes by default: not the inspector's to judge. */
    build(&k, 6, 1, 40000, 2, 443, SYN, NULL, 0);
    k.data[12] = 0x08, k.data[13] = 0x06;
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_PASS);
    CHECK_INT(CTR(insp, NON_IP), 1);

    CHECK_INT(CTR(insp, EXCEPTIONS_DROPPED), 5);
    CHECK_INT(CTR(insp, EXCEPTIONS_PASSED), 1);
    before = n_alerts;
    CHECK_INT(before, 0);
    fs_inspector_destroy(insp);
}

static void
test_fragments(void)
{
    struct events ev;
    struct fs_inspector *insp = make_drop_80(&ev);
    struct pkt f1, f2;

    /* A SYN whose first fragment has only 8 bytes of TCP header: neither
     * fragment passes (the second is an orphan). */
    syn_fragments(&f1, &f2, 40000, 80, 1, 8);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_DROP);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_FRAG_TINY), 1);
    CHECK_INT(CTR(insp, ERR_FRAG_ORPHAN), 1);

    /* Split after the whole TCP header: judged, dropped by the policy;
     * the later fragment follows the first's verdict. */
    syn_fragments(&f1, &f2, 40001, 80, 2, 40);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_DROP);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_FRAG_TINY), 1);

    /* To an allowed port: both pass. */
    syn_fragments(&f1, &f2, 40002, 443, 3, 40);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_PASS);

    /* Out of order: the later fragment first is an orphan; its first
     * fragment, to an allowed port, still passes. */
    syn_fragments(&f1, &f2, 40003, 443, 4, 40);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_FRAG_ORPHAN), 2);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);

    /* Overlap: an allowed first fragment, then another first fragment of
     * the same datagram that rewrites the ports to 80. */
    syn_fragments(&f1, &f2, 40004, 443, 5, 40);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);
    syn_fragments(&f1, &f2, 40004, 80, 5, 40);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_FRAG_OVERLAP), 1);

    /* A datagram is forgotten once complete: a fragment of the same id
     * afterwards is an orphan, as it is to the receiver. */
    syn_fragments(&f1, &f2, 40005, 443, 6, 40);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_PASS);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_FRAG_ORPHAN), 3);

    /* ...and so is one that has timed out. */
    syn_fragments(&f1, &f2, 40006, 443, 7, 40);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);
    CHECK_INT(send(insp, &f2, 10 * SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_FRAG_ORPHAN), 4);
    fs_inspector_destroy(insp);
}

static void
test_fragment_table_full(void)
{
    struct events ev;
    struct fs_inspector *insp = make_drop_80(&ev);
    uint8_t data[64];
    struct pkt f;
    int i, dropped = 0;

    /* First fragments of 20,000 datagrams that never complete: the table
     * holds a few thousand, then new ones are dropped, not tracked. */
    memset(data, 0, sizeof data);
    for (i = 0; i < 20000; i++) {
        put_tcp(data, 1024 + i % 50000, 443, SYN, 1);
        build_ip4(&f, 6, 1, 2, i, 0, 1, data, 24);
        dropped += send(insp, &f, SEC, 1) == FS_PKT_DROP;
    }
    CHECK(CTR(insp, ERR_FRAG_TABLE_FULL) > 10000);
    CHECK_INT(dropped, CTR(insp, ERR_FRAG_TABLE_FULL));

    /* A datagram in more than 16 pieces that arrive out of order leaves
     * too many gaps to track. */
    fs_inspector_destroy(insp);
    insp = make_drop_80(&ev);
    put_tcp(data, 5000, 443, SYN, 1);
    build_ip4(&f, 6, 1, 2, 9, 0, 1, data, 24);
    CHECK_INT(send(insp, &f, SEC, 1), FS_PKT_PASS);
    for (i = 0; i < 20; i++) {
        build_ip4(&f, 6, 1, 2, 9, 64 + i * 16, 1, data, 8);
        send(insp, &f, SEC, 1);
    }
    CHECK_INT(CTR(insp, ERR_FRAG_TABLE_FULL), 20 - 15);
    fs_inspector_destroy(insp);
}

static void
test_ipv6_extension_chains(void)
{
    struct events ev;
    struct fs_inspector *insp = make_drop_80(&ev);
    struct pkt k;

    /* 2 and 9 Destination Options headers: judged with their flow. */
    build_ip6_dstopts(&k, 1, 2, 2, 40000, 80, SYN);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    build_ip6_dstopts(&k, 1, 2, 2, 40000, 443, SYN);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_PASS);
    build_ip6_dstopts(&k, 1, 2, 9, 40001, 80, SYN);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    build_ip6_dstopts(&k, 1, 2, 9, 40001, 443, SYN);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_PASS);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 4);
    CHECK_INT(CTR(insp, EXCEPTIONS_DROPPED), 0);

    /* 70: more than the parser follows. */
    build_ip6_dstopts(&k, 1, 2, 70, 40002, 443, SYN);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_IPV6_EXT_CHAIN), 1);
    fs_inspector_destroy(insp);
}

static void
test_actions_set_and_policy(void)
{
    struct events ev;
    struct fs_inspector *insp = make_drop_80(&ev);
    struct pkt f1, f2, k;
    char err[128];

    /* alert: forwarded and reported, but a later fragment whose flow is
     * known is still judged with it. */
    CHECK_INT(fs_inspector_set_exception(insp, -1, FS_EXC_ACTION_ALERT), 0);
    syn_fragments(&f1, &f2, 40000, 80, 1, 8);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_PASS);
    CHECK_INT(n_alerts, 2);
    build(&k, 6, 1, 40001, 2, 80, SYN, NULL, 0);
    k.data[14 + 20 + 12] = 4 << 4;      /* tcp_doff, to port 80. */
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(n_alerts, 3);

    /* allow: forwarded, not reported. */
    CHECK_INT(fs_inspector_set_exception(insp, FS_EXC_FRAG_TINY,
                                         FS_EXC_ACTION_ALLOW), 0);
    syn_fragments(&f1, &f2, 40002, 80, 2, 8);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_PASS);
    CHECK_INT(n_alerts, 3);
    CHECK_INT(fs_inspector_get_exception(insp, FS_EXC_FRAG_TINY),
              FS_EXC_ACTION_ALLOW);

    /* The policy's lines win for the classes they name. */
    CHECK_INT(fs_inspector_set_policy(insp, "p",
                                      "exception=frag_tiny, actions=drop\n"
                                      "exception=*, actions=allow\n"
                                      "priority=1, actions=allow\n",
                                      NULL, err, sizeof err), 0);
    CHECK_INT(fs_inspector_get_exception(insp, FS_EXC_FRAG_TINY),
              FS_EXC_ACTION_DROP);
    CHECK_INT(fs_inspector_get_exception(insp, FS_EXC_FRAG_ORPHAN),
              FS_EXC_ACTION_ALLOW);
    syn_fragments(&f1, &f2, 40003, 443, 3, 8);
    CHECK_INT(send(insp, &f1, SEC, 1), FS_PKT_DROP);
    CHECK_INT(send(insp, &f2, SEC, 1), FS_PKT_PASS);

    /* Bad values. */
    CHECK_INT(fs_inspector_set_exception(insp, FS_N_EXCEPTIONS,
                                         FS_EXC_ACTION_DROP), -EINVAL);
    CHECK_INT(fs_inspector_set_exception(insp, 0, 7), -EINVAL);
    CHECK_INT(fs_inspector_set_policy(insp, "p", "exception=nope, "
                                      "actions=drop\n", NULL, err,
                                      sizeof err), -EINVAL);
    CHECK_STR(err, "p:1:11: unknown exception class 'nope'");
    CHECK_INT(fs_inspector_set_policy(insp, "p", "exception=frag_tiny, "
                                      "actions=log\n", NULL, err,
                                      sizeof err), -EINVAL);
    CHECK_STR(err, "p:1:30: bad exception action 'log' (expected drop, "
              "alert or allow)");
    CHECK_INT(fs_inspector_set_policy(insp, "p",
                                      "exception=frag_tiny, actions=drop\n"
                                      "exception=frag_tiny, actions=allow\n",
                                      NULL, err, sizeof err), -EINVAL);
    CHECK_STR(err, "p:2:11: duplicate exception line for 'frag_tiny'");
    CHECK_INT(fs_inspector_set_policy(insp, "p", "exception=frag_tiny, "
                                      "tcp, actions=drop\n", NULL, err,
                                      sizeof err), -EINVAL);
    CHECK_STR(err, "p:1:22: an exception line has only 'exception=' and "
              "'actions='");
    /* The policy in use stays. */
    CHECK_INT(fs_inspector_get_exception(insp, FS_EXC_FRAG_TINY),
              FS_EXC_ACTION_DROP);
    fs_inspector_destroy(insp);
}

static void
test_spec_parsing(void)
{
    uint8_t a[FS_N_EXCEPTIONS];
    char err[128];
    int e;

    memset(a, FS_EXC_ACTION_ALERT, sizeof a);
    CHECK_INT(fs_exception_parse("drop,frag_orphan=allow,non_ip=alert", a,
                                 err, sizeof err), 0);
    CHECK_INT(a[FS_EXC_FRAG_TINY], FS_EXC_ACTION_DROP);
    CHECK_INT(a[FS_EXC_FRAG_ORPHAN], FS_EXC_ACTION_ALLOW);
    CHECK_INT(a[FS_EXC_NON_IP], FS_EXC_ACTION_ALERT);
    CHECK_INT(fs_exception_parse("frag_tiny=alert", a, err, sizeof err), 0);
    CHECK_INT(a[FS_EXC_FRAG_TINY], FS_EXC_ACTION_ALERT);
    CHECK_INT(a[FS_EXC_VLAN_DEPTH], FS_EXC_ACTION_DROP);

    CHECK_INT(fs_exception_parse("drop,/etc/shadow=allow", a, err,
                                 sizeof err), -EINVAL);
    CHECK_STR(err, "item 2: unknown exception class");
    CHECK_INT(fs_exception_parse("frag_tiny=maybe", a, err, sizeof err),
              -EINVAL);
    CHECK_STR(err, "item 1: bad action (expected drop, alert or allow)");
    CHECK_INT(fs_exception_parse("drop,", a, err, sizeof err), 0);
    CHECK_INT(fs_exception_parse(",drop", a, err, sizeof err), -EINVAL);
    /* A failed parse changes nothing. */
    CHECK_INT(fs_exception_parse("allow,bogus=drop", a, err, sizeof err),
              -EINVAL);
    CHECK_INT(a[FS_EXC_FRAG_TINY], FS_EXC_ACTION_DROP);

    for (e = 0; e < FS_N_EXCEPTIONS; e++) {
        CHECK_INT(fs_exception_from_name(fs_exception_name(e)), e);
    }
    CHECK(fs_exception_name(FS_N_EXCEPTIONS) == NULL);
    CHECK_INT(fs_exception_counter(FS_EXC_NON_IP), FS_CTR_NON_IP);
    CHECK_INT(fs_exception_counter(FS_EXC_FRAG_TABLE_FULL),
              FS_CTR_ERR_FRAG_TABLE_FULL);
    CHECK_INT(fs_exception_counter(FS_N_EXCEPTIONS), -1);
    CHECK_INT(fs_exception_from_name("bogus"), -1);
    CHECK_STR(fs_exception_action_name(FS_EXC_ACTION_ALERT), "alert");
    CHECK_INT(fs_exception_action_from_name("allow"), FS_EXC_ACTION_ALLOW);
}

int
main(void)
{
    RUN_TEST(test_unparseable_dropped_by_default);
    RUN_TEST(test_fragments);
    RUN_TEST(test_fragment_table_full);
    RUN_TEST(test_ipv6_extension_chains);
    RUN_TEST(test_actions_set_and_policy);
    RUN_TEST(test_spec_parsing);
    return test_exit_status();
}
