/* The inspector appliance, from flowsteerd.  See fs-appliance.h. */
#include <config.h>
#include "fs-appliance.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-chan.h"
#include "fs-port.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fs_appliance);

#define DEFAULT_HANG_MS 1000
#define SYNC_HANG_MS 10000      /* For the answer that ends a resync. */
#define STOP_WAIT_MS 1000
#define HEALTHY_MS 10000        /* Ready this long: the restart delay
                                 * starts again from the least. */
#define OUT_MAX_BYTES (256u << 20) /* Queued for a slow appliance; beyond,
                                    * it is restarted. */
#define LOG_LINE_MAX 1024
#define CHANNEL_BATCH 1024      /* Messages read per turn of the loop. */
#define LOG_LINES_PER_SEC 200

enum state {
    S_STOPPED,                  /* No process (or waiting to restart). */
    S_SYNCING,                  /* Started, resync sent, echo awaited. */
    S_READY,
};

struct out_msg {
    struct ovs_list node;
    size_t len;
    uint8_t data[];
};

/* A QUERY_FLOWS waiting for its FLOWS, or an EXPORT for its RECORDS. */
struct flows_query {
    struct ovs_list node;
    uint32_t xid;
    uint8_t answer;             /* FS_CHAN_FLOWS or FS_CHAN_RECORDS. */
    fs_appliance_flows_cb *cb;
    void *aux;
    struct ds msgs;
};
#define MAX_FLOWS_QUERIES 64
#define MAX_FLOWS_BYTES (64u << 20) /* Per query: a page of 10000 flows
                                     * takes about 2 MB. */

struct fs_appliance {
    char *program;
    unsigned int max_flows;
    fs_appliance_event_cb *event_cb;
    fs_appliance_resync_cb *resync_cb;
    void *aux;

    /* What is wanted. */
    struct hold { uint32_t port, ms; } holds[64]; /* Ports held. */
    size_t n_holds;
    char *ifname;
    char *backend;
    struct svec port_args;      /* More arguments (dpdk, workers). */
    enum fs_mode mode;
    unsigned int hang_ms;

    /* fs_appliance_import()'s records not sent yet (in impbuf). */
    struct fs_chan_buf imp;
    size_t imp_count_at;
    unsigned int imp_n;
    struct fs_config cfg_copy;  /* Exceptions, limits, timeouts. */
    bool have_cfg;
    struct sset ports;          /* "ofport" strings of inspected ports. */
    struct ds ports_msgs;       /* PORTS messages, encoded, back to back
                                 * behind 4-byte lengths. */
    char *policy_name;
    char *policy_text;          /* NULL: none. */
    bool have_policy;
    char *nf_name, *nf_text;    /* The policy for new flows, if any. */
    uint64_t min_id;

    /* The process. */
    enum state state;
    pid_t pid;
    int fd;                     /* Channel, or -1. */
    int log_fd;                 /* Its standard error, or -1. */
    struct ds log_line;
    long long int started;
    long long int ready_since;
    long long int next_start;
    long long int stop_deadline;
    unsigned int restart_ms;
    uint32_t next_xid;
    uint64_t echo_seq, echo_acked;
    long long int echo_sent, echo_acked_at, next_echo;
    uint64_t sync_seq;          /* The echo that ends the resync. */

    struct ovs_list out;
    size_t out_bytes;
    struct ovs_list queries;    /* struct flows_query. */
    size_t n_queries;

    /* The last STATS. */
    uint64_t counters[FS_N_COUNTERS];
    uint64_t dp[FS_CHAN_N_DP];
    uint32_t insp_flows, insp_classifying, insp_max, insp_pinned;
    uint64_t insp_memory;
    bool have_stats;
    bool port_was_open;         /* Since its start. */

    /* Counters. */
    uint64_t n_starts, n_exits, n_hangs, n_bad_msgs, n_bad_flows;
    uint64_t n_backlog_turns;   /* channel_run() left messages unread. */
    long long int last_msg;     /* When the last message came (ms). */
    uint64_t n_events, n_log_dropped;
    char last_exit[128];
    char last_bad[256];
    long long int log_window;
    unsigned int log_in_window;
};

static void stop(struct fs_appliance *, bool kill_now, const char *why);
static void log_run(struct fs_appliance *);
static void relog(struct fs_appliance *, const char *line);

struct fs_appliance *
fs_appliance_create(const char *program, unsigned int max_flows,
                    fs_appliance_event_cb *event_cb,
                    fs_appliance_resync_cb *resync_cb, void *aux)
{
    struct fs_appliance *a = xzalloc(sizeof *a);

    a->program = xstrdup(program);
    a->max_flows = max_flows;
    a->event_cb = event_cb;
    a->resync_cb = resync_cb;
    a->aux = aux;
    a->fd = a->log_fd = -1;
    a->hang_ms = DEFAULT_HANG_MS;
    a->restart_ms = FS_APPLIANCE_RESTART_MS;
    sset_init(&a->ports);
    svec_init(&a->port_args);
    ds_init(&a->ports_msgs);
    ds_init(&a->log_line);
    ovs_list_init(&a->out);
    ovs_list_init(&a->queries);
    return a;
}

/* ---------------------------------------------------------------------- */
/* Sending. */

/* The records fs_appliance_import() was given that are not sent yet: one
 * IMPORT_FLOWS message, sent once full, or before any other message (so
 * that the order holds), or by fs_appliance_import_flush(). */
static uint8_t impbuf[FS_CHAN_MAX_MSG];
static void import_flush(struct fs_appliance *);
static void send_holds(struct fs_appliance *);

static void
queue_bytes(struct fs_appliance *a, const void *data, size_t len)
{
    struct out_msg *m;

    if (a->fd < 0 || !len) {
        return;
    }
    if (a->imp_n && data != impbuf) {
        import_flush(a);
    }
    if (ovs_list_is_empty(&a->out)) {
        ssize_t r = send(a->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (r == (ssize_t) len) {
            return;
        }
    }
    if (a->out_bytes + len > OUT_MAX_BYTES) {
        stop(a, true, "it does not read what it is sent");
        return;
    }
    m = xmalloc(sizeof *m + len);
    m->len = len;
    memcpy(m->data, data, len);
    ovs_list_push_back(&a->out, &m->node);
    a->out_bytes += len;
}

static void
import_flush(struct fs_appliance *a)
{
    size_t len;

    if (!a->imp_n) {
        return;
    }
    impbuf[a->imp_count_at] = a->imp_n >> 8;
    impbuf[a->imp_count_at + 1] = a->imp_n;
    len = fs_chan_finish(&a->imp);
    a->imp_n = 0;
    queue_bytes(a, impbuf, len);
}

void
fs_appliance_import_flush(struct fs_appliance *a)
{
    import_flush(a);
}

static void
queue(struct fs_appliance *a, struct fs_chan_buf *b)
{
    size_t len = fs_chan_finish(b);

    if (!len) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        VLOG_WARN_RL(&rl, "a message for the appliance does not fit: not "
                     "sent");
        return;
    }
    queue_bytes(a, b->data, len);
}

static void
flush_out(struct fs_appliance *a)
{
    struct out_msg *m, *next;

    LIST_FOR_EACH_SAFE (m, next, node, &a->out) {
        ssize_t r = send(a->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                stop(a, true, ovs_strerror(errno));
            }
            return;
        }
        ovs_list_remove(&m->node);
        a->out_bytes -= m->len;
        free(m);
    }
}

static void
clear_out(struct fs_appliance *a)
{
    struct out_msg *m;

    LIST_FOR_EACH_POP (m, node, &a->out) {
        free(m);
    }
    a->out_bytes = 0;
}

static uint8_t msgbuf[FS_CHAN_MAX_MSG];

static void
send_hello(struct fs_appliance *a)
{
    struct fs_chan_buf b;

    fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_HELLO, 0, 0);
    fs_chan_put_u8(&b, FS_CHAN_VERSION);
    fs_chan_put_u8(&b, FS_CHAN_VERSION);
    fs_chan_put_u8(&b, FS_CHAN_ROLE_DAEMON);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_u32(&b, getpid());
    fs_chan_put_str(&b, "flowsteerd " FLOWSTEER_VERSION);
    queue(a, &b);
}

static void
send_config(struct fs_appliance *a, bool ready)
{
    const struct fs_config *c = &a->cfg_copy;
    struct fs_chan_buf b;

    fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_CONFIG, 0,
                  ++a->next_xid);
    fs_chan_put_u8(&b, a->mode);
    fs_chan_put_u8(&b, a->have_cfg && c->port_full_evict);
    fs_chan_put_u8(&b, ready);
    fs_chan_put_u8(&b, a->have_cfg ? FS_N_EXCEPTIONS : 0);
    if (a->have_cfg) {
        fs_chan_put_bytes(&b, c->exceptions, FS_N_EXCEPTIONS);
    }
    fs_chan_put_u32(&b, a->have_cfg ? c->max_flows_per_port : 0);
    for (int i = 0; i < 3; i++) {
        fs_chan_put_u32(&b, a->have_cfg ? c->idle_timeout[i] * 1000u : 0);
    }
    fs_chan_put_u64(&b, a->min_id);
    fs_chan_put_str(&b, a->ifname);
    fs_chan_put_str(&b, a->backend);
    queue(a, &b);
}

static void
send_policy_text(struct fs_appliance *a, int kind, const char *name,
                 const char *text)
{
    size_t total = text ? strlen(text) : 0, off = 0;

    do {
        size_t n = MIN(total - off, FS_CHAN_CHUNK_MAX);
        struct fs_chan_buf b;

        fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_POLICY,
                      off + n < total ? FS_CHAN_F_MORE : 0, ++a->next_xid);
        fs_chan_put_u8(&b, kind);
        fs_chan_put_u32(&b, total);
        fs_chan_put_u32(&b, off);
        fs_chan_put_str(&b, name);
        fs_chan_put_bytes(&b, text ? text + off : "", n);
        queue(a, &b);
        off += n;
    } while (off < total);
}

static void
send_policies(struct fs_appliance *a)
{
    if (a->nf_text) {
        send_policy_text(a, FS_CHAN_POLICY_NEW_FLOWS, a->nf_name,
                         a->nf_text);
    }
    if (a->have_policy) {
        send_policy_text(a, FS_CHAN_POLICY_SET, a->policy_name,
                         a->policy_text);
    }
}

void
fs_appliance_msgs_append(struct ds *msgs, const void *msg, size_t len)
{
    ds_put_char(msgs, len >> 24);
    ds_put_char(msgs, len >> 16);
    ds_put_char(msgs, len >> 8);
    ds_put_char(msgs, len);
    ds_put_buffer(msgs, msg, len);
}

bool
fs_appliance_msgs_next(const struct ds *msgs, size_t *off,
                       const uint8_t **msg, size_t *len)
{
    const uint8_t *p = (const uint8_t *) msgs->string + *off;

    if (*off + 4 > msgs->length) {
        return false;
    }
    *len = (size_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
    *msg = p + 4;
    *off += 4 + *len;
    return true;
}

static void
send_ports(struct fs_appliance *a)
{
    const uint8_t *msg;
    size_t off = 0, len;

    while (fs_appliance_msgs_next(&a->ports_msgs, &off, &msg, &len)) {
        queue_bytes(a, msg, len);
    }
}

static void
send_echo(struct fs_appliance *a)
{
    struct fs_chan_buf b;

    fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_ECHO_REQUEST, 0,
                  ++a->next_xid);
    fs_chan_put_u64(&b, ++a->echo_seq);
    queue(a, &b);
    a->echo_sent = time_msec();
    a->next_echo = a->echo_sent + FS_APPLIANCE_ECHO_MS;
}

/* ---------------------------------------------------------------------- */
/* The process. */

static void
query_done(struct fs_appliance *a, struct flows_query *q, bool ok)
{
    ovs_list_remove(&q->node);
    a->n_queries--;
    if (q->cb) {
        q->cb(q->aux, ok ? &q->msgs : NULL);
    }
    ds_destroy(&q->msgs);
    free(q);
}

static void
close_fds(struct fs_appliance *a)
{
    struct flows_query *q;

    LIST_FOR_EACH_SAFE (q, node, &a->queries) {
        query_done(a, q, false);
    }
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
    log_run(a);                 /* Its last words, often why it ended. */
    if (a->log_line.length) {
        relog(a, ds_cstr(&a->log_line));
    }
    if (a->log_fd >= 0) {
        close(a->log_fd);
        a->log_fd = -1;
    }
    clear_out(a);
    a->imp_n = 0;
    ds_clear(&a->log_line);
}

/* Describes how process 'pid' ended into a->last_exit, waiting at most
 * 'wait_ms' for it. */
static void
reap(struct fs_appliance *a, long long int wait_ms)
{
    long long int deadline = time_msec() + wait_ms;
    int status;

    for (;;) {
        pid_t r = waitpid(a->pid, &status, WNOHANG);

        if (r == a->pid) {
            if (WIFEXITED(status)) {
                const char *why = fs_chan_exit_reason(WEXITSTATUS(status));

                snprintf(a->last_exit, sizeof a->last_exit, "exit status "
                         "%d%s%s%s", WEXITSTATUS(status), why ? " (" : "",
                         why ? why : "", why ? ")" : "");
            } else if (WIFSIGNALED(status)) {
                snprintf(a->last_exit, sizeof a->last_exit, "killed by "
                         "signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
            }
            a->pid = 0;
            return;
        } else if (r < 0 && errno != EINTR) {
            a->pid = 0;
            return;
        } else if (time_msec() >= deadline) {
            return;
        }
        xnanosleep(1000000);
    }
}

/* The process is gone (killed if it was not yet): schedules the next. */
static void
stopped(struct fs_appliance *a)
{
    if (a->pid) {
        kill(a->pid, SIGKILL);
        reap(a, STOP_WAIT_MS);
    }
    a->state = S_STOPPED;
    a->have_stats = false;
    a->port_was_open = false;
    a->next_start = time_msec() + a->restart_ms;
    a->restart_ms = MIN(a->restart_ms * 2, FS_APPLIANCE_RESTART_MAX_MS);
}

/* Ends the running appliance: SIGKILL now if 'kill_now', else SIGTERM and
 * SIGKILL after STOP_WAIT_MS.  Schedules the restart. */
static void
stop(struct fs_appliance *a, bool kill_now, const char *why)
{
    if (a->state == S_STOPPED && !a->pid) {
        return;
    }
    if (why) {
        VLOG_WARN("inspector appliance (pid %ld): %s: %s", (long) a->pid,
                  why, kill_now ? "killed" : "stopped");
    }
    close_fds(a);
    if (a->pid) {
        kill(a->pid, kill_now ? SIGKILL : SIGTERM);
        reap(a, STOP_WAIT_MS);
    }
    stopped(a);
}

/* The appliance ended by itself (its channel closed). */
static void
ended(struct fs_appliance *a)
{
    pid_t pid = a->pid;

    close_fds(a);
    a->last_exit[0] = '\0';
    if (a->pid) {
        reap(a, STOP_WAIT_MS);
    }
    a->n_exits++;
    VLOG_WARN("inspector appliance (pid %ld) ended: %s; starting it again "
              "in %u ms", (long) pid, a->last_exit[0] ? a->last_exit
                                                      : "status unknown",
              a->restart_ms);
    stopped(a);
}

/* Removes 'log_path=...' from the ':'-separated options in environment
 * variable 'var' (of a sanitizer runtime).  In the child, which is alone:
 * flowsteerd has no threads. */
static void
drop_log_path(const char *var)
{
    const char *value = getenv(var);
    char *copy, *save = NULL, *opt;
    struct ds out = DS_EMPTY_INITIALIZER;

    if (!value || !strstr(value, "log_path=")) {
        return;
    }
    copy = xstrdup(value);
    for (opt = strtok_r(copy, ":", &save); opt;
         opt = strtok_r(NULL, ":", &save)) {
        if (strncmp(opt, "log_path=", 9)) {
            ds_put_format(&out, "%s%s", out.length ? ":" : "", opt);
        }
    }
    setenv(var, ds_cstr(&out), 1);
    ds_destroy(&out);
    free(copy);
}

static int
set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    return flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0;
}

static void
start(struct fs_appliance *a)
{
    int sv[2] = { -1, -1 }, lp[2] = { -1, -1 };
    char *fd_arg, *flows_arg, *backend_arg;
    char **argv;
    pid_t pid;

    /* The appliance may not change interfaces: it runs without
     * CAP_NET_ADMIN.  (A dpdk port is no interface.) */
    if (strcmp(a->backend, "dpdk")) {
        fs_port_ifup(a->ifname);
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)
        || pipe(lp) || set_cloexec(lp[0]) || set_cloexec(lp[1])) {
        VLOG_ERR("cannot start the inspector appliance: %s",
                 ovs_strerror(errno));
        goto error;
    }
    fd_arg = xasprintf("--channel-fd=%d", 3);
    flows_arg = xasprintf("--max-flows=%u", a->max_flows);
    backend_arg = xasprintf("--backend=%s", a->backend);
    {
        char *fixed[] = {
            a->program, fd_arg, flows_arg, backend_arg, "-vconsole:info",
            "-vPATTERN:console:%p|%c|%m", "-vsyslog:off",
        };

        argv = xcalloc(ARRAY_SIZE(fixed) + a->port_args.n + 1,
                       sizeof *argv);
        memcpy(argv, fixed, sizeof fixed);
        for (size_t i = 0; i < a->port_args.n; i++) {
            argv[ARRAY_SIZE(fixed) + i] = a->port_args.names[i];
        }
    }
    pid = fork();
    if (pid < 0) {
        VLOG_ERR("cannot start the inspector appliance: fork: %s",
                 ovs_strerror(errno));
        free(fd_arg);
        free(flows_arg);
        free(backend_arg);
        free(argv);
        goto error;
    } else if (!pid) {
        /* The child: channel on fd 3, log on 2, nothing else. */
        int null = open("/dev/null", O_RDWR);

        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0
            || dup2(lp[1], 2) < 0 || dup2(sv[1], 3) < 0) {
            _exit(126);
        }
        for (int fd = 4; fd < 1024; fd++) {
            close(fd);
        }
        /* Sandboxed, it can open no sanitizer log file: its reports go
         * to its standard error, which comes to our log. */
        drop_log_path("ASAN_OPTIONS");
        drop_log_path("UBSAN_OPTIONS");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(a->program, argv);
        _exit(127);
    }
    free(fd_arg);
    free(flows_arg);
    free(backend_arg);
    free(argv);
    close(sv[1]);
    close(lp[1]);
    a->pid = pid;
    a->fd = sv[0];
    a->log_fd = lp[0];
    set_nonblocking(a->fd);
    set_nonblocking(a->log_fd);
    a->state = S_SYNCING;
    a->started = time_msec();
    a->n_starts++;
    VLOG_INFO("inspector appliance started: %s (pid %ld) on %s (%s)",
              a->program, (long) pid, a->ifname, a->backend);

    /* The resync: everything a new appliance needs, then the echo whose
     * answer says it took it all. */
    send_hello(a);
    send_config(a, false);
    send_ports(a);
    send_holds(a);
    send_policies(a);
    if (a->resync_cb) {
        a->resync_cb(a->aux, a);
    }
    send_config(a, true);
    send_echo(a);
    a->sync_seq = a->echo_seq;
    a->echo_acked_at = time_msec();
    return;

error:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0) {
            close(sv[i]);
        }
        if (lp[i] >= 0) {
            close(lp[i]);
        }
    }
    a->next_start = time_msec() + FS_APPLIANCE_RESTART_MAX_MS;
}

/* ---------------------------------------------------------------------- */
/* Receiving. */

static void
bad_msg(struct fs_appliance *a, const char *what)
{
    a->n_bad_msgs++;
    ovs_strlcpy(a->last_bad, what, sizeof a->last_bad);
    stop(a, true, what);
}

static bool
port_inspected(const struct fs_appliance *a, uint32_t port)
{
    char s[16];

    snprintf(s, sizeof s, "%"PRIu32, port);
    return sset_contains(&a->ports, s);
}

static void
handle_event(struct fs_appliance *a, const uint8_t *buf, size_t len,
             const struct fs_chan_msg *m)
{
    static struct fs_chan_flow flow;
    size_t off = 0;

    if (!fs_chan_next_flow(buf, len, &off, &flow)) {
        bad_msg(a, "an event without its flow");
        return;
    }
    /* A flow is known by the VM that opened it, or the VM it goes to: an
     * inspected port either way, or the appliance says what it cannot
     * know.  (The end of a flow may come after its port went: a VM that
     * migrated away, a port deleted.) */
    if (m->event != FS_EVENT_FLOW_END
        && !port_inspected(a, flow.info.port)
        && !(flow.info.peer_port && port_inspected(a, flow.info.peer_port))) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        /* Ignoring it is safe, and it is what a port deleted with flows
         * in classification causes (a VM that migrated away): counted,
         * not warned of. */
        a->n_bad_flows++;
        VLOG_INFO_RL(&rl, "inspector appliance: event for flow %"PRIu64
                     " of port %"PRIu32", which is not inspected: ignored",
                     flow.info.id, flow.info.port);
        return;
    }
    a->n_events++;
    a->event_cb(a->aux, m->event, &flow.info, m->data, m->data_len);
}

static void
handle_stats(struct fs_appliance *a, const struct fs_chan_msg *m)
{
    memset(a->counters, 0, sizeof a->counters);
    memcpy(a->counters, m->counters, m->n_counters * sizeof *m->counters);
    memcpy(a->dp, m->dp, sizeof a->dp);
    a->port_was_open |= a->dp[FS_CHAN_DP_PORT_OPEN] != 0;
    a->insp_flows = m->insp_flows;
    a->insp_classifying = m->insp_classifying;
    a->insp_max = m->insp_max_flows;
    a->insp_pinned = m->insp_pinned;
    a->insp_memory = m->insp_memory;
    a->have_stats = true;
}

static void
handle_msg(struct fs_appliance *a, const uint8_t *buf, size_t len)
{
    static struct fs_chan_msg m;
    char err[256];

    if (fs_chan_decode(buf, len, &m, err, sizeof err)) {
        bad_msg(a, err);
        return;
    }
    switch (m.type) {
    case FS_CHAN_HELLO:
        if (m.role != FS_CHAN_ROLE_APPLIANCE
            || m.min_version > FS_CHAN_VERSION) {
            bad_msg(a, "HELLO of another role or version");
        }
        break;
    case FS_CHAN_ERROR:
        VLOG_WARN("inspector appliance: error %"PRId32" about message %"
                  PRIu32": %.*s", m.code, m.xid, (int) m.str_len, m.str);
        break;
    case FS_CHAN_ECHO_REPLY:
        if (m.u64 > a->echo_seq) {
            bad_msg(a, "an answer to an echo never sent");
            break;
        }
        a->echo_acked = m.u64;
        a->echo_acked_at = time_msec();
        if (a->state == S_SYNCING && m.u64 >= a->sync_seq) {
            a->state = S_READY;
            a->ready_since = time_msec();
            VLOG_INFO("inspector appliance (pid %ld) ready, %lld ms after "
                      "its start", (long) a->pid,
                      a->ready_since - a->started);
        }
        break;
    case FS_CHAN_RESULT:
        if (m.code) {
            VLOG_WARN("inspector appliance: message %"PRIu32": %s: %.*s",
                      m.xid, ovs_strerror(-m.code), (int) m.str_len, m.str);
        }
        break;
    case FS_CHAN_EVENT:
        handle_event(a, buf, len, &m);
        break;
    case FS_CHAN_FLOWS:
    case FS_CHAN_RECORDS: {
        struct flows_query *q;

        LIST_FOR_EACH (q, node, &a->queries) {
            if (q->xid == m.xid && q->answer == m.type) {
                if (q->msgs.length + len + 4 > MAX_FLOWS_BYTES) {
                    bad_msg(a, "an answer to a flows query too long");
                    return;
                }
                fs_appliance_msgs_append(&q->msgs, buf, len);
                if (!(m.flags & FS_CHAN_F_MORE)) {
                    query_done(a, q, true);
                }
                return;
            }
        }
        bad_msg(a, "flows no one asked for");
        break;
    }
    case FS_CHAN_STATS:
        handle_stats(a, &m);
        break;
    default:
        bad_msg(a, "a message of flowsteerd's kind");
        break;
    }
}

/* Reads what the channel holds, at most CHANNEL_BATCH messages.  Returns
 * true if it stopped at that limit: more is waiting. */
static bool
channel_run(struct fs_appliance *a)
{
    static uint8_t buf[FS_CHAN_MAX_MSG + 1];
    int i;

    for (i = 0; i < CHANNEL_BATCH && a->fd >= 0; i++) {
        ssize_t n = recv(a->fd, buf, sizeof buf, MSG_DONTWAIT);

        if (n > 0) {
            a->last_msg = time_msec();
            handle_msg(a, buf, n);
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK
                              && errno != EINTR)) {
            ended(a);
            return false;
        } else {
            break;
        }
    }
    if (a->fd >= 0) {
        flush_out(a);
    }
    return i == CHANNEL_BATCH && a->fd >= 0;
}

/* One line of the appliance's log ("LEVEL|MODULE|MESSAGE"), into ours,
 * at most LOG_LINES_PER_SEC a second (the rest are counted).  Its own
 * module's lines keep their text, so that they read as flowsteerd's did
 * when the inspector was in this process. */
static void
relog(struct fs_appliance *a, const char *line)
{
    static struct vlog_module *flowsteerd;
    /* A line not in that form (a sanitizer's report, a library's
     * complaint) is a warning. */
    enum vlog_level level = VLL_WARN;
    char lvl[8] = "", module[32] = "";
    const char *msg = line;
    long long int now = time_msec();

    if (!line[strspn(line, " ")]) {
        return;                 /* A sanitizer report's blank lines. */
    }
    if (now - a->log_window >= 1000) {
        a->log_window = now;
        a->log_in_window = 0;
    }
    if (++a->log_in_window > LOG_LINES_PER_SEC) {
        a->n_log_dropped++;
        return;
    }
    if (sscanf(line, "%7[A-Z]|%31[a-z_]|", lvl, module) == 2) {
        enum vlog_level l = vlog_get_level_val(lvl);

        level = l < VLL_N_LEVELS ? l : VLL_WARN;
        msg = line + strlen(lvl) + 1 + strlen(module) + 1;
    }
    if (!flowsteerd) {
        flowsteerd = vlog_module_from_name("flowsteerd");
    }
    if (!strcmp(module, "inspectord") && flowsteerd) {
        vlog(flowsteerd, level, "%s", msg);
    } else {
        vlog(&this_module, level, "appliance: %s%s%s", module,
             module[0] ? ": " : "", msg);
    }
}

static void
log_run(struct fs_appliance *a)
{
    char buf[4096];

    while (a->log_fd >= 0) {
        ssize_t n = read(a->log_fd, buf, sizeof buf);

        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(a->log_fd);
                a->log_fd = -1;
            }
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                relog(a, ds_cstr(&a->log_line));
                ds_clear(&a->log_line);
            } else if (a->log_line.length < LOG_LINE_MAX) {
                ds_put_char(&a->log_line, buf[i] >= 0x20 && buf[i] < 0x7f
                                          ? buf[i] : '?');
            }
        }
    }
}

/* ---------------------------------------------------------------------- */

void
fs_appliance_set(struct fs_appliance *a, const char *ifname,
                 const char *backend, const struct svec *port_args,
                 enum fs_mode mode, unsigned int hang_ms)
{
    static const struct svec no_args = SVEC_EMPTY_INITIALIZER;

    port_args = port_args ? port_args : &no_args;
    hang_ms = hang_ms ? hang_ms : DEFAULT_HANG_MS;
    if (!nullable_string_is_equal(ifname, a->ifname)
        || !nullable_string_is_equal(backend, a->backend)
        || !svec_equal(port_args, &a->port_args)) {
        stop(a, false, NULL);
        free(a->ifname);
        free(a->backend);
        svec_destroy(&a->port_args);
        svec_clone(&a->port_args, port_args);
        a->ifname = nullable_xstrdup(ifname);
        a->backend = xstrdup(backend ? backend : "afpacket");
        a->next_start = 0;
        a->restart_ms = FS_APPLIANCE_RESTART_MS;
    } else if (mode != a->mode && a->fd >= 0) {
        a->mode = mode;
        send_config(a, a->state != S_STOPPED);
    }
    a->mode = mode;
    a->hang_ms = hang_ms;
}

void
fs_appliance_set_config(struct fs_appliance *a, const struct fs_config *cfg)
{
    const struct fs_config_port *p;
    unsigned int n = 0;
    struct fs_chan_buf b;
    size_t count_at = 0;

    memset(&a->cfg_copy, 0, sizeof a->cfg_copy);
    memcpy(a->cfg_copy.exceptions, cfg->exceptions,
           sizeof a->cfg_copy.exceptions);
    a->cfg_copy.max_flows_per_port = cfg->max_flows_per_port;
    a->cfg_copy.port_full_evict = cfg->port_full_evict;
    memcpy(a->cfg_copy.idle_timeout, cfg->idle_timeout,
           sizeof a->cfg_copy.idle_timeout);
    a->have_cfg = true;

    /* The ports, encoded once, kept for every new appliance. */
    sset_clear(&a->ports);
    ds_clear(&a->ports_msgs);
    p = NULL;
    LIST_FOR_EACH (p, node, &cfg->ports) {
        char s[24];

        if (p->ofport <= 0 || p->ofport > UINT32_MAX) {
            continue;
        }
        snprintf(s, sizeof s, "%"PRId64, p->ofport);
        sset_add(&a->ports, s);
        if (!n) {
            fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_PORTS,
                          FS_CHAN_F_MORE, 0);
            count_at = b.len;
            fs_chan_put_u16(&b, 0);
        }
        fs_chan_put_u32(&b, p->ofport);
        fs_chan_put_u8(&b, p->has_mac);
        fs_chan_put_bytes(&b, p->has_mac ? p->mac : (const uint8_t *)
                          "\0\0\0\0\0\0", 6);
        fs_chan_put_str(&b, p->name);
        fs_chan_put_str(&b, p->profile);
        if (++n == FS_CHAN_MAX_PORTS_PER_MSG || b.len > FS_CHAN_MAX_MSG / 2) {
            size_t len;

            msgbuf[count_at] = n >> 8;
            msgbuf[count_at + 1] = n;
            len = fs_chan_finish(&b);
            fs_appliance_msgs_append(&a->ports_msgs, msgbuf, len);
            n = 0;
        }
    }
    /* The last part, without F_MORE (maybe with no ports). */
    if (!n) {
        fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_PORTS, 0, 0);
        count_at = b.len;
        fs_chan_put_u16(&b, 0);
    }
    msgbuf[2] = msgbuf[3] = 0;
    msgbuf[count_at] = n >> 8;
    msgbuf[count_at + 1] = n;
    {
        size_t len = fs_chan_finish(&b);

        fs_appliance_msgs_append(&a->ports_msgs, msgbuf, len);
    }
    if (a->fd >= 0) {
        send_config(a, a->state != S_STOPPED);
        send_ports(a);
    }
}

void
fs_appliance_set_policy(struct fs_appliance *a, int kind, const char *name,
                        const char *text)
{
    if (kind == FS_CHAN_POLICY_NEW_FLOWS) {
        free(a->nf_name);
        free(a->nf_text);
        a->nf_name = xstrdup(name);
        a->nf_text = xstrdup(text);
    } else {
        free(a->policy_name);
        free(a->policy_text);
        a->policy_name = xstrdup(name);
        a->policy_text = nullable_xstrdup(text);
        a->have_policy = true;
    }
    if (a->fd >= 0) {
        send_policy_text(a, kind, name, text);
    }
}

void
fs_appliance_reserve_ids(struct fs_appliance *a, uint64_t id)
{
    if (id > a->min_id) {
        a->min_id = id;
    }
}

static void
send_id_key(struct fs_appliance *a, enum fs_chan_type type, uint64_t id,
            const struct fs_flow_key *key, int pinned)
{
    struct fs_chan_buf b;

    if (a->fd < 0) {
        return;
    }
    fs_chan_start(&b, msgbuf, sizeof msgbuf, type, 0, ++a->next_xid);
    fs_chan_put_u64(&b, id);
    if (key) {
        fs_chan_put_key(&b, key);
    }
    if (pinned >= 0) {
        fs_chan_put_u8(&b, pinned);
    }
    queue(a, &b);
}

void
fs_appliance_pin(struct fs_appliance *a, uint64_t id,
                 const struct fs_flow_key *key, bool pinned)
{
    send_id_key(a, FS_CHAN_PIN, id, key, pinned);
}

void
fs_appliance_remove(struct fs_appliance *a, uint64_t id,
                    const struct fs_flow_key *key)
{
    send_id_key(a, FS_CHAN_REMOVE, id, key, -1);
}

void
fs_appliance_release(struct fs_appliance *a, uint64_t id,
                     const struct fs_flow_key *key)
{
    send_id_key(a, FS_CHAN_RELEASE, id, key, -1);
}

void
fs_appliance_gone(struct fs_appliance *a, uint64_t id)
{
    send_id_key(a, FS_CHAN_GONE, id, NULL, -1);
}

static void
send_port_msg(struct fs_appliance *a, enum fs_chan_type type, uint32_t port,
              uint32_t ms)
{
    struct fs_chan_buf b;

    if (a->fd < 0) {
        return;
    }
    fs_chan_start(&b, msgbuf, sizeof msgbuf, type, 0, ++a->next_xid);
    fs_chan_put_u32(&b, port);
    if (type == FS_CHAN_HOLD_PORT) {
        fs_chan_put_u32(&b, ms);
    }
    queue(a, &b);
}

static void
send_holds(struct fs_appliance *a)
{
    for (size_t i = 0; i < a->n_holds; i++) {
        send_port_msg(a, FS_CHAN_HOLD_PORT, a->holds[i].port,
                      a->holds[i].ms);
    }
}

void
fs_appliance_hold_port(struct fs_appliance *a, uint32_t port, uint32_t ms)
{
    size_t i;

    ms = MAX(1, MIN(ms, FS_CHAN_HOLD_MAX_MS));
    for (i = 0; i < a->n_holds && a->holds[i].port != port; i++) {
        continue;
    }
    if (i == a->n_holds) {
        if (a->n_holds >= ARRAY_SIZE(a->holds)) {
            VLOG_WARN("port %"PRIu32": cannot hold its packets for a "
                      "migration: %"PRIuSIZE" ports are held already", port,
                      a->n_holds);
            return;
        }
        a->n_holds++;
    }
    a->holds[i].port = port;
    a->holds[i].ms = ms;
    send_port_msg(a, FS_CHAN_HOLD_PORT, port, ms);
}

void
fs_appliance_release_port(struct fs_appliance *a, uint32_t port)
{
    for (size_t i = 0; i < a->n_holds; i++) {
        if (a->holds[i].port == port) {
            a->holds[i] = a->holds[--a->n_holds];
            send_port_msg(a, FS_CHAN_RELEASE_PORT, port, 0);
            return;
        }
    }
}

void
fs_appliance_import(struct fs_appliance *a, const void *record, size_t len)
{
    if (a->fd < 0) {
        return;
    }
    if (a->imp_n == FS_CHAN_RECORDS_PER_MSG
        || (a->imp_n && a->imp.len + len > FS_CHAN_MAX_MSG)) {
        import_flush(a);
    }
    if (!a->imp_n) {
        fs_chan_start(&a->imp, impbuf, sizeof impbuf, FS_CHAN_IMPORT_FLOWS,
                      0, ++a->next_xid);
        a->imp_count_at = a->imp.len;
        fs_chan_put_u16(&a->imp, 0);
    }
    fs_chan_put_bytes(&a->imp, record, len);
    a->imp_n++;
}

void
fs_appliance_flush(struct fs_appliance *a)
{
    struct fs_chan_buf b;

    if (a->fd < 0) {
        return;
    }
    fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_FLUSH, 0,
                  ++a->next_xid);
    queue(a, &b);
}

bool
fs_appliance_ready(const struct fs_appliance *a)
{
    return (a->state == S_READY && a->have_stats
            && a->dp[FS_CHAN_DP_PORT_OPEN]);
}

/* Starts a query whose answer is 'answer' messages, or returns NULL
 * (having called 'cb') if none can be made now. */
static struct flows_query *
query_start(struct fs_appliance *a, uint8_t answer, fs_appliance_flows_cb *cb,
            void *aux)
{
    struct flows_query *q;

    if (a->state != S_READY || a->n_queries >= MAX_FLOWS_QUERIES) {
        cb(aux, NULL);
        return NULL;
    }
    q = xzalloc(sizeof *q);
    q->xid = ++a->next_xid;
    q->answer = answer;
    q->cb = cb;
    q->aux = aux;
    ds_init(&q->msgs);
    ovs_list_push_back(&a->queries, &q->node);
    a->n_queries++;
    return q;
}

void
fs_appliance_query_flows(struct fs_appliance *a, uint64_t after,
                         uint32_t limit, fs_appliance_flows_cb *cb,
                         void *aux)
{
    struct flows_query *q = query_start(a, FS_CHAN_FLOWS, cb, aux);
    struct fs_chan_buf b;

    if (q) {
        fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_QUERY_FLOWS, 0,
                      q->xid);
        fs_chan_put_u64(&b, after);
        fs_chan_put_u32(&b, limit);
        queue(a, &b);
    }
}

void
fs_appliance_export(struct fs_appliance *a, uint32_t port, uint64_t since,
                    uint32_t flags, fs_appliance_flows_cb *cb, void *aux)
{
    struct flows_query *q = query_start(a, FS_CHAN_RECORDS, cb, aux);
    struct fs_chan_buf b;

    if (q) {
        fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_EXPORT, 0, q->xid);
        fs_chan_put_u32(&b, port);
        fs_chan_put_u64(&b, since);
        fs_chan_put_u32(&b, flags);
        queue(a, &b);
    }
}

void
fs_appliance_import_batch(struct fs_appliance *a, uint32_t flags,
                          const uint32_t (*port_map)[2], size_t n_port_map,
                          const void *records, size_t len)
{
    struct fs_chan_buf b;

    if (a->fd < 0) {
        return;
    }
    fs_chan_start(&b, msgbuf, sizeof msgbuf, FS_CHAN_IMPORT_BATCH, 0,
                  ++a->next_xid);
    fs_chan_put_u32(&b, flags);
    fs_chan_put_u16(&b, n_port_map);
    for (size_t i = 0; i < n_port_map; i++) {
        fs_chan_put_u32(&b, port_map[i][0]);
        fs_chan_put_u32(&b, port_map[i][1]);
    }
    fs_chan_put_bytes(&b, records, len);
    queue(a, &b);
}

void
fs_appliance_forget_queries(struct fs_appliance *a, void *aux)
{
    struct flows_query *q;

    LIST_FOR_EACH_SAFE (q, node, &a->queries) {
        if (q->aux == aux) {
            /* Its answer is read and dropped: see handle_msg(). */
            q->cb = NULL;
        }
    }
}

uint64_t
fs_appliance_counter(const struct fs_appliance *a, int c)
{
    return c >= 0 && c < FS_N_COUNTERS ? a->counters[c] : 0;
}

/* How long the appliance may take to answer an echo.  A new appliance
 * gets longer to take its resync and open its port (DPDK's EAL takes about
 * a second to start, more in a sanitizer build); it is not ready then, so
 * the fail mode applies meanwhile. */
static long long int
hang_bound(const struct fs_appliance *a)
{
    return (a->state == S_SYNCING || !a->port_was_open
            ? MAX(a->hang_ms, SYNC_HANG_MS) : a->hang_ms);
}

/* When an appliance that has not answered the last echo is hung.  Counted
 * from the question (not the last answer): if this process stalled, the
 * appliance is not to blame.  Nor while messages keep coming (a flood of
 * events: the appliance's loop turns and the answer waits behind them, in
 * its queue or in ours), up to SYNC_HANG_MS: a hung appliance sends
 * nothing, and one that floods the channel but never answers is stopped
 * all the same. */
static long long int
hang_deadline(const struct fs_appliance *a)
{
    long long int bound = hang_bound(a);

    return MIN(MAX(a->echo_sent, a->last_msg) + bound,
               a->echo_sent + MAX(bound, SYNC_HANG_MS));
}

void
fs_appliance_run(struct fs_appliance *a)
{
    long long int now = time_msec();

    import_flush(a);
    if (a->fd >= 0) {
        a->n_backlog_turns += channel_run(a);
    }
    log_run(a);
    if (!a->ifname) {
        return;
    }
    if (a->state == S_STOPPED && !a->pid && now >= a->next_start) {
        start(a);
        return;
    }
    if (a->state == S_STOPPED) {
        return;
    }
    if (a->echo_acked < a->echo_seq && now > hang_deadline(a)) {
        char why[64];

        a->n_hangs++;
        snprintf(why, sizeof why, "no answer for %lld ms",
                 now - a->echo_sent);
        stop(a, true, why);
        return;
    }
    if (a->state == S_READY && now - a->ready_since >= HEALTHY_MS) {
        a->restart_ms = FS_APPLIANCE_RESTART_MS;
    }
    if (now >= a->next_echo && a->echo_acked == a->echo_seq) {
        send_echo(a);
    }
}

void
fs_appliance_wait(struct fs_appliance *a)
{
    if (a->fd >= 0) {
        poll_fd_wait(a->fd, POLLIN);
        if (!ovs_list_is_empty(&a->out)) {
            poll_fd_wait(a->fd, POLLOUT);
        }
        poll_timer_wait_until(a->next_echo);
        if (a->echo_acked < a->echo_seq) {
            poll_timer_wait_until(hang_deadline(a) + 1);
        }
    }
    if (a->log_fd >= 0) {
        poll_fd_wait(a->log_fd, POLLIN);
    }
    if (a->ifname && a->state == S_STOPPED) {
        poll_timer_wait_until(a->next_start);
    }
}

void
fs_appliance_destroy(struct fs_appliance *a)
{
    if (a) {
        stop(a, false, NULL);
        free(a->program);
        free(a->ifname);
        free(a->backend);
        svec_destroy(&a->port_args);
        free(a->policy_name);
        free(a->policy_text);
        free(a->nf_name);
        free(a->nf_text);
        sset_destroy(&a->ports);
        ds_destroy(&a->ports_msgs);
        ds_destroy(&a->log_line);
        free(a);
    }
}

void
fs_appliance_format(const struct fs_appliance *a, struct ds *ds)
{
    static const char *const states[] = { "stopped", "syncing", "ready" };
    const uint64_t *dp = a->dp;

    if (!a->ifname) {
        return;
    }
    ds_put_format(ds, "inspector appliance: %s, pid %ld, %"PRIu64" starts, %"
                  PRIu64" ended, %"PRIu64" hung; %"PRIu64" events, %"PRIu64
                  " bad messages, %"PRIu64" events for ports not inspected, "
                  "%"PRIu64" log lines dropped%s%s%s%s\n", states[a->state],
                  (long) a->pid, a->n_starts, a->n_exits, a->n_hangs,
                  a->n_events, a->n_bad_msgs, a->n_bad_flows,
                  a->n_log_dropped, a->last_exit[0] ? "; last: " : "",
                  a->last_exit, a->last_bad[0] ? "; last bad: " : "",
                  a->last_bad);
    ds_put_format(ds, "  channel: %"PRIu64" turns of the loop left its "
                  "messages unread (more than %d: this daemon behind the "
                  "appliance)\n", a->n_backlog_turns, CHANNEL_BATCH);
    if (!a->have_stats) {
        ds_put_format(ds, "inspector port %s: not open (the appliance is "
                      "%s)\n", a->ifname, states[a->state]);
        return;
    }
    ds_put_format(ds, "inspector port %s: rx %"PRIu64" packets (%"PRIu64
                  " dropped by the kernel), tx %"PRIu64", dropped by verdict "
                  "%"PRIu64", untagged %"PRIu64", unsent (ring full) %"PRIu64
                  "\n", a->ifname, dp[FS_CHAN_DP_RX],
                  dp[FS_CHAN_DP_RX_KERNEL_DROPPED], dp[FS_CHAN_DP_TX],
                  dp[FS_CHAN_DP_DROPPED], dp[FS_CHAN_DP_UNTAGGED],
                  dp[FS_CHAN_DP_UNSENT]);
    ds_put_format(ds, "  new connections held for old rules: %"PRIu64
                  " packets now (cap 512), %"PRIu64" held, %"PRIu64
                  " released, %"PRIu64" dropped at the cap, %"PRIu64
                  " expired\n", dp[FS_CHAN_DP_HELD_NOW], dp[FS_CHAN_DP_HELD],
                  dp[FS_CHAN_DP_RELEASED], dp[FS_CHAN_DP_HOLD_DROPPED],
                  dp[FS_CHAN_DP_HOLD_EXPIRED]);
    ds_put_format(ds, "  held for a migration's last records: %"PRIu64
                  " ports, %"PRIu64" packets now (cap 4096, then "
                  "drop-newest), %"PRIu64" held, %"PRIu64" judged, %"PRIu64
                  " dropped at the cap, %"PRIu64" holds timed out\n",
                  dp[FS_CHAN_DP_MIG_HOLDS], dp[FS_CHAN_DP_MIG_HELD_NOW],
                  dp[FS_CHAN_DP_MIG_HELD], dp[FS_CHAN_DP_MIG_JUDGED],
                  dp[FS_CHAN_DP_MIG_HOLD_FULL],
                  dp[FS_CHAN_DP_MIG_HOLD_TIMEOUTS]);
    ds_put_format(ds, "  appliance flows: %"PRIu32" of %"PRIu32" (%"PRIu32
                  " pinned, %"PRIu32" classifying), %"PRIu64" bytes\n",
                  a->insp_flows, a->insp_max, a->insp_pinned,
                  a->insp_classifying, a->insp_memory);
    ds_put_format(ds, "  workers: %"PRIu64", packets judged by the least "
                  "busy %"PRIu64", by the most busy %"PRIu64", idle sleeps %"
                  PRIu64"\n", dp[FS_CHAN_DP_WORKERS],
                  dp[FS_CHAN_DP_WORKER_PACKETS_MIN],
                  dp[FS_CHAN_DP_WORKER_PACKETS_MAX],
                  dp[FS_CHAN_DP_WORKER_SLEEPS]);
    ds_put_format(ds, "  events the appliance dropped, flowsteerd reading "
                  "too slowly (its queue holds %u MB): %"PRIu64"\n",
                  FS_CHAN_APPLIANCE_QUEUE_MAX >> 20,
                  dp[FS_CHAN_DP_EVENTS_DROPPED]);
}
