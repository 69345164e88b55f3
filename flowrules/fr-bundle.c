/* flowrules: the bundles that carry changes to the switch, and the
 * errors and rule removals that come back.  See flowrules.c. */
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

VLOG_DEFINE_THIS_MODULE(fr_bundle);

/* The flow_mods of each op: n_msgs[op], and msg_dir[op][i] says what the
 * i-th one is (-1: delete by cookie, 0 or 1: add/modify that direction). */
static const int n_msgs[] = { 2, 2, 3, 1 };
static const int msg_dir[][3] = {
    { 0, 1 }, { 0, 1 }, { -1, 0, 1 }, { -1 },
};

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

/* The most flow_mods in one bundle, whatever the backlog. */
#define FR_BUNDLE_HARD_MAX (1u << 20)

/* While encoding a bundle, queued flow_mods go to the socket every this
 * many. */
#define FR_SEND_EVERY 256

/* Sends one bundle with up to bundle_max flow_mods from 'dirty', or, after
 * flowrules_commit(), with the flows of the commit. */
void
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

uint32_t
fr_bundle_commit_xid(const struct fr_bundle *b)
{
    return b->open_xid + b->n + 1;
}

uint32_t
fr_bundle_barrier_xid(const struct fr_bundle *b)
{
    return b->open_xid + b->n + 2;
}

/* Returns the in-flight bundle whose xids include 'xid', or NULL. */
struct fr_bundle *
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
void
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

void
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
void
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

void
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

