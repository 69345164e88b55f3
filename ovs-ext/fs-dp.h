/*
 * flowsteerd's data path: reads the inspector's port (dpdk-pmd/ fs-port)
 * in bursts, hands each packet to the inspector with the ingress port
 * carried in its 802.1Q tag (see fs-steer.h), and in inline mode sends
 * back what the inspector passes.  Integrates with the poll loop through
 * the port's file descriptor.
 */
#ifndef FS_DP_H
#define FS_DP_H 1

#include <stdbool.h>
#include <stdint.h>

#include "fs-config.h"

struct fs_dp;
struct fs_inspector;
struct ds;

/* Returns true once the rules of flow 'id' are gone from the switch. */
typedef bool fs_dp_gone_cb(void *aux, uint64_t id);

/* Creates a data path feeding 'insp', which the caller keeps.  'gone'
 * tells when held packets may go (fs_dp_hold_current()). */
struct fs_dp *fs_dp_create(struct fs_inspector *insp, fs_dp_gone_cb *gone,
                           void *aux);
void fs_dp_destroy(struct fs_dp *);

/* Called from the inspector's event callback while it processes a packet
 * that opens a new TCP connection on a 5-tuple whose older connection
 * (flow 'old_id') still has rules in the switch, which the caller is
 * removing: in inline mode, that packet and the rest of its flow wait in
 * fs_dp until 'gone' says the old rules are gone, so that nothing of the
 * new connection rides them.  Held packets are capped (512, then dropped)
 * and wait at most a second. */
void fs_dp_hold_current(struct fs_dp *, uint64_t old_id);

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
