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

VLOG_DEFINE_THIS_MODULE(flowrules);

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

void
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
/* The desired table. */

struct fr_flow *
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
bool
fr_op_touches(const struct fr_flow *f, int dir)
{
    return f->op != FR_OP_DELETE || f->state[dir] != FR_GONE;
}

void
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
void
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
bool
fr_is_inflight(const struct fr_flow *f)
{
    return f->state[0] == FR_INFLIGHT || f->state[1] == FR_INFLIGHT;
}

/* Returns true if 'f''s rules are installed, but for any that the switch
 * removed. */
bool
fr_is_installed(const struct fr_flow *f)
{
    return ((f->state[0] == FR_INSTALLED || f->state[0] == FR_GONE)
            && (f->state[1] == FR_INSTALLED || f->state[1] == FR_GONE));
}

void
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

void
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
void
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
    fr_conn_run(fr->conn);
    if (!fr_conn_is_connected(fr->conn)) {
        fr->reconciled = false;
        return;
    }
    if (fr_conn_seqno(fr->conn) != fr->conn_seqno) {
        fr->conn_seqno = fr_conn_seqno(fr->conn);
        fr_connected(fr);
    }
    /* All of it: the connection reads at most 512 messages a run, so the
     * queue stays short (fr-conn.h). */
    for (;;) {
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

