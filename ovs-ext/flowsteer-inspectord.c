/*
 * flowsteer-inspectord: flowsteer's inspector appliance.
 *
 * The process that reads the inspector port, hands each packet to the
 * inspector (nDPI) and, inline, sends back what the verdict passes: the
 * part of flowsteer that parses what hostile VMs send.  flowsteerd
 * starts it, talks to it over one socket (fs-chan.h) and restarts it if it
 * dies or hangs; it holds nothing flowsteerd cannot rebuild.
 *
 *   - flowsteerd sends the configuration, the ports, the policy, the
 *     flows it has rules for (IMPORT, PIN), and which flows' rules are
 *     gone; the appliance sends an EVENT, with the flow's record, for each
 *     flow it decides or ends, and answers ECHO_REQUEST with ECHO_REPLY
 *     and its counters (STATS).
 *   - The appliance classifies; flowsteerd judges.  Its verdict serves
 *     only the packets it forwards inline before the rules exist:
 *     flowsteerd judges every record again by its own copy of the policy
 *     before it installs a rule.
 *   - It runs sandboxed (fs-sandbox.h): started by root, it becomes an
 *     unprivileged user at once, keeping only CAP_NET_RAW (afpacket; for
 *     afxdp CAP_NET_ADMIN and CAP_SYS_ADMIN too; for dpdk nothing), opens
 *     its port at the first configuration, and then locks itself (no
 *     capability left, a seccomp filter) before it reads a packet.  After
 *     that it can open no file or socket and exec nothing: a port that
 *     fails, or another port configured, ends it, and flowsteerd starts a
 *     new one.
 *   - With dpdk, its port is a virtio_user device serving the vhost-user
 *     socket of --vhost-socket, to which Open vSwitch's dpdkvhostuserclient
 *     port connects.  The EAL starts as the unprivileged user (--in-memory:
 *     hugepages through memfd, no hugetlbfs files; its runtime directory is
 *     the socket's), and the sandbox locks once Open vSwitch has connected.
 *     When Open vSwitch goes away (restarts), the link goes down, which is
 *     a failed port: the appliance exits and a new one serves the socket.
 *
 * Test hooks, read from the environment at start (flowsteerd passes its
 * own): FLOWSTEER_TEST_CRASH_HOST=NAME makes it crash (SIGSEGV) when it
 * classifies a flow to host NAME, as a bug in nDPI would;
 * FLOWSTEER_TEST_SANDBOX_PROBE=open|socket|exec makes it try that once
 * the sandbox is locked, which the filter must punish (SIGSYS).
 *
 * Its log goes to standard error as LEVEL|MODULE|MESSAGE lines, which
 * flowsteerd reads and writes into its own log.
 *
 *   flowsteer-inspectord --channel-fd=N [--max-flows=N] [-v...]
 */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* For sched_getaffinity(). */
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "command-line.h"
#include "fatal-signal.h"
#include "flowsteer/inspector.h"
#include "fs-chan.h"
#include "fs-config.h"
#include "fs-dp.h"
#include "fs-port.h"
#include "fs-sandbox.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(inspectord);

/* Exit statuses (fs-chan.h), for flowsteerd's log. */
enum {
    EXIT_CHANNEL = FS_CHAN_EXIT_CHANNEL,
    EXIT_PORT = FS_CHAN_EXIT_PORT,
    EXIT_RECONFIGURE = FS_CHAN_EXIT_RECONFIGURE,
    EXIT_PROTOCOL = FS_CHAN_EXIT_PROTOCOL,
    EXIT_SANDBOX = FS_CHAN_EXIT_SANDBOX,
};

/* Outgoing messages that the socket did not take yet, capped: beyond, the
 * appliance is faster than flowsteerd reads, and events are dropped
 * (counted; a decided flow without its event only lacks its rules, and
 * its packets go on being judged here). */
#define OUT_MAX_BYTES FS_CHAN_APPLIANCE_QUEUE_MAX

struct out_msg {
    struct ovs_list node;
    size_t len;
    uint8_t data[];
};

/* The ids of flows whose rules flowsteerd says are gone (GONE), for the
 * data path's held packets: the last GONE_MAX of them. */
#define GONE_MAX 4096

/* A worker: its inspector, and the events it raised in its own thread,
 * which the main thread sends once the burst is judged (fs-dp.h). */
struct worker {
    unsigned int index;
    struct fs_inspector *insp;
    struct ovs_list events;     /* struct out_msg. */
};

struct appliance {
    int fd;                     /* The channel. */
    struct worker workers[FS_DP_MAX_WORKERS];
    unsigned int n_workers;
    struct fs_dp *dp;
    bool configured;            /* A CONFIG arrived. */
    bool port_open;             /* A port was set (it may not be open
                                 * yet). */
    bool ready;
    enum fs_mode mode;
    char ifname[16];
    char backend[32];

    struct ovs_list out;        /* struct out_msg, oldest first. */
    size_t out_bytes;
    uint64_t out_dropped;

    uint64_t gone[GONE_MAX];
    size_t n_gone;              /* Total received; the last GONE_MAX kept. */

    /* A policy arriving in parts. */
    struct ds policy;
    char policy_name[FS_CHAN_STR_MAX + 1];
    uint32_t policy_total;
    uint8_t policy_kind;
    bool policy_open;

    /* Ports arriving in parts: applied as they come (the inspector keeps
     * ports it is no longer told about, as flowsteerd does). */
};

static struct appliance app;
static int channel_fd = -1;
static unsigned int max_flows = 65536;
static unsigned int n_workers = 1;      /* --workers. */
static __thread bool in_worker_thread;  /* Worker 1 and up. */
static const char *sandbox_user;  /* --user, or NULL: fs-sandbox's
                                   * default. */
static bool no_sandbox;         /* --no-sandbox (debugging only). */
static const char *port_backend = "afpacket"; /* --backend. */
static const char *vhost_socket;  /* --vhost-socket (dpdk). */
static const char *dpdk_lcores;   /* --dpdk-lcores, or NULL: the last CPU. */
static unsigned int dpdk_mem_mb = FS_DPDK_MEM_DEFAULT;  /* --dpdk-mem. */
static const char *dpdk_extra;    /* --dpdk-extra, or NULL. */

static struct fs_sandbox *sandbox;
static bool locked;             /* fs_sandbox_lock() done. */
static long long int next_open; /* Next try to open the port. */
static const char *crash_host;  /* FLOWSTEER_TEST_CRASH_HOST. */
static const char *probe;       /* FLOWSTEER_TEST_SANDBOX_PROBE. */
static bool importing;          /* In fs_inspector_import_*(): the flow
                                 * came from flowsteerd, which knows it. */

/* ---------------------------------------------------------------------- */
/* Sending. */

static void
flush_out(void)
{
    struct out_msg *m, *next;

    LIST_FOR_EACH_SAFE (m, next, node, &app.out) {
        ssize_t r = send(app.fd, m->data, m->len, MSG_DONTWAIT);

        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return;
            }
            VLOG_ERR("channel: %s", ovs_strerror(errno));
            exit(EXIT_CHANNEL);
        }
        ovs_list_remove(&m->node);
        app.out_bytes -= m->len;
        free(m);
    }
}

static void
send_msg(const struct fs_chan_buf *b)
{
    size_t len = b->len;
    struct out_msg *m;

    if (!len) {
        return;
    }
    if (ovs_list_is_empty(&app.out)
        && send(app.fd, b->data, len, MSG_DONTWAIT) == (ssize_t) len) {
        return;
    }
    if (app.out_bytes + len > OUT_MAX_BYTES) {
        app.out_dropped++;
        return;
    }
    m = xmalloc(sizeof *m + len);
    m->len = len;
    memcpy(m->data, b->data, len);
    ovs_list_push_back(&app.out, &m->node);
    app.out_bytes += len;
}

static void
send_result(uint32_t xid, int code, uint64_t value, uint64_t value2,
            const char *text)
{
    static uint8_t buf[FS_CHAN_MAX_MSG];
    struct fs_chan_buf b;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RESULT, 0, xid);
    fs_chan_put_u32(&b, (uint32_t) code);
    fs_chan_put_u64(&b, value);
    fs_chan_put_u64(&b, value2);
    fs_chan_put_str(&b, text);
    fs_chan_finish(&b);
    send_msg(&b);
}

static void
send_error(uint32_t xid, int error, const char *text)
{
    static uint8_t buf[FS_CHAN_MAX_MSG];
    struct fs_chan_buf b;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_ERROR, 0, xid);
    fs_chan_put_u32(&b, error);
    fs_chan_put_str(&b, text);
    fs_chan_finish(&b);
    send_msg(&b);
}

static void
send_hello(void)
{
    static uint8_t buf[FS_CHAN_MAX_MSG];
    struct fs_chan_buf b;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_HELLO, 0, 0);
    fs_chan_put_u8(&b, FS_CHAN_VERSION);
    fs_chan_put_u8(&b, FS_CHAN_VERSION);
    fs_chan_put_u8(&b, FS_CHAN_ROLE_APPLIANCE);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_u32(&b, getpid());
    fs_chan_put_str(&b, "flowsteer-inspectord " FLOWSTEER_VERSION);
    fs_chan_finish(&b);
    send_msg(&b);
}

static void
send_stats(void)
{
    static uint8_t buf[FS_CHAN_MAX_MSG];
    FS_INSPECTOR_STATS(st);
    uint64_t fig[FS_CHAN_N_DP];
    struct fs_chan_buf b;

    /* The workers' figures, summed (a peak is the sum of the workers'
     * peaks: at most the peak of the whole). */
    for (unsigned int i = 0; i < app.n_workers; i++) {
        FS_INSPECTOR_STATS(w);

        fs_inspector_get_stats(app.workers[i].insp, &w);
        st.flows += w.flows;
        st.flows_classifying += w.flows_classifying;
        st.max_flows += w.max_flows;
        st.flows_pinned += w.flows_pinned;
        st.memory += w.memory;
        st.memory_peak += w.memory_peak;
    }
    fs_dp_get_figures(app.dp, fig);
    fig[FS_CHAN_DP_EVENTS_DROPPED] = app.out_dropped;
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_STATS, 0, 0);
    fs_chan_put_u16(&b, FS_N_COUNTERS);
    for (int c = 0; c < FS_N_COUNTERS; c++) {
        uint64_t sum = 0;

        for (unsigned int i = 0; i < app.n_workers; i++) {
            sum += fs_inspector_counter(app.workers[i].insp, c);
        }
        fs_chan_put_u64(&b, sum);
    }
    fs_chan_put_u32(&b, st.flows);
    fs_chan_put_u32(&b, st.flows_classifying);
    fs_chan_put_u32(&b, st.max_flows);
    fs_chan_put_u32(&b, st.flows_pinned);
    fs_chan_put_u64(&b, st.memory);
    fs_chan_put_u64(&b, st.memory_peak);
    for (int i = 0; i < FS_CHAN_N_DP; i++) {
        fs_chan_put_u64(&b, fig[i]);
    }
    fs_chan_put_u16(&b, 0);     /* Flows per port: not yet. */
    fs_chan_finish(&b);
    send_msg(&b);
}

/* Sends the events the workers raised in their threads, in the order
 * each raised them. */
static void
send_worker_events(void)
{
    for (unsigned int i = 1; i < app.n_workers; i++) {
        struct out_msg *m;

        LIST_FOR_EACH_POP (m, node, &app.workers[i].events) {
            struct fs_chan_buf b = {
                .data = m->data, .len = m->len, .size = m->len,
            };

            send_msg(&b);
            free(m);
        }
    }
}

/* The inspectors' events: up, with the flow's record while it has one.  A
 * worker thread's wait in its list until send_worker_events(). */
static void
on_event(void *w_, enum fs_event_type type, const struct fs_flow_info *f,
         const struct fs_verdict *old OVS_UNUSED)
{
    static __thread uint8_t buf[FS_CHAN_MAX_MSG];
    struct worker *w = w_;
    uint8_t rec[FS_FLOW_RECORD_MAX];
    struct fs_chan_buf b;
    int len = 0;

    if (importing) {
        return;
    }
    if (type == FS_EVENT_FLOW_END && f->end_reason == FS_END_REOPENED
        && f->pinned) {
        /* A new connection on the 5-tuple of a flow with rules: its
         * packets wait here until flowsteerd says the rules are gone. */
        fs_dp_hold_current(app.dp, w->index, f->id);
    }
    if (crash_host && f->host && !strcmp(f->host, crash_host)) {
        VLOG_WARN("test hook: crashing on host %s (worker %u)", crash_host,
                  w->index);
        raise(SIGSEGV);
    }
    if (type == FS_EVENT_VERDICT || type == FS_EVENT_VERDICT_CHANGED) {
        len = fs_inspector_export_flow(w->insp, f->id, &f->key, rec,
                                       sizeof rec);
        if (len < 0) {
            len = 0;
        }
    }
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_EVENT, 0, 0);
    fs_chan_put_u8(&b, type);
    fs_chan_put_flow(&b, f);
    fs_chan_put_bytes(&b, rec, len);
    fs_chan_finish(&b);
    if (in_worker_thread) {
        struct out_msg *m = xmalloc(sizeof *m + b.len);

        m->len = b.len;
        memcpy(m->data, b.data, b.len);
        ovs_list_push_back(&w->events, &m->node);
    } else {
        send_msg(&b);
    }
}

static bool
rules_gone(void *aux OVS_UNUSED, uint64_t id)
{
    size_t n = app.n_gone < GONE_MAX ? app.n_gone : GONE_MAX;

    for (size_t i = 0; i < n; i++) {
        if (app.gone[i] == id) {
            return true;
        }
    }
    return false;
}

static void
inspector_log(void *aux OVS_UNUSED, enum fs_log_level level, const char *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(60, 60);
    enum vlog_level l = (level == FS_LOG_ERR ? VLL_ERR
                         : level == FS_LOG_WARN ? VLL_WARN
                         : level == FS_LOG_INFO ? VLL_INFO : VLL_DBG);

    vlog_rate_limit(&this_module, l, &rl, "inspector: %s", msg);
}

/* ---------------------------------------------------------------------- */
/* Receiving. */

static void
str_copy(char *dst, size_t size, const char *s, size_t n)
{
    n = n < size - 1 ? n : size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

#if FS_SANDBOX_SANITIZERS
/* LeakSanitizer (sanitizer builds): OVS's vlog hands openlog() a copy of
 * the program's name, which only the C library then points to; DPDK's EAL
 * calls openlog() again with its own, and the copy looks leaked (it is, by
 * its 21 bytes, once).  The suppression needs the allocation's whole
 * stack: libopenvswitch has no frame pointers, so mallocs are unwound the
 * slow way here. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);
const char *__asan_default_options(void);
const char *
__lsan_default_suppressions(void)
{
    return "leak:syslog_libc_open\n";
}

const char *
__lsan_default_options(void)
{
    return "print_suppressions=0";
}

const char *
__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

/* The last CPU this process may run on, as a core list ("1"): Open
 * vSwitch's PMD threads take the first ones by default. */
static void
last_cpu(char *buf, size_t size)
{
    cpu_set_t set;
    int cpu, last = 0;

    if (!sched_getaffinity(0, sizeof set, &set)) {
        for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (CPU_ISSET(cpu, &set)) {
                last = cpu;
            }
        }
    }
    snprintf(buf, size, "%d", last);
}

/* Sets the data path up for the dpdk backend: a virtio_user device that
 * serves the vhost-user socket (a stale one, left by the appliance before,
 * is removed first), and an EAL with no PCI, no telemetry and no shared
 * files, whose runtime directory is the socket's (the EAL makes one in
 * $XDG_RUNTIME_DIR when not root). */
static void
dpdk_setup(void)
{
    static char lcores[16];
    char *devargs, *eal_args, *dir;

    if (!vhost_socket) {
        VLOG_ERR("the dpdk backend needs --vhost-socket");
        exit(EXIT_PORT);
    }
    if (unlink(vhost_socket) && errno != ENOENT) {
        VLOG_WARN("%s: cannot remove the old socket: %s", vhost_socket,
                  ovs_strerror(errno));
    }
    dir = dir_name(vhost_socket);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    free(dir);
    if (!dpdk_lcores) {
        last_cpu(lcores, sizeof lcores);
    }
    devargs = xasprintf("net_virtio_user0,path=%s,server=1,queue_size=%d",
                        vhost_socket, 1024);
    eal_args = xasprintf("--in-memory --single-file-segments --no-pci "
                         "--no-telemetry --file-prefix=flowsteer-inspectord"
                         "%s%s", dpdk_extra ? " " : "",
                         dpdk_extra ? dpdk_extra : "");
    fs_dp_set_dpdk(app.dp, devargs, dpdk_lcores ? dpdk_lcores : lcores,
                   dpdk_mem_mb, eal_args);
    VLOG_INFO("dpdk: %s, lcores %s, %u MB, EAL %s", devargs,
              dpdk_lcores ? dpdk_lcores : lcores, dpdk_mem_mb, eal_args);
    free(devargs);
    free(eal_args);
}

/* A cap over all workers, as each worker's share: an even share, so that
 * the cap holds in all, but at least 1 (and 0, no cap, stays 0). */
static uint32_t
worker_share(uint32_t cap)
{
    return cap ? MAX(cap / app.n_workers, 1) : 0;
}

/* An imported flow kept its id, 'id': no worker may give it again. */
static void
reserve_ids_above(uint64_t id)
{
    for (unsigned int i = 0; i < app.n_workers; i++) {
        fs_inspector_reserve_flow_ids(app.workers[i].insp, id + 1);
    }
}

static void
handle_config(const struct fs_chan_msg *m)
{
    char ifname[16], backend[32];
    int e;

    str_copy(ifname, sizeof ifname, m->ifname, m->ifname_len);
    str_copy(backend, sizeof backend, m->backend, m->backend_len);
    if (strcmp(backend[0] ? backend : "afpacket", port_backend)
        || (app.port_open && strcmp(ifname, app.ifname))) {
        VLOG_INFO("another inspector port configured (%s, %s): exiting, to "
                  "be started again", ifname, backend);
        exit(EXIT_RECONFIGURE);
    }
    for (unsigned int i = 0; i < app.n_workers; i++) {
        struct fs_inspector *insp = app.workers[i].insp;

        for (e = 0; e < m->n_exceptions; e++) {
            fs_inspector_set_exception(insp, e, m->exceptions[e]);
        }
        /* A port's flows spread over the workers: each holds its even
         * share of the cap, so that the cap holds in all. */
        fs_inspector_set_port_limit(insp, worker_share(m->max_flows_per_port),
                                    (m->port_full_policy
                                     ? FS_PORT_FULL_EVICT_IDLE
                                     : FS_PORT_FULL_DROP));
        fs_inspector_set_idle_timeouts(insp, m->idle_ms[0], m->idle_ms[1],
                                       m->idle_ms[2]);
        if (m->min_flow_id) {
            fs_inspector_reserve_flow_ids(insp, m->min_flow_id);
        }
    }
    app.mode = m->mode == FS_MODE_TAP ? FS_MODE_TAP : FS_MODE_INLINE;
    if (!app.port_open && ifname[0]) {
        /* Open vSwitch may name the port before its device exists: if it
         * does not open now, fs_dp_run() tries again (quietly at first),
         * and flowsteerd waits for STATS to say it is open. */
        ovs_strlcpy(app.ifname, ifname, sizeof app.ifname);
        ovs_strlcpy(app.backend, port_backend, sizeof app.backend);
        fs_dp_set_backend(app.dp, port_backend);
        if (!strcmp(port_backend, "dpdk")) {
            dpdk_setup();
        }
        fs_dp_set(app.dp, app.ifname, app.mode);
        app.port_open = true;
    } else {
        fs_dp_set(app.dp, app.ifname[0] ? app.ifname : NULL, app.mode);
    }
    app.configured = true;
    app.ready = m->ready;
}

static void
handle_ports(const struct fs_chan_msg *m)
{
    for (size_t i = 0; i < m->n_ports; i++) {
        const struct fs_chan_port *p = &m->ports[i];
        char name[16], profile[FS_CHAN_STR_MAX + 1];

        str_copy(name, sizeof name, p->name, p->name_len);
        str_copy(profile, sizeof profile, p->profile, p->profile_len);
        for (unsigned int w = 0; w < app.n_workers; w++) {
            fs_inspector_set_port(app.workers[w].insp, p->ofport, name,
                                  profile[0] ? profile : NULL, NULL);
            fs_inspector_set_port_mac(app.workers[w].insp, p->ofport,
                                      p->has_mac ? p->mac : NULL, NULL);
        }
    }
}

static void
handle_policy(const struct fs_chan_msg *m)
{
    char err[512];
    unsigned int changed = 0;
    int error;

    if (!m->offset) {
        ds_clear(&app.policy);
        str_copy(app.policy_name, sizeof app.policy_name, m->str,
                 m->str_len);
        app.policy_total = m->total;
        app.policy_kind = m->u32;
        app.policy_open = true;
    } else if (!app.policy_open || m->offset != app.policy.length
               || m->total != app.policy_total) {
        app.policy_open = false;
        send_result(m->xid, -EPROTO, 0, 0, "policy part out of order");
        return;
    }
    ds_put_buffer(&app.policy, (const char *) m->data, m->data_len);
    if (m->flags & FS_CHAN_F_MORE) {
        return;
    }
    app.policy_open = false;
    err[0] = '\0';
    error = 0;
    /* Each worker compiles it: the first error is the answer (they all
     * see the same text, so a policy that one refuses, all refuse). */
    for (unsigned int i = 0; i < app.n_workers; i++) {
        struct fs_inspector *insp = app.workers[i].insp;
        unsigned int n = 0;
        int e;

        if (app.policy_kind == FS_CHAN_POLICY_NEW_FLOWS) {
            e = fs_inspector_set_policy_for_new_flows(
                insp, app.policy_name, ds_cstr(&app.policy),
                error ? NULL : err, sizeof err);
        } else {
            e = fs_inspector_set_policy(
                insp, app.policy_name,
                app.policy_total ? ds_cstr(&app.policy) : NULL, &n,
                error ? NULL : err, sizeof err);
        }
        changed += n;
        error = error ? error : e;
    }
    send_result(m->xid, error, changed, 0, err);
}

/* An answer in parts (FLOWS, RECORDS): each part counts its items in a
 * u16; the last goes without FS_CHAN_F_MORE. */
struct chan_parts {
    uint8_t buf[FS_CHAN_MAX_MSG];
    struct fs_chan_buf b;
    enum fs_chan_type type;
    uint32_t xid;
    uint64_t mark;              /* RECORDS: before the count. */
    unsigned int n;             /* Items in 'b'. */
    size_t count_at;            /* Offset of its u16 count. */
};

static void
parts_start(struct chan_parts *p)
{
    fs_chan_start(&p->b, p->buf, sizeof p->buf, p->type, FS_CHAN_F_MORE,
                  p->xid);
    if (p->type == FS_CHAN_RECORDS) {
        fs_chan_put_u64(&p->b, p->mark);
    }
    p->count_at = p->b.len;
    fs_chan_put_u16(&p->b, 0);
    p->n = 0;
}

static void
parts_send(struct chan_parts *p, bool last)
{
    p->buf[p->count_at] = p->n >> 8;
    p->buf[p->count_at + 1] = p->n;
    if (last) {
        p->buf[2] = p->buf[3] = 0;
    }
    fs_chan_finish(&p->b);
    send_msg(&p->b);
}

/* A QUERY_FLOWS answer: the 'limit' flows with the least ids above
 * 'after', found in two walks (their ids, sorted; then those flows), sent
 * in FLOWS parts. */
struct flows_page {
    struct chan_parts parts;
    uint64_t after;             /* Only flows with greater ids. */
    uint64_t *ids;              /* Those ids, then the first 'n_ids'. */
    size_t n_ids, allocated;
};

static int
page_id(void *p_, const struct fs_flow_info *f)
{
    struct flows_page *p = p_;

    if (f->id > p->after) {
        if (p->n_ids >= p->allocated) {
            p->ids = x2nrealloc(p->ids, &p->allocated, sizeof *p->ids);
        }
        p->ids[p->n_ids++] = f->id;
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
page_flow(void *p_, const struct fs_flow_info *f)
{
    struct flows_page *p = p_;

    if (f->id <= p->after || !p->n_ids
        || !bsearch(&f->id, p->ids, p->n_ids, sizeof *p->ids, compare_ids)) {
        return 0;
    }
    if (p->parts.n == FS_CHAN_FLOWS_PER_MSG
        || p->parts.b.len + fs_chan_flow_size(f) > p->parts.b.size) {
        parts_send(&p->parts, false);
        parts_start(&p->parts);
    }
    fs_chan_put_flow(&p->parts.b, f);
    p->parts.n++;
    return 0;
}

static void
handle_query_flows(const struct fs_chan_msg *m)
{
    static struct flows_page page;

    uint32_t limit = m->u32 ? m->u32 : UINT32_MAX;

    page.parts.type = FS_CHAN_FLOWS;
    page.parts.xid = m->xid;
    page.after = m->u64;
    page.n_ids = 0;
    for (unsigned int i = 0; i < app.n_workers; i++) {
        fs_inspector_foreach_flow(app.workers[i].insp, page_id, &page);
    }
    if (page.n_ids) {
        qsort(page.ids, page.n_ids, sizeof *page.ids, compare_ids);
    }
    page.n_ids = MIN(page.n_ids, limit);
    parts_start(&page.parts);
    for (unsigned int i = 0; i < app.n_workers; i++) {
        fs_inspector_foreach_flow(app.workers[i].insp, page_flow, &page);
    }
    parts_send(&page.parts, true);
}

/* EXPORT's records, into RECORDS parts. */
static int
records_add(void *p_, const void *rec, size_t len)
{
    struct chan_parts *p = p_;

    if (p->n == FS_CHAN_RECORDS_PER_MSG || p->b.len + len > p->b.size) {
        parts_send(p, false);
        parts_start(p);
    }
    fs_chan_put_bytes(&p->b, rec, len);
    p->n++;
    return 0;
}

static void
handle_export(const struct fs_chan_msg *m)
{
    static struct chan_parts part;
    int error = 0;

    /* Only this marks the workers' inspectors, all at once, so their
     * marks stay the same. */
    part.type = FS_CHAN_RECORDS;
    part.xid = m->xid;
    for (unsigned int i = 0; i < app.n_workers; i++) {
        part.mark = fs_inspector_mark(app.workers[i].insp);
    }
    parts_start(&part);
    for (unsigned int i = 0; !error && i < app.n_workers; i++) {
        error = fs_inspector_export(app.workers[i].insp, m->port, m->u64,
                                    m->u32, records_add, &part);
    }
    parts_send(&part, true);
    if (error) {
        send_error(m->xid, -error, "export failed");
    }
}

/* IMPORT_FLOWS: flowsteerd's decided flows, each to its worker, keeping
 * its id and verdict (as IMPORT). */
static void
handle_import_flows(const struct fs_chan_msg *m)
{
    uint64_t n_refused = 0, first_refused = 0;
    int first_error = 0;
    size_t off, len;

    importing = true;
    /* fs_chan_decode() checked that the records' lengths frame them. */
    for (off = 0; off < m->data_len; off += len) {
        const uint8_t *rec = m->data + off;
        uint64_t id = 0;
        uint32_t hash;
        int error;

        len = (size_t) rec[4] << 8 | rec[5];
        /* A malformed record goes to worker 0, which refuses and counts
         * it. */
        fs_flow_record_hash(rec, len, &hash);
        error = fs_inspector_import_flow(
            app.workers[fs_dp_worker_of_hash(app.dp, hash)].insp, rec, len,
            0, &id);
        if (!error) {
            reserve_ids_above(id);
        } else if (error != -EEXIST && !n_refused++) {
            first_refused = id;
            first_error = error;
        }
    }
    importing = false;
    if (n_refused) {
        send_result(m->xid, first_error, n_refused, first_refused,
                    "records refused");
    }
}

/* IMPORT_BATCH: each record goes to the worker its flow hashes to.  All
 * are checked first, so that a bad one changes nothing; a worker whose
 * table cannot hold its share refuses it (-ENOSPC) while the others may
 * have taken theirs. */
static void
handle_import_batch(const struct fs_chan_msg *m)
{
    FS_IMPORT_OPTS(o, .flags = m->u32);
    struct fs_import_result sum, res;
    uint8_t *sub[FS_DP_MAX_WORKERS] = { NULL };
    size_t sub_len[FS_DP_MAX_WORKERS] = { 0 };
    uint32_t (*map)[2] = NULL;
    size_t off, len;
    char text[256];
    int error = 0;

    memset(&sum, 0, sizeof sum);
    if (m->n_port_map) {
        map = xmalloc(m->n_port_map * sizeof *map);
        for (size_t i = 0; i < m->n_port_map; i++) {
            const uint8_t *q = m->port_map + 8 * i;

            map[i][0] = (uint32_t) q[0] << 24 | q[1] << 16 | q[2] << 8 | q[3];
            map[i][1] = (uint32_t) q[4] << 24 | q[5] << 16 | q[6] << 8 | q[7];
        }
        o.port_map = (const uint32_t (*)[2]) map;
        o.n_port_map = m->n_port_map;
    }
    /* fs_chan_decode() checked that the records' lengths frame them. */
    for (off = 0; !error && off < m->data_len; off += len) {
        const uint8_t *rec = m->data + off;
        unsigned int w;
        uint32_t hash;

        len = (size_t) rec[4] << 8 | rec[5];
        if (fs_flow_record_hash(rec, len, &hash)) {
            /* Refused and counted by an inspector, for the figures. */
            error = fs_inspector_import(app.workers[0].insp, rec, len, &o,
                                        NULL);
            error = error ? error : -EINVAL;
            break;
        }
        w = fs_dp_worker_of_hash(app.dp, hash);
        if (!sub[w]) {
            sub[w] = xmalloc(m->data_len);
        }
        memcpy(sub[w] + sub_len[w], rec, len);
        sub_len[w] += len;
    }
    for (unsigned int i = 0; i < app.n_workers; i++) {
        if (!error && sub[i]) {
            error = fs_inspector_import(app.workers[i].insp, sub[i],
                                        sub_len[i], &o, &res);
            if (!error) {
                sum.imported += res.imported;
                sum.updated += res.updated;
                sum.conflicts += res.conflicts;
                sum.rejudged += res.rejudged;
                sum.given_up += res.given_up;
            }
        }
        free(sub[i]);
    }
    free(map);
    snprintf(text, sizeof text, "%"PRIu32" imported, %"PRIu32" updated, "
             "%"PRIu32" conflicts, %"PRIu32" judged again, %"PRIu32" given "
             "up", sum.imported, sum.updated, sum.conflicts, sum.rejudged,
             sum.given_up);
    send_result(m->xid, error, sum.imported + sum.updated, sum.conflicts,
                error ? "batch refused" : text);
}

static void
handle_msg(const uint8_t *buf, size_t len)
{
    static struct fs_chan_msg m;
    char err[256];
    uint64_t id;
    int error;

    error = fs_chan_decode(buf, len, &m, err, sizeof err);
    if (error) {
        VLOG_ERR("channel: %s", err);
        send_error(0, error, err);
        flush_out();
        exit(EXIT_PROTOCOL);
    }
    switch (m.type) {
    case FS_CHAN_HELLO:
        if (m.min_version > FS_CHAN_VERSION) {
            VLOG_ERR("flowsteerd speaks versions %u to %u, not %d",
                     m.min_version, m.max_version, FS_CHAN_VERSION);
            exit(EXIT_PROTOCOL);
        }
        break;
    case FS_CHAN_ERROR:
        VLOG_WARN("flowsteerd: %.*s", (int) m.str_len, m.str);
        break;
    case FS_CHAN_ECHO_REQUEST: {
        static uint8_t out[FS_CHAN_HDR_LEN + 8];
        struct fs_chan_buf b;

        send_stats();
        fs_chan_start(&b, out, sizeof out, FS_CHAN_ECHO_REPLY, 0, m.xid);
        fs_chan_put_u64(&b, m.u64);
        fs_chan_finish(&b);
        send_msg(&b);
        break;
    }
    case FS_CHAN_CONFIG:
        handle_config(&m);
        break;
    case FS_CHAN_PORTS:
        handle_ports(&m);
        break;
    case FS_CHAN_POLICY:
        handle_policy(&m);
        break;
    case FS_CHAN_PIN:
        /* By id and key: only the flow's own worker has it. */
        for (unsigned int i = 0; i < app.n_workers; i++) {
            fs_inspector_pin_flow(app.workers[i].insp, m.u64, &m.key, m.u32);
        }
        break;
    case FS_CHAN_REMOVE:
        for (unsigned int i = 0; i < app.n_workers; i++) {
            fs_inspector_remove_flow(app.workers[i].insp, m.u64, &m.key);
        }
        break;
    case FS_CHAN_IMPORT: {
        uint32_t hash;

        id = 0;
        importing = true;
        /* A malformed record goes to worker 0, which refuses and counts
         * it. */
        fs_flow_record_hash(m.data, m.data_len, &hash);
        error = fs_inspector_import_flow(
            app.workers[fs_dp_worker_of_hash(app.dp, hash)].insp, m.data,
            m.data_len, m.u32, &id);
        importing = false;
        if (!error) {
            reserve_ids_above(id);
        } else if (error != -EEXIST) {
            send_result(m.xid, error, id, 0, "record refused");
        }
        break;
    }
    case FS_CHAN_IMPORT_VERDICT:
        importing = true;
        error = fs_inspector_import_verdict(
            app.workers[fs_dp_worker_of_key(app.dp, &m.key)].insp, m.u64,
            &m.key, m.u32, &m.verdict);
        importing = false;
        if (!error) {
            reserve_ids_above(m.u64);
        }
        send_result(m.xid, error, 0, 0, "");
        break;
    case FS_CHAN_GONE:
        app.gone[app.n_gone++ % GONE_MAX] = m.u64;
        break;
    case FS_CHAN_FLUSH:
        id = 0;
        for (unsigned int i = 0; i < app.n_workers; i++) {
            id += fs_inspector_flush(app.workers[i].insp);
        }
        send_result(m.xid, 0, id, 0, "");
        break;
    case FS_CHAN_QUERY_FLOWS:
        handle_query_flows(&m);
        break;
    case FS_CHAN_EXPORT:
        handle_export(&m);
        break;
    case FS_CHAN_IMPORT_BATCH:
        handle_import_batch(&m);
        break;
    case FS_CHAN_IMPORT_FLOWS:
        handle_import_flows(&m);
        break;
    case FS_CHAN_HOLD_PORT:
        error = fs_dp_hold_port(app.dp, m.port, m.u32);
        if (error) {
            VLOG_WARN("port %"PRIu32": cannot hold its packets for a "
                      "migration: %s (its packets are judged at once)",
                      m.port, ovs_strerror(error));
        }
        break;
    case FS_CHAN_RELEASE_PORT:
        fs_dp_release_port(app.dp, m.port);
        break;
    case FS_CHAN_RELEASE:
        error = fs_inspector_release_flow(
            app.workers[fs_dp_worker_of_key(app.dp, &m.key)].insp, m.u64,
            &m.key);
        send_result(m.xid, error, 0, 0, "");
        break;
    default:
        send_error(m.xid, EOPNOTSUPP, "not a message for the appliance");
        break;
    }
}

/* Reads what the channel holds.  Exits when flowsteerd has gone. */
static void
channel_run(void)
{
    static uint8_t buf[FS_CHAN_MAX_MSG + 1];

    for (int i = 0; i < 256; i++) {
        ssize_t n = recv(app.fd, buf, sizeof buf, MSG_DONTWAIT);

        if (n > 0) {
            handle_msg(buf, n);
        } else if (n == 0 || errno == ECONNRESET) {
            /* ECONNRESET: it closed its end with messages of ours unread,
             * as when it stops us. */
            VLOG_INFO("flowsteerd closed the channel: exiting");
            exit(0);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            VLOG_ERR("channel: %s", ovs_strerror(errno));
            exit(EXIT_CHANNEL);
        }
    }
    flush_out();
}

/* ---------------------------------------------------------------------- */

static void
sandbox_log(void *aux OVS_UNUSED, enum fs_port_log_level level,
            const char *msg)
{
    enum vlog_level l = (level == FS_PORT_LOG_ERR ? VLL_ERR
                         : level == FS_PORT_LOG_WARN ? VLL_WARN : VLL_INFO);

    vlog(&this_module, l, "sandbox: %s", msg);
}

/* Becomes the sandbox's user, keeping CAP_NET_RAW for the port. */
static void
sandbox_start(void)
{
    struct fs_sandbox_options so = FS_SANDBOX_OPTIONS_INIT;
    int error;

    if (no_sandbox) {
        VLOG_WARN("--no-sandbox: running with flowsteerd's privileges");
        return;
    }
    /* OVS's poll loop measures its own CPU time (timeval.c). */
    static const char *const base_extra[] = { "getrusage", NULL };
    static const char *const dpdk_extra_syscalls[] = {
        "getrusage", "epoll_ctl", "epoll_create", "epoll_create1",
        "timerfd_settime",      /* virtio_user's disconnect alarm. */
        NULL,
    };
    const char *const *extra = base_extra;

    so.user = sandbox_user;
    /* Until the port is open: a packet socket, and for AF_XDP, loading
     * and attaching its XDP program too. */
    so.keep_caps = FS_SANDBOX_CAP(CAP_NET_RAW);
    if (!strcmp(port_backend, "afxdp")) {
        so.keep_caps |= (FS_SANDBOX_CAP(CAP_NET_ADMIN)
                         | FS_SANDBOX_CAP(CAP_SYS_ADMIN));
    } else if (!strcmp(port_backend, "dpdk")) {
        /* Hugepages through memfd and a socket in a directory of its
         * own need no privilege.  DPDK's interrupt thread changes its
         * epoll set and sets an alarm when the vhost-user peer goes
         * (fs-sandbox.h). */
        so.keep_caps = 0;
        extra = dpdk_extra_syscalls;
    }
    so.extra_syscalls = extra;
    so.log = sandbox_log;
    error = fs_sandbox_create(&so, &sandbox);
    if (!error) {
        error = fs_sandbox_drop_privileges(sandbox);
    }
    if (error) {
        VLOG_ERR("cannot set up the sandbox: %s", ovs_strerror(error));
        exit(EXIT_SANDBOX);
    }
    /* Changing credentials cleared it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) {
        exit(EXIT_CHANNEL);
    }
}

/* The port is open: nothing more to open, ever. */
static void
sandbox_lock(void)
{
    int error;

    locked = true;
    if (no_sandbox) {
        return;
    }
    error = fs_sandbox_lock(sandbox);
    if (error) {
        VLOG_ERR("cannot lock the sandbox: %s", ovs_strerror(error));
        exit(EXIT_SANDBOX);
    }
    VLOG_INFO("sandbox locked: user %s, no capabilities, seccomp filter on",
              fs_sandbox_user(sandbox));
    if (probe && !strcmp(probe, "busy")) {
        VLOG_WARN("test hook: busy in the sandbox");
        return;                 /* main() spins. */
    } else if (probe) {
        int r = -1;

        VLOG_WARN("test hook: trying %s in the sandbox", probe);
        if (!strcmp(probe, "open")) {
            r = open("/etc/passwd", O_RDONLY);
        } else if (!strcmp(probe, "socket")) {
            r = socket(AF_INET, SOCK_DGRAM, 0);
        } else if (!strcmp(probe, "exec")) {
            char *argv[] = { "/bin/true", NULL };
            r = execv(argv[0], argv);
        }
        /* Not reached in a normal build: the filter kills.  A sanitizer
         * build refuses open and exec with EPERM (fs-sandbox.h). */
        if (r < 0) {
            VLOG_WARN("test hook: %s refused: %s", probe,
                      ovs_strerror(errno));
        } else {
            VLOG_ERR("test hook: %s was allowed", probe);
        }
        exit(EXIT_SANDBOX);
    }
}

/* Until the port opens: tries every 100 ms, then locks. */
static void
open_port_run(void)
{
    if (locked || !app.ready || time_msec() < next_open) {
        return;
    }
    if (!fs_dp_open_now(app.dp) && fs_dp_link_up(app.dp)) {
        sandbox_lock();
    } else {
        /* Not open, or (a vhost-user port) open but not yet connected. */
        next_open = time_msec() + (fs_dp_open_now(app.dp) ? 100 : 10);
    }
}

static void
usage(void)
{
    printf("%s: flowsteer's inspector appliance, started by flowsteerd\n"
           "usage: %s --channel-fd=N [OPTIONS]\n"
           "  --channel-fd=N          the SOCK_SEQPACKET socket to "
           "flowsteerd\n"
           "  --max-flows=N           the inspector's flow table (default "
           "65536)\n"
           "  --backend=NAME          the port backend: afpacket (default), "
           "afxdp\n"
           "                          or dpdk\n"
           "  --vhost-socket=PATH     dpdk: the vhost-user socket to serve\n"
           "  --dpdk-lcores=LIST      dpdk: the EAL's cores (default: the "
           "last CPU)\n"
           "  --dpdk-mem=MB           dpdk: the EAL's memory (default 128)\n"
           "  --dpdk-extra=ARGS       dpdk: further EAL arguments\n"
           "  --workers=N             inspector threads, flows spread over "
           "them by\n"
           "                          address (default 1, at most 16)\n"
           "  --user=USER             run as USER (default: flowsteer if it "
           "exists,\n"
           "                          else nobody)\n"
           "  --no-sandbox            keep flowsteerd's privileges and run "
           "without\n"
           "                          a seccomp filter (debugging only)\n",
           program_name, program_name);
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_CHANNEL_FD = UCHAR_MAX + 1,
        OPT_MAX_FLOWS,
        OPT_USER,
        OPT_NO_SANDBOX,
        OPT_BACKEND,
        OPT_VHOST_SOCKET,
        OPT_DPDK_LCORES,
        OPT_DPDK_MEM,
        OPT_DPDK_EXTRA,
        OPT_WORKERS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        { "channel-fd", required_argument, NULL, OPT_CHANNEL_FD },
        { "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
        { "user", required_argument, NULL, OPT_USER },
        { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
        { "backend", required_argument, NULL, OPT_BACKEND },
        { "vhost-socket", required_argument, NULL, OPT_VHOST_SOCKET },
        { "dpdk-lcores", required_argument, NULL, OPT_DPDK_LCORES },
        { "dpdk-mem", required_argument, NULL, OPT_DPDK_MEM },
        { "dpdk-extra", required_argument, NULL, OPT_DPDK_EXTRA },
        { "workers", required_argument, NULL, OPT_WORKERS },
        { "help", no_argument, NULL, 'h' },
        VLOG_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CHANNEL_FD:
            if (!str_to_int(optarg, 10, &channel_fd) || channel_fd < 0) {
                ovs_fatal(0, "--channel-fd=%s: not a file descriptor",
                          optarg);
            }
            break;
        case OPT_MAX_FLOWS:
            if (!str_to_uint(optarg, 10, &max_flows) || max_flows < 16
                || max_flows > (1u << 24)) {
                ovs_fatal(0, "--max-flows=%s: want 16 to %u", optarg,
                          1u << 24);
            }
            break;
        case OPT_USER:
            sandbox_user = optarg;
            break;
        case OPT_NO_SANDBOX:
            no_sandbox = true;
            break;
        case OPT_BACKEND:
            if (!fs_port_backend_known(optarg)) {
                ovs_fatal(0, "--backend=%s: not a port backend of this "
                          "build", optarg);
            }
            port_backend = optarg;
            break;
        case OPT_VHOST_SOCKET:
            if (strlen(optarg)
                >= sizeof ((struct sockaddr_un *) 0)->sun_path) {
                ovs_fatal(0, "--vhost-socket=%s: longer than a socket name "
                          "may be", optarg);
            }
            vhost_socket = optarg;
            break;
        case OPT_DPDK_LCORES:
            dpdk_lcores = optarg;
            break;
        case OPT_DPDK_MEM:
            if (!str_to_uint(optarg, 10, &dpdk_mem_mb)
                || dpdk_mem_mb < FS_DPDK_MEM_MIN
                || dpdk_mem_mb > FS_DPDK_MEM_MAX) {
                ovs_fatal(0, "--dpdk-mem=%s: want MB from %d to %d", optarg,
                          FS_DPDK_MEM_MIN, FS_DPDK_MEM_MAX);
            }
            break;
        case OPT_DPDK_EXTRA:
            dpdk_extra = optarg;
            break;
        case OPT_WORKERS:
            if (!str_to_uint(optarg, 10, &n_workers) || !n_workers
                || n_workers > FS_DP_MAX_WORKERS) {
                ovs_fatal(0, "--workers=%s: want 1 to %d", optarg,
                          FS_DP_MAX_WORKERS);
            }
            break;
        case 'h':
            usage();
            OVS_NOT_REACHED();
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);
    if (optind != argc) {
        ovs_fatal(0, "no arguments (use --help for help)");
    }
    if (channel_fd < 0) {
        ovs_fatal(0, "--channel-fd is required: flowsteerd starts this "
                  "program");
    }
}

/* First thing in each worker thread (fs-dp.h). */
static void
worker_init(unsigned int worker)
{
    in_worker_thread = true;
    if (!no_sandbox) {
        int error = fs_sandbox_drop_thread_caps();

        if (error) {
            VLOG_ERR("worker %u: cannot drop its capabilities: %s", worker,
                     ovs_strerror(error));
            exit(EXIT_SANDBOX);
        }
    }
}

int
main(int argc, char *argv[])
{
    int type;
    socklen_t len = sizeof type;

    set_program_name(argv[0]);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();
    /* Never outlive flowsteerd. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) {
        exit(EXIT_CHANNEL);
    }
    if (getsockopt(channel_fd, SOL_SOCKET, SO_TYPE, &type, &len)
        || type != SOCK_SEQPACKET) {
        ovs_fatal(0, "--channel-fd=%d: not a SOCK_SEQPACKET socket",
                  channel_fd);
    }

    memset(&app, 0, sizeof app);
    app.fd = channel_fd;
    ovs_list_init(&app.out);
    ds_init(&app.policy);
    /* One inspector per worker, each with its share of the flow table and
     * ids of its own (they name OpenFlow rules), all even: flowsteerd's
     * own, for the flows a migration brings, are odd. */
    app.n_workers = n_workers;
    for (unsigned int i = 0; i < n_workers; i++) {
        struct worker *w = &app.workers[i];
        FS_INSPECTOR_OPTS(opts, .max_flows = MAX(max_flows / n_workers, 16),
                          .log_cb = inspector_log, .ignore_vlan = 1,
                          .event_cb = on_event, .event_aux = w,
                          .flow_id_stride = 2 * n_workers,
                          .flow_id_offset = 2 * i);
        int error = fs_inspector_create(&opts, &w->insp);

        if (error) {
            ovs_fatal(-error, "cannot create the inspector");
        }
        w->index = i;
        ovs_list_init(&w->events);
    }
    crash_host = getenv("FLOWSTEER_TEST_CRASH_HOST");
    probe = getenv("FLOWSTEER_TEST_SANDBOX_PROBE");
    /* What OVS's library sets up on first use, it must set up now, while
     * it may: the poll loop's signal pipe. */
    fatal_signal_init();
    /* At high CPU usage OVS's poll loop logs what woke it up
     * (poll-loop.c's log_wakeup()), describing the descriptor with
     * getsockname() or a readlink() of /proc/self/fd/N: the sandbox kills
     * either, and an appliance under load is that busy (found by
     * make bench-dpdk: killed with SIGSYS, getsockname, classifying a new
     * flow per packet).  Those messages stay off here. */
    vlog_set_levels(vlog_module_from_name("poll_loop"), VLF_ANY_DESTINATION,
                    VLL_WARN);
    sandbox_start();
    /* The worker threads start after the privileges went, so that they
     * cannot hold what the main thread gave up (capabilities are per
     * thread; worker_init() drops what is left). */
    {
        struct fs_inspector *insps[FS_DP_MAX_WORKERS];

        for (unsigned int i = 0; i < n_workers; i++) {
            insps[i] = app.workers[i].insp;
        }
        app.dp = fs_dp_create(insps, n_workers, worker_init, rules_gone,
                              NULL);
    }
    fs_dp_set_reopen(app.dp, false);
    send_hello();

    for (;;) {
        channel_run();
        open_port_run();
        if (app.ready && locked) {
            fs_dp_run(app.dp);
            send_worker_events();
            if (fs_dp_failed(app.dp)) {
                VLOG_WARN("%s: the inspector port failed (%s): exiting, to "
                          "be started again", app.ifname,
                          ovs_strerror(fs_dp_failed(app.dp)));
                flush_out();
                exit(EXIT_PORT);
            }
        }
        flush_out();
        if (probe && locked && !strcmp(probe, "busy")) {
            /* Test hook: 30 ms of CPU per turn, as under load. */
            long long int until = time_msec() + 30;

            while (time_msec() < until) {
                continue;
            }
        }

        poll_fd_wait(app.fd, POLLIN);
        if (!ovs_list_is_empty(&app.out)) {
            poll_fd_wait(app.fd, POLLOUT);
        }
        if (app.ready && locked) {
            fs_dp_wait(app.dp);
        } else if (app.ready) {
            poll_timer_wait_until(next_open);
        }
        poll_block();
    }
}
