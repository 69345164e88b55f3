/*
 * Unit tests of the inspector through its public API: flow table policies,
 * timeouts, give-up budgets, memory cap, verdicts on L4 fields and on DPI,
 * re-judging on policy and profile changes, options validation.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsteer/inspector.h"
#include "test-packets.h"
#include "test-util.h"

/* ---------------------------------------------------------------------- */

static void
test_bidirectional_and_vlan(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);
    FS_INSPECTOR_STATS(st);
    struct pkt k;

    send_udp(insp, 1, 1000, 2, 2000, "x", 1 * SEC);
    send_udp(insp, 2, 2000, 1, 1000, "yy", 1 * SEC + 1);
    send_udp(insp, 2, 2000, 1, 1000, "zz", 1 * SEC + 2);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 1);

    /* Same 5-tuple on another VLAN: another flow. */
    build(&k, 17, 1, 1000, 2, 2000, 0, "x", 42);
    send(insp, &k, 1 * SEC + 3, 1);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 2);

    fs_inspector_get_stats(insp, &st);
    CHECK_INT(st.flows, 2);
    /* The memory it accounts for covers the whole table (bench/
     * inspect-memory measures what a flow costs). */
    CHECK(st.memory >= (uint64_t) st.bytes_per_flow * st.max_flows);

    CHECK_INT(fs_inspector_flush(insp), 2);
    CHECK_INT(ev.ends, 2);
    fs_inspector_get_stats(insp, &st);
    CHECK_INT(st.flows, 0);
    fs_inspector_destroy(insp);
}

static int
max_id(void *aux, const struct fs_flow_info *f)
{
    uint64_t *max = aux;

    CHECK(f->id > 0);
    if (f->id > *max) {
        *max = f->id;
    }
    return 0;
}

static void
test_ids_and_ignore_vlan(void)
{
    FS_INSPECTOR_OPTS(opts, .ignore_vlan = 1);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);
    uint64_t max = 0;
    struct pkt k;

    /* One flow whatever the VID: the tag carries something else. */
    build(&k, 17, 1, 1000, 2, 2000, 0, "x", 7);
    send(insp, &k, SEC, 7);
    build(&k, 17, 2, 2000, 1, 1000, 0, "y", 9);
    send(insp, &k, SEC, 9);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 1);
    send_udp(insp, 1, 1001, 2, 2000, "x", SEC);
    fs_inspector_foreach_flow(insp, max_id, &max);
    CHECK_INT(max, 2);
    /* Ids are never reused. */
    fs_inspector_flush(insp);
    send_udp(insp, 1, 1002, 2, 2000, "x", SEC);
    max = 0;
    fs_inspector_foreach_flow(insp, max_id, &max);
    CHECK_INT(max, 3);
    fs_inspector_destroy(insp);
}

/* Several inspectors side by side (one per worker): each gives its own
 * residue of the stride, and reservations and imports keep to it. */
struct top_flow {
    uint64_t id;
    struct fs_flow_key key;
};

static int
find_top_flow(void *aux, const struct fs_flow_info *f)
{
    struct top_flow *top = aux;

    if (f->id > top->id) {
        top->id = f->id;
        top->key = f->key;
    }
    return 0;
}

static uint64_t
top_id(struct fs_inspector *insp)
{
    struct top_flow top = { .id = 0 };

    fs_inspector_foreach_flow(insp, find_top_flow, &top);
    return top.id;
}

static void
test_id_stride(void)
{
    FS_INSPECTOR_OPTS(bad, .flow_id_stride = 2, .flow_id_offset = 2);
    FS_INSPECTOR_OPTS(bad2, .flow_id_stride = 5000);
    FS_INSPECTOR_OPTS(o0, .flow_id_stride = 2, .flow_id_offset = 0);
    FS_INSPECTOR_OPTS(o1, .flow_id_stride = 2, .flow_id_offset = 1);
    uint8_t rec[FS_FLOW_RECORD_MAX];
    struct fs_inspector *w0, *w1, *insp;
    struct top_flow top = { .id = 0 };
    struct events ev0, ev1;
    uint64_t id = 0;
    int len;

    CHECK_INT(fs_inspector_create(&bad, &insp), -EINVAL);
    CHECK_INT(fs_inspector_create(&bad2, &insp), -EINVAL);
    w0 = make(&o0, &ev0, NULL);
    w1 = make(&o1, &ev1, NULL);

    send_udp(w0, 1, 1000, 2, 2000, "x", SEC);
    send_udp(w1, 1, 1000, 2, 2000, "x", SEC);
    send_udp(w0, 1, 1001, 2, 2000, "x", SEC);
    send_udp(w1, 1, 1001, 2, 2000, "x", SEC);
    CHECK_INT(top_id(w0), 4);   /* 2, then 4. */
    CHECK_INT(top_id(w1), 3);   /* 1, then 3. */

    /* Reserving 11: worker 0 goes on at 12, worker 1 at 11. */
    CHECK_INT(fs_inspector_reserve_flow_ids(w0, 11), 0);
    CHECK_INT(fs_inspector_reserve_flow_ids(w1, 11), 0);
    send_udp(w0, 1, 1002, 2, 2000, "x", SEC);
    send_udp(w1, 1, 1002, 2, 2000, "x", SEC);
    CHECK_INT(top_id(w0), 12);
    CHECK_INT(top_id(w1), 11);

    /* Worker 1's flow 21 moves to worker 0 (after worker 0 forgot its own
     * flows): worker 0's next id is its own and above 21. */
    CHECK_INT(fs_inspector_reserve_flow_ids(w1, 20), 0);
    send_udp(w1, 1, 1003, 2, 2000, "x", SEC);
    fs_inspector_foreach_flow(w1, find_top_flow, &top);
    CHECK_INT(top.id, 21);
    len = fs_inspector_export_flow(w1, top.id, &top.key, rec, sizeof rec);
    CHECK(len > 0);
    fs_inspector_flush(w0);
    CHECK_INT(fs_inspector_import_flow(w0, rec, len, 0, &id), 0);
    CHECK_INT(id, 21);
    send_udp(w0, 1, 1004, 2, 2000, "x", SEC);
    CHECK_INT(top_id(w0), 22);
    fs_inspector_destroy(w0);
    fs_inspector_destroy(w1);
}

static uint32_t
pkt_hash(const struct pkt *k)
{
    struct fs_packet pkt = {
        .data = (uint8_t *) k->data, .caplen = k->len, .len = k->len,
        .link_type = FS_LINK_ETHERNET,
    };

    return fs_packet_flow_hash(&pkt, 0);
}

/* The hash that spreads flows over workers: one value for both directions,
 * for every fragment of a datagram, behind any number of tags the
 * inspector follows, and for the flow's key and record; others differ. */
static void
test_flow_hash(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);
    uint8_t rec[FS_FLOW_RECORD_MAX], data[64];
    struct top_flow top = { .id = 0 };
    struct pkt k;
    uint32_t h, h2, rh;
    int len;

    build(&k, 6, 1, 1000, 2, 80, 0x02, NULL, 0);
    h = pkt_hash(&k);
    CHECK(h != 0);
    build(&k, 6, 2, 80, 1, 1000, 0x12, NULL, 0);
    CHECK_INT(pkt_hash(&k), h);
    build(&k, 17, 1, 53, 2, 9999, 0, "x", 0);
    CHECK_INT(pkt_hash(&k), h);         /* Addresses only. */
    build(&k, 6, 1, 1000, 2, 80, 0x10, "y", 7);
    CHECK_INT(pkt_hash(&k), h);         /* A VM's own tag. */
    push_tags(&k, 1);
    CHECK_INT(pkt_hash(&k), h);         /* Two tags. */

    /* A datagram in three fragments; the later ones have no ports. */
    memset(data, 0, sizeof data);
    data[0] = 0x03, data[1] = 0xe8, data[2] = 0x27, data[3] = 0x0f;
    build_ip4(&k, 17, 1, 2, 77, 0, 1, data, 16);
    CHECK_INT(pkt_hash(&k), h);
    build_ip4(&k, 17, 1, 2, 77, 16, 1, data, 16);
    CHECK_INT(pkt_hash(&k), h);
    build_ip4(&k, 17, 2, 1, 78, 32, 0, data, 8);
    CHECK_INT(pkt_hash(&k), h);

    /* Other addresses, another hash (for these few, at least). */
    build(&k, 6, 1, 1000, 3, 80, 0x02, NULL, 0);
    h2 = pkt_hash(&k);
    CHECK(h2 != h);
    build(&k, 6, 4, 1000, 2, 80, 0x02, NULL, 0);
    CHECK(pkt_hash(&k) != h && pkt_hash(&k) != h2);

    /* Not IP, or broken: 0. */
    build(&k, 6, 1, 1000, 2, 80, 0x02, NULL, 0);
    k.data[12] = 0x08, k.data[13] = 0x06;
    CHECK_INT(pkt_hash(&k), 0);
    build(&k, 6, 1, 1000, 2, 80, 0x02, NULL, 0);
    k.len = 20;
    CHECK_INT(pkt_hash(&k), 0);

    /* The key and the record of the flow. */
    build(&k, 6, 1, 1000, 2, 80, 0x02, NULL, 0);
    send(insp, &k, SEC, 1);
    fs_inspector_foreach_flow(insp, find_top_flow, &top);
    CHECK_INT(fs_flow_key_hash(&top.key), h);
    len = fs_inspector_export_flow(insp, top.id, &top.key, rec, sizeof rec);
    CHECK(len > 0);
    CHECK_INT(fs_flow_record_hash(rec, len, &rh), 0);
    CHECK_INT(rh, h);
    CHECK_INT(fs_flow_record_hash(rec, 3, &rh), -EINVAL);
    fs_inspector_destroy(insp);
}

static int
count_flow(void *aux, const struct fs_flow_info *f)
{
    struct events *ev = aux;

    ev->last_packets[0] += f->packets[0];
    ev->last_packets[1] += f->packets[1];
    return 0;
}

static void
test_counters_per_direction(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev, sum;
    struct fs_inspector *insp = make(&opts, &ev, NULL);

    send_udp(insp, 1, 1000, 2, 2000, "x", SEC);
    send_udp(insp, 2, 2000, 1, 1000, "y", SEC);
    send_udp(insp, 2, 2000, 1, 1000, "y", SEC);
    memset(&sum, 0, sizeof sum);
    CHECK_INT(fs_inspector_foreach_flow(insp, count_flow, &sum), 0);
    CHECK_INT(sum.last_packets[0], 1);
    CHECK_INT(sum.last_packets[1], 2);
    CHECK_INT(CTR(insp, PACKETS), 3);
    fs_inspector_destroy(insp);
}

static void
test_table_full_evict(void)
{
    FS_INSPECTOR_OPTS(opts, .max_flows = 2,
                      .table_full = FS_FULL_EVICT_IDLE);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);

    send_udp(insp, 1, 1001, 2, 53, "a", SEC);
    send_udp(insp, 1, 1002, 2, 53, "b", SEC + 1);
    send_udp(insp, 1, 1001, 2, 53, "a", SEC + 2);     /* 1001 is fresh. */
    CHECK_INT(send_udp(insp, 1, 1003, 2, 53, "c", SEC + 3), FS_PKT_PASS);
    CHECK_INT(CTR(insp, TABLE_FULL), 1);
    CHECK_INT(CTR(insp, FLOWS_EVICTED), 1);
    CHECK_INT(ev.ends, 1);
    /* The least recently seen, 1002, went; 1001 is still there. */
    send_udp(insp, 1, 1001, 2, 53, "a", SEC + 4);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 3);
    fs_inspector_destroy(insp);
}

static void
test_table_full_bypass_and_drop(void)
{
    FS_INSPECTOR_OPTS(opts, .max_flows = 1, .table_full = FS_FULL_BYPASS);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);

    send_udp(insp, 1, 1001, 2, 53, "a", SEC);
    CHECK_INT(send_udp(insp, 1, 1002, 2, 53, "b", SEC), FS_PKT_PASS);
    CHECK_INT(CTR(insp, TABLE_FULL), 1);
    CHECK_INT(CTR(insp, PACKETS_BYPASSED), 1);
    CHECK_INT(CTR(insp, FLOWS_EVICTED), 0);
    fs_inspector_destroy(insp);

    opts.table_full = FS_FULL_DROP_NEW;
    insp = make(&opts, &ev, NULL);
    send_udp(insp, 1, 1001, 2, 53, "a", SEC);
    CHECK_INT(send_udp(insp, 1, 1002, 2, 53, "b", SEC), FS_PKT_DROP);
    CHECK_INT(CTR(insp, PACKETS_DROPPED), 1);
    /* The existing flow still passes. */
    CHECK_INT(send_udp(insp, 1, 1001, 2, 53, "a", SEC), FS_PKT_PASS);
    fs_inspector_destroy(insp);
}

static void
test_idle_timeouts(void)
{
    FS_INSPECTOR_OPTS(opts, .idle_timeout_udp_ms = 1000,
                      .idle_timeout_tcp_ms = 10000);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);
    struct pkt k;

    send_udp(insp, 1, 1001, 2, 53, "a", 10 * SEC);
    build(&k, 6, 1, 1001, 2, 80, SYN, NULL, 0);
    send(insp, &k, 10 * SEC, 1);
    /* 2 s later: the UDP flow (1 s) expires, the TCP one (10 s) not. */
    send_udp(insp, 1, 1002, 2, 53, "b", 12 * SEC);
    CHECK_INT(CTR(insp, FLOWS_EXPIRED), 1);
    CHECK_INT(ev.ends, 1);
    /* Without packets, fs_inspector_expire() moves time on. */
    CHECK_INT(fs_inspector_expire(insp, 21 * SEC), 2);
    CHECK_INT(CTR(insp, FLOWS_EXPIRED), 3);
    fs_inspector_destroy(insp);

    /* UINT32_MAX: never. */
    opts.idle_timeout_udp_ms = UINT32_MAX;
    insp = make(&opts, &ev, NULL);
    send_udp(insp, 1, 1001, 2, 53, "a", SEC);
    CHECK_INT(fs_inspector_expire(insp, 1000000 * SEC), 0);
    fs_inspector_destroy(insp);
}

static void
test_l4_decision_without_dpi(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "priority=10, udp, "
                                     "tp_dst=5353, actions=drop\n");

    CHECK_INT(send_udp(insp, 1, 1000, 2, 5353, "q", SEC), FS_PKT_DROP);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(ev.last_actions, FS_ACT_DROP);
    CHECK_STR(ev.last_rule, "t:1");
    CHECK_INT(CTR(insp, FLOWS_DECIDED_L4), 1);
    CHECK_INT(CTR(insp, PACKETS_INSPECTED), 0);
    CHECK_INT(send_udp(insp, 2, 5353, 1, 1000, "r", SEC), FS_PKT_DROP);
    CHECK_INT(CTR(insp, PACKETS_DROPPED), 2);
    fs_inspector_destroy(insp);
}

static void
test_dpi_decision(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "priority=10, app=HTTP, "
                                     "host=*.example.com, actions=drop\n");
    struct pkt k;

    CHECK_INT(http_flow(insp, 40000, SEC, 1), FS_PKT_DROP);
    CHECK_INT(ev.verdicts, 1);
    CHECK_STR(ev.last_app, "HTTP");
    CHECK_STR(ev.last_host, "www.example.com");
    CHECK_INT(ev.last_actions, FS_ACT_DROP);
    CHECK_INT(CTR(insp, FLOWS_DECIDED_L4), 0);
    /* Decided: later packets are not inspected. */
    uint64_t inspected = CTR(insp, PACKETS_INSPECTED);
    build(&k, 6, 1, 40000, 2, 80, ACK, NULL, 0);
    CHECK_INT(send(insp, &k, 2 * SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, PACKETS_INSPECTED), inspected);
    fs_inspector_destroy(insp);
}

/* A VM that sends, before its real request, a segment ahead of it (junk
 * the server only buffers) must not blind DPI: nDPI's own TCP tracking
 * would take that segment as the stream's next bytes and the real request
 * as a retransmission, never classify the flow, and let the request pass
 * while the flow stayed undecided.  Only the connection's segments in
 * sequence reach nDPI; one ahead is exception tcp_sequence (drop). */
static void
test_tcp_desync(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "priority=10, app=HTTP, "
                                     "host=*.example.com, actions=drop\n");
    uint32_t *next, real;
    struct pkt k;

    build(&k, 6, 1, 40100, 2, 80, SYN, NULL, 0);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_PASS);
    build(&k, 6, 2, 80, 1, 40100, SYN | ACK, NULL, 0);
    CHECK_INT(send(insp, &k, SEC + 1000, 1), FS_PKT_PASS);
    build(&k, 6, 1, 40100, 2, 80, ACK, NULL, 0);
    CHECK_INT(send(insp, &k, SEC + 2000, 1), FS_PKT_PASS);

    /* 300 bytes ahead of the stream. */
    next = tcp_next_seq(1, 40100, 2, 80);
    real = *next;
    *next = real + 300;
    build(&k, 6, 1, 40100, 2, 80, ACK | PSH, "xxxxxxxxxxxxxxxx", 0);
    CHECK_INT(send(insp, &k, SEC + 3000, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_TCP_SEQUENCE), 1);
    CHECK_INT(CTR(insp, TCP_NOT_IN_SEQUENCE), 0);

    /* The real request, in sequence: judged, and dropped itself. */
    *next = real;
    build(&k, 6, 1, 40100, 2, 80, ACK | PSH,
          "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
          "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", 0);
    CHECK_INT(send(insp, &k, SEC + 4000, 1), FS_PKT_DROP);
    CHECK_STR(ev.last_host, "www.example.com");
    CHECK_INT(ev.last_actions, FS_ACT_DROP);

    /* A packet of the other side that no SYN-ACK opened (a late packet of
     * an earlier connection) is not inspected either. */
    build(&k, 6, 1, 40101, 2, 80, SYN, NULL, 0);
    send(insp, &k, 2 * SEC, 1);
    build(&k, 6, 2, 80, 1, 40101, ACK | PSH, "HTTP/1.1 200 OK\r\n\r\n", 0);
    send(insp, &k, 2 * SEC + 1000, 1);
    CHECK_INT(CTR(insp, TCP_NOT_IN_SEQUENCE), 1);
    fs_inspector_destroy(insp);
}

/* A request in two segments sent second first: the receiver assembles it,
 * so nDPI must too.  The early second segment is dropped (tcp_sequence);
 * sent again after the first, as a sender does, it is judged with it.
 * A retransmission of what was inspected passes, uninspected. */
static void
test_tcp_reordered(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "priority=10, app=HTTP, "
                                     "host=*.example.com, actions=drop\n");
    static const char first[] = "GET /index.html HTTP/1.1\r\n";
    static const char second[] = "Host: www.example.com\r\n"
                                 "User-Agent: curl/7.88.1\r\n\r\n";
    uint32_t *next, start;
    struct pkt k;

    build(&k, 6, 1, 40200, 2, 80, SYN, NULL, 0);
    send(insp, &k, SEC, 1);
    build(&k, 6, 2, 80, 1, 40200, SYN | ACK, NULL, 0);
    send(insp, &k, SEC + 1000, 1);
    build(&k, 6, 1, 40200, 2, 80, ACK, NULL, 0);
    send(insp, &k, SEC + 2000, 1);

    next = tcp_next_seq(1, 40200, 2, 80);
    start = *next;
    *next = start + strlen(first);
    build(&k, 6, 1, 40200, 2, 80, ACK | PSH, second, 0);
    CHECK_INT(send(insp, &k, SEC + 3000, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_TCP_SEQUENCE), 1);

    *next = start;
    build(&k, 6, 1, 40200, 2, 80, ACK | PSH, first, 0);
    CHECK_INT(send(insp, &k, SEC + 4000, 1), FS_PKT_PASS);
    /* The first again (a retransmission): not inspected, no exception. */
    *next = start;
    build(&k, 6, 1, 40200, 2, 80, ACK | PSH, first, 0);
    CHECK_INT(send(insp, &k, SEC + 4500, 1), FS_PKT_PASS);
    CHECK_INT(CTR(insp, TCP_NOT_IN_SEQUENCE), 1);
    CHECK_INT(CTR(insp, ERR_TCP_SEQUENCE), 1);

    build(&k, 6, 1, 40200, 2, 80, ACK | PSH, second, 0);
    CHECK_INT(send(insp, &k, SEC + 5000, 1), FS_PKT_DROP);
    CHECK_STR(ev.last_host, "www.example.com");
    CHECK_INT(ev.last_actions, FS_ACT_DROP);
    fs_inspector_destroy(insp);
}

static void
test_policy_change_rejudges(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "app=HTTP, actions=allow\n");
    unsigned int changed = 99;
    char err[256];
    struct pkt k;

    CHECK_INT(http_flow(insp, 40001, SEC, 1), FS_PKT_PASS);
    CHECK_INT(ev.last_actions, FS_ACT_ALLOW);

    /* A bad policy is rejected and the old one stays. */
    CHECK_INT(fs_inspector_set_policy(insp, "bad", "app=HTTP, actions=nope",
                                      &changed, err, sizeof err), -EINVAL);
    CHECK(!strncmp(err, "bad:1:", 6));
    CHECK_INT(changed, 99);

    CHECK_INT(fs_inspector_set_policy(insp, "new", "app=HTTP, actions=drop",
                                      &changed, err, sizeof err), 0);
    CHECK_INT(changed, 1);
    CHECK_INT(ev.changed, 1);
    CHECK_INT(ev.old_actions, FS_ACT_ALLOW);
    CHECK_INT(ev.last_actions, FS_ACT_DROP);
    CHECK_INT(CTR(insp, VERDICTS_CHANGED), 1);
    build(&k, 6, 1, 40001, 2, 80, ACK, NULL, 0);
    CHECK_INT(send(insp, &k, 2 * SEC, 1), FS_PKT_DROP);

    /* Same policy again: nothing changes. */
    CHECK_INT(fs_inspector_set_policy(insp, "new", "app=HTTP, actions=drop",
                                      &changed, err, sizeof err), 0);
    CHECK_INT(changed, 0);
    fs_inspector_destroy(insp);
}

static int
get_rule(void *aux, const struct fs_flow_info *f)
{
    snprintf(aux, 64, "%s", f->rule);
    return 0;
}

/* A flow decided on L3/L4 alone keeps its verdict when the new policy needs
 * DPI to judge it, and says no rule of the new policy chose it. */
static void
test_policy_change_kept_verdict(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "tcp, actions=drop\n");
    char rule[64];
    struct pkt k;

    build(&k, 6, 1, 40002, 2, 80, SYN, NULL, 0);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(fs_inspector_foreach_flow(insp, get_rule, rule), 0);
    CHECK_STR(rule, "t:1");
    CHECK_INT(fs_inspector_set_policy(insp, "new",
                                      "priority=10, app=HTTP, actions=allow\n"
                                      "priority=5, udp, actions=drop\n",
                                      NULL, NULL, 0), 0);
    CHECK_INT(fs_inspector_foreach_flow(insp, get_rule, rule), 0);
    CHECK_STR(rule, "previous-policy");
    CHECK_INT(CTR(insp, VERDICTS_CHANGED), 0);
    fs_inspector_destroy(insp);
}

/* A connection allowed on its SYN by an L4 rule, then a policy that needs
 * its application: the flow, picked up in the middle, is classified from
 * its next packets (not held to the sequence of the SYN it had before
 * classification began), and its verdict changes once that is over. */
static void
test_policy_change_classifies_established(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "tcp, actions=allow\n");
    struct pkt k;

    build(&k, 6, 1, 40300, 2, 80, SYN, NULL, 0);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_PASS);
    build(&k, 6, 2, 80, 1, 40300, SYN | ACK, NULL, 0);
    send(insp, &k, SEC + 1000, 1);
    build(&k, 6, 1, 40300, 2, 80, ACK, NULL, 0);
    send(insp, &k, SEC + 2000, 1);
    CHECK_INT(fs_inspector_set_policy(insp, "new",
                                      "priority=10, app=HTTP, "
                                      "host=*.example.com, actions=drop\n"
                                      "priority=5, actions=allow\n",
                                      NULL, NULL, 0), 0);
    build(&k, 6, 1, 40300, 2, 80, ACK | PSH,
          "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
          "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", 0);
    send(insp, &k, SEC + 3000, 1);
    build(&k, 6, 2, 80, 1, 40300, ACK | PSH,
          "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
          "Content-Length: 5\r\n\r\nhello", 0);
    send(insp, &k, SEC + 4000, 1);
    CHECK(CTR(insp, PACKETS_INSPECTED) >= 2);
    CHECK_INT(CTR(insp, VERDICTS_CHANGED), 1);
    CHECK_INT(ev.last_actions, FS_ACT_DROP);
    fs_inspector_destroy(insp);
}

static void
test_profile_change_rejudges(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev,
                                     "priority=10, profile=web, udp, "
                                     "actions=allow\n"
                                     "priority=5, profile=locked, "
                                     "actions=drop\n");
    unsigned int changed = 0;

    CHECK_INT(fs_inspector_set_port(insp, 7, "vm7", "web", NULL), 0);
    {
        struct pkt k;

        build(&k, 17, 1, 999, 2, 53, 0, "x", 0);
        CHECK_INT(send(insp, &k, SEC, 7), FS_PKT_PASS);
        CHECK_INT(fs_inspector_set_port(insp, 7, "vm7", "locked",
                                        &changed), 0);
        CHECK_INT(changed, 1);
        CHECK_INT(send(insp, &k, SEC, 7), FS_PKT_DROP);
    }
    fs_inspector_destroy(insp);
}

static void
test_giveup_budget(void)
{
    FS_INSPECTOR_OPTS(opts, .giveup_udp = 3);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, "app=Unknown, actions=drop");
    int i, last = -1;

    /* Random-looking payload on an unassigned port: nDPI finds nothing. */
    for (i = 0; i < 6; i++) {
        last = send_udp(insp, 1, 40000 + 0, 2, 47808 + 17, "\x01\x7f\x33Q",
                        SEC + i);
    }
    CHECK_INT(CTR(insp, FLOWS_GIVEN_UP), 1);
    CHECK_INT(CTR(insp, PACKETS_INSPECTED), 4);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(last, FS_PKT_DROP);
    fs_inspector_destroy(insp);
}

static void
test_memory_cap(void)
{
    FS_INSPECTOR_OPTS(opts, .max_flows = 1024);
    FS_INSPECTOR_STATS(st);
    struct fs_inspector *insp;
    struct events ev;
    uint64_t table;
    int i;

    insp = make(&opts, &ev, NULL);
    fs_inspector_get_stats(insp, &st);
    table = (uint64_t) st.bytes_per_flow * 1024;
    fs_inspector_destroy(insp);

    /* Room for the table and about 4 flows in classification. */
    opts.max_memory = table + 4 * st.bytes_per_classifying + 100;
    opts.classify_all = 1;
    insp = make(&opts, &ev, NULL);
    fs_inspector_get_stats(insp, &st);
    CHECK_INT(st.max_classifying, 4);
    for (i = 0; i < 6; i++) {
        send_udp(insp, 1, 2000 + i, 2, 47824, "\x01\x7f", SEC);
    }
    CHECK_INT(CTR(insp, FLOWS_CREATED), 6);
    CHECK_INT(CTR(insp, CLASSIFY_FULL), 2);
    fs_inspector_get_stats(insp, &st);
    CHECK_INT(st.flows_classifying, 4);
    fs_inspector_destroy(insp);

    /* A cap below the table itself is refused. */
    opts.max_memory = table / 2;
    CHECK_INT(fs_inspector_create(&opts, &insp), -EINVAL);
}

static void
test_bad_options(void)
{
    struct fs_inspector *insp = (struct fs_inspector *) 1;
    struct fs_inspector_opts opts;

    memset(&opts, 0, sizeof opts);
    opts.sz = 2;
    CHECK_INT(fs_inspector_create(&opts, &insp), -EINVAL);
    CHECK(insp == NULL);

    opts.sz = sizeof opts;
    opts.table_full = 42;
    CHECK_INT(fs_inspector_create(&opts, &insp), -EINVAL);

    /* A newer caller's struct: unknown trailing options must be zero. */
    {
        struct {
            struct fs_inspector_opts known;
            uint32_t newer;
        } bigger;

        memset(&bigger, 0, sizeof bigger);
        bigger.known.sz = sizeof bigger;
        CHECK_INT(fs_inspector_create(&bigger.known, &insp), 0);
        fs_inspector_destroy(insp);
        bigger.newer = 1;
        CHECK_INT(fs_inspector_create(&bigger.known, &insp), -EINVAL);
        CHECK(insp == NULL);
    }

    opts.table_full = FS_FULL_BYPASS;
    opts.protos_file = "/nonexistent/protos.txt";
    CHECK_INT(fs_inspector_create(&opts, &insp), -ENOENT);

    CHECK_INT(fs_inspector_create(NULL, &insp), 0);
    CHECK(insp != NULL);
    CHECK_INT(fs_inspector_load_policy(insp, "/nonexistent", NULL, NULL, 0),
              -ENOENT);
    fs_inspector_destroy(insp);
    fs_inspector_destroy(NULL);
}

static void
test_names(void)
{
    char buf[64];
    uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};

    CHECK_STR(fs_counter_name(FS_CTR_PACKETS), "packets");
    CHECK_STR(fs_counter_name(FS_CTR_ERR_FRAG_ORPHAN), "err_frag_orphan");
    CHECK(fs_counter_name(FS_N_COUNTERS) == NULL);
    CHECK_STR(fs_ip_format(v4, buf, sizeof buf), "10.1.2.3");
    CHECK_STR(fs_ip_format(v6, buf, sizeof buf), "2001:db8::");
    CHECK_STR(fs_l4_name(6, buf, sizeof buf), "TCP");
    CHECK_STR(fs_l4_name(58, buf, sizeof buf), "ICMPV6");
    CHECK_STR(fs_l4_name(253, buf, sizeof buf), "253");
    CHECK(fs_inspector_version() && *fs_inspector_version());
    CHECK(fs_inspector_ndpi_version() && *fs_inspector_ndpi_version());
}

int
main(void)
{
    RUN_TEST(test_bidirectional_and_vlan);
    RUN_TEST(test_counters_per_direction);
    RUN_TEST(test_ids_and_ignore_vlan);
    RUN_TEST(test_id_stride);
    RUN_TEST(test_flow_hash);
    RUN_TEST(test_table_full_evict);
    RUN_TEST(test_table_full_bypass_and_drop);
    RUN_TEST(test_idle_timeouts);
    RUN_TEST(test_l4_decision_without_dpi);
    RUN_TEST(test_dpi_decision);
    RUN_TEST(test_tcp_desync);
    RUN_TEST(test_tcp_reordered);
    RUN_TEST(test_policy_change_rejudges);
    RUN_TEST(test_policy_change_kept_verdict);
    RUN_TEST(test_policy_change_classifies_established);
    RUN_TEST(test_profile_change_rejudges);
    RUN_TEST(test_giveup_budget);
    RUN_TEST(test_memory_cap);
    RUN_TEST(test_bad_options);
    RUN_TEST(test_names);
    return test_exit_status();
}
