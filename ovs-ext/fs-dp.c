/* flowsteerd's data path.  See fs-dp.h. */
#include <config.h>
#include "fs-dp.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowsteer/inspector.h"
#include "fs-chan.h"
#include "fs-port.h"
#include "fs-sandbox.h"
#include "fs-steer.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_dp);

#define RETRY_MS 1000
#define OPEN_QUIET_MS 5000

/* A poll-mode port (DPDK) has nothing to wait on: fs_dp_run() polls it on
 * every turn of the loop and, while it brings nothing, sleeps between
 * polls, 1 us after the first empty poll, doubling up to PMD_MAX_SLEEP_US.
 * The first packet after a quiet spell waits at most that long; an idle
 * appliance wakes some 10,000 times a second (a few percent of a core)
 * instead of spinning one. */
#define PMD_MAX_SLEEP_US 100

/* And it asks a poll-mode port's link (fs_port_check()) at most this
 * often. */
#define PMD_CHECK_MS 10

/* Held packets (see fs_dp_hold_current()). */
#define HOLD_MAX_PACKETS 512    /* In all; beyond, new ones are dropped. */
#define HOLD_MAX_BYTES 2048     /* Per packet; a longer one is dropped. */
#define HOLD_MSEC 1000          /* Then they are dropped: the sender will
                                 * send its SYN again. */

/* Ports held for a migration (fs_dp_hold_port()). */
#define PORT_HOLD_MAX_PORTS 64      /* Ports held at once. */
#define PORT_HOLD_MAX_PACKETS 4096  /* In all; beyond, new ones are dropped
                                     * (drop-newest). */
#define PORT_HOLD_MAX_BYTES (8u << 20)

/* A worker thread that found no burst for this many polls of its flag
 * (some tens of microseconds) sleeps until the next one. */
#define WORKER_SPINS 4096

/* What one packet of the burst came to (written by its worker). */
struct pkt_result {
    uint64_t flow_id;
    uint64_t hold_old_id;       /* fs_dp_hold_current() during it, or 0. */
    bool drop;
};

/* A worker: one inspector, the packets of this burst that are its own and,
 * for all but worker 0, a thread.  Aligned, so that no two workers' hot
 * members share a cache line. */
OVS_ALIGNED_STRUCT(CACHE_LINE_SIZE, fs_dp_worker) {
    struct fs_dp *dp;
    unsigned int index;
    struct fs_inspector *insp;

    /* This burst's packets: indexes into dp->burst. */
    unsigned int n;
    uint8_t idx[FS_PORT_BURST];
    unsigned int cur;           /* The one being judged. */

    /* Handing over (not for worker 0).  The caller raises 'posted' when
     * the worker's share of a burst is ready, the worker sets 'done' to it
     * when it has judged it; UINT64_MAX in 'posted' stops the thread. */
    pthread_t thread;
    bool started;
    uint64_t seq;               /* The caller's count of bursts posted. */
    _Atomic uint64_t posted;
    _Atomic uint64_t done;
    pthread_mutex_t mutex;      /* For 'sleeping' and 'cond'. */
    pthread_cond_t cond;
    bool sleeping;

    /* Figures, read by the caller between bursts. */
    uint64_t packets;
    uint64_t sleeps;
};

struct held_packet {
    struct ovs_list node;
    uint32_t len, caplen;
    uint8_t data[];
};

/* A flow whose packets wait for the rules of flow 'old_id' to be gone. */
struct held_flow {
    struct hmap_node node;      /* In 'holds', by 'flow_id'. */
    uint64_t flow_id;
    uint64_t old_id;
    long long int deadline;
    struct ovs_list packets;    /* struct held_packet, in arrival order. */
};

/* A port whose packets wait, before any is judged, for a migration's last
 * records (fs_dp_hold_port()). */
struct port_hold {
    uint32_t port;
    unsigned int max_ms;
    long long int deadline;     /* From the first packet held; LLONG_MAX
                                 * while none is. */
    bool released;              /* fs_dp_release_port(): judge them. */
    struct ovs_list packets;    /* struct held_packet, in arrival order. */
};

struct fs_dp {
    struct fs_dp_worker *workers;
    unsigned int n_workers;
    fs_dp_worker_init_cb *worker_init;

    /* The burst being judged, and what each of its packets came to. */
    struct fs_pkt_ref burst[FS_PORT_BURST];
    struct pkt_result res[FS_PORT_BURST];
    uint64_t now_ns;

    char *ifname;
    char *backend;              /* Or NULL: the default. */
    enum fs_mode mode;
    struct fs_port *port;
    int error;                  /* Last open error, 0 if none. */
    bool error_quiet;           /* It was logged at debug level only. */
    long long int next_retry;
    long long int first_try;    /* Of the port now set (ms). */
    bool opening_quietly;       /* In its first seconds: the device may
                                 * still be on its way. */
    uint64_t untagged;          /* Packets without our tag: dropped. */
    uint64_t dropped;           /* By verdict. */
    uint64_t forwarded;
    uint64_t unsent;            /* Passed, but the port's transmit ring was
                                 * full: lost. */
    uint64_t reopened;          /* Port closed by fs_port_check(). */
    int check_error;            /* Why, the last time. */
    bool no_reopen;             /* fs_dp_set_reopen(false). */
    int failed;                 /* The port failed, with 'no_reopen'. */
    struct fs_port *dead_port;  /* That port, left open for the exit. */

    /* dpdk: the device and the EAL (fs_dp_set_dpdk()). */
    char *dpdk_devargs, *dpdk_lcores, *dpdk_eal_args;
    unsigned int dpdk_mem_mb;

    /* Poll-mode ports. */
    enum {
        LINK_UP = 0,            /* (Always, for a kernel port.) */
        LINK_WAITING,           /* Not up yet: no failure, not ready. */
        LINK_LOST,              /* Down after it was up: a failure. */
    } link;
    unsigned int idle_us;       /* Sleep before the next poll. */
    long long int next_check;

    /* Holding. */
    fs_dp_gone_cb *gone;
    void *gone_aux;
    struct hmap holds;          /* struct held_flow. */
    size_t n_held;              /* Packets held now. */
    uint64_t held, released, hold_dropped, hold_expired;

    /* Ports held for a migration. */
    struct port_hold port_holds[PORT_HOLD_MAX_PORTS];
    size_t n_port_holds;
    size_t port_held_now, port_held_bytes;
    uint64_t port_held, port_judged, port_hold_full, port_hold_timeouts;
    uint64_t port_hold_refused;
};

static void fs_dp_judge(struct fs_dp *, unsigned int n, bool may_hold);

/* Judges worker 'w''s packets of the burst. */
static void
worker_judge(struct fs_dp *dp, struct fs_dp_worker *w)
{
    for (unsigned int j = 0; j < w->n; j++) {
        unsigned int i = w->idx[j];
        const struct fs_pkt_ref *p = &dp->burst[i];
        struct pkt_result *r = &dp->res[i];
        struct fs_pkt_result res;
        struct fs_packet pkt;
        uint16_t tci = p->data[14] << 8 | p->data[15];

        pkt.data = p->data;
        pkt.caplen = p->caplen;
        pkt.len = p->len;
        /* The inspector's clock is monotonic: the kernel's receive time
         * is the wall clock's, which may step. */
        pkt.ts_ns = dp->now_ns;
        pkt.port = fs_steer_tag_port(tci);
        pkt.link_type = FS_LINK_ETHERNET;
        w->cur = i;
        r->hold_old_id = 0;
        r->drop = (fs_inspector_process_ex(w->insp, &pkt, &res)
                   == FS_PKT_DROP);
        r->flow_id = res.flow_id;
    }
    w->packets += w->n;
}

/* Waits, in worker 'w''s thread, for a burst after 'seen'; returns its
 * number, or UINT64_MAX to stop.  Spins a little first: under load, the
 * next burst comes sooner than a wake-up would. */
static uint64_t
worker_wait(struct fs_dp_worker *w, uint64_t seen)
{
    uint64_t posted;

    for (int i = 0; i < WORKER_SPINS; i++) {
        posted = atomic_load_explicit(&w->posted, memory_order_acquire);
        if (posted != seen) {
            return posted;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    pthread_mutex_lock(&w->mutex);
    w->sleeping = true;
    for (;;) {
        posted = atomic_load_explicit(&w->posted, memory_order_acquire);
        if (posted != seen) {
            break;
        }
        pthread_cond_wait(&w->cond, &w->mutex);
    }
    w->sleeping = false;
    w->sleeps++;
    pthread_mutex_unlock(&w->mutex);
    return posted;
}

static void *
worker_main(void *w_)
{
    struct fs_dp_worker *w = w_;
    uint64_t seen = 0;

    if (w->dp->worker_init) {
        w->dp->worker_init(w->index);
    }
    for (;;) {
        uint64_t posted = worker_wait(w, seen);

        if (posted == UINT64_MAX) {
            return NULL;
        }
        worker_judge(w->dp, w);
        seen = posted;
        atomic_store_explicit(&w->done, posted, memory_order_release);
    }
}

/* Hands worker 'w' (not 0) its share of the burst. */
static void
worker_post(struct fs_dp_worker *w, uint64_t seq)
{
    pthread_mutex_lock(&w->mutex);
    atomic_store_explicit(&w->posted, seq, memory_order_release);
    if (w->sleeping) {
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->mutex);
}

/* Waits until worker 'w' (not 0) has judged its share. */
static void
worker_join(struct fs_dp_worker *w)
{
    for (unsigned int i = 0; ; i++) {
        if (atomic_load_explicit(&w->done, memory_order_acquire) == w->seq) {
            return;
        }
        if (i < WORKER_SPINS) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            /* Two cores, three threads: let the worker have this one. */
            sched_yield();
        }
    }
}

struct fs_dp *
fs_dp_create(struct fs_inspector **insps, unsigned int n_workers,
             fs_dp_worker_init_cb *init, fs_dp_gone_cb *gone, void *aux)
{
    struct fs_dp *dp = xzalloc(sizeof *dp);

    ovs_assert(n_workers >= 1 && n_workers <= FS_DP_MAX_WORKERS);
    dp->n_workers = n_workers;
    dp->worker_init = init;
    dp->workers = xzalloc_cacheline(n_workers * sizeof *dp->workers);
    for (unsigned int i = 0; i < n_workers; i++) {
        struct fs_dp_worker *w = &dp->workers[i];

        w->dp = dp;
        w->index = i;
        w->insp = insps[i];
        atomic_init(&w->posted, 0);
        atomic_init(&w->done, 0);
        pthread_mutex_init(&w->mutex, NULL);
        pthread_cond_init(&w->cond, NULL);
    }
    for (unsigned int i = 1; i < n_workers; i++) {
        struct fs_dp_worker *w = &dp->workers[i];
        /* Plain threads: they only ever call their inspector, and leave
         * the process's signals to the main thread. */
        int error = fs_sandbox_thread_create(&w->thread, worker_main, w);

        if (error) {
            ovs_abort(error, "cannot start worker %u", i);
        }
        w->started = true;
    }
    dp->gone = gone;
    dp->gone_aux = aux;
    hmap_init(&dp->holds);
    return dp;
}

unsigned int
fs_dp_n_workers(const struct fs_dp *dp)
{
    return dp->n_workers;
}

unsigned int
fs_dp_worker_of_hash(const struct fs_dp *dp, uint32_t hash)
{
    return hash % dp->n_workers;
}

unsigned int
fs_dp_worker_of_key(const struct fs_dp *dp, const struct fs_flow_key *key)
{
    return dp->n_workers > 1 ? fs_dp_worker_of_hash(dp, fs_flow_key_hash(key))
                             : 0;
}

/* Frees held flow 'h' and its packets, counting them in '*counter' unless
 * they were sent. */
static void
held_flow_free(struct fs_dp *dp, struct held_flow *h, uint64_t *counter)
{
    struct held_packet *hp;

    LIST_FOR_EACH_POP (hp, node, &h->packets) {
        if (counter) {
            (*counter)++;
        }
        dp->n_held--;
        free(hp);
    }
    hmap_remove(&dp->holds, &h->node);
    free(h);
}

void
fs_dp_destroy(struct fs_dp *dp)
{
    if (dp) {
        struct held_flow *h;

        HMAP_FOR_EACH_SAFE (h, node, &dp->holds) {
            held_flow_free(dp, h, NULL);
        }
        hmap_destroy(&dp->holds);
        for (size_t i = 0; i < dp->n_port_holds; i++) {
            struct held_packet *hp;

            LIST_FOR_EACH_POP (hp, node, &dp->port_holds[i].packets) {
                free(hp);
            }
        }
        for (unsigned int i = 1; i < dp->n_workers; i++) {
            struct fs_dp_worker *w = &dp->workers[i];

            if (w->started) {
                worker_post(w, UINT64_MAX);
                pthread_join(w->thread, NULL);
            }
        }
        for (unsigned int i = 0; i < dp->n_workers; i++) {
            pthread_mutex_destroy(&dp->workers[i].mutex);
            pthread_cond_destroy(&dp->workers[i].cond);
        }
        free_cacheline(dp->workers);
        fs_port_close(dp->port);
        free(dp->ifname);
        free(dp->backend);
        free(dp->dpdk_devargs);
        free(dp->dpdk_lcores);
        free(dp->dpdk_eal_args);
        free(dp);
    }
}

void
fs_dp_hold_current(struct fs_dp *dp, unsigned int worker, uint64_t old_id)
{
    ovs_assert(worker < dp->n_workers);
    dp->res[dp->workers[worker].cur].hold_old_id = old_id;
}

/* A copy of packet 'p', to keep. */
static struct held_packet *
held_packet_new(const struct fs_pkt_ref *p)
{
    struct held_packet *hp = xmalloc(sizeof *hp + p->caplen);

    hp->len = p->len;
    hp->caplen = p->caplen;
    memcpy(hp->data, p->data, p->caplen);
    return hp;
}

static struct held_flow *
held_flow_find(const struct fs_dp *dp, uint64_t flow_id)
{
    struct held_flow *h;

    HMAP_FOR_EACH_WITH_HASH (h, node, hash_uint64(flow_id), &dp->holds) {
        if (h->flow_id == flow_id) {
            return h;
        }
    }
    return NULL;
}

/* Decides whether packet 'p' of flow 'flow_id', which the inspector
 * passes, waits: it opens a new connection whose 5-tuple still has an
 * older connection's rules (flow 'old_id', nonzero), or belongs to such a
 * flow.
 * Copies and keeps it if so, and returns true; returns false if it goes
 * out now.  A packet that should wait but finds no room is dropped
 * (returns true): it must not ride the old rules. */
static bool
hold_packet(struct fs_dp *dp, const struct fs_pkt_ref *p, uint64_t flow_id,
            uint64_t old_id)
{
    struct held_flow *h = NULL;

    if (old_id) {
        h = flow_id ? held_flow_find(dp, flow_id) : NULL;
        if (!h) {
            h = xmalloc(sizeof *h);
            h->flow_id = flow_id;
            h->old_id = old_id;
            h->deadline = time_msec() + HOLD_MSEC;
            ovs_list_init(&h->packets);
            hmap_insert(&dp->holds, &h->node, hash_uint64(flow_id));
        }
    } else if (!hmap_is_empty(&dp->holds)) {
        h = held_flow_find(dp, flow_id);
    }
    if (!h) {
        return false;
    }
    if (dp->n_held >= HOLD_MAX_PACKETS || p->caplen > HOLD_MAX_BYTES) {
        dp->hold_dropped++;
        return true;
    }
    ovs_list_push_back(&h->packets, &held_packet_new(p)->node);
    dp->n_held++;
    dp->held++;
    return true;
}

/* Sends the held packets of flows whose old rules are gone; drops those
 * that waited too long. */
static void
holds_run(struct fs_dp *dp)
{
    long long int now = time_msec();
    struct held_flow *h;

    HMAP_FOR_EACH_SAFE (h, node, &dp->holds) {
        if (dp->gone(dp->gone_aux, h->old_id)) {
            struct fs_pkt_ref refs[FS_PORT_BURST];
            struct held_packet *hp;
            unsigned int n = 0;

            LIST_FOR_EACH (hp, node, &h->packets) {
                refs[n].data = hp->data;
                refs[n].len = hp->len;
                refs[n].caplen = hp->caplen;
                refs[n].ts_ns = 0;
                refs[n].flags = 0;
                refs[n].port = NULL;
                refs[n].handle = NULL;
                if (++n == FS_PORT_BURST || hp->node.next == &h->packets) {
                    unsigned int sent = (dp->port
                                         ? fs_port_tx_burst(dp->port, refs, n)
                                         : 0);
                    dp->released += sent;
                    dp->unsent += n - sent;
                    n = 0;
                }
            }
            held_flow_free(dp, h, NULL);
        } else if (now >= h->deadline) {
            held_flow_free(dp, h, &dp->hold_expired);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Ports held for a migration. */

static struct port_hold *
port_hold_find(struct fs_dp *dp, uint32_t port)
{
    for (size_t i = 0; i < dp->n_port_holds; i++) {
        if (dp->port_holds[i].port == port) {
            return &dp->port_holds[i];
        }
    }
    return NULL;
}

int
fs_dp_hold_port(struct fs_dp *dp, uint32_t port, unsigned int max_ms)
{
    struct port_hold *h = port_hold_find(dp, port);

    if (h) {
        h->max_ms = max_ms;
        h->released = false;
        return 0;
    } else if (dp->n_port_holds >= PORT_HOLD_MAX_PORTS) {
        dp->port_hold_refused++;
        return ENOSPC;
    }
    h = &dp->port_holds[dp->n_port_holds++];
    h->port = port;
    h->max_ms = max_ms;
    h->deadline = LLONG_MAX;
    h->released = false;
    ovs_list_init(&h->packets);
    return 0;
}

void
fs_dp_release_port(struct fs_dp *dp, uint32_t port)
{
    struct port_hold *h = port_hold_find(dp, port);

    if (h) {
        h->released = true;
    }
}

/* Keeps packet 'p' (tagged) if its port is held: returns true if it was
 * kept or, finding no room, dropped. */
static bool
port_hold_packet(struct fs_dp *dp, const struct fs_pkt_ref *p)
{
    uint32_t port = fs_steer_tag_port(p->data[14] << 8 | p->data[15]);
    struct port_hold *h = port_hold_find(dp, port);

    if (!h || h->released) {
        return false;
    }
    if (dp->port_held_now >= PORT_HOLD_MAX_PACKETS
        || dp->port_held_bytes + p->caplen > PORT_HOLD_MAX_BYTES) {
        dp->port_hold_full++;
        return true;
    }
    ovs_list_push_back(&h->packets, &held_packet_new(p)->node);
    if (h->deadline == LLONG_MAX) {
        h->deadline = time_msec() + h->max_ms;
    }
    dp->port_held_now++;
    dp->port_held_bytes += p->caplen;
    dp->port_held++;
    return true;
}

/* Judges, in the order they came, the held packets of ports released or
 * held too long, and ends those holds. */
static void
port_holds_run(struct fs_dp *dp)
{
    long long int now = time_msec();

    for (size_t i = 0; i < dp->n_port_holds; ) {
        struct port_hold *h = &dp->port_holds[i];
        struct held_packet *hp, *next;
        struct ovs_list done;
        unsigned int n = 0;

        if (!h->released && now < h->deadline) {
            i++;
            continue;
        }
        if (!h->released) {
            dp->port_hold_timeouts++;
        }
        /* Judged in bursts, then freed: dp->burst points into them. */
        ovs_list_init(&done);
        LIST_FOR_EACH_SAFE (hp, next, node, &h->packets) {
            ovs_list_remove(&hp->node);
            ovs_list_push_back(&done, &hp->node);
            dp->burst[n].data = hp->data;
            dp->burst[n].len = hp->len;
            dp->burst[n].caplen = hp->caplen;
            dp->burst[n].ts_ns = 0;
            dp->burst[n].flags = 0;
            dp->burst[n].port = NULL;
            dp->burst[n].handle = NULL;
            dp->port_held_now--;
            dp->port_held_bytes -= hp->caplen;
            if (++n == FS_PORT_BURST || ovs_list_is_empty(&h->packets)) {
                fs_dp_judge(dp, n, false);
                dp->port_judged += n;
                n = 0;
                LIST_FOR_EACH_POP (hp, node, &done) {
                    free(hp);
                }
            }
        }
        dp->port_holds[i] = dp->port_holds[--dp->n_port_holds];
    }
}

static void
port_log(void *dp_, enum fs_port_log_level level, const char *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const struct fs_dp *dp = dp_;

    vlog_rate_limit(&this_module, (dp->opening_quietly ? VLL_DBG
                                   : level == FS_PORT_LOG_ERR ? VLL_WARN
                                   : level == FS_PORT_LOG_WARN ? VLL_WARN
                                   : VLL_INFO), &rl, "%s", msg);
}

/* Brings interface 'name' up: OVS creates internal ports down. */
static void
ifup(const char *name)
{
    int error = fs_port_ifup(name);

    if (error && error != ENODEV && error != ENXIO) {
        VLOG_WARN("%s: cannot bring it up: %s", name, ovs_strerror(error));
    }
}

static void
fs_dp_open(struct fs_dp *dp)
{
    struct fs_port_options opts = FS_PORT_OPTIONS_INIT;
    int error;

    opts.ifname = dp->ifname;
    opts.backend = dp->backend;
    opts.dpdk_devargs = dp->dpdk_devargs;
    opts.dpdk_lcores = dp->dpdk_lcores;
    opts.dpdk_mem_mb = dp->dpdk_mem_mb;
    opts.dpdk_eal_args = dp->dpdk_eal_args;
    opts.log = port_log;
    opts.log_aux = dp;
    if (!dp->first_try) {
        dp->first_try = time_msec();
    }
    /* Open vSwitch may report the port's number before its device is
     * there: the first seconds of failures are not worth a warning. */
    dp->opening_quietly = time_msec() - dp->first_try < OPEN_QUIET_MS;
    if (!dp->dpdk_devargs) {
        ifup(dp->ifname);
    }
    error = fs_port_open(&opts, &dp->port);
    if (!error && fs_port_is_pmd(dp->port)) {
        dp->link = fs_port_check(dp->port) ? LINK_WAITING : LINK_UP;
        dp->idle_us = 0;
    }
    if (error != dp->error || (error && !dp->opening_quietly
                               && dp->error_quiet)) {
        if (!error) {
            VLOG_INFO("%s: inspector port open", dp->ifname);
        } else if (dp->opening_quietly) {
            VLOG_DBG("%s: cannot open the inspector port yet: %s",
                     dp->ifname, ovs_strerror(error));
        } else {
            VLOG_WARN("%s: cannot open the inspector port: %s", dp->ifname,
                      ovs_strerror(error));
        }
    }
    dp->error_quiet = error && dp->opening_quietly;
    dp->error = error;
    dp->next_retry = time_msec() + RETRY_MS;
}

void
fs_dp_set(struct fs_dp *dp, const char *ifname, enum fs_mode mode)
{
    dp->mode = mode;
    if (nullable_string_is_equal(ifname, dp->ifname)) {
        return;
    }
    fs_port_close(dp->port);
    dp->port = NULL;
    dp->error = 0;
    dp->first_try = 0;
    free(dp->ifname);
    dp->ifname = nullable_xstrdup(ifname);
    dp->next_retry = 0;
}

/* Hands the 'n' packets in dp->burst to the workers and, inline, sends
 * back what they pass, in the order received.  With 'may_hold', those of
 * a held port (fs_dp_hold_port()) wait instead, unjudged. */
static void
fs_dp_judge(struct fs_dp *dp, unsigned int n, bool may_hold)
{
    struct fs_pkt_ref *pkts = dp->burst;
    struct fs_pkt_ref out[FS_PORT_BURST];
    bool mine[FS_PORT_BURST];
    unsigned int i, n_out = 0;

    dp->now_ns = time_msec() * 1000000ULL;
    for (unsigned int w = 0; w < dp->n_workers; w++) {
        dp->workers[w].n = 0;
    }
    for (i = 0; i < n; i++) {
        const struct fs_pkt_ref *p = &pkts[i];
        struct fs_dp_worker *w = &dp->workers[0];

        /* Our tag: 0x8100, then the original ingress port in the VID. */
        mine[i] = (p->caplen >= 18 && p->data[12] == 0x81
                   && p->data[13] == 0x00);
        if (!mine[i]) {
            dp->untagged++;
            continue;
        }
        if (may_hold && dp->n_port_holds && port_hold_packet(dp, p)) {
            mine[i] = false;
            continue;
        }
        if (dp->n_workers > 1) {
            struct fs_packet pkt = {
                .data = p->data, .caplen = p->caplen, .len = p->len,
                .link_type = FS_LINK_ETHERNET,
            };

            w += fs_dp_worker_of_hash(dp, fs_packet_flow_hash(&pkt, 0));
        }
        w->idx[w->n++] = i;
    }
    for (unsigned int w = 1; w < dp->n_workers; w++) {
        if (dp->workers[w].n) {
            worker_post(&dp->workers[w], ++dp->workers[w].seq);
        }
    }
    worker_judge(dp, &dp->workers[0]);
    for (unsigned int w = 1; w < dp->n_workers; w++) {
        if (dp->workers[w].n) {
            worker_join(&dp->workers[w]);
        }
    }

    for (i = 0; i < n; i++) {
        const struct pkt_result *r = &dp->res[i];

        if (!mine[i]) {
            continue;
        } else if (r->drop) {
            dp->dropped++;
        } else if (dp->mode == FS_MODE_INLINE
                   && !hold_packet(dp, &pkts[i], r->flow_id,
                                   r->hold_old_id)) {
            out[n_out++] = pkts[i];
        }
    }
    if (n_out) {
        unsigned int sent = dp->port ? fs_port_tx_burst(dp->port, out, n_out)
                                     : 0;

        dp->forwarded += sent;
        dp->unsent += n_out - sent;
    }
}

/* Judges one received burst.  Returns the number of packets received. */
static unsigned int
fs_dp_burst(struct fs_dp *dp)
{
    unsigned int n = fs_port_rx_burst(dp->port, dp->burst, FS_PORT_BURST);

    if (n) {
        fs_dp_judge(dp, n, true);
        fs_port_rx_release(dp->port, n);
    }
    return n;
}

/* Woken with nothing to receive: the socket may be in error (a link flap
 * leaves it polling ready for ever) or bound to a device that is gone or
 * was made again under the same name (Open vSwitch restarting).  Either
 * way the port is closed and opened again, after RETRY_MS. */
static void
fs_dp_check(struct fs_dp *dp)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    int error;

    if (fs_port_is_pmd(dp->port)) {
        if (time_msec() < dp->next_check) {
            return;
        }
        dp->next_check = time_msec() + PMD_CHECK_MS;
    }
    error = fs_port_check(dp->port);
    if (fs_port_is_pmd(dp->port)) {
        /* A vhost-user port is down until Open vSwitch connects: that is
         * no failure, but the port is not ready either. */
        if (!error) {
            if (dp->link != LINK_UP) {
                VLOG_INFO("%s: link up", dp->ifname);
            }
            dp->link = LINK_UP;
            return;
        } else if (error == ENETDOWN && dp->link == LINK_WAITING) {
            return;
        }
        dp->link = LINK_LOST;
    }

    if (error && dp->no_reopen) {
        VLOG_WARN_RL(&rl, "%s: inspector port failed (%s)", dp->ifname,
                     ovs_strerror(error));
        /* Not closed: the caller exits next, which releases it.  Closing a
         * virtio_user port in server mode unlinks its vhost-user socket,
         * a call the sandbox kills (tests/neighbours-dpdk.sh: ovs-vswitchd
         * restarted); the next appliance removes the stale socket. */
        dp->dead_port = dp->port;
        dp->port = NULL;
        dp->failed = error;
    } else if (error) {
        VLOG_WARN_RL(&rl, "%s: inspector port failed (%s): opening it "
                     "again", dp->ifname, ovs_strerror(error));
        fs_port_close(dp->port);
        dp->port = NULL;
        dp->reopened++;
        dp->check_error = error;
        dp->error = 0;
        dp->next_retry = time_msec() + RETRY_MS;
    }
}

void
fs_dp_run(struct fs_dp *dp)
{
    int i;

    if (dp->n_port_holds) {
        port_holds_run(dp);
    }
    if (!hmap_is_empty(&dp->holds)) {
        holds_run(dp);
    }
    if (!dp->ifname) {
        return;
    }
    if (!dp->port) {
        if (time_msec() >= dp->next_retry && !dp->failed) {
            fs_dp_open(dp);
        }
        if (!dp->port) {
            return;
        }
    }
    /* Bounded, so the rest of the loop (OpenFlow, OVSDB) keeps up. */
    for (i = 0; i < 64; i++) {
        unsigned int n = fs_dp_burst(dp);

        if (!n && !i) {
            fs_dp_check(dp);
            break;
        } else if (n < FS_PORT_BURST) {
            break;
        }
    }
    if (!dp->port) {
        return;
    }
    if (fs_port_is_pmd(dp->port)) {
        if (i) {
            dp->idle_us = 0;
        } else {
            dp->idle_us = (dp->idle_us
                           ? MIN(2 * dp->idle_us, PMD_MAX_SLEEP_US) : 1);
            xnanosleep_no_quiesce(dp->idle_us * 1000ULL);
        }
    }
    for (unsigned int w = 0; w < dp->n_workers; w++) {
        fs_inspector_expire(dp->workers[w].insp, time_msec() * 1000000ULL);
    }
}

void
fs_dp_set_backend(struct fs_dp *dp, const char *backend)
{
    free(dp->backend);
    dp->backend = backend && *backend ? xstrdup(backend) : NULL;
}

void
fs_dp_set_dpdk(struct fs_dp *dp, const char *devargs, const char *lcores,
               unsigned int mem_mb, const char *eal_args)
{
    free(dp->dpdk_devargs);
    free(dp->dpdk_lcores);
    free(dp->dpdk_eal_args);
    dp->dpdk_devargs = nullable_xstrdup(devargs);
    dp->dpdk_lcores = nullable_xstrdup(lcores);
    dp->dpdk_mem_mb = mem_mb;
    dp->dpdk_eal_args = nullable_xstrdup(eal_args);
}

bool
fs_dp_link_up(struct fs_dp *dp)
{
    if (dp->port && dp->link != LINK_UP) {
        dp->next_check = 0;
        fs_dp_check(dp);
    }
    return dp->port && dp->link == LINK_UP;
}

int
fs_dp_open_now(struct fs_dp *dp)
{
    if (!dp->port && dp->ifname) {
        fs_dp_open(dp);
    }
    return dp->port ? 0 : dp->ifname ? dp->error : ENODEV;
}

void
fs_dp_set_reopen(struct fs_dp *dp, bool reopen)
{
    dp->no_reopen = !reopen;
}

int
fs_dp_failed(const struct fs_dp *dp)
{
    return dp->failed;
}

void
fs_dp_get_figures(struct fs_dp *dp, uint64_t *fig)
{
    struct fs_port_stats st;

    memset(&st, 0, sizeof st);
    if (dp->port) {
        fs_port_get_stats(dp->port, &st);
    }
    memset(fig, 0, FS_CHAN_N_DP * sizeof *fig);
    fig[FS_CHAN_DP_RX] = st.rx_packets;
    fig[FS_CHAN_DP_RX_KERNEL_DROPPED] = st.rx_dropped;
    fig[FS_CHAN_DP_TX] = st.tx_packets;
    fig[FS_CHAN_DP_DROPPED] = dp->dropped;
    fig[FS_CHAN_DP_UNTAGGED] = dp->untagged;
    fig[FS_CHAN_DP_UNSENT] = dp->unsent;
    fig[FS_CHAN_DP_HELD_NOW] = dp->n_held;
    fig[FS_CHAN_DP_HELD] = dp->held;
    fig[FS_CHAN_DP_RELEASED] = dp->released;
    fig[FS_CHAN_DP_HOLD_DROPPED] = dp->hold_dropped;
    fig[FS_CHAN_DP_HOLD_EXPIRED] = dp->hold_expired;
    fig[FS_CHAN_DP_MIG_HOLDS] = dp->n_port_holds;
    fig[FS_CHAN_DP_MIG_HELD_NOW] = dp->port_held_now;
    fig[FS_CHAN_DP_MIG_HELD] = dp->port_held;
    fig[FS_CHAN_DP_MIG_JUDGED] = dp->port_judged;
    fig[FS_CHAN_DP_MIG_HOLD_FULL] = dp->port_hold_full;
    fig[FS_CHAN_DP_MIG_HOLD_TIMEOUTS] = dp->port_hold_timeouts;
    fig[FS_CHAN_DP_PORT_OPEN] = dp->port && dp->link == LINK_UP;
    fig[FS_CHAN_DP_WORKERS] = dp->n_workers;
    fig[FS_CHAN_DP_WORKER_PACKETS_MIN] = UINT64_MAX;
    for (unsigned int i = 0; i < dp->n_workers; i++) {
        const struct fs_dp_worker *w = &dp->workers[i];

        fig[FS_CHAN_DP_WORKER_SLEEPS] += w->sleeps;
        fig[FS_CHAN_DP_WORKER_PACKETS_MIN] = MIN(
            fig[FS_CHAN_DP_WORKER_PACKETS_MIN], w->packets);
        fig[FS_CHAN_DP_WORKER_PACKETS_MAX] = MAX(
            fig[FS_CHAN_DP_WORKER_PACKETS_MAX], w->packets);
    }
}

void
fs_dp_wait(struct fs_dp *dp)
{
    const struct held_flow *h;

    HMAP_FOR_EACH (h, node, &dp->holds) {
        poll_timer_wait_until(h->deadline);
    }
    for (size_t i = 0; i < dp->n_port_holds; i++) {
        const struct port_hold *ph = &dp->port_holds[i];

        if (ph->released) {
            poll_immediate_wake();
        } else if (ph->deadline != LLONG_MAX) {
            poll_timer_wait_until(ph->deadline);
        }
    }
    if (dp->port) {
        if (fs_port_is_pmd(dp->port)) {
            poll_immediate_wake();  /* fs_dp_run() sleeps when idle. */
        } else {
            poll_fd_wait(fs_port_fd(dp->port), POLLIN);
        }
        poll_timer_wait(1000);  /* Idle expiry. */
    } else if (dp->ifname && !dp->failed) {
        poll_timer_wait_until(dp->next_retry);
    }
}

void
fs_dp_format(const struct fs_dp *dp, struct ds *ds)
{
    struct fs_port_stats st;

    if (!dp->ifname) {
        return;
    }
    ds_put_format(ds, "inspector port %s: ", dp->ifname);
    if (!dp->port) {
        ds_put_format(ds, "not open (%s), reopened %"PRIu64" times\n",
                      dp->error ? ovs_strerror(dp->error) : "not yet",
                      dp->reopened);
        return;
    }
    fs_port_get_stats(dp->port, &st);
    ds_put_format(ds, "rx %"PRIu64" packets (%"PRIu64" dropped by the "
                  "kernel), tx %"PRIu64", dropped by verdict %"PRIu64
                  ", untagged %"PRIu64", unsent (ring full) %"PRIu64"\n",
                  st.rx_packets, st.rx_dropped, st.tx_packets, dp->dropped,
                  dp->untagged, dp->unsent);
    if (dp->reopened) {
        ds_put_format(ds, "  reopened %"PRIu64" times, last because: %s\n",
                      dp->reopened, ovs_strerror(dp->check_error));
    }
    ds_put_format(ds, "  new connections held for old rules: %"PRIuSIZE
                  " packets now (cap %d), %"PRIu64" held, %"PRIu64
                  " released, %"PRIu64" dropped at the cap, %"PRIu64
                  " expired\n", dp->n_held, HOLD_MAX_PACKETS, dp->held,
                  dp->released, dp->hold_dropped, dp->hold_expired);
    ds_put_format(ds, "  packets held for a migration's last records: %"
                  PRIuSIZE" ports, %"PRIuSIZE" packets now (cap %d, then "
                  "drop-newest), %"PRIu64" held, %"PRIu64" judged, %"PRIu64
                  " dropped at the cap, %"PRIu64" holds timed out\n",
                  dp->n_port_holds, dp->port_held_now, PORT_HOLD_MAX_PACKETS,
                  dp->port_held, dp->port_judged, dp->port_hold_full,
                  dp->port_hold_timeouts);
}
