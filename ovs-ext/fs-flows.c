/* flowsteer/flows.  See fs-flows.h. */
#include <config.h>
#include "fs-flows.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flowrules.h"
#include "flowsteer/inspector.h"
#include "fs-appliance.h"
#include "fs-chan.h"
#include "fs-config.h"
#include "fs-verdict.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

struct fs_flows {
    struct fs_inspector *insp;
    struct fs_verdicts *verdicts;
    struct fs_appliance *app;
    const struct fs_config *cfg;    /* Or NULL. */
    struct ovs_list requests;       /* struct flows_request. */
    size_t n_requests;
    uint64_t n_replies;
    uint64_t n_busy;                /* Refused: FS_FLOWS_MAX_WAITING. */
};

/* A request waiting for fresh counters from OVS. */
struct flows_request {
    struct ovs_list node;           /* In fs_flows's 'requests'. */
    struct unixctl_conn *conn;
    bool json;
    uint64_t after;
    unsigned int limit;
    uint64_t poll_seqno;            /* flowrules_poll_seqno() to wait for. */
    long long int deadline;         /* Reply anyway then (ms). */
    bool app_waiting;               /* For the appliance's flows. */
    struct ds *app_msgs;            /* Its FLOWS messages, or NULL. */
};

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
    if (f->origin_id) {
        ds_put_format(ds, " [migrated, flow %"PRIu64" there]", f->origin_id);
    }
    if (f->pinned) {
        ds_put_cstr(ds, " [pinned]");
    }
    ds_put_char(ds, '\n');
}

static int
format_flow(const struct flows_ctx *ctx, const struct fs_flow_info *f)
{
    const char *vm = ctx->cfg ? port_name(ctx->cfg, f->port) : NULL;
    uint64_t ovs_packets = 0;
    bool in_ovs = (ctx->fr
                   && flowrules_get_packets(ctx->fr, f->id, &ovs_packets));

    (ctx->json ? put_json : put_text)(ctx, f, vm, in_ovs, ovs_packets);
    return 0;
}

/* The page being made: the ids of the flows after 'after', then the text
 * of the first 'limit' of them, in id order. */
struct page {
    uint64_t after;
    uint64_t *ids;
    size_t n, allocated;
    char **lines;                   /* Parallel to 'ids', once cut. */
    const struct flows_ctx *ctx;
};

static int
collect_id(void *page_, const struct fs_flow_info *f)
{
    struct page *page = page_;

    if (f->id > page->after) {
        if (page->n >= page->allocated) {
            page->ids = x2nrealloc(page->ids, &page->allocated,
                                   sizeof *page->ids);
        }
        page->ids[page->n++] = f->id;
    }
    return 0;
}

static int
compare_ids(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

static int
format_if_in_page(void *page_, const struct fs_flow_info *f)
{
    struct page *page = page_;
    uint64_t *slot;

    if (f->id <= page->after || !page->n) {
        return 0;
    }
    slot = bsearch(&f->id, page->ids, page->n, sizeof *page->ids,
                   compare_ids);
    if (slot) {
        struct flows_ctx ctx = *page->ctx;
        struct ds line = DS_EMPTY_INITIALIZER;

        ctx.ds = &line;
        format_flow(&ctx, f);
        page->lines[slot - page->ids] = ds_steal_cstr(&line);
    }
    return 0;
}

/* The flows a page is made of: those of flowsteerd's inspector (decided,
 * with their verdicts as judged here), with the appliance's counters for
 * the ones it has too, and the appliance's others (still classifying, or
 * without rules).  The appliance's are the FLOWS messages of its answer,
 * indexed by id. */
struct app_flow {
    uint64_t id;
    size_t msg, len, off;           /* Its message in 'msgs', and where the
                                     * flow is in it. */
    bool seen;                      /* Also flowsteerd's, in this walk. */
};

struct flow_source {
    struct fs_inspector *insp;
    const struct ds *msgs;          /* Or NULL. */
    struct app_flow *af;            /* Sorted by id. */
    size_t n_af;
    fs_flow_cb *cb;                 /* The walk's. */
    void *aux;
};

static int
compare_app_flows(const void *a_, const void *b_)
{
    const struct app_flow *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

static void
source_init(struct flow_source *src, struct fs_inspector *insp,
            const struct ds *msgs)
{
    static struct fs_chan_flow flow;
    size_t allocated = 0, m = 0, len;
    const uint8_t *p;

    memset(src, 0, sizeof *src);
    src->insp = insp;
    src->msgs = msgs;

    while (msgs && fs_appliance_msgs_next(msgs, &m, &p, &len)) {
        size_t off = 0, prev = 0;

        while (fs_chan_next_flow(p, len, &off, &flow)) {
            if (src->n_af >= allocated) {
                src->af = x2nrealloc(src->af, &allocated, sizeof *src->af);
            }
            src->af[src->n_af].id = flow.info.id;
            src->af[src->n_af].msg = p - (const uint8_t *) msgs->string;
            src->af[src->n_af].len = len;
            src->af[src->n_af].off = prev;
            src->n_af++;
            prev = off;
        }
    }
    if (src->n_af) {
        qsort(src->af, src->n_af, sizeof *src->af, compare_app_flows);
    }
}

/* Decodes appliance flow 'af' into '*flow'. */
static bool
app_flow_get(const struct flow_source *src, const struct app_flow *af,
             struct fs_chan_flow *flow)
{
    size_t off = af->off;

    return fs_chan_next_flow(src->msgs->string + af->msg, af->len, &off,
                             flow);
}

static int
source_ledger_flow(void *src_, const struct fs_flow_info *f)
{
    static struct fs_chan_flow flow;
    struct flow_source *src = src_;
    struct app_flow key = { .id = f->id }, *af;
    struct fs_flow_info merged;

    af = (src->n_af
          ? bsearch(&key, src->af, src->n_af, sizeof *src->af,
                    compare_app_flows)
          : NULL);
    if (!af || !app_flow_get(src, af, &flow)) {
        return src->cb(src->aux, f);
    }
    /* What crossed the inspector is the appliance's to count. */
    af->seen = true;
    merged = *f;
    memcpy(merged.packets, flow.info.packets, sizeof merged.packets);
    memcpy(merged.bytes, flow.info.bytes, sizeof merged.bytes);
    merged.packets_inspected = flow.info.packets_inspected;
    merged.last_seen_ns = flow.info.last_seen_ns;
    return src->cb(src->aux, &merged);
}

/* Calls 'cb' for each flow of 'src', as fs_inspector_foreach_flow() does
 * for one inspector. */
static void
source_foreach(struct flow_source *src, fs_flow_cb *cb, void *aux)
{
    static struct fs_chan_flow flow;

    src->cb = cb;
    src->aux = aux;
    for (size_t i = 0; i < src->n_af; i++) {
        src->af[i].seen = false;
    }
    fs_inspector_foreach_flow(src->insp, source_ledger_flow, src);
    for (size_t i = 0; i < src->n_af; i++) {
        if (!src->af[i].seen && app_flow_get(src, &src->af[i], &flow)) {
            cb(aux, &flow.info);
        }
    }
}

bool
fs_flows_format(struct fs_inspector *insp, const struct ds *app_msgs,
                const struct flowrules *fr, const struct fs_config *cfg,
                bool json, uint64_t after, unsigned int limit,
                struct ds *ds)
{
    struct flows_ctx ctx = { .fr = fr, .cfg = cfg, .json = json, .ds = ds };
    struct page page = { .after = after, .ctx = &ctx };
    struct flow_source src;
    bool more;
    size_t i;

    /* Two walks: the ids after 'after', of which the first 'limit' in
     * order make the page; then those flows' lines.  A page costs its own
     * lines and 8 bytes per flow, not the text of every flow.  (The
     * appliance answered with its first 'limit' after 'after': enough.) */
    source_init(&src, insp, app_msgs);
    source_foreach(&src, collect_id, &page);
    if (page.n) {
        /* (qsort() and bsearch() want an array, even an empty one.) */
        qsort(page.ids, page.n, sizeof *page.ids, compare_ids);
    }
    more = page.n > limit;
    page.n = MIN(page.n, limit);
    page.lines = xcalloc(page.n ? page.n : 1, sizeof *page.lines);
    source_foreach(&src, format_if_in_page, &page);
    free(src.af);
    for (i = 0; i < page.n; i++) {
        /* A flow gone between the walks has no line. */
        if (page.lines[i]) {
            ds_put_cstr(ds, page.lines[i]);
            free(page.lines[i]);
        }
    }
    if (more) {
        uint64_t last = page.ids[page.n - 1];

        if (json) {
            ds_put_format(ds, "{\"after\":%"PRIu64",\"more\":true}\n", last);
        } else {
            ds_put_format(ds, "more flows: flowsteer/flows --after=%"PRIu64
                          "\n", last);
        }
    }
    free(page.lines);
    free(page.ids);
    return more;
}

/* ---------------------------------------------------------------------- */
/* The command. */

static void
flows_reply(struct fs_flows *fl, struct unixctl_conn *conn,
            const struct ds *app_msgs, bool json, uint64_t after,
            unsigned int limit)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    fs_flows_format(fl->insp, app_msgs, fs_verdicts_rules(fl->verdicts),
                    fl->cfg, json, after, limit, &ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
    fl->n_replies++;
}

/* Parses "--after=ID" or "--limit=N" into '*value'.  Returns false if
 * 'arg' is neither. */
static bool
parse_number_option(const char *arg, const char *name, uint64_t max,
                    uint64_t *value)
{
    size_t len = strlen(name);
    char *end;

    if (strncmp(arg, name, len) || arg[len] != '=' || !arg[len + 1]
        || arg[len + 1] == '-') {
        return false;
    }
    errno = 0;
    *value = strtoull(arg + len + 1, &end, 10);
    return !*end && !errno && *value <= max;
}

static void app_flows_cb(void *r, const struct ds *msgs);

#define FLOWS_USAGE \
    "usage: flowsteer/flows [--json] [--after=ID] [--limit=N] (N: 1 to " \
    OVS_STRINGIZE(FS_FLOWS_PAGE_MAX) ")"

/* flowsteer/flows [--json] [--after=ID] [--limit=N]: replies once
 * flowrules has polled the verdict rules' counters, or after a second if
 * OVS does not answer. */
static void
flowsteer_flows(struct unixctl_conn *conn, int argc, const char *argv[],
                void *fl_)
{
    struct fs_flows *fl = fl_;
    struct flowrules *fr = fs_verdicts_rules(fl->verdicts);
    uint64_t after = 0, limit = FS_FLOWS_PAGE_DEFAULT, seqno;
    struct flows_request *r;
    bool json = false;
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!parse_number_option(argv[i], "--after", UINT64_MAX,
                                        &after)
                   && (!parse_number_option(argv[i], "--limit",
                                            FS_FLOWS_PAGE_MAX, &limit)
                       || !limit)) {
            unixctl_command_reply_error(conn, FLOWS_USAGE);
            return;
        }
    }
    seqno = fr ? flowrules_poll(fr) : 0;
    if (!seqno && !fs_appliance_ready(fl->app)) {
        flows_reply(fl, conn, NULL, json, after, limit);
        return;
    }
    if (fl->n_requests >= FS_FLOWS_MAX_WAITING) {
        fl->n_busy++;
        unixctl_command_reply_error(conn, "busy: "
                                    OVS_STRINGIZE(FS_FLOWS_MAX_WAITING)
                                    " flowsteer/flows requests are waiting"
                                    " for counters; try again");
        return;
    }
    r = xmalloc(sizeof *r);
    r->conn = conn;
    r->json = json;
    r->after = after;
    r->limit = limit;
    r->poll_seqno = seqno;
    r->deadline = time_msec() + 1000;
    r->app_msgs = NULL;
    r->app_waiting = true;
    ovs_list_push_back(&fl->requests, &r->node);
    fl->n_requests++;
    fs_appliance_query_flows(fl->app, after, limit, app_flows_cb, r);
}

struct fs_flows *
fs_flows_create(struct fs_inspector *insp, struct fs_verdicts *verdicts,
                struct fs_appliance *app)
{
    struct fs_flows *fl = xzalloc(sizeof *fl);

    fl->insp = insp;
    fl->verdicts = verdicts;
    fl->app = app;
    ovs_list_init(&fl->requests);
    unixctl_command_register("flowsteer/flows",
                             "[--json] [--after=ID] [--limit=N]", 0, 3,
                             flowsteer_flows, fl);
    return fl;
}

void
fs_flows_set_config(struct fs_flows *fl, const struct fs_config *cfg)
{
    fl->cfg = cfg;
}

static void
flows_request_free(struct fs_flows *fl, struct flows_request *r)
{
    ovs_list_remove(&r->node);
    fl->n_requests--;
    if (r->app_msgs) {
        ds_destroy(r->app_msgs);
        free(r->app_msgs);
    }
    if (r->app_waiting) {
        /* Its answer comes too late: no one to give it to. */
        fs_appliance_forget_queries(fl->app, r);
    }
    free(r);
}

/* fs_appliance_flows_cb. */
static void
app_flows_cb(void *r_, const struct ds *msgs)
{
    struct flows_request *r = r_;

    r->app_waiting = false;
    if (msgs) {
        r->app_msgs = xmalloc(sizeof *r->app_msgs);
        ds_init(r->app_msgs);
        ds_put_buffer(r->app_msgs, msgs->string, msgs->length);
    }
    poll_immediate_wake();
}

/* Answers the requests whose counters are in (all of them if 'all'). */
static void
flows_requests_run(struct fs_flows *fl, bool all)
{
    struct flowrules *fr = fs_verdicts_rules(fl->verdicts);
    struct flows_request *r;

    LIST_FOR_EACH_SAFE (r, node, &fl->requests) {
        if (all || time_msec() >= r->deadline
            || ((!fr || flowrules_poll_seqno(fr) >= r->poll_seqno)
                && !r->app_waiting)) {
            flows_reply(fl, r->conn, r->app_msgs, r->json, r->after,
                        r->limit);
            flows_request_free(fl, r);
        }
    }
}

void
fs_flows_run(struct fs_flows *fl)
{
    flows_requests_run(fl, false);
}

void
fs_flows_wait(const struct fs_flows *fl)
{
    const struct flows_request *r;

    LIST_FOR_EACH (r, node, &fl->requests) {
        poll_timer_wait_until(r->deadline);
    }
}

void
fs_flows_destroy(struct fs_flows *fl)
{
    if (fl) {
        flows_requests_run(fl, true);
        free(fl);
    }
}

void
fs_flows_format_stats(const struct fs_flows *fl, struct ds *ds)
{
    ds_put_format(ds, "flowsteer/flows: pages of %d flows (at most %d), %"
                  PRIuSIZE" requests waiting for counters (at most %d), %"
                  PRIu64" replies, %"PRIu64" refused busy\n",
                  FS_FLOWS_PAGE_DEFAULT, FS_FLOWS_PAGE_MAX, fl->n_requests,
                  FS_FLOWS_MAX_WAITING, fl->n_replies, fl->n_busy);
}
