/* The fleet: flowsteerd and the Flowsteer database.  See fs-fleet.h. */
#include <config.h>
#include "fs-fleet.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fs-config.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-ext/flowsteer-idl.h"
#include "ovsdb-idl.h"
#include "random.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_fleet);

struct fs_fleet {
    char *remote;               /* NULL: no database. */
    char *chassis;
    char *advertise;            /* Our migration endpoint, for peers
                                 * ("ssl:IP:PORT"), or "". */
    /* Two sessions to the database, with one TLS identity: */
    struct ovsdb_idl *idl;      /* Reads (the policy, the profiles, the
                                 * peers' rows), from any member or relay;
                                 * never written through. */
    struct ovsdb_idl *wr_idl;   /* This chassis's own rows (its Chassis
                                 * row, its Migration rows), read and
                                 * written through the leader (or a
                                 * relay): see fs_fleet_set_config(). */
    struct ovsdb_idl_loop wr_loop;
    bool wr_open;               /* 'wr_idl' has a session (it is paced:
                                 * fleet_pace_writes()). */
    bool wr_up;                 /* Monitoring: at the leader, or a relay. */
    long long int wr_down_since;  /* If open and not up: since when. */
    long long int wr_lost_at;   /* Not up since then (opened or lost), or
                                 * LLONG_MAX while up. */
    bool wr_hinted;             /* The "relays?" hint logged for this loss. */
    unsigned int wr_down_seqno;   /* Of 'wr_idl', when last seen not
                                   * connected. */
    long long int wr_retry_at;    /* If closed: when to open it again. */

    /* The policy, as last read. */
    char *policy_name;          /* "db:NAME", or NULL. */
    char *policy_rules;
    int64_t policy_version;
    size_t n_profiles;          /* Profiles with a policy of their own. */
    bool policy_changed;
    const char *missing;        /* Why there is none. */

    /* What is in force here, and what the Chassis row last said. */
    int64_t applied_version;    /* -1: none. */
    bool applied_ok;
    long long int next_heartbeat;
    long long int next_write;   /* Not before: one report interval after
                                 * the last write. */
    long long int write_at;     /* The write a change waits for, at a
                                 * random moment within the interval. */
    bool row_pending;           /* A change waits for write_at. */
    long long int report_ms;    /* The report interval (Flowsteer_Global
                                 * options:chassis_report_interval). */
    long long int slow_ms;      /* The interval stretched by slow commits
                                 * (fleet_commit_done()), or 0. */
    long long int write_sent;   /* When the commit in flight was sent with
                                 * our rows in it, or 0. */
    bool relay;                 /* 'remote' names relays: the writing
                                 * session is not leader-only. */
    bool row_check;             /* What to say changed: look again. */
    unsigned int seqno;         /* Of 'idl' when last read. */
    unsigned int wr_seqno;      /* Of 'wr_idl' when last read. */

    unsigned int global_inserted; /* IDL seqno of Flowsteer_Global's insert. */

    /* Peers: chassis whose rows this one reads too (their migration
     * endpoints), at most FS_FLEET_MAX_PEERS. */
    struct sset peers;
    bool cond_changed;

    /* Migration rows to write, the last content of each. */
    struct ovs_list migrations; /* struct fleet_mig. */
    size_t n_migrations;

    /* The summary counters for the row (fs_fleet_set_counters_cb()). */
    fs_fleet_counters_cb *counters_cb;
    void *counters_aux;

    uint64_t n_writes, n_write_failures, n_policy_updates, n_downloads;
    uint64_t n_migration_writes, n_migrations_pruned;
    uint64_t n_write_pauses, n_slow_commits;
};

/* A Migration row to write. */
struct fleet_mig {
    struct ovs_list node;
    char *iface_id, *source, *destination, *state, *error;
    long long int started, ended;
    uint64_t flows;
};

static void
fleet_mig_free(struct fleet_mig *m)
{
    free(m->iface_id);
    free(m->source);
    free(m->destination);
    free(m->state);
    free(m->error);
    free(m);
}

struct fs_fleet *
fs_fleet_create(void)
{
    struct fs_fleet *f = xzalloc(sizeof *f);

    f->applied_version = -1;
    f->report_ms = FS_FLEET_REPORT_MS;
    f->write_at = LLONG_MAX;
    f->missing = "no Flowsteer database configured";
    sset_init(&f->peers);
    ovs_list_init(&f->migrations);
    return f;
}

static void
fleet_close(struct fs_fleet *f)
{
    if (f->idl) {
        ovsdb_idl_destroy(f->idl);
        ovsdb_idl_loop_destroy(&f->wr_loop);
        f->idl = f->wr_idl = NULL;
    }
    free(f->policy_name);
    free(f->policy_rules);
    f->policy_name = f->policy_rules = NULL;
    f->policy_version = 0;
    sset_clear(&f->peers);

    struct fleet_mig *m;
    LIST_FOR_EACH_POP (m, node, &f->migrations) {
        fleet_mig_free(m);
    }
    f->n_migrations = 0;
}

void
fs_fleet_destroy(struct fs_fleet *f)
{
    if (f) {
        fleet_close(f);
        free(f->remote);
        free(f->chassis);
        free(f->advertise);
        sset_destroy(&f->peers);
        free(f);
    }
}

/* The stream peers reach listener 'pssl' ("pssl:PORT[:IP]") at:
 * "ssl:IP:PORT", or "" without an IP to name. */
static char *
advertised(const char *pssl)
{
    const char *port = pssl ? pssl + 5 : NULL;
    const char *ip = port ? strchr(port, ':') : NULL;

    if (!ip || !ip[1]) {
        return xstrdup("");
    }
    return strchr(ip + 1, ':')
           ? xasprintf("ssl:[%s]:%.*s", ip + 1, (int) (ip - port), port)
           : xasprintf("ssl:%s:%.*s", ip + 1, (int) (ip - port), port);
}

/* The reading session's condition on Chassis: the peers' rows (none: no
 * row). */
static void
fleet_set_peer_condition(struct fs_fleet *f)
{
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    const char *name;

    SSET_FOR_EACH (name, &f->peers) {
        fsrec_chassis_add_clause_name(&cond, OVSDB_F_EQ, name);
    }
    fsrec_chassis_set_condition(f->idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    f->cond_changed = false;
}

/* What the reading session reads: the global row, the policies and the
 * profiles; of Chassis, the peers' names and migration endpoints
 * (fleet_set_peer_condition()). */
static void
fleet_register_reads(struct fs_fleet *f)
{
    struct ovsdb_idl *idl = f->idl;

    ovsdb_idl_add_table(idl, &fsrec_table_flowsteer_global);
    ovsdb_idl_add_column(idl, &fsrec_flowsteer_global_col_policy);
    ovsdb_idl_add_column(idl, &fsrec_flowsteer_global_col_options);
    ovsdb_idl_add_table(idl, &fsrec_table_policy);
    ovsdb_idl_add_column(idl, &fsrec_policy_col_name);
    ovsdb_idl_add_column(idl, &fsrec_policy_col_rules);
    ovsdb_idl_add_column(idl, &fsrec_policy_col_version);
    ovsdb_idl_add_table(idl, &fsrec_table_profile);
    ovsdb_idl_add_column(idl, &fsrec_profile_col_name);
    ovsdb_idl_add_column(idl, &fsrec_profile_col_policy);
    ovsdb_idl_add_table(idl, &fsrec_table_chassis);
    ovsdb_idl_add_column(idl, &fsrec_chassis_col_name);
    ovsdb_idl_add_column(idl, &fsrec_chassis_col_migration_remote);
    fleet_set_peer_condition(f);
}

/* What the writing session reads: this chassis's Chassis row, whose
 * columns it writes without being woken for them, and the Migration rows
 * that name it, which it writes. */
static void
fleet_register_writes(struct fs_fleet *f)
{
    struct ovsdb_idl *idl = f->wr_idl;
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);

    ovsdb_idl_add_table(idl, &fsrec_table_chassis);
    ovsdb_idl_add_column(idl, &fsrec_chassis_col_name);
    static const struct ovsdb_idl_column *written[] = {
        &fsrec_chassis_col_hostname,
        &fsrec_chassis_col_migration_remote,
        &fsrec_chassis_col_version,
        &fsrec_chassis_col_policy_name,
        &fsrec_chassis_col_policy_version,
        &fsrec_chassis_col_heartbeat,
        &fsrec_chassis_col_counters,
    };
    for (size_t i = 0; i < ARRAY_SIZE(written); i++) {
        ovsdb_idl_add_column(idl, written[i]);
        ovsdb_idl_omit_alert(idl, written[i]);
    }
    static const struct ovsdb_idl_column *migration[] = {
        &fsrec_migration_col_iface_id,
        &fsrec_migration_col_source,
        &fsrec_migration_col_destination,
        &fsrec_migration_col_state,
        &fsrec_migration_col_started,
        &fsrec_migration_col_ended,
        &fsrec_migration_col_flows,
        &fsrec_migration_col_error,
    };
    ovsdb_idl_add_table(idl, &fsrec_table_migration);
    for (size_t i = 0; i < ARRAY_SIZE(migration); i++) {
        ovsdb_idl_add_column(idl, migration[i]);
        ovsdb_idl_omit_alert(idl, migration[i]);
    }

    fsrec_chassis_add_clause_name(&cond, OVSDB_F_EQ, f->chassis);
    fsrec_chassis_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);

    ovsdb_idl_condition_init(&cond);
    fsrec_migration_add_clause_source(&cond, OVSDB_F_EQ, f->chassis);
    fsrec_migration_add_clause_destination(&cond, OVSDB_F_EQ, f->chassis);
    fsrec_migration_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
}

void
fs_fleet_set_config(struct fs_fleet *f, const struct fs_config *cfg)
{
    char *advertise = advertised(cfg->migration_remote);

    if (!nullable_string_is_equal(f->advertise, advertise)) {
        free(f->advertise);
        f->advertise = advertise;
        f->row_check = true;
    } else {
        free(advertise);
    }
    if (nullable_string_is_equal(f->remote, cfg->remote)
        && nullable_string_is_equal(f->chassis, cfg->chassis)
        && f->relay == cfg->remote_relay) {
        return;
    }
    fleet_close(f);
    free(f->remote);
    free(f->chassis);
    f->remote = nullable_xstrdup(cfg->remote);
    f->chassis = nullable_xstrdup(cfg->chassis);
    f->relay = cfg->remote_relay;
    f->missing = (f->remote ? "the Flowsteer database has given no policy "
                  "yet" : "no Flowsteer database configured");
    if (!f->remote) {
        return;
    }
    /* Any member, or a relay, serves the reads. */
    f->idl = ovsdb_idl_create(f->remote, &fsrec_idl_class, false, true);
    ovsdb_idl_set_leader_only(f->idl, false);
    ovsdb_idl_set_shuffle_remotes(f->idl, true);
    fleet_register_reads(f);

    /* The writes go to the leader itself.  A follower would forward each
     * to the leader with its own last log entry as the prerequisite, and
     * the leader refuses it if any entry came in between ("current entry
     * eid ... does not match prerequisite"), which under a fleet's stream
     * of row writes is nearly always: the follower retries on each change
     * of the database, and a thousand chassis' writes forwarded that way
     * starved the cluster (bench/bench-fleet.sh).  At the leader, writes
     * queue and commit one after the other.  A relay is never a leader,
     * and a leader-only session refuses one ("relay database server cannot
     * be a leader", ovsdb-cs), so behind relays (flowsteer-remote-relay)
     * this session is not leader-only: the relay forwards the writes to
     * the cluster. */
    f->wr_idl = ovsdb_idl_create_unconnected(&fsrec_idl_class, false);
    ovsdb_idl_set_leader_only(f->wr_idl, !f->relay);
    ovsdb_idl_set_shuffle_remotes(f->wr_idl, true);
    f->wr_loop = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
        f->wr_idl);
    /* Opened by the first fleet_pace_writes(). */
    f->wr_open = false;
    f->wr_retry_at = LLONG_MIN;
    f->wr_lost_at = time_msec();
    f->wr_hinted = false;
    fleet_register_writes(f);
    VLOG_INFO("following the Flowsteer database %s%s as chassis %s",
              f->remote, f->relay ? " (relays)" : "", f->chassis);
}

bool
fs_fleet_enabled(const struct fs_fleet *f)
{
    return f->remote != NULL;
}

const char *
fs_fleet_policy(const struct fs_fleet *f, const char **name,
                int64_t *version)
{
    *name = f->policy_rules ? f->policy_name : f->missing;
    *version = f->policy_rules ? f->policy_version : 0;
    return f->policy_rules;
}

bool
fs_fleet_policy_changed(const struct fs_fleet *f)
{
    return f->policy_changed;
}

void
fs_fleet_policy_applied(struct fs_fleet *f, int64_t version, bool ok)
{
    if (version != f->applied_version || ok != f->applied_ok) {
        f->applied_version = version;
        f->applied_ok = ok;
        f->row_check = true;
    }
}

/* What flowsteer-profile may name (fs-config.c), and so a Profile row. */
static bool
valid_profile_name(const char *name)
{
    return *name && strlen(name) <= 64 && !strpbrk(name, " ,=\t\"#\r\n");
}

static int
compare_profiles(const void *a_, const void *b_)
{
    const struct fsrec_profile *const *a = a_, *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

void
fs_fleet_profile_rules(struct ds *ds, const char *profile, const char *rules)
{
    for (const char *line = rules; *line; ) {
        size_t len = strcspn(line, "\n");
        size_t skip = strspn(line, " \t\r");

        if (skip < len && line[skip] != '#'
            && strncmp(line + skip, "exception=", 10)) {
            ds_put_format(ds, "profile=%s, %.*s", profile,
                          (int) (len - skip), line + skip);
        }
        ds_put_char(ds, '\n');
        line += len + (line[len] == '\n');
    }
}

/* Puts in 'ds' the rules of each profile that has a policy, as
 * fs_fleet_profile_rules() gives them, profiles in name order, then the
 * global policy's rules: at equal priorities a profile's rules come
 * first.  Returns the number of profiles put in. */
static size_t
compose_policy(const struct fs_fleet *f, const struct fsrec_policy *global,
               struct ds *ds)
{
    const struct fsrec_profile **profiles = NULL, *pr;
    size_t n = 0, allocated = 0, n_used = 0;

    FSREC_PROFILE_FOR_EACH (pr, f->idl) {
        if (pr->policy && !valid_profile_name(pr->name)) {
            /* Written around flowsteer-ctl: it would make the whole policy
             * fail to parse, on every chassis. */
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
            VLOG_WARN_RL(&rl, "profile \"%s\": not a profile name (1 to "
                         "64 characters, no spaces, commas, '=', '#' or "
                         "quotes); its policy is left out", pr->name);
        } else if (pr->policy) {
            if (n >= allocated) {
                profiles = x2nrealloc(profiles, &allocated, sizeof *profiles);
            }
            profiles[n++] = pr;
        }
    }
    if (n) {
        /* (Not qsort(NULL, 0): its argument must not be null.) */
        qsort(profiles, n, sizeof *profiles, compare_profiles);
    }
    for (size_t i = 0; i < n; i++) {
        ds_put_format(ds, "# profile %s: policy %s, version %"PRId64"\n",
                      profiles[i]->name, profiles[i]->policy->name,
                      profiles[i]->policy->version);
        fs_fleet_profile_rules(ds, profiles[i]->name,
                               profiles[i]->policy->rules);
        n_used++;
    }
    free(profiles);
    ds_put_format(ds, "# policy %s\n", global->name);
    ds_put_cstr(ds, global->rules);
    return n_used;
}

/* Reads the policy from the global row, with the profiles'. */
static void
read_policy(struct fs_fleet *f)
{
    const struct fsrec_flowsteer_global *g
        = fsrec_flowsteer_global_first(f->idl);
    const struct fsrec_policy *p = g ? g->policy : NULL;
    char *name;

    f->policy_changed = false;
    if (g) {
        unsigned long long int ms = smap_get_ullong(
            &g->options, "chassis_report_interval", FS_FLEET_REPORT_MS);

        f->report_ms = MIN(MAX(ms, FS_FLEET_REPORT_MIN_MS),
                           FS_FLEET_REPORT_MAX_MS);
    }
    if (g) {
        /* A row inserted again: the whole database was downloaded (a first
         * connection, or a reconnection that monitor_cond_since could not
         * resume). */
        unsigned int inserted = ovsdb_idl_row_get_seqno(
            &g->header_, OVSDB_IDL_CHANGE_INSERT);

        if (inserted != f->global_inserted) {
            f->global_inserted = inserted;
            f->n_downloads++;
        }
    }
    if (!p) {
        f->missing = (!ovsdb_idl_has_ever_connected(f->idl)
                      ? "the Flowsteer database has not been reached yet"
                      : "the Flowsteer database names no policy "
                        "(Flowsteer_Global's policy)");
        /* The last policy stays in force. */
        return;
    }
    struct ds rules = DS_EMPTY_INITIALIZER;
    size_t n_profiles = compose_policy(f, p, &rules);

    name = xasprintf("db:%s", p->name);
    if (!f->policy_rules || strcmp(f->policy_rules, ds_cstr(&rules))
        || strcmp(f->policy_name, name) || f->policy_version != p->version) {
        free(f->policy_name);
        free(f->policy_rules);
        f->policy_name = name;
        f->policy_rules = ds_steal_cstr(&rules);
        f->policy_version = p->version;
        f->n_profiles = n_profiles;
        f->policy_changed = true;
        f->n_policy_updates++;
    } else {
        free(name);
        ds_destroy(&rules);
    }
}

/* The policy this chassis reports as in force, for its Chassis row. */
static const char *
applied_name(const struct fs_fleet *f)
{
    return (f->applied_version < 0 ? ""
            : !f->applied_ok ? "(refused)"
            : f->policy_name ? f->policy_name
            : "");
}

/* True if 'c', this chassis's row as the database has it, says what this
 * chassis would write now (but for the heartbeat). */
static bool
row_is_current(const struct fs_fleet *f, const struct fsrec_chassis *c,
               const char *hostname)
{
    return (c
            && !strcmp(c->hostname, hostname)
            && !strcmp(c->migration_remote,
                       f->advertise ? f->advertise : "")
            && !strcmp(c->version, PACKAGE_VERSION)
            && !strcmp(c->policy_name, applied_name(f))
            && c->policy_version == MAX(f->applied_version, 0));
}

/* The interval this chassis writes its rows at: the report interval,
 * stretched while the cluster commits them slowly (fleet_commit_done()). */
static long long int
fleet_interval(const struct fs_fleet *f)
{
    return MAX(f->report_ms, f->slow_ms);
}

/* Writes this chassis's row when what it says differs from what the
 * database has, at a random moment within the report interval (so that a
 * policy change makes a fleet of N write N rows over the interval, not at
 * once), and for the heartbeat; never twice within the interval.  A
 * reconnection writes nothing by itself: the row the IDL resynced says
 * whether one is needed. */
static void
write_chassis(struct fs_fleet *f, struct ovsdb_idl_txn *txn)
{
    const struct fsrec_chassis *c, *mine = NULL;
    long long int now = time_msec();
    long long int interval = fleet_interval(f);
    char hostname[256];

    f->row_pending = f->row_check = false;
    if (gethostname(hostname, sizeof hostname)) {
        hostname[0] = '\0';
    }
    hostname[sizeof hostname - 1] = '\0';
    FSREC_CHASSIS_FOR_EACH (c, f->wr_idl) {
        if (!strcmp(c->name, f->chassis)) {
            mine = c;
            break;
        }
    }
    bool current = row_is_current(f, mine, hostname);
    if (current && now < f->next_heartbeat) {
        f->write_at = LLONG_MAX;
        return;
    }
    if (f->write_at == LLONG_MAX) {
        /* A heartbeat is jittered already; a change (or the first row) is
         * spread over the interval. */
        f->write_at = MAX(f->next_write,
                          current ? now : now + random_range(interval));
    }
    if (now < f->write_at) {
        f->row_pending = true;
        return;
    }
    f->write_at = LLONG_MAX;
    if (!mine) {
        mine = fsrec_chassis_insert(txn);
        fsrec_chassis_set_name(mine, f->chassis);
    }
    fsrec_chassis_set_hostname(mine, hostname);
    fsrec_chassis_set_migration_remote(mine, f->advertise ? f->advertise
                                                          : "");
    fsrec_chassis_set_version(mine, PACKAGE_VERSION);
    fsrec_chassis_set_policy_name(mine, applied_name(f));
    fsrec_chassis_set_policy_version(mine, MAX(f->applied_version, 0));
    fsrec_chassis_set_heartbeat(mine, time_wall_msec());
    if (f->counters_cb) {
        const char *keys[FS_FLEET_MAX_COUNTERS];
        int64_t values[FS_FLEET_MAX_COUNTERS];
        size_t n = f->counters_cb(f->counters_aux, keys, values,
                                  FS_FLEET_MAX_COUNTERS);

        fsrec_chassis_set_counters(mine, keys, values,
                                   MIN(n, FS_FLEET_MAX_COUNTERS));
    }
    ovsdb_idl_txn_add_comment(txn, "flowsteerd: chassis %s", f->chassis);
    f->next_write = now + interval;
    /* Jittered, so that a fleet started at once does not beat as one. */
    long long int beat = MAX(FS_FLEET_HEARTBEAT_MS, 6 * interval);
    f->next_heartbeat = now + beat + random_range(beat / 10);
    f->n_writes++;
    f->write_sent = now;
}

void
fs_fleet_set_counters_cb(struct fs_fleet *f, fs_fleet_counters_cb *cb,
                         void *aux)
{
    f->counters_cb = cb;
    f->counters_aux = aux;
}

const char *
fs_fleet_chassis(const struct fs_fleet *f)
{
    return f->remote ? f->chassis : NULL;
}

const char *
fs_fleet_chassis_remote(struct fs_fleet *f, const char *name)
{
    const struct fsrec_chassis *c;

    if (!f->idl) {
        return NULL;
    }
    if (!sset_contains(&f->peers, name)) {
        if (sset_count(&f->peers) >= FS_FLEET_MAX_PEERS) {
            /* Those still wanted are asked for again. */
            sset_clear(&f->peers);
        }
        sset_add(&f->peers, name);
        f->cond_changed = true;
        return NULL;
    }
    FSREC_CHASSIS_FOR_EACH (c, f->idl) {
        if (!strcmp(c->name, name)) {
            return c->migration_remote[0] ? c->migration_remote : NULL;
        }
    }
    return NULL;
}

void
fs_fleet_migration_update(struct fs_fleet *f,
                          const struct fs_fleet_migration *u)
{
    struct fleet_mig *m;

    if (!f->idl) {
        return;
    }
    LIST_FOR_EACH (m, node, &f->migrations) {
        if (m->started == u->started && !strcmp(m->iface_id, u->iface_id)) {
            ovs_list_remove(&m->node);
            fleet_mig_free(m);
            f->n_migrations--;
            break;
        }
    }
    m = xzalloc(sizeof *m);
    m->iface_id = xstrdup(u->iface_id);
    m->source = xstrdup(u->source);
    m->destination = xstrdup(u->destination);
    m->state = xstrdup(u->state);
    m->error = xstrdup(u->error ? u->error : "");
    m->started = u->started;
    m->ended = u->ended;
    m->flows = u->flows;
    ovs_list_push_back(&f->migrations, &m->node);
    if (++f->n_migrations > FS_FLEET_MIGRATIONS_KEEP) {
        /* Not connected for long: the oldest unwritten is dropped. */
        struct fleet_mig *old = CONTAINER_OF(ovs_list_pop_front(
                                                 &f->migrations),
                                             struct fleet_mig, node);
        fleet_mig_free(old);
        f->n_migrations--;
    }
}

static bool
names_us(const struct fs_fleet *f, const struct fsrec_migration *r)
{
    return !strcmp(r->source, f->chassis)
           || !strcmp(r->destination, f->chassis);
}

/* Writes the Migration rows that wait, each whole (a row that a refused
 * commit lost is inserted again by its next update), then deletes the
 * oldest ended rows that name this chassis past FS_FLEET_MIGRATIONS_KEEP. */
static void
write_migrations(struct fs_fleet *f, struct ovsdb_idl_txn *txn)
{
    const struct fsrec_migration *r, *oldest;
    struct fleet_mig *m;
    size_t n;

    LIST_FOR_EACH_POP (m, node, &f->migrations) {
        const struct fsrec_migration *row = NULL;

        FSREC_MIGRATION_FOR_EACH (r, f->wr_idl) {
            if (r->started == m->started && !strcmp(r->iface_id, m->iface_id)
                && names_us(f, r)) {
                row = r;
                break;
            }
        }
        if (!row) {
            row = fsrec_migration_insert(txn);
            fsrec_migration_set_iface_id(row, m->iface_id);
            fsrec_migration_set_source(row, m->source);
            fsrec_migration_set_destination(row, m->destination);
            fsrec_migration_set_started(row, m->started);
        }
        fsrec_migration_set_state(row, m->state);
        fsrec_migration_set_ended(row, m->ended);
        fsrec_migration_set_flows(row, m->flows);
        fsrec_migration_set_error(row, m->error);
        fleet_mig_free(m);
        f->n_migration_writes++;
        f->write_sent = time_msec();
    }
    f->n_migrations = 0;

    do {
        n = 0;
        oldest = NULL;
        FSREC_MIGRATION_FOR_EACH (r, f->wr_idl) {
            if (names_us(f, r) && r->ended) {
                n++;
                if (!oldest || r->started < oldest->started) {
                    oldest = r;
                }
            }
        }
        if (n > FS_FLEET_MIGRATIONS_KEEP) {
            fsrec_migration_delete(oldest);
            f->n_migrations_pruned++;
        }
    } while (n > FS_FLEET_MIGRATIONS_KEEP + 1);
}

/* Paces the writing session.  While the cluster has no leader (an
 * election), a leader-only session goes from member to member, a TLS
 * handshake each, and ovsdb-cs backs off only to 8 s: a thousand chassis
 * doing so, then all coming to the new leader at once, kept the members
 * too busy to serve the reads (bench/bench-fleet.sh).  So a session that
 * is not up within FS_FLEET_WR_PATIENCE_MS of being opened or lost is
 * closed and opened again at a random moment within the report interval:
 * its rows wait, and the chassis' retries are spread over the interval,
 * as their writes are.  "Up" is connected with a monitor reply since it
 * was last seen not connected (a reply always moves the IDL's seqno; a
 * follower's refusal, "not the leader", comes before the monitor
 * request). */
static void
fleet_pace_writes(struct fs_fleet *f)
{
    long long int now = time_msec();
    unsigned int seqno = ovsdb_idl_get_seqno(f->wr_idl);

    if (!f->wr_open) {
        if (now >= f->wr_retry_at) {
            ovsdb_idl_set_remote(f->wr_idl, f->remote, true);
            f->wr_open = true;
            f->wr_up = false;
            f->wr_down_since = now;
            f->wr_down_seqno = seqno;
        }
        return;
    }
    if (!ovsdb_idl_is_connected(f->wr_idl)) {
        f->wr_down_seqno = seqno;
        if (f->wr_up) {
            f->wr_up = false;
            f->wr_down_since = now;
            f->wr_lost_at = now;
        }
    } else if (seqno != f->wr_down_seqno) {
        f->wr_up = true;
        f->wr_lost_at = LLONG_MAX;
        f->wr_hinted = false;
    }
    /* No leader for a minute while the reads are served: an election lasts
     * a few election timers, so these are more likely relays, which a
     * leader-only session never takes. */
    if (!f->wr_up && !f->relay && !f->wr_hinted
        && now - f->wr_lost_at >= FS_FLEET_NO_LEADER_HINT_MS
        && ovsdb_idl_is_connected(f->idl)) {
        VLOG_WARN("chassis %s: no leader among %s for %lld s while the "
                  "policy is read from them; this host's row is not "
                  "written (if they are ovsdb-server relays, set "
                  "external_ids:flowsteer-remote-relay=true)", f->chassis,
                  f->remote, (now - f->wr_lost_at) / 1000);
        f->wr_hinted = true;
    }
    if (!f->wr_up && now >= f->wr_down_since + FS_FLEET_WR_PATIENCE_MS) {
        ovsdb_idl_set_remote(f->wr_idl, NULL, true);
        f->wr_open = false;
        f->wr_retry_at = now + 1000 + random_range(fleet_interval(f));
        f->n_write_pauses++;
    }
}

/* When fleet_pace_writes() has something to do, or LLONG_MAX. */
static long long int
fleet_pace_wake(const struct fs_fleet *f)
{
    return (!f->wr_open ? f->wr_retry_at
            : f->wr_up ? LLONG_MAX
            : f->wr_down_since + FS_FLEET_WR_PATIENCE_MS);
}

void
fs_fleet_run(struct fs_fleet *f)
{
    struct ovsdb_idl_txn *txn;

    f->policy_changed = false;
    if (!f->idl) {
        return;
    }
    if (f->cond_changed) {
        fleet_set_peer_condition(f);
    }
    ovsdb_idl_run(f->idl);
    if (ovsdb_idl_get_seqno(f->idl) != f->seqno) {
        f->seqno = ovsdb_idl_get_seqno(f->idl);
        read_policy(f);
        f->row_check = true;    /* The policy name in our row may differ. */
    }
    fleet_pace_writes(f);
    txn = ovsdb_idl_loop_run(&f->wr_loop);
    if (ovsdb_idl_get_seqno(f->wr_idl) != f->wr_seqno) {
        f->wr_seqno = ovsdb_idl_get_seqno(f->wr_idl);
        f->row_check = true;    /* Our row, resynced or edited, may differ. */
    }
    /* Not on every turn of the main loop: only when something the row says
     * may have changed, or a write or the heartbeat is due. */
    if (txn && ovsdb_idl_is_connected(f->wr_idl)
        && ovsdb_idl_has_ever_connected(f->wr_idl)
        && (f->row_check
            || time_msec() >= (f->row_pending ? f->write_at
                               : f->next_heartbeat))) {
        write_chassis(f, txn);
    }
    if (txn && ovsdb_idl_is_connected(f->wr_idl) && f->n_migrations) {
        write_migrations(f, txn);
    }
}

/* Backpressure.  A commit of this chassis's rows that took longer than
 * FS_FLEET_SLOW_COMMIT_MS means the leader queues writes (a fleet writing
 * faster than Raft commits them, a busy leader): the chassis doubles the
 * interval it writes at, up to FS_FLEET_SLOW_MAX_FACTOR report intervals,
 * and waits that long before its next write; a quick commit halves it
 * again, back to the report interval.  So a fleet's writes settle at what
 * the cluster commits within about that long, whatever the fleet's size,
 * and an admin's write waits behind a short queue instead of timing out
 * (bench/bench-fleet.sh at 1,000 chassis, direct: the leader had 300
 * writes queued).  The cap keeps the way back short: a commit that waited
 * out an election is slow too, and without it 1,000 chassis had stretched
 * to 320 s in a bench run. */
static void
fleet_commit_done(struct fs_fleet *f, bool ok)
{
    long long int now = time_msec();
    long long int took = now - f->write_sent;

    f->write_sent = 0;
    VLOG_DBG("chassis %s: a write %s in %lld ms", f->chassis,
             ok ? "committed" : "failed", took);
    if (!ok) {
        /* Refused, or the connection lost: not a measure of the leader. */
        return;
    }
    if (took > FS_FLEET_SLOW_COMMIT_MS) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);

        f->slow_ms = MIN(MIN(2 * fleet_interval(f),
                             FS_FLEET_SLOW_MAX_FACTOR * f->report_ms),
                         FS_FLEET_REPORT_MAX_MS);
        f->next_write = MAX(f->next_write, now + f->slow_ms);
        f->n_slow_commits++;
        VLOG_INFO_RL(&rl, "chassis %s: a write took %lld ms to commit; "
                     "writing every %lld ms", f->chassis, took, f->slow_ms);
    } else if (f->slow_ms) {
        f->slow_ms /= 2;
        if (f->slow_ms <= f->report_ms) {
            f->slow_ms = 0;
        }
    }
}

void
fs_fleet_wait(struct fs_fleet *f)
{
    if (!f->idl) {
        return;
    }
    ovsdb_idl_wait(f->idl);
    if (f->cond_changed) {
        poll_immediate_wake();
    }
    poll_timer_wait_until(fleet_pace_wake(f));
    int status = ovsdb_idl_loop_commit_and_wait(&f->wr_loop);
    if (status == 0) {
        /* Refused (RBAC, a lost connection): the row as resynced says
         * whether to write again, after the report interval. */
        f->n_write_failures++;
    }
    if (status != -1 && f->write_sent) {
        fleet_commit_done(f, status == 1);
    }
    /* Not connected, or a commit in flight: the connection, or the
     * commit's reply, wakes us. */
    if (ovsdb_idl_is_connected(f->wr_idl) && !f->wr_loop.committing_txn) {
        if (f->row_check || f->n_migrations) {
            poll_immediate_wake();
        } else {
            poll_timer_wait_until(f->row_pending ? f->write_at
                                  : f->next_heartbeat);
        }
    }
}

void
fs_fleet_format(const struct fs_fleet *f, struct ds *ds)
{
    if (!f->remote) {
        return;
    }
    ds_put_format(ds, "flowsteer database: %s (%s), chassis %s; policy %s "
                  "version %"PRId64" (%s), with %"PRIuSIZE" profiles' "
                  "policies; %"PRIu64" policy updates, %"PRIu64
                  " chassis row writes, %"PRIu64" refused, %"PRIu64
                  " downloads of the database; %"PRIu64" migration row "
                  "writes, %"PRIuSIZE" peers read; own rows written "
                  "through the leader or a relay (%s, paused %"PRIu64
                  " times), every %lld ms (%"PRIu64" slow commits)\n",
                  f->remote,
                  !f->idl ? "closed"
                  : ovsdb_idl_is_connected(f->idl) ? "connected"
                  : "not connected", f->chassis,
                  f->policy_name ? f->policy_name : "(none)",
                  f->policy_version,
                  f->applied_version < 0 ? "not in force"
                  : !f->applied_ok ? "refused" : "in force",
                  f->n_profiles, f->n_policy_updates, f->n_writes,
                  f->n_write_failures, f->n_downloads, f->n_migration_writes,
                  sset_count(&f->peers),
                  !f->wr_idl ? "closed"
                  : !f->wr_open ? "paused"
                  : ovsdb_idl_is_connected(f->wr_idl) ? "connected"
                  : "not connected", f->n_write_pauses,
                  fleet_interval(f), f->n_slow_commits);
}

/* How many times the whole database was downloaded: 1 for the first
 * connection, and 1 for each reconnection that could not resume where it
 * was (monitor_cond_since). */
uint64_t
fs_fleet_n_downloads(const struct fs_fleet *f)
{
    return f->n_downloads;
}

/* How many times this chassis wrote its Chassis row. */
uint64_t
fs_fleet_n_writes(const struct fs_fleet *f)
{
    return f->n_writes;
}

/* How many times the writing session was closed for not coming up
 * (fleet_pace_writes()). */
uint64_t
fs_fleet_n_write_pauses(const struct fs_fleet *f)
{
    return f->n_write_pauses;
}

/* How many commits of this chassis's rows were slow enough to stretch the
 * interval it writes at (fleet_commit_done()). */
uint64_t
fs_fleet_n_slow_commits(const struct fs_fleet *f)
{
    return f->n_slow_commits;
}

/* The interval this chassis writes its rows at now, in ms. */
long long int
fs_fleet_write_interval(const struct fs_fleet *f)
{
    return fleet_interval(f);
}

/* True while connected to a member (or relay) of the database. */
bool
fs_fleet_is_connected(const struct fs_fleet *f)
{
    return f->idl && ovsdb_idl_is_connected(f->idl);
}
