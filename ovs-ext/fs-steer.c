/* The steering pipeline.  See fs-steer.h. */
#include <config.h>
#include "fs-steer.h"

#include <string.h>

#include "byte-order.h"
#include "dirs.h"
#include "fr-conn.h"
#include "fs-openflow.h"
#include "fs-topo.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_steer);

/* One bridge we program. */
struct steer_bridge {
    char *name;                 /* NULL: none. */
    struct fr_conn *conn;       /* Shared with flowrules on br-int. */
    unsigned int seqno;
    struct svec want;           /* Rules, in ovs-ofctl syntax. */
    struct svec want_groups;    /* Groups, in ovs-ofctl syntax. */
    struct svec have_groups;    /* Group ids ("%u") last installed. */
    bool dirty;                 /* 'want' must be (re)installed. */
    uint32_t first_xid;         /* Of the bundle in flight, 0 if none. */
    uint32_t last_xid;          /* Its barrier. */
    unsigned int n_installs;
    char error[256];
};

struct fs_steer {
    struct steer_bridge br[2];  /* Integration, security. */
    bool closed;                /* Last set with a closed spec. */
};

struct fs_steer *
fs_steer_create(void)
{
    struct fs_steer *s = xzalloc(sizeof *s);
    int i;

    for (i = 0; i < 2; i++) {
        svec_init(&s->br[i].want);
        svec_init(&s->br[i].want_groups);
        svec_init(&s->br[i].have_groups);
    }
    return s;
}

static void
steer_bridge_close(struct steer_bridge *b)
{
    fr_conn_close(b->conn);
    b->conn = NULL;
    free(b->name);
    b->name = NULL;
    b->first_xid = 0;
}

void
fs_steer_destroy(struct fs_steer *s)
{
    int i;

    if (s) {
        for (i = 0; i < 2; i++) {
            steer_bridge_close(&s->br[i]);
            svec_destroy(&s->br[i].want);
            svec_destroy(&s->br[i].want_groups);
            svec_destroy(&s->br[i].have_groups);
        }
        free(s);
    }
}

/* Points 'b' at bridge 'name' (NULL for none). */
static void
steer_bridge_open(struct steer_bridge *b, const char *name)
{
    if (nullable_string_is_equal(name, b->name)) {
        return;
    }
    steer_bridge_close(b);
    if (name) {
        char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(), name);

        /* fr-conn connects once the bridge's management socket exists:
         * flowsteerd may be making the bridge (the security bridge). */
        b->name = xstrdup(name);
        b->conn = fr_conn_open(target, "steering", 0);
        b->seqno = 0;
        b->dirty = true;
        free(target);
    }
}

static void
steer_set_rules(struct steer_bridge *b, struct svec *rules,
                struct svec *groups)
{
    svec_sort(rules);
    svec_sort(groups);
    if (!svec_equal(rules, &b->want) || !svec_equal(groups,
                                                    &b->want_groups)) {
        svec_swap(rules, &b->want);
        svec_swap(groups, &b->want_groups);
        b->dirty = true;
    }
    svec_destroy(rules);
    svec_destroy(groups);
}

/* "priority=" PRIO(PORT) ",..." is "priority=29000,..." (fs-openflow.h). */
#define PRIO(NAME) OVS_STRINGIZE(FS_OF_PRIO_##NAME)

/* Returns the action that sends a packet to the inspector: through a
 * fast-failover group 'group' (defined in 'groups') when there is a
 * liveness port in inline mode, else directly. */
static char *
steer_action(const struct fs_steer_spec *spec, uint32_t group,
             const char *to_inspector, struct svec *groups)
{
    if (spec->mode == FS_MODE_INLINE && spec->live > 0) {
        /* A fast-failover bucket must watch something: the fallback
         * watches the patch port, which is up as long as the bridges are
         * there. */
        svec_add_nocopy(groups, xasprintf(
            "group_id=%"PRIu32",type=ff,"
            "bucket=bucket_id:0,watch_port:%"PRId64",actions=%s,"
            "bucket=bucket_id:1,watch_port:%"PRId64",actions=%s", group,
            spec->live, to_inspector, spec->patch_int,
            spec->fail == FS_FAIL_OPEN ? "NORMAL" : "drop"));
        return xasprintf("group:%"PRIu32, group);
    }
    return xasprintf("%s%s", to_inspector,
                     spec->mode == FS_MODE_TAP ? ",pop_vlan,NORMAL" : "");
}

/* ARP and RARP from port 'p' are not inspected: a VM's neighbours must
 * learn where it is, and QEMU announces a VM that moved here with RARP,
 * which the switches on the way learn its new place from (and OVN's
 * activation-strategy=rarp takes as the moment it moved). */
static void
port_arp_rules(const struct fs_steer_port *p, struct svec *rules)
{
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(PORT_ARP) ",arp,in_port=%"PRId64",actions=NORMAL",
        p->ofport));
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(PORT_ARP) ",rarp,in_port=%"PRId64",actions=NORMAL",
        p->ofport));
}

/* The integration bridge's rules while the inspector cannot be reached,
 * with fail=closed: an inspected port's frames but ARP are dropped. */
static void
closed_rules(const struct fs_steer_spec *spec, struct svec *rules)
{
    size_t i;

    for (i = 0; i < spec->n_ports; i++) {
        const struct fs_steer_port *p = &spec->ports[i];

        port_arp_rules(p, rules);
        svec_add_nocopy(rules, xasprintf(
            "priority=" PRIO(PORT) ",in_port=%"PRId64",actions=drop",
            p->ofport));
        if (p->mac[0]) {
            svec_add_nocopy(rules, xasprintf(
                "priority=" PRIO(MAC_ARP) ",arp,dl_dst=%s,actions=NORMAL",
                p->mac));
            svec_add_nocopy(rules, xasprintf(
                "priority=" PRIO(MAC) ",dl_dst=%s,actions=drop", p->mac));
        }
    }
}

/* The rules and groups of the integration bridge for 'spec'. */
static void
int_rules(const struct fs_steer_spec *spec, struct svec *rules,
          struct svec *groups)
{
    char *reverse = NULL;
    size_t i;

    svec_init(rules);
    svec_init(groups);
    if (spec->closed) {
        closed_rules(spec, rules);
        return;
    }
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(RETURN_LOCAL) ",in_port=%"PRId64
        ",vlan_tci=0xfffe/0xffff,"
        "actions=load:0xfffe->NXM_OF_IN_PORT[],pop_vlan,NORMAL",
        spec->patch_int));
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(RETURN) ",in_port=%"PRId64
        ",vlan_tci=0x1000/0x1000,"
        "actions=load:0->NXM_OF_IN_PORT[],"
        "move:NXM_OF_VLAN_TCI[0..11]->NXM_OF_IN_PORT[0..11],"
        "move:NXM_OF_VLAN_TCI[13..15]->NXM_OF_IN_PORT[12..14],pop_vlan,NORMAL",
        spec->patch_int));
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(PATCH_DROP) ",in_port=%"PRId64",actions=drop",
        spec->patch_int));
    for (i = 0; i < spec->n_ports; i++) {
        const struct fs_steer_port *p = &spec->ports[i];
        /* set_field, not mod_vlan_vid: in a group, with no match to say
         * a tag is there, mod_vlan_vid would push a second one. */
        char *to = xasprintf("push_vlan:0x8100,set_field:%"PRId64
                             "->vlan_vid,set_field:%"PRId64"->vlan_pcp,"
                             "output:%"PRId64, (p->ofport & 0xfff) | 0x1000,
                             p->ofport >> 12, spec->patch_int);
        char *forward = steer_action(spec, FS_OF_GROUP_BASE | p->ofport, to,
                                     groups);

        /* Every frame but ARP and RARP: IP with any VLAN tags or
         * extension headers and anything else a VM sends (the inspector
         * judges non-IP under its non_ip exception class).  OVS's 'ip'
         * match would miss IP behind more tags than it parses. */
        port_arp_rules(p, rules);
        svec_add_nocopy(rules, xasprintf(
            "priority=" PRIO(PORT) ",in_port=%"PRId64",actions=%s", p->ofport,
            forward));
        if (p->mac[0]) {
            if (!reverse) {
                char *rto = xasprintf(
                    "push_vlan:0x8100,"
                    "move:NXM_OF_IN_PORT[0..11]->NXM_OF_VLAN_TCI[0..11],"
                    "move:NXM_OF_IN_PORT[12..14]->NXM_OF_VLAN_TCI[13..15],"
                    "load:1->NXM_OF_VLAN_TCI[12],output:%"PRId64,
                    spec->patch_int);

                reverse = steer_action(spec, FS_OF_GROUP_REVERSE, rto, groups);
                free(rto);
            }
            svec_add_nocopy(rules, xasprintf(
                "priority=" PRIO(MAC_ARP) ",arp,dl_dst=%s,actions=NORMAL",
                p->mac));
            svec_add_nocopy(rules, xasprintf(
                "priority=" PRIO(MAC) ",dl_dst=%s,actions=%s", p->mac,
                reverse));
        }
        free(to);
        free(forward);
    }
    free(reverse);
}

static void
sec_rules(const struct fs_steer_spec *spec, struct svec *rules)
{
    svec_init(rules);
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(SEC) ",in_port=%"PRId64
        ",vlan_tci=0x1000/0x1000,"
        "actions=output:%"PRId64, spec->patch_sec, spec->insp));
    svec_add_nocopy(rules, xasprintf(
        "priority=" PRIO(SEC) ",in_port=%"PRId64",actions=output:%"PRId64,
        spec->insp, spec->patch_sec));
}

void
fs_steer_set(struct fs_steer *s, const char *int_bridge,
             const char *sec_bridge, const struct fs_steer_spec *spec)
{
    struct svec rules, groups;

    steer_bridge_open(&s->br[0], int_bridge);
    steer_bridge_open(&s->br[1], sec_bridge);
    s->closed = spec && spec->closed;

    if (spec) {
        int_rules(spec, &rules, &groups);
        steer_set_rules(&s->br[0], &rules, &groups);
        if (spec->closed) {
            svec_init(&rules);
        } else {
            sec_rules(spec, &rules);
        }
        svec_init(&groups);
        steer_set_rules(&s->br[1], &rules, &groups);
    } else {
        for (int i = 0; i < 2; i++) {
            svec_init(&rules);
            svec_init(&groups);
            steer_set_rules(&s->br[i], &rules, &groups);
        }
    }
}

#define STEER_BUNDLE_FLAGS (OFPBF_ORDERED | OFPBF_ATOMIC)

/* Installs 'b''s groups (created or modified in place), then replaces its
 * rules in one ordered, atomic bundle (the deletion of every rule under
 * our steering cookie, then the new ones), then deletes groups no longer
 * used. */
static void
steer_install(struct steer_bridge *b)
{
    enum ofp_version version = fr_conn_version(b->conn);
    enum ofputil_protocol protocol = fr_conn_protocol(b->conn);
    uint32_t bundle_id = fr_conn_new_bundle_id(b->conn);
    uint32_t xid;
    struct ofputil_flow_mod fm;
    struct svec new_groups;
    struct match match;
    size_t i;

    b->error[0] = '\0';

    /* Groups first, outside the bundle: a flow_mod in a bundle is checked
     * against the groups that exist when it is added.  Each group is
     * modified in place, then added: one of the two fails harmlessly
     * (unknown group, or group exists), and a group of a previous
     * flowsteerd is kept working.  (OpenFlow 1.3 has no add-or-modify,
     * and deleting a group would delete the rules that use it for a
     * moment.)  These xids come before 'first_xid': their errors are
     * expected and ignored. */
    svec_init(&new_groups);
    for (i = 0; i < b->want_groups.n; i++) {
        struct ofputil_group_mod gm;
        enum ofputil_protocol usable;
        char *error = parse_ofp_group_mod_str(&gm, OFPGC11_MODIFY,
                                              b->want_groups.names[i],
                                              NULL, NULL, &usable);
        if (error) {
            VLOG_ERR("%s: bad steering group \"%s\": %s", b->name,
                     b->want_groups.names[i], error);
            free(error);
            continue;
        }
        fr_conn_send(b->conn, ofputil_encode_group_mod(version, &gm, NULL,
                                                       true), 0);
        gm.command = OFPGC11_ADD;
        fr_conn_send(b->conn, ofputil_encode_group_mod(version, &gm, NULL,
                                                       false), 0);
        svec_add_nocopy(&new_groups, xasprintf("%"PRIu32, gm.group_id));
        ofputil_uninit_group_mod(&gm);
    }

    /* The bundle's xids, consecutive: open, the delete, the rules,
     * commit, the group deletes, the barrier. */
    xid = b->first_xid = fr_conn_reserve_xids(b->conn, b->want.n
                                              + b->have_groups.n + 4);
    fr_conn_send_bundle_ctrl(b->conn, bundle_id, OFPBCT_OPEN_REQUEST,
                             STEER_BUNDLE_FLAGS, xid++);

    /* Delete our rules, then add the new ones. */
    memset(&fm, 0, sizeof fm);
    match_init_catchall(&match);
    minimatch_init(&fm.match, &match);
    fm.command = OFPFC_DELETE;
    fm.table_id = FS_OF_TABLE;
    fm.cookie = htonll(FS_OF_STEER_COOKIE);
    fm.cookie_mask = htonll(FS_OF_COOKIE_NS_MASK);
    fm.buffer_id = UINT32_MAX;
    fm.out_port = OFPP_ANY;
    fm.out_group = OFPG_ANY;
    fm.new_cookie = OVS_BE64_MAX;
    fr_conn_send_bundle_add(b->conn, bundle_id, STEER_BUNDLE_FLAGS,
                            ofputil_encode_flow_mod(&fm, protocol), xid++);
    minimatch_destroy(&fm.match);
    for (i = 0; i < b->want.n; i++) {
        enum ofputil_protocol usable;
        char *error = parse_ofp_flow_mod_str(&fm, b->want.names[i], NULL,
                                             NULL, OFPFC_ADD, &usable);
        if (error) {
            /* Our own rules: a bug, not input. */
            VLOG_ERR("%s: bad steering rule \"%s\": %s", b->name,
                     b->want.names[i], error);
            free(error);
            continue;
        }
        fm.new_cookie = htonll(FS_OF_STEER_COOKIE);
        fr_conn_send_bundle_add(b->conn, bundle_id, STEER_BUNDLE_FLAGS,
                                ofputil_encode_flow_mod(&fm, protocol),
                                xid++);
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
    }
    fr_conn_send_bundle_ctrl(b->conn, bundle_id, OFPBCT_COMMIT_REQUEST,
                             STEER_BUNDLE_FLAGS, xid++);

    /* Groups no rule uses any more. */
    for (i = 0; i < b->have_groups.n; i++) {
        if (!svec_contains(&new_groups, b->have_groups.names[i])) {
            struct ofputil_group_mod gm;

            memset(&gm, 0, sizeof gm);
            gm.command = OFPGC11_DELETE;
            gm.command_bucket_id = OFPG15_BUCKET_ALL;
            gm.group_id = strtoul(b->have_groups.names[i], NULL, 10);
            ovs_list_init(&gm.buckets);
            fr_conn_send(b->conn, ofputil_encode_group_mod(version, &gm,
                                                           NULL, false),
                         xid++);
        }
    }
    svec_swap(&new_groups, &b->have_groups);
    svec_destroy(&new_groups);
    b->last_xid = fr_conn_send_barrier(b->conn, xid);
    b->dirty = false;
    b->n_installs++;
}

/* Handles 'msg', one of 'b''s connection end's: the errors and the barrier
 * reply of the install in flight; anything else is ignored. */
static void
steer_handle_msg(struct steer_bridge *b, const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    uint32_t xid = ntohl(oh->xid);
    enum ofptype type;

    if (ofptype_decode(&type, oh) || !b->first_xid
        || xid - b->first_xid > b->last_xid - b->first_xid) {
        return;
    }
    if (type == OFPTYPE_ERROR) {
        enum ofperr error = ofperr_decode_msg(oh, NULL);

        snprintf(b->error, sizeof b->error, "%s", ofperr_to_string(error));
        VLOG_WARN("%s: steering rules refused: %s", b->name, b->error);
    } else if (type == OFPTYPE_BARRIER_REPLY && xid == b->last_xid) {
        b->first_xid = 0;
        if (!b->error[0]) {
            VLOG_INFO("%s: %"PRIuSIZE" steering rules installed", b->name,
                      b->want.n);
        }
    }
}

static void
steer_bridge_run(struct steer_bridge *b)
{
    if (!b->conn) {
        return;
    }
    fr_conn_run(b->conn);
    if (!fr_conn_is_connected(b->conn)) {
        return;
    }
    if (fr_conn_seqno(b->conn) != b->seqno) {
        b->seqno = fr_conn_seqno(b->conn);
        b->first_xid = 0;
        b->dirty = true;        /* The switch may have restarted. */
    }
    for (;;) {
        struct ofpbuf *msg = fr_conn_recv(b->conn);

        if (!msg) {
            break;
        }
        steer_handle_msg(b, msg);
        ofpbuf_delete(msg);
    }
    if (b->dirty && !b->first_xid) {
        steer_install(b);
    }
}

/* Keeps the steering rules in step with the configuration and topology.
 * Until the topology is complete there is no inspector to reach: with
 * fail=closed (inline) the inspected ports' traffic is dropped, else it
 * is not steered. */
void
fs_steer_update(struct fs_steer *s, const struct fs_config *cfg,
                const struct fs_topo *topo)
{
    struct fs_steer_spec spec;
    const struct fs_config_port *p;
    bool closed = (cfg->fail == FS_FAIL_CLOSED
                   && cfg->mode == FS_MODE_INLINE);
    size_t n = 0;

    if (!cfg->enabled || (!topo->complete && !closed)) {
        fs_steer_set(s, cfg->enabled ? cfg->bridge : NULL,
                     cfg->enabled ? cfg->sec_bridge : NULL, NULL);
        return;
    }
    memset(&spec, 0, sizeof spec);
    spec.mode = cfg->mode;
    spec.fail = cfg->fail;
    spec.closed = !topo->complete;
    spec.live = topo->live_ofport;
    spec.patch_int = topo->patch_int_ofport;
    spec.patch_sec = topo->patch_sec_ofport;
    spec.insp = topo->insp_ofport;
    spec.ports = xcalloc(ovs_list_size(&cfg->ports) + 1,
                         sizeof *spec.ports);
    LIST_FOR_EACH (p, node, &cfg->ports) {
        if (p->ofport > 0 && p->ofport <= FS_OF_TAG_MAX_PORT) {
            spec.ports[n].ofport = p->ofport;
            if (p->has_mac) {
                snprintf(spec.ports[n].mac, sizeof spec.ports[n].mac,
                         ETH_ADDR_FMT, ETH_ADDR_BYTES_ARGS(p->mac));
            }
            n++;
        }
    }
    spec.n_ports = n;
    fs_steer_set(s, cfg->bridge, cfg->sec_bridge, &spec);
    free(spec.ports);
}

bool
fs_steer_installed(const struct fs_steer *s, unsigned int *seqno)
{
    int i;

    *seqno = s->br[0].seqno;
    for (i = 0; i < 2; i++) {
        const struct steer_bridge *b = &s->br[i];

        if (b->name && (!fr_conn_is_connected(b->conn)
                        || b->dirty || b->first_xid || b->error[0])) {
            return false;
        }
    }
    return s->br[0].name != NULL;
}

void
fs_steer_run(struct fs_steer *s)
{
    int i;

    for (i = 0; i < 2; i++) {
        steer_bridge_run(&s->br[i]);
    }
}

void
fs_steer_wait(struct fs_steer *s)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (s->br[i].conn) {
            fr_conn_wait(s->br[i].conn);
        }
    }
}

void
fs_steer_format(const struct fs_steer *s, struct ds *ds)
{
    int i;

    for (i = 0; i < 2; i++) {
        const struct steer_bridge *b = &s->br[i];

        if (b->name) {
            ds_put_format(ds, "steering on %s: %"PRIuSIZE" rules, %s%s%s%s\n",
                          b->name, b->want.n,
                          !fr_conn_is_connected(b->conn)
                          ? "not connected"
                          : b->first_xid || b->dirty ? "installing"
                          : "installed",
                          b->error[0] ? ", error: " : "", b->error,
                          !i && s->closed
                          ? " (closed: no inspector to reach, the inspected "
                            "ports' traffic is dropped)" : "");
            fr_conn_format(b->conn, ds);
        }
    }
}
