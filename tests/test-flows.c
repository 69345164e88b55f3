/*
 * Unit tests of how the inspector ties verdicts to VMs and connections:
 * a flow is judged under the inspected VM of each of its ends, whichever
 * opened it (direction=in|out); a new TCP connection on a 5-tuple is a new
 * flow; pinned flows outlive their idle timeout and are judged again, or
 * re-inspected, when the policy changes; flow records carry a flow from
 * one inspector to another, and bad records are refused.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsteer/inspector.h"
#include "test-packets.h"
#include "test-util.h"

/* The MAC build() gives 10.0.0.'n'. */
static void
vm_mac(uint8_t mac[6], uint8_t n)
{
    static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0 };

    memcpy(mac, base, 6);
    mac[5] = n;
}

/* An inspector with VMs 10.0.0.1 (port 1, profile web) and 10.0.0.2
 * (port 2, servers), both known by their MACs; port 3 is not inspected. */
static struct fs_inspector *
make_two_vms(struct events *ev, const char *policy)
{
    FS_INSPECTOR_OPTS(opts);
    struct fs_inspector *insp = make(&opts, ev, policy);
    uint8_t mac[6];

    fs_inspector_set_port(insp, 1, "vm1", "web", NULL);
    fs_inspector_set_port(insp, 2, "vm2", "servers", NULL);
    vm_mac(mac, 1);
    CHECK_INT(fs_inspector_set_port_mac(insp, 1, mac, NULL), 0);
    vm_mac(mac, 2);
    CHECK_INT(fs_inspector_set_port_mac(insp, 2, mac, NULL), 0);
    return insp;
}

/* Sends a SYN from 10.0.0.'a':'sport' to 10.0.0.'b':'dport' on port
 * 'port'; returns the action. */
static int
syn(struct fs_inspector *insp, uint8_t a, uint16_t sport, uint8_t b,
    uint16_t dport, uint32_t port)
{
    struct pkt k;

    build(&k, 6, a, sport, b, dport, SYN, NULL, 0);
    return send(insp, &k, SEC, port);
}

static int
count_record(void *n_, const void *rec, size_t len)
{
    int *n = n_;

    *n += len > 0;
    (void) rec;
    return 0;
}

struct peer_check {
    uint32_t peer_port;
    char peer_profile[16];
    char rule[64];
};

static int
find_last(void *aux, const struct fs_flow_info *f)
{
    struct peer_check *c = aux;

    c->peer_port = f->peer_port;
    snprintf(c->peer_profile, sizeof c->peer_profile, "%s",
             f->peer_profile ? f->peer_profile : "(none)");
    snprintf(c->rule, sizeof c->rule, "%s", f->rule);
    return 1;
}

static void
test_both_ends_judged(void)
{
    static const char policy[] =
        "priority=200, profile=servers, direction=in, tcp, tp_dst=80, "
        "actions=drop\n"
        "priority=100, profile=servers, actions=allow\n"
        "priority=100, profile=web, direction=out, actions=allow\n"
        "priority=50, profile=web, direction=in, actions=drop\n";
    struct events ev;
    struct fs_inspector *insp = make_two_vms(&ev, policy);
    struct peer_check c;

    /* From an uninspected VM (port 3) to the servers VM: judged under
     * vm2's profile, inbound. */
    CHECK_INT(syn(insp, 3, 40000, 2, 80, 3), FS_PKT_DROP);
    fs_inspector_foreach_flow(insp, find_last, &c);
    CHECK_INT(c.peer_port, 2);
    CHECK_STR(c.peer_profile, "servers");
    CHECK_STR(c.rule, "t:1");
    CHECK_INT(syn(insp, 3, 40001, 2, 443, 3), FS_PKT_PASS);

    /* Between two inspected VMs: both profiles, the stricter wins. */
    CHECK_INT(syn(insp, 1, 40002, 2, 80, 1), FS_PKT_DROP);
    CHECK_INT(syn(insp, 1, 40003, 2, 443, 1), FS_PKT_PASS);
    CHECK_INT(syn(insp, 2, 40004, 1, 22, 2), FS_PKT_DROP);

    /* Outbound to a host nobody inspects: web's outbound rule. */
    CHECK_INT(syn(insp, 1, 40005, 9, 80, 1), FS_PKT_PASS);

    /* The reply direction of a flow keeps its verdict. */
    {
        struct pkt k;

        build(&k, 6, 2, 443, 1, 40003, SYN | ACK, NULL, 0);
        CHECK_INT(send(insp, &k, SEC, 2), FS_PKT_PASS);
    }
    CHECK_INT(CTR(insp, FLOWS_CREATED), 6);

    /* Migration of vm2: its flows are the one from it and the four to
     * it; FS_EXPORT_FROM_PORT leaves out those to it. */
    {
        int n = 0;

        CHECK_INT(fs_inspector_export(insp, 2, 0, 0, count_record, &n), 0);
        CHECK_INT(n, 5);
        n = 0;
        CHECK_INT(fs_inspector_export(insp, 2, 0, FS_EXPORT_FROM_PORT,
                                      count_record, &n), 0);
        CHECK_INT(n, 1);
    }
    fs_inspector_destroy(insp);
}

static void
test_mac_learned_later_rejudges(void)
{
    static const char policy[] =
        "priority=100, profile=servers, direction=in, actions=drop\n"
        "priority=0, actions=allow\n";
    struct events ev;
    FS_INSPECTOR_OPTS(opts);
    struct fs_inspector *insp = make(&opts, &ev, policy);
    unsigned int changed = 0;
    uint8_t mac[6];

    fs_inspector_set_port(insp, 2, "vm2", "servers", NULL);
    CHECK_INT(syn(insp, 3, 40000, 2, 80, 3), FS_PKT_PASS);
    vm_mac(mac, 2);
    CHECK_INT(fs_inspector_set_port_mac(insp, 2, mac, &changed), 0);
    CHECK_INT(changed, 1);
    CHECK_INT(ev.changed, 1);
    CHECK_INT(ev.last_actions, FS_ACT_DROP);
    CHECK_INT(syn(insp, 3, 40000, 2, 80, 3), FS_PKT_DROP);

    /* And forgotten again. */
    CHECK_INT(fs_inspector_set_port_mac(insp, 2, NULL, &changed), 0);
    CHECK_INT(changed, 1);
    CHECK_INT(ev.last_actions, FS_ACT_ALLOW);
    fs_inspector_destroy(insp);
}

static void
test_merged_allows(void)
{
    static const char policy[] =
        "priority=100, profile=web, actions=meter:5000\n"
        "priority=100, profile=servers, actions=meter:2000,mirror:p9,log\n";
    struct events ev;
    struct fs_inspector *insp = make_two_vms(&ev, policy);

    CHECK_INT(syn(insp, 1, 40000, 2, 80, 1), FS_PKT_PASS);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(ev.last_actions, FS_ACT_ALLOW | FS_ACT_METER | FS_ACT_MIRROR
                               | FS_ACT_LOG);
    CHECK_STR(ev.last_rule, "t:2");
    fs_inspector_destroy(insp);
}

static void
test_one_side_needs_dpi(void)
{
    /* vm2 drops on L4 what vm1 would judge by application: decided on the
     * first packet.  The other way round, DPI is needed. */
    static const char policy[] =
        "priority=100, profile=web, app=HTTP, actions=allow\n"
        "priority=90, profile=web, actions=drop\n"
        "priority=100, profile=servers, direction=in, tcp, tp_dst=23, "
        "actions=drop\n"
        "priority=0, profile=servers, actions=allow\n";
    struct events ev;
    struct fs_inspector *insp = make_two_vms(&ev, policy);

    CHECK_INT(syn(insp, 1, 40000, 2, 23, 1), FS_PKT_DROP);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(syn(insp, 1, 40001, 2, 80, 1), FS_PKT_PASS);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(CTR(insp, FLOWS_DECIDED), 1);
    fs_inspector_destroy(insp);
}

/* Sends a TCP packet with 'flags' from 10.0.0.'a':'sport' to
 * 10.0.0.'b':'dport' on port 'port'; returns what the inspector did. */
static struct fs_pkt_result
tcp_on(struct fs_inspector *insp, uint8_t a, uint16_t sport, uint8_t b,
       uint16_t dport, uint8_t flags, uint32_t port)
{
    struct fs_pkt_result r;
    struct pkt k;

    build(&k, 6, a, sport, b, dport, flags, NULL, 0);
    struct fs_packet pkt = {
        .data = k.data, .caplen = k.len, .len = k.len, .ts_ns = SEC,
        .port = port, .link_type = FS_LINK_ETHERNET,
    };
    fs_inspector_process_ex(insp, &pkt, &r);
    return r;
}

/* Another VM that sends on a flow's 5-tuple (spoofing its addresses) gets
 * neither its verdict nor a new flow of its own, and cannot end it: its
 * packets are exception port_mismatch, in both directions (the other one
 * when the VM it goes to is known), dropped by default. */
static void
test_port_mismatch(void)
{
    static const char policy[] =
        "priority=100, profile=web, tcp, tp_dst=23, actions=drop\n"
        "priority=0, actions=allow\n";
    struct events ev;
    struct fs_inspector *insp = make_two_vms(&ev, policy);
    struct fs_pkt_result r, mine;

    /* vm1's telnet is dropped; the same 5-tuple from port 3, whose own
     * flow would be allowed, is not judged as that flow. */
    CHECK_INT(tcp_on(insp, 1, 40000, 9, 23, SYN, 1).action, FS_PKT_DROP);
    r = tcp_on(insp, 1, 40000, 9, 23, SYN, 3);
    CHECK_INT(r.action, FS_PKT_DROP);
    CHECK_INT(r.exception, FS_EXC_PORT_MISMATCH);
    CHECK_INT(CTR(insp, ERR_PORT_MISMATCH), 1);

    /* vm1's allowed flow to vm2 (known by its MAC): its answers come from
     * port 2; from port 3 (a VM spoofing vm2) they are dropped, as are
     * port 3's packets the flow's way and its SYN, which does not end
     * vm1's connection. */
    mine = tcp_on(insp, 1, 40001, 2, 80, SYN, 1);
    CHECK_INT(mine.action, FS_PKT_PASS);
    r = tcp_on(insp, 2, 80, 1, 40001, SYN | ACK, 2);
    CHECK_INT(r.action, FS_PKT_PASS);
    CHECK_INT(r.flow_id, mine.flow_id);
    CHECK_INT(tcp_on(insp, 2, 80, 1, 40001, ACK, 3).action, FS_PKT_DROP);
    CHECK_INT(tcp_on(insp, 1, 40001, 2, 80, ACK, 3).action, FS_PKT_DROP);
    CHECK_INT(CTR(insp, ERR_PORT_MISMATCH), 3);
    uint64_t reopened = CTR(insp, FLOWS_REOPENED);
    r = tcp_on(insp, 1, 40001, 2, 80, SYN, 3);
    CHECK_INT(r.action, FS_PKT_DROP);
    CHECK_INT(CTR(insp, FLOWS_REOPENED), reopened);
    r = tcp_on(insp, 1, 40001, 2, 80, ACK, 1);
    CHECK_INT(r.action, FS_PKT_PASS);
    CHECK_INT(r.flow_id, mine.flow_id);
    CHECK_INT(r.exception, -1);
    /* A packet whose port is not known is not checked. */
    CHECK_INT(tcp_on(insp, 1, 40001, 2, 80, ACK, 0).action, FS_PKT_PASS);
    CHECK_INT(CTR(insp, ERR_PORT_MISMATCH), 4);

    /* Forwarded by the exception policy, such a packet is still judged
     * with the flow: the drop holds. */
    CHECK_INT(fs_inspector_set_exception(insp, FS_EXC_PORT_MISMATCH,
                                         FS_EXC_ACTION_ALLOW), 0);
    uint64_t passed = CTR(insp, EXCEPTIONS_PASSED);
    CHECK_INT(tcp_on(insp, 1, 40000, 9, 23, ACK, 3).action, FS_PKT_DROP);
    r = tcp_on(insp, 1, 40001, 2, 80, ACK, 3);
    CHECK_INT(r.action, FS_PKT_PASS);
    CHECK_INT(r.flow_id, mine.flow_id);
    CHECK_INT(CTR(insp, EXCEPTIONS_PASSED), passed + 2);
    CHECK_INT(CTR(insp, ERR_PORT_MISMATCH), 6);
    fs_inspector_destroy(insp);
}

/* Records every event's type, flow id and end reason, in order. */
struct trace {
    int n;
    enum fs_event_type type[32];
    uint64_t id[32];
    int end_reason[32];
    uint32_t actions[32];
};

static void
trace_event(void *aux, enum fs_event_type type, const struct fs_flow_info *f,
            const struct fs_verdict *old)
{
    struct trace *t = aux;

    (void) old;
    if (t->n < 32) {
        t->type[t->n] = type;
        t->id[t->n] = f->id;
        t->end_reason[t->n] = f->end_reason;
        t->actions[t->n] = f->verdict.actions;
        t->n++;
    }
}

static struct fs_inspector *
make_traced(struct trace *t, const char *policy)
{
    FS_INSPECTOR_OPTS(opts, .event_cb = trace_event, .event_aux = t);
    struct fs_inspector *insp = NULL;
    char err[256];

    memset(t, 0, sizeof *t);
    CHECK_INT(fs_inspector_create(&opts, &insp), 0);
    if (!insp) {
        exit(1);
    }
    if (policy) {
        CHECK_INT(fs_inspector_set_policy(insp, "t", policy, NULL, err,
                                          sizeof err), 0);
    }
    return insp;
}

/* Sends TCP 10.0.0.1:40000 -> 10.0.0.2:'dport' with 'flags' and sequence
 * number 'seq' ('reverse': the other way) and returns its result. */
static struct fs_pkt_result
tcp(struct fs_inspector *insp, uint16_t dport, uint8_t flags, uint32_t seq,
    int reverse, uint64_t ts)
{
    struct fs_pkt_result res;
    struct fs_packet pkt;
    struct pkt k;

    if (reverse) {
        build(&k, 6, 2, dport, 1, 40000, flags, NULL, 0);
    } else {
        build(&k, 6, 1, 40000, 2, dport, flags, NULL, 0);
    }
    put_tcp(k.data + 14 + 20, reverse ? dport : 40000,
            reverse ? 40000 : dport, flags, seq);
    memset(&pkt, 0, sizeof pkt);
    pkt.data = k.data;
    pkt.caplen = pkt.len = k.len;
    pkt.ts_ns = ts;
    pkt.port = reverse ? 2 : 1;
    pkt.link_type = FS_LINK_ETHERNET;
    memset(&res, 0xff, sizeof res);
    CHECK_INT(fs_inspector_process_ex(insp, &pkt, &res), res.action);
    return res;
}

#define FIN 0x01
#define RST 0x04

static void
test_connection_reuse(void)
{
    static const char policy[] = "priority=100, tcp, tp_dst=22, "
                                 "actions=drop\n"
                                 "priority=0, actions=allow\n";
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, policy);
    struct fs_pkt_result r1, r2;

    /* An allowed connection, decided on its SYN. */
    r1 = tcp(insp, 443, SYN, 1000, 0, SEC);
    CHECK(r1.flow_id != 0);
    CHECK_INT(r1.action, FS_PKT_PASS);
    CHECK_INT(r1.exception, -1);
    /* Its SYN again (a retransmission): same flow. */
    CHECK_INT(tcp(insp, 443, SYN, 1000, 0, SEC).flow_id, r1.flow_id);
    tcp(insp, 443, SYN | ACK, 5000, 1, SEC);
    CHECK_INT(tcp(insp, 443, ACK, 1001, 0, SEC).flow_id, r1.flow_id);

    /* A new SYN (another sequence number) on the allowed 5-tuple: a new
     * connection, a new flow. */
    t.n = 0;
    r2 = tcp(insp, 443, SYN, 9000, 0, SEC);
    CHECK(r2.flow_id != r1.flow_id);
    CHECK_INT(t.n, 2);
    CHECK_INT(t.type[0], FS_EVENT_FLOW_END);
    CHECK_INT(t.id[0], r1.flow_id);
    CHECK_INT(t.end_reason[0], FS_END_REOPENED);
    CHECK_INT(t.type[1], FS_EVENT_VERDICT);
    CHECK_INT(t.id[1], r2.flow_id);
    CHECK_INT(CTR(insp, FLOWS_REOPENED), 1);

    /* After a RST that was let through, even the same sequence number
     * opens a new connection. */
    tcp(insp, 443, RST, 9001, 0, SEC);
    r1 = tcp(insp, 443, SYN, 9000, 0, SEC);
    CHECK(r1.flow_id != r2.flow_id);
    CHECK_INT(CTR(insp, FLOWS_REOPENED), 2);

    /* A dropped flow keeps its verdict: a SYN does not undo it, nor does
     * a RST, which is not let through. */
    r1 = tcp(insp, 22, SYN, 100, 0, SEC);
    CHECK_INT(r1.action, FS_PKT_DROP);
    CHECK_INT(tcp(insp, 22, RST, 101, 0, SEC).action, FS_PKT_DROP);
    r2 = tcp(insp, 22, SYN, 7777, 0, SEC);
    CHECK_INT(r2.flow_id, r1.flow_id);
    CHECK_INT(r2.action, FS_PKT_DROP);
    CHECK_INT(CTR(insp, FLOWS_REOPENED), 2);
    fs_inspector_destroy(insp);
}

static void
test_connection_reuse_while_classifying(void)
{
    /* A flow waiting for its application: another SYN stays with it unless
     * the connection was closed. */
    static const char policy[] = "priority=100, app=HTTP, actions=allow\n"
                                 "priority=1, actions=drop\n";
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, policy);
    struct fs_pkt_result r1, r2;

    r1 = tcp(insp, 80, SYN, 1000, 0, SEC);
    CHECK_INT(r1.action, FS_PKT_PASS);
    r2 = tcp(insp, 80, SYN, 2000, 0, SEC);
    CHECK_INT(r2.flow_id, r1.flow_id);
    tcp(insp, 80, FIN | ACK, 2001, 0, SEC);
    r2 = tcp(insp, 80, SYN, 3000, 0, SEC);
    CHECK(r2.flow_id != r1.flow_id);
    fs_inspector_destroy(insp);
}

/* Finds the flow to 10.0.0.2:'dport' and stores its info's id, key and
 * pinned flag. */
struct find {
    uint16_t dport;
    uint64_t id;
    struct fs_flow_key key;
    int pinned, found;
    uint32_t actions;
    char rule[64];
    uint64_t origin_id;
    int state;
    char app[32];
};

static int
find_flow(void *aux, const struct fs_flow_info *f)
{
    struct find *q = aux;

    if (f->key.dst_port != q->dport) {
        return 0;
    }
    q->id = f->id;
    q->key = f->key;
    q->pinned = f->pinned;
    q->actions = f->verdict.actions;
    snprintf(q->rule, sizeof q->rule, "%s", f->rule);
    q->origin_id = f->origin_id;
    q->state = f->state;
    snprintf(q->app, sizeof q->app, "%s", f->app);
    q->found = 1;
    return 1;
}

static struct find
lookup(struct fs_inspector *insp, uint16_t dport)
{
    struct find q;

    memset(&q, 0, sizeof q);
    q.dport = dport;
    fs_inspector_foreach_flow(insp, find_flow, &q);
    return q;
}

static void
test_pinned_flows(void)
{
    static const char allow[] = "priority=100, tcp, tp_dst=443, "
                                "actions=allow\n";
    static const char deny[] = "priority=100, tcp, tp_dst=443, "
                               "actions=drop\n";
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, allow);
    FS_INSPECTOR_STATS(st);
    struct find q;
    unsigned int changed;

    fs_inspector_set_idle_timeouts(insp, 2000, 2000, 2000);
    tcp(insp, 443, SYN, 1, 0, SEC);
    tcp(insp, 444, SYN, 1, 0, SEC);
    q = lookup(insp, 443);
    CHECK(q.found);
    CHECK_INT(fs_inspector_pin_flow(insp, q.id, &q.key, 1), 0);
    CHECK_INT(fs_inspector_pin_flow(insp, q.id + 1000, &q.key, 1), -ENOENT);
    fs_inspector_get_stats(insp, &st);
    CHECK_INT(st.flows_pinned, 1);

    /* Long past the idle timeout, the unpinned flow is gone, the pinned
     * one is still judged by a policy change. */
    CHECK_INT(fs_inspector_expire(insp, 100 * SEC), 1);
    CHECK(lookup(insp, 443).found);
    CHECK(!lookup(insp, 444).found);
    CHECK_INT(fs_inspector_set_policy(insp, "t", deny, &changed, NULL, 0),
              0);
    CHECK_INT(changed, 1);
    CHECK_INT(lookup(insp, 443).actions, FS_ACT_DROP);

    /* Unpinned, it idles out like any other; removed, it ends at once. */
    CHECK_INT(fs_inspector_pin_flow(insp, q.id, &q.key, 0), 0);
    CHECK_INT(fs_inspector_expire(insp, 101 * SEC), 0);
    CHECK_INT(fs_inspector_expire(insp, 103 * SEC), 1);
    tcp(insp, 443, SYN, 1, 0, 104 * SEC);
    q = lookup(insp, 443);
    t.n = 0;
    CHECK_INT(fs_inspector_remove_flow(insp, q.id, &q.key), 0);
    CHECK_INT(t.n, 1);
    CHECK_INT(t.end_reason[0], FS_END_REMOVED);
    CHECK_INT(fs_inspector_remove_flow(insp, q.id, &q.key), -ENOENT);
    fs_inspector_destroy(insp);
}

static void
test_pinned_flows_not_evicted(void)
{
    FS_INSPECTOR_OPTS(opts, .max_flows = 2);
    struct fs_inspector *insp = NULL;
    struct find q;

    CHECK_INT(fs_inspector_create(&opts, &insp), 0);
    tcp(insp, 1, SYN, 1, 0, SEC);
    tcp(insp, 2, SYN, 1, 0, SEC);
    q = lookup(insp, 1);
    fs_inspector_pin_flow(insp, q.id, &q.key, 1);
    q = lookup(insp, 2);
    fs_inspector_pin_flow(insp, q.id, &q.key, 1);
    /* Nothing to evict: a new flow is dropped, not let through. */
    CHECK_INT(tcp(insp, 3, SYN, 1, 0, SEC).action, FS_PKT_DROP);
    CHECK(lookup(insp, 1).found && lookup(insp, 2).found);
    fs_inspector_pin_flow(insp, q.id, &q.key, 0);
    CHECK_INT(tcp(insp, 3, SYN, 1, 0, SEC).action, FS_PKT_PASS);
    CHECK(lookup(insp, 1).found && !lookup(insp, 2).found);
    fs_inspector_destroy(insp);
}

static void
test_reinspect(void)
{
    /* Decided on L4, pinned; the new policy judges by application. */
    static const char l4[] = "priority=100, tcp, actions=allow\n";
    static const char dpi[] = "priority=100, app=HTTP, actions=allow\n"
                              "priority=1, actions=drop\n";
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, l4);
    struct find q;

    http_flow(insp, 40001, SEC, 1);
    tcp(insp, 22, SYN, 1, 0, SEC);
    q = lookup(insp, 80);
    fs_inspector_pin_flow(insp, q.id, &q.key, 1);
    q = lookup(insp, 22);
    fs_inspector_pin_flow(insp, q.id, &q.key, 1);
    t.n = 0;
    CHECK_INT(fs_inspector_set_policy(insp, "t", dpi, NULL, NULL, 0), 0);
    /* Both allowed flows must be seen again: unpinned, REINSPECT. */
    CHECK_INT(t.n, 2);
    CHECK_INT(t.type[0], FS_EVENT_REINSPECT);
    CHECK_INT(t.type[1], FS_EVENT_REINSPECT);
    CHECK_INT(CTR(insp, FLOWS_REINSPECTED), 2);
    CHECK(!lookup(insp, 80).pinned);
    CHECK_STR(lookup(insp, 80).rule, "previous-policy");

    /* Its next packets classify it; it is decided again. */
    t.n = 0;
    http_flow(insp, 40001, 2 * SEC, 1);
    fs_inspector_giveup_all(insp);
    CHECK(t.n >= 1);
    CHECK_INT(lookup(insp, 80).actions, FS_ACT_ALLOW);
    CHECK_STR(lookup(insp, 80).rule, "t:1");

    /* A pinned drop that the new policy cannot judge without DPI stays
     * dropped, and pinned. */
    fs_inspector_destroy(insp);
    insp = make_traced(&t, "priority=100, tcp, actions=drop\n");
    tcp(insp, 22, SYN, 1, 0, SEC);
    q = lookup(insp, 22);
    fs_inspector_pin_flow(insp, q.id, &q.key, 1);
    t.n = 0;
    CHECK_INT(fs_inspector_set_policy(insp, "t", dpi, NULL, NULL, 0), 0);
    CHECK_INT(t.n, 0);
    CHECK_INT(lookup(insp, 22).actions, FS_ACT_DROP);
    CHECK(lookup(insp, 22).pinned);
    fs_inspector_destroy(insp);
}

static void
test_policy_for_new_flows(void)
{
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, "priority=1, actions=drop\n");

    tcp(insp, 22, SYN, 1, 0, SEC);
    t.n = 0;
    CHECK_INT(fs_inspector_set_policy_for_new_flows(insp, "x", NULL, NULL, 0),
              0);
    CHECK_INT(t.n, 0);
    CHECK_INT(lookup(insp, 22).actions, FS_ACT_DROP);
    CHECK_INT(tcp(insp, 23, SYN, 1, 0, SEC).action, FS_PKT_PASS);
    fs_inspector_destroy(insp);
}

struct saved {
    uint8_t rec[8][FS_FLOW_RECORD_MAX];
    size_t len[8];
    int n;
};

static int
save_record(void *aux, const void *rec, size_t len)
{
    struct saved *s = aux;

    if (s->n < 8) {
        memcpy(s->rec[s->n], rec, len);
        s->len[s->n++] = len;
    }
    return 0;
}

static void
test_records(void)
{
    static const char policy[] = "priority=100, app=HTTP, actions=allow,log\n"
                                 "priority=200, tcp, tp_dst=22, "
                                 "actions=drop\n";
    struct trace t1, t2;
    struct fs_inspector *a = make_traced(&t1, policy);
    struct fs_inspector *b;
    struct saved saved;
    struct find q;
    uint64_t id;
    int i;

    http_flow(a, 40001, SEC, 1);
    fs_inspector_giveup_all(a);
    tcp(a, 22, SYN, 1, 0, SEC);
    q = lookup(a, 80);
    fs_inspector_pin_flow(a, q.id, &q.key, 1);
    memset(&saved, 0, sizeof saved);
    CHECK_INT(fs_inspector_export_flows(a, 1, save_record, &saved), 0);
    CHECK_INT(saved.n, 1);
    CHECK_INT(fs_inspector_export_flows(a, 0, save_record, &saved), 0);
    CHECK_INT(saved.n, 3);

    /* Into another inspector: same id, verdict, classification; pinned;
     * new flows' ids stay above it. */
    b = make_traced(&t2, NULL);
    CHECK_INT(fs_inspector_import_flow(b, saved.rec[0], saved.len[0], 0,
                                       &id), 0);
    CHECK_INT(id, q.id);
    CHECK_INT(t2.n, 1);
    CHECK_INT(t2.type[0], FS_EVENT_VERDICT);
    CHECK_INT(t2.actions[0], FS_ACT_ALLOW | FS_ACT_LOG);
    q = lookup(b, 80);
    CHECK(q.pinned);
    CHECK_STR(q.rule, "imported");
    CHECK_INT(fs_inspector_import_flow(b, saved.rec[0], saved.len[0], 0,
                                       NULL), -EEXIST);
    CHECK(tcp(b, 9, SYN, 1, 0, SEC).flow_id > id);
    {
        uint8_t again[FS_FLOW_RECORD_MAX];

        CHECK_INT(fs_inspector_export_flow(b, q.id, &q.key, again,
                                           sizeof again),
                  (int) saved.len[0] - (int) strlen("t:1")
                  + (int) strlen("imported")
                  - 12 /* a's policy digest (TLV 2): b has no policy */);
        CHECK_INT(fs_inspector_export_flow(b, q.id, &q.key, again, 10),
                  -ENOSPC);
    }

    /* FS_IMPORT_REJUDGE: the importer's policy decides. */
    fs_inspector_set_policy(b, "p", "priority=1, actions=drop\n", NULL,
                            NULL, 0);
    t2.n = 0;
    CHECK_INT(fs_inspector_import_flow(b, saved.rec[2], saved.len[2],
                                       FS_IMPORT_REJUDGE, NULL), 0);
    CHECK_INT(t2.n, 1);         /* The drop stays a drop: no change. */
    CHECK_INT(fs_inspector_import_flow(b, saved.rec[1], saved.len[1],
                                       FS_IMPORT_REJUDGE, NULL), -EEXIST);

    /* Damaged records: every truncation, and each byte flipped, is either
     * refused or a valid record; nothing crashes. */
    for (i = 0; i < (int) saved.len[1]; i++) {
        CHECK_INT(fs_inspector_import_flow(b, saved.rec[1], i, 0, NULL),
                  -EINVAL);
    }
    for (i = 0; i < 8; i++) {
        uint8_t bad[FS_FLOW_RECORD_MAX];

        memcpy(bad, saved.rec[1], saved.len[1]);
        bad[(int[]) { 0, 2, 3, 4, 55, 108, 176, 179 }[i]] ^= 0x40;
        CHECK_INT(fs_inspector_import_flow(b, bad, saved.len[1], 0, NULL),
                  -EINVAL);
    }
    CHECK(CTR(b, RECORDS_BAD) >= saved.len[1] + 8);
    fs_inspector_destroy(a);
    fs_inspector_destroy(b);
}

/* Sets 'k' to TCP 10.0.0.'a':'sport' -> 10.0.0.'b':'dport'. */
static void
tcp_key(struct fs_flow_key *k, uint8_t a, uint16_t sport, uint8_t b,
        uint16_t dport)
{
    memset(k, 0, sizeof *k);
    k->src_ip[10] = k->src_ip[11] = k->dst_ip[10] = k->dst_ip[11] = 0xff;
    k->src_ip[12] = k->dst_ip[12] = 10;
    k->src_ip[15] = a;
    k->dst_ip[15] = b;
    k->src_port = sport;
    k->dst_port = dport;
    k->l4_proto = 6;
    k->ip_version = 4;
}

static void
test_import_verdict(void)
{
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, "priority=1, actions=drop\n");
    struct fs_verdict drop = { .actions = FS_ACT_DROP };
    struct fs_verdict allow = { .actions = FS_ACT_ALLOW };
    struct fs_verdict bad = { .actions = FS_ACT_DROP | FS_ACT_ALLOW };
    struct fs_flow_key k1, k2;
    struct pkt k;

    tcp_key(&k1, 1, 40000, 2, 22);
    k2 = k1;
    k2.dst_port = 23;
    CHECK_INT(fs_inspector_import_verdict(insp, 100, &k1, 1, &drop), 0);
    CHECK_INT(fs_inspector_import_verdict(insp, 101, &k2, 1, &allow), 0);
    CHECK_INT(fs_inspector_import_verdict(insp, 102, &k2, 1, &bad), -EINVAL);
    {
        struct find q;

        memset(&q, 0, sizeof q);
        q.dport = 22;
        CHECK_INT(fs_inspector_find_flow(insp, &k1, find_flow, &q), 1);
        CHECK_INT(q.id, 100);
        k2.dst_port = 24;
        CHECK_INT(fs_inspector_find_flow(insp, &k2, find_flow, &q), -ENOENT);
        k2.dst_port = 23;
    }
    CHECK_INT(t.n, 2);
    CHECK(lookup(insp, 22).pinned);

    /* An allow-all policy undoes neither the drop (its inputs are gone)
     * ... */
    t.n = 0;
    CHECK_INT(fs_inspector_set_policy(insp, "t", "priority=0, actions=allow\n",
                                      NULL, NULL, 0), 0);
    CHECK_INT(lookup(insp, 22).actions, FS_ACT_DROP);
    /* ... while the allow is judged, and cut, by a stricter one. */
    CHECK_INT(fs_inspector_set_policy(insp, "t", "tcp, tp_dst=23, "
                                      "actions=drop\n", NULL, NULL, 0), 0);
    CHECK_INT(lookup(insp, 23).actions, FS_ACT_DROP);
    CHECK_INT(t.n, 1);
    CHECK_INT(t.type[0], FS_EVENT_VERDICT_CHANGED);

    /* Its SYN, from the same port: still dropped, by its flow. */
    build(&k, 6, 1, 40000, 2, 22, SYN, NULL, 0);
    CHECK_INT(send(insp, &k, SEC, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, FLOWS_CREATED), 0);
    fs_inspector_destroy(insp);
}

static void
test_port_limits(void)
{
    struct events ev;
    struct fs_inspector *insp = make_two_vms(&ev, NULL);
    struct find q;
    int i;

    CHECK_INT(fs_inspector_set_port_limit(insp, 3, 7), -EINVAL);
    CHECK_INT(fs_inspector_set_port_limit(insp, 3, FS_PORT_FULL_DROP), 0);
    for (i = 0; i < 3; i++) {
        CHECK_INT(syn(insp, 1, 40000 + i, 9, 80, 1), FS_PKT_PASS);
    }
    CHECK_INT(fs_inspector_port_flows(insp, 1), 3);
    /* The fourth of port 1 is dropped; others' flows are not. */
    CHECK_INT(syn(insp, 1, 40003, 9, 80, 1), FS_PKT_DROP);
    CHECK_INT(CTR(insp, PORT_FULL), 1);
    CHECK_INT(syn(insp, 2, 40003, 9, 80, 2), FS_PKT_PASS);
    /* A flow from a port the inspector does not know, to vm2, is vm2's. */
    CHECK_INT(syn(insp, 3, 40004, 2, 80, 3), FS_PKT_PASS);
    CHECK_INT(fs_inspector_port_flows(insp, 2), 2);
    CHECK_INT(fs_inspector_port_flows(insp, 3), 0);
    /* Packets of flows it has still pass. */
    CHECK_INT(syn(insp, 1, 40000, 9, 80, 1), FS_PKT_PASS);

    /* Evict: port 1's least recently seen flow goes (40001). */
    CHECK_INT(fs_inspector_set_port_limit(insp, 3, FS_PORT_FULL_EVICT_IDLE),
              0);
    CHECK_INT(syn(insp, 1, 40005, 9, 80, 1), FS_PKT_PASS);
    CHECK_INT(fs_inspector_port_flows(insp, 1), 3);
    CHECK_INT(CTR(insp, FLOWS_EVICTED), 1);
    /* All of port 1's flows pinned: nothing to evict, dropped. */
    for (i = 0; i < 3; i++) {
        struct fs_flow_key k;

        tcp_key(&k, 1, (uint16_t[]) { 40000, 40002, 40005 }[i], 9, 80);
        memset(&q, 0, sizeof q);
        q.dport = 80;
        CHECK_INT(fs_inspector_find_flow(insp, &k, find_flow, &q), 1);
        CHECK_INT(fs_inspector_pin_flow(insp, q.id, &k, 1), 0);
    }
    CHECK_INT(syn(insp, 1, 40006, 9, 80, 1), FS_PKT_DROP);
    CHECK_INT(fs_inspector_port_flows(insp, 1), 3);

    /* Ended flows make room. */
    fs_inspector_flush(insp);
    CHECK_INT(fs_inspector_port_flows(insp, 1), 0);
    CHECK_INT(syn(insp, 1, 40006, 9, 80, 1), FS_PKT_PASS);
    fs_inspector_destroy(insp);
}

static void
test_reserved_ids(void)
{
    struct trace t;
    struct fs_inspector *insp = make_traced(&t, NULL);

    CHECK_INT(fs_inspector_reserve_flow_ids(insp, 0), -EINVAL);
    CHECK_INT(fs_inspector_reserve_flow_ids(insp, UINT64_C(1) << 48),
              -EINVAL);
    CHECK_INT(fs_inspector_reserve_flow_ids(insp, 5000), 0);
    CHECK_INT(fs_inspector_reserve_flow_ids(insp, 10), 0);  /* No lower. */
    CHECK_INT(tcp(insp, 1, SYN, 1, 0, SEC).flow_id, 5000);
    fs_inspector_destroy(insp);
}


/* A batch of records, as fs_inspector_export() gives them. */
struct batch {
    uint8_t buf[1 << 16];
    size_t len;
    int n;
};

static int
append_record(void *aux, const void *rec, size_t len)
{
    struct batch *b = aux;

    if (b->len + len <= sizeof b->buf) {
        memcpy(b->buf + b->len, rec, len);
        b->len += len;
        b->n++;
    }
    return 0;
}

/* The first three packets of http_flow(): the handshake, which leaves the
 * flow classifying; http_rest() sends the other two. */
static void
http_handshake(struct fs_inspector *insp, uint64_t ts)
{
    struct pkt k;

    build(&k, 6, 1, 40001, 2, 80, SYN, NULL, 0);
    send(insp, &k, ts, 1);
    build(&k, 6, 2, 80, 1, 40001, SYN | ACK, NULL, 0);
    send(insp, &k, ts + 1000, 1);
    build(&k, 6, 1, 40001, 2, 80, ACK, NULL, 0);
    send(insp, &k, ts + 2000, 1);
}

static int
http_rest(struct fs_inspector *insp, uint64_t ts)
{
    struct pkt k;

    build(&k, 6, 1, 40001, 2, 80, ACK | PSH,
          "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
          "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", 0);
    send(insp, &k, ts + 3000, 1);
    build(&k, 6, 2, 80, 1, 40001, ACK | PSH,
          "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
          "Content-Length: 5\r\n\r\nhello", 0);
    return send(insp, &k, ts + 4000, 1);
}

static uint32_t
n_flows(const struct fs_inspector *insp)
{
    FS_INSPECTOR_STATS(st);

    fs_inspector_get_stats(insp, &st);
    return st.flows;
}

static void
test_migrate(void)
{
    static const char policy[] = "priority=100, app=HTTP, actions=allow\n"
                                 "priority=200, tcp, tp_dst=22, "
                                 "actions=drop\n"
                                 "priority=1, actions=drop\n";
    static struct batch all, bad, delta;
    struct trace ta, tb, tc;
    struct fs_inspector *a = make_traced(&ta, policy);
    struct fs_inspector *b = make_traced(&tb, policy);
    struct fs_inspector *c;
    struct fs_import_result res;
    FS_IMPORT_OPTS(o);
    struct find qa, qb;
    uint64_t mark, id;

    /* In A: a flow dropped on its SYN, and an HTTP flow still classifying
     * after its handshake. */
    tcp(a, 22, SYN, 1, 0, SEC);
    http_handshake(a, SEC);
    CHECK_INT(lookup(a, 80).state, FS_FLOW_CLASSIFYING);
    CHECK_INT(fs_inspector_export(a, FS_PORT_ANY, 0, 0, append_record, &all),
              0);
    CHECK_INT(all.n, 2);
    CHECK_INT(fs_inspector_export(a, FS_PORT_ANY, 0, FS_EXPORT_DECIDED,
                                  append_record, &bad), 0);
    CHECK_INT(bad.n, 1);
    delta.len = delta.n = 0;
    CHECK_INT(fs_inspector_export(a, FS_PORT_ANY, 0, FS_EXPORT_CLASSIFYING,
                                  append_record, &delta), 0);
    CHECK_INT(delta.n, 1);
    /* A port's flows: those from it, or to it. */
    delta.len = delta.n = 0;
    CHECK_INT(fs_inspector_export(a, 7, 0, 0, append_record, &delta), 0);
    CHECK_INT(delta.n, 0);
    CHECK_INT(fs_inspector_export(a, 1, 0, 0, append_record, &delta), 0);
    CHECK_INT(delta.n, 2);
    delta.len = delta.n = 0;
    CHECK_INT(fs_inspector_export(a, 1, 0, FS_EXPORT_FROM_PORT,
                                  append_record, &delta), 0);
    CHECK_INT(delta.n, 2);

    /* A batch with one bad record (or cut short) changes nothing. */
    memcpy(bad.buf, all.buf, all.len);
    bad.len = all.len;
    bad.buf[(bad.buf[4] << 8 | bad.buf[5]) + 2] = 9;   /* The second
                                                         * record's
                                                         * version. */
    CHECK_INT(fs_inspector_import(b, bad.buf, bad.len, &o, &res), -EINVAL);
    CHECK_INT(fs_inspector_import(b, all.buf, all.len - 1, &o, &res),
              -EINVAL);
    CHECK_INT(CTR(b, RECORDS_BAD), 2);
    CHECK_INT(n_flows(b), 0);
    CHECK_INT(tb.n, 0);

    /* A peer's records for a port that is not the one migrating. */
    {
        static const uint32_t other[1][2] = { { 4, 5 } };
        FS_IMPORT_OPTS(om, .flags = FS_IMPORT_MAPPED_ONLY,
                       .port_map = other, .n_port_map = 1);

        CHECK_INT(fs_inspector_import(b, all.buf, all.len, &om, &res),
                  -EINVAL);
        CHECK_INT(CTR(b, RECORDS_BAD), 3);
        CHECK_INT(n_flows(b), 0);
    }

    /* The good batch: flows get B's ids, A's are their origin; the
     * classifying one replays its three packets. */
    CHECK_INT(fs_inspector_import(b, all.buf, all.len, &o, &res), 0);
    CHECK_INT(res.imported, 2);
    CHECK_INT(res.updated + res.conflicts + res.rejudged + res.given_up, 0);
    CHECK_INT(CTR(b, PACKETS_REPLAYED), 3);
    CHECK_INT(CTR(b, PACKETS_INSPECTED), 0);
    qa = lookup(a, 80);
    qb = lookup(b, 80);
    CHECK_INT(qb.origin_id, qa.id);
    CHECK_INT(qb.state, FS_FLOW_CLASSIFYING);
    CHECK_INT(lookup(b, 22).origin_id, lookup(a, 22).id);
    CHECK_INT(lookup(b, 22).actions, FS_ACT_DROP);

    /* A lets go of them without judging them. */
    ta.n = 0;
    CHECK_INT(fs_inspector_release_flow(a, qa.id, &qa.key), 0);
    CHECK_INT(ta.n, 1);
    CHECK_INT(ta.type[0], FS_EVENT_FLOW_END);
    CHECK_INT(ta.end_reason[0], FS_END_MIGRATED);
    CHECK_INT(fs_inspector_release_flow(a, qa.id, &qa.key), -ENOENT);
    CHECK_INT(CTR(a, FLOWS_RELEASED), 1);

    /* B finishes the HTTP flow's classification as A would have. */
    CHECK_INT(http_rest(b, SEC), FS_PKT_PASS);
    qb = lookup(b, 80);
    CHECK_INT(qb.state, FS_FLOW_DECIDED);
    CHECK_INT(qb.actions, FS_ACT_ALLOW);
    CHECK_STR(qb.app, "HTTP");

    /* Deltas: only what changed after the mark; into C, a newer record of
     * a flow C has from B replaces it and keeps C's id. */
    c = make_traced(&tc, policy);
    all.len = all.n = 0;
    CHECK_INT(fs_inspector_export(b, FS_PORT_ANY, 0, 0, append_record, &all),
              0);
    CHECK_INT(all.n, 2);
    mark = fs_inspector_mark(b);
    delta.len = delta.n = 0;
    CHECK_INT(fs_inspector_export(b, FS_PORT_ANY, mark, 0, append_record,
                                  &delta), 0);
    CHECK_INT(delta.n, 0);
    tcp(b, 22, ACK, 2, 0, 2 * SEC);
    CHECK_INT(fs_inspector_export(b, FS_PORT_ANY, mark, 0, append_record,
                                  &delta), 0);
    CHECK_INT(delta.n, 1);
    CHECK_INT(fs_inspector_import(c, all.buf, all.len, &o, &res), 0);
    CHECK_INT(res.imported, 2);
    id = lookup(c, 22).id;
    CHECK_INT(fs_inspector_import(c, delta.buf, delta.len, &o, &res), 0);
    CHECK_INT(res.imported, 0);
    CHECK_INT(res.updated, 1);
    CHECK_INT(lookup(c, 22).id, id);
    CHECK_INT(n_flows(c), 2);
    fs_inspector_destroy(c);

    /* A 5-tuple with a flow of C's own (the moved VM's, begun before its
     * record came, or another VM's on its 5-tuple): a conflict, counted;
     * the record takes the flow's place, which ends. */
    c = make_traced(&tc, policy);
    tcp(c, 22, SYN, 1, 0, SEC);
    id = lookup(c, 22).id;
    tc.n = 0;
    CHECK_INT(fs_inspector_import(c, all.buf, all.len, &o, &res), 0);
    CHECK_INT(res.imported, 2);
    CHECK_INT(res.conflicts, 1);
    CHECK_INT(CTR(c, RECORDS_CONFLICT), 1);
    CHECK(lookup(c, 22).origin_id != 0);
    CHECK(lookup(c, 22).id != id);
    CHECK(tc.n >= 1);
    CHECK_INT(tc.type[0], FS_EVENT_FLOW_END);
    CHECK_INT(tc.id[0], id);
    CHECK_INT(tc.end_reason[0], FS_END_REPLACED);
    CHECK_INT(n_flows(c), 2);
    fs_inspector_destroy(c);

    /* Another policy here: judged by it. */
    c = make_traced(&tc, "priority=0, actions=allow\n");
    CHECK_INT(fs_inspector_import(c, all.buf, all.len, &o, &res), 0);
    CHECK_INT(res.rejudged, 2);
    CHECK_INT(lookup(c, 22).actions, FS_ACT_ALLOW);
    fs_inspector_destroy(c);

    /* A newer writer's TLV is skipped by its length; one that comes
     * twice makes the record bad. */
    {
        static uint8_t rec[FS_MIGRATE_RECORD_MAX];
        size_t len = all.buf[4] << 8 | all.buf[5];
        static const uint8_t unknown[] = { 0x00, 0x63, 0x00, 0x03, 1, 2, 3 };
        static const uint8_t policy_twice[] = { 0x00, 0x02, 0x00, 0x08,
                                                1, 2, 3, 4, 5, 6, 7, 8 };

        memcpy(rec, all.buf, len);
        memcpy(rec + len, unknown, sizeof unknown);
        rec[4] = (len + sizeof unknown) >> 8;
        rec[5] = len + sizeof unknown;
        c = make_traced(&tc, policy);
        CHECK_INT(fs_inspector_import(c, rec, len + sizeof unknown, &o,
                                      &res), 0);
        CHECK_INT(res.imported, 1);
        fs_inspector_destroy(c);

        memcpy(rec + len, policy_twice, sizeof policy_twice);
        rec[4] = (len + sizeof policy_twice) >> 8;
        rec[5] = len + sizeof policy_twice;
        c = make_traced(&tc, policy);
        CHECK_INT(fs_inspector_import(c, rec, len + sizeof policy_twice, &o,
                                      &res), -EINVAL);
        CHECK_INT(n_flows(c), 0);
        fs_inspector_destroy(c);
    }

    /* No room for the whole batch: nothing. */
    {
        FS_INSPECTOR_OPTS(opts, .max_flows = 1);

        CHECK_INT(fs_inspector_create(&opts, &c), 0);
        CHECK_INT(fs_inspector_import(c, all.buf, all.len, &o, &res),
                  -ENOSPC);
        CHECK_INT(n_flows(c), 0);
        fs_inspector_destroy(c);
    }
    fs_inspector_destroy(a);
    fs_inspector_destroy(b);
}

/* Imported flows expire at their own time, whatever the order they come
 * in: a newer one imported first must not hold an older one back. */
/* The ports of the flow whose destination port is 'dport'. */
struct ports_of {
    uint16_t dport;
    uint32_t port, peer_port;
    int found;
};

static int
find_ports(void *aux, const struct fs_flow_info *f)
{
    struct ports_of *q = aux;

    if (f->key.dst_port == q->dport) {
        q->port = f->port;
        q->peer_port = f->peer_port;
        q->found++;
    }
    return 0;
}

/* A flow that came to the migrating VM from another port moves with it:
 * exported with the VM's port, imported with the VM's port here as its
 * peer and its own port unknown, but only to the VM's MAC. */
static void
test_migrate_inbound(void)
{
    static const char policy[] = "priority=0, actions=allow\n";
    static const uint32_t map[1][2] = { { 2, 5 } };
    FS_IMPORT_OPTS(om, .flags = FS_IMPORT_MAPPED_ONLY, .port_map = map,
                   .n_port_map = 1);
    static struct batch in, from;
    struct fs_import_result res;
    struct events ea, eb, ec;
    struct fs_inspector *a = make_two_vms(&ea, policy);
    FS_INSPECTOR_OPTS(opts);
    struct fs_inspector *b = make(&opts, &eb, policy);
    struct fs_inspector *c = make(&opts, &ec, policy);
    struct ports_of q;
    uint8_t mac[6];

    /* 10.0.0.9, behind port 3, connects to vm2 (port 2, by its MAC). */
    CHECK_INT(tcp_on(a, 9, 5000, 2, 80, SYN, 3).action, FS_PKT_PASS);
    memset(&q, 0, sizeof q);
    q.dport = 80;
    fs_inspector_foreach_flow(a, find_ports, &q);
    CHECK_INT(q.port, 3);
    CHECK_INT(q.peer_port, 2);

    /* vm2's flows: this one goes to it, and is not one it began. */
    in.len = in.n = 0;
    CHECK_INT(fs_inspector_export(a, 2, 0, 0, append_record, &in), 0);
    CHECK_INT(in.n, 1);
    from.len = from.n = 0;
    CHECK_INT(fs_inspector_export(a, 2, 0, FS_EXPORT_FROM_PORT,
                                  append_record, &from), 0);
    CHECK_INT(from.n, 0);

    /* B has vm2 at port 5, with its MAC: imported, peer 5, port unknown. */
    fs_inspector_set_port(b, 5, "vm2", NULL, NULL);
    vm_mac(mac, 2);
    CHECK_INT(fs_inspector_set_port_mac(b, 5, mac, NULL), 0);
    CHECK_INT(fs_inspector_import(b, in.buf, in.len, &om, &res), 0);
    CHECK_INT(res.imported, 1);
    memset(&q, 0, sizeof q);
    q.dport = 80;
    fs_inspector_foreach_flow(b, find_ports, &q);
    CHECK_INT(q.found, 1);
    CHECK_INT(q.port, 0);
    CHECK_INT(q.peer_port, 5);
    CHECK_INT(fs_inspector_port_flows(b, 5), 1);
    /* vm2's answer from its port is the flow's; another port may send
     * the flow's way (its port is not known here). */
    CHECK_INT(tcp_on(b, 2, 80, 9, 5000, SYN | ACK, 5).exception, -1);
    CHECK_INT(tcp_on(b, 2, 80, 9, 5000, ACK, 4).exception,
              FS_EXC_PORT_MISMATCH);

    /* C's VM at port 5 has another MAC: the record, which names a flow to
     * another VM, is refused. */
    fs_inspector_set_port(c, 5, "vm7", NULL, NULL);
    vm_mac(mac, 7);
    CHECK_INT(fs_inspector_set_port_mac(c, 5, mac, NULL), 0);
    CHECK_INT(fs_inspector_import(c, in.buf, in.len, &om, &res), -EINVAL);
    CHECK_INT(n_flows(c), 0);

    fs_inspector_destroy(a);
    fs_inspector_destroy(b);
    fs_inspector_destroy(c);
}

static void
test_migrate_expiry(void)
{
    static const char policy[] = "priority=0, actions=allow\n";
    static struct batch all, reordered;
    struct trace ta, tb;
    struct fs_inspector *a = make_traced(&ta, policy);
    struct fs_inspector *b = make_traced(&tb, policy);
    struct fs_import_result res;
    FS_IMPORT_OPTS(o);
    size_t first;

    tcp(a, 22, SYN, 1, 0, 1 * SEC);
    tcp(a, 23, SYN, 1, 0, 200 * SEC);
    CHECK_INT(fs_inspector_export(a, FS_PORT_ANY, 0, 0, append_record, &all),
              0);
    CHECK_INT(all.n, 2);
    /* The newer (port 23) first. */
    first = all.buf[4] << 8 | all.buf[5];
    if ((all.buf[50] << 8 | all.buf[51]) == 22) {
        memcpy(reordered.buf, all.buf + first, all.len - first);
        memcpy(reordered.buf + all.len - first, all.buf, first);
    } else {
        memcpy(reordered.buf, all.buf, all.len);
    }
    reordered.len = all.len;
    fs_inspector_expire(b, 200 * SEC);
    /* In two batches (a batch goes oldest first by itself). */
    first = reordered.buf[4] << 8 | reordered.buf[5];
    CHECK_INT(fs_inspector_import(b, reordered.buf, first, &o, &res), 0);
    CHECK_INT(res.imported, 1);
    CHECK_INT(fs_inspector_import(b, reordered.buf + first,
                                  reordered.len - first, &o, &res), 0);
    CHECK_INT(res.imported, 1);
    /* TCP's idle timeout is 300 s: at 302 s the first is over, not the
     * second. */
    CHECK_INT(fs_inspector_expire(b, 302 * SEC), 1);
    CHECK(!lookup(b, 22).found);
    CHECK(lookup(b, 23).found);
    fs_inspector_destroy(a);
    fs_inspector_destroy(b);
}

/* A flow whose payload outgrew its bound migrates, and is decided at once
 * on what it had. */
static void
test_migrate_payload_cut(void)
{
    static const char policy[] = "priority=100, app=HTTP, actions=allow\n"
                                 "priority=1, actions=drop\n";
    FS_INSPECTOR_OPTS(opts, .payload_bytes = 120);
    static struct batch all;
    struct fs_inspector *a, *b, *x;
    struct fs_import_result res;
    struct trace tb;
    FS_IMPORT_OPTS(o);

    CHECK_INT(fs_inspector_create(&opts, &a), 0);
    CHECK_INT(fs_inspector_set_policy(a, "t", policy, NULL, NULL, 0), 0);
    http_handshake(a, SEC);
    /* Each packet takes 40 + 14 bytes: the third does not fit. */
    CHECK_INT(CTR(a, PAYLOAD_CUT), 1);
    CHECK_INT(fs_inspector_export(a, FS_PORT_ANY, 0, 0, append_record, &all),
              0);
    CHECK_INT(all.n, 1);
    b = make_traced(&tb, policy);
    CHECK_INT(fs_inspector_import(b, all.buf, all.len, &o, &res), 0);
    CHECK_INT(res.imported, 1);
    CHECK_INT(res.given_up, 1);
    CHECK_INT(CTR(b, PACKETS_REPLAYED), 2);
    CHECK_INT(lookup(b, 80).state, FS_FLOW_DECIDED);
    /* As A would have decided it, giving up there and then. */
    fs_inspector_giveup_all(a);
    CHECK_INT(lookup(b, 80).actions, lookup(a, 80).actions);
    CHECK_STR(lookup(b, 80).app, lookup(a, 80).app);

    /* Out of bounds. */
    opts.payload_bytes = 60001;
    CHECK_INT(fs_inspector_create(&opts, &x), -EINVAL);
    fs_inspector_destroy(a);
    fs_inspector_destroy(b);
}

int
main(void)
{
    RUN_TEST(test_both_ends_judged);
    RUN_TEST(test_mac_learned_later_rejudges);
    RUN_TEST(test_merged_allows);
    RUN_TEST(test_one_side_needs_dpi);
    RUN_TEST(test_port_mismatch);
    RUN_TEST(test_connection_reuse);
    RUN_TEST(test_connection_reuse_while_classifying);
    RUN_TEST(test_pinned_flows);
    RUN_TEST(test_pinned_flows_not_evicted);
    RUN_TEST(test_reinspect);
    RUN_TEST(test_policy_for_new_flows);
    RUN_TEST(test_records);
    RUN_TEST(test_migrate);
    RUN_TEST(test_migrate_inbound);
    RUN_TEST(test_migrate_payload_cut);
    RUN_TEST(test_migrate_expiry);
    RUN_TEST(test_import_verdict);
    RUN_TEST(test_port_limits);
    RUN_TEST(test_reserved_ids);
    return test_exit_status();
}
