/*
 * flowrules: per-flow verdicts as OpenFlow rules.  See flowrules.h.
 *
 * The desired table is a hash of flows by id.  Each flow has two rules
 * (directions), each in one state:
 *
 *   UNKNOWN    after a reconnection, until the dump says
 *   DIRTY      must be sent (add, or modify if the switch has it)
 *   INFLIGHT   sent in a bundle whose commit reply has not come
 *   INSTALLED  confirmed by a bundle commit or found by a dump
 *   FAILED     the switch refused it; not retried until set again
 *   GONE       removed by the switch (timeout); not re-added
 *
 * Matches and actions are not stored: they are built from the flow's rule
 * when sent and when compared with a dump, so a flow costs one small
 * record.  Rules are removed by cookie (the flow's own, exact), so that no
 * rule of anyone else can ever match a delete.
 *
 * After each (re)connection, a flow stats request under the cookie
 * namespace lists what the switch has; identical rules are kept, missing
 * or different ones are (re)sent, rules of unknown flows are deleted (or
 * adopted, on the first connection with opts.adopt), all in bundles.
 * An adopted flow's rule is decoded from its two rules, and checked by
 * building them again from it; from then on it is a flow like the others.
 * One whose rules do not decode is 'opaque': kept, expired and reported
 * by its cookie alone, never sent again.
 */
#include <config.h>
#include "flowrules.h"
#include "fr-conn.h"
#include "fs-openflow.h"

#include <errno.h>
#include <string.h>

#include "byte-order.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "timeval.h"

VLOG_DEFINE_THIS_MODULE(flowrules);

#define FLOW_ID_MASK ((UINT64_C(1) << 48) - 1)

enum fr_state {
    FR_UNKNOWN,                 /* After a reconnection, until the dump. */
    FR_DIRTY,
    FR_INFLIGHT,
    FR_INSTALLED,
    FR_FAILED,
    FR_GONE,
};

/* What a pending change does. */
enum fr_op {
    FR_OP_ADD,                  /* Both rules are new: OFPFC_ADD. */
    FR_OP_MODIFY,               /* Actions changed: MODIFY_STRICT. */
    FR_OP_REPLACE,              /* Delete by cookie, then add both, in one
                                 * ordered bundle: the switch had rules
                                 * under this flow's cookie that differ. */
    FR_OP_DELETE,               /* Delete by cookie. */
};

/* The flow_mods of each op: n_msgs[op], and msg_dir[op][i] says what the
 * i-th one is (-1: delete by cookie, 0 or 1: add/modify that direction). */
static const int n_msgs[] = { 2, 2, 3, 1 };
static const int msg_dir[][3] = {
    { 0, 1 }, { 0, 1 }, { -1, 0, 1 }, { -1 },
};

struct fr_flow {
    struct hmap_node node;      /* In 'flows', by hash of 'id'. */
    struct ovs_list dirty_node; /* In 'dirty' while DIRTY, else empty. */
    uint64_t id;
    struct flowrules_rule rule;
    uint32_t meter_id;          /* 0 if none. */
    uint8_t state[2];           /* enum fr_state per direction. */
    uint8_t op;                 /* enum fr_op, while DIRTY or INFLIGHT. */
    bool deleted;               /* Desired: gone.  Freed once confirmed. */
    bool adopted;               /* Found on the switch, nobody set it. */
    bool opaque;                /* Adopted, rules not decoded: 'rule' has
                                 * only the protocol and drop or allow. */
    bool seen_in_dump;          /* Scratch for reconciliation. */
    bool expiring;              /* Deleted by us for being idle. */
    bool committing;            /* In the front of 'dirty' that goes in
                                 * one bundle (flowrules_commit()). */
    uint64_t packets, bytes;    /* From flow-removed messages. */
    uint64_t poll_packets;      /* Sum over this poll's replies. */
    uint64_t idle_packets;      /* Packets at the last change seen. */
    long long int idle_since;   /* When they last changed (ms). */
};

/* A bundle sent and not yet confirmed.  Its messages have consecutive
 * xids: open, one per entry, commit, then a barrier, whose reply confirms
 * the bundle (any error about it comes before). */
struct fr_bundle {
    struct ovs_list node;
    uint32_t id;
    uint32_t open_xid;
    uint32_t n;
    bool failed;
    bool blamed;                /* A flow_mod of its own was refused. */
    uint64_t *flow_ids;         /* Flow of each entry. */
};

/* A meter shared by every flow with the same rate. */
struct fr_meter {
    uint32_t id;
    uint32_t kbps;
    uint32_t refs;
};

struct flowrules {
    struct flowrules_options opts;
    char *target;
    struct fr_conn *conn;       /* Shared with other users of the switch. */
    unsigned int conn_seqno;
    enum ofputil_protocol protocol;
    enum ofp_version version;

    struct hmap flows;          /* Desired table. */
    struct ovs_list dirty;      /* Flows with changes to send. */
    size_t n_committing;        /* Flows at its front, of a commit. */
    long long int dirty_since;  /* When 'dirty' became nonempty. */
    struct ovs_list inflight;   /* struct fr_bundle. */
    size_t n_inflight;

    /* Reconciliation after a (re)connection. */
    bool reconciled;
    bool ever_reconciled;       /* The first reconciliation is over. */
    bool first_connection;
    uint32_t dump_xid;
    uint32_t poll_xid;          /* Counter poll in progress, or 0. */
    long long int next_poll;    /* Of the idle poll (opts.poll_idle). */
    bool poll_wanted;           /* flowrules_poll() asked for one. */
    uint64_t poll_seqno;        /* Polls completed. */
    uint32_t ports_xid;
    struct shash ports;         /* Port name -> ofp_port_t (as pointer). */

    struct fr_meter *meters;
    size_t n_meters;
    uint32_t log_meter_id;
    uint32_t next_meter_id;

    long long int full_until;   /* Table full: new adds wait till then. */
    struct flowrules_stats stats;
};

static void fr_mark_dirty(struct flowrules *, struct fr_flow *,
                          enum fr_op);

void
flowrules_options_init(struct flowrules_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->table = FS_OF_TABLE;
    opts->priority = FS_OF_PRIO_VERDICT;
    opts->cookie_ns = FS_OF_VERDICT_COOKIE_NS;
    opts->next_table = -1;
    opts->label_table = FS_OF_LABEL_TABLE;
    opts->label_reg = FS_OF_LABEL_REG;
    opts->idle_timeout[0] = 300;
    opts->idle_timeout[1] = 60;
    opts->idle_timeout[2] = 30;
    opts->log_pps = 100;
    opts->bundle_max = 2000;
    opts->batch_ms = 1;
    opts->max_inflight = 4;
    opts->full_policy = FLOWRULES_FULL_INSPECT;
    opts->poll_idle = true;
}

int
flowrules_create(const struct flowrules_options *opts,
                 struct flowrules **out)
{
    struct flowrules *fr;

    *out = NULL;
    if (!opts->target || !opts->cookie_ns || opts->label_reg > 13
        || !opts->bundle_max || !opts->max_inflight
        || opts->next_table > 254 || opts->table == 255) {
        return EINVAL;
    }
    fr = xzalloc(sizeof *fr);
    fr->opts = *opts;
    fr->target = xstrdup(opts->target);
    fr->opts.target = fr->target;
    fr->conn = fr_conn_open(fr->target, "verdict rules", FR_CONN_ASYNC);
    hmap_init(&fr->flows);
    ovs_list_init(&fr->dirty);
    ovs_list_init(&fr->inflight);
    shash_init(&fr->ports);
    fr->next_meter_id = 1;
    fr->first_connection = true;
    *out = fr;
    return 0;
}

static void
fr_bundle_free(struct fr_bundle *b)
{
    free(b->flow_ids);
    free(b);
}

void
flowrules_destroy(struct flowrules *fr)
{
    struct fr_flow *f;
    struct fr_bundle *b;

    if (!fr) {
        return;
    }
    HMAP_FOR_EACH_POP (f, node, &fr->flows) {
        free(f);
    }
    hmap_destroy(&fr->flows);
    LIST_FOR_EACH_POP (b, node, &fr->inflight) {
        fr_bundle_free(b);
    }
    shash_destroy(&fr->ports);
    free(fr->meters);
    fr_conn_close(fr->conn);
    free(fr->target);
    free(fr);
}

/* ---------------------------------------------------------------------- */
/* Cookies, matches and actions. */

static ovs_be64
fr_cookie(const struct flowrules *fr, uint64_t flow_id)
{
    return htonll((uint64_t) fr->opts.cookie_ns << 48 | flow_id);
}

static ovs_be64
fr_ns_mask(void)
{
    return htonll(~FLOW_ID_MASK);
}

static bool
proto_has_ports(uint8_t proto)
{
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP
           || proto == IPPROTO_SCTP;
}

static int
fr_lru(uint8_t proto)
{
    return proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : 2;
}

/* Says whether the rules of 'r' leave packets with SYN set to the rules
 * below (opts.exclude_syn): those of an allowed TCP flow do; a drop's
 * match every packet, so that they hold while nobody below is there to
 * judge a SYN (the inspector down, fail=open). */
static bool
fr_excludes_syn(const struct flowrules *fr, const struct flowrules_rule *r)
{
    return (fr->opts.exclude_syn && r->key.l4_proto == IPPROTO_TCP
            && !(r->verdict.actions & FS_ACT_DROP));
}

/* Builds the match of direction 'dir' (0: as keyed, 1: reverse) of 'r'. */
static void
fr_build_match(const struct flowrules *fr, const struct flowrules_rule *r,
               int dir, struct match *m)
{
    const struct fs_flow_key *k = &r->key;
    const uint8_t *src = dir ? k->dst_ip : k->src_ip;
    const uint8_t *dst = dir ? k->src_ip : k->dst_ip;
    uint16_t sport = dir ? k->dst_port : k->src_port;
    uint16_t dport = dir ? k->src_port : k->dst_port;

    match_init_catchall(m);
    match_set_packet_type(m, htonl(PT_ETH));  /* As the switch reports it. */
    if (r->in_port && !dir) {
        match_set_in_port(m, u16_to_ofp(r->in_port));
    }
    if (k->vlan) {
        match_set_dl_vlan(m, htons(k->vlan), 0);
    } else {
        /* Untagged only; OpenFlow 1.3 can match VID and CFI, no more. */
        match_set_dl_tci_masked(m, htons(0), htons(VLAN_CFI | VLAN_VID_MASK));
    }
    if (k->ip_version == 4) {
        ovs_be32 a, b;

        memcpy(&a, src + 12, 4);
        memcpy(&b, dst + 12, 4);
        match_set_dl_type(m, htons(ETH_TYPE_IP));
        match_set_nw_src(m, a);
        match_set_nw_dst(m, b);
    } else {
        struct in6_addr a, b;

        memcpy(&a, src, 16);
        memcpy(&b, dst, 16);
        match_set_dl_type(m, htons(ETH_TYPE_IPV6));
        match_set_ipv6_src(m, &a);
        match_set_ipv6_dst(m, &b);
    }
    match_set_nw_proto(m, k->l4_proto);
    if (proto_has_ports(k->l4_proto)) {
        match_set_tp_src(m, htons(sport));
        match_set_tp_dst(m, htons(dport));
    }
    if (fr_excludes_syn(fr, r)) {
        /* SYN and SYN-ACK go on to the rules below. */
        match_set_tcp_flags_masked(m, htons(0), htons(TCP_SYN));
    }
}

/* Returns true if 'a' and 'b' match the same packets.  (match_equal()
 * also compares bits outside the masks, which differ after decoding.) */
static bool
fr_match_equal(const struct match *a_, const struct match *b_)
{
    struct match a = *a_, b = *b_;
    struct minimatch ma, mb;
    bool equal;

    /* Flow stats carry the packet type; flow-removed messages may not. */
    a.flow.packet_type = b.flow.packet_type = 0;
    a.wc.masks.packet_type = b.wc.masks.packet_type = 0;
    minimatch_init(&ma, &a);
    minimatch_init(&mb, &b);
    equal = minimatch_equal(&ma, &mb);
    minimatch_destroy(&ma);
    minimatch_destroy(&mb);
    return equal;
}

static void
fr_put_continue(const struct flowrules *fr, struct ofpbuf *ofpacts)
{
    if (fr->opts.next_table >= 0) {
        struct ofpact_resubmit *rs = ofpact_put_RESUBMIT(ofpacts);

        rs->in_port = OFPP_IN_PORT;
        rs->table_id = fr->opts.next_table;
    } else {
        ofpact_put_OUTPUT(ofpacts)->port = OFPP_NORMAL;
    }
}

static void
fr_put_reg(struct ofpbuf *ofpacts, int reg, uint32_t value)
{
    const struct mf_field *field = mf_from_id(MFF_REG0 + reg);
    union mf_value v, mask;

    memset(&v, 0, sizeof v);
    memset(&mask, 0xff, sizeof mask);
    v.be32 = htonl(value);
    ofpact_put_set_field(ofpacts, field, &v, &mask);
}

/* Builds the actions of 'f'.  Returns 0 or an errno (ENOENT: the mirror
 * port is unknown). */
static int
fr_build_actions(const struct flowrules *fr, const struct fr_flow *f,
                 struct ofpbuf *ofpacts)
{
    const struct flowrules_rule *r = &f->rule;
    uint32_t a = r->verdict.actions;

    if (a & FS_ACT_LOG && fr->log_meter_id) {
        struct ofpact_controller *c = ofpact_put_CONTROLLER(ofpacts);

        c->max_len = 256;
        c->reason = OFPR_ACTION;
        c->meter_id = fr->log_meter_id;
        c->provider_meter_id = UINT32_MAX;
        ofpact_finish_CONTROLLER(ofpacts, &c);
    }
    if (a & FS_ACT_DROP) {
        return 0;
    }
    if (a & FS_ACT_METER && f->meter_id) {
        struct ofpact_meter *m = ofpact_put_METER(ofpacts);

        m->meter_id = f->meter_id;
        m->provider_meter_id = UINT32_MAX;
    }
    if (a & FS_ACT_MIRROR) {
        struct shash_node *node = shash_find(&fr->ports,
                                             r->verdict.mirror_port);

        if (!node) {
            return ENOENT;
        }
        ofpact_put_OUTPUT(ofpacts)->port =
            u16_to_ofp((uintptr_t) node->data);
    }
    if (a & FS_ACT_LABEL) {
        struct ofpact_resubmit *rs;

        fr_put_reg(ofpacts, fr->opts.label_reg,
                   (uint32_t) r->master_id << 16 | r->app_id);
        fr_put_reg(ofpacts, fr->opts.label_reg + 1, r->category);
        fr_put_reg(ofpacts, fr->opts.label_reg + 2, (uint32_t) r->risks);
        rs = ofpact_put_RESUBMIT(ofpacts);
        rs->in_port = OFPP_IN_PORT;
        rs->table_id = fr->opts.label_table;
        return 0;
    }
    fr_put_continue(fr, ofpacts);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Meters. */

static struct fr_meter *
fr_meter_find(struct flowrules *fr, uint32_t kbps)
{
    size_t i;

    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].refs && fr->meters[i].kbps == kbps && kbps) {
            return &fr->meters[i];
        }
    }
    return NULL;
}

static void
fr_send(struct flowrules *fr, struct ofpbuf *msg)
{
    fr_conn_send(fr->conn, msg, 0);
}

/* Sends a meter_mod creating meter 'id' with one drop band at 'rate'
 * ('pktps': packets/s, else kbps). */
static void
fr_send_meter(struct flowrules *fr, uint32_t id, uint32_t rate, bool pktps)
{
    /* A burst of a tenth of a second: OVS's default is a whole second,
     * which lets a short flow through at twice the rate. */
    struct ofputil_meter_band band = {
        .type = OFPMBT13_DROP, .rate = rate,
        .burst_size = rate / 10 > 1 ? rate / 10 : 1,
    };
    struct ofputil_meter_mod mm = {
        .command = OFPMC13_ADD,
        .meter = {
            .meter_id = id,
            .flags = (pktps ? OFPMF13_PKTPS : OFPMF13_KBPS) | OFPMF13_BURST,
            .n_bands = 1,
            .bands = &band,
        },
    };

    if (!fr_conn_is_connected(fr->conn)) {
        return;
    }
    /* Add, then modify: the meter may exist from before a reconnect or a
     * restart, maybe with another rate. */
    fr_send(fr, ofputil_encode_meter_mod(fr->version, &mm));
    mm.command = OFPMC13_MODIFY;
    fr_send(fr, ofputil_encode_meter_mod(fr->version, &mm));
}

/* Returns the id of a meter at 'kbps', creating it if needed. */
static uint32_t
fr_meter_ref(struct flowrules *fr, uint32_t kbps)
{
    struct fr_meter *m = fr_meter_find(fr, kbps);

    if (!m) {
        size_t i;

        for (i = 0; i < fr->n_meters && fr->meters[i].refs; i++) {
            continue;
        }
        if (i == fr->n_meters) {
            fr->meters = xrealloc(fr->meters,
                                  ++fr->n_meters * sizeof *fr->meters);
            fr->meters[i].id = fr->next_meter_id++;
        }
        m = &fr->meters[i];
        m->kbps = kbps;
        m->refs = 0;
        fr->stats.meters++;
        fr_send_meter(fr, m->id, kbps, false);
    }
    m->refs++;
    return m->id;
}

/* Returns the rate that this instance gave meter 'id', or 0 if none. */
static uint32_t
fr_meter_rate(const struct flowrules *fr, uint32_t id)
{
    size_t i;

    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].id == id) {
            return fr->meters[i].kbps;
        }
    }
    return 0;
}

/* Takes a reference to meter 'id', which an adopted rule uses: one of this
 * instance's, or else one of unknown rate (kbps 0), which is neither
 * shared with new flows nor sent again, and whose id is not given out. */
static void
fr_meter_adopt(struct flowrules *fr, uint32_t id)
{
    struct fr_meter *m = NULL;
    size_t i;

    for (i = 0; i < fr->n_meters && !m; i++) {
        if (fr->meters[i].id == id) {
            m = &fr->meters[i];
        }
    }
    if (!m) {
        fr->meters = xrealloc(fr->meters,
                              ++fr->n_meters * sizeof *fr->meters);
        m = &fr->meters[fr->n_meters - 1];
        m->id = id;
        m->kbps = 0;
        m->refs = 0;
        fr->next_meter_id = MAX(fr->next_meter_id, id + 1);
    }
    if (!m->refs++) {
        fr->stats.meters++;
    }
}

static void
fr_meter_unref(struct flowrules *fr, uint32_t id)
{
    size_t i;

    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].id == id && fr->meters[i].refs) {
            if (!--fr->meters[i].refs) {
                fr->stats.meters--;     /* Kept on the switch for reuse. */
            }
            return;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* The desired table. */

static struct fr_flow *
fr_find(const struct flowrules *fr, uint64_t id)
{
    struct fr_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, hash_uint64(id), &fr->flows) {
        if (f->id == id) {
            return f;
        }
    }
    return NULL;
}

/* Returns true if a flow_mod of 'f' with its op changes direction 'dir':
 * a delete leaves a rule that the switch removed gone, since no
 * flow-removed message will come for it. */
static bool
fr_op_touches(const struct fr_flow *f, int dir)
{
    return f->op != FR_OP_DELETE || f->state[dir] != FR_GONE;
}

static void
fr_mark_dirty(struct flowrules *fr, struct fr_flow *f, enum fr_op op)
{
    int dir;

    f->op = op;
    for (dir = 0; dir < 2; dir++) {
        if (fr_op_touches(f, dir)) {
            f->state[dir] = FR_DIRTY;
        }
    }
    if (ovs_list_is_empty(&f->dirty_node)) {
        if (ovs_list_is_empty(&fr->dirty)) {
            fr->dirty_since = time_msec();
        }
        ovs_list_push_back(&fr->dirty, &f->dirty_node);
    }
}

/* Takes 'f' off the dirty list, if it is there. */
static void
fr_undirty(struct flowrules *fr, struct fr_flow *f)
{
    if (!ovs_list_is_empty(&f->dirty_node)) {
        ovs_list_remove(&f->dirty_node);
        ovs_list_init(&f->dirty_node);
    }
    if (f->committing) {
        f->committing = false;
        fr->n_committing--;
    }
}

/* Returns true if a bundle carrying 'f''s last change is in flight. */
static bool
fr_is_inflight(const struct fr_flow *f)
{
    return f->state[0] == FR_INFLIGHT || f->state[1] == FR_INFLIGHT;
}

/* Returns true if 'f''s rules are installed, but for any that the switch
 * removed. */
static bool
fr_is_installed(const struct fr_flow *f)
{
    return ((f->state[0] == FR_INSTALLED || f->state[0] == FR_GONE)
            && (f->state[1] == FR_INSTALLED || f->state[1] == FR_GONE));
}

static void
fr_free_flow(struct flowrules *fr, struct fr_flow *f)
{
    if (f->meter_id) {
        fr_meter_unref(fr, f->meter_id);
    }
    fr_undirty(fr, f);
    hmap_remove(&fr->flows, &f->node);
    free(f);
}

int
flowrules_set(struct flowrules *fr, uint64_t flow_id,
              const struct flowrules_rule *rule)
{
    uint32_t a = rule->verdict.actions;
    struct fr_flow *f;
    bool existed;

    if (flow_id > FLOW_ID_MASK || !(a & (FS_ACT_ALLOW | FS_ACT_DROP))
        || (rule->key.ip_version != 4 && rule->key.ip_version != 6)
        || (rule->in_port > 0xff00 && rule->in_port != 0xfffe)) {
        return EINVAL;          /* Not a port, nor LOCAL. */
    }
    if (a & FS_ACT_MIRROR && fr->reconciled
        && !shash_find(&fr->ports, rule->verdict.mirror_port)) {
        return ENOENT;
    }
    f = fr_find(fr, flow_id);
    existed = f && !f->deleted;
    if (!f) {
        f = xzalloc(sizeof *f);
        f->id = flow_id;
        ovs_list_init(&f->dirty_node);
        hmap_insert(&fr->flows, &f->node, hash_uint64(flow_id));
        fr->stats.flows++;
    } else if (existed && !memcmp(&f->rule, rule, sizeof *rule)
               && f->state[0] != FR_FAILED) {
        f->adopted = false;     /* The caller's now. */
        return 0;               /* No change. */
    } else if (f->deleted) {
        f->deleted = false;
        fr->stats.flows++;
    }
    enum fr_op op = FR_OP_ADD;
    if (existed) {
        op = (memcmp(&f->rule.key, &rule->key, sizeof rule->key)
              || f->rule.in_port != rule->in_port
              || fr_excludes_syn(fr, &f->rule) != fr_excludes_syn(fr, rule)
              ? FR_OP_REPLACE   /* Other matches: replace both rules. */
              : f->state[0] == FR_GONE || f->state[1] == FR_GONE
              ? FR_OP_ADD       /* The switch timed one out: add again. */
              : FR_OP_MODIFY);
    }

    if (f->meter_id) {
        fr_meter_unref(fr, f->meter_id);
        f->meter_id = 0;
    }
    f->rule = *rule;
    f->adopted = f->opaque = false;
    if (a & FS_ACT_METER) {
        f->meter_id = fr_meter_ref(fr, rule->verdict.meter_kbps);
    }
    fr_mark_dirty(fr, f, op);
    return 0;
}

int
flowrules_resend(struct flowrules *fr, uint64_t flow_id)
{
    struct fr_flow *f = flow_id <= FLOW_ID_MASK ? fr_find(fr, flow_id) : NULL;

    if (!f || f->deleted || f->opaque) {
        return ENOENT;
    }
    f->adopted = false;
    fr_mark_dirty(fr, f, FR_OP_REPLACE);
    return 0;
}

bool
flowrules_has_flow(const struct flowrules *fr, uint64_t flow_id)
{
    return flow_id <= FLOW_ID_MASK && fr_find(fr, flow_id);
}

const struct flowrules_rule *
flowrules_get_rule(const struct flowrules *fr, uint64_t flow_id)
{
    const struct fr_flow *f = (flow_id <= FLOW_ID_MASK
                               ? fr_find(fr, flow_id) : NULL);

    return f && !f->deleted ? &f->rule : NULL;
}

int
flowrules_remove(struct flowrules *fr, uint64_t flow_id)
{
    struct fr_flow *f = fr_find(fr, flow_id);

    if (!f || f->deleted) {
        return ENOENT;
    }
    f->deleted = true;
    fr->stats.flows--;
    if (f->state[0] == FR_GONE && f->state[1] == FR_GONE) {
        fr_free_flow(fr, f);
        return 0;
    }
    fr_mark_dirty(fr, f, FR_OP_DELETE);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Sending bundles. */

#define FR_BUNDLE_FLAGS (OFPBF_ORDERED | OFPBF_ATOMIC)

/* Returns the flow_mod of 'f' for direction 'dir', or its delete by cookie
 * if 'dir' is -1. */
static struct ofpbuf *
fr_encode_flow_mod(struct flowrules *fr, struct fr_flow *f, int dir,
                   const struct ofpbuf *ofpacts)
{
    struct ofputil_flow_mod fm;
    struct match match;
    struct ofpbuf *msg;

    memset(&fm, 0, sizeof fm);
    fm.table_id = fr->opts.table;
    fm.priority = fr->opts.priority;
    fm.buffer_id = UINT32_MAX;
    fm.out_port = OFPP_ANY;
    fm.out_group = OFPG_ANY;
    fm.new_cookie = OVS_BE64_MAX;

    if (dir < 0) {
        match_init_catchall(&match);
        minimatch_init(&fm.match, &match);
        fm.command = OFPFC_DELETE;
        fm.cookie = fr_cookie(fr, f->id);
        fm.cookie_mask = OVS_BE64_MAX;
    } else {
        fr_build_match(fr, &f->rule, dir, &match);
        minimatch_init(&fm.match, &match);
        fm.command = f->op == FR_OP_MODIFY ? OFPFC_MODIFY_STRICT : OFPFC_ADD;
        fm.new_cookie = fr_cookie(fr, f->id);
        if (f->op == FR_OP_MODIFY) {
            fm.cookie = fm.new_cookie;
            fm.cookie_mask = OVS_BE64_MAX;
        }
        fm.idle_timeout = (fr->opts.poll_idle
                           ? 0
                           : fr->opts.idle_timeout[
                               fr_lru(f->rule.key.l4_proto)]);
        fm.hard_timeout = fr->opts.hard_timeout;
        fm.flags = OFPUTIL_FF_SEND_FLOW_REM;
        fm.ofpacts = ofpacts->data;
        fm.ofpacts_len = ofpacts->size;
    }
    msg = ofputil_encode_flow_mod(&fm, fr->protocol);
    minimatch_destroy(&fm.match);
    return msg;
}

static void
fr_fail_flow(struct flowrules *fr, struct fr_flow *f, int error,
             bool table_full)
{
    f->state[0] = f->state[1] = FR_FAILED;
    fr->stats.rules_failed += 2;
    if (fr->opts.error_cb) {
        fr->opts.error_cb(fr->opts.aux, f->id, error, table_full,
                          fr->opts.full_policy);
    }
}

/* Room on the connection's queue that bundles leave for requests (dumps,
 * meters): a bundle is sized to what fits, and none starts with less than
 * this and one flow's messages. */
#define FR_CONN_SPARE 64

/* The most flow_mods in one bundle, whatever the backlog. */
#define FR_BUNDLE_HARD_MAX (1u << 20)

/* While encoding a bundle, queued flow_mods go to the socket every this
 * many. */
#define FR_SEND_EVERY 256

/* Sends one bundle with up to bundle_max flow_mods from 'dirty', or, after
 * flowrules_commit(), with the flows of the commit. */
static void
fr_send_bundle(struct flowrules *fr)
{
    struct fr_bundle *b = xzalloc(sizeof *b);
    uint64_t ofpacts_stub[1024 / 8];
    struct ofpbuf ofpacts;
    size_t backlog = ovs_list_size(&fr->dirty) * 2;
    uint32_t max = fr->opts.bundle_max;
    bool commit = fr->n_committing > 0;
    uint32_t xid;

    /* A backlog larger than the bundles in flight can carry goes in one
     * bundle: a commit costs ovs-vswitchd more the more rules it has, so
     * one commit of N rules is cheaper than several (at 100,000 flows,
     * ovs-vswitchd spent 0.80 s of CPU for 2 bundles and 1.06 s for 16;
     * bench/run-flowrules-bench.sh prints it). */
    if (commit) {
        /* At most 3 flow_mods per flow (FR_OP_REPLACE). */
        max = MIN(fr->n_committing * 3, FR_BUNDLE_HARD_MAX);
        fr->stats.commits++;
    } else if (backlog > (size_t) max * fr->opts.max_inflight) {
        max = MIN(backlog + 3, FR_BUNDLE_HARD_MAX);
    }

    ofpbuf_use_stub(&ofpacts, ofpacts_stub, sizeof ofpacts_stub);
    /* A bundle is never cut short by the connection's queue limit. */
    max = MIN(max, fr_conn_room(fr->conn) - FR_CONN_SPARE);
    b->id = fr_conn_new_bundle_id(fr->conn);
    b->open_xid = xid = fr_conn_reserve_xids(fr->conn, max + 3);
    b->flow_ids = xmalloc(max * sizeof *b->flow_ids);
    fr_conn_send_bundle_ctrl(fr->conn, b->id, OFPBCT_OPEN_REQUEST,
                             FR_BUNDLE_FLAGS, xid++);

    while (!ovs_list_is_empty(&fr->dirty) && b->n + 3 <= max
           && (!commit || fr->n_committing)) {
        struct fr_flow *f = CONTAINER_OF(ovs_list_front(&fr->dirty),
                                         struct fr_flow, dirty_node);
        int i;

        fr_undirty(fr, f);
        if (f->op == FR_OP_ADD && time_msec() < fr->full_until) {
            /* The table was full a moment ago: no retry storm. */
            fr->stats.table_full++;
            fr_fail_flow(fr, f, OFPERR_OFPFMFC_TABLE_FULL, true);
            continue;
        }
        ofpbuf_clear(&ofpacts);
        if (f->op != FR_OP_DELETE) {
            int error = fr_build_actions(fr, f, &ofpacts);

            if (error) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

                VLOG_WARN_RL(&rl, "flow %"PRIu64": mirror port %s unknown",
                             f->id, f->rule.verdict.mirror_port);
                fr_fail_flow(fr, f, error, false);
                continue;
            }
        }
        for (i = 0; i < n_msgs[f->op]; i++) {
            struct ofpbuf *fm = fr_encode_flow_mod(fr, f, msg_dir[f->op][i],
                                                   &ofpacts);

            fr_conn_send_bundle_add(fr->conn, b->id, FR_BUNDLE_FLAGS, fm,
                                    xid++);
            b->flow_ids[b->n++] = f->id;
            fr->stats.flow_mods_sent++;
        }
        for (i = 0; i < 2; i++) {
            if (fr_op_touches(f, i)) {
                f->state[i] = FR_INFLIGHT;
            }
        }
        if (b->n % FR_SEND_EVERY < n_msgs[f->op]) {
            /* Hand what is queued to the socket now: with a large bundle,
             * the switch would otherwise sit idle until every flow_mod is
             * encoded (at 100,000 flows, 0.2 s of the 1 s it took). */
            fr_conn_flush(fr->conn);
        }
    }
    ofpbuf_uninit(&ofpacts);
    fr_conn_send_bundle_ctrl(fr->conn, b->id, OFPBCT_COMMIT_REQUEST,
                             FR_BUNDLE_FLAGS, xid++);
    fr_conn_send_barrier(fr->conn, xid);
    ovs_list_push_back(&fr->inflight, &b->node);
    fr->n_inflight++;
    fr->stats.bundles_sent++;
    if (!ovs_list_is_empty(&fr->dirty)) {
        fr->dirty_since = time_msec();
    }
}

static uint32_t
fr_bundle_commit_xid(const struct fr_bundle *b)
{
    return b->open_xid + b->n + 1;
}

static uint32_t
fr_bundle_barrier_xid(const struct fr_bundle *b)
{
    return b->open_xid + b->n + 2;
}

/* Returns the in-flight bundle whose xids include 'xid', or NULL. */
static struct fr_bundle *
fr_bundle_by_xid(struct flowrules *fr, uint32_t xid)
{
    struct fr_bundle *b;

    LIST_FOR_EACH (b, node, &fr->inflight) {
        if (xid - b->open_xid <= b->n + 2) {
            return b;
        }
    }
    return NULL;
}

/* Bundle 'b' was committed (or failed): updates its flows. */
static void
fr_bundle_done(struct flowrules *fr, struct fr_bundle *b)
{
    uint32_t i;

    for (i = 0; i < b->n; i++) {
        struct fr_flow *f = fr_find(fr, b->flow_ids[i]);

        if (!f || !fr_is_inflight(f)) {
            continue;           /* Changed again since, or failed. */
        }
        if (b->failed && b->blamed) {
            /* Another entry caused the failure and was failed: send the
             * others again in a later bundle. */
            fr_mark_dirty(fr, f, f->op);
        } else if (b->failed) {
            /* No flow_mod to blame: give up on them all, rather than
             * retry for ever. */
            fr_fail_flow(fr, f, EPROTO, false);
        } else if (f->deleted && f->expiring) {
            /* Freed when the switch reports both rules removed.  It may
             * have reported one already, before this reply: that one
             * stays gone, or the flow would wait for it for ever. */
            int dir;

            for (dir = 0; dir < 2; dir++) {
                if (f->state[dir] == FR_INFLIGHT) {
                    f->state[dir] = FR_INSTALLED;
                }
            }
        } else if (f->deleted) {
            fr_free_flow(fr, f);
        } else {
            f->state[0] = f->state[1] = FR_INSTALLED;
            fr->stats.rules_installed += 2;
            if (fr->opts.installed_cb) {
                fr->opts.installed_cb(fr->opts.aux, f->id);
            }
        }
    }
    if (b->failed) {
        fr->stats.bundles_failed++;
    } else {
        fr->stats.bundles_committed++;
    }
    ovs_list_remove(&b->node);
    fr->n_inflight--;
    fr_bundle_free(b);
}

/* ---------------------------------------------------------------------- */
/* Receiving. */

static bool
ofperr_is_table_full(enum ofperr error)
{
    return error == OFPERR_OFPFMFC_TABLE_FULL;
}

static void
fr_handle_error(struct flowrules *fr, const struct ofp_header *oh)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    enum ofperr error = ofperr_decode_msg(oh, NULL);
    uint32_t xid = ntohl(oh->xid);
    struct fr_bundle *b = fr_bundle_by_xid(fr, xid);

    if (error == OFPERR_OFPMMFC_METER_EXISTS) {
        return;                 /* Our meter add after a reconnect. */
    }
    fr->stats.errors++;
    if (!b) {
        VLOG_WARN_RL(&rl, "%s: OpenFlow error %s (xid %#"PRIx32")",
                     fr->target, ofperr_to_string(error), xid);
        return;
    }
    b->failed = true;
    if (xid - b->open_xid - 1 < b->n) {
        /* A flow_mod of the bundle: that flow is refused. */
        uint64_t flow_id = b->flow_ids[xid - b->open_xid - 1];
        struct fr_flow *f = fr_find(fr, flow_id);
        bool full = ofperr_is_table_full(error);

        if (!VLOG_DROP_WARN(&rl)) {
            struct ds rule = DS_EMPTY_INITIALIZER;

            if (f && !f->opaque) {
                struct match m;

                fr_build_match(fr, &f->rule, 0, &m);
                match_format(&m, NULL, &rule, fr->opts.priority);
                ds_put_format(&rule, " actions=%s",
                              fs_verdict_format(&f->rule.verdict,
                                                (char [64]) { 0 }, 64));
            }
            VLOG_WARN("%s: flow %"PRIu64" (%s) refused: %s", fr->target,
                      flow_id, ds_cstr(&rule), ofperr_to_string(error));
            ds_destroy(&rule);
        }
        if (full) {
            fr->stats.table_full++;
            fr->full_until = time_msec() + 1000;
        }
        if (f && fr_is_inflight(f)) {
            fr_fail_flow(fr, f, error, full);
            b->blamed = true;
        }
    } else if (xid == fr_bundle_commit_xid(b)) {
        /* The commit failed; any flow_mod to blame was reported first.
         * The barrier reply ends the bundle. */
    } else if (xid == fr_bundle_barrier_xid(b)) {
        /* Not something a switch says about a barrier (found by
         * tests/fuzz/fuzz-openflow): no reply will end the bundle, so
         * end it here, failed, rather than hold a slot for ever. */
        fr_bundle_done(fr, b);
    } else {
        VLOG_WARN_RL(&rl, "%s: bundle open failed: %s", fr->target,
                     ofperr_to_string(error));
    }
}

/* Both of 'f''s rules are gone from the switch: frees 'f', then reports it
 * (so that the callback may set the flow again). */
static void
fr_flow_gone(struct flowrules *fr, struct fr_flow *f, int reason)
{
    struct flowrules_rule rule = f->rule;
    uint64_t id = f->id, packets = f->packets, bytes = f->bytes;

    fr->stats.flows_removed++;
    if (!f->deleted) {
        fr->stats.flows--;
    }
    fr_free_flow(fr, f);
    if (fr->opts.removed_cb) {
        fr->opts.removed_cb(fr->opts.aux, id, &rule, packets, bytes, reason);
    }
}

static void
fr_handle_flow_removed(struct flowrules *fr, const struct ofp_header *oh)
{
    struct ofputil_flow_removed fremoved;
    struct fr_flow *f;
    struct match m;
    uint64_t cookie;
    int dir;

    if (ofputil_decode_flow_removed(&fremoved, oh)) {
        return;
    }
    cookie = ntohll(fremoved.cookie);
    VLOG_DBG("flow removed: cookie %#"PRIx64" reason %d, %"PRIu64" packets",
             cookie, fremoved.reason, fremoved.packet_count);
    if (cookie >> 48 != fr->opts.cookie_ns) {
        return;                 /* Not ours. */
    }
    f = fr_find(fr, cookie & FLOW_ID_MASK);
    if (!f || (fremoved.reason == OFPRR_DELETE && !f->expiring)) {
        return;                 /* Unknown, or deleted on request. */
    }
    if (f->expiring) {
        fremoved.reason = OFPRR_IDLE_TIMEOUT;
    }
    if (f->opaque) {
        /* Rules not decoded: the first one not gone yet. */
        dir = f->state[0] != FR_GONE ? 0 : 1;
    } else {
        for (dir = 0; dir < 2; dir++) {
            fr_build_match(fr, &f->rule, dir, &m);
            if (fr_match_equal(&m, &fremoved.match)) {
                break;
            }
        }
    }
    if (dir == 2) {
        VLOG_DBG("flow %"PRIu64": removed rule matches neither direction",
                 f->id);
        return;
    }
    if (f->state[dir] == FR_GONE) {
        return;
    }
    f->state[dir] = FR_GONE;
    if (fremoved.packet_count != UINT64_MAX) {
        f->packets += fremoved.packet_count;
        f->bytes += fremoved.byte_count;
    }
    if (f->state[!dir] == FR_GONE) {
        fr_flow_gone(fr, f, fremoved.reason);
    }
}

/* ---------------------------------------------------------------------- */
/* Adoption: rules found on the switch, decoded back into flows' rules. */

/* Returns the name of the switch's port 'port', or NULL if unknown. */
static const char *
fr_port_name(const struct flowrules *fr, ofp_port_t port)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &fr->ports) {
        if (u16_to_ofp((uintptr_t) node->data) == port) {
            return node->name;
        }
    }
    return NULL;
}

/* Decodes 'm', the match of a dumped rule, as direction 0 of a flow into
 * the key and in_port of 'r'.  Returns false unless fr_build_match() makes
 * 'm' of them. */
static bool
fr_decode_match(const struct flowrules *fr, const struct match *m,
                struct flowrules_rule *r)
{
    const struct flow *fl = &m->flow;
    struct fs_flow_key *k = &r->key;
    struct match built;

    if (m->wc.masks.in_port.ofp_port == u16_to_ofp(UINT16_MAX)) {
        r->in_port = ofp_to_u16(fl->in_port.ofp_port);
    }
    if (m->wc.masks.vlans[0].tci & fl->vlans[0].tci & htons(VLAN_CFI)) {
        k->vlan = vlan_tci_to_vid(fl->vlans[0].tci);
    }
    if (fl->dl_type == htons(ETH_TYPE_IP)) {
        struct in6_addr src = in6_addr_mapped_ipv4(fl->nw_src);
        struct in6_addr dst = in6_addr_mapped_ipv4(fl->nw_dst);

        k->ip_version = 4;
        memcpy(k->src_ip, &src, 16);
        memcpy(k->dst_ip, &dst, 16);
    } else if (fl->dl_type == htons(ETH_TYPE_IPV6)) {
        k->ip_version = 6;
        memcpy(k->src_ip, &fl->ipv6_src, 16);
        memcpy(k->dst_ip, &fl->ipv6_dst, 16);
    } else {
        return false;
    }
    k->l4_proto = fl->nw_proto & m->wc.masks.nw_proto;
    if (proto_has_ports(k->l4_proto)) {
        k->src_port = ntohs(fl->tp_src);
        k->dst_port = ntohs(fl->tp_dst);
    }
    if (r->in_port > 0xff00 && r->in_port != 0xfffe) {
        return false;           /* Not a port flowrules_set() takes. */
    }
    fr_build_match(fr, r, 0, &built);
    return fr_match_equal(&built, m);
}

/* Decodes the 'n' bytes of actions 'ofpacts' of a dumped rule into the
 * verdict and label fields of 'f''s rule and into 'f->meter_id'.  Returns
 * false unless fr_build_actions() makes the same actions of them. */
static bool
fr_decode_actions(const struct flowrules *fr, const struct ofpact *ofpacts,
                  size_t n, struct fr_flow *f)
{
    const struct ofpact *end = ofpact_end(ofpacts, n);
    const struct ofpact *a = ofpacts;
    struct flowrules_rule *r = &f->rule;
    struct fs_verdict *v = &r->verdict;
    uint64_t stub[1024 / 8];
    struct ofpbuf built;
    bool equal;

    if (a < end && a->type == OFPACT_CONTROLLER) {
        v->actions |= FS_ACT_LOG;
        a = ofpact_next(a);
    }
    v->actions |= a < end ? FS_ACT_ALLOW : FS_ACT_DROP;
    if (a < end && a->type == OFPACT_METER) {
        uint32_t id = ofpact_get_METER(a)->meter_id;

        if (!id || id >= fr->log_meter_id) {
            return false;       /* Not an id flowrules gives out. */
        }
        f->meter_id = id;
        v->actions |= FS_ACT_METER;
        v->meter_kbps = fr_meter_rate(fr, id);
        a = ofpact_next(a);
    }
    if (a < end && a->type == OFPACT_OUTPUT
        && ofp_to_u16(ofpact_get_OUTPUT(a)->port) < ofp_to_u16(OFPP_MAX)) {
        const char *name = fr_port_name(fr, ofpact_get_OUTPUT(a)->port);

        if (!name || strlen(name) >= sizeof v->mirror_port) {
            return false;
        }
        ovs_strlcpy(v->mirror_port, name, sizeof v->mirror_port);
        v->actions |= FS_ACT_MIRROR;
        a = ofpact_next(a);
    }
    if (a < end && a->type == OFPACT_SET_FIELD) {
        uint32_t regs[3];
        int i;

        for (i = 0; i < 3; i++, a = ofpact_next(a)) {
            const struct ofpact_set_field *sf;

            if (a >= end || a->type != OFPACT_SET_FIELD) {
                return false;
            }
            sf = ofpact_get_SET_FIELD(a);
            if (sf->field->id != MFF_REG0 + fr->opts.label_reg + i) {
                return false;
            }
            regs[i] = ntohl(sf->value->be32);
        }
        v->actions |= FS_ACT_LABEL;
        r->master_id = regs[0] >> 16;
        r->app_id = regs[0] & 0xffff;
        r->category = regs[1];
        r->risks = regs[2];
    }

    /* The rest, the continue or the label's resubmit, and every detail
     * (masks, tables, ports) are checked here. */
    ofpbuf_use_stub(&built, stub, sizeof stub);
    equal = (!fr_build_actions(fr, f, &built)
             && ofpacts_equal_stringwise(built.data, built.size, ofpacts, n));
    ofpbuf_uninit(&built);
    return equal;
}

/* Decodes dumped rule 'fs' as direction 0 of a flow into 'd', a scratch
 * flow (only its rule and meter_id are meaningful).  Returns true if
 * building the rule again from 'd' gives 'fs'. */
static bool
fr_decode_rule(const struct flowrules *fr,
               const struct ofputil_flow_stats *fs, struct fr_flow *d)
{
    bool match_ok, actions_ok;

    memset(d, 0, sizeof *d);
    /* The actions first: whether the match excludes SYN depends on them. */
    actions_ok = fr_decode_actions(fr, fs->ofpacts, fs->ofpacts_len, d);
    match_ok = fr_decode_match(fr, &fs->match, &d->rule);
    return match_ok && actions_ok && fs->priority == fr->opts.priority;
}

/* Makes adopted flow 'f' opaque ('why' says why, for the log).  Of its rule,
 * as far as it was decoded, it keeps the protocol, for the idle timeout,
 * and whether the rules had no actions: then drop, else allow. */
static void
fr_make_opaque(struct fr_flow *f, const char *why)
{
    uint8_t l4_proto = f->rule.key.l4_proto;
    bool no_actions = f->rule.verdict.actions == FS_ACT_DROP;

    VLOG_DBG("flow %"PRIu64": adopted, rules not decoded: %s", f->id, why);
    f->opaque = true;
    memset(&f->rule, 0, sizeof f->rule);
    f->rule.key.l4_proto = l4_proto;
    f->rule.verdict.actions = no_actions ? FS_ACT_DROP : FS_ACT_ALLOW;
}

/* Returns true if 'f''s rule, decoded from the first rule of a pair, and
 * 'd''s, decoded from the second, are the two directions of one flow.  The
 * one with an in_port is direction 0: if that is 'd''s, it becomes 'f''s
 * rule. */
static bool
fr_adopt_pair(const struct flowrules *fr, struct fr_flow *f,
              const struct fr_flow *d)
{
    const struct flowrules_rule *a = &f->rule, *b = &d->rule;
    const struct flowrules_rule *fwd = b->in_port ? b : a;
    const struct flowrules_rule *rev = b->in_port ? a : b;
    struct match want, got;

    if (memcmp(&a->verdict, &b->verdict, sizeof a->verdict)
        || a->master_id != b->master_id || a->app_id != b->app_id
        || a->category != b->category || a->risks != b->risks
        || f->meter_id != d->meter_id || (a->in_port && b->in_port)) {
        return false;
    }
    fr_build_match(fr, fwd, 1, &want);
    fr_build_match(fr, rev, 0, &got);
    if (!fr_match_equal(&want, &got)) {
        return false;
    }
    if (fwd != a) {
        f->rule = *fwd;
    }
    return true;
}

/* Dumped rule 'fs', on the first connection with opts.adopt, belongs to
 * adopted flow 'f'.  Its first rule is decoded as direction 0, and its
 * second must be the other direction; anything else makes it opaque. */
static void
fr_adopt_rule(struct flowrules *fr, struct fr_flow *f,
              const struct ofputil_flow_stats *fs)
{
    struct fr_flow d;
    bool ok = fr_decode_rule(fr, fs, &d);

    if (f->state[0] == FR_UNKNOWN) {
        f->state[0] = FR_INSTALLED;
        f->rule = d.rule;
        if (d.meter_id) {
            /* Held while the rule may use it, decoded or not. */
            fr_meter_adopt(fr, d.meter_id);
            f->meter_id = d.meter_id;
        }
        if (!ok) {
            fr_make_opaque(f, "a rule flowrules does not make");
        }
    } else if (f->state[1] == FR_UNKNOWN) {
        f->state[1] = FR_INSTALLED;
        if (!f->opaque && !(ok && fr_adopt_pair(fr, f, &d))) {
            fr_make_opaque(f, "its two rules are not one flow's");
        }
    } else if (!f->opaque) {
        fr_make_opaque(f, "more than two rules");
    }
}

/* Dumped rule 'fs' is one of opaque flow 'f''s, after a reconnection: it
 * is the first of them not found yet. */
static void
fr_opaque_seen(struct flowrules *fr, struct fr_flow *f)
{
    int dir;

    for (dir = 0; dir < 2; dir++) {
        if (f->state[dir] == FR_UNKNOWN) {
            f->state[dir] = FR_INSTALLED;
            fr->stats.reconcile_kept++;
            return;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Reconciliation. */

/* Compares a dumped rule with the desired one. */
static void
fr_reconcile_one(struct flowrules *fr, const struct ofputil_flow_stats *fs)
{
    uint64_t cookie = ntohll(fs->cookie);
    uint64_t id = cookie & FLOW_ID_MASK;
    struct fr_flow *f = fr_find(fr, id);
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts;
    struct match m;
    int dir;

    if (!f && fr->first_connection && fr->opts.adopt) {
        f = xzalloc(sizeof *f);     /* Both rules FR_UNKNOWN. */
        f->id = id;
        f->adopted = true;
        ovs_list_init(&f->dirty_node);
        hmap_insert(&fr->flows, &f->node, hash_uint64(id));
        fr->stats.flows++;
        fr->stats.reconcile_adopted++;
    }
    if (!f) {
        /* A rule of a flow nobody wants: delete it by its cookie. */
        f = xzalloc(sizeof *f);
        f->id = id;
        f->deleted = true;
        ovs_list_init(&f->dirty_node);
        hmap_insert(&fr->flows, &f->node, hash_uint64(id));
        fr_mark_dirty(fr, f, FR_OP_DELETE);
        fr->stats.reconcile_deleted++;
        return;
    }
    f->seen_in_dump = true;
    if (f->deleted) {
        return;
    } else if (f->adopted && fr->first_connection) {
        fr_adopt_rule(fr, f, fs);
        return;
    } else if (f->opaque) {
        fr_opaque_seen(fr, f);
        return;
    }
    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    for (dir = 0; dir < 2; dir++) {
        fr_build_match(fr, &f->rule, dir, &m);
        if (fr_match_equal(&m, &fs->match)) {
            break;
        }
    }
    if (dir < 2 && fs->priority == fr->opts.priority
        && fs->table_id == fr->opts.table
        && (fr_build_actions(fr, f, &ofpacts)
            /* As text: decoded set_field and controller actions differ
             * from built ones in bits that do not matter. */
            || !ofpacts_equal_stringwise(ofpacts.data, ofpacts.size,
                                         fs->ofpacts, fs->ofpacts_len))) {
        /* Our rule, other actions (a verdict changed while we were away):
         * modify in place, keeping its counters. */
        if (ovs_list_is_empty(&f->dirty_node) || f->op == FR_OP_ADD) {
            fr_mark_dirty(fr, f, FR_OP_MODIFY);
            fr->stats.reconcile_sent++;
        }
        f->state[dir] = FR_DIRTY;
    } else if (dir < 2 && fs->priority == fr->opts.priority
               && fs->table_id == fr->opts.table) {
        if (f->state[dir] != FR_INSTALLED) {
            f->state[dir] = FR_INSTALLED;
            fr->stats.reconcile_kept++;
            fr->stats.rules_installed++;
        }
        if (f->state[!dir] == FR_INSTALLED && f->op != FR_OP_REPLACE
            && !ovs_list_is_empty(&f->dirty_node)) {
            /* Both rules are there as wanted: nothing to send. */
            fr_undirty(fr, f);
        }
    } else if (f->op != FR_OP_REPLACE
               || ovs_list_is_empty(&f->dirty_node)) {
        /* The switch has something else under this flow's cookie. */
        fr_mark_dirty(fr, f, FR_OP_REPLACE);
        fr->stats.reconcile_sent += 2;
    }
    ofpbuf_uninit(&ofpacts);
}

/* The dump is complete, for 'f', adopted in it ('adopting') or opaque since
 * an earlier one: a rule it did not show is gone.  Returns true if 'f' is
 * to be reported (fr_report()). */
static bool
fr_finish_adopted(struct fr_flow *f, bool adopting)
{
    int dir;

    if (adopting) {
        if (f->state[1] == FR_UNKNOWN) {
            f->state[1] = FR_GONE;
            if (!f->opaque) {
                fr_make_opaque(f, "one rule alone");
            }
        }
        return true;
    }
    /* Opaque rules cannot be sent again. */
    for (dir = 0; dir < 2; dir++) {
        if (f->state[dir] == FR_UNKNOWN) {
            f->state[dir] = FR_GONE;
        }
    }
    return f->state[0] == FR_GONE && f->state[1] == FR_GONE;
}

/* After a reconciliation, calls the callbacks for the 'n' flows in 'ids':
 * adopted ('adopting'), or opaque and gone.  They may change the table. */
static void
fr_report(struct flowrules *fr, const uint64_t *ids, size_t n, bool adopting)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct fr_flow *f = fr_find(fr, ids[i]);

        if (!f || f->deleted) {
            continue;
        } else if (adopting && f->adopted && fr->opts.adopted_cb) {
            struct flowrules_rule rule = f->rule;

            fr->opts.adopted_cb(fr->opts.aux, f->id, &rule);
        } else if (!adopting && f->opaque && f->state[0] == FR_GONE
                   && f->state[1] == FR_GONE) {
            fr_flow_gone(fr, f, OFPRR_DELETE);
        }
    }
}

/* The dump is complete: anything desired and not confirmed is sent. */
static void
fr_reconcile_finish(struct flowrules *fr)
{
    bool adopting = fr->first_connection;
    uint64_t *report = NULL;    /* Flows for the callbacks, at the end. */
    size_t n_report = 0, allocated = 0;
    struct fr_flow *f, *next;

    HMAP_FOR_EACH_SAFE (f, next, node, &fr->flows) {
        bool seen = f->seen_in_dump;
        bool to_report = false;

        f->seen_in_dump = false;
        if (f->deleted && !seen && ovs_list_is_empty(&f->dirty_node)) {
            fr_free_flow(fr, f);
        } else if (f->deleted) {
            if (ovs_list_is_empty(&f->dirty_node)) {
                /* Its delete was in flight when the connection was lost,
                 * and did not happen: send it again. */
                fr_mark_dirty(fr, f, FR_OP_DELETE);
            }
        } else if ((f->adopted && adopting) || f->opaque) {
            to_report = fr_finish_adopted(f, adopting);
        } else if (f->state[0] == FR_FAILED) {
            continue;           /* Not retried until set again. */
        } else if ((f->state[0] == FR_UNKNOWN || f->state[1] == FR_UNKNOWN)
                   && f->op != FR_OP_REPLACE) {
            /* Missing from the switch (a modify would do nothing): add.
             * A rule the switch timed out before stays gone. */
            fr_mark_dirty(fr, f, FR_OP_ADD);
            fr->stats.reconcile_sent += 2;
        }
        if (to_report) {
            if (n_report >= allocated) {
                report = x2nrealloc(report, &allocated, sizeof *report);
            }
            report[n_report++] = f->id;
        }
    }
    fr->reconciled = true;
    fr->first_connection = false;
    VLOG_INFO("%s: reconciled: %"PRIu64" rules kept, %"PRIu64" to send, "
              "%"PRIu64" stray deleted, %"PRIu64" adopted", fr->target,
              fr->stats.reconcile_kept, fr->stats.reconcile_sent,
              fr->stats.reconcile_deleted, fr->stats.reconcile_adopted);
    fr_report(fr, report, n_report, adopting);
    free(report);
    fr->ever_reconciled = true;
}

/* Sends a flow stats request for every rule under the cookie namespace
 * and returns its xid. */
static uint32_t
fr_request_dump(struct flowrules *fr)
{
    struct ofputil_flow_stats_request fsr;
    struct ofpbuf *msg;

    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    fsr.table_id = fr->opts.table;
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.cookie = htonll((uint64_t) fr->opts.cookie_ns << 48);
    fsr.cookie_mask = fr_ns_mask();
    msg = ofputil_encode_flow_stats_request(&fsr, fr->protocol);
    return fr_conn_send(fr->conn, msg, 0);
}

/* Calls 'cb' for each rule of flow stats reply 'msg' that is under the
 * namespace.  Returns true if more replies follow. */
static bool
fr_parse_dump(struct flowrules *fr, struct ofpbuf *msg,
              void (*cb)(struct flowrules *,
                         const struct ofputil_flow_stats *))
{
    bool more = ofpmp_more(msg->data);
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts;

    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, msg, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN("%s: bad flow stats reply: %s", fr->target,
                          ofperr_to_string(retval));
            }
            break;
        }
        if (ntohll(fs.cookie) >> 48 == fr->opts.cookie_ns) {
            cb(fr, &fs);
        }
    }
    ofpbuf_uninit(&ofpacts);
    return more;
}

static void
fr_handle_dump_reply(struct flowrules *fr, struct ofpbuf *msg)
{
    if (!fr_parse_dump(fr, msg, fr_reconcile_one)) {
        fr->dump_xid = 0;
        fr_reconcile_finish(fr);
    }
}

/* ---------------------------------------------------------------------- */
/* Idle expiry by polling (opts.poll_idle). */

static long long int
fr_poll_interval(const struct flowrules *fr)
{
    int i, min = 0;

    for (i = 0; i < 3; i++) {
        int t = fr->opts.idle_timeout[i];

        if (t && (!min || t < min)) {
            min = t;
        }
    }
    return min ? MAX(1000, min * 1000LL / 4) : 0;
}

/* The poll is complete: with opts.poll_idle, flows whose counters did not
 * move for their idle timeout are deleted; the switch's flow-removed
 * messages bring their final counters. */
static void
fr_poll_finish(struct flowrules *fr)
{
    long long int now = time_msec();
    struct fr_flow *f;

    fr->poll_seqno++;
    HMAP_FOR_EACH (f, node, &fr->flows) {
        int timeout = fr->opts.idle_timeout[fr_lru(f->rule.key.l4_proto)];
        uint64_t n = f->poll_packets;

        f->poll_packets = 0;
        if (f->deleted || !fr_is_installed(f)) {
            continue;
        }
        if (!f->idle_since || n != f->idle_packets) {
            f->idle_packets = n;
            f->idle_since = now;
        } else if (fr->opts.poll_idle && timeout
                   && now - f->idle_since >= timeout * 1000LL) {
            VLOG_DBG("flow %"PRIu64": idle for %lld ms, deleting", f->id,
                     now - f->idle_since);
            f->expiring = true;
            f->deleted = true;
            fr->stats.flows--;
            fr_mark_dirty(fr, f, FR_OP_DELETE);
        }
    }
}

void
flowrules_set_idle_timeouts(struct flowrules *fr, const uint16_t timeouts[3])
{
    long long int interval;

    memcpy(fr->opts.idle_timeout, timeouts, sizeof fr->opts.idle_timeout);
    interval = fr_poll_interval(fr);
    if (interval) {
        fr->next_poll = MIN(fr->next_poll, time_msec() + interval);
    }
}

static void
fr_poll_count(struct flowrules *fr, const struct ofputil_flow_stats *fs)
{
    VLOG_DBG("poll: cookie %#"PRIx64", %"PRIu64" packets",
             ntohll(fs->cookie), fs->packet_count);
    struct fr_flow *f = fr_find(fr, ntohll(fs->cookie) & FLOW_ID_MASK);

    if (f && fs->packet_count != UINT64_MAX) {
        f->poll_packets += fs->packet_count;
    }
}

static void
fr_handle_poll_reply(struct flowrules *fr, struct ofpbuf *msg)
{
    if (!fr_parse_dump(fr, msg, fr_poll_count)) {
        fr->poll_xid = 0;
        fr_poll_finish(fr);
    }
}

static void
fr_handle_ports_reply(struct flowrules *fr, struct ofpbuf *msg)
{
    bool more = ofpmp_more(msg->data);
    struct ofputil_phy_port pp;

    ofpraw_pull_assert(msg);
    while (!ofputil_pull_phy_port(fr->version, msg, &pp)) {
        shash_replace(&fr->ports, pp.name,
                      (void *) (uintptr_t) ofp_to_u16(pp.port_no));
    }
    if (!more) {
        fr->ports_xid = 0;
    }
}

static void
fr_handle_port_status(struct flowrules *fr, const struct ofp_header *oh)
{
    struct ofputil_port_status ps;

    if (!ofputil_decode_port_status(oh, &ps)) {
        if (ps.reason == OFPPR_DELETE) {
            shash_find_and_delete(&fr->ports, ps.desc.name);
        } else {
            shash_replace(&fr->ports, ps.desc.name,
                          (void *) (uintptr_t) ofp_to_u16(ps.desc.port_no));
        }
    }
}

static void
fr_handle_msg(struct flowrules *fr, struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    uint32_t xid = ntohl(oh->xid);
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return;
    }
    switch (type) {
    case OFPTYPE_ERROR:
        fr_handle_error(fr, oh);
        break;
    case OFPTYPE_BUNDLE_CONTROL: {
        struct ofputil_bundle_ctrl_msg bc;
        struct fr_bundle *b = fr_bundle_by_xid(fr, xid);

        if (!ofputil_decode_bundle_ctrl(oh, &bc) && b
            && bc.type != OFPBCT_COMMIT_REPLY
            && bc.type != OFPBCT_OPEN_REPLY) {
            b->failed = true;
        }
        break;
    }
    case OFPTYPE_BARRIER_REPLY: {
        struct fr_bundle *b = fr_bundle_by_xid(fr, xid);

        if (b && xid == fr_bundle_barrier_xid(b)) {
            fr_bundle_done(fr, b);
        }
        break;
    }
    case OFPTYPE_FLOW_STATS_REPLY:
        if (xid == fr->dump_xid) {
            fr_handle_dump_reply(fr, msg);
        } else if (xid && xid == fr->poll_xid) {
            fr_handle_poll_reply(fr, msg);
        }
        break;
    case OFPTYPE_PORT_DESC_STATS_REPLY:
        if (xid == fr->ports_xid) {
            fr_handle_ports_reply(fr, msg);
        }
        break;
    case OFPTYPE_PORT_STATUS:
        fr_handle_port_status(fr, oh);
        break;
    case OFPTYPE_FLOW_REMOVED:
        fr_handle_flow_removed(fr, oh);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Connection. */

/* A new connection, speaking OpenFlow 'version': forget what was in
 * flight, re-create the meters, ask for the ports and for our rules. */
static void
fr_start_session(struct flowrules *fr, enum ofp_version version)
{
    struct fr_flow *f, *next;
    struct fr_bundle *b;
    struct ofpbuf *msg;
    size_t i;

    fr->version = version;
    fr->protocol = ofputil_protocol_from_ofp_version(fr->version);
    fr->stats.connects++;
    fr->reconciled = false;
    LIST_FOR_EACH_POP (b, node, &fr->inflight) {
        fr_bundle_free(b);
    }
    fr->n_inflight = 0;
    fr->poll_xid = 0;
    /* What the switch has is unknown until the dump: a restarted switch
     * has nothing, and a bundle in flight may or may not have been
     * committed. */
    HMAP_FOR_EACH_SAFE (f, next, node, &fr->flows) {
        f->seen_in_dump = false;
        if (fr->first_connection && f->adopted && !f->deleted) {
            /* Adopted from a dump that the lost connection cut short:
             * adopted again from the next one. */
            fr->stats.flows--;
            fr_free_flow(fr, f);
            continue;
        }
        for (i = 0; i < 2; i++) {
            if (f->state[i] == FR_INSTALLED || f->state[i] == FR_INFLIGHT) {
                f->state[i] = FR_UNKNOWN;
            }
        }
    }
    fr->stats.reconcile_kept = fr->stats.reconcile_sent = 0;
    fr->stats.reconcile_deleted = 0;
    if (fr->first_connection) {
        fr->stats.reconcile_adopted = 0;
    }
    VLOG_INFO("%s: connected (OpenFlow %#x), reconciling", fr->target,
              fr->version);

    /* Meters: an add of an existing meter fails harmlessly. */
    if (!fr->log_meter_id) {
        fr->log_meter_id = FS_OF_METER_LOG;
    }
    fr_send_meter(fr, fr->log_meter_id, fr->opts.log_pps, true);
    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].refs && fr->meters[i].kbps) {
            fr_send_meter(fr, fr->meters[i].id, fr->meters[i].kbps, false);
        }
    }

    /* A service connection (e.g. the mgmt socket) gets no asynchronous
     * messages, flow-removed and the 'log' packet-ins among them, until it
     * sets a nonzero miss_send_len. */
    {
        struct ofputil_switch_config sc = {
            .frag = OFPUTIL_FRAG_NORMAL,
            .invalid_ttl_to_controller = -1,
            .miss_send_len = 256,
        };
        fr_send(fr, ofputil_encode_set_config(&sc, fr->version));
    }

    msg = ofputil_encode_port_desc_stats_request(fr->version, OFPP_ANY);
    fr->ports_xid = fr_conn_send(fr->conn, msg, 0);

    fr->dump_xid = fr_request_dump(fr);
}

static void
fr_connected(struct flowrules *fr)
{
    fr_start_session(fr, fr_conn_version(fr->conn));
}

void
flowrules_run(struct flowrules *fr)
{
    int i;

    fr_conn_run(fr->conn);
    if (!fr_conn_is_connected(fr->conn)) {
        fr->reconciled = false;
        return;
    }
    if (fr_conn_seqno(fr->conn) != fr->conn_seqno) {
        fr->conn_seqno = fr_conn_seqno(fr->conn);
        fr_connected(fr);
    }
    for (i = 0; i < 512; i++) {
        struct ofpbuf *msg = fr_conn_recv(fr->conn);

        if (!msg) {
            break;
        }
        fr_handle_msg(fr, msg);
        ofpbuf_delete(msg);
    }
    if (!fr->reconciled) {
        return;
    }
    if (!fr->poll_xid
        && (fr->poll_wanted
            || (fr->opts.poll_idle && fr_poll_interval(fr)
                && time_msec() >= fr->next_poll))) {
        if (fr->opts.poll_idle && fr_poll_interval(fr)) {
            fr->next_poll = time_msec() + fr_poll_interval(fr);
        }
        fr->poll_wanted = false;
        fr->poll_xid = fr_request_dump(fr);
    }
    while (!ovs_list_is_empty(&fr->dirty)
           && fr->n_inflight < fr->opts.max_inflight
           && (fr->n_committing
               || ovs_list_size(&fr->dirty) * 2 >= fr->opts.bundle_max
               || time_msec() >= fr->dirty_since + fr->opts.batch_ms)) {
        if (fr_conn_room(fr->conn) < FR_CONN_SPARE + 6) {
            /* The switch is not reading: wait for it (fr_conn_wait()
             * wakes us as the queue drains). */
            fr->stats.queue_waits++;
            break;
        }
        fr_send_bundle(fr);
    }
}

void
flowrules_wait(struct flowrules *fr)
{
    fr_conn_wait(fr->conn);
    if (fr->reconciled && !ovs_list_is_empty(&fr->dirty)
        && fr->n_inflight < fr->opts.max_inflight) {
        if (fr->n_committing) {
            poll_immediate_wake();
        } else {
            poll_timer_wait_until(fr->dirty_since + fr->opts.batch_ms);
        }
    }
    /* A poll in progress is answered first: a switch that does not answer
     * (ovs-vswitchd without its database serves no OpenFlow) must not make
     * this loop spin on a timer in the past. */
    if (fr->reconciled && fr->opts.poll_idle && fr_poll_interval(fr)
        && !fr->poll_xid) {
        poll_timer_wait_until(fr->next_poll);
    }
    if (fr->reconciled && fr->poll_wanted && !fr->poll_xid) {
        poll_immediate_wake();
    }
}

void
flowrules_commit(struct flowrules *fr)
{
    struct fr_flow *f;

    /* The flows marked before are at the front: the list only grows at
     * its back, and a flow taken off it loses its mark. */
    LIST_FOR_EACH (f, dirty_node, &fr->dirty) {
        if (!f->committing) {
            f->committing = true;
            fr->n_committing++;
        }
    }
}

uint64_t
flowrules_poll(struct flowrules *fr)
{
    if (!fr_conn_is_connected(fr->conn)) {
        return 0;
    }
    fr->poll_wanted = true;
    /* A poll in progress may have been answered before this call. */
    return fr->poll_seqno + (fr->poll_xid ? 2 : 1);
}

uint64_t
flowrules_poll_seqno(const struct flowrules *fr)
{
    return fr->poll_seqno;
}

bool
flowrules_get_packets(const struct flowrules *fr, uint64_t flow_id,
                      uint64_t *packets)
{
    const struct fr_flow *f = fr_find(fr, flow_id & FLOW_ID_MASK);

    if (!f || f->deleted) {
        return false;
    }
    *packets = f->idle_packets + f->packets;
    return true;
}

bool
flowrules_reconciled(const struct flowrules *fr)
{
    return fr->ever_reconciled;
}

bool
flowrules_connected(const struct flowrules *fr)
{
    return fr_conn_is_connected(fr->conn);
}

bool
flowrules_synced(const struct flowrules *fr)
{
    return (fr_conn_is_connected(fr->conn) && fr->reconciled
            && ovs_list_is_empty(&fr->dirty) && !fr->n_inflight);
}

void
flowrules_format_connection(const struct flowrules *fr, struct ds *ds)
{
    fr_conn_format(fr->conn, ds);
}

void
flowrules_get_stats(const struct flowrules *fr,
                    struct flowrules_stats *stats)
{
    *stats = fr->stats;
    stats->memory = (hmap_count(&fr->flows)
                     * (sizeof(struct fr_flow) + sizeof(struct hmap_node *))
                     + fr->n_meters * sizeof *fr->meters);
}
