/* Live migration between hosts.  See fs-migrate.h. */
#include <config.h>
#include "fs-migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "dirs.h"
#include "flow.h"
#include "fs-appliance.h"
#include "fs-chan.h"
#include "fs-config.h"
#include "fs-fleet.h"
#include "fs-mig-msg.h"
#include "fs-verdict.h"
#include "fr-conn.h"
#include "fs-openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "stream-ssl.h"
#include "stream.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include <sys/stat.h>
#include <unistd.h>

VLOG_DEFINE_THIS_MODULE(fs_migrate);

/* Bytes queued for a peer above which no delta is made: a slow peer slows
 * the copy, it does not grow the queue. */
#define OUT_HIGH (1u << 20)
#define RECV_CHUNK 65536
#define ENDED_PER_MSG 65536      /* Ids in an ENDED message, at most. */

enum mig_role {
    ROLE_SOURCE,
    ROLE_DEST,
    ROLE_UNKNOWN,               /* Accepted, first message not yet in. */
};

enum mig_state {
    ST_CONNECTING,              /* Our stream to the peer. */
    ST_HELLO,                   /* Waiting for OFFER, ACCEPT or REQUEST. */
    ST_COPYING,                 /* Bulk and deltas. */
    ST_SWITCHING,               /* Source: final sent, waiting for its ACK. */
    ST_RELEASING,               /* Source: the destination owns the flows;
                                 * letting go of them, a batch a turn. */
    ST_DONE,
    ST_FAILED,
    ST_CANCELLED,
};

static const char *const state_names[] = {
    "connecting", "hello", "copying", "switching", "releasing", "done",
    "failed", "cancelled",
};

struct port_info {
    char *iface_id;             /* Or NULL: inspected, but not a VM known
                                 * by an iface-id. */
    uint32_t ofport;
    char *migrate_from;
};

/* The flows of the VM at port 'port', for fs_inspector_foreach_flow(): those
 * it began, and those that came to it. */
struct port_flows {
    struct fs_migrate *m;
    uint32_t port;
    bool imported_only;         /* Only those with an origin elsewhere. */
    bool releasing;             /* Not those that came to it from another
                                 * VM inspected here, whose they are too. */
    struct port_flow {
        uint64_t id;
        uint64_t origin_id;
        struct fs_flow_key key;
    } *flows;
    size_t n, allocated;
};

struct mig {
    struct ovs_list node;
    enum mig_role role;
    enum mig_state state;
    char *iface_id;             /* NULL until known (ROLE_UNKNOWN). */
    char *peer;                 /* The stream's name, or "chassis:NAME". */
    char *chassis;              /* The peer named by its chassis (found in
                                 * the Flowsteer database), or NULL. */
    bool pulled;                /* Started by flowsteer-migrate-from. */
    bool starter;               /* Started here: its Migration row is
                                 * ours to write. */
    int reported;               /* The state its row last said, or -1. */
    long long int started_wall; /* Wall clock, for the row. */
    long long int lookup_until; /* Give up finding the chassis then. */
    struct stream *stream;
    struct fs_mig_buf in, out;

    uint32_t src_port, dst_port;
    uint64_t mark;              /* Source: of the last export. */
    uint32_t next_seq;          /* Of the next RECORDS or ENDED we send. */
    uint32_t last_seq;          /* Source: the last one sent. */
    uint32_t acked_seq;         /* Source: the last one acknowledged. */
    uint32_t bulk_seq;          /* Source: the bulk's last message. */
    uint32_t final_seq;         /* Source: the final message. */
    bool switch_wanted;         /* Switch over as soon as copying. */
    struct fs_migrate *m;
    bool app_pending;           /* Source: an export asked of the
                                 * appliance. */
    bool app_final;             /* ...for the final changes. */
    uint64_t app_mark;          /* Source: the appliance's last mark. */
    uint64_t classifying;       /* Records of flows still classifying. */
    bool final_received;        /* Destination. */
    bool in_file;               /* Destination: named in the incoming
                                 * file (see incoming_write()). */
    bool holding;               /* Destination: the appliance holds the
                                 * packets of the VM's port here. */
    struct port_flows rel;      /* Source, releasing: the flows, */
    size_t rel_next;            /* and the next one to let go of. */
    uint64_t *ended;            /* Source: flows that ended, to send. */
    size_t n_ended, allocated_ended;

    /* Counts. */
    uint64_t records, messages, bytes_out, bytes_in;
    uint64_t imported, updated, conflicts, rejudged, removed, released;
    uint64_t n_flows_offered;
    bool rejudged_logged;

    long long int started, bulk_done, switch_started, ended_at;
    long long int final_acked;  /* Source: the destination owns the VM's
                                 * flows from then; it lets go of them. */
    long long int next_delta, last_rx;
    /* Destination, copying: the packets the steering rules of the VM's
     * port here have matched, polled until they grow (the VM runs here:
     * its announce, or any packet that is not of a migrated flow). */
    uint32_t seen_xid;          /* The poll in flight, or 0. */
    long long int next_seen_poll;
    uint64_t seen_base;
    bool seen_based, seen_asked;
    long long int retry_at;     /* A pull: connect again then. */
    unsigned int n_retries;
    char error[160];
};

struct fs_migrate {
    struct fs_inspector *insp;
    struct fs_verdicts *v;
    struct fs_appliance *app;
    struct fs_fleet *fleet;     /* Finds peers by chassis; or NULL. */
    struct ovs_list migs;       /* struct mig, in progress then ended. */
    size_t n_ended_kept;

    char *remote;               /* Listener, or NULL. */
    char *ssl_key, *ssl_cert, *ssl_ca;
    struct pstream *pstream;
    char listen_error[128];

    struct port_info *ports;
    size_t n_ports;

    /* The integration bridge, for the steering rules' counters: a VM's
     * first packet on this host (see seen_run()). */
    char *bridge;
    struct fr_conn *conn;
    unsigned int conn_seqno;

    /* Migrations coming in, on disk (see incoming_write()), and the ports
     * that file named at start, whose flows are forgotten once the flow
     * state is restored. */
    char *incoming_file;
    uint32_t *stale_ports;
    size_t n_stale_ports;
    uint64_t n_stale_forgotten;

    /* Counters. */
    uint64_t n_accepted, n_refused_tls, n_bad_msgs, n_refused;
    uint64_t n_done, n_failed, n_cancelled;
};

static void mig_fail(struct fs_migrate *, struct mig *, enum mig_state,
                     const char *format, ...) OVS_PRINTF_FORMAT(4, 5);
static void register_commands(struct fs_migrate *);
static void set_bridge(struct fs_migrate *, const struct fs_config *);

struct fs_migrate *
fs_migrate_create(struct fs_inspector *insp, struct fs_verdicts *v,
                  struct fs_appliance *app)
{
    struct fs_migrate *m = xzalloc(sizeof *m);

    m->insp = insp;
    m->v = v;
    m->app = app;
    ovs_list_init(&m->migs);
    register_commands(m);
    return m;
}

static void
mig_free(struct mig *g)
{
    fs_appliance_forget_queries(g->m->app, g);
    stream_close(g->stream);
    fs_mig_buf_uninit(&g->in);
    fs_mig_buf_uninit(&g->out);
    free(g->iface_id);
    free(g->peer);
    free(g->chassis);
    free(g->ended);
    free(g->rel.flows);
    free(g);
}

static void
clear_ports(struct fs_migrate *m)
{
    for (size_t i = 0; i < m->n_ports; i++) {
        free(m->ports[i].iface_id);
        free(m->ports[i].migrate_from);
    }
    free(m->ports);
    m->ports = NULL;
    m->n_ports = 0;
}

void
fs_migrate_destroy(struct fs_migrate *m)
{
    struct mig *g;

    if (!m) {
        return;
    }
    LIST_FOR_EACH_POP (g, node, &m->migs) {
        mig_free(g);
    }
    pstream_close(m->pstream);
    clear_ports(m);
    fr_conn_close(m->conn);
    free(m->bridge);
    free(m->remote);
    free(m->ssl_key);
    free(m->ssl_cert);
    free(m->ssl_ca);
    free(m->incoming_file);
    free(m->stale_ports);
    free(m);
}

static bool
mig_active(const struct mig *g)
{
    return g->state < ST_DONE;
}

static struct mig *
find_active(struct fs_migrate *m, const char *iface_id)
{
    struct mig *g;

    LIST_FOR_EACH (g, node, &m->migs) {
        if (mig_active(g) && g->iface_id && !strcmp(g->iface_id, iface_id)) {
            return g;
        }
    }
    return NULL;
}

static size_t
n_active(const struct fs_migrate *m)
{
    const struct mig *g;
    size_t n = 0;

    LIST_FOR_EACH (g, node, &m->migs) {
        n += mig_active(g);
    }
    return n;
}

static const struct port_info *
find_port(const struct fs_migrate *m, const char *iface_id)
{
    for (size_t i = 0; i < m->n_ports; i++) {
        if (m->ports[i].iface_id && !strcmp(m->ports[i].iface_id, iface_id)) {
            return &m->ports[i];
        }
    }
    return NULL;
}

static struct mig *
mig_new(struct fs_migrate *m, enum mig_role role, const char *iface_id,
        const char *peer, struct stream *stream)
{
    struct mig *g = xzalloc(sizeof *g);

    g->role = role;
    g->state = role == ROLE_UNKNOWN ? ST_HELLO : ST_CONNECTING;
    g->iface_id = nullable_xstrdup(iface_id);
    g->peer = xstrdup(peer);
    if (!strncmp(peer, "chassis:", 8)) {
        g->chassis = xstrdup(peer + 8);
    }
    g->reported = -1;
    g->stream = stream;
    g->started = g->last_rx = time_msec();
    g->started_wall = time_wall_msec();
    g->lookup_until = g->started + FS_MIGRATE_TIMEOUT_MS;
    g->next_seq = 1;
    g->m = m;
    ovs_list_push_front(&m->migs, &g->node);
    return g;
}

/* ---------------------------------------------------------------------- */
/* Flows. */

/* Whether 'ofport' is a port inspected here. */
static bool
port_is_local(const struct fs_migrate *m, uint32_t ofport)
{
    for (size_t i = 0; i < m->n_ports; i++) {
        if (m->ports[i].ofport == ofport) {
            return true;
        }
    }
    return false;
}

static int
collect_flow(void *pf_, const struct fs_flow_info *f)
{
    struct port_flows *pf = pf_;

    if ((f->port == pf->port
         || (f->peer_port == pf->port
             && !(pf->releasing && f->port && port_is_local(pf->m, f->port))))
        && (!pf->imported_only || f->origin_id)) {
        if (pf->n == pf->allocated) {
            pf->flows = x2nrealloc(pf->flows, &pf->allocated,
                                   sizeof *pf->flows);
        }
        pf->flows[pf->n++] = (struct port_flow) { f->id, f->origin_id,
                                                  f->key };
    }
    return 0;
}

static void
port_flows(struct fs_migrate *m, uint32_t port, bool imported_only,
           bool releasing, struct port_flows *pf)
{
    memset(pf, 0, sizeof *pf);
    pf->m = m;
    pf->port = port;
    pf->imported_only = imported_only;
    pf->releasing = releasing;
    fs_inspector_foreach_flow(m->insp, collect_flow, pf);
}

static fs_appliance_flows_cb release_classifying;

/* Destination: forgets every flow imported on the VM's port. */
static void
discard_imported(struct fs_migrate *m, struct mig *g)
{
    struct port_flows pf;

    if (g->role != ROLE_DEST || !g->dst_port || g->state == ST_DONE) {
        return;
    }
    if (g->classifying) {
        fs_appliance_query_flows(m->app, 0, 10000, release_classifying, g);
    }
    port_flows(m, g->dst_port, true, false, &pf);
    for (size_t i = 0; i < pf.n; i++) {
        fs_verdicts_forget(m->v, pf.flows[i].id, &pf.flows[i].key);
    }
    if (pf.n) {
        VLOG_INFO("migration of %s from %s: forgot the %"PRIuSIZE" flows "
                  "imported", g->iface_id, g->peer, pf.n);
        fs_verdicts_commit(m->v);
    }
    free(pf.flows);
}

/* ---------------------------------------------------------------------- */
/* Migrations coming in, on disk.
 *
 * A destination that stops (killed, crashed) while a migration comes in
 * must not keep what it imported: the source, which never heard the
 * final ACK, keeps the VM's flows, and the imported flows, saved in the
 * flow state or left as rules in the switch (which a restart adopts),
 * would make two hosts own them.  So the VM's port here is written to a
 * small file beside the flow state before the first record is imported,
 * and taken out once the final changes are in (before their ACK goes) or
 * the migration ends.  At start, the flows of the ports the file names are
 * forgotten, their rules too, before any migration is served. */

#define INCOMING_MAGIC "flowsteer-incoming 1\n"
#define INCOMING_MAX_BYTES 65536

/* Writes the ports of the migrations coming in now, as a new file renamed
 * over the old one. */
static void
incoming_write(struct fs_migrate *m)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    const struct mig *g;
    char *tmp;
    int fd, error = 0;

    if (!m->incoming_file) {
        return;
    }
    ds_put_cstr(&ds, INCOMING_MAGIC);
    for (size_t i = 0; i < m->n_stale_ports; i++) {
        /* Not forgotten yet: they stay named. */
        ds_put_format(&ds, "%"PRIu32" -\n", m->stale_ports[i]);
    }
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->in_file) {
            ds_put_format(&ds, "%"PRIu32" %s\n", g->dst_port, g->iface_id);
        }
    }
    tmp = xasprintf("%s.tmp", m->incoming_file);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
              0600);
    if (fd < 0) {
        error = errno;
    } else {
        for (size_t off = 0; off < ds.length && !error; ) {
            ssize_t n = write(fd, ds.string + off, ds.length - off);

            if (n > 0) {
                off += n;
            } else if (n < 0 && errno != EINTR) {
                error = errno;
            }
        }
        if (!error && fsync(fd)) {
            error = errno;
        }
        if (close(fd) && !error) {
            error = errno;
        }
    }
    if (!error && rename(tmp, m->incoming_file)) {
        error = errno;
    }
    if (error) {
        /* Then a crash here may leave imported flows behind: said. */
        VLOG_ERR("%s: cannot write the migrations coming in: %s",
                 m->incoming_file, ovs_strerror(error));
    }
    free(tmp);
    ds_destroy(&ds);
}

/* Reads the file a previous run left: its ports are stale. */
static void
incoming_read(struct fs_migrate *m)
{
    char buf[INCOMING_MAX_BYTES + 1];
    size_t n = 0, allocated = 0;
    struct stat st;
    char *line, *save;
    ssize_t r;
    int fd;

    fd = open(m->incoming_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            VLOG_WARN("%s: cannot open: %s", m->incoming_file,
                      ovs_strerror(errno));
        }
        return;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()
        || st.st_mode & (S_IWGRP | S_IWOTH)) {
        VLOG_WARN("%s: not a regular file of ours, written by us only: "
                  "ignored", m->incoming_file);
        close(fd);
        return;
    }
    while (n < INCOMING_MAX_BYTES
           && ((r = read(fd, buf + n, INCOMING_MAX_BYTES - n)) > 0
               || (r < 0 && errno == EINTR))) {
        n += r > 0 ? r : 0;
    }
    close(fd);
    buf[n] = '\0';
    if (strncmp(buf, INCOMING_MAGIC, strlen(INCOMING_MAGIC))) {
        VLOG_WARN("%s: not a file of migrations coming in: ignored",
                  m->incoming_file);
        return;
    }
    for (line = strtok_r(buf + strlen(INCOMING_MAGIC), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned int port;

        if (sscanf(line, "%u", &port) != 1 || !port || port > UINT16_MAX) {
            VLOG_WARN("%s: bad line \"%s\": skipped", m->incoming_file,
                      line);
            continue;
        }
        if (m->n_stale_ports == allocated) {
            m->stale_ports = x2nrealloc(m->stale_ports, &allocated,
                                        sizeof *m->stale_ports);
        }
        m->stale_ports[m->n_stale_ports++] = port;
    }
}

void
fs_migrate_set_incoming_file(struct fs_migrate *m, const char *path)
{
    free(m->incoming_file);
    m->incoming_file = nullable_xstrdup(path);
    free(m->stale_ports);
    m->stale_ports = NULL;
    m->n_stale_ports = 0;
    if (path) {
        incoming_read(m);
    }
}

/* Once the flow state is restored (and the switch's rules adopted),
 * forgets the flows of the stale ports.  Returns true while some wait for
 * that: no migration is served until then. */
static bool
stale_run(struct fs_migrate *m)
{
    if (!m->n_stale_ports) {
        return false;
    } else if (!fs_verdicts_ready(m->v)) {
        return true;
    }
    for (size_t i = 0; i < m->n_stale_ports; i++) {
        struct port_flows pf;

        port_flows(m, m->stale_ports[i], false, false, &pf);
        for (size_t j = 0; j < pf.n; j++) {
            fs_verdicts_forget(m->v, pf.flows[j].id, &pf.flows[j].key);
        }
        VLOG_WARN("port %"PRIu32": a migration was coming in when "
                  "flowsteerd stopped: forgot the %"PRIuSIZE" flows of the "
                  "port", m->stale_ports[i], pf.n);
        m->n_stale_forgotten += pf.n;
        free(pf.flows);
    }
    fs_verdicts_commit(m->v);
    free(m->stale_ports);
    m->stale_ports = NULL;
    m->n_stale_ports = 0;
    incoming_write(m);
    return false;
}

/* The appliance's answer to a query of its flows: those of the VM still
 * in classification are let go, at the source after the switch-over
 * (their records went to the destination; counted as released), at the
 * destination after a failure (those it imported). */
static void
release_classifying(void *g_, const struct ds *msgs)
{
    static struct fs_chan_flow flow;
    struct mig *g = g_;
    bool dest = g->role == ROLE_DEST;
    uint32_t port = dest ? g->dst_port : g->src_port;
    const uint8_t *p;
    size_t m = 0, len;

    while (msgs && fs_appliance_msgs_next(msgs, &m, &p, &len)) {
        size_t off = 0;

        while (fs_chan_next_flow(p, len, &off, &flow)) {
            if ((flow.info.port == port
                 || (flow.info.peer_port == port
                     && (dest || !flow.info.port
                         || !port_is_local(g->m, flow.info.port))))
                && flow.info.state != FS_FLOW_DECIDED
                && (!dest || flow.info.origin_id)) {
                fs_appliance_release(g->m->app, flow.info.id, &flow.info.key);
                g->released += !dest;
            }
        }
    }
}

/* Source, after the switch-over: lets go of the VM's flows, at most
 * RELEASE_PER_TURN of them a turn of the main loop (at 100k flows, all at
 * once held the loop for about 100 ms: other VMs' new flows waited), then
 * of those still classifying in the appliance; then it is done. */
#define RELEASE_PER_TURN 8192

static void mig_end(struct fs_migrate *, struct mig *, enum mig_state);

static void
release_start(struct mig *g)
{
    g->final_acked = time_msec();
    g->state = ST_RELEASING;
    /* Those another VM here began to it are that VM's too: they stay. */
    port_flows(g->m, g->src_port, false, true, &g->rel);
    g->rel_next = 0;
    /* The ACK was the destination's last message. */
    stream_close(g->stream);
    g->stream = NULL;
}

static void
release_run(struct fs_migrate *m, struct mig *g)
{
    size_t end = MIN(g->rel.n, g->rel_next + RELEASE_PER_TURN);

    for (; g->rel_next < end; g->rel_next++) {
        const struct port_flow *f = &g->rel.flows[g->rel_next];

        fs_verdicts_release(m->v, f->id, &f->key);
        g->released++;
    }
    fs_verdicts_commit(m->v);
    if (g->rel_next < g->rel.n) {
        return;
    }
    free(g->rel.flows);
    memset(&g->rel, 0, sizeof g->rel);
    /* (One page: a VM with more flows still classifying than that leaves
     * the rest to idle out.) */
    fs_appliance_query_flows(m->app, 0, 10000, release_classifying, g);
    VLOG_INFO("migration of %s to %s: done, %"PRIu64" records sent, "
              "%"PRIu64" flows released", g->iface_id, g->peer, g->records,
              g->released);
    mig_end(m, g, ST_DONE);
}

void
fs_migrate_flow_ended(void *m_, const struct fs_flow_info *f)
{
    struct fs_migrate *m = m_;
    struct mig *g;

    if (f->end_reason == FS_END_MIGRATED) {
        return;
    }
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->role == ROLE_SOURCE && mig_active(g) && g->state >= ST_COPYING
            && (f->port == g->src_port || f->peer_port == g->src_port)) {
            if (g->n_ended == g->allocated_ended) {
                g->ended = x2nrealloc(g->ended, &g->allocated_ended,
                                      sizeof *g->ended);
            }
            g->ended[g->n_ended++] = f->id;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Ending a migration. */

static void
mig_end(struct fs_migrate *m, struct mig *g, enum mig_state state)
{
    struct mig *old, *prev;

    g->state = state;
    g->ended_at = time_msec();
    if (state == ST_DONE) {
        m->n_done++;
    } else if (state == ST_FAILED) {
        m->n_failed++;
    } else {
        m->n_cancelled++;
    }
    /* The stream closes once what is queued (a REFUSE, CANCEL or the last
     * ACK) has gone, or at once if it cannot. */
    if (!g->out.len) {
        stream_close(g->stream);
        g->stream = NULL;
    }
    discard_imported(m, g);
    if (g->holding) {
        /* After the last records (or, failed, after the flows were
         * forgotten): the packets held are judged with them. */
        g->holding = false;
        fs_appliance_release_port(m->app, g->dst_port);
    }
    if (g->in_file) {
        g->in_file = false;
        incoming_write(m);
    }

    /* Keep the last FS_MIGRATE_KEEP ended ones. */
    m->n_ended_kept++;
    LIST_FOR_EACH_REVERSE_SAFE (old, prev, node, &m->migs) {
        if (m->n_ended_kept <= FS_MIGRATE_KEEP) {
            break;
        }
        if (!mig_active(old) && !old->stream) {
            ovs_list_remove(&old->node);
            mig_free(old);
            m->n_ended_kept--;
        }
    }
}

static void
mig_fail(struct fs_migrate *m, struct mig *g, enum mig_state state,
         const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(g->error, sizeof g->error, format, args);
    va_end(args);
    VLOG_WARN("migration of %s %s %s: %s: %s",
              g->iface_id ? g->iface_id : "(unknown)",
              g->role == ROLE_SOURCE ? "to" : "from", g->peer,
              state == ST_CANCELLED ? "cancelled" : "failed", g->error);
    mig_end(m, g, state);
}

/* Refuses what the peer asked: tells it why, and ends. */
static void
refuse(struct fs_migrate *m, struct mig *g, const char *reason)
{
    m->n_refused++;
    fs_mig_put_refuse(&g->out, reason);
    mig_fail(m, g, ST_FAILED, "refused: %s", reason);
}

/* ---------------------------------------------------------------------- */
/* Source. */

struct export_ctx {
    struct mig *g;
    struct fs_mig_records r;
    bool started;
    uint16_t flags;
};

static void
records_begin(struct export_ctx *x)
{
    fs_mig_records_start(&x->g->out, &x->r, x->g->next_seq, x->flags);
    x->g->last_seq = x->g->next_seq++;
    x->started = true;
}

static void
records_finish(struct export_ctx *x)
{
    if (x->started) {
        fs_mig_records_end(&x->g->out, &x->r);
        x->g->messages++;
        x->started = false;
    }
}

static int
export_record(void *x_, const void *rec, size_t len)
{
    struct export_ctx *x = x_;

    if (!x->started) {
        records_begin(x);
    }
    if (!fs_mig_records_add(&x->g->out, &x->r, rec, len)) {
        records_finish(x);
        records_begin(x);
        fs_mig_records_add(&x->g->out, &x->r, rec, len);
    }
    x->g->records++;
    return 0;
}

/* Sends the flows changed since the last mark (all, the first time), and
 * those that ended; 'final' marks the switch-over.  The appliance's
 * records of the VM's flows still in classification (RECORDS with
 * FS_MIG_F_CLASSIFYING) go first, then the judge's, so that a flow decided
 * in between arrives decided. */
static void
send_changes(struct fs_migrate *m, struct mig *g, bool final)
{
    struct export_ctx x = { .g = g, .flags = 0 };
    uint64_t mark = fs_inspector_mark(m->insp);

    for (size_t i = 0; i < g->n_ended; i += ENDED_PER_MSG) {
        size_t n = MIN(ENDED_PER_MSG, g->n_ended - i);

        fs_mig_put_ended(&g->out, g->next_seq, g->ended + i, n);
        g->last_seq = g->next_seq++;
        g->messages++;
    }
    g->n_ended = 0;
    fs_inspector_export(m->insp, g->src_port, g->mark, FS_EXPORT_DECIDED,
                        export_record, &x);
    g->mark = mark;
    if (final) {
        /* The last message is the final one, empty if nothing changed. */
        records_finish(&x);
        x.flags = FS_MIG_F_FINAL;
        records_begin(&x);
        records_finish(&x);
        g->final_seq = g->last_seq;
    } else {
        records_finish(&x);
    }
}

static void changes_sent(struct fs_migrate *, struct mig *, bool final);

/* The appliance's answer to request_changes(): its records, then the
 * judge's. */
static void
app_records(void *g_, const struct ds *msgs)
{
    struct mig *g = g_;
    struct fs_migrate *m = g->m;
    bool final = g->app_final;

    g->app_pending = false;
    if (msgs) {
        struct export_ctx x = { .g = g, .flags = FS_MIG_F_CLASSIFYING };
        const uint8_t *msg;
        size_t off = 0, len;
        bool first = true;

        while (fs_appliance_msgs_next(msgs, &off, &msg, &len)) {
            struct fs_chan_msg cm;
            char err[128];
            size_t r = 0;

            if (fs_chan_decode(msg, len, &cm, err, sizeof err)
                || cm.type != FS_CHAN_RECORDS) {
                continue;       /* fs-appliance checked them. */
            }
            if (first) {
                g->app_mark = cm.u64;
                first = false;
            }
            while (r + 6 <= cm.data_len) {
                size_t n = (size_t) cm.data[r + 4] << 8 | cm.data[r + 5];

                export_record(&x, cm.data + r, n);
                g->classifying++;
                r += n;
            }
        }
        records_finish(&x);
    }
    if (mig_active(g)) {
        send_changes(m, g, final);
        changes_sent(m, g, final);
    }
}

/* Asks the appliance for the VM's flows still in classification that
 * changed; app_records() sends everything once it answers. */
static void
request_changes(struct fs_migrate *m, struct mig *g, bool final)
{
    if (g->app_pending) {
        g->app_final |= final;
        return;
    }
    g->app_pending = true;
    g->app_final = final;
    fs_appliance_export(m->app, g->src_port, g->app_mark,
                        FS_EXPORT_CLASSIFYING,
                        app_records, g);
}

static void
start_switch(struct fs_migrate *m, struct mig *g, const char *why)
{
    if (g->role != ROLE_SOURCE || g->state != ST_COPYING) {
        g->switch_wanted = true;
        return;
    }
    VLOG_INFO("migration of %s to %s: switching over (%s)", g->iface_id,
              g->peer, why);
    g->switch_started = time_msec();
    g->state = ST_SWITCHING;
    g->last_rx = time_msec();
    request_changes(m, g, true);
}

/* What follows sending the changes. */
static void
changes_sent(struct fs_migrate *m, struct mig *g, bool final)
{
    if (final) {
        return;
    }
    if (!g->bulk_seq && g->state == ST_COPYING) {
        g->bulk_seq = g->last_seq ? g->last_seq : UINT32_MAX;
        if (g->bulk_seq == UINT32_MAX) {
            g->bulk_done = time_msec();
        }
        if (g->switch_wanted) {
            start_switch(m, g, "asked before the copy");
        }
    }
}

/* The peer accepted: the bulk copy. */
static void
source_copy(struct fs_migrate *m, struct mig *g)
{
    g->state = ST_COPYING;
    g->mark = 0;
    g->app_mark = 0;
    g->next_delta = time_msec() + FS_MIGRATE_DELTA_MS;
    request_changes(m, g, false);
}

/* Sends the OFFER of 'g''s VM, or refuses if it has no port here. */
static void
source_offer(struct fs_migrate *m, struct mig *g)
{
    const struct port_info *p = find_port(m, g->iface_id);

    if (!p) {
        refuse(m, g, "no such VM here");
        return;
    }
    g->src_port = p->ofport;
    g->n_flows_offered = fs_inspector_port_flows(m->insp, p->ofport);
    fs_mig_put_offer(&g->out, g->iface_id, g->src_port,
                     fs_inspector_policy_digest(m->insp),
                     g->n_flows_offered);
    g->state = ST_HELLO;
}

/* ---------------------------------------------------------------------- */
/* Destination. */

static void
dest_accept(struct fs_migrate *m, struct mig *g, const struct fs_mig_msg *msg)
{
    const struct port_info *p;
    struct mig *other;

    if (g->iface_id && strcmp(g->iface_id, msg->text)) {
        refuse(m, g, "offered another VM than asked for");
        return;
    }
    if (!g->iface_id) {
        other = find_active(m, msg->text);
        if (other && other != g) {
            g->iface_id = xstrdup(msg->text);
            refuse(m, g, "that VM is migrating already");
            return;
        }
        g->iface_id = xstrdup(msg->text);
    }
    p = find_port(m, g->iface_id);
    if (!p) {
        refuse(m, g, "no port for that VM here");
        return;
    }
    if (!msg->port) {
        refuse(m, g, "offer without a port");
        return;
    }
    g->role = ROLE_DEST;
    g->src_port = msg->port;
    g->dst_port = p->ofport;
    g->n_flows_offered = msg->n;
    if (msg->digest != fs_inspector_policy_digest(m->insp)) {
        VLOG_INFO("migration of %s from %s: the source's policy is not "
                  "ours: its flows are judged again here", g->iface_id,
                  g->peer);
    }
    /* On disk before the first record is imported. */
    g->state = ST_COPYING;
    g->in_file = true;
    incoming_write(m);
    /* Packets from the VM's port here wait for the last records: see
     * FS_MIGRATE_HOLD_MS. */
    g->holding = true;
    fs_appliance_hold_port(m->app, g->dst_port, FS_MIGRATE_HOLD_MS);
    fs_mig_put_accept(&g->out, g->dst_port);
    VLOG_INFO("migration of %s from %s: accepted (%"PRIu32" flows "
              "offered), port %"PRIu32" there, %"PRIu32" here", g->iface_id,
              g->peer, msg->n, g->src_port, g->dst_port);
}

/* Records of flows still in classification: the appliance classifies
 * them on, from the payload they carry, and reports their verdicts as it
 * does for its own flows. */
static void
dest_classifying(struct fs_migrate *m, struct mig *g,
                 const struct fs_mig_msg *msg, const uint32_t map[1][2])
{
    enum { BATCH_MAX = FS_CHAN_MAX_MSG - 1024 };
    struct fs_mig_buf batch = FS_MIG_BUF_INIT;
    const uint8_t *rec;
    size_t off = 0, len;

    batch.data = xmalloc(BATCH_MAX);
    batch.allocated = BATCH_MAX;
    while (fs_mig_records_next(msg, &off, &rec, &len)) {
        if (batch.len + len > BATCH_MAX) {
            fs_appliance_import_batch(m->app, FS_IMPORT_MAPPED_ONLY, map, 1,
                                      batch.data, batch.len);
            batch.len = 0;
        }
        if (len <= BATCH_MAX) {
            memcpy(batch.data + batch.len, rec, len);
            batch.len += len;
        }
    }
    if (batch.len) {
        fs_appliance_import_batch(m->app, FS_IMPORT_MAPPED_ONLY, map, 1,
                                  batch.data, batch.len);
    }
    fs_mig_buf_uninit(&batch);
    g->records += msg->n;
    g->classifying += msg->n;
    g->messages++;
    fs_mig_put_ack(&g->out, msg->seq, 0, 0, 0, 0);
}

static void
dest_records(struct fs_migrate *m, struct mig *g, const struct fs_mig_msg *msg)
{
    const uint32_t map[1][2] = { { g->src_port, g->dst_port } };
    FS_IMPORT_OPTS(o, .flags = FS_IMPORT_MAPPED_ONLY, .port_map = map,
                   .n_port_map = 1);
    struct fs_import_result res;
    struct fs_mig_buf batch = FS_MIG_BUF_INIT;
    const uint8_t *rec;
    size_t off = 0, len;
    int error;

    if (msg->flags & FS_MIG_F_CLASSIFYING) {
        dest_classifying(m, g, msg, map);
        return;
    }
    /* The records back to back, as fs_inspector_import() takes them. */
    batch.data = xmalloc(msg->data_len ? msg->data_len : 1);
    batch.allocated = msg->data_len;
    while (fs_mig_records_next(msg, &off, &rec, &len)) {
        memcpy(batch.data + batch.len, rec, len);
        batch.len += len;
    }
    memset(&res, 0, sizeof res);
    error = batch.len ? fs_verdicts_import(m->v, batch.data, batch.len, &o,
                                           &res) : 0;
    fs_mig_buf_uninit(&batch);
    if (error) {
        m->n_bad_msgs++;
        fs_mig_put_cancel(&g->out, error == -ENOSPC
                          ? "no room for the flows here"
                          : "a record was refused");
        mig_fail(m, g, ST_FAILED, "records of message %"PRIu32" refused: "
                 "%s", msg->seq, ovs_strerror(-error));
        return;
    }
    g->records += msg->n;
    g->messages++;
    g->imported += res.imported;
    g->updated += res.updated;
    g->conflicts += res.conflicts;
    g->rejudged += res.rejudged;
    fs_mig_put_ack(&g->out, msg->seq, res.imported, res.updated,
                   res.conflicts, res.rejudged);
    if (msg->flags & FS_MIG_F_FINAL) {
        /* Done once nothing follows it in what the source sent: a source
         * that gave up waiting for this ACK (we were stopped, or slow)
         * sent CANCEL after it. */
        g->final_received = true;
        g->in_file = false;
        incoming_write(m);      /* Before the ACK goes (it is queued). */
        g->switch_started = g->switch_started ? g->switch_started
                                              : time_msec();
    }
}

/* The destination has the final changes and nothing after them. */
static void
dest_finish(struct fs_migrate *m, struct mig *g)
{
    VLOG_INFO("migration of %s from %s: done, %"PRIu64" flows imported "
              "(%"PRIu64" updated, %"PRIu64" in conflict, %"PRIu64" "
              "judged again)", g->iface_id, g->peer, g->imported,
              g->updated, g->conflicts, g->rejudged);
    mig_end(m, g, ST_DONE);
}

static int
compare_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

static void
dest_ended(struct fs_migrate *m, struct mig *g, const struct fs_mig_msg *msg)
{
    uint64_t *ids = xmalloc((msg->n ? msg->n : 1) * sizeof *ids);
    struct port_flows pf;
    uint32_t removed = 0;

    for (uint32_t i = 0; i < msg->n; i++) {
        ids[i] = fs_mig_ended_id(msg, i);
    }
    qsort(ids, msg->n, sizeof *ids, compare_u64);
    port_flows(m, g->dst_port, true, false, &pf);
    for (size_t i = 0; i < pf.n; i++) {
        if (bsearch(&pf.flows[i].origin_id, ids, msg->n, sizeof *ids,
                    compare_u64)) {
            fs_verdicts_forget(m->v, pf.flows[i].id, &pf.flows[i].key);
            removed++;
        }
    }
    free(pf.flows);
    free(ids);
    fs_verdicts_commit(m->v);
    g->removed += removed;
    g->messages++;
    fs_mig_put_ack(&g->out, msg->seq, 0, 0, 0, 0);
}

/* ---------------------------------------------------------------------- */
/* Messages. */

static void
handle_msg(struct fs_migrate *m, struct mig *g, const struct fs_mig_msg *msg)
{
    bool ok;

    switch (msg->type) {
    case FS_MIG_REQUEST:
        ok = g->role == ROLE_UNKNOWN;
        if (ok) {
            if (find_active(m, msg->text)) {
                g->iface_id = xstrdup(msg->text);
                refuse(m, g, "that VM is migrating already");
                return;
            }
            g->role = ROLE_SOURCE;
            g->iface_id = xstrdup(msg->text);
            VLOG_INFO("migration of %s: %s asks for it", g->iface_id,
                      g->peer);
            source_offer(m, g);
        }
        break;
    case FS_MIG_OFFER:
        ok = (g->role == ROLE_UNKNOWN
              || (g->role == ROLE_DEST && g->state == ST_HELLO));
        if (ok) {
            dest_accept(m, g, msg);
        }
        break;
    case FS_MIG_ACCEPT:
        ok = g->role == ROLE_SOURCE && g->state == ST_HELLO && msg->port;
        if (ok) {
            g->dst_port = msg->port;
            VLOG_INFO("migration of %s to %s: accepted, port %"PRIu32
                      " there", g->iface_id, g->peer, msg->port);
            source_copy(m, g);
        }
        break;
    case FS_MIG_RECORDS:
        ok = g->role == ROLE_DEST && g->state == ST_COPYING;
        if (ok) {
            dest_records(m, g, msg);
        }
        break;
    case FS_MIG_ENDED:
        ok = g->role == ROLE_DEST && g->state == ST_COPYING;
        if (ok) {
            dest_ended(m, g, msg);
        }
        break;
    case FS_MIG_ACK:
        ok = (g->role == ROLE_SOURCE && g->state >= ST_COPYING
              && msg->seq > g->acked_seq && msg->seq <= g->last_seq);
        if (ok) {
            g->acked_seq = msg->seq;
            g->imported += msg->imported;
            g->updated += msg->updated;
            g->conflicts += msg->conflicts;
            g->rejudged += msg->rejudged;
            if (g->bulk_seq && g->bulk_seq != UINT32_MAX
                && msg->seq >= g->bulk_seq && !g->bulk_done) {
                g->bulk_done = time_msec();
            }
            if (g->state == ST_SWITCHING && msg->seq == g->final_seq) {
                VLOG_INFO("migration of %s to %s: the destination owns the "
                          "flows", g->iface_id, g->peer);
                release_start(g);
                return;
            }
        }
        break;
    case FS_MIG_SWITCH:
        ok = g->role == ROLE_SOURCE;
        if (ok) {
            start_switch(m, g, "the destination asked");
        }
        break;
    case FS_MIG_REFUSE:
    case FS_MIG_CANCEL:
        mig_fail(m, g, msg->type == FS_MIG_CANCEL ? ST_CANCELLED : ST_FAILED,
                 "the peer %s: %s", msg->type == FS_MIG_CANCEL
                 ? "cancelled" : "refused", msg->text);
        return;
    default:
        ok = false;
        break;
    }
    if (!ok) {
        m->n_bad_msgs++;
        fs_mig_put_cancel(&g->out, "unexpected message");
        mig_fail(m, g, ST_FAILED, "unexpected %s in state %s",
                 fs_mig_type_name(msg->type), state_names[g->state]);
    }
}

/* Reads and handles what the peer sent. */
static void
mig_receive(struct fs_migrate *m, struct mig *g)
{
    for (int turns = 0; turns < 64 && g->stream && mig_active(g); turns++) {
        size_t msg_len;
        const char *why;
        int n, error;

        if (g->in.allocated - g->in.len < RECV_CHUNK) {
            g->in.allocated = g->in.len + RECV_CHUNK;
            g->in.data = xrealloc(g->in.data, g->in.allocated);
        }
        n = stream_recv(g->stream, g->in.data + g->in.len, RECV_CHUNK);
        if (g->final_received && g->role == ROLE_DEST && n <= 0) {
            /* All read (or the source, done, closed): no CANCEL came. */
            dest_finish(m, g);
            return;
        } else if (n == -EAGAIN) {
            return;
        } else if (n <= 0) {
            if (g->role == ROLE_UNKNOWN && !g->bytes_in) {
                /* Before any message: most often a TLS handshake that
                 * failed (a certificate our CA did not sign). */
                m->n_refused_tls++;
            }
            mig_fail(m, g, ST_FAILED, "%s", n ? ovs_strerror(-n)
                     : "the peer closed the connection");
            return;
        }
        g->in.len += n;
        g->bytes_in += n;
        g->last_rx = time_msec();

        /* (Releasing, the source has read the destination's last
         * message.) */
        while (mig_active(g) && g->state != ST_RELEASING) {
            struct fs_mig_msg msg;

            error = fs_mig_frame(g->in.data, g->in.len, &msg_len, &why);
            if (!error) {
                break;
            }
            if (error < 0 || fs_mig_decode(g->in.data, msg_len, &msg,
                                           &why)) {
                static struct vlog_rate_limit rl =
                    VLOG_RATE_LIMIT_INIT(5, 5);

                m->n_bad_msgs++;
                VLOG_WARN_RL(&rl, "migration peer %s: bad message: %s",
                             g->peer, why);
                mig_fail(m, g, ST_FAILED, "bad message: %s", why);
                return;
            }
            handle_msg(m, g, &msg);
            fs_mig_buf_pull(&g->in, msg_len);
        }
    }
}

static void
mig_send(struct fs_migrate *m, struct mig *g)
{
    while (g->stream && g->out.len) {
        int n = stream_send(g->stream, g->out.data, g->out.len);

        if (n == -EAGAIN) {
            return;
        } else if (n < 0) {
            if (mig_active(g)) {
                mig_fail(m, g, ST_FAILED, "%s", ovs_strerror(-n));
            }
            stream_close(g->stream);
            g->stream = NULL;
            return;
        }
        g->bytes_out += n;
        fs_mig_buf_pull(&g->out, n);
    }
    if (!mig_active(g) && g->stream) {
        stream_close(g->stream);
        g->stream = NULL;
    }
}

#define PULL_RETRY_MS 1000

static void
pull_retry(struct mig *g, int error)
{
    if (!g->n_retries++) {
        VLOG_INFO("migration of %s: cannot connect to %s (%s): trying "
                  "again every %d ms", g->iface_id, g->peer,
                  ovs_strerror(error), PULL_RETRY_MS);
    }
    snprintf(g->error, sizeof g->error, "cannot connect (%u tries): %s",
             g->n_retries, ovs_strerror(error));
    g->retry_at = time_msec() + PULL_RETRY_MS;
}

static void
mig_run(struct fs_migrate *m, struct mig *g)
{
    long long int now = time_msec();

    if (!g->stream && (g->pulled || g->chassis) && g->state == ST_CONNECTING
        && now >= g->retry_at) {
        const char *target = g->peer;
        int error;

        if (g->chassis) {
            /* The peer's endpoint, from its Chassis row. */
            target = fs_fleet_chassis_remote(m->fleet, g->chassis);
            if (!target && now >= g->lookup_until) {
                mig_fail(m, g, ST_FAILED, "chassis %s: no such chassis in "
                         "the Flowsteer database, or it gives no migration "
                         "endpoint", g->chassis);
                return;
            } else if (!target) {
                snprintf(g->error, sizeof g->error, "looking for chassis %s "
                         "in the Flowsteer database", g->chassis);
                g->retry_at = now + 100;
                return;
            }
            g->lookup_until = LLONG_MAX;
        }
        error = stream_open(target, &g->stream, DSCP_DEFAULT);
        if (error) {
            g->stream = NULL;
            if (!g->pulled) {
                mig_fail(m, g, ST_FAILED, "%s: %s", target,
                         ovs_strerror(error));
                return;
            }
            pull_retry(g, error);
        }
        g->started = now;
    }
    if (g->state == ST_RELEASING) {
        release_run(m, g);
        return;
    }
    if (!g->stream) {
        return;
    }
    stream_run(g->stream);
    if (g->state == ST_CONNECTING) {
        int error = stream_connect(g->stream);

        if (error == EAGAIN && now - g->started <= FS_MIGRATE_TIMEOUT_MS) {
            return;
        }
        error = error == EAGAIN ? ETIMEDOUT : error;
        if (error && g->pulled) {
            /* The source may not listen yet: a pull keeps trying for as
             * long as its key asks for it. */
            stream_close(g->stream);
            g->stream = NULL;
            pull_retry(g, error);
            return;
        } else if (error) {
            mig_fail(m, g, ST_FAILED, "cannot connect: %s",
                     ovs_strerror(error));
            return;
        }
        g->error[0] = '\0';
        g->last_rx = now;
        if (g->role == ROLE_SOURCE) {
            source_offer(m, g);
        } else {
            fs_mig_put_request(&g->out, g->iface_id);
            g->state = ST_HELLO;
        }
    }
    mig_receive(m, g);
    if (g->role == ROLE_SOURCE && g->state == ST_COPYING && g->bulk_seq
        && now >= g->next_delta && g->out.len < OUT_HIGH) {
        request_changes(m, g, false);
        g->next_delta = now + FS_MIGRATE_DELTA_MS;
    }
    mig_send(m, g);

    /* An answer is due: an OFFER or ACCEPT, or an ACK. */
    if (mig_active(g) && g->state != ST_CONNECTING
        && (g->state == ST_HELLO || g->acked_seq < g->last_seq
            || g->role == ROLE_UNKNOWN)
        && now - g->last_rx > FS_MIGRATE_TIMEOUT_MS) {
        if (g->role == ROLE_SOURCE && g->state >= ST_COPYING) {
            /* A peer that is only slow reads this after what it has not
             * answered yet, and forgets it all. */
            fs_mig_put_cancel(&g->out, "the source stopped waiting");
            mig_send(m, g);
        }
        mig_fail(m, g, ST_FAILED, "the peer did not answer for %d ms",
                 FS_MIGRATE_TIMEOUT_MS);
    }
}

/* ---------------------------------------------------------------------- */
/* Configuration. */

static void
listener_run(struct fs_migrate *m)
{
    struct stream *s;
    int error;

    if (!m->pstream) {
        return;
    }
    for (int i = 0; i < 16; i++) {
        error = pstream_accept(m->pstream, &s);
        if (error == EAGAIN) {
            return;
        } else if (error) {
            VLOG_WARN("migration listener %s: %s", m->remote,
                      ovs_strerror(error));
            return;
        }
        m->n_accepted++;
        if (n_active(m) >= FS_MIGRATE_MAX) {
            m->n_refused++;
            stream_close(s);
            continue;
        }
        mig_new(m, ROLE_UNKNOWN, NULL, stream_get_name(s), s);
    }
}

static void
set_listener(struct fs_migrate *m, const struct fs_config *cfg)
{
    int error;

    if (nullable_string_is_equal(m->remote, cfg->migration_remote)
        && nullable_string_is_equal(m->ssl_key, cfg->ssl_key)
        && nullable_string_is_equal(m->ssl_cert, cfg->ssl_cert)
        && nullable_string_is_equal(m->ssl_ca, cfg->ssl_ca_cert)) {
        return;
    }
    free(m->remote);
    free(m->ssl_key);
    free(m->ssl_cert);
    free(m->ssl_ca);
    m->remote = nullable_xstrdup(cfg->migration_remote);
    m->ssl_key = nullable_xstrdup(cfg->ssl_key);
    m->ssl_cert = nullable_xstrdup(cfg->ssl_cert);
    m->ssl_ca = nullable_xstrdup(cfg->ssl_ca_cert);
    if (m->ssl_key && m->ssl_cert && m->ssl_ca) {
        stream_ssl_set_key_and_cert(m->ssl_key, m->ssl_cert);
        stream_ssl_set_ca_cert_file(m->ssl_ca, false);
    }
    pstream_close(m->pstream);
    m->pstream = NULL;
    m->listen_error[0] = '\0';
    if (!m->remote || !m->ssl_key) {
        return;
    }
    error = pstream_open(m->remote, &m->pstream, DSCP_DEFAULT);
    if (error) {
        snprintf(m->listen_error, sizeof m->listen_error, "%s",
                 ovs_strerror(error));
        VLOG_WARN("migration listener %s: %s", m->remote, m->listen_error);
    } else {
        VLOG_INFO("migration listener on %s", pstream_get_name(m->pstream));
    }
}

static void
start_pull(struct fs_migrate *m, const struct port_info *p)
{
    struct stream *s;
    struct mig *g;
    int error;

    /* Once per VM and source: a pull that ended is not tried again until
     * the key changes. */
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->pulled && g->iface_id && !strcmp(g->iface_id, p->iface_id)
            && !strcmp(g->peer, p->migrate_from)) {
            return;
        }
    }
    if (find_active(m, p->iface_id) || n_active(m) >= FS_MIGRATE_MAX) {
        return;
    }
    if (!strncmp(p->migrate_from, "chassis:", 8)) {
        /* Opened once the chassis's row says where (mig_run()). */
        error = 0;
        s = NULL;
    } else {
        error = stream_open(p->migrate_from, &s, DSCP_DEFAULT);
    }
    g = mig_new(m, ROLE_DEST, p->iface_id, p->migrate_from, error ? NULL : s);
    g->pulled = true;
    g->starter = true;
    VLOG_INFO("migration of %s: pulling from %s", p->iface_id,
              p->migrate_from);
    if (error) {
        pull_retry(g, error);
    }
}

void
fs_migrate_set_config(struct fs_migrate *m, const struct fs_config *cfg)
{
    const struct fs_config_port *p;
    struct mig *g, *next;
    size_t n = 0;

    set_listener(m, cfg);
    set_bridge(m, cfg);
    clear_ports(m);
    m->ports = xcalloc(ovs_list_size(&cfg->ports) + 1, sizeof *m->ports);
    LIST_FOR_EACH (p, node, &cfg->ports) {
        if (p->ofport > 0 && cfg->enabled) {
            m->ports[n].iface_id = nullable_xstrdup(p->iface_id);
            m->ports[n].ofport = p->ofport;
            m->ports[n].migrate_from = nullable_xstrdup(p->migrate_from);
            n++;
        }
    }
    m->n_ports = n;

    LIST_FOR_EACH_SAFE (g, next, node, &m->migs) {
        const struct port_info *pi;

        if (!mig_active(g) || !g->iface_id) {
            continue;
        }
        pi = find_port(m, g->iface_id);
        if (g->role == ROLE_SOURCE && g->src_port
            && (!pi || pi->ofport != g->src_port)) {
            /* The VM left this switch: the switch-over. */
            start_switch(m, g, "its port is gone");
        } else if (g->pulled && g->state == ST_CONNECTING
                   && (!pi || !pi->migrate_from
                       || strcmp(pi->migrate_from, g->peer))) {
            mig_fail(m, g, ST_CANCELLED, "its %s key went away",
                     "flowsteer-migrate-from");
        } else if (g->role == ROLE_DEST && g->dst_port
                   && (!pi || pi->ofport != g->dst_port)) {
            fs_mig_put_cancel(&g->out, "the VM's port went away");
            mig_fail(m, g, ST_CANCELLED, "its port here went away");
        }
    }
    for (size_t i = 0; i < m->n_ports; i++) {
        if (m->ports[i].iface_id && m->ports[i].migrate_from) {
            start_pull(m, &m->ports[i]);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* The destination sees the VM's first packet.
 *
 * Until the VM runs here, nothing comes in on its port.  Once it does (its
 * announce RARP, or any packet that is not of a flow whose rules were
 * copied, which never reaches the steering rules), the steering rules of
 * its port count it: the destination then asks the source for the
 * switch-over (SWITCH), as OVN's activation-strategy=rarp takes the VM's
 * RARP as the moment it moved.  The rules are polled every
 * SEEN_POLL_MS, by their exact cookie (OVS finds them by it: the VM's
 * verdict rules are not visited). */
#define SEEN_POLL_MS 20

static void
seen_poll(struct fs_migrate *m, struct mig *g)
{
    struct ofputil_flow_stats_request fsr;

    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    match_set_in_port(&fsr.match, u16_to_ofp(g->dst_port));
    fsr.table_id = 0;
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.cookie = htonll(FS_OF_STEER_COOKIE);
    fsr.cookie_mask = OVS_BE64_MAX;
    g->seen_xid = fr_conn_send(m->conn, ofputil_encode_flow_stats_request(
                                   &fsr, fr_conn_protocol(m->conn)), 0);
}

static void
seen_reply(struct fs_migrate *m, struct mig *g, struct ofpbuf *msg)
{
    uint64_t stub[1024 / 8], packets = 0;
    struct ofpbuf ofpacts;

    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    for (;;) {
        struct ofputil_flow_stats fs;

        if (ofputil_decode_flow_stats_reply(&fs, msg, false, &ofpacts)) {
            break;
        }
        if (fs.packet_count != UINT64_MAX) {
            packets += fs.packet_count;
        }
    }
    ofpbuf_uninit(&ofpacts);
    g->seen_xid = 0;
    if (!g->seen_based) {
        g->seen_base = packets;
        g->seen_based = true;
    } else if (packets > g->seen_base && !g->seen_asked
               && g->state == ST_COPYING) {
        VLOG_INFO("migration of %s from %s: the VM's first packet here: "
                  "switching over", g->iface_id, g->peer);
        g->seen_asked = true;
        fs_mig_put_switch(&g->out);
    }
}

static void
seen_run(struct fs_migrate *m)
{
    long long int now = time_msec();
    struct ofpbuf *msg;
    struct mig *g;

    if (!m->conn) {
        return;
    }
    fr_conn_run(m->conn);
    if (fr_conn_seqno(m->conn) != m->conn_seqno) {
        /* A new connection: the rules and their counters are new too. */
        m->conn_seqno = fr_conn_seqno(m->conn);
        LIST_FOR_EACH (g, node, &m->migs) {
            g->seen_xid = 0;
            g->seen_based = false;
        }
    }
    while ((msg = fr_conn_recv(m->conn))) {
        const struct ofp_header *oh = msg->data;
        enum ofptype type;

        if (!ofptype_decode(&type, oh) && type == OFPTYPE_FLOW_STATS_REPLY) {
            LIST_FOR_EACH (g, node, &m->migs) {
                if (g->seen_xid && g->seen_xid == ntohl(oh->xid)) {
                    seen_reply(m, g, msg);
                    break;
                }
            }
        }
        ofpbuf_delete(msg);
    }
    if (!fr_conn_is_connected(m->conn)) {
        return;
    }
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->role == ROLE_DEST && g->state == ST_COPYING && g->dst_port
            && !g->seen_asked && !g->seen_xid && now >= g->next_seen_poll) {
            seen_poll(m, g);
            g->next_seen_poll = now + SEEN_POLL_MS;
        }
    }
}

static void
seen_wait(struct fs_migrate *m)
{
    struct mig *g;

    if (!m->conn) {
        return;
    }
    fr_conn_wait(m->conn);
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->role == ROLE_DEST && g->state == ST_COPYING && g->dst_port
            && !g->seen_asked && !g->seen_xid) {
            poll_timer_wait_until(g->next_seen_poll);
        }
    }
}

static void
set_bridge(struct fs_migrate *m, const struct fs_config *cfg)
{
    const char *name = cfg->enabled ? cfg->bridge : NULL;

    if (nullable_string_is_equal(name, m->bridge)) {
        return;
    }
    fr_conn_close(m->conn);
    m->conn = NULL;
    free(m->bridge);
    m->bridge = nullable_xstrdup(name);
    if (name) {
        char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(), name);

        m->conn = fr_conn_open(target, "migration", 0);
        m->conn_seqno = 0;
        free(target);
    }
}

/* Tells the Flowsteer database, in the migration's row, what state it is
 * in (a migration this host started, on a host that follows one). */
static void
report(struct fs_migrate *m, struct mig *g)
{
    static const char *const row_states[] = {
        [ST_CONNECTING] = "copying", [ST_HELLO] = "copying",
        [ST_COPYING] = "copying", [ST_SWITCHING] = "switching",
        [ST_RELEASING] = "switching", [ST_DONE] = "done",
        [ST_FAILED] = "failed", [ST_CANCELLED] = "cancelled",
    };
    const char *self = fs_fleet_chassis(m->fleet);
    const char *other = g->chassis ? g->chassis : g->peer;
    long long int now = time_msec(), wall = time_wall_msec();

    g->reported = g->state;
    if (!self || !g->iface_id) {
        return;
    }
    struct fs_fleet_migration u = {
        .iface_id = g->iface_id,
        .source = g->role == ROLE_SOURCE ? self : other,
        .destination = g->role == ROLE_SOURCE ? other : self,
        .state = row_states[g->state],
        .started = g->started_wall,
        .ended = mig_active(g) ? 0 : wall - (now - g->ended_at),
        .flows = g->role == ROLE_SOURCE ? g->records : g->imported,
        .error = mig_active(g) ? "" : g->error,
    };
    fs_fleet_migration_update(m->fleet, &u);
}

void
fs_migrate_set_fleet(struct fs_migrate *m, struct fs_fleet *fleet)
{
    m->fleet = fleet;
}

void
fs_migrate_run(struct fs_migrate *m)
{
    struct mig *g, *next;

    if (stale_run(m)) {
        return;
    }
    seen_run(m);
    listener_run(m);
    LIST_FOR_EACH_SAFE (g, next, node, &m->migs) {
        mig_run(m, g);
    }
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->starter && (int) g->state != g->reported) {
            report(m, g);
        }
    }
}

void
fs_migrate_wait(struct fs_migrate *m)
{
    struct mig *g;

    if (m->n_stale_ports) {
        /* Nothing is served until the flow state is in (stale_run()). */
        poll_timer_wait(50);
        return;
    }
    if (m->pstream) {
        pstream_wait(m->pstream);
    }
    seen_wait(m);
    LIST_FOR_EACH (g, node, &m->migs) {
        if (g->state == ST_RELEASING) {
            poll_immediate_wake();
            continue;
        }
        if (!g->stream) {
            if ((g->pulled || g->chassis) && g->state == ST_CONNECTING) {
                poll_timer_wait_until(g->retry_at);
            }
            continue;
        }
        stream_run_wait(g->stream);
        if (g->state == ST_CONNECTING) {
            stream_connect_wait(g->stream);
        } else {
            stream_recv_wait(g->stream);
            if (g->out.len) {
                stream_send_wait(g->stream);
            }
        }
        if (g->role == ROLE_SOURCE && g->state == ST_COPYING) {
            poll_timer_wait_until(g->next_delta);
        }
        if (mig_active(g)) {
            poll_timer_wait_until(g->last_rx + FS_MIGRATE_TIMEOUT_MS + 1);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* ovs-appctl. */

static void
format_ms(struct ds *ds, const char *what, long long int from,
          long long int to)
{
    if (from && to) {
        ds_put_format(ds, " %s %lld ms", what, to - from);
    }
}

static void
format_mig(const struct mig *g, struct ds *ds)
{
    ds_put_format(ds, "  %s: %s %s %s, %s", g->iface_id ? g->iface_id
                  : "(unknown)", g->role == ROLE_SOURCE ? "source, to"
                  : g->role == ROLE_DEST ? "destination, from" : "peer",
                  g->peer, g->pulled ? "(pulled)" : "(pushed)",
                  state_names[g->state]);
    ds_put_format(ds, "\n    port %"PRIu32" at the source, %"PRIu32" at "
                  "the destination; %"PRIu64" flows offered\n",
                  g->src_port, g->dst_port, g->n_flows_offered);
    ds_put_format(ds, "    %s %"PRIu64" records in %"PRIu64" messages, "
                  "%"PRIu64" bytes out, %"PRIu64" bytes in\n",
                  g->role == ROLE_SOURCE ? "sent" : "received", g->records,
                  g->messages, g->bytes_out, g->bytes_in);
    ds_put_format(ds, "    imported %"PRIu64", updated %"PRIu64", in "
                  "conflict %"PRIu64", judged again %"PRIu64", ended "
                  "%"PRIu64", released %"PRIu64"\n", g->imported, g->updated,
                  g->conflicts, g->rejudged, g->removed, g->released);
    ds_put_format(ds, "    still classifying: %"PRIu64" records\n",
                  g->classifying);
    ds_put_cstr(ds, "    times:");
    format_ms(ds, "pre-copy", g->started, g->bulk_done);
    /* At the source, the switch-over ends when the destination has the
     * final changes; letting go of the flows comes after. */
    format_ms(ds, "switch-over", g->switch_started,
              g->final_acked ? g->final_acked : g->ended_at);
    format_ms(ds, "release", g->final_acked, g->ended_at);
    format_ms(ds, "total", g->started, g->ended_at);
    ds_put_char(ds, '\n');
    if (g->error[0]) {
        ds_put_format(ds, "    error: %s\n", g->error);
    }
}

void
fs_migrate_format_summary(const struct fs_migrate *m, struct ds *ds)
{
    ds_put_format(ds, "migration: listener %s%s%s, %"PRIuSIZE" in "
                  "progress, %"PRIu64" done, %"PRIu64" failed, %"PRIu64
                  " cancelled\n", m->remote ? m->remote : "(none)",
                  m->listen_error[0] ? ": " : "", m->listen_error,
                  n_active(m), m->n_done, m->n_failed, m->n_cancelled);
}

static void
cmd_migrations(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *m_)
{
    struct fs_migrate *m = m_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    const struct mig *g;

    fs_migrate_format_summary(m, &ds);
    ds_put_format(&ds, "connections accepted %"PRIu64", refused before "
                  "any message (TLS) %"PRIu64", migrations refused "
                  "%"PRIu64", bad messages %"PRIu64"\n", m->n_accepted,
                  m->n_refused_tls, m->n_refused, m->n_bad_msgs);
    LIST_FOR_EACH (g, node, &m->migs) {
        format_mig(g, &ds);
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
cmd_migrate(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[], void *m_)
{
    struct fs_migrate *m = m_;
    const char *iface_id = argv[1], *dest = argv[2];
    struct stream *s;
    struct mig *g;
    int error;

    if (!find_port(m, iface_id)) {
        unixctl_command_reply_error(conn, "no inspected port with that "
                                    "iface-id here");
        return;
    } else if (strncmp(dest, "ssl:", 4) && strncmp(dest, "chassis:", 8)) {
        unixctl_command_reply_error(conn, "DEST: want ssl:HOST:PORT "
                                    "(migrations use TLS only) or "
                                    "chassis:NAME");
        return;
    } else if (!strncmp(dest, "chassis:", 8)
               && (!fs_fleet_chassis(m->fleet) || !dest[8])) {
        unixctl_command_reply_error(conn, "chassis:NAME: a chassis is found "
                                    "in the Flowsteer database, and this "
                                    "host follows none (flowsteer-remote)");
        return;
    } else if (!m->ssl_key) {
        unixctl_command_reply_error(conn, "no SSL configuration "
                                    "(ovs-vsctl set-ssl)");
        return;
    } else if (find_active(m, iface_id)) {
        unixctl_command_reply_error(conn, "that VM is migrating already");
        return;
    } else if (n_active(m) >= FS_MIGRATE_MAX) {
        unixctl_command_reply_error(conn, "too many migrations in "
                                    "progress");
        return;
    }
    if (!strncmp(dest, "chassis:", 8)) {
        s = NULL;               /* Opened once the chassis is found. */
    } else {
        error = stream_open(dest, &s, DSCP_DEFAULT);
        if (error) {
            char *msg = xasprintf("%s: %s", dest, ovs_strerror(error));

            unixctl_command_reply_error(conn, msg);
            free(msg);
            return;
        }
    }
    g = mig_new(m, ROLE_SOURCE, iface_id, dest, s);
    g->starter = true;
    VLOG_INFO("migration of %s to %s: started", iface_id, dest);
    unixctl_command_reply(conn, "migration started");
    (void) g;
}

static struct mig *
cmd_find(struct unixctl_conn *conn, struct fs_migrate *m, const char *id)
{
    struct mig *g = find_active(m, id);

    if (!g) {
        unixctl_command_reply_error(conn, "no migration of that VM in "
                                    "progress");
    }
    return g;
}

static void
cmd_switch(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[], void *m_)
{
    struct fs_migrate *m = m_;
    struct mig *g = cmd_find(conn, m, argv[1]);

    if (!g) {
        return;
    }
    if (g->role == ROLE_DEST) {
        fs_mig_put_switch(&g->out);
    } else {
        start_switch(m, g, "asked");
    }
    unixctl_command_reply(conn, "switching over");
}

static void
cmd_cancel(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[], void *m_)
{
    struct fs_migrate *m = m_;
    struct mig *g = cmd_find(conn, m, argv[1]);

    if (!g) {
        return;
    }
    if (g->state == ST_SWITCHING || g->state == ST_RELEASING) {
        unixctl_command_reply_error(conn, "switching over: too late to "
                                    "cancel");
        return;
    }
    fs_mig_put_cancel(&g->out, "cancelled by the administrator");
    mig_fail(m, g, ST_CANCELLED, "cancelled by the administrator");
    unixctl_command_reply(conn, "cancelled");
}

static void
register_commands(struct fs_migrate *m)
{
    unixctl_command_register("flowsteer/migrations", "", 0, 0,
                             cmd_migrations, m);
    unixctl_command_register("flowsteer/migrate",
                             "IFACE-ID ssl:HOST:PORT|chassis:NAME",
                             2, 2, cmd_migrate, m);
    unixctl_command_register("flowsteer/migrate-switch", "IFACE-ID", 1, 1,
                             cmd_switch, m);
    unixctl_command_register("flowsteer/migrate-cancel", "IFACE-ID", 1, 1,
                             cmd_cancel, m);
}
