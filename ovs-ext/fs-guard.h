/*
 * The restart guard: with fail=closed, an ovs-vswitchd that restarts
 * (crashed, and started again by its monitor or systemd) must not forward
 * an inspected VM's packets before flowsteerd's steering is back, and its
 * flow table starts empty but for what other controllers put back first.
 *
 * Open vSwitch's own answer for hot upgrades is other_config:
 * flow-restore-wait: an ovs-vswitchd that starts with it true forwards
 * nothing, in any datapath, until it is cleared (it reads the key only
 * then).  So, while inspection is on in inline mode with fail=closed,
 * flowsteerd keeps it true and, after every new OpenFlow connection to the
 * integration bridge (a restarted switch, or flowsteerd's own start), once
 * its steering is installed on it:
 *
 *   1. clears it, incrementing next_cfg in the same transaction;
 *   2. waits until ovs-vswitchd's cur_cfg reaches that value: it has seen
 *      the key cleared and forwards;
 *   3. sets it again, for the next restart.
 *
 * If the steering is not installed within FS_GUARD_MAX_WAIT_MS of the
 * connection, the guard lets go anyway (logged, counted): a host whose
 * switch forwards nothing is worse than a fail mode not honoured for a
 * moment.  When the guard is not wanted (fail=open, tap mode, inspection
 * off) or flowsteerd exits, it removes the key if it set it, so that a
 * deliberately stopped flowsteerd does not hold a restarted switch.
 * 'ovs-ctl restart' sets and clears the key itself; the guard sets it
 * again after.
 */
#ifndef FS_GUARD_H
#define FS_GUARD_H 1

#include <stdbool.h>

struct ovsdb_idl;
struct ds;

#define FS_GUARD_MAX_WAIT_MS 10000

struct fs_guard;

/* Registers the Open_vSwitch columns the guard reads and writes. */
void fs_guard_register(struct ovsdb_idl *);

struct fs_guard *fs_guard_create(void);

/* Removes the key if the guard set it, waiting (bounded) for the
 * transaction, then frees 'g'.  Accepts NULL. */
void fs_guard_destroy(struct fs_guard *g, struct ovsdb_idl *);

/* 'want': the guard applies (inline, fail=closed, inspection on).
 * 'installed' and 'conn_seqno' as fs_steer_installed() returns them. */
void fs_guard_run(struct fs_guard *, struct ovsdb_idl *, bool want,
                  bool installed, unsigned int conn_seqno);
void fs_guard_wait(const struct fs_guard *);

void fs_guard_format(const struct fs_guard *, struct ds *);

#endif /* FS_GUARD_H */
