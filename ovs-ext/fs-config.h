/*
 * flowsteerd's configuration, read from the Open_vSwitch database.
 *
 * Keys (all in external_ids, which OVS itself ignores):
 *
 *   Open_vSwitch:
 *     flowsteer-bridge=BRIDGE      integration bridge; inspection is off
 *                                  without it
 *     flowsteer-mode=inline|tap    default inline
 *     flowsteer-fail=open|closed   default open
 *     flowsteer-policy=FILE        policy file; default: allow everything
 *     flowsteer-policy-permissive=true|false
 *                                  accept a policy file of another owner,
 *                                  or writable by others (default false)
 *     flowsteer-datapath=auto|dpdk|afxdp|afpacket
 *                                  how the inspector appliance reads its
 *                                  port (fs_datapath_backend()); default
 *                                  auto
 *     flowsteer-dpdk-lcores=LIST   dpdk: the appliance's EAL cores ("-l";
 *                                  default: the last CPU it may run on)
 *     flowsteer-dpdk-mem=MB        dpdk: its EAL memory (16 to 65536 MB;
 *                                  default 128)
 *     flowsteer-dpdk-extra=ARGS    dpdk: further EAL arguments
 *     flowsteer-workers=N          the appliance's inspector threads, flows
 *                                  spread over them by address (1 to 16;
 *                                  default 1)
 *     flowsteer-sec-bridge=BRIDGE  the security bridge, default br-sec
 *     flowsteer-exception-policy=SPEC
 *                                  what to do with packets the inspector
 *                                  cannot judge: ACTION[,CLASS=ACTION...]
 *                                  (fs_exception_parse()); default drop
 *                                  inline, alert in tap mode
 *     flowsteer-max-flows-per-port=N
 *                                  flows (and so verdict rules) one VM
 *                                  port may have (default 8192; 0: no
 *                                  limit but the table's)
 *     flowsteer-port-full=drop|evict
 *                                  a port's new flows at its limit are
 *                                  dropped, or evict its least recently
 *                                  seen flow that has no rules (drop)
 *     flowsteer-watchdog-ms=MS     a main loop that does not turn for this
 *                                  long takes the liveness tap down
 *                                  (100 to 60000, 0: off; default 500)
 *     flowsteer-idle-timeout-tcp=SECONDS, -udp=, -other=
 *                                  idle timeouts of flows and their rules
 *                                  (default 300, 60, 30)
 *     flowsteer-remote=ssl:HOST:PORT[,...]
 *                                  the Flowsteer database (clustered
 *                                  OVSDB) to take the policy from and
 *                                  report to, instead of flowsteer-policy
 *                                  (fs-fleet.h); TLS with the SSL table's
 *                                  keys
 *     flowsteer-chassis=NAME       this host's name there (default: the
 *                                  system-id key); its certificate's CN
 *     flowsteer-remote-relay=true|false
 *                                  flowsteer-remote names ovsdb-server
 *                                  relays, not the cluster's members: the
 *                                  host's own rows are written through
 *                                  them (default false: at the leader)
 *
 *   Interface:
 *     flowsteer-inspect=true|false inspect this VM port (default false)
 *     flowsteer-profile=NAME       its policy profile (default: none)
 *
 * Every value is validated; each problem is logged once and listed by
 * 'ovs-appctl flowsteer/show'.  A bad value never stops the daemon: the
 * key falls back to its default, or the port is not inspected.
 */
#ifndef FS_CONFIG_H
#define FS_CONFIG_H 1

#include <stdbool.h>
#include <stdint.h>

#include "flowsteer/inspector.h"
#include "openvswitch/list.h"

/* Bounds and defaults that flowsteerd and the appliance both check. */
#define FS_DPDK_MEM_MIN 16          /* flowsteer-dpdk-mem, MB. */
#define FS_DPDK_MEM_MAX 65536
#define FS_DPDK_MEM_DEFAULT 128
#define FS_WORKERS_MAX 16           /* flowsteer-workers. */

struct ovsdb_idl;
struct ds;

enum fs_mode {
    FS_MODE_INLINE,             /* IPS: undecided packets go through. */
    FS_MODE_TAP,                /* IDS: a copy goes to the inspector. */
};

enum fs_fail {
    FS_FAIL_OPEN,               /* Inspector down: undecided flows pass. */
    FS_FAIL_CLOSED,             /* Inspector down: undecided flows drop. */
};

/* How the inspector appliance reads its port (flowsteer-datapath). */
enum fs_datapath {
    FS_DP_AUTO,                 /* The best that works here. */
    FS_DP_AFPACKET,             /* AF_PACKET, TPACKET_V2 rings. */
    FS_DP_AFXDP,                /* AF_XDP (libxdp), on the internal port. */
    FS_DP_DPDK,                 /* DPDK virtio_user, on a vhost-user port
                                 * of OVS-DPDK. */
};

/* One VM port to inspect. */
struct fs_config_port {
    struct ovs_list node;
    char *name;                 /* Interface name. */
    char *profile;              /* Or NULL. */
    int64_t ofport;             /* In the integration bridge; <= 0 if not
                                 * assigned yet. */
    bool has_mac;               /* external_ids:attached-mac is valid. */
    uint8_t mac[6];
    char *iface_id;             /* external_ids:iface-id, the VM's identity
                                 * on every host (as OVN and libvirt set
                                 * it), or NULL. */
    char *migrate_from;         /* flowsteer-migrate-from: the stream of
                                 * the host the VM comes from (pull), or
                                 * NULL. */
};

struct fs_config {
    bool enabled;               /* A valid integration bridge is set. */
    char *bridge;               /* Integration bridge, or NULL. */
    char *sec_bridge;
    char *datapath_type;        /* Of the integration bridge ("netdev"). */
    enum fs_mode mode;
    enum fs_fail fail;
    enum fs_datapath datapath;
    bool ovs_dpdk;              /* Open_vSwitch dpdk_initialized. */
    char *dpdk_lcores;          /* flowsteer-dpdk-lcores, or NULL. */
    unsigned int dpdk_mem_mb;   /* flowsteer-dpdk-mem. */
    char *dpdk_extra;           /* flowsteer-dpdk-extra, or NULL. */
    unsigned int workers;       /* flowsteer-workers. */
    char *policy;               /* Policy file, or NULL. */
    bool policy_permissive;     /* Its owner and mode are not checked. */
    uint8_t exceptions[FS_N_EXCEPTIONS];    /* enum fs_exception_action. */
    char *exception_spec;       /* flowsteer-exception-policy, or NULL. */
    uint16_t idle_timeout[3];   /* Seconds: TCP, UDP, other. */
    unsigned int watchdog_ms;   /* 0: off. */
    unsigned int max_flows_per_port;    /* 0: no limit. */
    bool port_full_evict;       /* flowsteer-port-full=evict. */
    char *migration_remote;     /* flowsteer-migration-remote: where this
                                 * host listens for migrations ("pssl:6650"),
                                 * or NULL. */
    char *remote;               /* flowsteer-remote: the Flowsteer database
                                 * to follow (fs-fleet.h), or NULL. */
    char *chassis;              /* This host's name there: flowsteer-chassis,
                                 * else system-id (NULL without 'remote'). */
    bool remote_relay;          /* flowsteer-remote-relay: 'remote' names
                                 * relays. */
    char *ssl_key;              /* The SSL table's private key, certificate
                                 * and CA certificate (ovs-vsctl set-ssl), */
    char *ssl_cert;             /* or NULL. */
    char *ssl_ca_cert;
    struct ovs_list ports;      /* struct fs_config_port. */
    struct ovs_list problems;   /* struct fs_config_problem, in order. */
};

struct fs_config_problem {
    struct ovs_list node;
    char *msg;
};

struct ovsrec_bridge;

/* Returns the bridge named 'name' in 'idl', or NULL. */
const struct ovsrec_bridge *fs_config_find_bridge(struct ovsdb_idl *idl,
                                                  const char *name);

/* Registers with 'idl' the tables and columns the configuration needs. */
void fs_config_register(struct ovsdb_idl *idl);

/* Reads the configuration from 'idl' into 'cfg' (initialized by this
 * function; free with fs_config_destroy()). */
void fs_config_read(struct ovsdb_idl *idl, const struct fs_config *prev,
                    struct fs_config *cfg);

/* The same from rows: 'ovs' (NULL if the database has none yet), and
 * 'find_bridge(aux, name)', which returns the bridge named 'name' or NULL.
 * The rows are only read (the fuzz target builds its own). */
struct ovsrec_open_vswitch;
typedef const struct ovsrec_bridge *fs_config_bridge_lookup(void *aux,
                                                            const char *);
void fs_config_parse(const struct ovsrec_open_vswitch *ovs,
                     fs_config_bridge_lookup *find_bridge, void *aux,
                     const struct fs_config *prev, struct fs_config *cfg);

void fs_config_destroy(struct fs_config *cfg);

/* Returns true if 'a' and 'b' configure the same thing. */
bool fs_config_equal(const struct fs_config *a, const struct fs_config *b);

/* Appends a description of 'cfg' and its problems to 'ds'. */
void fs_config_format(const struct fs_config *cfg, struct ds *ds);

const char *fs_mode_name(enum fs_mode);

/* "auto", "afpacket", "afxdp", "dpdk". */
const char *fs_datapath_name(enum fs_datapath);

/* The port backend (fs-port.h) that 'cfg->datapath' uses here, and why,
 * as a sentence, in '*why' if nonnull.  "dpdk" needs an Open vSwitch that
 * has initialized DPDK and a userspace integration bridge; "auto" picks
 * it then (if built), else "afpacket". */
const char *fs_datapath_backend(const struct fs_config *, const char **why);
const char *fs_fail_name(enum fs_fail);

#endif /* FS_CONFIG_H */
