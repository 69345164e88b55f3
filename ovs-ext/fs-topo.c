/* flowsteerd's topology.  See fs-topo.h. */
#include <config.h>
#include "fs-topo.h"

#include <string.h>

#include "dirs.h"
#include "fs-config.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(fs_topo);

void
fs_topo_init(struct fs_topo *topo)
{
    memset(topo, 0, sizeof *topo);
}

void
fs_topo_destroy(struct fs_topo *topo)
{
    if (topo->txn) {
        ovsdb_idl_txn_destroy(topo->txn);
        topo->txn = NULL;
    }
}

/* Returns the interface named 'name' on bridge 'br', or NULL. */
static const struct ovsrec_interface *
find_iface(const struct ovsrec_bridge *br, const char *name)
{
    size_t i, j;

    for (i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];

        for (j = 0; j < port->n_interfaces; j++) {
            if (!strcmp(port->interfaces[j]->name, name)) {
                return port->interfaces[j];
            }
        }
    }
    return NULL;
}

static int64_t
iface_ofport(const struct ovsrec_interface *iface)
{
    return iface && iface->n_ofport ? iface->ofport[0] : 0;
}

char *
fs_topo_vhost_dir(void)
{
    return xasprintf("%s/flowsteer-vhost", ovs_rundir());
}

char *
fs_topo_vhost_path(void)
{
    char *dir = fs_topo_vhost_dir();
    char *path = xasprintf("%s/%s.sock", dir, FS_INSP_PORT);

    free(dir);
    return path;
}

/* The inspector port's type and options for backend 'backend': with dpdk,
 * a vhost-user port whose server is the appliance's virtio_user device
 * (so the appliance, not root, owns the socket, and Open vSwitch
 * reconnects to each new appliance); else an internal port. */
static const char *
insp_type(const char *backend, struct smap *options)
{
    if (!strcmp(backend, "dpdk")) {
        char *path = fs_topo_vhost_path();

        smap_add(options, "vhost-server-path", path);
        free(path);
        return "dpdkvhostuserclient";
    }
    return "internal";
}

/* Says whether 'iface' has the type and options 'type' and 'options'. */
static bool
iface_is(const struct ovsrec_interface *iface, const char *type,
         const struct smap *options)
{
    return (!strcmp(iface->type, type)
            && smap_equal(&iface->options, options));
}

/* Adds to 'br' in 'txn' a port with one interface 'name' of 'type', with
 * 'options' if nonnull. */
static void
add_port(struct ovsdb_idl_txn *txn, const struct ovsrec_bridge *br,
         const char *name, const char *type, const struct smap *options)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    struct ovsrec_port *port = ovsrec_port_insert(txn);

    ovsrec_interface_set_name(iface, name);
    ovsrec_interface_set_type(iface, type);
    if (options) {
        ovsrec_interface_set_options(iface, options);
    }
    ovsrec_port_set_name(port, name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_bridge_update_ports_addvalue(br, port);
}

/* Creates bridge 'name' in 'txn' like OVS's add-br: with its local port. */
static struct ovsrec_bridge *
add_bridge(struct ovsdb_idl_txn *txn, const struct ovsrec_open_vswitch *ovs,
           const char *name, const char *datapath_type)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    struct ovsrec_port *port = ovsrec_port_insert(txn);
    struct ovsrec_bridge *br = ovsrec_bridge_insert(txn);

    ovsrec_interface_set_name(iface, name);
    ovsrec_interface_set_type(iface, "internal");
    ovsrec_port_set_name(port, name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_bridge_set_name(br, name);
    ovsrec_bridge_set_datapath_type(br, datapath_type);
    ovsrec_bridge_set_fail_mode(br, "secure");
    ovsrec_bridge_set_ports(br, &port, 1);
    ovsrec_open_vswitch_update_bridges_addvalue(ovs, br);
    return br;
}

/* Says whether 'br', the security bridge, is one flowsteerd may use: a
 * bridge of its own, with fail_mode=secure and no port but its local
 * port, the patch and the inspector's (anything else there would see, or
 * inject, the steered traffic).  If not, writes why into 'status'. */
static bool
sec_bridge_is_ours(const struct ovsrec_bridge *br, char *status, size_t size)
{
    size_t i;

    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        snprintf(status, size, "security bridge %s has fail_mode %s, not "
                 "secure: not used (delete it, and flowsteerd makes it)",
                 br->name, br->fail_mode ? br->fail_mode : "(none)");
        return false;
    }
    for (i = 0; i < br->n_ports; i++) {
        const char *name = br->ports[i]->name;

        if (strcmp(name, br->name) && strcmp(name, FS_PATCH_SEC)
            && strcmp(name, FS_INSP_PORT)) {
            snprintf(status, size, "security bridge %s has a port of its "
                     "own (%s): not used (it must be flowsteerd's alone)",
                     br->name, name);
            return false;
        }
    }
    return true;
}

void
fs_topo_run(struct fs_topo *topo, struct ovsdb_idl *idl,
            const struct fs_config *cfg, bool live_ready)
{
    const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);
    const struct ovsrec_bridge *br_int, *br_sec;
    const struct ovsrec_interface *patch_int, *patch_sec, *insp, *live;
    struct smap insp_options = SMAP_INITIALIZER(&insp_options);
    struct smap peer_int = SMAP_INITIALIZER(&peer_int);
    struct smap peer_sec = SMAP_INITIALIZER(&peer_sec);
    const char *type;
    bool changed = false;

    if (topo->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(topo->txn);

        if (status == TXN_INCOMPLETE) {
            return;
        }
        if (status != TXN_SUCCESS && status != TXN_UNCHANGED) {
            snprintf(topo->status, sizeof topo->status,
                     "creating the topology failed: %s",
                     ovsdb_idl_txn_status_to_string(status));
            VLOG_WARN("%s", topo->status);
        }
        ovsdb_idl_txn_destroy(topo->txn);
        topo->txn = NULL;
    }

    topo->complete = false;
    topo->patch_int_ofport = topo->patch_sec_ofport = topo->insp_ofport = 0;
    topo->live_ofport = 0;
    topo->live_link_up = topo->live_link_down = false;
    if (!cfg->enabled || !ovs) {
        return;
    }
    br_int = fs_config_find_bridge(idl, cfg->bridge);
    br_sec = fs_config_find_bridge(idl, cfg->sec_bridge);
    if (br_sec && !sec_bridge_is_ours(br_sec, topo->status,
                                      sizeof topo->status)) {
        /* Once for each new reason: this runs on every turn of the loop. */
        if (strcmp(topo->status, topo->warned)) {
            VLOG_WARN("%s", topo->status);
            ovs_strlcpy(topo->warned, topo->status, sizeof topo->warned);
        }
        return;
    }
    topo->warned[0] = '\0';
    patch_int = find_iface(br_int, FS_PATCH_INT);
    patch_sec = find_iface(br_sec, FS_PATCH_SEC);
    insp = find_iface(br_sec, FS_INSP_PORT);
    live = find_iface(br_int, FS_LIVE_PORT);
    topo->live_ofport = iface_ofport(live);
    if (live && live->link_state) {
        topo->live_link_up = !strcmp(live->link_state, "up");
        topo->live_link_down = !strcmp(live->link_state, "down");
    }
    topo->patch_int_ofport = iface_ofport(patch_int);
    topo->patch_sec_ofport = iface_ofport(patch_sec);
    topo->insp_ofport = iface_ofport(insp);
    type = insp_type(fs_datapath_backend(cfg, NULL), &insp_options);
    if (br_int && br_sec && patch_int && patch_sec && insp && live
        && iface_is(insp, type, &insp_options)) {
        smap_destroy(&insp_options);
        topo->complete = (topo->patch_int_ofport > 0
                          && topo->patch_sec_ofport > 0
                          && topo->insp_ofport > 0);
        if (!topo->complete) {
            snprintf(topo->status, sizeof topo->status,
                     "waiting for OpenFlow port numbers");
        } else {
            topo->status[0] = '\0';
        }
        return;
    }
    if (!br_int) {
        smap_destroy(&insp_options);
        return;                 /* fs-config reported it. */
    }

    topo->txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(topo->txn, "flowsteerd: topology");
    if (!br_sec) {
        br_sec = add_bridge(topo->txn, ovs, cfg->sec_bridge,
                            cfg->datapath_type);
        changed = true;
    }
    smap_add(&peer_int, "peer", FS_PATCH_SEC);
    smap_add(&peer_sec, "peer", FS_PATCH_INT);
    if (!patch_int) {
        add_port(topo->txn, br_int, FS_PATCH_INT, "patch", &peer_int);
        changed = true;
    }
    if (!patch_sec) {
        add_port(topo->txn, br_sec, FS_PATCH_SEC, "patch", &peer_sec);
        changed = true;
    }
    if (!insp) {
        add_port(topo->txn, br_sec, FS_INSP_PORT, type, &insp_options);
        changed = true;
    } else if (!iface_is(insp, type, &insp_options)) {
        /* The datapath changed (or someone changed the port): the port
         * follows, and nothing uses it until it has. */
        VLOG_INFO("inspector port %s: type %s, was %s", FS_INSP_PORT, type,
                  insp->type[0] ? insp->type : "system");
        ovsrec_interface_set_type(insp, type);
        ovsrec_interface_set_options(insp, &insp_options);
        snprintf(topo->status, sizeof topo->status,
                 "inspector port %s becoming %s", FS_INSP_PORT, type);
    }
    smap_destroy(&insp_options);
    smap_destroy(&peer_int);
    smap_destroy(&peer_sec);
    if (!live && live_ready) {
        add_port(topo->txn, br_int, FS_LIVE_PORT, "", NULL);
        changed = true;
    } else if (!live) {
        snprintf(topo->status, sizeof topo->status,
                 "waiting for the liveness tap %s", FS_LIVE_PORT);
    }
    if (changed) {
        VLOG_INFO("creating the topology: %s, patch ports %s and %s, "
                  "inspector port %s", cfg->sec_bridge, FS_PATCH_INT,
                  FS_PATCH_SEC, FS_INSP_PORT);
        snprintf(topo->status, sizeof topo->status, "being created");
    }
    ovsdb_idl_txn_commit(topo->txn);
}

void
fs_topo_format(const struct fs_topo *topo, const struct fs_config *cfg,
               struct ds *ds)
{
    ds_put_format(ds, "topology: %s%s%s\n",
                  topo->complete ? "complete" : "incomplete",
                  topo->status[0] ? ": " : "", topo->status);
    if (cfg->enabled) {
        ds_put_format(ds, "  %s on %s: ofport %"PRId64"\n", FS_PATCH_INT,
                      cfg->bridge, topo->patch_int_ofport);
        ds_put_format(ds, "  %s on %s: ofport %"PRId64"\n", FS_PATCH_SEC,
                      cfg->sec_bridge, topo->patch_sec_ofport);
        ds_put_format(ds, "  %s on %s: ofport %"PRId64"\n", FS_INSP_PORT,
                      cfg->sec_bridge, topo->insp_ofport);
        ds_put_format(ds, "  %s on %s: ofport %"PRId64", link %s\n",
                      FS_LIVE_PORT, cfg->bridge, topo->live_ofport,
                      (topo->live_link_up ? "up"
                       : topo->live_link_down ? "down" : "unknown"));
    }
}
