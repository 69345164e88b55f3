/*
 * The liveness tap: a tap device (FS_LIVE_PORT, fs-topo.h) that flowsteerd
 * holds open, and up, while inspection is on.  It is a port of the
 * integration bridge that the steering's fast-failover groups watch
 * (fs-steer.h): when flowsteerd dies the kernel removes the tap and Open
 * vSwitch takes the fallback bucket by itself; the watchdog (fs-watchdog.h)
 * takes its link down when the main loop stalls.
 *
 * If Open vSwitch goes on seeing its link down for FS_LIVE_DOWN_MSEC all
 * the same (someone took it down, or Open vSwitch opened it in the instant
 * between its creation and its coming up and missed the change, as seen
 * under load), every steered packet takes the fallback bucket: the tap is
 * made again, logged and counted.
 */
#ifndef FS_LIVE_H
#define FS_LIVE_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;

#define FS_LIVE_DOWN_MSEC 3000

struct fs_live *fs_live_create(void);

/* Closes the tap (the kernel removes it). */
void fs_live_destroy(struct fs_live *);

/* Holds the tap while 'enabled'.  'ofport' is its OpenFlow port (<= 0 if
 * it has none yet) and 'link_down' whether Open vSwitch sees its link
 * down. */
void fs_live_run(struct fs_live *, bool enabled, int64_t ofport,
                 bool link_down);
void fs_live_wait(const struct fs_live *);

/* Holds the tap's link down while 'up' is false (the inspector cannot
 * judge packets: the steering's fail mode applies), up otherwise.  While
 * held down, it is not made again for being down. */
void fs_live_set_up(struct fs_live *, bool up);

/* Says whether the tap is open. */
bool fs_live_is_open(const struct fs_live *);

/* Appends a line to 'ds' if the tap was made again. */
void fs_live_format(const struct fs_live *, struct ds *);

#endif /* FS_LIVE_H */
