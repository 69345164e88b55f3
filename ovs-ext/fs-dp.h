/*
 * The appliance's data path: reads the inspector's port (dpdk-pmd/
 * fs-port) in bursts, hands each packet to an inspector with the ingress
 * port carried in its 802.1Q tag (see fs-steer.h), and in inline mode
 * sends back what the inspector passes.  Integrates with the poll loop
 * through the port's file descriptor (or, for a poll-mode port, by polling
 * with adaptive sleep).
 *
 * Workers.  With more than one inspector, one per worker, each flow
 * belongs to one worker, chosen by fs_packet_flow_hash() (its addresses,
 * the same both ways and for every fragment).  Worker 0 is the calling
 * thread; each other worker is a thread of its own.  A burst is received
 * by the calling thread, which gives each worker its packets, judges
 * worker 0's share itself, waits for the others, and then sends, in the
 * order received, what was passed.  So workers run only inside
 * fs_dp_run(): between calls, the caller may use every inspector as it
 * likes (policy, queries, imports), with nothing locked.  A worker thread
 * idle for a while sleeps until the next burst; an idle appliance spins
 * no core.
 */
#ifndef FS_DP_H
#define FS_DP_H 1

#include <stdbool.h>
#include <stdint.h>

#include "fs-config.h"

struct fs_dp;
struct fs_flow_key;
struct fs_inspector;
struct ds;

/* Returns true once the rules of flow 'id' are gone from the switch. */
typedef bool fs_dp_gone_cb(void *aux, uint64_t id);

/* The most workers a data path takes. */
#define FS_DP_MAX_WORKERS FS_WORKERS_MAX

/* Called first in each worker thread (but not for worker 0, the caller's
 * own thread), e.g. to drop what the thread inherited. */
typedef void fs_dp_worker_init_cb(unsigned int worker);

/* Creates a data path feeding the 'n_workers' inspectors in 'insps' (1 to
 * FS_DP_MAX_WORKERS), which the caller keeps: worker i judges with
 * insps[i].  Starts the worker threads, each calling 'init' (if nonnull)
 * first.  'gone' tells when held packets may go (fs_dp_hold_current()). */
struct fs_dp *fs_dp_create(struct fs_inspector **insps,
                           unsigned int n_workers,
                           fs_dp_worker_init_cb *init,
                           fs_dp_gone_cb *gone, void *aux);
void fs_dp_destroy(struct fs_dp *);

/* The worker that owns flows with key 'key', or whose hash
 * (fs_flow_key_hash(), fs_packet_flow_hash(), fs_flow_record_hash()) is
 * 'hash'. */
unsigned int fs_dp_worker_of_key(const struct fs_dp *,
                                 const struct fs_flow_key *key);
unsigned int fs_dp_worker_of_hash(const struct fs_dp *, uint32_t hash);
unsigned int fs_dp_n_workers(const struct fs_dp *);

/* Called from the event callback of worker 'worker''s inspector while it
 * processes a packet that opens a new TCP connection on a 5-tuple whose
 * older connection (flow 'old_id') still has rules in the switch, which
 * the caller is removing: in inline mode, that packet and the rest of its
 * flow wait in fs_dp until 'gone' says the old rules are gone, so that
 * nothing of the new connection rides them.  Held packets are capped
 * (512, then dropped) and wait at most a second. */
void fs_dp_hold_current(struct fs_dp *, unsigned int worker,
                        uint64_t old_id);

/* Migration: until fs_dp_release_port(), the packets that come from port
 * 'port' (the ingress port in their tag) wait, unjudged, in the order they
 * came: those of the flows of a VM moving here, which must not be judged
 * before the source's last records of them are imported.  Then they are
 * judged, in order, and sent on as any packet is.  A hold that waits more
 * than 'max_ms' after its first packet ends as if released (counted: timed
 * out).  Holds take at most 4096 packets and 8 MiB in all; beyond, a new
 * packet of a held port is dropped (policy drop-newest, counted:
 * migration_hold_full).  At most 64 ports are held at once: beyond,
 * returns ENOSPC (and the port is not held).  Holding a port held already
 * sets its 'max_ms' and returns 0. */
int fs_dp_hold_port(struct fs_dp *, uint32_t port, unsigned int max_ms);
void fs_dp_release_port(struct fs_dp *, uint32_t port);

/* Reads interface 'ifname' (NULL: none) in mode 'mode'.  Reopens the port
 * if the name changes; retries a port that failed to open. */
void fs_dp_set(struct fs_dp *, const char *ifname, enum fs_mode mode);

/* The port backend (fs-port.h) to open it with: NULL for the default.
 * Takes effect at the next opening. */
void fs_dp_set_backend(struct fs_dp *, const char *backend);

/* For the dpdk backend: the device to probe, and the EAL's core list,
 * memory and further arguments (fs_port_options' dpdk_* members). */
void fs_dp_set_dpdk(struct fs_dp *, const char *devargs, const char *lcores,
                    unsigned int mem_mb, const char *eal_args);

/* Whether the port is open with its link up.  A poll-mode port (a
 * vhost-user device) is open before its peer connects, and down until
 * then; that is not a failure, but it takes no packets yet.  Once it has
 * been up, its link going down is a failure (fs_dp_failed() without
 * reopening). */
bool fs_dp_link_up(struct fs_dp *);

/* Opens the port set by fs_dp_set() now, if it is not open, and returns 0
 * or the error.  Without it, fs_dp_run() opens it (and retries). */
int fs_dp_open_now(struct fs_dp *);

/* With 'reopen' false, a port that fails (fs_port_check()) stays closed
 * and fs_dp_failed() reports why: for a process that cannot open ports
 * any more once it runs (the appliance, after its sandbox). */
void fs_dp_set_reopen(struct fs_dp *, bool reopen);
int fs_dp_failed(const struct fs_dp *);

/* Copies the data path's figures into 'figures' (FS_CHAN_N_DP of them,
 * in the order of fs-chan.h's FS_CHAN_DP_FIGURES). */
void fs_dp_get_figures(struct fs_dp *, uint64_t *figures);

void fs_dp_run(struct fs_dp *);
void fs_dp_wait(struct fs_dp *);

void fs_dp_format(const struct fs_dp *, struct ds *);

#endif /* FS_DP_H */
