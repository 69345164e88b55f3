/*
 * The watchdog: a flowsteerd that hangs must not keep its liveness tap up.
 *
 * Open vSwitch's fast-failover groups fall back to the fail mode when the
 * liveness tap (fs-live) goes down, which happens by itself when
 * flowsteerd dies (the kernel removes the tap with its last file
 * descriptor).  A flowsteerd that is alive but stuck (stopped with
 * SIGSTOP, blocked on a file, spinning in a long job) would keep the tap
 * up, and steered packets would go to an inspector that does not read
 * them.  So a small child process, forked at start before any thread or
 * socket, watches a heartbeat that the main loop writes to shared memory
 * on every turn: if it has not moved for the timeout (the
 * flowsteer-watchdog-ms key, default 500 ms), the child takes the tap down
 * and the fail mode applies.  When the loop turns again, it brings the tap
 * back up and logs how long it stalled.  The child dies with flowsteerd
 * (PR_SET_PDEATHSIG).
 *
 * Under systemd (NOTIFY_SOCKET and WATCHDOG_USEC set, WatchdogSec= in the
 * unit), the main loop also sends WATCHDOG=1 at half the interval, so that
 * systemd restarts a flowsteerd that stays stuck.
 */
#ifndef FS_WATCHDOG_H
#define FS_WATCHDOG_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct fs_watchdog;

/* Forks the watchdog child.  Call early: before threads, sockets and the
 * liveness tap exist.  Never fails: without a child (fork failed), the
 * watchdog is off and says so in fs_watchdog_format(). */
struct fs_watchdog *fs_watchdog_create(void);

/* Stops the child and frees 'w'.  Accepts NULL. */
void fs_watchdog_destroy(struct fs_watchdog *w);

/* Watches interface 'ifname' (NULL: nothing) with a timeout of
 * 'timeout_ms' (0: off). */
void fs_watchdog_set(struct fs_watchdog *w, const char *ifname,
                     unsigned int timeout_ms);

/* The main loop's heartbeat: call once per turn.  Brings the tap back up
 * if the child took it down. */
void fs_watchdog_run(struct fs_watchdog *w);
void fs_watchdog_wait(struct fs_watchdog *w);

void fs_watchdog_format(const struct fs_watchdog *w, struct ds *ds);

#endif /* FS_WATCHDOG_H */
