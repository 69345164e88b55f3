/*
 * Verdicts to rules: what ties the inspector's flows to their OpenFlow
 * rules in the integration bridge (flowrules), so that a verdict holds for
 * as long as its rules live, through policy changes and restarts.
 *
 *   - Every flow the inspector decides gets its rules, and is pinned in
 *     the inspector for as long as they live: however long ago its last
 *     packet crossed the inspector, a policy or profile change judges it
 *     again, and changed verdicts replace their rules in one bundle
 *     (fs_verdicts_commit()).  When flowrules expires the rules (idle), the
 *     flow goes too.
 *   - A new TCP connection on a 5-tuple whose older connection still has
 *     rules: the old rules are removed, and the new connection's packets
 *     wait in the appliance until the switch confirms it (FS_CHAN_GONE).
 *   - The appliance (fs-appliance.h) classifies, this module judges: each
 *     flow the appliance decides arrives as a record, is judged again by
 *     the policy in use here, and only then gets its rules.
 *   - Restarts keep every verdict.  The pinned flows are saved, as flow
 *     records, to a state file (written atomically, at most every
 *     FS_STATE_SAVE_MS while they change, and at exit) and restored at
 *     start, before any packet is judged.  Rules found in the switch that
 *     the file does not know are adopted: restored from their match and
 *     actions alone (fs_inspector_import_verdict(): a drop is never undone,
 *     an allow is judged again on what is known).  New flow ids stay above
 *     every id restored or adopted, so no cookie of a live rule is reused.
 *
 * A run/wait module; errors are OVS-style positive errno values.
 */
#ifndef FS_VERDICT_H
#define FS_VERDICT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowsteer/inspector.h"

struct ds;
struct flowrules;
struct fs_appliance;
struct fs_verdicts;

#define FS_STATE_SAVE_MS 1000

/* Creates the module.  'state_file' is where pinned flows are kept across
 * restarts (NULL: nowhere).  Create the inspector with fs_verdicts_event()
 * and the new module as its event callback, then attach it. */
struct fs_verdicts *fs_verdicts_create(const char *state_file);

/* Attaches inspector 'insp', which judges the flows (it sees no packets:
 * their records come from the appliance), and the appliance 'app', which
 * classifies them and holds new connections' packets.  The caller keeps
 * both. */
void fs_verdicts_attach(struct fs_verdicts *v, struct fs_inspector *insp,
                        struct fs_appliance *app);

/* fs_appliance_event_cb and fs_appliance_resync_cb ('aux' is the struct
 * fs_verdicts): the appliance's decided flows are judged by 'insp' and
 * get their rules; a new appliance gets every flow 'insp' has. */
void fs_verdicts_appliance_event(void *aux, enum fs_event_type,
                                 const struct fs_flow_info *flow,
                                 const void *record, size_t len);
void fs_verdicts_resync(void *aux, struct fs_appliance *app);

/* Saves the state file, then frees 'v' (the rules stay in the switch).
 * Accepts NULL. */
void fs_verdicts_destroy(struct fs_verdicts *v);

/* The inspector's event callback ('aux' is the struct fs_verdicts). */
void fs_verdicts_event(void *aux, enum fs_event_type,
                       const struct fs_flow_info *flow,
                       const struct fs_verdict *old);

/* Keeps the rules in bridge 'bridge' (NULL: none), with idle timeouts
 * 'idle_timeout' (seconds: TCP, UDP, other).  The first time a bridge is
 * set, the state file is read and its flows restored into the inspector,
 * judged by its policy if 'rejudge' (a real policy is loaded) or keeping
 * their verdicts (none could be read: nothing is undone on a stand-in). */
void fs_verdicts_set_bridge(struct fs_verdicts *v, const char *bridge,
                            const uint16_t idle_timeout[3], bool rejudge);

/* Returns true once the rules are reconciled with the switch and the
 * saved flows restored: packets may be judged (flow ids are then safe). */
bool fs_verdicts_ready(const struct fs_verdicts *v);

/* True once flow 'id' has no rules in the switch. */
bool fs_verdicts_rules_gone(void *v, uint64_t id);

/* Sends the rule changes made so far (after judging flows again) in one
 * bundle. */
void fs_verdicts_commit(struct fs_verdicts *v);

/* Removes every flow and its rules.  Returns the number of flows. */
unsigned int fs_verdicts_flush(struct fs_verdicts *v);

/* The rules of the integration bridge, or NULL if none. */
struct flowrules *fs_verdicts_rules(const struct fs_verdicts *v);

/* Migration (fs-migrate.h).  Imports the batch of another host's records
 * 'batch' as fs_inspector_import() does with 'opts': every flow imported
 * gets its rules and goes to the appliance too.  Returns as
 * fs_inspector_import(). */
int fs_verdicts_import(struct fs_verdicts *v, const void *batch, size_t len,
                       const struct fs_import_opts *opts,
                       struct fs_import_result *result);

/* Removes flow 'id' (key 'key'), its rules and its appliance state. */
void fs_verdicts_forget(struct fs_verdicts *v, uint64_t id,
                        const struct fs_flow_key *key);

/* The same for a flow that moved to another host (FS_END_MIGRATED). */
void fs_verdicts_release(struct fs_verdicts *v, uint64_t id,
                         const struct fs_flow_key *key);

/* Called with every flow that ends (FS_EVENT_FLOW_END). */
typedef void fs_verdicts_end_cb(void *aux, const struct fs_flow_info *);
void fs_verdicts_set_end_hook(struct fs_verdicts *v, fs_verdicts_end_cb *,
                              void *aux);

void fs_verdicts_run(struct fs_verdicts *v);
void fs_verdicts_wait(struct fs_verdicts *v);

void fs_verdicts_format(const struct fs_verdicts *v, struct ds *ds);

#endif /* FS_VERDICT_H */
