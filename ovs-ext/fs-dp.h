/*
 * flowsteerd's data path: reads the inspector's port (dpdk-pmd/ fs-port)
 * in bursts, hands each packet to the inspector with the ingress port
 * carried in its 802.1Q tag (see fs-steer.h), and in inline mode sends
 * back what the inspector passes.  Integrates with the poll loop through
 * the port's file descriptor.
 */
#ifndef FS_DP_H
#define FS_DP_H 1

#include <stdint.h>

#include "fs-config.h"

struct fs_dp;
struct fs_inspector;
struct ds;

/* Creates a data path feeding 'insp', which the caller keeps. */
struct fs_dp *fs_dp_create(struct fs_inspector *insp);
void fs_dp_destroy(struct fs_dp *);

/* Reads interface 'ifname' (NULL: none) in mode 'mode'.  Reopens the port
 * if the name changes; retries a port that failed to open. */
void fs_dp_set(struct fs_dp *, const char *ifname, enum fs_mode mode);

void fs_dp_run(struct fs_dp *);
void fs_dp_wait(struct fs_dp *);

void fs_dp_format(const struct fs_dp *, struct ds *);

#endif /* FS_DP_H */
