/*
 * The fleet: flowsteerd follows a Flowsteer database (ovs-ext/
 * flowsteer.ovsschema), a clustered ovsdb-server that many hosts share, the
 * way ovn-controller follows OVN's southbound database.
 *
 *   - The policy comes from it: Flowsteer_Global's 'policy', a Policy row
 *     whose 'rules' are in the syntax of a policy file.  A change there
 *     judges live flows again, as a change of the file does.  Until the
 *     first policy comes (the database not reached yet), the one in use
 *     stays; with none yet, new flows follow the fail mode.
 *   - This host has one Chassis row, found by its name (flowsteer-chassis,
 *     else system-id, which must be the common name of its certificate:
 *     the database's RBAC lets a chassis write its own row only).  It says
 *     the host's migration endpoint, version and the policy version in
 *     force.  Written when what it says differs from the row the
 *     database has (not merely on a reconnection), at a random moment
 *     within the report interval and at most once per interval, and as a
 *     heartbeat every FS_FLEET_HEARTBEAT_MS or 6 intervals (plus up to a
 *     tenth, at random): a policy change makes a fleet of N chassis write
 *     N rows spread over the interval, not at once, so the cluster takes
 *     N / interval writes a second, which the admin bounds for a fleet of
 *     any size with Flowsteer_Global options:chassis_report_interval
 *     (ms, default FS_FLEET_REPORT_MS).  A chassis whose writes commit
 *     slowly (over FS_FLEET_SLOW_COMMIT_MS: the leader queues them)
 *     doubles its interval (up to FS_FLEET_SLOW_MAX_FACTOR times), and
 *     halves it again once they are quick, so
 *     the fleet writes what the cluster commits.  No chassis reads
 *     another's row (its monitor condition asks for its own, and its
 *     peers').
 *   - Through libopenvswitch's IDL, in two sessions with one TLS identity,
 *     both with monitor_cond and monitor_cond_since (a reconnect resyncs
 *     from where it was), reconnecting across the members named in
 *     flowsteer-remote: the reads (policy, profiles, peers) not
 *     leader-only, so any member or a relay serves them; this chassis's
 *     own rows (Chassis, Migration) leader-only, so its writes commit at
 *     the leader instead of being forwarded by a follower with a
 *     prerequisite a busy leader refuses.  A leader-only session never
 *     takes a relay (ovsdb-cs), so behind relays (flowsteer-remote-relay)
 *     the writing session is not leader-only and a relay forwards it.
 *
 * A run/wait module.
 */
#ifndef FS_FLEET_H
#define FS_FLEET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct fs_config;
struct fs_fleet;

#define FS_FLEET_HEARTBEAT_MS 30000
#define FS_FLEET_REPORT_MS 5000         /* The default interval. */
#define FS_FLEET_REPORT_MIN_MS 1000
#define FS_FLEET_REPORT_MAX_MS 3600000
/* The writing session: closed when not up within this long of being
 * opened or lost (the cluster without a leader), opened again within the
 * report interval. */
#define FS_FLEET_WR_PATIENCE_MS 3000

/* A commit of this chassis's rows slower than this stretches the interval
 * it writes at (backpressure from a busy leader). */
#define FS_FLEET_SLOW_COMMIT_MS 1000
#define FS_FLEET_SLOW_MAX_FACTOR 8      /* At most this many intervals. */

/* The writing session without a leader this long, while the reading one
 * is connected: flowsteerd says the remotes may be relays. */
#define FS_FLEET_NO_LEADER_HINT_MS 60000

struct fs_fleet *fs_fleet_create(void);
void fs_fleet_destroy(struct fs_fleet *);

/* Follows cfg->remote as cfg->chassis (neither: nothing).  Advertises the
 * migration listener cfg->migration_remote. */
void fs_fleet_set_config(struct fs_fleet *, const struct fs_config *cfg);

/* True while a database is configured. */
bool fs_fleet_enabled(const struct fs_fleet *);

/* The policy the database gives: returns its rules and stores its name
 * (for logs: "db:NAME") in '*name' and its version in '*version'; returns
 * NULL if there is none yet, with why in '*name'.  Valid until the next
 * fs_fleet_run(). */
const char *fs_fleet_policy(const struct fs_fleet *, const char **name,
                            int64_t *version);

/* What flowsteerd put in force: the version of the database's policy it
 * loaded ('ok'), or that it refused it.  Reported in the Chassis row. */
void fs_fleet_policy_applied(struct fs_fleet *, int64_t version, bool ok);

/* Returns true if the policy changed in the last fs_fleet_run(). */
bool fs_fleet_policy_changed(const struct fs_fleet *);

/* Appends to 'ds' the rules of 'rules' as profile 'profile''s policy: each
 * rule line given "profile=PROFILE, " (so it matches that profile's VMs
 * only); comments, blank and exception lines (exceptions are the global
 * policy's) left as empty lines, so that a parser's line numbers are those
 * of 'rules'.  (flowsteer-ctl checks a profile's policy with it.) */
void fs_fleet_profile_rules(struct ds *, const char *profile,
                            const char *rules);

/* The migration endpoint ("ssl:IP:PORT") chassis 'name' gives in its
 * Chassis row, or NULL if its row has not come (yet) or gives none.  The
 * first call for a name adds it to what this chassis monitors, so the
 * answer comes on a later call, once the row is in (a chassis reads the
 * rows of the peers it migrates with, at most FS_FLEET_MAX_PEERS, not the
 * whole fleet's). */
#define FS_FLEET_MAX_PEERS 64
const char *fs_fleet_chassis_remote(struct fs_fleet *, const char *name);

/* This chassis's name, or NULL without a database. */
const char *fs_fleet_chassis(const struct fs_fleet *);

/* A migration this chassis started, for its Migration row: written when
 * its state changes (a few times per migration).  A chassis keeps the
 * rows of its last FS_FLEET_MIGRATIONS_KEEP migrations in the database
 * and deletes older ones, so the table does not grow with time. */
#define FS_FLEET_MIGRATIONS_KEEP 64
struct fs_fleet_migration {
    const char *iface_id;
    const char *source, *destination;   /* Chassis names, or addresses. */
    const char *state;          /* "copying", "switching", "done",
                                 * "failed", "cancelled". */
    long long int started, ended;       /* Wall clock, ms; 0: not yet. */
    uint64_t flows;
    const char *error;          /* "" if none. */
};
void fs_fleet_migration_update(struct fs_fleet *,
                               const struct fs_fleet_migration *);

/* Summary counters for the Chassis row's 'counters': 'cb' fills at most
 * 'max' (FS_FLEET_MAX_COUNTERS) keys (constants) and values and returns
 * how many.  Asked only when the row is written, when it reports a change
 * or for the heartbeat, never on their own account: they add nothing to
 * the rate at which a chassis writes, nor to a turn of the main loop. */
#define FS_FLEET_MAX_COUNTERS 8
typedef size_t fs_fleet_counters_cb(void *aux, const char *keys[],
                                    int64_t values[], size_t max);
void fs_fleet_set_counters_cb(struct fs_fleet *, fs_fleet_counters_cb *,
                              void *aux);

void fs_fleet_run(struct fs_fleet *);
void fs_fleet_wait(struct fs_fleet *);

void fs_fleet_format(const struct fs_fleet *, struct ds *);
uint64_t fs_fleet_n_downloads(const struct fs_fleet *);
uint64_t fs_fleet_n_writes(const struct fs_fleet *);
uint64_t fs_fleet_n_write_pauses(const struct fs_fleet *);
uint64_t fs_fleet_n_slow_commits(const struct fs_fleet *);
long long int fs_fleet_write_interval(const struct fs_fleet *);
bool fs_fleet_is_connected(const struct fs_fleet *);

#endif /* FS_FLEET_H */
