/* flowsteerd's restart guard.  See fs-guard.h. */
#include <config.h>
#include "fs-guard.h"

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(fs_guard);

/* Open vSwitch's key, and ours: the guard set it (kept across flowsteerd's
 * restarts, so that a guard no longer wanted is removed even after a
 * crash).  ovs-vswitchd ignores other_config keys it does not know. */
#define RESTORE_WAIT "flow-restore-wait"
#define OWNER "flowsteer-flow-restore-wait"

enum guard_state {
    GUARD_OFF,                  /* Not wanted. */
    GUARD_ON,                   /* Wanted: key set, or about to be. */
    GUARD_RELEASING,            /* Key cleared, waiting for cur_cfg. */
};

struct fs_guard {
    enum guard_state state;
    struct ovsdb_idl_txn *txn;  /* In progress, or NULL. */
    bool txn_releases;          /* 'txn' clears the key for a release. */
    int64_t release_cfg;        /* next_cfg of the release, 0 until known. */

    /* The connection due a release, and since when. */
    bool due;
    unsigned int due_seqno;
    long long int due_since;
    unsigned int released_seqno;  /* Valid if 'have_released'. */
    bool have_released;

    uint64_t n_released;        /* Releases ovs-vswitchd acknowledged. */
    uint64_t n_forced;          /* Of which without the steering. */
    long long int last_wait_ms; /* Connection to acknowledged release. */
    char error[128];            /* Last failed transaction, or "". */
};

void
fs_guard_register(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_other_config);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_next_cfg);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_cur_cfg);
}

struct fs_guard *
fs_guard_create(void)
{
    return xzalloc(sizeof(struct fs_guard));
}

static bool
key_set(const struct ovsrec_open_vswitch *ovs, const char *key)
{
    return smap_get_bool(&ovs->other_config, key, false);
}

/* Removes the key and our mark, in a transaction of its own. */
static struct ovsdb_idl_txn *
remove_txn(struct ovsdb_idl *idl, const struct ovsrec_open_vswitch *ovs)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);

    ovsdb_idl_txn_add_comment(txn, "flowsteerd: restart guard off");
    ovsrec_open_vswitch_update_other_config_delkey(ovs, RESTORE_WAIT);
    ovsrec_open_vswitch_update_other_config_delkey(ovs, OWNER);
    return txn;
}

void
fs_guard_destroy(struct fs_guard *g, struct ovsdb_idl *idl)
{
    const struct ovsrec_open_vswitch *ovs;

    if (!g) {
        return;
    }
    if (g->txn) {
        ovsdb_idl_txn_destroy(g->txn);
    }
    ovs = idl ? ovsrec_open_vswitch_first(idl) : NULL;
    if (ovs && ovsdb_idl_is_connected(idl) && key_set(ovs, OWNER)) {
        /* Bounded: ovsdb-server may be gone. */
        long long int deadline = time_msec() + 1000;
        struct ovsdb_idl_txn *txn = remove_txn(idl, ovs);

        while (ovsdb_idl_txn_commit(txn) == TXN_INCOMPLETE
               && time_msec() < deadline) {
            ovsdb_idl_run(idl);
            ovsdb_idl_wait(idl);
            ovsdb_idl_txn_wait(txn);
            poll_timer_wait_until(deadline);
            poll_block();
        }
        ovsdb_idl_txn_destroy(txn);
    }
    free(g);
}

/* Finishes the transaction in progress.  Returns false while it is. */
static bool
guard_commit(struct fs_guard *g)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    enum ovsdb_idl_txn_status status;

    if (!g->txn) {
        return true;
    }
    status = ovsdb_idl_txn_commit(g->txn);
    if (status == TXN_INCOMPLETE) {
        return false;
    }
    if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
        if (g->txn_releases) {
            g->release_cfg = ovsdb_idl_txn_get_increment_new_value(g->txn);
        }
        g->error[0] = '\0';
    } else {
        snprintf(g->error, sizeof g->error, "%s",
                 ovsdb_idl_txn_status_to_string(status));
        VLOG_WARN_RL(&rl, "restart guard: transaction failed: %s", g->error);
        if (g->txn_releases) {
            g->state = GUARD_ON;        /* Try again. */
        }
    }
    ovsdb_idl_txn_destroy(g->txn);
    g->txn = NULL;
    g->txn_releases = false;
    return true;
}

/* Clears the key, with next_cfg incremented, so that cur_cfg tells when
 * ovs-vswitchd has seen it. */
static void
guard_release(struct fs_guard *g, struct ovsdb_idl *idl,
              const struct ovsrec_open_vswitch *ovs)
{
    g->txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(g->txn, "flowsteerd: restart guard release");
    ovsrec_open_vswitch_update_other_config_delkey(ovs, RESTORE_WAIT);
    ovsdb_idl_txn_increment(g->txn, &ovs->header_,
                            &ovsrec_open_vswitch_col_next_cfg, false);
    g->txn_releases = true;
    g->release_cfg = 0;
    g->state = GUARD_RELEASING;
}

static void
guard_arm(struct fs_guard *g, struct ovsdb_idl *idl,
          const struct ovsrec_open_vswitch *ovs)
{
    g->txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(g->txn, "flowsteerd: restart guard");
    ovsrec_open_vswitch_update_other_config_setkey(ovs, RESTORE_WAIT, "true");
    ovsrec_open_vswitch_update_other_config_setkey(ovs, OWNER, "true");
}

static void
guard_run__(struct fs_guard *g, struct ovsdb_idl *idl, bool want,
            bool installed, unsigned int conn_seqno)
{
    const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);
    long long int now = time_msec();

    if (!guard_commit(g) || !ovs || !ovsdb_idl_is_connected(idl)) {
        return;
    }
    if (!want) {
        if (key_set(ovs, OWNER)) {
            g->txn = remove_txn(idl, ovs);
            VLOG_INFO("restart guard off: %s removed", RESTORE_WAIT);
        }
        g->state = GUARD_OFF;
        g->due = false;
        return;
    }
    if (g->state == GUARD_OFF) {
        g->state = GUARD_ON;
        g->have_released = false;       /* Whatever the switch does now. */
    }

    if (g->state == GUARD_RELEASING) {
        if (g->release_cfg && ovs->cur_cfg >= g->release_cfg) {
            g->state = GUARD_ON;
            g->have_released = true;
            g->released_seqno = g->due_seqno;
            g->due = false;
            g->n_released++;
            g->last_wait_ms = now - g->due_since;
            VLOG_INFO("restart guard: ovs-vswitchd forwards, %lld ms after "
                      "its connection", g->last_wait_ms);
        }
        return;
    }

    /* A new connection: a switch that may have just started, waiting. */
    if (!g->have_released || g->released_seqno != conn_seqno) {
        if (!g->due || g->due_seqno != conn_seqno) {
            g->due = true;
            g->due_seqno = conn_seqno;
            g->due_since = now;
        }
        if (!key_set(ovs, RESTORE_WAIT)) {
            /* Not waiting for us: cleared by someone else (ovs-ctl). */
            g->have_released = true;
            g->released_seqno = conn_seqno;
            g->due = false;
        } else if (installed || now - g->due_since >= FS_GUARD_MAX_WAIT_MS) {
            if (!installed) {
                g->n_forced++;
                VLOG_WARN("restart guard: steering not installed %d ms after "
                          "the connection; letting ovs-vswitchd forward",
                          FS_GUARD_MAX_WAIT_MS);
            }
            guard_release(g, idl, ovs);
            return;
        } else {
            return;
        }
    }
    if (!key_set(ovs, RESTORE_WAIT) || !key_set(ovs, OWNER)) {
        guard_arm(g, idl, ovs);
    }
}

void
fs_guard_run(struct fs_guard *g, struct ovsdb_idl *idl, bool want,
             bool installed, unsigned int conn_seqno)
{
    guard_run__(g, idl, want, installed, conn_seqno);
    /* Committed at once: ovsdb_idl_run() must not see a transaction still
     * open. */
    if (g->txn) {
        guard_commit(g);
    }
}

void
fs_guard_wait(const struct fs_guard *g)
{
    if (g->txn) {
        ovsdb_idl_txn_wait(g->txn);
    }
    if (g->state == GUARD_ON && g->due) {
        poll_timer_wait_until(g->due_since + FS_GUARD_MAX_WAIT_MS);
    }
}

void
fs_guard_format(const struct fs_guard *g, struct ds *ds)
{
    if (g->state == GUARD_OFF) {
        ds_put_cstr(ds, "restart guard: off (fail=closed, inline only)\n");
        return;
    }
    ds_put_format(ds, "restart guard: %s; %"PRIu64" releases (%"PRIu64
                  " without steering), last %lld ms after the connection"
                  "%s%s\n",
                  (g->state == GUARD_RELEASING ? "releasing"
                   : g->due ? "holding ovs-vswitchd until the steering is in"
                   : "armed (" RESTORE_WAIT "=true)"),
                  g->n_released, g->n_forced, g->last_wait_ms,
                  g->error[0] ? ", error: " : "", g->error);
}
