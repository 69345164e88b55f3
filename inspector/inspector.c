/*
 * The public API of libflowsteer-inspector: ties the parser, the flow
 * table, the nDPI adapter and the policy together.  See
 * include/flowsteer/inspector.h.
 */
#include <config.h>
#include "insp-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "insp-frag.h"
#include "insp-ndpi.h"
#include "insp-parse.h"
#include "insp-policy.h"
#include "insp-record.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL

#define DEFAULT_MAX_FLOWS 65536
#define DEFAULT_TIMEOUT_TCP_MS (300 * 1000)
#define DEFAULT_TIMEOUT_UDP_MS (60 * 1000)
#define DEFAULT_TIMEOUT_OTHER_MS (30 * 1000)
#define DEFAULT_BUDGET_TCP 80   /* As ndpiReader: telnet needs many. */
#define DEFAULT_BUDGET_UDP 24
#define DEFAULT_BUDGET_OTHER 8
#define DEFAULT_PAYLOAD_BYTES 16384
#define MAX_PAYLOAD_BYTES 60000 /* With the rest, within a record. */
#define DEFAULT_PAYLOAD_MEMORY (64ULL << 20)
#define FRAG_TABLE_SIZE 4096   /* Datagrams in reassembly at a time. */

static const char *const counter_names[FS_N_COUNTERS] = {
#define FS_COUNTER_NAME(ENUM, NAME) NAME,
    FS_COUNTERS(FS_COUNTER_NAME)
#undef FS_COUNTER_NAME
};

static void decide(struct fs_inspector *, struct insp_flow *,
                   const struct insp_policy_decision *);

const char *
fs_inspector_version(void)
{
    return PACKAGE_VERSION;
}

const char *
fs_inspector_ndpi_version(void)
{
    return insp_ndpi_version();
}

char *
fs_ip_format(const uint8_t ip[16], char *buf, size_t size)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0xff, 0xff};

    if (!memcmp(ip, mapped, 12)) {
        inet_ntop(AF_INET, ip + 12, buf, size);
    } else {
        inet_ntop(AF_INET6, ip, buf, size);
    }
    return buf;
}

const char *
fs_l4_name(uint8_t proto, char *buf, size_t size)
{
    switch (proto) {
    case 1: return "ICMP";
    case 2: return "IGMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 58: return "ICMPV6";
    case 89: return "OSPF";
    case 112: return "VRRP";
    case 132: return "SCTP";
    default:
        snprintf(buf, size, "%u", proto);
        return buf;
    }
}

const char *
fs_counter_name(enum fs_counter c)
{
    return (unsigned int) c < FS_N_COUNTERS ? counter_names[c] : NULL;
}

/* ---------------------------------------------------------------------- */
/* Exceptions. */

static const char *const exception_names[FS_N_EXCEPTIONS] = {
#define FS_EXCEPTION_NAME(ENUM, NAME, COUNTER) NAME,
    FS_EXCEPTIONS(FS_EXCEPTION_NAME)
#undef FS_EXCEPTION_NAME
};

static const char *const exception_action_names[] = {
    [FS_EXC_ACTION_DROP] = "drop",
    [FS_EXC_ACTION_ALERT] = "alert",
    [FS_EXC_ACTION_ALLOW] = "allow",
};
#define N_EXCEPTION_ACTIONS \
    (sizeof exception_action_names / sizeof exception_action_names[0])

const char *
fs_exception_name(enum fs_exception e)
{
    return (unsigned int) e < FS_N_EXCEPTIONS ? exception_names[e] : NULL;
}

/* Returns the index of 'name' among the 'n' strings of 'names', or -1. */
static int
name_index(const char *const *names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; name && i < n; i++) {
        if (!strcmp(name, names[i])) {
            return i;
        }
    }
    return -1;
}

int
fs_exception_from_name(const char *name)
{
    return name_index(exception_names, FS_N_EXCEPTIONS, name);
}

const char *
fs_exception_action_name(enum fs_exception_action action)
{
    return ((unsigned int) action < N_EXCEPTION_ACTIONS
            ? exception_action_names[action] : NULL);
}

int
fs_exception_action_from_name(const char *name)
{
    return name_index(exception_action_names, N_EXCEPTION_ACTIONS, name);
}

int
fs_exception_parse(const char *spec, uint8_t actions[FS_N_EXCEPTIONS],
                   char *err, size_t err_size)
{
    uint8_t result[FS_N_EXCEPTIONS];
    const char *s = spec;
    int item = 1;

    memcpy(result, actions, sizeof result);
    while (s && *s) {
        size_t len = strcspn(s, ","), name_len = strcspn(s, "=,");
        char name[32], value[32];
        int e = -1, a;

        if (name_len < len) {
            if (name_len >= sizeof name) {
                goto bad_class;
            }
            memcpy(name, s, name_len);
            name[name_len] = '\0';
            e = fs_exception_from_name(name);
            if (e < 0) {
                goto bad_class;
            }
            s += name_len + 1;
            len -= name_len + 1;
        }
        a = -1;
        if (len < sizeof value) {
            memcpy(value, s, len);
            value[len] = '\0';
            a = fs_exception_action_from_name(value);
        }
        if (a < 0) {
            if (err) {
                snprintf(err, err_size, "item %d: bad action (expected drop, "
                         "alert or allow)", item);
            }
            return -EINVAL;
        }
        if (e < 0) {
            memset(result, a, sizeof result);
        } else {
            result[e] = a;
        }
        s += len + (s[len] == ',');
        item++;
        continue;

    bad_class:
        if (err) {
            snprintf(err, err_size, "item %d: unknown exception class", item);
        }
        return -EINVAL;
    }
    memcpy(actions, result, sizeof result);
    return 0;
}

int
fs_exception_counter(enum fs_exception e)
{
    static const int counters[FS_N_EXCEPTIONS] = {
#define FS_EXCEPTION_COUNTER(ENUM, NAME, COUNTER) FS_CTR_##COUNTER,
        FS_EXCEPTIONS(FS_EXCEPTION_COUNTER)
#undef FS_EXCEPTION_COUNTER
    };

    return (unsigned int) e < FS_N_EXCEPTIONS ? counters[e] : -1;
}

/* Returns the exception class counted in 'counter', or -1 if none. */
static int
exception_of_counter(int counter)
{
    switch (counter) {
#define FS_EXCEPTION_CASE(ENUM, NAME, COUNTER)  \
    case FS_CTR_##COUNTER: return FS_EXC_##ENUM;
    FS_EXCEPTIONS(FS_EXCEPTION_CASE)
#undef FS_EXCEPTION_CASE
    }
    return -1;
}

static void
insp_log(const struct fs_inspector *insp, enum fs_log_level level,
         const char *format, ...) __attribute__((format(printf, 3, 4)));

static void
insp_log(const struct fs_inspector *insp, enum fs_log_level level,
         const char *format, ...)
{
    char msg[512];
    va_list args;

    if (!insp->opts.log_cb) {
        return;
    }
    va_start(args, format);
    vsnprintf(msg, sizeof msg, format, args);
    va_end(args);
    insp->opts.log_cb(insp->opts.log_aux, level, msg);
}

/* ---------------------------------------------------------------------- */
/* Classification pool. */

static int
cls_pool_init(struct insp_cls_pool *pool, size_t block_size, uint32_t max)
{
    memset(pool, 0, sizeof *pool);
    pool->block_size = INSP_CLS_HEAD + ((block_size + 63) & ~(size_t) 63);
    pool->max = max;
    pool->free = malloc(max * sizeof *pool->free);
    pool->chunks = calloc(max / INSP_CLS_CHUNK + 1, sizeof *pool->chunks);
    return pool->free && pool->chunks ? 0 : -ENOMEM;
}

static void
cls_pool_uninit(struct insp_cls_pool *pool)
{
    uint32_t i;

    if (pool->chunks) {
        for (i = 0; i * INSP_CLS_CHUNK < pool->n_alloc; i++) {
            free(pool->chunks[i]);
        }
    }
    free(pool->chunks);
    free(pool->free);
    memset(pool, 0, sizeof *pool);
}

static uint8_t *
cls_base(const struct insp_cls_pool *pool, uint32_t idx)
{
    return (pool->chunks[idx / INSP_CLS_CHUNK]
            + (size_t) (idx % INSP_CLS_CHUNK) * pool->block_size);
}

/* nDPI's state of classifying flow block 'idx'. */
static void *
cls_block(const struct insp_cls_pool *pool, uint32_t idx)
{
    return cls_base(pool, idx) + INSP_CLS_HEAD;
}

/* The payload kept of classifying flow block 'idx'. */
static struct insp_payload *
cls_payload(const struct insp_cls_pool *pool, uint32_t idx)
{
    return (struct insp_payload *) cls_base(pool, idx);
}

/* Returns a free block index, or INSP_NIL if the pool is at its bound or
 * out of memory.  Allocates a chunk at most once per INSP_CLS_CHUNK new
 * flows, never per packet. */
static uint32_t
cls_alloc(struct insp_cls_pool *pool)
{
    if (pool->n_free) {
        uint32_t idx = pool->free[--pool->n_free];

        pool->n_used++;
        memset(cls_payload(pool, idx), 0, sizeof(struct insp_payload));
        return idx;
    }
    if (pool->n_alloc >= pool->max) {
        return INSP_NIL;
    }
    if (pool->n_alloc % INSP_CLS_CHUNK == 0) {
        uint8_t *chunk = malloc(INSP_CLS_CHUNK * pool->block_size);

        if (!chunk) {
            return INSP_NIL;
        }
        pool->chunks[pool->n_alloc / INSP_CLS_CHUNK] = chunk;
    }
    pool->n_used++;
    memset(cls_payload(pool, pool->n_alloc), 0, sizeof(struct insp_payload));
    return pool->n_alloc++;
}

static void
cls_free(struct insp_cls_pool *pool, uint32_t idx)
{
    pool->free[pool->n_free++] = idx;
    pool->n_used--;
}

static uint64_t
inspector_memory(const struct fs_inspector *insp)
{
    uint64_t chunks = (insp->cls.n_alloc + INSP_CLS_CHUNK - 1)
                      / INSP_CLS_CHUNK;

    return (sizeof *insp + insp_flow_table_memory(&insp->table)
            + chunks * INSP_CLS_CHUNK * insp->cls.block_size
            + insp->strings.memory + insp->payload_memory
            + (insp->frags ? insp_frags_memory(insp->frags) : 0));
}

static void
update_memory_peak(struct fs_inspector *insp)
{
    uint64_t m = inspector_memory(insp);

    if (m > insp->memory_peak) {
        insp->memory_peak = m;
    }
}

/* ---------------------------------------------------------------------- */
/* Lifecycle. */

/* Returns a seed for hashes of attacker-chosen keys, so that collisions
 * cannot be computed offline. */
static uint32_t
random_seed(void)
{
    uint32_t seed;

    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint32_t) ts.tv_nsec ^ (uint32_t) ts.tv_sec * 2654435761u
               ^ (uint32_t) getpid() << 16;
    }
    return seed;
}

static uint64_t
timeout_ns(uint32_t ms, uint32_t def_ms)
{
    return (ms == UINT32_MAX ? UINT64_MAX
            : (uint64_t) (ms ? ms : def_ms) * NS_PER_MS);
}

/* Returns the first id at or above 'id' that is this inspector's own
 * (opts.flow_id_offset modulo opts.flow_id_stride), never 0. */
static uint64_t
flow_id_at_or_above(const struct fs_inspector *insp, uint64_t id)
{
    uint64_t stride = insp->opts.flow_id_stride;

    id += (insp->opts.flow_id_offset + stride - id % stride) % stride;
    return id ? id : stride;
}

int
fs_inspector_create(const struct fs_inspector_opts *user_opts,
                    struct fs_inspector **out)
{
    struct fs_inspector_opts opts;
    struct fs_inspector *insp;
    char err[256] = "";
    uint64_t table_mem;
    uint32_t max_cls;
    int error;

    *out = NULL;
    memset(&opts, 0, sizeof opts);
    if (user_opts) {
        if (user_opts->sz < offsetof(struct fs_inspector_opts, max_flows)) {
            return -EINVAL;
        }
        memcpy(&opts, user_opts,
               user_opts->sz < sizeof opts ? user_opts->sz : sizeof opts);
        /* A newer caller's options this library does not know must be
         * zero (libbpf's rule): a knob it asked for must not be ignored. */
        if (user_opts->sz > sizeof opts) {
            const uint8_t *extra = (const uint8_t *) user_opts + sizeof opts;
            size_t i;

            for (i = 0; i < user_opts->sz - sizeof opts; i++) {
                if (extra[i]) {
                    return -EINVAL;
                }
            }
        }
    }
    opts.sz = sizeof opts;
    if (!opts.max_flows) {
        opts.max_flows = DEFAULT_MAX_FLOWS;
    }
    if (!opts.flow_id_stride) {
        opts.flow_id_stride = 1;
    }
    if (!opts.payload_bytes) {
        opts.payload_bytes = DEFAULT_PAYLOAD_BYTES;
    }
    if (!opts.payload_memory) {
        opts.payload_memory = DEFAULT_PAYLOAD_MEMORY;
    }
    if (opts.max_flows > (1u << 28)
        || (unsigned int) opts.table_full > FS_FULL_DROP_NEW
        || opts.flow_id_stride > 4096
        || opts.flow_id_offset >= opts.flow_id_stride
        || (opts.payload_bytes > MAX_PAYLOAD_BYTES
            && opts.payload_bytes != UINT32_MAX)) {
        return -EINVAL;
    }

    insp = calloc(1, sizeof *insp);
    if (!insp) {
        return -ENOMEM;
    }
    insp->opts = opts;
    fs_inspector_set_idle_timeouts(insp, opts.idle_timeout_tcp_ms,
                                   opts.idle_timeout_udp_ms,
                                   opts.idle_timeout_other_ms);
    insp->budget[INSP_LRU_TCP] = opts.giveup_tcp ? opts.giveup_tcp
                                                 : DEFAULT_BUDGET_TCP;
    insp->budget[INSP_LRU_UDP] = opts.giveup_udp ? opts.giveup_udp
                                                 : DEFAULT_BUDGET_UDP;
    insp->budget[INSP_LRU_OTHER] = opts.giveup_other ? opts.giveup_other
                                                     : DEFAULT_BUDGET_OTHER;
    insp_strtab_init(&insp->strings);
    memset(insp->exceptions, FS_EXC_ACTION_DROP, sizeof insp->exceptions);
    insp->exceptions[FS_EXC_NON_IP] = FS_EXC_ACTION_ALLOW;
    insp->hash_seed = random_seed();
    insp->next_flow_id = flow_id_at_or_above(insp, 1);
    insp->epoch = 1;

    error = insp_flow_table_init(&insp->table, opts.max_flows,
                                 insp->hash_seed);
    if (error) {
        goto fail;
    }

    /* Flows in classification: as many as the memory cap leaves room for,
     * and never more than the table holds. */
    table_mem = insp_flow_table_memory(&insp->table);
    max_cls = opts.max_flows;
    if (opts.max_memory) {
        uint64_t block = (insp_ndpi_flow_size() + 63) & ~63ULL;

        if (opts.max_memory <= table_mem + block) {
            insp_log(insp, FS_LOG_ERR, "max_memory %llu is too small for "
                     "%u flows (the table alone takes %llu bytes)",
                     (unsigned long long) opts.max_memory, opts.max_flows,
                     (unsigned long long) table_mem);
            error = -EINVAL;
            goto fail;
        }
        if ((opts.max_memory - table_mem) / block < max_cls) {
            max_cls = (opts.max_memory - table_mem) / block;
        }
    }
    error = cls_pool_init(&insp->cls, insp_ndpi_flow_size(), max_cls);
    if (error) {
        goto fail;
    }
    insp->frags = insp_frags_create(FRAG_TABLE_SIZE,
                                    insp->hash_seed * 2654435761u);
    if (!insp->frags) {
        error = -ENOMEM;
        goto fail;
    }
    error = insp_ndpi_create(&opts, &insp->ndpi, err, sizeof err);
    if (error) {
        insp_log(insp, FS_LOG_ERR, "%s", err);
        goto fail;
    }
    /* File names belong to the caller: do not keep them. */
    insp->opts.protos_file = insp->opts.categories_file = NULL;
    insp->opts.risky_domains_file = insp->opts.ja3_file = NULL;
    insp->opts.sha1_file = NULL;
    update_memory_peak(insp);
    *out = insp;
    return 0;

fail:
    fs_inspector_destroy(insp);
    return error;
}

void
fs_inspector_destroy(struct fs_inspector *insp)
{
    uint32_t i;

    if (!insp) {
        return;
    }
    for (i = 0; insp->table.flows && i < insp->table.capacity; i++) {
        struct insp_flow *f = &insp->table.flows[i];

        if (f->in_use && f->cls != INSP_NIL) {
            insp_ndpi_flow_release(cls_block(&insp->cls, f->cls));
            free(cls_payload(&insp->cls, f->cls)->buf);
        }
    }
    for (i = 0; i < insp->n_ports; i++) {
        free(insp->ports[i].name);
        free(insp->ports[i].profile);
    }
    free(insp->ports);
    insp_ndpi_destroy(insp->ndpi);
    insp_policy_destroy(insp->policy);
    insp_frags_destroy(insp->frags);
    cls_pool_uninit(&insp->cls);
    insp_flow_table_uninit(&insp->table);
    insp_strtab_uninit(&insp->strings);
    free(insp);
}

/* ---------------------------------------------------------------------- */
/* Ports. */

static struct insp_port *
port_find(const struct fs_inspector *insp, uint32_t port)
{
    size_t lo = 0, hi = insp->n_ports;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (insp->ports[mid].port == port) {
            return &insp->ports[mid];
        } else if (insp->ports[mid].port < port) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* Returns the port whose VM has MAC 'mac', or 0 if none. */
static uint32_t
port_by_mac(const struct fs_inspector *insp, const uint8_t mac[6])
{
    size_t i;

    for (i = 0; i < insp->n_ports; i++) {
        if (insp->ports[i].has_mac && !memcmp(insp->ports[i].mac, mac, 6)) {
            return insp->ports[i].port;
        }
    }
    return 0;
}

/* Returns the port of the VM that flow 'f' goes to, known by its MAC, or 0
 * if there is none other than the one it came from. */
static uint32_t
flow_peer_port(const struct fs_inspector *insp, const struct insp_flow *f)
{
    uint32_t port = port_by_mac(insp, f->dst_mac);

    return port != f->port ? port : 0;
}

/* Returns the port that owns a flow from port 'port' to MAC 'dst_mac' (may
 * be NULL): 'port' if the inspector knows it, else the VM it goes to, else
 * 0.  Per-port limits count flows by owner. */
static uint32_t
flow_owner(const struct fs_inspector *insp, uint32_t port,
           const uint8_t *dst_mac)
{
    uint32_t peer;

    if (port_find(insp, port)) {
        return port;
    }
    peer = dst_mac ? port_by_mac(insp, dst_mac) : 0;
    return peer != port ? peer : 0;
}

/* Counts 'delta' flows for owner 'owner' (0: none). */
static void
owner_count(struct fs_inspector *insp, uint32_t owner, int delta)
{
    struct insp_port *p = owner ? port_find(insp, owner) : NULL;

    if (p) {
        p->n_flows += delta;
    }
}

/* ---------------------------------------------------------------------- */
/* Flow snapshots and judging. */

static const char *
flow_app_name(struct fs_inspector *insp, const struct insp_flow *f)
{
    if (!f->classified) {
        return "Unknown";
    }
    return insp_ndpi_proto_name(insp->ndpi, f->master_id, f->app_id,
                                insp->app_buf, sizeof insp->app_buf);
}

static const char *
flow_ja3(struct fs_inspector *insp, const struct insp_flow *f)
{
    static const char hex[] = "0123456789abcdef";
    int i;

    if (!f->has_ja3) {
        return "";
    }
    for (i = 0; i < 16; i++) {
        insp->ja3_buf[2 * i] = hex[f->ja3[i] >> 4];
        insp->ja3_buf[2 * i + 1] = hex[f->ja3[i] & 15];
    }
    insp->ja3_buf[32] = '\0';
    return insp->ja3_buf;
}

static void
flow_info(struct fs_inspector *insp, const struct insp_flow *f,
          struct fs_flow_info *info)
{
    const struct insp_port *port = port_find(insp, f->port);

    memset(info, 0, sizeof *info);
    info->id = f->id;
    info->key = f->key;
    info->port = f->port;
    info->profile = port ? port->profile : NULL;
    info->peer_port = f->peer_port;
    port = f->peer_port ? port_find(insp, f->peer_port) : NULL;
    info->peer_profile = port ? port->profile : NULL;
    info->category_id = f->category;
    info->pinned = f->pinned;
    info->end_reason = f->end_reason;
    info->state = f->state;
    info->app = flow_app_name(insp, f);
    info->app_id = f->app_id;
    info->master_id = f->master_id;
    info->category = insp_ndpi_category_name(insp->ndpi, f->category);
    info->risks = f->risks;
    info->host = insp_strtab_get(&insp->strings, f->host_id);
    info->ja3 = flow_ja3(insp, f);
    info->guessed = f->guessed;
    info->verdict = f->verdict;
    info->rule = (f->state == FS_FLOW_DECIDED
                  ? insp_policy_rule_name(insp->policy, f->rule_index) : "");
    info->rule_priority = f->rule_priority;
    memcpy(info->packets, f->packets, sizeof info->packets);
    memcpy(info->bytes, f->bytes, sizeof info->bytes);
    info->packets_inspected = f->packets_inspected;
    info->first_seen_ns = f->first_seen_ns;
    info->last_seen_ns = f->last_seen_ns;
    info->origin_id = f->origin_id;
}

/* Reports event 'type' of flow 'f', which changed (for
 * fs_inspector_export()). */
static void
emit(struct fs_inspector *insp, enum fs_event_type type,
     struct insp_flow *f, const struct fs_verdict *old)
{
    struct fs_flow_info info;

    f->epoch = insp->epoch;
    if (insp->opts.event_cb) {
        flow_info(insp, f, &info);
        insp->opts.event_cb(insp->opts.event_aux, type, &info, old);
    }
}

/* Judges 'f' against the policy for the VM on port 'port_no' ('port' its
 * record, or NULL), which is on side 'direction' (INSP_DIR_*) of the flow,
 * knowing its DPI fields as INSP_CLASSIFIED_* 'classified' says.
 * Returns 0 with '*d' filled, or -EAGAIN if DPI is needed first. */
static int
judge_side(struct fs_inspector *insp, const struct insp_flow *f,
           uint32_t port_no, const struct insp_port *port, int direction,
           int classified, struct insp_policy_decision *d)
{
    struct insp_policy_flow pf;
    const char *app_name;

    memset(&pf, 0, sizeof pf);
    pf.key = &f->key;
    pf.direction = direction;
    pf.port = port_no;
    pf.port_name = port ? port->name : NULL;
    pf.profile = port ? port->profile : NULL;
    pf.src_mac = f->src_mac;
    pf.dst_mac = f->dst_mac;
    pf.classified = classified;
    if (classified) {
        pf.app = flow_app_name(insp, f);
        app_name = insp_ndpi_app_name(insp->ndpi, f->app_id);
        pf.app_name = app_name ? app_name : "Unknown";
        pf.master_name = "";
        if (f->master_id && f->master_id != f->app_id) {
            const char *m = insp_ndpi_app_name(insp->ndpi, f->master_id);

            pf.master_name = m ? m : "";
        }
        pf.category = insp_ndpi_category_name(insp->ndpi, f->category);
        pf.risks = f->risks;
        pf.host = insp_strtab_get(&insp->strings, f->host_id);
        pf.ja3 = flow_ja3(insp, f);
    } else {
        pf.app = pf.app_name = pf.master_name = pf.category = "";
        pf.host = pf.ja3 = "";
    }
    return insp_policy_judge(insp->policy, &pf, d);
}

/* Returns true if 'v' drops. */
static bool
verdict_drops(const struct fs_verdict *v)
{
    return (v->actions & FS_ACT_DROP) != 0;
}

/* Merges 'b', the decision for the other VM of a flow, into 'a': the
 * stricter wins.  A drop beats an allow; two allows add up (the lower
 * meter rate, 'a''s mirror port first); 'log' from either side stays. */
static void
merge_decisions(struct insp_policy_decision *a,
                const struct insp_policy_decision *b)
{
    struct fs_verdict *va = &a->verdict;
    const struct fs_verdict *vb = &b->verdict;
    uint32_t log = (va->actions | vb->actions) & FS_ACT_LOG;

    if (verdict_drops(vb) && !verdict_drops(va)) {
        *a = *b;
    } else if (!verdict_drops(va) && !verdict_drops(vb)
               && memcmp(va, vb, sizeof *va)) {
        if (vb->actions & FS_ACT_METER
            && (!(va->actions & FS_ACT_METER)
                || vb->meter_kbps < va->meter_kbps)) {
            va->meter_kbps = vb->meter_kbps;
        }
        if (vb->actions & FS_ACT_MIRROR && !(va->actions & FS_ACT_MIRROR)) {
            memcpy(va->mirror_port, vb->mirror_port, sizeof va->mirror_port);
        }
        if (__builtin_popcount(vb->actions)
            > __builtin_popcount(va->actions)) {
            /* Name the rule that asked for more. */
            a->rule_index = b->rule_index;
            a->priority = b->priority;
        }
        va->actions |= vb->actions;
    }
    a->verdict.actions |= log;
    a->needs_dpi |= b->needs_dpi;
}

/* Judges 'f' against the policy under the VM of each of its ends that is an
 * inspected port (the sender of its first packet, direction=out; the VM
 * that packet went to, known by its MAC, direction=in), the stricter
 * verdict winning; under the ingress port if neither end is known.
 * Returns 0 with '*d' filled, or -EAGAIN if DPI is needed first. */
static int
judge(struct fs_inspector *insp, const struct insp_flow *f, int classified,
      struct insp_policy_decision *d)
{
    const struct insp_port *out = port_find(insp, f->port);
    const struct insp_port *in = (f->peer_port
                                  ? port_find(insp, f->peer_port) : NULL);
    struct insp_policy_decision d_in;
    int error_out, error_in;

    if (!in) {
        return judge_side(insp, f, f->port, out, INSP_DIR_OUT, classified,
                          d);
    }
    error_in = judge_side(insp, f, f->peer_port, in, INSP_DIR_IN,
                          classified, &d_in);
    if (!out) {
        *d = d_in;
        return error_in;
    }
    error_out = judge_side(insp, f, f->port, out, INSP_DIR_OUT, classified,
                           d);
    if (!error_out && !error_in) {
        merge_decisions(d, &d_in);
        return 0;
    } else if (!error_in && verdict_drops(&d_in.verdict)) {
        /* A drop needs nothing more from the other side. */
        *d = d_in;
        return 0;
    } else if (!error_out && verdict_drops(&d->verdict)) {
        return 0;
    }
    d->needs_dpi = 1;
    return -EAGAIN;
}

static void
log_flow(struct fs_inspector *insp, const struct insp_flow *f,
         const char *what)
{
    char src[64], dst[64], actions[64];
    struct fs_flow_info info;

    flow_info(insp, f, &info);
    insp_log(insp, FS_LOG_INFO, "%s: %s:%u -> %s:%u proto %u app %s host "
             "\"%s\" verdict %s rule %s", what,
             fs_ip_format(f->key.src_ip, src, sizeof src), f->key.src_port,
             fs_ip_format(f->key.dst_ip, dst, sizeof dst), f->key.dst_port,
             f->key.l4_proto,
             info.app, info.host,
             insp_verdict_format(&f->verdict, actions, sizeof actions),
             info.rule);
}

/* Records decision 'd' for 'f' and reports it. */
static void
decide(struct fs_inspector *insp, struct insp_flow *f,
       const struct insp_policy_decision *d)
{
    f->verdict = d->verdict;
    f->rule_index = d->rule_index;
    f->rule_priority = d->priority;
    f->state = FS_FLOW_DECIDED;
    insp->counters[FS_CTR_FLOWS_DECIDED]++;
    if (!f->classified) {
        insp->counters[FS_CTR_FLOWS_DECIDED_L4]++;
    }
    if (f->verdict.actions & FS_ACT_LOG) {
        log_flow(insp, f, "verdict");
    }
    emit(insp, FS_EVENT_VERDICT, f, NULL);
}

/* Stores classification result 'res' in 'f', INSP_CLASSIFIED_* 'level'. */
static void
classify_store(struct fs_inspector *insp, struct insp_flow *f,
               const struct insp_ndpi_result *res, int level)
{
    f->master_id = res->master_id;
    f->app_id = res->app_id;
    f->category = res->category;
    f->risks = res->risks;
    f->guessed = res->guessed;
    insp_strtab_unref(&insp->strings, f->host_id);
    f->host_id = insp_strtab_ref(&insp->strings, res->host);
    memcpy(f->ja3, res->ja3, sizeof f->ja3);
    f->has_ja3 = res->has_ja3;
    f->classified = level;
}

/* Frees 'f''s nDPI state. */
static void
classify_stop(struct fs_inspector *insp, struct insp_flow *f)
{
    struct insp_payload *pl = cls_payload(&insp->cls, f->cls);

    insp->payload_memory -= pl->cap;
    free(pl->buf);
    insp_ndpi_flow_release(cls_block(&insp->cls, f->cls));
    cls_free(&insp->cls, f->cls);
    f->cls = INSP_NIL;
}

/* Stores final classification result 'res' in 'f' and decides it. */
static void
classify_done(struct fs_inspector *insp, struct insp_flow *f,
              const struct insp_ndpi_result *res)
{
    struct insp_policy_decision d;

    classify_store(insp, f, res, INSP_CLASSIFIED_FINAL);
    classify_stop(insp, f);
    if (f->state != FS_FLOW_DECIDED) {
        judge(insp, f, INSP_CLASSIFIED_FINAL, &d);
        decide(insp, f, &d);
    } else if (f->rule_index == INSP_RULE_KEPT
               && !judge(insp, f, INSP_CLASSIFIED_FINAL, &d)) {
        /* Classified again for a policy that needs its application (see
         * rejudge()): decided anew. */
        struct fs_verdict old = f->verdict;

        f->verdict = d.verdict;
        f->rule_index = d.rule_index;
        f->rule_priority = d.priority;
        if (memcmp(&old, &f->verdict, sizeof old)) {
            insp->counters[FS_CTR_VERDICTS_CHANGED]++;
            emit(insp, FS_EVENT_VERDICT_CHANGED, f, &old);
        } else {
            emit(insp, FS_EVENT_VERDICT, f, NULL);
        }
    }
}

/* nDPI detected 'f''s application ('res') and could tell more with more
 * packets: decides 'f' now if no detail still to come can change its
 * verdict, so that the rest of the flow bypasses the inspector. */
static void
classify_detected(struct fs_inspector *insp, struct insp_flow *f,
                  const struct insp_ndpi_result *res)
{
    struct insp_policy_decision d;

    classify_store(insp, f, res, INSP_CLASSIFIED_DETECTED);
    if (!judge(insp, f, INSP_CLASSIFIED_DETECTED, &d)) {
        decide(insp, f, &d);
        if (!insp->opts.classify_all) {
            classify_stop(insp, f);
        }
    }
}

/* Ends classification of 'f' with what nDPI knows now. */
static void
giveup_flow(struct fs_inspector *insp, struct insp_flow *f)
{
    struct insp_ndpi_result res;

    insp_ndpi_giveup(insp->ndpi, cls_block(&insp->cls, f->cls), &res);
    if (!res.app_id) {
        insp->counters[FS_CTR_FLOWS_GIVEN_UP]++;
    }
    classify_done(insp, f, &res);
}

/* Starts classifying 'f'.  If no nDPI block is free, decides 'f' at once
 * as an unknown application.  Returns nonzero if classification started. */
static int
classify_start(struct fs_inspector *insp, struct insp_flow *f)
{
    f->cls = cls_alloc(&insp->cls);
    if (f->cls == INSP_NIL) {
        insp->counters[FS_CTR_CLASSIFY_FULL]++;
        if (f->state != FS_FLOW_DECIDED) {
            struct insp_policy_decision d;

            f->classified = INSP_CLASSIFIED_FINAL;
            judge(insp, f, INSP_CLASSIFIED_FINAL, &d);
            decide(insp, f, &d);
        }
        return 0;
    }
    insp_ndpi_flow_init(cls_block(&insp->cls, f->cls));
    if (f->packets[0] + f->packets[1]) {
        /* Classified from the middle (a new policy needs its application):
         * no sequence to hold it to (see tcp_for_dpi()). */
        f->seq_known = 0;
    }
    f->state = f->state == FS_FLOW_DECIDED ? f->state : FS_FLOW_CLASSIFYING;
    update_memory_peak(insp);
    return 1;
}

/* Takes flow 'idx' out of the table and its port's count, silently. */
static void
forget_flow(struct fs_inspector *insp, uint32_t idx)
{
    struct insp_flow *f = insp_flow_get(&insp->table, idx);

    owner_count(insp, f->owner, -1);
    insp_strtab_unref(&insp->strings, f->host_id);
    insp_flow_remove(&insp->table, idx);
}

/* Removes flow 'idx' for 'reason', reporting FS_EVENT_FLOW_END and counting
 * it in counter 'why' (if not FS_N_COUNTERS). */
static void
end_flow(struct fs_inspector *insp, uint32_t idx, enum fs_flow_end reason,
         enum fs_counter why)
{
    struct insp_flow *f = insp_flow_get(&insp->table, idx);

    if (f->cls != INSP_NIL
        && (reason == FS_END_MIGRATED || reason == FS_END_REPLACED)) {
        classify_stop(insp, f);     /* Its state goes on elsewhere, or a
                                     * record's takes its place. */
    } else if (f->cls != INSP_NIL) {
        /* Classify with what is known, so that the end says it. */
        giveup_flow(insp, f);
    }
    f->end_reason = reason;
    emit(insp, FS_EVENT_FLOW_END, f, NULL);
    forget_flow(insp, idx);
    if (why != FS_N_COUNTERS) {
        insp->counters[why]++;
    }
}

/* Judges the live flow 'f' again after a policy or profile change.
 * Returns nonzero if its verdict changed. */
static int
rejudge(struct fs_inspector *insp, struct insp_flow *f)
{
    struct insp_policy_decision d;
    struct fs_verdict old = f->verdict;

    if (f->inputs_lost && verdict_drops(&f->verdict)) {
        /* Restored from a drop rule alone: the VMs it was judged under are
         * not known, so nothing can safely undo it. */
        return 0;
    }
    if (f->state == FS_FLOW_CLASSIFYING) {
        if (!judge(insp, f, INSP_CLASSIFIED_NONE, &d)) {
            decide(insp, f, &d);
            if (!insp->opts.classify_all && f->cls != INSP_NIL) {
                classify_stop(insp, f);
            }
        }
        return 0;
    }
    if (judge(insp, f, f->classified, &d)) {
        /* Decided on L3/L4 alone, but the new policy needs to know the
         * application: classify from here on, keeping the verdict, which
         * no rule of this policy chose.  A pinned flow sees no packets: if
         * it is allowed, the caller must let them come again; a drop is
         * kept (the connection is dead anyway, and nothing is un-blocked
         * on a guess). */
        f->rule_index = INSP_RULE_KEPT;
        f->rule_priority = -1;
        if ((f->pinned && verdict_drops(&f->verdict))
            || (f->cls == INSP_NIL && !classify_start(insp, f))) {
            return 0;
        }
        if (f->pinned) {
            insp_flow_set_pinned(&insp->table, f - insp->table.flows, false);
            insp->counters[FS_CTR_FLOWS_REINSPECTED]++;
            emit(insp, FS_EVENT_REINSPECT, f, NULL);
        }
        return 0;
    }
    f->verdict = d.verdict;
    f->rule_index = d.rule_index;
    f->rule_priority = d.priority;
    if (!memcmp(&old, &f->verdict, sizeof old)) {
        return 0;
    }
    insp->counters[FS_CTR_VERDICTS_CHANGED]++;
    if (f->verdict.actions & FS_ACT_LOG) {
        log_flow(insp, f, "verdict changed");
    }
    emit(insp, FS_EVENT_VERDICT_CHANGED, f, &old);
    return 1;
}

/* Judges again every live flow (of port 'port' only, unless 'all').
 * Returns the number of changed verdicts. */
static unsigned int
rejudge_flows(struct fs_inspector *insp, int all, uint32_t port)
{
    unsigned int changed = 0;
    uint32_t i;

    for (i = 0; i < insp->table.capacity; i++) {
        struct insp_flow *f = &insp->table.flows[i];

        if (f->in_use && (all || f->port == port || f->peer_port == port)) {
            changed += rejudge(insp, f);
        }
    }
    return changed;
}

/* ---------------------------------------------------------------------- */
/* Policy and ports. */

/* Returns the digest of policy text 'text': 64-bit FNV-1a, never 0.  Not
 * for an adversary (the policy is the admin's): two hosts with the same
 * text agree on it. */
static uint64_t
policy_digest(const char *text)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (; *text; text++) {
        h = (h ^ (uint8_t) *text) * UINT64_C(0x100000001b3);
    }
    return h ? h : 1;
}

uint64_t
fs_inspector_policy_digest(const struct fs_inspector *insp)
{
    return insp->policy_digest;
}

/* Replaces the policy with 'text' (see fs_inspector_set_policy()), judging
 * the live flows again if 'rejudge'. */
static int
set_policy(struct fs_inspector *insp, const char *name, const char *text,
           bool rejudge, unsigned int *changed, char *err, size_t err_size)
{
    struct insp_policy *policy = NULL;
    unsigned int n = 0;
    int error;

    if (text) {
        error = insp_policy_parse(name ? name : "policy", text, &policy, err,
                                  err_size);
        if (error) {
            return error;
        }
    } else if (err && err_size) {
        err[0] = '\0';
    }
    insp_policy_destroy(insp->policy);
    insp->policy = policy;
    insp->policy_digest = text ? policy_digest(text) : 0;
    if (rejudge) {
        n = rejudge_flows(insp, 1, 0);
    }
    if (changed) {
        *changed = n;
    }
    return 0;
}

int
fs_inspector_set_policy(struct fs_inspector *insp, const char *name,
                        const char *text, unsigned int *changed,
                        char *err, size_t err_size)
{
    return set_policy(insp, name, text, true, changed, err, err_size);
}

int
fs_inspector_set_policy_for_new_flows(struct fs_inspector *insp,
                                      const char *name, const char *text,
                                      char *err, size_t err_size)
{
    return set_policy(insp, name, text, false, NULL, err, err_size);
}

int
fs_inspector_load_policy(struct fs_inspector *insp, const char *path,
                         unsigned int *changed, char *err, size_t err_size)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *file;
    int error;

    file = fopen(path, "r");
    if (!file) {
        error = errno;
        if (err) {
            snprintf(err, err_size, "%s: %s", path, strerror(error));
        }
        return -error;
    }
    for (;;) {
        size_t n;

        if (cap - len < 4096) {
            char *p = cap < (64u << 20) ? realloc(text, cap + 65536) : NULL;

            if (!p) {
                free(text);
                fclose(file);
                if (err) {
                    snprintf(err, err_size, "%s: file too large or out of "
                             "memory", path);
                }
                return -EFBIG;
            }
            text = p;
            cap += 65536;
        }
        n = fread(text + len, 1, cap - len - 1, file);
        len += n;
        if (!n) {
            break;
        }
    }
    error = ferror(file) ? errno : 0;
    fclose(file);
    if (error) {
        free(text);
        if (err) {
            snprintf(err, err_size, "%s: %s", path, strerror(error));
        }
        return -error;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        if (err) {
            snprintf(err, err_size, "%s: contains a NUL byte", path);
        }
        return -EINVAL;
    }
    error = fs_inspector_set_policy(insp, path, text, changed, err,
                                    err_size);
    free(text);
    return error;
}

/* Returns the record of port 'port', adding an empty one if there is
 * none, or NULL if out of memory.  Valid until the next port is added. */
static struct insp_port *
port_get(struct fs_inspector *insp, uint32_t port)
{
    struct insp_port *p = port_find(insp, port);
    struct insp_port *ports;
    size_t i;

    if (p) {
        return p;
    }
    ports = realloc(insp->ports, (insp->n_ports + 1) * sizeof *ports);
    if (!ports) {
        return NULL;
    }
    insp->ports = ports;
    for (i = insp->n_ports; i > 0 && ports[i - 1].port > port; i--) {
        ports[i] = ports[i - 1];
    }
    p = &ports[i];
    memset(p, 0, sizeof *p);
    p->port = port;
    insp->n_ports++;
    return p;
}

int
fs_inspector_set_port(struct fs_inspector *insp, uint32_t port,
                      const char *name, const char *profile,
                      unsigned int *changed)
{
    char *new_name = name ? strdup(name) : NULL;
    char *new_profile = profile ? strdup(profile) : NULL;
    struct insp_port *p;
    unsigned int n;

    p = (name && !new_name) || (profile && !new_profile)
        ? NULL : port_get(insp, port);
    if (!p) {
        free(new_name);
        free(new_profile);
        return -ENOMEM;
    }
    free(p->name);
    free(p->profile);
    p->name = new_name;
    p->profile = new_profile;
    n = rejudge_flows(insp, 0, port);
    if (changed) {
        *changed = n;
    }
    return 0;
}

int
fs_inspector_set_port_mac(struct fs_inspector *insp, uint32_t port,
                          const uint8_t mac[6], unsigned int *changed)
{
    struct insp_port *p = port_get(insp, port);
    unsigned int n = 0;
    uint32_t i;

    if (!p) {
        return -ENOMEM;
    }
    p->has_mac = mac != NULL;
    memcpy(p->mac, mac ? mac : (const uint8_t [6]) { 0 }, 6);

    /* The VM a flow goes to may be another one now. */
    for (i = 0; i < insp->table.capacity; i++) {
        struct insp_flow *f = &insp->table.flows[i];
        uint32_t peer;

        if (f->in_use) {
            peer = flow_peer_port(insp, f);
            if (peer != f->peer_port) {
                f->peer_port = peer;
                owner_count(insp, f->owner, -1);
                f->owner = flow_owner(insp, f->port, f->dst_mac);
                owner_count(insp, f->owner, 1);
                n += rejudge(insp, f);
            }
        }
    }
    if (changed) {
        *changed = n;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Data path. */

/* Adds a flow for 'key' to the table, evicting the least recently seen
 * flow that is not pinned if the table is full and the policy says so.
 * Returns its index, or INSP_NIL if the table is full. */
static uint32_t
insert_flow(struct fs_inspector *insp, const struct fs_flow_key *key,
            uint32_t hash)
{
    uint32_t idx = insp_flow_insert(&insp->table, key, hash);
    uint32_t victim = INSP_NIL;
    int c;

    if (idx != INSP_NIL) {
        return idx;
    }
    insp->counters[FS_CTR_TABLE_FULL]++;
    if (insp->opts.table_full != FS_FULL_EVICT_IDLE) {
        return INSP_NIL;
    }
    for (c = 0; c < INSP_N_LRU; c++) {
        uint32_t h = insp->table.lru_head[c];

        if (h != INSP_NIL
            && (victim == INSP_NIL
                || insp->table.flows[h].last_seen_ns
                   < insp->table.flows[victim].last_seen_ns)) {
            victim = h;
        }
    }
    if (victim == INSP_NIL) {
        return INSP_NIL;        /* Every flow is pinned. */
    }
    end_flow(insp, victim, FS_END_EVICTED, FS_CTR_FLOWS_EVICTED);
    return insp_flow_insert(&insp->table, key, hash);
}

/* Says whether port 'owner' may have another flow: it is under its limit,
 * or (FS_PORT_FULL_EVICT_IDLE) one of its flows that is not pinned, the
 * least recently seen, was evicted to make room. */
static bool
port_has_room(struct fs_inspector *insp, uint32_t owner)
{
    const struct insp_port *p = port_find(insp, owner);
    uint32_t victim = INSP_NIL;
    int c;

    if (!insp->port_max_flows || !p || p->n_flows < insp->port_max_flows) {
        return true;
    }
    insp->counters[FS_CTR_PORT_FULL]++;
    if (insp->port_full != FS_PORT_FULL_EVICT_IDLE) {
        return false;
    }
    for (c = 0; c < INSP_N_LRU; c++) {
        uint32_t i;

        for (i = insp->table.lru_head[c]; i != INSP_NIL;
             i = insp->table.flows[i].lru_next) {
            if (insp->table.flows[i].owner == owner) {
                if (victim == INSP_NIL
                    || insp->table.flows[i].last_seen_ns
                       < insp->table.flows[victim].last_seen_ns) {
                    victim = i;
                }
                break;
            }
        }
    }
    if (victim == INSP_NIL) {
        return false;           /* All pinned: rules in the switch. */
    }
    end_flow(insp, victim, FS_END_EVICTED, FS_CTR_FLOWS_EVICTED);
    return true;
}

/* Creates a flow for parsed packet 'p'.  Returns its index or INSP_NIL
 * (table full under a policy other than eviction, or the flow's port at
 * its limit, with insp->port_full_hit set). */
static uint32_t
flow_create(struct fs_inspector *insp, const struct fs_packet *pkt,
            const struct insp_parsed *p, uint32_t hash)
{
    uint32_t owner = flow_owner(insp, pkt->port, p->eth);
    struct insp_policy_decision d;
    struct insp_flow *f;
    uint32_t idx;

    if (owner && !port_has_room(insp, owner)) {
        insp->port_full_hit = 1;
        return INSP_NIL;
    }
    idx = insert_flow(insp, &p->key, hash);
    if (idx == INSP_NIL) {
        return INSP_NIL;
    }
    f = insp_flow_get(&insp->table, idx);
    f->id = insp->next_flow_id;
    insp->next_flow_id += insp->opts.flow_id_stride;
    f->port = pkt->port;
    f->owner = owner;
    owner_count(insp, owner, 1);
    f->first_seen_ns = insp->now_ns;
    f->rule_index = -1;
    f->rule_priority = -1;
    f->state = FS_FLOW_CLASSIFYING;
    if (p->eth) {
        memcpy(f->dst_mac, p->eth, 6);
        memcpy(f->src_mac, p->eth + 6, 6);
        f->peer_port = flow_peer_port(insp, f);
    }
    insp->counters[FS_CTR_FLOWS_CREATED]++;

    if (!judge(insp, f, INSP_CLASSIFIED_NONE, &d)) {
        decide(insp, f, &d);
        if (!insp->opts.classify_all) {
            return idx;
        }
    }
    classify_start(insp, f);
    return idx;
}

/* Counts the payload of classifying flow 'f' cut: it no longer keeps its
 * packets. */
static void
payload_cut(struct fs_inspector *insp, struct insp_payload *pl)
{
    if (!pl->cut) {
        pl->cut = 1;
        insp->counters[FS_CTR_PAYLOAD_CUT]++;
    }
}

/* Keeps the 'len' bytes at 'l3', which classifying flow 'f' gives nDPI at
 * 'ts_ns' as its 'n_packets'th packet, for migration, within the bounds of
 * fs_inspector_opts' 'payload_bytes' and 'payload_memory'. */
static void
payload_keep(struct fs_inspector *insp, struct insp_flow *f,
             const uint8_t *l3, uint32_t len, uint64_t ts_ns,
             uint32_t n_packets)
{
    struct insp_payload *pl = cls_payload(&insp->cls, f->cls);
    uint32_t max = insp->opts.payload_bytes;
    uint32_t need = INSP_PAYLOAD_ENTRY_HEAD + len;

    if (pl->cut) {
        return;
    }
    if (max == UINT32_MAX || !len || len > UINT16_MAX
        || need > max - pl->len) {
        payload_cut(insp, pl);
        return;
    }
    if (need > pl->cap - pl->len) {
        uint32_t cap = pl->cap ? pl->cap : 1024;
        uint64_t grow;
        uint8_t *buf;

        while (cap < pl->len + need) {
            cap *= 2;
        }
        cap = cap < max ? cap : max;
        grow = cap - pl->cap;
        if (insp->payload_memory + grow > insp->opts.payload_memory
            || (insp->opts.max_memory
                && inspector_memory(insp) + grow > insp->opts.max_memory)
            || !(buf = realloc(pl->buf, cap))) {
            payload_cut(insp, pl);
            return;
        }
        pl->buf = buf;
        pl->cap = cap;
        insp->payload_memory += grow;
        update_memory_peak(insp);
    }
    insp_payload_put_head(pl->buf + pl->len, ts_ns, n_packets, len);
    memcpy(pl->buf + pl->len + INSP_PAYLOAD_ENTRY_HEAD, l3, len);
    pl->len += need;
}

/* Feeds the IP packet 'l3' of 'l3_len' bytes, seen at 'ts_ns' as the
 * flow's 'n_packets'th, to classifying flow 'f''s nDPI state.  'replayed':
 * the packet comes from an imported record's payload. */
static void
flow_inspect(struct fs_inspector *insp, struct insp_flow *f,
             const uint8_t *l3, uint32_t l3_len, uint64_t ts_ns,
             uint32_t n_packets, bool replayed)
{
    struct insp_ndpi_result res;
    int done;

    f->packets_inspected++;
    insp->counters[replayed ? FS_CTR_PACKETS_REPLAYED
                            : FS_CTR_PACKETS_INSPECTED]++;
    payload_keep(insp, f, l3, l3_len, ts_ns, n_packets);
    done = insp_ndpi_process(insp->ndpi, cls_block(&insp->cls, f->cls),
                             l3, l3_len, ts_ns / NS_PER_MS, n_packets,
                             insp->budget[f->lru],
                             f->state != FS_FLOW_DECIDED, &res);
    if (done == INSP_NDPI_DONE) {
        if (!res.app_id) {
            insp->counters[FS_CTR_FLOWS_GIVEN_UP]++;
        }
        classify_done(insp, f, &res);
    } else if (done == INSP_NDPI_DETECTED) {
        classify_detected(insp, f, &res);
    }
}

int
fs_inspector_set_exception(struct fs_inspector *insp, int exception,
                           enum fs_exception_action action)
{
    if ((unsigned int) action >= N_EXCEPTION_ACTIONS
        || exception < -1 || exception >= FS_N_EXCEPTIONS) {
        return -EINVAL;
    }
    if (exception < 0) {
        memset(insp->exceptions, action, sizeof insp->exceptions);
    } else {
        insp->exceptions[exception] = action;
    }
    return 0;
}

enum fs_exception_action
fs_inspector_get_exception(const struct fs_inspector *insp,
                           enum fs_exception exception)
{
    int action;

    if ((unsigned int) exception >= FS_N_EXCEPTIONS) {
        return FS_EXC_ACTION_DROP;
    }
    action = insp_policy_exception(insp->policy, exception);
    return action >= 0 ? action : insp->exceptions[exception];
}

/* Reports packet 'pkt' (parsed as far as 'p' says) of exception class
 * 'e', forwarded under "alert". */
static void
log_exception(struct fs_inspector *insp, enum fs_exception e,
              const struct fs_packet *pkt, const struct insp_parsed *p)
{
    char src[64], dst[64];

    if (!p->key.ip_version) {
        insp_log(insp, FS_LOG_WARN, "exception %s: frame from port %"PRIu32
                 " forwarded (alert)", exception_names[e], pkt->port);
        return;
    }
    insp_log(insp, FS_LOG_WARN, "exception %s: %s -> %s proto %u from port "
             "%"PRIu32" forwarded (alert)", exception_names[e],
             fs_ip_format(p->key.src_ip, src, sizeof src),
             fs_ip_format(p->key.dst_ip, dst, sizeof dst),
             p->key.l4_proto, pkt->port);
}

/* Counts packet 'pkt' in counter 'counter', that of an exception class,
 * and returns the action of that class for it (enum fs_pkt_action). */
static int
exception(struct fs_inspector *insp, int counter,
          const struct fs_packet *pkt, const struct insp_parsed *p)
{
    int e = exception_of_counter(counter);
    enum fs_exception_action action;

    insp->counters[counter]++;
    action = e >= 0 ? fs_inspector_get_exception(insp, e)
                    : FS_EXC_ACTION_DROP;
    if (action == FS_EXC_ACTION_DROP) {
        insp->counters[FS_CTR_EXCEPTIONS_DROPPED]++;
        return FS_PKT_DROP;
    }
    insp->counters[FS_CTR_EXCEPTIONS_PASSED]++;
    if (action == FS_EXC_ACTION_ALERT) {
        log_exception(insp, e, pkt, p);
    }
    return FS_PKT_PASS;
}

/* Expires idle flows of each class.  Returns how many. */
unsigned int
fs_inspector_expire(struct fs_inspector *insp, uint64_t now_ns)
{
    unsigned int n = 0;
    int c;

    if (now_ns > insp->now_ns) {
        insp->now_ns = now_ns;
    }
    for (c = 0; c < INSP_N_LRU; c++) {
        uint64_t timeout = insp->timeout_ns[c];
        uint32_t idx;

        if (timeout == UINT64_MAX || insp->now_ns < timeout) {
            continue;
        }
        while ((idx = insp->table.lru_head[c]) != INSP_NIL
               && insp->table.flows[idx].last_seen_ns
                  < insp->now_ns - timeout) {
            end_flow(insp, idx, FS_END_IDLE, FS_CTR_FLOWS_EXPIRED);
            n++;
        }
    }
    return n;
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* Says whether TCP packet 'p', from side 'reverse' of flow 'f', opens a new
 * connection on the flow's 5-tuple (see fs_inspector_process_ex()). */
static bool
tcp_reopens(const struct insp_flow *f, const struct insp_parsed *p,
            int reverse)
{
    if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
        return false;
    } else if (f->closed) {
        return true;
    } else if (f->syn_seen & (1u << reverse)
               && f->syn_seq[reverse] == p->tcp_seq) {
        return false;           /* A retransmission. */
    }
    /* The old connection may still be up.  Another SYN on an allowed flow
     * is judged afresh (at worst, the rest of the old connection is
     * classified again); a drop and a flow still classifying keep it. */
    return (f->state == FS_FLOW_DECIDED && !verdict_drops(&f->verdict));
}

/* Says whether TCP packet 'p' of classifying flow 'f', from side
 * 'reverse', goes to nDPI (1; other protocols too), does not (0), or is an
 * exception (-1).  For a flow whose first packet was its SYN, nDPI gets
 * only the connection's own segments, in sequence: it then sees the bytes
 * the receiver assembles, in their order.  A retransmission, a packet of
 * the other side before its SYN-ACK, a SYN-ACK that does not acknowledge
 * the SYN (a late packet of an earlier connection on the 5-tuple) is
 * forwarded or dropped as the flow's state says, but not inspected, and
 * counted.  While the flow is undecided, a segment ahead of the inspected
 * bytes, or one that overlaps them with new bytes, is exception class
 * tcp_sequence: sent ahead, junk would make nDPI's own TCP tracking take
 * the real request for a retransmission, and a request sent in two
 * segments, the second first, would be assembled by the receiver but
 * never by nDPI.  A flow picked up in the middle (or imported, or
 * inspected again), and fragments, go to nDPI as they come. */
#define SEQ_TRACKED 4           /* insp_flow's 'seq_known': the flow's first
                                 * packet was its SYN. */

/* Sequence distances beyond this are not 'ahead' but behind (mod 2**32):
 * the largest window TCP allows (RFC 7323). */
#define TCP_WINDOW_MAX (UINT32_C(1) << 30)

static int
tcp_for_dpi(struct fs_inspector *insp, struct insp_flow *f,
            const struct insp_parsed *p, int reverse)
{
    uint32_t bit = 1u << reverse, len, ahead;

    if (!(f->seq_known & SEQ_TRACKED) || p->is_fragment) {
        return 1;
    }
    len = (p->tcp_payload + !!(p->tcp_flags & TCP_SYN)
           + !!(p->tcp_flags & TCP_FIN));
    if (!(f->seq_known & bit)) {
        uint8_t syn_ack = p->tcp_flags & (TCP_SYN | TCP_ACK);
        bool opens = (!reverse
                      ? syn_ack == TCP_SYN && p->tcp_seq == f->syn_seq[0]
                      : (syn_ack == (TCP_SYN | TCP_ACK)
                         && p->tcp_ack == f->syn_seq[0] + 1));

        if (!opens) {
            insp->counters[FS_CTR_TCP_NOT_IN_SEQUENCE]++;
            return 0;
        }
        f->seq_known |= bit;
        f->next_seq[reverse] = p->tcp_seq + len;
        return 1;
    }
    if (p->tcp_seq == f->next_seq[reverse]) {
        f->next_seq[reverse] += len;
        return 1;
    }
    if (!reverse && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN
        && p->tcp_seq != f->syn_seq[0] && f->state != FS_FLOW_DECIDED) {
        /* The initiator tries again with another initial number before
         * the flow is decided: that connection is the one to follow. */
        f->syn_seq[0] = p->tcp_seq;
        f->next_seq[0] = p->tcp_seq + len;
        f->seq_known = SEQ_TRACKED | 1;
        return 1;
    }
    /* How far past the inspected bytes the segment starts, and ends. */
    ahead = p->tcp_seq - f->next_seq[reverse];
    if (f->state != FS_FLOW_DECIDED
        && (ahead < TCP_WINDOW_MAX
            || p->tcp_seq + len - f->next_seq[reverse] - 1
               < TCP_WINDOW_MAX)) {
        return -1;
    }
    insp->counters[FS_CTR_TCP_NOT_IN_SEQUENCE]++;
    return 0;
}

/* Returns true if 'pkt', of flow 'f' in direction 'reverse', comes in on
 * another port than the flow's own for that direction (exception class
 * port_mismatch): a VM that sends on another VM's 5-tuple must neither get
 * that flow's verdict nor end it with a SYN of its own. */
static bool
port_mismatch(const struct insp_flow *f, const struct fs_packet *pkt,
              int reverse)
{
    uint32_t own = reverse ? f->peer_port : f->port;

    return pkt->port && own && pkt->port != own;
}

/* Looks up or creates the flow of parsed packet 'p'.  Returns its index,
 * with '*reverse' set if 'p' goes the flow's reverse way, or INSP_NIL with
 * the packet's action in '*action'. */
static uint32_t
flow_of_packet(struct fs_inspector *insp, const struct fs_packet *pkt,
               const struct insp_parsed *p, int *reverse, int *action,
               struct fs_pkt_result *result)
{
    uint32_t hash = insp_flow_hash(&insp->table, &p->key);
    uint32_t idx = insp_flow_lookup(&insp->table, &p->key, hash, reverse);

    if (idx != INSP_NIL
        && port_mismatch(insp_flow_get(&insp->table, idx), pkt, *reverse)) {
        result->exception = FS_EXC_PORT_MISMATCH;
        *action = exception(insp, FS_CTR_ERR_PORT_MISMATCH, pkt, p);
        /* Forwarded, it is still judged with the flow (whose drop drops
         * it), but does not reopen it. */
        return *action == FS_PKT_DROP ? INSP_NIL : idx;
    }
    if (idx != INSP_NIL && p->key.l4_proto == IPPROTO_TCP
        && !(p->is_fragment && p->frag_offset)
        && tcp_reopens(insp_flow_get(&insp->table, idx), p, *reverse)) {
        end_flow(insp, idx, FS_END_REOPENED, FS_CTR_FLOWS_REOPENED);
        idx = INSP_NIL;
    }
    if (idx != INSP_NIL) {
        return idx;
    }
    if (p->is_fragment && p->frag_offset) {
        /* Its first fragment's flow is gone (e.g. evicted). */
        *action = exception(insp, FS_CTR_ERR_FRAG_ORPHAN, pkt, p);
        return INSP_NIL;
    }
    *reverse = 0;
    insp->port_full_hit = 0;
    idx = flow_create(insp, pkt, p, hash);
    if (idx == INSP_NIL) {
        if (insp->port_full_hit) {
            /* Its port has all the flows it may have: one VM must not
             * take the table (nor the switch's rules) from the others. */
            insp->counters[FS_CTR_PACKETS_DROPPED]++;
            *action = FS_PKT_DROP;
        } else if (insp->opts.table_full == FS_FULL_BYPASS) {
            insp->counters[FS_CTR_PACKETS_BYPASSED]++;
            *action = FS_PKT_PASS;
        } else {
            /* FS_FULL_DROP_NEW, or nothing to evict. */
            insp->counters[FS_CTR_PACKETS_DROPPED]++;
            *action = FS_PKT_DROP;
        }
    }
    return idx;
}

/* Parses 'pkt' into '*p' and applies the exception classes.  Returns -1 if
 * the packet goes on to its flow, else its action. */
static int
parse_packet(struct fs_inspector *insp, const struct fs_packet *pkt,
             struct insp_parsed *p, struct fs_pkt_result *result)
{
    int error, action;

    error = insp_parse(pkt, insp->opts.decode_tunnels, p);
    if (error) {
        if (p->is_fragment) {
            insp->counters[FS_CTR_FRAGMENTS]++;
        }
        result->exception = exception_of_counter(error);
        return exception(insp, error, pkt, p);
    }
    if (p->anomaly) {
        result->exception = exception_of_counter(p->anomaly);
        if (exception(insp, p->anomaly, pkt, p) == FS_PKT_DROP) {
            return FS_PKT_DROP;
        }
    }
    if (insp->opts.ignore_vlan) {
        p->key.vlan = 0;
    }
    if (pkt->ts_ns > insp->now_ns) {
        insp->now_ns = pkt->ts_ns;
        fs_inspector_expire(insp, pkt->ts_ns);
    }
    if (p->is_fragment) {
        insp->counters[FS_CTR_FRAGMENTS]++;
        error = insp_frags_track(insp->frags, p, insp->now_ns);
        if (error) {
            result->exception = exception_of_counter(error);
            action = exception(insp, error, pkt, p);
            /* Forwarded, a fragment whose ports are known is still judged
             * with its flow. */
            if (action == FS_PKT_DROP || !p->frag_ports_known) {
                return action;
            }
        }
    }
    return -1;
}

uint32_t
fs_flow_key_hash(const struct fs_flow_key *key)
{
    uint32_t h = key->ip_version;

    /* XOR: the same whichever side sent.  Then a 32-bit finalizer
     * (MurmurHash3's) so that every bit of every word counts. */
    for (int i = 0; i < 16; i += 4) {
        uint32_t a, b;

        memcpy(&a, &key->src_ip[i], 4);
        memcpy(&b, &key->dst_ip[i], 4);
        h = (h ^ a ^ b) * 0xcc9e2d51;
        h = (h << 15 | h >> 17) * 0x1b873593;
    }
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

int
fs_flow_record_hash(const void *rec, size_t len, uint32_t *hash)
{
    struct insp_record r;

    *hash = 0;
    if (insp_record_decode(rec, len, &r)) {
        return -EINVAL;
    }
    *hash = fs_flow_key_hash(&r.key);
    return 0;
}

int
fs_link_type_from_dlt(int dlt)
{
    /* pcap's DLT_ numbers as on Linux, and LINKTYPE_ ones (the file's). */
    switch (dlt) {
    case 0:                     /* DLT_NULL. */
    case 108:                   /* DLT_LOOP. */
        return FS_LINK_NULL;
    case 1:                     /* DLT_EN10MB. */
        return FS_LINK_ETHERNET;
    case 9:                     /* DLT_PPP. */
        return FS_LINK_PPP;
    case 12:                    /* DLT_RAW. */
    case 14:                    /* DLT_RAW on some BSDs. */
    case 101:                   /* LINKTYPE_RAW. */
        return FS_LINK_RAW;
    case 50:                    /* DLT_PPP_SERIAL. */
        return FS_LINK_PPP_HDLC;
    case 104:                   /* DLT_C_HDLC. */
        return FS_LINK_C_HDLC;
    case 113:                   /* DLT_LINUX_SLL. */
        return FS_LINK_LINUX_SLL;
    case 228:                   /* DLT_IPV4. */
        return FS_LINK_IPV4;
    case 229:                   /* DLT_IPV6. */
        return FS_LINK_IPV6;
    default:
        return -1;
    }
}

int
fs_packet_flow_key(const struct fs_packet *pkt, int decode_tunnels,
                   struct fs_flow_key *key)
{
    struct insp_parsed p;

    memset(&p, 0, sizeof p);
    memset(key, 0, sizeof *key);
    if (insp_parse(pkt, decode_tunnels, &p)) {
        return -EINVAL;
    }
    *key = p.key;
    return 0;
}

uint32_t
fs_packet_flow_hash(const struct fs_packet *pkt, int decode_tunnels)
{
    struct insp_parsed p;

    memset(&p, 0, sizeof p);
    if (insp_parse(pkt, decode_tunnels, &p)) {
        return 0;
    }
    return fs_flow_key_hash(&p.key);
}

int
fs_inspector_process_ex(struct fs_inspector *insp,
                        const struct fs_packet *pkt,
                        struct fs_pkt_result *result)
{
    struct insp_parsed p;
    struct insp_flow *f;
    int action, reverse;
    uint32_t idx;

    result->flow_id = 0;
    result->exception = -1;
    insp->counters[FS_CTR_PACKETS]++;
    insp->counters[FS_CTR_BYTES] += pkt->len > pkt->caplen ? pkt->len
                                                           : pkt->caplen;
    if (pkt->len > pkt->caplen) {
        insp->counters[FS_CTR_SNAPLEN_CUT]++;
    }
    action = parse_packet(insp, pkt, &p, result);
    if (action >= 0) {
        return result->action = action;
    }
    idx = flow_of_packet(insp, pkt, &p, &reverse, &action, result);
    if (idx == INSP_NIL) {
        if (p.is_fragment && p.frag_offset) {
            result->exception = FS_EXC_FRAG_ORPHAN;
        }
        return result->action = action;
    }

    f = insp_flow_get(&insp->table, idx);
    result->flow_id = f->id;
    f->packets[reverse]++;
    f->bytes[reverse] += p.wire_len;
    f->tcp_flags[reverse] |= p.tcp_flags;
    f->last_seen_ns = insp->now_ns;
    f->epoch = insp->epoch;
    insp_flow_touch(&insp->table, idx);
    if (p.key.l4_proto == IPPROTO_TCP && (p.tcp_flags & TCP_SYN)
        && !(p.tcp_flags & TCP_ACK) && !(f->syn_seen & (1u << reverse))) {
        f->syn_seen |= 1u << reverse;
        f->syn_seq[reverse] = p.tcp_seq;
        if (f->packets[0] + f->packets[1] == 1) {
            f->seq_known = SEQ_TRACKED;
        }
    }

    if (f->cls != INSP_NIL && !(p.is_fragment && p.frag_offset)) {
        int in_sequence = tcp_for_dpi(insp, f, &p, reverse);

        if (in_sequence < 0) {
            result->exception = FS_EXC_TCP_SEQUENCE;
            return result->action = exception(insp, FS_CTR_ERR_TCP_SEQUENCE,
                                              pkt, &p);
        } else if (in_sequence) {
            uint64_t n = f->packets[0] + f->packets[1];

            flow_inspect(insp, f, p.l3, p.l3_len, insp->now_ns,
                         n < UINT32_MAX ? n : UINT32_MAX, false);
        }
    }
    if (f->verdict.actions & FS_ACT_DROP) {
        insp->counters[FS_CTR_PACKETS_DROPPED]++;
        return result->action = FS_PKT_DROP;
    }
    if (p.key.l4_proto == IPPROTO_TCP && p.tcp_flags & (TCP_FIN | TCP_RST)) {
        f->closed = 1;          /* Only what is let through counts. */
    }
    return result->action = FS_PKT_PASS;
}

int
fs_inspector_process(struct fs_inspector *insp, const struct fs_packet *pkt)
{
    struct fs_pkt_result result;

    return fs_inspector_process_ex(insp, pkt, &result);
}

unsigned int
fs_inspector_process_burst(struct fs_inspector *insp,
                           const struct fs_packet *pkts, unsigned int n,
                           uint8_t *actions)
{
    unsigned int i, n_pass = 0;

    for (i = 0; i < n; i++) {
        actions[i] = fs_inspector_process(insp, &pkts[i]);
        n_pass += actions[i] == FS_PKT_PASS;
    }
    return n_pass;
}

unsigned int
fs_inspector_giveup_all(struct fs_inspector *insp)
{
    unsigned int n = 0;
    uint32_t i;

    for (i = 0; i < insp->table.capacity; i++) {
        struct insp_flow *f = &insp->table.flows[i];

        if (f->in_use && f->cls != INSP_NIL) {
            n += f->state != FS_FLOW_DECIDED;
            giveup_flow(insp, f);
        }
    }
    return n;
}

unsigned int
fs_inspector_flush(struct fs_inspector *insp)
{
    unsigned int n = 0;
    uint32_t i;

    for (i = 0; i < insp->table.capacity; i++) {
        if (insp->table.flows[i].in_use) {
            end_flow(insp, i, FS_END_FLUSHED, FS_N_COUNTERS);
            n++;
        }
    }
    return n;
}

int
fs_inspector_foreach_flow(struct fs_inspector *insp, fs_flow_cb *cb,
                          void *aux)
{
    uint32_t i;

    for (i = 0; i < insp->table.capacity; i++) {
        const struct insp_flow *f = &insp->table.flows[i];

        if (f->in_use) {
            struct fs_flow_info info;
            int ret;

            flow_info(insp, f, &info);
            ret = cb(aux, &info);
            if (ret) {
                return ret;
            }
        }
    }
    return 0;
}

int
fs_inspector_find_flow(struct fs_inspector *insp,
                       const struct fs_flow_key *key, fs_flow_cb *cb,
                       void *aux)
{
    struct fs_flow_info info;
    uint32_t idx;
    int reverse;

    idx = insp_flow_lookup(&insp->table, key,
                           insp_flow_hash(&insp->table, key), &reverse);
    if (idx == INSP_NIL) {
        return -ENOENT;
    }
    flow_info(insp, insp_flow_get(&insp->table, idx), &info);
    return cb(aux, &info);
}

int
fs_inspector_pin_flow(struct fs_inspector *insp, uint64_t id,
                      const struct fs_flow_key *key, int pinned)
{
    uint32_t idx = insp_flow_find_id(&insp->table, key, id);

    if (idx == INSP_NIL) {
        return -ENOENT;
    }
    insp_flow_set_pinned(&insp->table, idx, pinned != 0);
    insp->table.flows[idx].epoch = insp->epoch;
    if (!pinned) {
        insp->table.flows[idx].last_seen_ns = insp->now_ns;
    }
    return 0;
}

/* end_flow() for flow 'id' with key 'key'.  Returns 0 or -ENOENT. */
static int
end_flow_by_id(struct fs_inspector *insp, uint64_t id,
               const struct fs_flow_key *key, enum fs_flow_end reason,
               enum fs_counter why)
{
    uint32_t idx = insp_flow_find_id(&insp->table, key, id);

    if (idx == INSP_NIL) {
        return -ENOENT;
    }
    end_flow(insp, idx, reason, why);
    return 0;
}

int
fs_inspector_remove_flow(struct fs_inspector *insp, uint64_t id,
                         const struct fs_flow_key *key)
{
    return end_flow_by_id(insp, id, key, FS_END_REMOVED, FS_N_COUNTERS);
}

int
fs_inspector_release_flow(struct fs_inspector *insp, uint64_t id,
                          const struct fs_flow_key *key)
{
    return end_flow_by_id(insp, id, key, FS_END_MIGRATED,
                          FS_CTR_FLOWS_RELEASED);
}

int
fs_inspector_set_port_limit(struct fs_inspector *insp, uint32_t max_flows,
                            enum fs_port_full_policy policy)
{
    if ((unsigned int) policy > FS_PORT_FULL_EVICT_IDLE) {
        return -EINVAL;
    }
    insp->port_max_flows = max_flows;
    insp->port_full = policy;
    return 0;
}

uint32_t
fs_inspector_port_flows(const struct fs_inspector *insp, uint32_t port)
{
    const struct insp_port *p = port_find(insp, port);

    return p ? p->n_flows : 0;
}

int
fs_inspector_reserve_flow_ids(struct fs_inspector *insp, uint64_t id)
{
    if (!id || id >= UINT64_C(1) << 48) {
        return -EINVAL;
    }
    if (id > insp->next_flow_id) {
        insp->next_flow_id = flow_id_at_or_above(insp, id);
    }
    return 0;
}

void
fs_inspector_set_idle_timeouts(struct fs_inspector *insp, uint32_t tcp_ms,
                               uint32_t udp_ms, uint32_t other_ms)
{
    insp->timeout_ns[INSP_LRU_TCP] = timeout_ns(tcp_ms,
                                                DEFAULT_TIMEOUT_TCP_MS);
    insp->timeout_ns[INSP_LRU_UDP] = timeout_ns(udp_ms,
                                                DEFAULT_TIMEOUT_UDP_MS);
    insp->timeout_ns[INSP_LRU_OTHER] = timeout_ns(other_ms,
                                                  DEFAULT_TIMEOUT_OTHER_MS);
}

/* ---------------------------------------------------------------------- */
/* Flow records. */

static uint64_t
age(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* Copies classifying flow 'f''s kept payload into 'out' (of at least
 * MAX_PAYLOAD_BYTES), its times as ages, and returns its length. */
static size_t
payload_export(struct fs_inspector *insp, const struct insp_flow *f,
               uint8_t *out)
{
    const struct insp_payload *pl = cls_payload(&insp->cls, f->cls);
    struct insp_payload_entry e;
    size_t off = 0, at;

    while (at = off, insp_payload_next(pl->buf, pl->len, &off, &e)) {
        insp_payload_put_head(out + at, age(insp->now_ns, e.age_ns),
                              e.n_packets, e.len);
        memcpy(out + at + INSP_PAYLOAD_ENTRY_HEAD, e.data, e.len);
    }
    return at;
}

/* Fills record 'r' with flow 'f'.  With 'scratch' (MAX_PAYLOAD_BYTES), a
 * flow in classification carries its payload there; without, it is
 * exported as it is decided, or not at all. */
static void
flow_to_record(struct fs_inspector *insp, const struct insp_flow *f,
               struct insp_record *r, uint8_t *scratch)
{
    const struct insp_port *owner = f->owner ? port_find(insp, f->owner)
                                             : NULL;

    memset(r, 0, sizeof *r);
    r->id = f->id;
    r->key = f->key;
    r->port = f->port;
    r->peer_port = f->peer_port;
    memcpy(r->src_mac, f->src_mac, 6);
    memcpy(r->dst_mac, f->dst_mac, 6);
    r->classified = f->classified;
    r->syn_seen = f->syn_seen;
    r->pinned = f->pinned;
    r->closed = f->closed;
    r->has_ja3 = f->has_ja3;
    r->guessed = f->guessed;
    r->inputs_lost = f->inputs_lost;
    r->app_id = f->app_id;
    r->master_id = f->master_id;
    r->category = f->category;
    r->risks = f->risks;
    memcpy(r->ja3, f->ja3, 16);
    r->verdict = f->verdict;
    r->rule_priority = f->rule_priority;
    memcpy(r->packets, f->packets, sizeof r->packets);
    memcpy(r->bytes, f->bytes, sizeof r->bytes);
    memcpy(r->syn_seq, f->syn_seq, sizeof r->syn_seq);
    r->first_age_ns = age(insp->now_ns, f->first_seen_ns);
    r->last_age_ns = age(insp->now_ns, f->last_seen_ns);
    snprintf(r->host, sizeof r->host, "%s",
             insp_strtab_get(&insp->strings, f->host_id));
    if (f->state == FS_FLOW_DECIDED) {
        snprintf(r->rule, sizeof r->rule, "%s",
                 insp_policy_rule_name(insp->policy, f->rule_index));
    } else {
        /* Undecided: no verdict (a record says so, or is refused). */
        memset(&r->verdict, 0, sizeof r->verdict);
        r->rule_priority = -1;
    }

    r->owner = f->owner;
    if (owner && owner->name) {
        snprintf(r->owner_name, sizeof r->owner_name, "%s", owner->name);
    }
    r->origin_id = f->origin_id;
    r->policy_digest = insp->policy_digest;
    if (f->key.l4_proto == IPPROTO_TCP) {
        r->has_tcp = 1;
        r->seq_known = f->seq_known;
        memcpy(r->tcp_flags, f->tcp_flags, 2);
        memcpy(r->next_seq, f->next_seq, sizeof r->next_seq);
    }
    if (scratch) {
        r->n_frags = insp_frags_of_flow(insp->frags, &f->key, insp->now_ns,
                                        r->frags, INSP_RECORD_MAX_FRAGS);
    }
    if (scratch && f->cls != INSP_NIL) {
        r->classifying = 1;
        r->cls_decided = f->state == FS_FLOW_DECIDED;
        r->payload_cut = cls_payload(&insp->cls, f->cls)->cut;
        r->packets_inspected = f->packets_inspected;
        r->payload = scratch;
        r->payload_len = payload_export(insp, f, scratch);
    }
}

int
fs_inspector_export_flow(struct fs_inspector *insp, uint64_t id,
                         const struct fs_flow_key *key, void *buf,
                         size_t size)
{
    uint32_t idx = insp_flow_find_id(&insp->table, key, id);
    struct insp_record r;

    if (idx == INSP_NIL
        || insp->table.flows[idx].state != FS_FLOW_DECIDED) {
        return -ENOENT;
    }
    flow_to_record(insp, &insp->table.flows[idx], &r, NULL);
    return insp_record_encode(&r, buf, size);
}

int
fs_inspector_export_flows(struct fs_inspector *insp, int pinned_only,
                          fs_record_cb *cb, void *aux)
{
    uint8_t buf[FS_FLOW_RECORD_MAX];
    uint32_t i;

    for (i = 0; i < insp->table.capacity; i++) {
        const struct insp_flow *f = &insp->table.flows[i];
        struct insp_record r;
        int len, ret;

        if (!f->in_use || f->state != FS_FLOW_DECIDED
            || (pinned_only && !f->pinned)) {
            continue;
        }
        flow_to_record(insp, f, &r, NULL);
        len = insp_record_encode(&r, buf, sizeof buf);
        ret = len > 0 ? cb(aux, buf, len) : 0;
        if (ret) {
            return ret;
        }
    }
    return 0;
}

uint64_t
fs_inspector_mark(struct fs_inspector *insp)
{
    return insp->epoch++;
}

int
fs_inspector_export(struct fs_inspector *insp, uint32_t port, uint64_t since,
                    unsigned int flags, fs_record_cb *cb, void *aux)
{
    uint8_t *buf = malloc(FS_MIGRATE_RECORD_MAX);
    uint8_t *scratch = malloc(MAX_PAYLOAD_BYTES);
    int ret = 0;
    uint32_t i;

    if (!buf || !scratch) {
        free(buf);
        free(scratch);
        return -ENOMEM;
    }
    for (i = 0; !ret && i < insp->table.capacity; i++) {
        const struct insp_flow *f = &insp->table.flows[i];
        struct insp_record r;
        int len;

        if (!f->in_use || (since && f->epoch <= since)
            || (port != FS_PORT_ANY && f->port != port
                && (flags & FS_EXPORT_FROM_PORT
                    || (f->peer_port != port && f->owner != port)))
            || (f->state != FS_FLOW_DECIDED
                && (flags & FS_EXPORT_DECIDED || f->cls == INSP_NIL))
            || (f->state == FS_FLOW_DECIDED
                && flags & FS_EXPORT_CLASSIFYING)) {
            continue;
        }
        flow_to_record(insp, f, &r, flags & FS_EXPORT_DECIDED ? NULL
                                                              : scratch);
        len = insp_record_encode(&r, buf, FS_MIGRATE_RECORD_MAX);
        ret = len > 0 ? cb(aux, buf, len) : 0;
    }
    free(buf);
    free(scratch);
    return ret;
}

int
fs_inspector_export_one(struct fs_inspector *insp, uint64_t id,
                        const struct fs_flow_key *key, void *buf, size_t size)
{
    uint32_t idx = insp_flow_find_id(&insp->table, key, id);
    uint8_t *scratch;
    struct insp_record r;
    int len;

    if (idx == INSP_NIL) {
        return -ENOENT;
    }
    scratch = malloc(MAX_PAYLOAD_BYTES);
    if (!scratch) {
        return -ENOMEM;
    }
    flow_to_record(insp, &insp->table.flows[idx], &r, scratch);
    len = insp_record_encode(&r, buf, size);
    free(scratch);
    return len;
}

/* Returns exporter port 'port' as this inspector's, by 'o''s map. */
static uint32_t
map_port(const struct fs_import_opts *o, uint32_t port)
{
    size_t i;

    if (!o || !o->port_map || !port) {
        return port;
    }
    for (i = 0; i < o->n_port_map; i++) {
        if (o->port_map[i][0] == port) {
            return o->port_map[i][1];
        }
    }
    return 0;
}

/* Whether record 'r' is of the ports of 'o''s map (FS_IMPORT_MAPPED_ONLY):
 * its flow came from one (the VM began it), or went to one (it came to the
 * VM: its port there means nothing here, and is imported as unknown) with
 * the MAC of that port's VM, when this inspector knows it. */
static bool
record_mapped(const struct fs_inspector *insp,
              const struct fs_import_opts *o, const struct insp_record *r)
{
    const struct insp_port *p;
    uint32_t peer;

    if (!o->port_map) {
        return false;
    } else if (map_port(o, r->port)) {
        return true;
    }
    peer = map_port(o, r->peer_port);
    if (!peer) {
        return false;
    }
    p = port_find(insp, peer);
    return !p || !p->has_mac || !memcmp(p->mac, r->dst_mac, 6);
}

/* Gives the payload of record 'r' to classifying flow 'f''s fresh nDPI
 * state, in order, at the times the exporter saw it. */
static void
payload_replay(struct fs_inspector *insp, struct insp_flow *f,
               const struct insp_record *r)
{
    struct insp_payload_entry e;
    size_t off = 0;

    f->packets_inspected = 0;
    while (f->cls != INSP_NIL
           && insp_payload_next(r->payload, r->payload_len, &off, &e)) {
        flow_inspect(insp, f, e.data, e.len, age(insp->now_ns, e.age_ns),
                     e.n_packets, true);
    }
    if (f->cls != INSP_NIL && r->payload_cut) {
        /* The exporter's bound cut it: nDPI will not see what it would
         * have, so decide now on what it did see. */
        payload_cut(insp, cls_payload(&insp->cls, f->cls));
        giveup_flow(insp, f);
    }
}

/* Imports decoded record 'r' (see fs_inspector_import()).  With 'keep_id'
 * (fs_inspector_import_flow()) the flow keeps the record's id and a live
 * flow of its key is -EEXIST; else it gets an id of ours, and a live flow
 * of its key replaces it if it came from the same flow there (an update),
 * or is a conflict.  Returns 0, -EEXIST or -ENOSPC. */
static int
import_record(struct fs_inspector *insp, struct insp_record *r,
              const struct fs_import_opts *o, bool keep_id,
              struct fs_import_result *res, uint64_t *idp)
{
    unsigned int flags = o ? o->flags : 0;
    bool updated = false, judge_again;
    struct insp_flow *f;
    uint32_t hash, idx;
    uint64_t id;
    int reverse;

    if (insp->opts.ignore_vlan) {
        r->key.vlan = 0;
    }
    hash = insp_flow_hash(&insp->table, &r->key);
    idx = insp_flow_lookup(&insp->table, &r->key, hash, &reverse);
    if (idx != INSP_NIL) {
        f = insp_flow_get(&insp->table, idx);
        if (keep_id) {
            return -EEXIST;
        } else if (f->origin_id != r->id || reverse) {
            /* A flow of ours on the record's 5-tuple (either way): that of
             * the moved VM itself, begun here before its record came, or
             * another VM's reusing its 5-tuple.  The record, with the
             * flow's whole history, wins: kept, ours would give the moved
             * VM's packets another flow's verdict. */
            end_flow(insp, idx, FS_END_REPLACED, FS_CTR_RECORDS_CONFLICT);
            res->conflicts++;
            idx = INSP_NIL;
        }
    }
    if (idx != INSP_NIL) {
        f = insp_flow_get(&insp->table, idx);
        /* A newer record of a flow imported before: it takes the old one's
         * place and id (the caller's rules name it), its nDPI state anew. */
        id = f->id;
        if (f->cls != INSP_NIL) {
            classify_stop(insp, f);
        }
        forget_flow(insp, idx);
        updated = true;
    } else if (keep_id) {
        id = r->id;
    } else {
        id = insp->next_flow_id;
    }
    idx = insert_flow(insp, &r->key, hash);
    if (idx == INSP_NIL) {
        return -ENOSPC;
    }
    if (!keep_id && !updated) {
        insp->next_flow_id += insp->opts.flow_id_stride;
    }

    f = insp_flow_get(&insp->table, idx);
    f->id = id;
    f->origin_id = keep_id ? r->origin_id : r->id;
    f->epoch = insp->epoch;
    f->port = map_port(o, r->port);
    f->peer_port = map_port(o, r->peer_port);
    memcpy(f->src_mac, r->src_mac, 6);
    memcpy(f->dst_mac, r->dst_mac, 6);
    if (o && o->port_map && !f->peer_port) {
        f->peer_port = flow_peer_port(insp, f);
    }
    f->owner = flow_owner(insp, f->port, r->dst_mac);
    if (!f->owner && f->peer_port && port_find(insp, f->peer_port)) {
        f->owner = f->peer_port;
    }
    owner_count(insp, f->owner, 1);
    f->state = (r->classifying && !r->cls_decided ? FS_FLOW_CLASSIFYING
                                                   : FS_FLOW_DECIDED);
    f->classified = r->classified;
    f->syn_seen = r->syn_seen;
    f->closed = r->closed;
    f->has_ja3 = r->has_ja3;
    f->guessed = r->guessed;
    f->inputs_lost = r->inputs_lost;
    f->app_id = r->app_id;
    f->master_id = r->master_id;
    f->category = r->category;
    f->risks = r->risks;
    memcpy(f->ja3, r->ja3, 16);
    f->host_id = insp_strtab_ref(&insp->strings, r->host);
    f->verdict = r->verdict;
    f->rule_index = f->state == FS_FLOW_DECIDED ? INSP_RULE_IMPORTED : -1;
    f->rule_priority = r->rule_priority;
    memcpy(f->packets, r->packets, sizeof f->packets);
    memcpy(f->bytes, r->bytes, sizeof f->bytes);
    memcpy(f->syn_seq, r->syn_seq, sizeof f->syn_seq);
    memcpy(f->tcp_flags, r->tcp_flags, sizeof f->tcp_flags);
    memcpy(f->next_seq, r->next_seq, sizeof f->next_seq);
    f->seq_known = r->seq_known;
    f->first_seen_ns = age(insp->now_ns, r->first_age_ns);
    f->last_seen_ns = age(insp->now_ns, r->last_age_ns);
    if (r->pinned && f->state == FS_FLOW_DECIDED && !r->classifying) {
        insp_flow_set_pinned(&insp->table, idx, true);
    } else {
        insp_flow_place(&insp->table, idx);
    }
    for (int i = 0; i < r->n_frags; i++) {
        insp_frags_restore(insp->frags, &r->key, &r->frags[i],
                           insp->now_ns);
    }
    if (keep_id && r->id >= insp->next_flow_id) {
        insp->next_flow_id = flow_id_at_or_above(insp, r->id + 1);
    }
    insp->counters[FS_CTR_FLOWS_IMPORTED]++;
    if (updated) {
        res->updated++;
    } else {
        res->imported++;
    }
    if (idp) {
        *idp = id;
    }

    /* Judged by our policy if asked, or if the exporter's was another
     * (keep_id: records of our own, whose digest may predate it). */
    judge_again = (flags & FS_IMPORT_REJUDGE
               || (!keep_id && r->policy_digest != insp->policy_digest));
    if (judge_again) {
        res->rejudged++;
    }
    if (r->classifying) {
        uint8_t seq_known = f->seq_known;

        if (classify_start(insp, f)) {
            f->seq_known = seq_known;
            if (f->state == FS_FLOW_DECIDED) {
                emit(insp, FS_EVENT_VERDICT, f, NULL);
            }
            payload_replay(insp, f, r);
            if (r->payload_cut) {
                res->given_up++;
            }
        }
        if (judge_again && f->in_use && f->id == id
            && f->state == FS_FLOW_DECIDED) {
            rejudge(insp, f);
        }
        return 0;
    }
    emit(insp, FS_EVENT_VERDICT, f, NULL);
    if (judge_again && f->in_use && f->id == id) {
        rejudge(insp, f);
    }
    return 0;
}

int
fs_inspector_import_flow(struct fs_inspector *insp, const void *rec,
                         size_t len, unsigned int flags, uint64_t *id)
{
    FS_IMPORT_OPTS(o, .flags = flags);
    struct fs_import_result res;
    struct insp_record r;

    if (insp_record_decode(rec, len, &r)) {
        insp->counters[FS_CTR_RECORDS_BAD]++;
        return -EINVAL;
    }
    memset(&res, 0, sizeof res);
    return import_record(insp, &r, &o, true, &res, id);
}

/* Finds the next record of 'batch' ('len' bytes) at '*off' and moves
 * '*off' past it.  Returns its length, 0 at the end, or -EINVAL if the
 * batch does not hold a whole record there. */
static int
batch_next(const uint8_t *batch, size_t len, size_t *off)
{
    size_t n;

    if (*off >= len) {
        return 0;
    }
    if (len - *off < 6) {
        return -EINVAL;
    }
    n = (size_t) batch[*off + 4] << 8 | batch[*off + 5];
    if (n < 6 || n > len - *off) {
        return -EINVAL;
    }
    *off += n;
    return n;
}

/* A record of a batch, for sorting them oldest first. */
struct batch_rec {
    size_t off, len;
    uint64_t last_age_ns;
    size_t index;
};

static int
compare_batch_recs(const void *a_, const void *b_)
{
    const struct batch_rec *a = a_, *b = b_;

    /* Older (greater age) first; in batch order for equal ages, so that
     * the later of two records of one flow wins. */
    if (a->last_age_ns != b->last_age_ns) {
        return a->last_age_ns < b->last_age_ns ? 1 : -1;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

int
fs_inspector_import(struct fs_inspector *insp, const void *batch_,
                    size_t len, const struct fs_import_opts *user_opts,
                    struct fs_import_result *result)
{
    const uint8_t *batch = batch_;
    struct fs_import_opts o;
    struct fs_import_result res;
    struct batch_rec *recs = NULL;
    size_t n_recs = 0, cap = 0, i;
    struct insp_record *r;
    uint32_t n_new = 0;
    size_t off = 0;
    int n, error = 0;

    memset(&o, 0, sizeof o);
    if (user_opts) {
        if (user_opts->sz < sizeof o.sz + sizeof o.flags
            || user_opts->sz > sizeof o
            || user_opts->flags & ~(unsigned int) (FS_IMPORT_REJUDGE
                                                   | FS_IMPORT_MAPPED_ONLY)) {
            return -EINVAL;
        }
        memcpy(&o, user_opts, user_opts->sz);
    }
    memset(&res, 0, sizeof res);
    r = malloc(sizeof *r);
    if (!r) {
        return -ENOMEM;
    }

    /* All or nothing: check every record, and the room for them, first. */
    while ((n = batch_next(batch, len, &off)) > 0) {
        int reverse;

        if (insp_record_decode(batch + off - n, n, r)
            || (o.flags & FS_IMPORT_MAPPED_ONLY
                && !record_mapped(insp, &o, r))) {
            n = -EINVAL;
            break;
        }
        if (n_recs == cap) {
            struct batch_rec *p;

            cap = cap ? 2 * cap : 64;
            p = realloc(recs, cap * sizeof *recs);
            if (!p) {
                n = -ENOMEM;
                break;
            }
            recs = p;
        }
        recs[n_recs] = (struct batch_rec) { off - n, n, r->last_age_ns,
                                            n_recs };
        n_recs++;
        if (insp->opts.ignore_vlan) {
            r->key.vlan = 0;
        }
        if (insp_flow_lookup(&insp->table, &r->key,
                             insp_flow_hash(&insp->table, &r->key),
                             &reverse) == INSP_NIL) {
            n_new++;
        }
    }
    if (n == -ENOMEM) {
        error = -ENOMEM;
    } else if (n < 0) {
        insp->counters[FS_CTR_RECORDS_BAD]++;
        error = -EINVAL;
    } else if (n_new > insp->table.capacity - insp->table.n_flows) {
        error = -ENOSPC;
    }
    /* Oldest first: each then goes at its LRU list's tail (see
     * insp_flow_place()). */
    if (!error && n_recs) {
        qsort(recs, n_recs, sizeof *recs, compare_batch_recs);
    }
    for (i = 0; !error && i < n_recs; i++) {
        insp_record_decode(batch + recs[i].off, recs[i].len, r);
        error = import_record(insp, r, &o, false, &res, NULL);
    }
    free(recs);
    free(r);
    if (result) {
        *result = res;
    }
    return error;
}

int
fs_inspector_import_verdict(struct fs_inspector *insp, uint64_t id,
                            const struct fs_flow_key *key, uint32_t port,
                            const struct fs_verdict *verdict)
{
    uint8_t buf[FS_FLOW_RECORD_MAX];
    struct insp_record r;
    int len;

    memset(&r, 0, sizeof r);
    r.id = id;
    r.key = *key;
    r.port = port;
    r.pinned = 1;
    r.inputs_lost = 1;
    r.verdict = *verdict;
    r.rule_priority = -1;
    snprintf(r.rule, sizeof r.rule, "imported");
    len = insp_record_encode(&r, buf, sizeof buf);
    return (len < 0 ? len
            : fs_inspector_import_flow(insp, buf, len, 0, NULL));
}

/* ---------------------------------------------------------------------- */
/* Counters. */

uint64_t
fs_inspector_counter(const struct fs_inspector *insp, enum fs_counter c)
{
    return (unsigned int) c < FS_N_COUNTERS ? insp->counters[c] : 0;
}

void
fs_inspector_get_stats(const struct fs_inspector *insp,
                       struct fs_inspector_stats *stats)
{
    struct fs_inspector_stats st;
    size_t sz = stats->sz;

    memset(&st, 0, sizeof st);
    st.sz = sizeof st;
    st.flows = insp->table.n_flows;
    st.flows_classifying = insp->cls.n_used;
    st.max_flows = insp->table.capacity;
    st.max_classifying = insp->cls.max;
    st.bytes_per_flow = (sizeof(struct insp_flow)
                         + sizeof *insp->table.buckets);
    st.bytes_per_classifying = insp->cls.block_size;
    st.memory = inspector_memory(insp);
    st.memory_peak = insp->memory_peak > st.memory ? insp->memory_peak
                                                   : st.memory;
    st.flows_pinned = insp->table.n_pinned;
    st.payload_memory = insp->payload_memory;
    memcpy(stats, &st, sz < sizeof st ? sz : sizeof st);
    stats->sz = sz;
}
