/* flowsteerd's configuration.  See fs-config.h. */
#include <config.h>
#include "fs-config.h"
#include "fs-port.h"

#include <string.h>

#include "fs-openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(fs_config);

#define KEY_BRIDGE "flowsteer-bridge"
#define KEY_SEC_BRIDGE "flowsteer-sec-bridge"
#define KEY_MODE "flowsteer-mode"
#define KEY_FAIL "flowsteer-fail"
#define KEY_POLICY "flowsteer-policy"
#define KEY_POLICY_PERMISSIVE "flowsteer-policy-permissive"
#define KEY_DATAPATH "flowsteer-datapath"
#define KEY_DPDK_LCORES "flowsteer-dpdk-lcores"
#define KEY_DPDK_MEM "flowsteer-dpdk-mem"
#define KEY_DPDK_EXTRA "flowsteer-dpdk-extra"
#define KEY_WORKERS "flowsteer-workers"
#define KEY_INSPECT "flowsteer-inspect"
#define KEY_PROFILE "flowsteer-profile"
#define KEY_EXCEPTIONS "flowsteer-exception-policy"
#define KEY_IDLE_PREFIX "flowsteer-idle-timeout-"
#define KEY_WATCHDOG "flowsteer-watchdog-ms"
#define KEY_MAX_PER_PORT "flowsteer-max-flows-per-port"
#define KEY_PORT_FULL "flowsteer-port-full"
#define KEY_MIGRATION_REMOTE "flowsteer-migration-remote"
#define KEY_REMOTE "flowsteer-remote"
#define KEY_CHASSIS "flowsteer-chassis"
#define KEY_REMOTE_RELAY "flowsteer-remote-relay"
#define KEY_MIGRATE_FROM "flowsteer-migrate-from"
#define KEY_IFACE_ID "iface-id"
#define MAX_PER_PORT_DEFAULT 8192
#define WATCHDOG_DEFAULT_MS 500

static const char *const idle_names[3] = { "tcp", "udp", "other" };
static const uint16_t idle_defaults[3] = { 300, 60, 30 };

void
fs_config_register(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_table(idl, &ovsrec_table_open_vswitch);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_bridges);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_dpdk_initialized);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_ssl);
    ovsdb_idl_add_table(idl, &ovsrec_table_ssl);
    ovsdb_idl_add_column(idl, &ovsrec_ssl_col_private_key);
    ovsdb_idl_add_column(idl, &ovsrec_ssl_col_certificate);
    ovsdb_idl_add_column(idl, &ovsrec_ssl_col_ca_cert);
    ovsdb_idl_add_table(idl, &ovsrec_table_bridge);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_datapath_type);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_fail_mode);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_external_ids);
    ovsdb_idl_add_table(idl, &ovsrec_table_port);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_external_ids);
    ovsdb_idl_add_table(idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_options);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport_request);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_mac_in_use);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_link_state);
}

static void
problem(struct fs_config *cfg, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
problem(struct fs_config *cfg, const char *format, ...)
{
    struct fs_config_problem *p = xmalloc(sizeof *p);
    va_list args;

    va_start(args, format);
    p->msg = xvasprintf(format, args);
    va_end(args);
    ovs_list_push_back(&cfg->problems, &p->node);
}

const char *
fs_mode_name(enum fs_mode mode)
{
    return mode == FS_MODE_TAP ? "tap" : "inline";
}

const char *
fs_datapath_name(enum fs_datapath dp)
{
    return (dp == FS_DP_AFPACKET ? "afpacket"
            : dp == FS_DP_AFXDP ? "afxdp"
            : dp == FS_DP_DPDK ? "dpdk"
            : "auto");
}

const char *
fs_datapath_backend(const struct fs_config *cfg, const char **why)
{
    bool netdev = cfg->datapath_type && !strcmp(cfg->datapath_type,
                                                "netdev");
    const char *dummy;

    why = why ? why : &dummy;
    if (cfg->datapath == FS_DP_AFXDP) {
        *why = "as configured";
        return "afxdp";
    } else if (cfg->datapath == FS_DP_AFPACKET) {
        *why = "as configured";
        return "afpacket";
    } else if (cfg->datapath == FS_DP_DPDK) {
        if (cfg->ovs_dpdk && netdev) {
            *why = "as configured";
            return "dpdk";
        }
        *why = (!cfg->ovs_dpdk
                ? "dpdk configured, but Open vSwitch has not initialized "
                  "DPDK (other_config:dpdk-init=true): using afpacket"
                : "dpdk configured, but the integration bridge is not a "
                  "userspace bridge (datapath_type=netdev): using afpacket");
        return "afpacket";
    }
    if (cfg->ovs_dpdk && netdev && fs_port_backend_known("dpdk")) {
        *why = ("auto: Open vSwitch runs DPDK, so the inspector port is a "
                "vhost-user port and the appliance reads it with DPDK");
        return "dpdk";
    }
    /* The inspector port is an internal port of a userspace bridge, a tap
     * device: AF_XDP on it copies every frame as AF_PACKET does
     * (tests/port-afxdp.sh measures them side by side), and needs more
     * privileges for the appliance (loading and attaching a program). */
    *why = (!fs_port_backend_known("dpdk")
            ? "auto: built without DPDK; the inspector port is a tap, "
              "where AF_XDP copies frames as AF_PACKET does, with more "
              "privileges"
            : !cfg->ovs_dpdk
            ? "auto: Open vSwitch has not initialized DPDK; the inspector "
              "port is a tap, where AF_XDP copies frames as AF_PACKET "
              "does, with more privileges"
            : "auto: the integration bridge is not a userspace bridge");
    return "afpacket";
}

const char *
fs_fail_name(enum fs_fail fail)
{
    return fail == FS_FAIL_CLOSED ? "closed" : "open";
}

const struct ovsrec_bridge *
fs_config_find_bridge(struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

/* Says whether 'name' is a bridge name flowsteerd takes: what a network
 * device may be called (1 to 15 bytes) and a path may hold (its mgmt
 * socket is named after it): letters, digits, '.', '-', '_', and not '.'
 * or '..'. */
static bool
valid_bridge_name(const char *name)
{
    size_t len = strlen(name);

    return (len >= 1 && len <= 15 && strcmp(name, ".") && strcmp(name, "..")
            && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len);
}

/* Reads the attached-mac of 'iface' (the VM's MAC, as libvirt and OVN set
 * it) into 'p'. */
static void
read_mac(const struct ovsrec_interface *iface, struct fs_config *cfg,
         struct fs_config_port *p)
{
    const char *s = smap_get(&iface->external_ids, "attached-mac");
    struct eth_addr ea;

    if (!s) {
        return;
    }
    if (!eth_addr_from_string(s, &ea) || eth_addr_is_multicast(ea)
        || eth_addr_is_zero(ea)) {
        problem(cfg, "interface %s: attached-mac is not a unicast MAC "
                "address: its inbound flows are not steered", iface->name);
        return;
    }
    p->has_mac = true;
    memcpy(p->mac, ea.ea, 6);
}

/* Reads flowsteer-exception-policy into cfg->exceptions, over the mode's
 * defaults (or the actions in use, if the value is bad). */
static void
read_exceptions(const struct smap *ids, const struct fs_config *prev,
                struct fs_config *cfg)
{
    const char *value = smap_get(ids, KEY_EXCEPTIONS);
    char err[128];

    /* Inline, what the inspector cannot judge must not pass; a tap
     * forwards it anyway, so it says so. */
    memset(cfg->exceptions, (cfg->mode == FS_MODE_INLINE
                             ? FS_EXC_ACTION_DROP : FS_EXC_ACTION_ALERT),
           sizeof cfg->exceptions);
    if (!value) {
        return;
    }
    if (strlen(value) > 1024
        || fs_exception_parse(value, cfg->exceptions, err, sizeof err)) {
        if (strlen(value) > 1024) {
            snprintf(err, sizeof err, "longer than 1024 bytes");
        }
        if (prev) {
            memcpy(cfg->exceptions, prev->exceptions,
                   sizeof cfg->exceptions);
        }
        problem(cfg, "%s: %s; keeping the %s", KEY_EXCEPTIONS, err,
                prev ? "actions in use" : "defaults");
        cfg->exception_spec = prev ? nullable_xstrdup(prev->exception_spec)
                                   : NULL;
        return;
    }
    cfg->exception_spec = xstrdup(value);
}

/* Reads the flowsteer-idle-timeout-* keys. */
static void
read_idle_timeouts(const struct smap *ids, const struct fs_config *prev,
                   struct fs_config *cfg)
{
    int i;

    for (i = 0; i < 3; i++) {
        char *key = xasprintf(KEY_IDLE_PREFIX"%s", idle_names[i]);
        const char *value = smap_get(ids, key);
        unsigned int secs;

        cfg->idle_timeout[i] = idle_defaults[i];
        if (value && str_to_uint(value, 10, &secs) && secs >= 1
            && secs <= 65535) {
            cfg->idle_timeout[i] = secs;
        } else if (value) {
            cfg->idle_timeout[i] = prev ? prev->idle_timeout[i]
                                        : idle_defaults[i];
            problem(cfg, "%s: want seconds from 1 to 65535; keeping %u",
                    key, cfg->idle_timeout[i]);
        }
        free(key);
    }
}

/* Reads flowsteer-watchdog-ms. */
static void
read_watchdog(const struct smap *ids, const struct fs_config *prev,
              struct fs_config *cfg)
{
    const char *value = smap_get(ids, KEY_WATCHDOG);
    unsigned int ms;

    cfg->watchdog_ms = WATCHDOG_DEFAULT_MS;
    if (value && str_to_uint(value, 10, &ms)
        && (!ms || (ms >= 100 && ms <= 60000))) {
        cfg->watchdog_ms = ms;
    } else if (value) {
        cfg->watchdog_ms = prev ? prev->watchdog_ms : WATCHDOG_DEFAULT_MS;
        problem(cfg, "%s: want 0 (off) or milliseconds from 100 to 60000; "
                "keeping %u", KEY_WATCHDOG, cfg->watchdog_ms);
    }
}

/* Says whether 's' is a DPDK core list: digits, ',' and '-', at most 64
 * characters. */
static bool
is_core_list(const char *s)
{
    size_t n = strlen(s);

    return n && n <= 64 && strspn(s, "0123456789,-") == n;
}

/* Says whether 's' is printable ASCII, at most 512 characters. */
static bool
is_printable(const char *s)
{
    size_t n;

    for (n = 0; s[n]; n++) {
        if (s[n] < 0x20 || s[n] > 0x7e || n >= 512) {
            return false;
        }
    }
    return true;
}

/* Reads flowsteer-dpdk-lcores, -mem and -extra. */
static void
read_dpdk(const struct smap *ids, const struct fs_config *prev,
          struct fs_config *cfg)
{
    const char *value = smap_get(ids, KEY_DPDK_LCORES);
    unsigned int mb;

    if (value && is_core_list(value)) {
        cfg->dpdk_lcores = xstrdup(value);
    } else if (value) {
        cfg->dpdk_lcores = nullable_xstrdup(prev ? prev->dpdk_lcores : NULL);
        problem(cfg, "%s=%s: want a core list such as 1 or 0-1,3; keeping "
                "%s", KEY_DPDK_LCORES, value,
                cfg->dpdk_lcores ? cfg->dpdk_lcores : "the default");
    }
    value = smap_get(ids, KEY_DPDK_MEM);
    cfg->dpdk_mem_mb = FS_DPDK_MEM_DEFAULT;
    if (value && str_to_uint(value, 10, &mb) && mb >= FS_DPDK_MEM_MIN
        && mb <= FS_DPDK_MEM_MAX) {
        cfg->dpdk_mem_mb = mb;
    } else if (value) {
        cfg->dpdk_mem_mb = prev ? prev->dpdk_mem_mb : FS_DPDK_MEM_DEFAULT;
        problem(cfg, "%s=%s: want MB from %d to %d; keeping %u",
                KEY_DPDK_MEM, value, FS_DPDK_MEM_MIN, FS_DPDK_MEM_MAX,
                cfg->dpdk_mem_mb);
    }
    value = smap_get(ids, KEY_DPDK_EXTRA);
    if (value && is_printable(value)) {
        cfg->dpdk_extra = xstrdup(value);
    } else if (value) {
        cfg->dpdk_extra = nullable_xstrdup(prev ? prev->dpdk_extra : NULL);
        problem(cfg, "%s: want printable arguments, at most 512 "
                "characters; keeping %s", KEY_DPDK_EXTRA,
                cfg->dpdk_extra ? "the last good value" : "none");
    }
}

/* Reads flowsteer-workers. */
static void
read_workers(const struct smap *ids, const struct fs_config *prev,
             struct fs_config *cfg)
{
    const char *value = smap_get(ids, KEY_WORKERS);
    unsigned int n;

    cfg->workers = 1;
    if (value && str_to_uint(value, 10, &n) && n >= 1
        && n <= FS_WORKERS_MAX) {
        cfg->workers = n;
    } else if (value) {
        cfg->workers = prev ? prev->workers : 1;
        problem(cfg, "%s=%s: want 1 to %d workers; keeping %u", KEY_WORKERS,
                value, FS_WORKERS_MAX, cfg->workers);
    }
}

/* Reads flowsteer-max-flows-per-port and flowsteer-port-full. */
static void
read_port_limit(const struct smap *ids, const struct fs_config *prev,
                struct fs_config *cfg)
{
    const char *value = smap_get(ids, KEY_MAX_PER_PORT);
    unsigned int n;

    cfg->max_flows_per_port = MAX_PER_PORT_DEFAULT;
    if (value && str_to_uint(value, 10, &n) && n <= (1u << 24)) {
        cfg->max_flows_per_port = n;
    } else if (value) {
        cfg->max_flows_per_port = (prev ? prev->max_flows_per_port
                                   : MAX_PER_PORT_DEFAULT);
        problem(cfg, "%s: want a number of flows from 0 (no limit) to %u; "
                "keeping %u", KEY_MAX_PER_PORT, 1u << 24,
                cfg->max_flows_per_port);
    }
    value = smap_get(ids, KEY_PORT_FULL);
    cfg->port_full_evict = value && !strcmp(value, "evict");
    if (value && strcmp(value, "evict") && strcmp(value, "drop")) {
        cfg->port_full_evict = prev && prev->port_full_evict;
        problem(cfg, "%s: want drop or evict; keeping %s", KEY_PORT_FULL,
                cfg->port_full_evict ? "evict" : "drop");
    }
}

/* Says whether 's' is an iface-id flowsteer can carry to another host: 1
 * to 255 printable characters, no spaces. */
static bool
valid_iface_id(const char *s)
{
    size_t n;

    for (n = 0; s[n]; n++) {
        if (s[n] <= 0x20 || s[n] > 0x7e || n >= 255) {
            return false;
        }
    }
    return n > 0;
}

/* Says whether 's' names an OVS stream to another host's flowsteerd:
 * "ssl:HOST:PORT" (migrations use TLS only). */
static bool
valid_migration_peer(const char *s)
{
    return ((!strncmp(s, "ssl:", 4) && s[4])
            || (!strncmp(s, "chassis:", 8) && s[8]))
           && is_printable(s) && !strchr(s, ' ') && strlen(s) < 256;
}

/* Reads flowsteer-migration-remote and the SSL table. */
static void
read_migration(const struct ovsrec_open_vswitch *ovs, struct fs_config *cfg)
{
    const char *value = smap_get(&ovs->external_ids, KEY_MIGRATION_REMOTE);

    if (value && (strncmp(value, "pssl:", 5) || !is_printable(value)
                  || strchr(value, ' ') || strlen(value) >= 256)) {
        problem(cfg, "%s: want pssl:PORT[:IP] (migrations use TLS only); "
                "not listening", KEY_MIGRATION_REMOTE);
    } else if (value) {
        cfg->migration_remote = xstrdup(value);
    }
    if (ovs->ssl) {
        cfg->ssl_key = xstrdup(ovs->ssl->private_key);
        cfg->ssl_cert = xstrdup(ovs->ssl->certificate);
        cfg->ssl_ca_cert = xstrdup(ovs->ssl->ca_cert);
    } else if (cfg->migration_remote) {
        problem(cfg, "%s: no SSL configuration (ovs-vsctl set-ssl): not "
                "listening", KEY_MIGRATION_REMOTE);
    }
}

/* Says whether 's' is a list of OVSDB remotes, "ssl:HOST:PORT", "tcp:..."
 * or "unix:PATH", separated by commas. */
static bool
valid_remotes(const char *s)
{
    char *copy, *save, *r;
    bool ok = *s && is_printable(s) && !strchr(s, ' ') && strlen(s) < 4096;

    copy = xstrdup(s);
    for (r = strtok_r(copy, ",", &save); ok && r;
         r = strtok_r(NULL, ",", &save)) {
        ok = ((!strncmp(r, "ssl:", 4) || !strncmp(r, "tcp:", 4)
               || !strncmp(r, "unix:", 5)) && strchr(r, ':')[1]);
    }
    free(copy);
    return ok;
}

/* Reads flowsteer-remote and the chassis name (flowsteer-chassis, else
 * system-id). */
static void
read_fleet(const struct ovsrec_open_vswitch *ovs, struct fs_config *cfg)
{
    const char *value = smap_get(&ovs->external_ids, KEY_REMOTE);
    const char *name = smap_get(&ovs->external_ids, KEY_CHASSIS);

    if (!value) {
        return;
    } else if (!valid_remotes(value)) {
        problem(cfg, "%s: want ssl:HOST:PORT[,ssl:HOST:PORT...] (or tcp:, "
                "unix:); not following a Flowsteer database", KEY_REMOTE);
        return;
    }
    name = name ? name : smap_get(&ovs->external_ids, "system-id");
    if (!name || !*name || !is_printable(name) || strlen(name) > 255) {
        problem(cfg, "%s: no chassis name (%s, or the system-id key): not "
                "following a Flowsteer database", KEY_REMOTE, KEY_CHASSIS);
        return;
    }
    if (!strncmp(value, "ssl:", 4) && !ovs->ssl) {
        problem(cfg, "%s: no SSL configuration (ovs-vsctl set-ssl): its "
                "ssl: remotes cannot be reached", KEY_REMOTE);
    }
    cfg->remote = xstrdup(value);
    cfg->chassis = xstrdup(name);

    value = smap_get(&ovs->external_ids, KEY_REMOTE_RELAY);
    cfg->remote_relay = value && !strcmp(value, "true");
    if (value && strcmp(value, "true") && strcmp(value, "false")) {
        problem(cfg, "%s: want true or false; taking false (the remotes "
                "are the cluster's members)", KEY_REMOTE_RELAY);
    }
}

/* Reads the VM ports of bridge 'br' marked for inspection. */
static void
read_ports(const struct ovsrec_bridge *br, struct fs_config *cfg)
{
    size_t i, j;

    for (i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];

        for (j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            const char *inspect = smap_get(&iface->external_ids,
                                           KEY_INSPECT);
            const char *profile = smap_get(&iface->external_ids,
                                           KEY_PROFILE);
            struct fs_config_port *p;

            if (!inspect || !strcmp(inspect, "false")) {
                if (profile) {
                    problem(cfg, "interface %s: %s=%s without %s=true: "
                            "not inspected", iface->name, KEY_PROFILE,
                            profile, KEY_INSPECT);
                }
                continue;
            } else if (strcmp(inspect, "true")) {
                problem(cfg, "interface %s: %s=%s: want true or false; "
                        "not inspected", iface->name, KEY_INSPECT, inspect);
                continue;
            } else if (strcmp(iface->type, "") && strcmp(iface->type, "system")
                       && strcmp(iface->type, "internal")
                       && strcmp(iface->type, "tap")
                       && strcmp(iface->type, "afxdp")
                       && strcmp(iface->type, "dpdkvhostuser")
                       && strcmp(iface->type, "dpdkvhostuserclient")) {
                problem(cfg, "interface %s: type %s cannot be inspected",
                        iface->name, iface->type);
                continue;
            }
            if (profile && (!*profile || strlen(profile) > 64
                            || strpbrk(profile, " ,=\t\"#"))) {
                problem(cfg, "interface %s: %s=\"%s\": a profile is 1 to "
                        "64 characters, no spaces, commas, '=', '#' or "
                        "quotes; inspected with no profile",
                        iface->name, KEY_PROFILE, profile);
                profile = NULL;
            }
            p = xzalloc(sizeof *p);
            p->name = xstrdup(iface->name);
            p->profile = nullable_xstrdup(profile);
            read_mac(iface, cfg, p);
            {
                const char *id = smap_get(&iface->external_ids, KEY_IFACE_ID);
                const char *from = smap_get(&iface->external_ids,
                                            KEY_MIGRATE_FROM);

                if (id && valid_iface_id(id)) {
                    p->iface_id = xstrdup(id);
                } else if (id) {
                    problem(cfg, "interface %s: %s: want 1 to 255 printable "
                            "characters, no spaces; it cannot migrate",
                            iface->name, KEY_IFACE_ID);
                }
                if (from && p->iface_id && valid_migration_peer(from)) {
                    p->migrate_from = xstrdup(from);
                } else if (from) {
                    problem(cfg, "interface %s: %s=%s: want ssl:HOST:PORT "
                            "or chassis:NAME, and an %s; not pulled",
                            iface->name, KEY_MIGRATE_FROM,
                            is_printable(from) ? from : "(not shown)",
                            KEY_IFACE_ID);
                }
            }
            p->ofport = iface->n_ofport ? iface->ofport[0] : 0;
            if (p->ofport <= 0) {
                problem(cfg, "interface %s: no OpenFlow port yet (does the "
                        "device exist?)", iface->name);
            } else if (p->ofport > FS_OF_TAG_MAX_PORT) {
                problem(cfg, "interface %s: OpenFlow port %"PRId64" is above "
                        "%d, which the steering tag cannot carry: not "
                        "inspected", iface->name, p->ofport,
                        FS_OF_TAG_MAX_PORT);
            }
            ovs_list_push_back(&cfg->ports, &p->node);
        }
    }
}

static const struct ovsrec_bridge *
find_bridge_in_idl(void *idl, const char *name)
{
    return fs_config_find_bridge(idl, name);
}

void
fs_config_read(struct ovsdb_idl *idl, const struct fs_config *prev,
               struct fs_config *cfg)
{
    fs_config_parse(ovsrec_open_vswitch_first(idl), find_bridge_in_idl, idl,
                    prev, cfg);
}

/* Reads the configuration into 'cfg'.  A value that is wrong is reported
 * as a problem and does not change forwarding: the value of 'prev' (the
 * configuration in use, or NULL at start) stays, or the default at start.
 * An unset key means its default. */
void
fs_config_parse(const struct ovsrec_open_vswitch *ovs,
                fs_config_bridge_lookup *find_bridge, void *aux,
                const struct fs_config *prev, struct fs_config *cfg)
{
    const struct ovsrec_bridge *br;
    const char *value, *why;

    memset(cfg, 0, sizeof *cfg);
    ovs_list_init(&cfg->ports);
    ovs_list_init(&cfg->problems);
    cfg->mode = FS_MODE_INLINE;
    cfg->fail = FS_FAIL_OPEN;
    cfg->datapath = FS_DP_AUTO;
    cfg->dpdk_mem_mb = FS_DPDK_MEM_DEFAULT;
    cfg->workers = 1;
    cfg->sec_bridge = xstrdup("br-sec");
    memset(cfg->exceptions, FS_EXC_ACTION_DROP, sizeof cfg->exceptions);
    memcpy(cfg->idle_timeout, idle_defaults, sizeof cfg->idle_timeout);
    cfg->watchdog_ms = WATCHDOG_DEFAULT_MS;
    cfg->max_flows_per_port = MAX_PER_PORT_DEFAULT;
    if (!ovs) {
        problem(cfg, "the database has no Open_vSwitch record yet");
        return;
    }

    value = smap_get(&ovs->external_ids, KEY_MODE);
    if (value && !strcmp(value, "tap")) {
        cfg->mode = FS_MODE_TAP;
    } else if (value && strcmp(value, "inline")) {
        cfg->mode = prev ? prev->mode : FS_MODE_INLINE;
        problem(cfg, "%s=%s: want inline or tap; keeping %s", KEY_MODE,
                value, fs_mode_name(cfg->mode));
    }
    value = smap_get(&ovs->external_ids, KEY_FAIL);
    if (value && !strcmp(value, "closed")) {
        cfg->fail = FS_FAIL_CLOSED;
    } else if (value && strcmp(value, "open")) {
        cfg->fail = prev ? prev->fail : FS_FAIL_OPEN;
        problem(cfg, "%s=%s: want open or closed; keeping %s", KEY_FAIL,
                value, fs_fail_name(cfg->fail));
    }
    value = smap_get(&ovs->external_ids, KEY_DATAPATH);
    if (!value || !strcmp(value, "auto")) {
        cfg->datapath = FS_DP_AUTO;
    } else if (!strcmp(value, "afpacket")) {
        cfg->datapath = FS_DP_AFPACKET;
    } else if (!strcmp(value, "afxdp") && fs_port_backend_known("afxdp")) {
        cfg->datapath = FS_DP_AFXDP;
    } else if (!strcmp(value, "dpdk") && fs_port_backend_known("dpdk")) {
        cfg->datapath = FS_DP_DPDK;
    } else {
        cfg->datapath = prev ? prev->datapath : FS_DP_AUTO;
        bool xdp = fs_port_backend_known("afxdp");
        bool dpdk = fs_port_backend_known("dpdk");

        problem(cfg, "%s=%s: want auto, afpacket%s%s%s; keeping %s",
                KEY_DATAPATH, value,
                xdp && dpdk ? ", afxdp or dpdk" : xdp ? " or afxdp"
                : dpdk ? " or dpdk" : "",
                xdp ? "" : " (afxdp: not built)",
                dpdk ? "" : " (dpdk: not built)",
                fs_datapath_name(cfg->datapath));
    }
    cfg->ovs_dpdk = ovs->dpdk_initialized;
    read_dpdk(&ovs->external_ids, prev, cfg);
    read_workers(&ovs->external_ids, prev, cfg);
    read_exceptions(&ovs->external_ids, prev, cfg);
    read_idle_timeouts(&ovs->external_ids, prev, cfg);
    read_watchdog(&ovs->external_ids, prev, cfg);
    read_port_limit(&ovs->external_ids, prev, cfg);
    read_migration(ovs, cfg);
    read_fleet(ovs, cfg);
    /* flowsteerd loads the policy and reports a file it cannot read. */
    cfg->policy = nullable_xstrdup(smap_get(&ovs->external_ids, KEY_POLICY));
    value = smap_get(&ovs->external_ids, KEY_POLICY_PERMISSIVE);
    cfg->policy_permissive = value && !strcmp(value, "true");
    if (value && strcmp(value, "true") && strcmp(value, "false")) {
        cfg->policy_permissive = prev && prev->policy_permissive;
        problem(cfg, "%s: want true or false; keeping %s",
                KEY_POLICY_PERMISSIVE,
                cfg->policy_permissive ? "true" : "false");
    }
    if (cfg->policy && (!*cfg->policy || cfg->policy[0] != '/')) {
        problem(cfg, "%s: want an absolute path; no policy loaded from it",
                KEY_POLICY);
        free(cfg->policy);
        cfg->policy = prev ? nullable_xstrdup(prev->policy) : NULL;
    }
    value = smap_get(&ovs->external_ids, KEY_SEC_BRIDGE);
    if (value) {
        if (!valid_bridge_name(value)) {
            problem(cfg, "%s: not a bridge name (1 to 15 letters, digits, "
                    "'.', '-' or '_'); using %s", KEY_SEC_BRIDGE,
                    prev ? prev->sec_bridge : "br-sec");
            if (prev) {
                free(cfg->sec_bridge);
                cfg->sec_bridge = xstrdup(prev->sec_bridge);
            }
        } else {
            free(cfg->sec_bridge);
            cfg->sec_bridge = xstrdup(value);
        }
    }

    value = smap_get(&ovs->external_ids, KEY_BRIDGE);
    if (!value) {
        problem(cfg, "%s is not set: inspection is off", KEY_BRIDGE);
        return;
    }
    br = valid_bridge_name(value) ? find_bridge(aux, value) : NULL;
    why = (!valid_bridge_name(value) ? "not a bridge name"
           : !br ? "no such bridge"
           : !strcmp(value, cfg->sec_bridge) ? "it is the security bridge"
           : NULL);
    if (why) {
        /* A typo must not turn inspection off: keep the bridge in use. */
        const char *shown = valid_bridge_name(value) ? value : "(not shown)";

        br = (prev && prev->enabled && strcmp(prev->bridge, cfg->sec_bridge)
              ? find_bridge(aux, prev->bridge) : NULL);
        if (!br) {
            problem(cfg, "%s=%s: %s: inspection is off", KEY_BRIDGE, shown,
                    why);
            return;
        }
        problem(cfg, "%s=%s: %s; still inspecting on %s", KEY_BRIDGE, shown,
                why, br->name);
        value = br->name;
    }
    cfg->bridge = xstrdup(value);
    cfg->datapath_type = xstrdup(br->datapath_type);
    cfg->enabled = true;
    read_ports(br, cfg);
}

void
fs_config_destroy(struct fs_config *cfg)
{
    struct fs_config_problem *pr;
    struct fs_config_port *p;

    LIST_FOR_EACH_POP (p, node, &cfg->ports) {
        free(p->name);
        free(p->profile);
        free(p->iface_id);
        free(p->migrate_from);
        free(p);
    }
    LIST_FOR_EACH_POP (pr, node, &cfg->problems) {
        free(pr->msg);
        free(pr);
    }
    free(cfg->bridge);
    free(cfg->sec_bridge);
    free(cfg->datapath_type);
    free(cfg->dpdk_lcores);
    free(cfg->dpdk_extra);
    free(cfg->policy);
    free(cfg->exception_spec);
    free(cfg->migration_remote);
    free(cfg->remote);
    free(cfg->chassis);
    free(cfg->ssl_key);
    free(cfg->ssl_cert);
    free(cfg->ssl_ca_cert);
}

static bool
nullable_string_equal(const char *a, const char *b)
{
    return a ? b && !strcmp(a, b) : !b;
}

bool
fs_config_equal(const struct fs_config *a, const struct fs_config *b)
{
    const struct ovs_list *x, *y;

    if (a->enabled != b->enabled || a->mode != b->mode
        || a->fail != b->fail || a->datapath != b->datapath
        || a->ovs_dpdk != b->ovs_dpdk
        || !nullable_string_equal(a->dpdk_lcores, b->dpdk_lcores)
        || a->dpdk_mem_mb != b->dpdk_mem_mb
        || a->workers != b->workers
        || !nullable_string_equal(a->dpdk_extra, b->dpdk_extra)
        || !nullable_string_equal(a->bridge, b->bridge)
        || !nullable_string_equal(a->sec_bridge, b->sec_bridge)
        || !nullable_string_equal(a->datapath_type, b->datapath_type)
        || !nullable_string_equal(a->policy, b->policy)
        || a->policy_permissive != b->policy_permissive
        || memcmp(a->exceptions, b->exceptions, sizeof a->exceptions)
        || !nullable_string_equal(a->exception_spec, b->exception_spec)
        || memcmp(a->idle_timeout, b->idle_timeout, sizeof a->idle_timeout)
        || a->watchdog_ms != b->watchdog_ms
        || a->max_flows_per_port != b->max_flows_per_port
        || a->port_full_evict != b->port_full_evict
        || !nullable_string_equal(a->migration_remote, b->migration_remote)
        || !nullable_string_equal(a->remote, b->remote)
        || !nullable_string_equal(a->chassis, b->chassis)
        || a->remote_relay != b->remote_relay
        || !nullable_string_equal(a->ssl_key, b->ssl_key)
        || !nullable_string_equal(a->ssl_cert, b->ssl_cert)
        || !nullable_string_equal(a->ssl_ca_cert, b->ssl_ca_cert)
        || ovs_list_size(&a->ports) != ovs_list_size(&b->ports)
        || ovs_list_size(&a->problems) != ovs_list_size(&b->problems)) {
        return false;
    }
    for (x = a->ports.next, y = b->ports.next; x != &a->ports;
         x = x->next, y = y->next) {
        const struct fs_config_port *p = CONTAINER_OF(x, struct
                                                      fs_config_port, node);
        const struct fs_config_port *q = CONTAINER_OF(y, struct
                                                      fs_config_port, node);

        if (strcmp(p->name, q->name) || p->ofport != q->ofport
            || p->has_mac != q->has_mac || memcmp(p->mac, q->mac, 6)
            || !nullable_string_equal(p->profile, q->profile)
            || !nullable_string_equal(p->iface_id, q->iface_id)
            || !nullable_string_equal(p->migrate_from, q->migrate_from)) {
            return false;
        }
    }
    for (x = a->problems.next, y = b->problems.next; x != &a->problems;
         x = x->next, y = y->next) {
        if (strcmp(CONTAINER_OF(x, struct fs_config_problem, node)->msg,
                   CONTAINER_OF(y, struct fs_config_problem, node)->msg)) {
            return false;
        }
    }
    return true;
}

void
fs_config_format(const struct fs_config *cfg, struct ds *ds)
{
    const struct fs_config_problem *pr;
    const struct fs_config_port *p;

    ds_put_format(ds, "inspection: %s\n", cfg->enabled ? "on" : "off");
    ds_put_format(ds, "integration bridge: %s (datapath %s)\n",
                  cfg->bridge ? cfg->bridge : "(none)",
                  cfg->datapath_type && *cfg->datapath_type
                  ? cfg->datapath_type : "system");
    ds_put_format(ds, "security bridge: %s\n", cfg->sec_bridge);
    {
        const char *why, *backend = fs_datapath_backend(cfg, &why);

        ds_put_format(ds, "mode: %s\nfail: %s\ndatapath: %s (%s: %s)\n",
                      fs_mode_name(cfg->mode), fs_fail_name(cfg->fail),
                      fs_datapath_name(cfg->datapath), backend, why);
        ds_put_format(ds, "workers: %u\n", cfg->workers);
        if (!strcmp(backend, "dpdk")) {
            ds_put_format(ds, "dpdk: lcores %s, %u MB, extra EAL arguments "
                          "%s\n", cfg->dpdk_lcores ? cfg->dpdk_lcores
                          : "(default)", cfg->dpdk_mem_mb,
                          cfg->dpdk_extra ? cfg->dpdk_extra : "(none)");
        }
    }
    ds_put_format(ds, "policy: %s\n", cfg->policy ? cfg->policy
                                                  : "(none: allow)");
    ds_put_format(ds, "flows per port: %u at most (%s), watchdog %u ms\n",
                  cfg->max_flows_per_port, cfg->port_full_evict ? "evict"
                  : "drop", cfg->watchdog_ms);
    ds_put_format(ds, "idle timeouts: tcp %u s, udp %u s, other %u s\n",
                  cfg->idle_timeout[0], cfg->idle_timeout[1],
                  cfg->idle_timeout[2]);
    ds_put_format(ds, "exception policy key: %s\n",
                  cfg->exception_spec ? cfg->exception_spec
                  : cfg->mode == FS_MODE_INLINE ? "(none: drop)"
                  : "(none: alert)");
    ds_put_format(ds, "migration listener: %s\n",
                  cfg->migration_remote ? cfg->migration_remote : "(none)");
    if (cfg->remote) {
        ds_put_format(ds, "flowsteer database: %s%s, as chassis %s\n",
                      cfg->remote, cfg->remote_relay ? " (relays)" : "",
                      cfg->chassis);
    }
    ds_put_format(ds, "inspected ports: %"PRIuSIZE"\n",
                  ovs_list_size(&cfg->ports));
    LIST_FOR_EACH (p, node, &cfg->ports) {
        ds_put_format(ds, "  %s: ofport %"PRId64", profile %s", p->name,
                      p->ofport, p->profile ? p->profile : "(none)");
        if (p->has_mac) {
            ds_put_format(ds, ", mac "ETH_ADDR_FMT,
                          ETH_ADDR_BYTES_ARGS(p->mac));
        }
        if (p->iface_id) {
            ds_put_format(ds, ", iface-id %s", p->iface_id);
        }
        if (p->migrate_from) {
            ds_put_format(ds, ", migrating from %s", p->migrate_from);
        }
        ds_put_char(ds, '\n');
    }
    ds_put_format(ds, "problems: %"PRIuSIZE"\n",
                  ovs_list_size(&cfg->problems));
    LIST_FOR_EACH (pr, node, &cfg->problems) {
        ds_put_format(ds, "  %s\n", pr->msg);
    }
}
