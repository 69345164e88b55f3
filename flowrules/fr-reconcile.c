/* flowrules: what the switch has, compared with the desired table after
 * each connection (adopting rules nobody set, on the first), and the
 * counter polls that expire idle flows.  See flowrules.c. */
#include <config.h>
#include "fr-private.h"
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

VLOG_DEFINE_THIS_MODULE(fr_reconcile);

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
    if (fr_proto_has_ports(k->l4_proto)) {
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
uint32_t
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

void
fr_handle_dump_reply(struct flowrules *fr, struct ofpbuf *msg)
{
    if (!fr_parse_dump(fr, msg, fr_reconcile_one)) {
        fr->dump_xid = 0;
        fr_reconcile_finish(fr);
    }
}

/* ---------------------------------------------------------------------- */
/* Idle expiry by polling (opts.poll_idle). */

long long int
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

void
fr_handle_poll_reply(struct flowrules *fr, struct ofpbuf *msg)
{
    if (!fr_parse_dump(fr, msg, fr_poll_count)) {
        fr->poll_xid = 0;
        fr_poll_finish(fr);
    }
}
