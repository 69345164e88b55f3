/*
 * libFuzzer target for flowsteerd's configuration (ovs-ext/fs-config.c):
 * the external_ids values anyone with write access to the database sets
 * (ovs-vsctl, a CMS, a script), and the bridge, port and interface rows
 * they come with.  Any values must end in a configuration that holds the
 * documented bounds, with problems for what was refused, and no crash or
 * leak; reading the same rows again with the first result as the one in
 * use must hold the same bounds.
 *
 * The input is lines:
 *   o KEY=VALUE            an Open_vSwitch external_ids entry
 *   b NAME DATAPATH-TYPE   a bridge (at most 4)
 *   i NAME TYPE OFPORT     an interface, in a port of its own, of the last
 *                          bridge (at most 16)
 *   e KEY=VALUE            an external_ids entry of the last interface
 *   n                      the database has no Open_vSwitch row
 * VALUE is the rest of the line, whatever bytes it holds.  Unknown lines
 * are ignored.  Rows are built in memory: fs_config_parse() only reads
 * them.
 */
#include <config.h>

#include <string.h>

#include "fs-config.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_BRIDGES 4
#define MAX_IFACES 16

struct rows {
    struct ovsrec_open_vswitch ovs;
    bool no_ovs;
    struct ovsrec_bridge br[MAX_BRIDGES];
    struct ovsrec_port *br_ports[MAX_BRIDGES][MAX_IFACES];
    size_t n_br;
    struct ovsrec_port port[MAX_IFACES];
    struct ovsrec_interface *port_ifaces[MAX_IFACES];
    struct ovsrec_interface iface[MAX_IFACES];
    int64_t ofport[MAX_IFACES];
    size_t n_iface;
};

static const struct ovsrec_bridge *
find_bridge(void *rows_, const char *name)
{
    struct rows *rows = rows_;
    size_t i;

    for (i = 0; i < rows->n_br; i++) {
        if (!strcmp(rows->br[i].name, name)) {
            return &rows->br[i];
        }
    }
    return NULL;
}

/* Splits "KEY=VALUE" and adds it to 'map' (a repeated key keeps the first,
 * as a database column cannot hold two). */
static void
add_pair(struct smap *map, const char *s)
{
    const char *eq = strchr(s, '=');

    if (eq) {
        char *key = xmemdup0(s, eq - s);

        if (!smap_get(map, key)) {
            smap_add(map, key, eq + 1);
        }
        free(key);
    }
}

/* Returns the next space-separated word of '*s' (empty at the end). */
static char *
word(char **s)
{
    char *w = *s, *end = w + strcspn(w, " ");

    *s = *end ? end + 1 : end;
    *end = '\0';
    return w;
}

static void
build_rows(struct rows *rows, char *text)
{
    char *line, *save = NULL;

    smap_init(&rows->ovs.external_ids);
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *rest = line + (line[0] && line[1] == ' ' ? 2 : 1);
        struct ovsrec_bridge *br;
        struct ovsrec_interface *iface;

        switch (line[0]) {
        case 'o':
            add_pair(&rows->ovs.external_ids, rest);
            break;
        case 'n':
            rows->no_ovs = true;
            break;
        case 'b':
            if (rows->n_br < MAX_BRIDGES) {
                br = &rows->br[rows->n_br];
                br->name = xstrdup(word(&rest));
                br->datapath_type = xstrdup(word(&rest));
                br->ports = rows->br_ports[rows->n_br];
                rows->n_br++;
            }
            break;
        case 'i':
            if (rows->n_br && rows->n_iface < MAX_IFACES) {
                size_t k = rows->n_iface++;

                br = &rows->br[rows->n_br - 1];
                iface = &rows->iface[k];
                iface->name = xstrdup(word(&rest));
                iface->type = xstrdup(word(&rest));
                smap_init(&iface->external_ids);
                rows->ofport[k] = strtoll(word(&rest), NULL, 10);
                iface->ofport = &rows->ofport[k];
                iface->n_ofport = 1;
                rows->port[k].name = iface->name;
                rows->port_ifaces[k] = iface;
                rows->port[k].interfaces = &rows->port_ifaces[k];
                rows->port[k].n_interfaces = 1;
                br->ports[br->n_ports++] = &rows->port[k];
            }
            break;
        case 'e':
            if (rows->n_iface) {
                add_pair(&rows->iface[rows->n_iface - 1].external_ids, rest);
            }
            break;
        }
    }
}

static void
free_rows(struct rows *rows)
{
    size_t i;

    smap_destroy(&rows->ovs.external_ids);
    for (i = 0; i < rows->n_br; i++) {
        free(rows->br[i].name);
        free(rows->br[i].datapath_type);
    }
    for (i = 0; i < rows->n_iface; i++) {
        free(rows->iface[i].name);
        free(rows->iface[i].type);
        smap_destroy(&rows->iface[i].external_ids);
    }
}

static bool
bridge_name_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    return (len >= 1 && len <= 15 && strcmp(name, ".") && strcmp(name, "..")
            && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len);
}

/* The bounds fs-config.h documents; a break is a crash. */
static void
check_config(const struct fs_config *cfg, struct rows *rows)
{
    const struct fs_config_port *p;
    int i;

    if (!bridge_name_ok(cfg->sec_bridge)
        || (cfg->policy && cfg->policy[0] != '/')
        || (cfg->watchdog_ms && (cfg->watchdog_ms < 100
                                 || cfg->watchdog_ms > 60000))
        || cfg->max_flows_per_port > (1u << 24)
        || (cfg->mode != FS_MODE_INLINE && cfg->mode != FS_MODE_TAP)
        || (cfg->fail != FS_FAIL_OPEN && cfg->fail != FS_FAIL_CLOSED)) {
        __builtin_trap();
    }
    for (i = 0; i < 3; i++) {
        if (!cfg->idle_timeout[i]) {
            __builtin_trap();
        }
    }
    for (i = 0; i < FS_N_EXCEPTIONS; i++) {
        if (cfg->exceptions[i] > FS_EXC_ACTION_ALLOW) {
            __builtin_trap();
        }
    }
    if (cfg->enabled) {
        if (!bridge_name_ok(cfg->bridge)
            || !strcmp(cfg->bridge, cfg->sec_bridge)
            || !find_bridge(rows, cfg->bridge) || !cfg->datapath_type) {
            __builtin_trap();
        }
    } else if (!ovs_list_is_empty(&cfg->ports)) {
        __builtin_trap();
    }
    LIST_FOR_EACH (p, node, &cfg->ports) {
        if (p->profile && (!*p->profile || strlen(p->profile) > 64
                           || strpbrk(p->profile, " ,=\t\"#"))) {
            __builtin_trap();
        }
    }
}

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    set_program_name("fuzz-config");
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xmemdup0((const char *) data, size);
    struct fs_config first, second;
    struct rows rows;
    struct ds ds = DS_EMPTY_INITIALIZER;

    memset(&rows, 0, sizeof rows);
    build_rows(&rows, text);

    fs_config_parse(rows.no_ovs ? NULL : &rows.ovs, find_bridge, &rows,
                    NULL, &first);
    check_config(&first, &rows);
    fs_config_parse(rows.no_ovs ? NULL : &rows.ovs, find_bridge, &rows,
                    &first, &second);
    check_config(&second, &rows);
    if (!fs_config_equal(&first, &first)
        || !fs_config_equal(&second, &second)) {
        __builtin_trap();
    }
    fs_config_format(&first, &ds);
    fs_config_format(&second, &ds);

    ds_destroy(&ds);
    fs_config_destroy(&first);
    fs_config_destroy(&second);
    free_rows(&rows);
    free(text);
    return 0;
}
