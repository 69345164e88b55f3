/*
 * libFuzzer target for the OpenFlow messages flowsteerd decodes: what a
 * switch (or anything that answers on its socket) sends back to the
 * connection that flowrules (verdict rules) and fs-steer (steering) share.
 * Replies to our dumps and port requests, errors about our bundles,
 * barrier replies, flow-removed and port-status messages: any bytes must
 * be routed to the right end (fr-conn), then refused or applied, without
 * a crash, a leak or a broken table.
 *
 * The input: one byte of set-up (OpenFlow version, options, which flows are
 * desired), then OpenFlow messages, each as its header says (clamped to
 * what is left).  An xid below 16 stands for one that is waited for:
 * 1 flowrules' rule dump, 2 its counter poll, 3 its port list, 4-7 the
 * open, first entry, commit and barrier of its oldest bundle in flight;
 * 8-10 the first, second and last (barrier) xids of the steering's
 * install in flight; so that replies reach the code that parses them
 * whatever xids this run drew.  Each input starts from new instances, so
 * an artifact replays alone.
 *
 * It reaches the handlers behind the connection through flowrules'
 * private header, and includes fs-steer.c.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "flowrules/fr-conn.h"
#include "flowrules/fr-private.h"
#include "ovs-ext/fs-steer.c"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void
set_flows(struct flowrules *fr, uint8_t which)
{
    static const char *const verdicts[] = {
        "allow", "drop", "meter:100", "label", "allow,log", "mirror:p1",
    };
    uint64_t id;

    for (id = 1; id <= 6; id++) {
        struct flowrules_rule r;
        char err[64];

        if (!(which & (1 << (id - 1)))) {
            continue;
        }
        memset(&r, 0, sizeof r);
        r.key.ip_version = 4;
        r.key.l4_proto = id % 2 ? 6 : 17;
        r.key.src_ip[10] = r.key.src_ip[11] = 0xff;
        r.key.src_ip[12] = 10;
        r.key.src_ip[15] = id;
        r.key.dst_ip[10] = r.key.dst_ip[11] = 0xff;
        r.key.dst_ip[12] = 10;
        r.key.dst_ip[15] = 200;
        r.key.src_port = 1000 + id;
        r.key.dst_port = 80;
        if (fs_verdict_parse(verdicts[id - 1], &r.verdict, err, sizeof err)) {
            __builtin_trap();
        }
        flowrules_set(fr, id, &r);
    }
}

/* Maps the placeholder xids (see above) to the ones in use. */
static uint32_t
map_xid(const struct flowrules *fr, const struct steer_bridge *sb,
        uint32_t xid)
{
    const struct fr_bundle *b;

    switch (xid) {
    case 8: case 9: case 10:
        return (!sb->first_xid ? xid
                : xid == 8 ? sb->first_xid
                : xid == 9 ? sb->first_xid + 1
                : sb->last_xid);
    case 1:
        return fr->dump_xid;
    case 2:
        return fr->poll_xid;
    case 3:
        return fr->ports_xid;
    case 4: case 5: case 6: case 7:
        if (ovs_list_is_empty(&fr->inflight)) {
            return xid;
        }
        b = CONTAINER_OF(ovs_list_front(&fr->inflight), struct fr_bundle,
                         node);
        return (xid == 4 ? b->open_xid
                : xid == 5 ? b->open_xid + 1
                : xid == 6 ? fr_bundle_commit_xid(b)
                : fr_bundle_barrier_xid(b));
    default:
        return xid;
    }
}

/* The bridge both ends program, in the run directory LLVMFuzzerInitialize()
 * points at nothing. */
#define FUZZ_BRIDGE "fuzz"
#define FUZZ_TARGET "unix:/nonexistent/" FUZZ_BRIDGE ".mgmt"

/* The steering of a bridge with two inspected ports (one known by its
 * MAC), inline with its liveness port, and an install in flight. */
static struct fs_steer *
make_steer(uint8_t setup)
{
    struct fs_steer_port ports[2] = {
        { .ofport = 4 }, { .ofport = 5, .mac = "02:00:00:00:00:05" },
    };
    struct fs_steer_spec spec = {
        .mode = setup & 64 ? FS_MODE_TAP : FS_MODE_INLINE,
        .fail = setup & 128 ? FS_FAIL_CLOSED : FS_FAIL_OPEN,
        .live = 6, .patch_int = 1, .patch_sec = 2, .insp = 3,
        .ports = ports, .n_ports = 2,
    };
    struct fs_steer *s = fs_steer_create();

    fs_steer_set(s, FUZZ_BRIDGE, NULL, &spec);
    steer_install(&s->br[0]);
    return s;
}

static const enum ofp_version versions[] = {
    OFP13_VERSION, OFP14_VERSION, OFP15_VERSION, OFP13_VERSION,
};

static struct flowrules *
make(uint8_t setup)
{
    struct flowrules_options opts;
    struct flowrules *fr;

    flowrules_options_init(&opts);
    opts.target = FUZZ_TARGET;
    opts.adopt = setup & 4;
    opts.exclude_syn = setup & 8;
    opts.poll_idle = !(setup & 16);
    opts.bundle_max = 2;
    if (flowrules_create(&opts, &fr)) {
        __builtin_trap();
    }
    set_flows(fr, 0x3f & (setup * 0x25));
    fr_conn_set_version_for_testing(fr->conn, versions[setup & 3]);
    fr_start_session(fr, versions[setup & 3]);
    return fr;
}

/* Appends to 'out' message 'msg' (consumed) with xid 'xid'. */
static void
put_msg(struct ds *out, struct ofpbuf *msg, uint32_t xid)
{
    ofpmsg_update_length(msg);
    ((struct ofp_header *) msg->data)->xid = htonl(xid);
    ds_put_buffer(out, msg->data, msg->size);
    ofpbuf_delete(msg);
}

/* A dump reply holding the rules of the desired flows, as a switch that
 * has them would send (with 'skew' to the first rule's priority). */
static struct ofpbuf *
dump_reply(struct flowrules *fr, int skew)
{
    struct ofputil_flow_stats_request fsr;
    struct ovs_list replies;
    struct ofpbuf *req;
    struct fr_flow *f;

    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    req = ofputil_encode_flow_stats_request(&fsr, fr->protocol);
    ofpmp_init(&replies, req->data);
    HMAP_FOR_EACH (f, node, &fr->flows) {
        uint64_t stub[128];
        struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
        int dir;

        fr_build_actions(fr, f, &ofpacts);
        for (dir = 0; dir < 2; dir++) {
            struct ofputil_flow_stats fs;

            memset(&fs, 0, sizeof fs);
            fr_build_match(fr, &f->rule, dir, &fs.match);
            fs.table_id = fr->opts.table;
            fs.priority = fr->opts.priority + skew;
            fs.cookie = fr_cookie(fr, f->id);
            fs.packet_count = 7 * f->id;
            fs.byte_count = 700 * f->id;
            fs.flags = OFPUTIL_FF_SEND_FLOW_REM;
            fs.ofpacts = ofpacts.data;
            fs.ofpacts_len = ofpacts.size;
            ofputil_append_flow_stats_reply(&fs, &replies, NULL);
            skew = 0;
        }
        ofpbuf_uninit(&ofpacts);
    }
    ofpbuf_delete(req);
    /* One message is enough for a seed. */
    return ofpbuf_from_list(ovs_list_pop_front(&replies));
}

/* With FUZZ_OPENFLOW_SEEDS=DIR, writes seed inputs to DIR and exits:
 * what a switch answers to a session (its rules, or none, or other ones;
 * barrier and bundle replies, errors, flow-removed). */
static void
write_seeds(const char *dir)
{
    int n = 0;
    int i;

    for (i = 0; i < 8; i++) {
        uint8_t setup = (i * 0x31) ^ (i & 1 ? 4 : 0) ^ (i & 2 ? 32 : 0);
        struct flowrules *fr = make(setup);
        struct ds out = DS_EMPTY_INITIALIZER;
        struct ofpbuf *brq;
        char *name;
        FILE *f;

        ds_put_char(&out, setup);
        put_msg(&out, dump_reply(fr, i & 4 ? 1 : 0), 1);
        brq = ofputil_encode_barrier_request(fr->version);
        put_msg(&out, ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY,
                                         brq->data, 0), 7);
        put_msg(&out, ofperr_encode_reply(OFPERR_OFPFMFC_TABLE_FULL,
                                          brq->data), 5);
        put_msg(&out, ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY,
                                         brq->data, 0), 7);
        /* The steering's install: refused (half of them), then done. */
        if (i & 1) {
            put_msg(&out, ofperr_encode_reply(OFPERR_OFPBAC_BAD_OUT_PORT,
                                              brq->data), 9);
        }
        put_msg(&out, ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY,
                                         brq->data, 0), 10);
        ofpbuf_delete(brq);
        name = xasprintf("%s/seed-%d", dir, n++);
        f = fopen(name, "wb");
        if (!f || fwrite(out.string, 1, out.length, f) != out.length
            || fclose(f)) {
            ovs_fatal(errno, "%s", name);
        }
        free(name);
        ds_destroy(&out);
        flowrules_destroy(fr);
    }
    exit(0);
}

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    const char *dir = getenv("FUZZ_OPENFLOW_SEEDS");

    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    /* fs-steer finds a bridge's socket there; flowrules uses the same. */
    setenv("OVS_RUNDIR", "/nonexistent", 1);
    if (dir) {
        write_seeds(dir);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct steer_bridge *sb;
    struct flowrules *fr;
    struct fs_steer *s;
    uint8_t setup;

    if (size < 1) {
        return 0;
    }
    setup = *data++;
    size--;
    fr = make(setup);
    s = make_steer(setup);
    sb = &s->br[0];

    while (size >= sizeof(struct ofp_header)) {
        struct ofp_header oh;
        struct ofpbuf *msg;
        size_t len;

        memcpy(&oh, data, sizeof oh);
        len = ntohs(oh.length);
        if (len < sizeof oh || len > size) {
            len = size;
        }
        msg = ofpbuf_clone_data(data, len);
        ((struct ofp_header *) msg->data)->length = htons(len);
        ((struct ofp_header *) msg->data)->xid
            = htonl(map_xid(fr, sb, ntohl(oh.xid)));
        fr_conn_receive_for_testing(fr->conn, msg);
        while ((msg = fr_conn_recv(fr->conn))) {
            fr_handle_msg(fr, msg);
            ofpbuf_delete(msg);
        }
        while ((msg = fr_conn_recv(sb->conn))) {
            steer_handle_msg(sb, msg);
            ofpbuf_delete(msg);
        }
        data += len;
        size -= len;

        /* What flowrules_run() would do next, with the switch up. */
        if (fr->reconciled) {
            if (!fr->poll_xid && (setup & 32)) {
                fr->poll_xid = fr_request_dump(fr);
            }
            while (!ovs_list_is_empty(&fr->dirty)
                   && fr->n_inflight < fr->opts.max_inflight) {
                fr_send_bundle(fr);
            }
        }
    }
    fs_steer_destroy(s);
    flowrules_destroy(fr);
    return 0;
}
