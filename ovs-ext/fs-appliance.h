/*
 * The inspector appliance, as flowsteerd sees it: starts
 * flowsteer-inspectord, keeps it in step with the configuration, the
 * policy and the flows with rules, turns its events into calls to the
 * caller, and starts it again when it dies or hangs.
 *
 * The appliance classifies and flowsteerd judges (see
 * flowsteer-inspectord.c): an event's record goes to the caller, who
 * judges it again by its own copy of the policy before any rule goes to
 * the switch.  What the appliance sends is checked (fs-chan.h decodes it;
 * here, a flow must belong to an inspected port); what fails is counted
 * and the appliance restarted.
 *
 * Liveness.  fs_appliance_ready() is true once a started appliance has
 * taken everything it was sent (its answer to the ECHO_REQUEST that ends
 * the resync came back) and says its port is open, and as long as it
 * answers the ECHO_REQUEST sent every FS_APPLIANCE_ECHO_MS within the
 * hang timeout.  The caller keeps
 * the liveness tap down while it is false, so that the steering's fail
 * mode applies: between the appliance's death (or the start of its hang)
 * and its restart, new flows follow fail=closed or fail=open, and decided
 * flows keep their rules.  A hung appliance is killed (SIGKILL) and
 * started again; one that exits is started again after a delay that grows
 * from FS_APPLIANCE_RESTART_MS to FS_APPLIANCE_RESTART_MAX_MS while it
 * keeps failing.
 */
#ifndef FS_APPLIANCE_H
#define FS_APPLIANCE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowsteer/inspector.h"
#include "fs-config.h"

struct ds;
struct fs_appliance;

#define FS_APPLIANCE_ECHO_MS 100
#define FS_APPLIANCE_RESTART_MS 100
#define FS_APPLIANCE_RESTART_MAX_MS 5000

/* An event of the appliance: 'flow' and, for FS_EVENT_VERDICT and
 * FS_EVENT_VERDICT_CHANGED, the flow's record ('len' bytes, or 0). */
typedef void fs_appliance_event_cb(void *aux, enum fs_event_type,
                                   const struct fs_flow_info *flow,
                                   const void *record, size_t len);

/* Called when a new appliance needs the flows with rules: the callback
 * sends them with fs_appliance_import() and fs_appliance_pin(), and may
 * raise the least flow id with fs_appliance_reserve_ids(). */
typedef void fs_appliance_resync_cb(void *aux, struct fs_appliance *);

/* Creates the module; 'program' is flowsteer-inspectord's path, started
 * with '--max-flows=max_flows'. */
struct fs_appliance *fs_appliance_create(const char *program,
                                         unsigned int max_flows,
                                         fs_appliance_event_cb *,
                                         fs_appliance_resync_cb *,
                                         void *aux);

/* Stops the appliance (SIGTERM, then SIGKILL) and frees. */
void fs_appliance_destroy(struct fs_appliance *);

/* Runs an appliance on interface 'ifname' (NULL: none) with port backend
 * 'backend' (fs-port.h) and more command-line arguments 'port_args' for
 * the port (NULL: none; the dpdk backend's device and EAL), in mode
 * 'mode', killed if it does not answer for 'hang_ms' (0: the default,
 * 1000).  Another interface, backend or port arguments start a new
 * appliance. */
struct svec;
void fs_appliance_set(struct fs_appliance *, const char *ifname,
                      const char *backend, const struct svec *port_args,
                      enum fs_mode mode, unsigned int hang_ms);

/* The configuration it applies: exceptions, limits, timeouts, ports. */
void fs_appliance_set_config(struct fs_appliance *, const struct fs_config *);

/* The policy (FS_CHAN_POLICY_SET, 'text' NULL for none) or the policy for
 * new flows only (FS_CHAN_POLICY_NEW_FLOWS), as given to the caller's own
 * inspector. */
void fs_appliance_set_policy(struct fs_appliance *, int kind,
                             const char *name, const char *text);

/* New flows get ids of 'id' or more. */
void fs_appliance_reserve_ids(struct fs_appliance *, uint64_t id);

/* Flow commands: sent if an appliance runs (a new one gets the state
 * through the resync callback). */
void fs_appliance_pin(struct fs_appliance *, uint64_t id,
                      const struct fs_flow_key *, bool pinned);
void fs_appliance_remove(struct fs_appliance *, uint64_t id,
                         const struct fs_flow_key *);
/* Lets go of flow 'id' without judging it (it moved elsewhere, or what
 * moved it here failed). */
void fs_appliance_release(struct fs_appliance *, uint64_t id,
                          const struct fs_flow_key *);
/* Gives the appliance a decided flow's record, imported keeping its id and
 * verdict.  Records go together, many to a message, once
 * fs_appliance_import_flush() is called or any other message is sent. */
void fs_appliance_import(struct fs_appliance *, const void *record,
                         size_t len);
void fs_appliance_import_flush(struct fs_appliance *);
void fs_appliance_gone(struct fs_appliance *, uint64_t id);

/* Migration: the appliance holds the packets of port 'port', unjudged,
 * until fs_appliance_release_port() (or for 'ms' after the first of them;
 * see fs_dp_hold_port()), and then judges them in order.  A restarted
 * appliance is told again.  At most 64 ports at once. */
void fs_appliance_hold_port(struct fs_appliance *, uint32_t port,
                            uint32_t ms);
void fs_appliance_release_port(struct fs_appliance *, uint32_t port);
void fs_appliance_flush(struct fs_appliance *);

bool fs_appliance_ready(const struct fs_appliance *);

/* Asks the appliance for the 'limit' flows with the least ids above
 * 'after' (flows still classifying included: they exist only there).
 * Calls 'cb' once, with the FLOWS messages, each behind its length (4
 * bytes, network order), in 'msgs', or with NULL if there is no ready
 * appliance or it ends first.  'cb' may be called before this returns. */
typedef void fs_appliance_flows_cb(void *aux, const struct ds *msgs);

/* Such a list of messages: appends one, or steps to the next from '*off'
 * (0 first), returning false after the last. */
void fs_appliance_msgs_append(struct ds *msgs, const void *msg, size_t len);
bool fs_appliance_msgs_next(const struct ds *msgs, size_t *off,
                            const uint8_t **msg, size_t *len);
void fs_appliance_query_flows(struct fs_appliance *, uint64_t after,
                              uint32_t limit, fs_appliance_flows_cb *,
                              void *aux);

/* Migration.  Asks the appliance for the records of port 'port''s flows
 * changed since mark 'since', as fs_inspector_export() with 'flags':
 * calls 'cb' once with the RECORDS messages (see fs-chan.h; each carries
 * the mark for the next delta), or with NULL as above. */
void fs_appliance_export(struct fs_appliance *, uint32_t port,
                         uint64_t since, uint32_t flags,
                         fs_appliance_flows_cb *cb, void *aux);

/* Gives the appliance records of another host's flows still in
 * classification ('len' bytes, back to back, at most what one channel
 * message holds), imported as fs_inspector_import() does with 'flags'
 * and 'port_map'. */
void fs_appliance_import_batch(struct fs_appliance *, uint32_t flags,
                               const uint32_t (*port_map)[2],
                               size_t n_port_map, const void *records,
                               size_t len);

/* Forgets the queries made with 'aux': their callbacks will not be
 * called. */
void fs_appliance_forget_queries(struct fs_appliance *, void *aux);

/* The appliance's last counters (FS_CTR_*), 0 before any. */
uint64_t fs_appliance_counter(const struct fs_appliance *, int counter);

void fs_appliance_run(struct fs_appliance *);
void fs_appliance_wait(struct fs_appliance *);
void fs_appliance_format(const struct fs_appliance *, struct ds *);

#endif /* FS_APPLIANCE_H */
