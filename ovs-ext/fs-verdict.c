/* Verdicts to rules.  See fs-verdict.h. */
#include <config.h>
#include "fs-verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "flowrules.h"
#include "fs-appliance.h"
#include "fs-saver.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_verdict);

/* The state file: this magic, then each record behind its length (2 bytes,
 * network order). */
#define STATE_MAGIC "FSFLOWS1"
#define STATE_MAGIC_LEN 8
#define STATE_MAX_BYTES (256u << 20)

/* A rule found in the switch at the first reconciliation that no restored
 * flow explains, waiting to be adopted (fs_verdicts_run()). */
struct adopted_rule {
    uint64_t id;
    struct flowrules_rule rule;
};

/* Flows whose new connection's packets wait in the appliance for their
 * rules to be gone (FS_END_REOPENED): told when they are. */
#define MAX_GONE_WAITS 4096

/* Verdict rules wait up to this long to share a bundle.  Every bundle
 * OVS commits makes its revalidators translate every datapath flow again,
 * so per-connection bundles (flowrules' default, 1 ms) cost ovs-vswitchd
 * some 88 translations per new inspected connection; at 10 ms, 3 to 9.
 * make bench-e2e, 8 connections at a time, 2 cores: 1 ms 0.17x the
 * uninspected rate and +1.42 ms connect() p99; 10 ms 0.26-0.28x and
 * +0.45-0.71 ms.  Meanwhile the appliance enforces the verdict inline
 * (it drops what the verdict drops), so the wait costs only packets
 * through the inspector. */
#define VERDICT_BATCH_MS 10

struct fs_verdicts {
    struct fs_inspector *insp;  /* The judge: flows with records, no
                                 * packets. */
    struct fs_appliance *app;   /* The classifier, which sees the packets. */
    struct flowrules *fr;
    char *bridge;
    uint16_t idle_timeout[3];
    char *state_file;

    bool restored;              /* The state file was read. */
    bool adopted_done;          /* Adopted rules were taken in. */
    struct adopted_rule *adopted;
    size_t n_adopted, allocated_adopted;

    bool dirty;                 /* Flows changed since the last save. */
    long long int next_save;
    long long int next_expire;

    uint64_t gone_waits[MAX_GONE_WAITS];
    size_t n_gone_waits;
    uint64_t max_id;            /* Of every flow seen. */
    bool importing;             /* In fs_verdicts_import(). */
    fs_verdicts_end_cb *end_cb;
    void *end_aux;
    uint64_t n_app_events, n_app_refused, n_app_ignored;

    /* Counters, for flowsteer/show. */
    uint64_t n_restored, n_restore_bad, n_restore_exists;
    uint64_t n_adopted_rules, n_adopt_conflicts;
    uint64_t n_reopened, n_reinspected, n_rule_errors;
    struct fs_saver *saver;     /* Of state_file, or NULL. */
    char state_error[256];      /* Last problem with the state file. */
};

static void on_removed(void *, uint64_t flow_id, const struct flowrules_rule *,
                       uint64_t packets, uint64_t bytes, int reason);
static void on_error(void *, uint64_t flow_id, int error, bool table_full,
                     enum flowrules_full_policy);
static void on_adopted(void *, uint64_t flow_id,
                       const struct flowrules_rule *);

struct fs_verdicts *
fs_verdicts_create(const char *state_file)
{
    struct fs_verdicts *v = xzalloc(sizeof *v);

    v->state_file = nullable_xstrdup(state_file);
    v->saver = state_file ? fs_saver_create(state_file) : NULL;
    return v;
}

void
fs_verdicts_attach(struct fs_verdicts *v, struct fs_inspector *insp,
                   struct fs_appliance *app)
{
    v->insp = insp;
    v->app = app;
}

static void
see_id(struct fs_verdicts *v, uint64_t id)
{
    if (id > v->max_id) {
        v->max_id = id;
    }
}

struct flowrules *
fs_verdicts_rules(const struct fs_verdicts *v)
{
    return v->fr;
}

/* ---------------------------------------------------------------------- */
/* Verdicts, as the inspector reports them. */

/* Records the id and verdict of the flow it is called for. */
struct found_flow {
    uint64_t id;
    bool drops;
};

static int
found_flow(void *aux, const struct fs_flow_info *f)
{
    struct found_flow *found = aux;

    found->id = f->id;
    found->drops = (f->verdict.actions & FS_ACT_DROP) != 0;
    return 0;
}

static void
set_rules(struct fs_verdicts *v, const struct fs_flow_info *f)
{
    struct flowrules_rule rule;
    int error;

    memset(&rule, 0, sizeof rule);
    rule.key = f->key;
    rule.in_port = f->port;
    rule.verdict = f->verdict;
    rule.master_id = f->master_id;
    rule.app_id = f->app_id;
    rule.category = f->category_id;
    rule.risks = f->risks;
    error = flowrules_set(v->fr, f->id, &rule);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        VLOG_WARN_RL(&rl, "flow %"PRIu64": no rule: %s", f->id,
                     ovs_strerror(error));
        v->n_rule_errors++;
    }
    /* A flow whose verdict OVS enforces sees no more packets: it must
     * stay, for as long as its rules, to be judged again.  One without
     * rules is judged packet by packet and idles out as usual. */
    fs_inspector_pin_flow(v->insp, f->id, &f->key, !error);
    if (v->importing) {
        /* A migrated flow: the appliance must know it too. */
        static uint8_t rec[FS_MIGRATE_RECORD_MAX];
        int len = fs_inspector_export_one(v->insp, f->id, &f->key, rec,
                                          sizeof rec);

        if (len > 0) {
            /* Pinned or not in the record, as here. */
            fs_appliance_import(v->app, rec, len);
            see_id(v, f->id);
            return;
        }
    }
    fs_appliance_pin(v->app, f->id, &f->key, !error);
    see_id(v, f->id);
}

/* The appliance holds the packets of a new connection on the 5-tuple of
 * flow 'id' until it hears that the flow's rules are gone. */
static void
wait_gone(struct fs_verdicts *v, uint64_t id)
{
    if (v->n_gone_waits < MAX_GONE_WAITS) {
        v->gone_waits[v->n_gone_waits++] = id;
    }
    /* Else it lets them go after its own deadline (fs-dp.h). */
}

static void
gone_run(struct fs_verdicts *v)
{
    size_t i = 0;

    while (i < v->n_gone_waits) {
        if (fs_verdicts_rules_gone(v, v->gone_waits[i])) {
            fs_appliance_gone(v->app, v->gone_waits[i]);
            v->gone_waits[i] = v->gone_waits[--v->n_gone_waits];
        } else {
            i++;
        }
    }
}

static void
flow_ended(struct fs_verdicts *v, const struct fs_flow_info *f)
{
    if (f->end_reason == FS_END_REMOVED
        || !flowrules_has_flow(v->fr, f->id)) {
        return;                 /* Its rules went first, or it had none. */
    }
    if (f->end_reason == FS_END_IDLE || f->end_reason == FS_END_EVICTED
        || f->end_reason == FS_END_MIGRATED
        || f->end_reason == FS_END_REPLACED) {
        fs_appliance_remove(v->app, f->id, &f->key);
    }
    flowrules_remove(v->fr, f->id);
}

/* What the appliance reports.  It classifies; this judges: a decided
 * flow's record is judged again by the policy in use here before its
 * rules go to the switch (fs_verdicts_event(), called back by the
 * import). */
void
fs_verdicts_appliance_event(void *v_, enum fs_event_type type,
                            const struct fs_flow_info *f,
                            const void *record, size_t len)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct fs_verdicts *v = v_;
    struct found_flow s = { 0, false };
    int error;

    v->n_app_events++;
    see_id(v, f->id);
    fs_inspector_find_flow(v->insp, &f->key, found_flow, &s);
    switch (type) {
    case FS_EVENT_VERDICT:
    case FS_EVENT_VERDICT_CHANGED:
        if (s.id == f->id && type == FS_EVENT_VERDICT_CHANGED) {
            /* A policy change that this side has applied too. */
            v->n_app_ignored++;
            return;
        }
        if (s.id == f->id) {
            /* Decided again (after FS_EVENT_REINSPECT): the new record
             * replaces the old. */
            fs_inspector_remove_flow(v->insp, s.id, &f->key);
        }
        error = fs_inspector_import_flow(v->insp, record, len,
                                         FS_IMPORT_REJUDGE, NULL);
        if (error) {
            v->n_app_refused++;
            VLOG_WARN_RL(&rl, "flow %"PRIu64" from the appliance: record "
                         "refused: %s", f->id, ovs_strerror(-error));
        }
        break;
    case FS_EVENT_FLOW_END:
        if (s.id != f->id) {
            return;             /* Never decided, or gone here first. */
        }
        if (f->end_reason == FS_END_REOPENED) {
            /* A new connection on its 5-tuple: nothing of it may ride
             * these rules, so its packets wait in the appliance until the
             * switch has dropped them. */
            v->n_reopened++;
            if (v->fr && flowrules_has_flow(v->fr, f->id)) {
                wait_gone(v, f->id);
                flowrules_remove(v->fr, f->id);
            } else {
                fs_appliance_gone(v->app, f->id);
            }
            fs_inspector_remove_flow(v->insp, f->id, &f->key);
        } else if (f->end_reason == FS_END_IDLE
                   || f->end_reason == FS_END_EVICTED) {
            /* A flow without rules (they failed) that ended there. */
            if (v->fr) {
                flowrules_remove(v->fr, f->id);
            }
            fs_inspector_remove_flow(v->insp, f->id, &f->key);
        }
        break;
    case FS_EVENT_REINSPECT:
        break;                  /* This side judges again by itself. */
    }
}

static int
resync_flow(void *app_, const struct fs_flow_info *f)
{
    if (f->pinned) {
        fs_appliance_pin(app_, f->id, &f->key, true);
    }
    return 0;
}

static int
resync_record(void *app_, const void *rec, size_t len)
{
    fs_appliance_import(app_, rec, len);
    return 0;
}

/* A new appliance: every decided flow, and which of them have rules. */
void
fs_verdicts_resync(void *v_, struct fs_appliance *app)
{
    struct fs_verdicts *v = v_;

    fs_appliance_reserve_ids(app, v->max_id + 1);
    fs_inspector_export_flows(v->insp, 0, resync_record, app);
    fs_appliance_import_flush(app);
    fs_inspector_foreach_flow(v->insp, resync_flow, app);
    /* Flows whose rules are gone by now: their held packets may go. */
    v->n_gone_waits = 0;
}

void
fs_verdicts_event(void *v_, enum fs_event_type type,
                  const struct fs_flow_info *f,
                  const struct fs_verdict *old OVS_UNUSED)
{
    struct fs_verdicts *v = v_;

    v->dirty = true;
    if (type == FS_EVENT_FLOW_END && v->end_cb) {
        v->end_cb(v->end_aux, f);
    }
    if (!v->fr) {
        return;
    }
    switch (type) {
    case FS_EVENT_VERDICT:
    case FS_EVENT_VERDICT_CHANGED:
        set_rules(v, f);
        break;
    case FS_EVENT_FLOW_END:
        flow_ended(v, f);
        break;
    case FS_EVENT_REINSPECT:
        /* Its packets must come back to the inspector. */
        v->n_reinspected++;
        flowrules_remove(v->fr, f->id);
        break;
    }
}

int
fs_verdicts_import(struct fs_verdicts *v, const void *batch, size_t len,
                   const struct fs_import_opts *opts,
                   struct fs_import_result *result)
{
    int error;

    v->importing = true;
    error = fs_inspector_import(v->insp, batch, len, opts, result);
    v->importing = false;
    fs_appliance_import_flush(v->app);
    fs_verdicts_commit(v);
    return error;
}

void
fs_verdicts_forget(struct fs_verdicts *v, uint64_t id,
                   const struct fs_flow_key *key)
{
    if (v->fr) {
        flowrules_remove(v->fr, id);
    }
    fs_appliance_remove(v->app, id, key);
    fs_inspector_remove_flow(v->insp, id, key);
}

void
fs_verdicts_release(struct fs_verdicts *v, uint64_t id,
                    const struct fs_flow_key *key)
{
    fs_inspector_release_flow(v->insp, id, key);
}

void
fs_verdicts_set_end_hook(struct fs_verdicts *v, fs_verdicts_end_cb *cb,
                         void *aux)
{
    v->end_cb = cb;
    v->end_aux = aux;
}

bool
fs_verdicts_rules_gone(void *v_, uint64_t id)
{
    struct fs_verdicts *v = v_;

    return !v->fr || !flowrules_has_flow(v->fr, id);
}

void
fs_verdicts_commit(struct fs_verdicts *v)
{
    if (v->fr) {
        flowrules_commit(v->fr);
    }
}

/* ---------------------------------------------------------------------- */
/* Callbacks of flowrules. */

/* A flow's rules are gone from the switch (idle): so is the flow. */
static void
on_removed(void *v_, uint64_t flow_id, const struct flowrules_rule *rule,
           uint64_t packets OVS_UNUSED, uint64_t bytes OVS_UNUSED,
           int reason OVS_UNUSED)
{
    struct fs_verdicts *v = v_;

    fs_inspector_remove_flow(v->insp, flow_id, &rule->key);
    fs_appliance_remove(v->app, flow_id, &rule->key);
}

/* The switch refused a flow's rules: its packets keep coming to the
 * inspector, which judges each one; it is no longer pinned. */
static void
on_error(void *v_, uint64_t flow_id, int error OVS_UNUSED,
         bool table_full OVS_UNUSED,
         enum flowrules_full_policy policy OVS_UNUSED)
{
    struct fs_verdicts *v = v_;
    const struct flowrules_rule *rule = flowrules_get_rule(v->fr, flow_id);

    v->n_rule_errors++;
    if (rule) {
        fs_inspector_pin_flow(v->insp, flow_id, &rule->key, 0);
        fs_appliance_pin(v->app, flow_id, &rule->key, false);
    }
}

static void
on_adopted(void *v_, uint64_t flow_id, const struct flowrules_rule *rule)
{
    struct fs_verdicts *v = v_;
    struct adopted_rule *a;

    if (v->n_adopted >= v->allocated_adopted) {
        v->adopted = x2nrealloc(v->adopted, &v->allocated_adopted,
                                sizeof *v->adopted);
    }
    a = &v->adopted[v->n_adopted++];
    a->id = flow_id;
    a->rule = *rule;
}

/* Takes in rule 'a', found in the switch and unknown to the state file:
 * the inspector restores its flow from its verdict alone.  If a restored
 * flow has its key already (the file was saved before a new connection on
 * that 5-tuple), the drop of the two wins, and the other's rules go. */
static void
adopt(struct fs_verdicts *v, const struct adopted_rule *a)
{
    struct found_flow s = { 0, false };
    int error;

    v->n_adopted_rules++;
    see_id(v, a->id);
    if (!a->rule.key.ip_version) {
        /* Not a rule flowrules could decode: it stays until idle. */
        return;
    }
    error = fs_inspector_import_verdict(v->insp, a->id, &a->rule.key,
                                        a->rule.in_port, &a->rule.verdict);
    if (error != -EEXIST) {
        if (error) {
            VLOG_WARN("flow %"PRIu64": cannot adopt its rules: %s; they "
                      "stay until idle", a->id, ovs_strerror(-error));
        }
        return;
    }
    v->n_adopt_conflicts++;
    fs_inspector_find_flow(v->insp, &a->rule.key, found_flow, &s);
    if ((a->rule.verdict.actions & FS_ACT_DROP) && !s.drops && s.id) {
        /* The restored flow's rules may have gone to the switch already,
         * over the drop's (same match): after their removal, the drop's
         * are sent again. */
        fs_inspector_remove_flow(v->insp, s.id, &a->rule.key);
        flowrules_remove(v->fr, s.id);
        fs_inspector_import_verdict(v->insp, a->id, &a->rule.key,
                                    a->rule.in_port, &a->rule.verdict);
        flowrules_resend(v->fr, a->id);
    } else {
        flowrules_remove(v->fr, a->id);
    }
}

/* ---------------------------------------------------------------------- */
/* The state file. */

static void
state_problem(struct fs_verdicts *v, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
state_problem(struct fs_verdicts *v, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(v->state_error, sizeof v->state_error, format, args);
    va_end(args);
    VLOG_WARN("flow state %s: %s", v->state_file, v->state_error);
}

/* The state file being built: its bytes, and the records in them. */
struct state_buf {
    struct ds ds;
    size_t records;
};

static int
append_record(void *buf_, const void *rec, size_t len)
{
    struct state_buf *buf = buf_;

    ds_put_char(&buf->ds, len >> 8);
    ds_put_char(&buf->ds, len & 0xff);
    ds_put_buffer(&buf->ds, rec, len);
    buf->records++;
    return 0;
}

/* Saves the pinned flows: the saver writes them off the main loop to a new
 * file, renamed over the old one once it is on disk, so that a crash
 * leaves one or the other whole. */
static void
save_state(struct fs_verdicts *v)
{
    struct state_buf buf = { DS_EMPTY_INITIALIZER, 0 };

    v->dirty = false;
    v->next_save = time_msec() + FS_STATE_SAVE_MS;
    if (!v->saver || !v->restored) {
        return;
    }
    ds_put_buffer(&buf.ds, STATE_MAGIC, STATE_MAGIC_LEN);
    fs_inspector_export_flows(v->insp, 1, append_record, &buf);
    fs_saver_put(v->saver, &buf.ds, buf.records);
    ds_destroy(&buf.ds);
}

/* Reads the state file into a new buffer in '*data' and its size in
 * '*size'.  Returns 0, ENOENT if there is none, or another errno (with a
 * problem recorded). */
static int
read_state(struct fs_verdicts *v, char **data, size_t *size)
{
    struct stat st;
    size_t n = 0;
    int fd;

    *data = NULL;
    fd = open(v->state_file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            state_problem(v, "cannot open: %s", ovs_strerror(errno));
        }
        return errno;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()
        || st.st_mode & (S_IWGRP | S_IWOTH) || st.st_size > STATE_MAX_BYTES) {
        state_problem(v, "not a regular file of ours, written by us only, "
                      "of at most %u bytes: ignored", STATE_MAX_BYTES);
        close(fd);
        return EPERM;
    }
    *data = xmalloc(st.st_size + 1);
    while (n < (size_t) st.st_size) {
        ssize_t r = read(fd, *data + n, st.st_size - n);

        if (r <= 0 && !(r < 0 && errno == EINTR)) {
            break;
        }
        n += r > 0 ? r : 0;
    }
    close(fd);
    *size = n;
    return 0;
}

/* Restores the flows of the state file, judged by the policy if
 * 'rejudge'. */
static void
restore_state(struct fs_verdicts *v, bool rejudge)
{
    size_t size = 0, off;
    char *data;

    v->restored = true;
    if (!v->state_file || read_state(v, &data, &size)) {
        return;
    }
    if (size < STATE_MAGIC_LEN || memcmp(data, STATE_MAGIC, STATE_MAGIC_LEN)) {
        state_problem(v, "not a flow state file (or another version): "
                      "ignored");
        free(data);
        return;
    }
    for (off = STATE_MAGIC_LEN; off < size; ) {
        size_t len = (off + 2 <= size
                      ? ((uint8_t) data[off] << 8 | (uint8_t) data[off + 1])
                      : SIZE_MAX);
        int error;

        if (len > size - off - 2) {
            v->n_restore_bad++;
            state_problem(v, "cut short at byte %"PRIuSIZE, off);
            break;
        }
        uint64_t id = 0;

        error = fs_inspector_import_flow(v->insp, data + off + 2, len,
                                         rejudge ? FS_IMPORT_REJUDGE : 0,
                                         &id);
        see_id(v, id);
        if (!error) {
            v->n_restored++;
        } else if (error == -EEXIST) {
            v->n_restore_exists++;
        } else {
            v->n_restore_bad++;
        }
        off += 2 + len;
    }
    if (v->n_restore_bad) {
        state_problem(v, "%"PRIu64" bad records skipped", v->n_restore_bad);
    }
    VLOG_INFO("flow state %s: %"PRIu64" flows restored%s", v->state_file,
              v->n_restored, rejudge ? ", judged by the policy in use"
                                     : " with their verdicts");
    free(data);
}

/* ---------------------------------------------------------------------- */
/* The rules' bridge. */

void
fs_verdicts_set_bridge(struct fs_verdicts *v, const char *bridge,
                       const uint16_t idle_timeout[3], bool rejudge)
{
    if (!nullable_string_is_equal(bridge, v->bridge)) {
        flowrules_destroy(v->fr);
        v->fr = NULL;
        free(v->bridge);
        v->bridge = nullable_xstrdup(bridge);
        if (bridge) {
            struct flowrules_options opts;
            char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                                     bridge);

            flowrules_options_init(&opts);
            opts.target = target;
            opts.adopt = true;      /* A restart keeps the rules in force. */
            opts.exclude_syn = true;
            opts.batch_ms = VERDICT_BATCH_MS;
            memcpy(opts.idle_timeout, idle_timeout, sizeof opts.idle_timeout);
            opts.removed_cb = on_removed;
            opts.error_cb = on_error;
            opts.adopted_cb = on_adopted;
            opts.aux = v;
            if (flowrules_create(&opts, &v->fr)) {
                VLOG_ERR("%s: cannot set up verdict rules", target);
            }
            free(target);
        }
    } else if (v->fr && memcmp(idle_timeout, v->idle_timeout,
                               sizeof v->idle_timeout)) {
        flowrules_set_idle_timeouts(v->fr, idle_timeout);
    }
    memcpy(v->idle_timeout, idle_timeout, sizeof v->idle_timeout);
    if (v->fr && !v->restored) {
        restore_state(v, rejudge);
    }
}

bool
fs_verdicts_ready(const struct fs_verdicts *v)
{
    return v->fr && v->restored && v->adopted_done;
}

unsigned int
fs_verdicts_flush(struct fs_verdicts *v)
{
    /* Every flow ends (FS_END_FLUSHED), and its rules with it. */
    fs_appliance_flush(v->app);
    return fs_inspector_flush(v->insp);
}

void
fs_verdicts_run(struct fs_verdicts *v)
{
    if (v->fr) {
        flowrules_run(v->fr);
        if (!v->adopted_done && flowrules_reconciled(v->fr)) {
            size_t i;

            for (i = 0; i < v->n_adopted; i++) {
                adopt(v, &v->adopted[i]);
            }
            if (v->n_adopted) {
                VLOG_INFO("%"PRIuSIZE" verdict rules found in the switch "
                          "that the flow state did not know: adopted",
                          v->n_adopted);
            }
            free(v->adopted);
            v->adopted = NULL;
            v->n_adopted = v->allocated_adopted = 0;
            v->adopted_done = true;
        }
    }
    if (v->dirty && time_msec() >= v->next_save) {
        save_state(v);
    }
    if (v->saver) {
        int error = fs_saver_run(v->saver);

        if (error) {
            state_problem(v, "cannot save: %s", ovs_strerror(error));
        }
    }
    gone_run(v);
    if (time_msec() >= v->next_expire) {
        /* Flows without rules idle out here as in the appliance. */
        fs_inspector_expire(v->insp, time_msec() * 1000000ULL);
        v->next_expire = time_msec() + 1000;
    }
}

void
fs_verdicts_wait(struct fs_verdicts *v)
{
    if (v->fr) {
        flowrules_wait(v->fr);
    }
    if (v->dirty) {
        poll_timer_wait_until(v->next_save);
    }
    if (v->saver) {
        fs_saver_wait(v->saver);
    }
    if (v->n_gone_waits) {
        poll_timer_wait(10);    /* Until flowrules says. */
    }
    poll_timer_wait_until(v->next_expire);
}

void
fs_verdicts_destroy(struct fs_verdicts *v)
{
    if (v) {
        if (v->restored) {
            save_state(v);
        }
        fs_saver_destroy(v->saver);   /* Once it is written. */
        flowrules_destroy(v->fr);
        free(v->adopted);
        free(v->bridge);
        free(v->state_file);
        free(v);
    }
}

void
fs_verdicts_format(const struct fs_verdicts *v, struct ds *ds)
{
    FS_INSPECTOR_STATS(st);

    fs_inspector_get_stats(v->insp, &st);
    ds_put_format(ds, "inspector flows: %"PRIu32" of %"PRIu32" (%"PRIu32
                  " pinned by their rules, %"PRIu32" classifying), %"PRIu64
                  " bytes\n", st.flows, st.max_flows, st.flows_pinned,
                  st.flows_classifying, st.memory);
    if (v->fr) {
        struct flowrules_stats fst;

        flowrules_get_stats(v->fr, &fst);
        ds_put_format(ds, "verdict rules: %"PRIu64" flows, %"PRIu64" rules "
                      "installed, %"PRIu64" refused, %"PRIu64" table full, %"
                      PRIu64" removed idle, %"PRIu64" bundles (%"PRIu64
                      " commits, %"PRIu64" held back for the connection's "
                      "queue), %"PRIuSIZE" bytes\n", fst.flows,
                      fst.rules_installed, fst.rules_failed, fst.table_full,
                      fst.flows_removed, fst.bundles_sent, fst.commits,
                      fst.queue_waits, fst.memory);
        flowrules_format_connection(v->fr, ds);
    }
    ds_put_format(ds, "connections reopened on a 5-tuple with rules: %"
                  PRIu64", flows re-inspected: %"PRIu64", rule errors: %"
                  PRIu64"\n", v->n_reopened, v->n_reinspected,
                  v->n_rule_errors);
    ds_put_format(ds, "appliance events: %"PRIu64" (%"PRIu64" records "
                  "refused, %"PRIu64" changes applied here already), %"
                  PRIuSIZE" waiting for rules to go\n", v->n_app_events,
                  v->n_app_refused, v->n_app_ignored, v->n_gone_waits);
    struct fs_saver_stats sst = { .n_saves = 0 };
    if (v->saver) {
        fs_saver_get_stats(v->saver, &sst);
    }
    ds_put_format(ds, "flow state %s: %"PRIu64" restored, %"PRIu64" bad, %"
                  PRIu64" duplicate; %"PRIu64" rules adopted (%"PRIu64
                  " conflicts); %"PRIu64" saves (%"PRIuSIZE" flows last), %"
                  PRIu64" failed, %"PRIu64" superseded unwritten; written "
                  "off the main loop in %lld ms last, %lld ms at most%s%s\n",
                  v->state_file ? v->state_file : "(none)", v->n_restored,
                  v->n_restore_bad, v->n_restore_exists, v->n_adopted_rules,
                  v->n_adopt_conflicts, sst.n_saves, sst.last_records,
                  sst.n_errors, sst.n_superseded, sst.last_ms, sst.max_ms,
                  v->state_error[0] ? "; " : "", v->state_error);
}
