/*
 * The topology flowsteerd maintains with OVSDB transactions:
 *
 *   integration bridge --- fs-patch-int <==patch==> fs-patch-sec --- BR-SEC
 *                                                                      |
 *                                                       fs-insp0 (the
 *                                                       inspector appliance
 *                                                       reads and writes it)
 *
 * fs-insp0 is an internal port (a tap the appliance reads with AF_PACKET
 * or AF_XDP), or, with the dpdk backend, a dpdkvhostuserclient port whose
 * socket, fs_topo_vhost_path(), the appliance's virtio_user device serves.
 * When the backend changes, the port's type and options follow.
 *
 * and fs-live on the integration bridge: a tap device that flowsteerd
 * holds open, so that OVS sees it go when flowsteerd dies (fs-steer.h).
 *
 * The security bridge is created with the integration bridge's datapath
 * type and fail_mode=secure.  Only what is missing is added; nothing that
 * exists is changed (but the inspector port's type) or removed, and
 * nothing is done while inspection is off.
 */
#ifndef FS_TOPO_H
#define FS_TOPO_H 1

#include <stdbool.h>
#include <stdint.h>

struct ovsdb_idl;
struct fs_config;
struct ds;

#define FS_PATCH_INT "fs-patch-int"     /* On the integration bridge. */
#define FS_PATCH_SEC "fs-patch-sec"     /* On the security bridge. */
#define FS_INSP_PORT "fs-insp0"         /* The inspector's port. */
#define FS_LIVE_PORT "fs-live"          /* flowsteerd's liveness tap, on the
                                         * integration bridge. */

struct fs_topo {
    bool complete;              /* Everything exists. */
    int64_t patch_int_ofport;   /* <= 0 until assigned. */
    int64_t patch_sec_ofport;
    int64_t insp_ofport;
    int64_t live_ofport;        /* <= 0 while flowsteerd's tap is gone. */
    bool live_link_up;          /* Open vSwitch sees the tap's link up, */
    bool live_link_down;        /* or down (neither: not known yet). */
    char status[256];           /* What is missing or failed, "" if none. */
    char warned[256];           /* The refusal last logged, "" if none. */
    struct ovsdb_idl_txn *txn;  /* In progress, or NULL. */
};

void fs_topo_init(struct fs_topo *);
void fs_topo_destroy(struct fs_topo *);

/* Adds what is missing of the topology for 'cfg' (if inspection is on)
 * in one transaction, and updates 'topo' from the database.  The liveness
 * port is added only once 'live_ready': its tap must exist and be up
 * before Open vSwitch opens it. */
void fs_topo_run(struct fs_topo *, struct ovsdb_idl *,
                 const struct fs_config *, bool live_ready);

/* The directory of the inspector port's vhost-user socket, in Open
 * vSwitch's run directory (the appliance's user owns it), and the socket.
 * The caller frees them. */
char *fs_topo_vhost_dir(void);
char *fs_topo_vhost_path(void);

void fs_topo_format(const struct fs_topo *, const struct fs_config *,
                    struct ds *);

#endif /* FS_TOPO_H */
