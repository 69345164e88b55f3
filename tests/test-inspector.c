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
#include "test-util.h"

#define SEC 1000000000ULL

/* ---------------------------------------------------------------------- */
/* Packet building. */

struct pkt {
    uint8_t data[1600];
    uint32_t len;
};

static uint16_t
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

/* Builds Ethernet (with 'vlan' if nonzero) + IPv4 + TCP/UDP from
 * 10.0.0.'a':sport to 10.0.0.'b':dport carrying 'payload'. */
static void
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
    ip[0] = 0x45;
    ip[2] = (20 + l4len + plen) >> 8;
    ip[3] = (20 + l4len + plen) & 0xff;
    ip[8] = 64;
    ip[9] = proto;
    ip[12] = 10, ip[15] = a;
    ip[16] = 10, ip[19] = b;
    {
        uint16_t c = csum(ip, 20);
        ip[10] = c >> 8, ip[11] = c & 0xff;
    }
    uint8_t *l4 = ip + 20;
    l4[0] = sport >> 8, l4[1] = sport & 0xff;
    l4[2] = dport >> 8, l4[3] = dport & 0xff;
    if (proto == 6) {
        l4[12] = 5 << 4;
        l4[13] = tcp_flags;
        l4[14] = 0xff, l4[15] = 0xff;
    } else {
        l4[4] = (8 + plen) >> 8, l4[5] = (8 + plen) & 0xff;
    }
    memcpy(l4 + l4len, payload ? payload : "", plen);
    k->len = (uint32_t) (ip - p + 20 + l4len + plen);
}

static int
send(struct fs_inspector *insp, const struct pkt *k, uint64_t ts,
     uint32_t port)
{
    struct fs_packet pkt = {
        .data = k->data, .caplen = k->len, .len = k->len, .ts_ns = ts,
        .port = port, .link_type = FS_LINK_ETHERNET,
    };
    return fs_inspector_process(insp, &pkt);
}

static int
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
static int
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

/* ---------------------------------------------------------------------- */
/* Event recording. */

struct events {
    int verdicts, changed, ends;
    char last_app[64], last_host[128], last_rule[128];
    uint32_t last_actions, old_actions;
    uint64_t last_packets[2];
};

static void
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
    }
    snprintf(ev->last_app, sizeof ev->last_app, "%s", f->app);
    snprintf(ev->last_host, sizeof ev->last_host, "%s", f->host);
    snprintf(ev->last_rule, sizeof ev->last_rule, "%s", f->rule);
    ev->last_actions = f->verdict.actions;
    memcpy(ev->last_packets, f->packets, sizeof ev->last_packets);
}

static struct fs_inspector *
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

/* ---------------------------------------------------------------------- */

static void
test_bidirectional_and_vlan(void)
{
    FS_INSPECTOR_OPTS(opts);
    struct events ev;
    struct fs_inspector *insp = make(&opts, &ev, NULL);
    struct fs_inspector_stats st;
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
    CHECK(st.bytes_per_flow <= 256 + 4);

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
    struct fs_inspector_stats st;
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
    RUN_TEST(test_table_full_evict);
    RUN_TEST(test_table_full_bypass_and_drop);
    RUN_TEST(test_idle_timeouts);
    RUN_TEST(test_l4_decision_without_dpi);
    RUN_TEST(test_dpi_decision);
    RUN_TEST(test_policy_change_rejudges);
    RUN_TEST(test_policy_change_kept_verdict);
    RUN_TEST(test_profile_change_rejudges);
    RUN_TEST(test_giveup_budget);
    RUN_TEST(test_memory_cap);
    RUN_TEST(test_bad_options);
    RUN_TEST(test_names);
    return test_exit_status();
}
