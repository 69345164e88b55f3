/*
 * Unit tests of how the inspector ties verdicts to VMs and connections:
 * a flow is judged under the inspected VM of each of its ends, whichever
 * opened it (direction=in|out).
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
    fs_inspector_destroy(insp);
}

static void
test_mac_learned_later_rejudges(void)
{
    static const char policy[] =
        "priority=100, profile=servers, direction=in, actions=drop\n";
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
        "actions=drop\n";
    struct events ev;
    struct fs_inspector *insp = make_two_vms(&ev, policy);

    CHECK_INT(syn(insp, 1, 40000, 2, 23, 1), FS_PKT_DROP);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(syn(insp, 1, 40001, 2, 80, 1), FS_PKT_PASS);
    CHECK_INT(ev.verdicts, 1);
    CHECK_INT(CTR(insp, FLOWS_DECIDED), 1);
    fs_inspector_destroy(insp);
}

int
main(void)
{
    RUN_TEST(test_both_ends_judged);
    RUN_TEST(test_mac_learned_later_rejudges);
    RUN_TEST(test_merged_allows);
    RUN_TEST(test_one_side_needs_dpi);
    return test_exit_status();
}
