/* flowsteer/flows.  See fs-flows.h. */
#include <config.h>
#include "fs-flows.h"

#include <inttypes.h>

#include "flowrules.h"
#include "flowsteer/inspector.h"
#include "fs-config.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"

struct flows_ctx {
    const struct flowrules *fr;
    const struct fs_config *cfg;
    bool json;
    struct ds *ds;
};

/* Returns the name of the inspected interface with OpenFlow port 'port',
 * or NULL. */
static const char *
port_name(const struct fs_config *cfg, uint32_t port)
{
    const struct fs_config_port *p;

    LIST_FOR_EACH (p, node, &cfg->ports) {
        if (p->ofport == port) {
            return p->name;
        }
    }
    return NULL;
}

static void
put_json(const struct flows_ctx *ctx, const struct fs_flow_info *f,
         const char *vm, bool in_ovs, uint64_t ovs_packets)
{
    struct json *o = json_object_create();
    struct json *risks = json_array_create_empty();
    char ip[64], l4[8], actions[64];
    unsigned int bit;

    json_object_put(o, "id", json_integer_create(f->id));
    json_object_put_string(o, "l4", fs_l4_name(f->key.l4_proto, l4,
                                               sizeof l4));
    json_object_put_string(o, "src_ip", fs_ip_format(f->key.src_ip, ip,
                                                     sizeof ip));
    json_object_put(o, "src_port", json_integer_create(f->key.src_port));
    json_object_put_string(o, "dst_ip", fs_ip_format(f->key.dst_ip, ip,
                                                     sizeof ip));
    json_object_put(o, "dst_port", json_integer_create(f->key.dst_port));
    json_object_put(o, "port", json_integer_create(f->port));
    json_object_put(o, "vm", vm ? json_string_create(vm) : json_null_create());
    json_object_put(o, "profile", (f->profile
                                   ? json_string_create(f->profile)
                                   : json_null_create()));
    json_object_put(o, "peer_port", json_integer_create(f->peer_port));
    json_object_put(o, "peer_profile", (f->peer_profile
                                        ? json_string_create(f->peer_profile)
                                        : json_null_create()));
    json_object_put(o, "pinned", json_boolean_create(f->pinned));
    json_object_put_string(o, "state", (f->state == FS_FLOW_DECIDED
                                        ? "decided" : "classifying"));
    json_object_put_string(o, "app", f->app);
    json_object_put_string(o, "category", f->category);
    for (bit = 0; bit < 64; bit++) {
        if (f->risks & (UINT64_C(1) << bit)) {
            const char *name = fs_risk_name(bit);

            json_array_add(risks, json_string_create(name ? name : "?"));
        }
    }
    json_object_put(o, "risks", risks);
    json_object_put_string(o, "host", f->host);
    json_object_put_string(o, "ja3", f->ja3);
    json_object_put_string(o, "verdict", (f->state == FS_FLOW_DECIDED
                                          ? fs_verdict_format(&f->verdict,
                                                              actions,
                                                              sizeof actions)
                                          : ""));
    json_object_put_string(o, "rule", f->rule);
    json_object_put(o, "packets_inspector",
                    json_integer_create(f->packets[0] + f->packets[1]));
    json_object_put(o, "packets_inspected",
                    json_integer_create(f->packets_inspected));
    json_object_put(o, "packets_ovs", (in_ovs
                                       ? json_integer_create(ovs_packets)
                                       : json_null_create()));
    json_to_ds(o, JSSF_SORT, ctx->ds);
    ds_put_char(ctx->ds, '\n');
    json_destroy(o);
}

static void
put_text(const struct flows_ctx *ctx, const struct fs_flow_info *f,
         const char *vm, bool in_ovs, uint64_t ovs_packets)
{
    char src[64], dst[64], l4[8], actions[64];
    int v6 = f->key.ip_version == 6;
    struct ds *ds = ctx->ds;
    unsigned int bit;
    int first = 1;

    ds_put_format(ds, "%"PRIu64" %s %s%s%s:%u -> %s%s%s:%u [vm %s port %"
                  PRIu32" profile %s] [app %s] [cat %s]", f->id,
                  fs_l4_name(f->key.l4_proto, l4, sizeof l4), v6 ? "[" : "",
                  fs_ip_format(f->key.src_ip, src, sizeof src), v6 ? "]" : "",
                  f->key.src_port, v6 ? "[" : "",
                  fs_ip_format(f->key.dst_ip, dst, sizeof dst), v6 ? "]" : "",
                  f->key.dst_port, vm ? vm : "-", f->port,
                  f->profile ? f->profile : "-", f->app, f->category);
    if (f->peer_port) {
        ds_put_format(ds, " [to port %"PRIu32" profile %s]", f->peer_port,
                      f->peer_profile ? f->peer_profile : "-");
    }
    for (bit = 0; bit < 64; bit++) {
        if (f->risks & (UINT64_C(1) << bit)) {
            const char *name = fs_risk_name(bit);

            ds_put_format(ds, "%s%s", first ? " [risks " : ",",
                          name ? name : "?");
            first = 0;
        }
    }
    if (!first) {
        ds_put_char(ds, ']');
    }
    if (*f->host) {
        ds_put_cstr(ds, " [host ");
        json_string_escape(f->host, ds);
        ds_put_char(ds, ']');
    }
    if (f->state == FS_FLOW_DECIDED) {
        ds_put_format(ds, " [verdict %s rule %s]",
                      fs_verdict_format(&f->verdict, actions, sizeof actions),
                      f->rule);
    } else {
        ds_put_cstr(ds, " [classifying]");
    }
    ds_put_format(ds, " [inspector %"PRIu64" pkts, %"PRIu32" inspected]",
                  f->packets[0] + f->packets[1], f->packets_inspected);
    if (in_ovs) {
        ds_put_format(ds, " [ovs %"PRIu64" pkts]", ovs_packets);
    }
    if (f->pinned) {
        ds_put_cstr(ds, " [pinned]");
    }
    ds_put_char(ds, '\n');
}

static int
format_flow(void *ctx_, const struct fs_flow_info *f)
{
    const struct flows_ctx *ctx = ctx_;
    const char *vm = ctx->cfg ? port_name(ctx->cfg, f->port) : NULL;
    uint64_t ovs_packets = 0;
    bool in_ovs = (ctx->fr
                   && flowrules_get_packets(ctx->fr, f->id, &ovs_packets));

    (ctx->json ? put_json : put_text)(ctx, f, vm, in_ovs, ovs_packets);
    return 0;
}

void
fs_flows_format(struct fs_inspector *insp, const struct flowrules *fr,
                const struct fs_config *cfg, bool json, struct ds *ds)
{
    struct flows_ctx ctx = { .fr = fr, .cfg = cfg, .json = json, .ds = ds };

    fs_inspector_foreach_flow(insp, format_flow, &ctx);
}
