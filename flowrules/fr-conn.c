/* One OpenFlow connection per switch, shared.  See fr-conn.h. */
#include <config.h>
#include "fr-conn.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "byte-order.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fr_conn);

/* An end's xids: its number in the top bits, a counter below. */
#define XID_END_SHIFT 28
#define XID_COUNTER_MASK ((UINT32_C(1) << XID_END_SHIFT) - 1)
#define MAX_ENDS 15

/* The connection to one target, shared by its ends. */
struct fr_link {
    struct shash_node *node;    /* In 'links', by target. */
    char *target;
    struct rconn *rconn;        /* NULL until the target exists. */
    unsigned int seqno;         /* rconn's connection seqno last seen. */
    enum ofp_version version;   /* Of that connection (0 before one). */
    struct fr_conn *ends[MAX_ENDS + 1];     /* By number; [0] unused. */
    unsigned int n_ends;
    uint32_t next_bundle_id;
};

/* One user's end. */
struct fr_conn {
    struct fr_link *link;
    char *user;
    unsigned int number;        /* 1 to MAX_ENDS: the xids' top bits. */
    unsigned int flags;         /* FR_CONN_*. */
    uint32_t next_xid;          /* Counter part. */
    struct ovs_list rxq;        /* struct ofpbuf, by list_node. */
    size_t rxq_len;
    struct rconn_packet_counter *txq;
    struct fr_conn_stats stats;
};

static struct shash links = SHASH_INITIALIZER(&links);

struct fr_conn *
fr_conn_open(const char *target, const char *user, unsigned int flags)
{
    struct fr_link *link = shash_find_data(&links, target);
    struct fr_conn *conn;
    unsigned int i;

    if (!link) {
        link = xzalloc(sizeof *link);
        link->target = xstrdup(target);
        link->next_bundle_id = 1;
        link->node = shash_add(&links, target, link);
    }
    for (i = 1; i <= MAX_ENDS && link->ends[i]; i++) {
        continue;
    }
    ovs_assert(i <= MAX_ENDS);

    conn = xzalloc(sizeof *conn);
    conn->link = link;
    conn->user = xstrdup(user);
    conn->number = i;
    conn->flags = flags;
    conn->next_xid = 1;
    ovs_list_init(&conn->rxq);
    conn->txq = rconn_packet_counter_create();
    link->ends[i] = conn;
    link->n_ends++;
    return conn;
}

static void
rxq_clear(struct fr_conn *conn)
{
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, &conn->rxq) {
        ofpbuf_delete(msg);
    }
    conn->rxq_len = 0;
}

void
fr_conn_close(struct fr_conn *conn)
{
    struct fr_link *link;

    if (!conn) {
        return;
    }
    link = conn->link;
    rxq_clear(conn);
    link->ends[conn->number] = NULL;
    if (!--link->n_ends) {
        rconn_destroy(link->rconn);
        shash_delete(&links, link->node);
        free(link->target);
        free(link);
    }
    /* rconn counts down what it still holds of this end's messages. */
    rconn_packet_counter_destroy(conn->txq);
    free(conn->user);
    free(conn);
}

/* Creates the rconn once the target exists: the switch may be making its
 * management socket, and a connection that fails would warn for
 * nothing. */
static void
link_connect(struct fr_link *link)
{
    struct stat st;

    if (link->rconn || (!strncmp(link->target, "unix:", 5)
                        && stat(link->target + 5, &st))) {
        return;
    }
    /* Probes find a hung switch; reconnect within 2 s of a restart. */
    link->rconn = rconn_create(5, 2, 0,
                               (1u << OFP13_VERSION) | (1u << OFP14_VERSION)
                               | (1u << OFP15_VERSION));
    rconn_connect(link->rconn, link->target, link->target);
}

/* Queues 'msg' (consumed) for end 'conn'.  A full queue drops a message
 * that is for every end (a flow-removed, say), or, to make room for a
 * reply to this end, its oldest message. */
static void
deliver(struct fr_conn *conn, struct ofpbuf *msg, bool broadcast)
{
    if (conn->rxq_len >= FR_CONN_RECV_MAX) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "%s: %s does not read its messages: dropping",
                     conn->link->target, conn->user);
        conn->stats.recv_dropped++;
        if (broadcast) {
            ofpbuf_delete(msg);
            return;
        }
        ofpbuf_delete(CONTAINER_OF(ovs_list_pop_front(&conn->rxq),
                                   struct ofpbuf, list_node));
        conn->rxq_len--;
    }
    ovs_list_push_back(&conn->rxq, &msg->list_node);
    conn->rxq_len++;
    conn->stats.received++;
}

/* Routes 'msg' (consumed): to the end whose xid it carries, else to every
 * end; an echo request is answered here. */
static void
route(struct fr_link *link, struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    uint32_t xid = ntohl(oh->xid);
    unsigned int number = xid >> XID_END_SHIFT;
    enum ofptype type;
    unsigned int i;

    if (!ofptype_decode(&type, oh) && type == OFPTYPE_ECHO_REQUEST) {
        if (link->rconn) {
            rconn_send(link->rconn, ofputil_encode_echo_reply(oh), NULL);
        }
        ofpbuf_delete(msg);
        return;
    }
    if (number && number <= MAX_ENDS && link->ends[number]) {
        deliver(link->ends[number], msg, false);
        return;
    }
    for (i = 1; i <= MAX_ENDS; i++) {
        if (link->ends[i] && link->ends[i]->flags & FR_CONN_ASYNC) {
            deliver(link->ends[i], ofpbuf_clone(msg), true);
        }
    }
    ofpbuf_delete(msg);
}

static void
link_run(struct fr_link *link)
{
    int i;

    link_connect(link);
    if (!link->rconn) {
        return;
    }
    rconn_run(link->rconn);
    if (rconn_get_connection_seqno(link->rconn) != link->seqno) {
        /* Nothing from the old connection is worth reading any more. */
        link->seqno = rconn_get_connection_seqno(link->rconn);
        if (rconn_is_connected(link->rconn)) {
            link->version = rconn_get_version(link->rconn);
        }
        for (i = 1; i <= MAX_ENDS; i++) {
            if (link->ends[i]) {
                rxq_clear(link->ends[i]);
            }
        }
    }
    for (i = 0; i < 512; i++) {
        struct ofpbuf *msg = rconn_recv(link->rconn);

        if (!msg) {
            break;
        }
        route(link, msg);
    }
}

void
fr_conn_run(struct fr_conn *conn)
{
    link_run(conn->link);
}

void
fr_conn_wait(struct fr_conn *conn)
{
    struct fr_link *link = conn->link;

    if (link->rconn) {
        rconn_run_wait(link->rconn);
        rconn_recv_wait(link->rconn);
    } else {
        poll_timer_wait(100);   /* For the target to appear. */
    }
    if (!ovs_list_is_empty(&conn->rxq)) {
        poll_immediate_wake();
    }
}

struct ofpbuf *
fr_conn_recv(struct fr_conn *conn)
{
    if (ovs_list_is_empty(&conn->rxq)) {
        return NULL;
    }
    conn->rxq_len--;
    return CONTAINER_OF(ovs_list_pop_front(&conn->rxq), struct ofpbuf,
                        list_node);
}

bool
fr_conn_is_connected(const struct fr_conn *conn)
{
    return conn->link->rconn && rconn_is_connected(conn->link->rconn);
}

unsigned int
fr_conn_seqno(const struct fr_conn *conn)
{
    return conn->link->seqno;
}

enum ofp_version
fr_conn_version(const struct fr_conn *conn)
{
    return conn->link->version;
}

void
fr_conn_receive_for_testing(struct fr_conn *conn, struct ofpbuf *msg)
{
    route(conn->link, msg);
}

void
fr_conn_set_version_for_testing(struct fr_conn *conn,
                                enum ofp_version version)
{
    conn->link->version = version;
}

enum ofputil_protocol
fr_conn_protocol(const struct fr_conn *conn)
{
    return ofputil_protocol_from_ofp_version(fr_conn_version(conn));
}

const char *
fr_conn_target(const struct fr_conn *conn)
{
    return conn->link->target;
}

uint32_t
fr_conn_reserve_xids(struct fr_conn *conn, uint32_t n)
{
    uint32_t first;

    ovs_assert(n && n < XID_COUNTER_MASK / 2);
    if (conn->next_xid + n > XID_COUNTER_MASK) {
        conn->next_xid = 1;     /* Wrap: the range stays consecutive. */
    }
    first = conn->next_xid;
    conn->next_xid += n;
    return (conn->number << XID_END_SHIFT) | first;
}

bool
fr_conn_owns_xid(const struct fr_conn *conn, uint32_t xid)
{
    return xid >> XID_END_SHIFT == conn->number;
}

unsigned int
fr_conn_room(const struct fr_conn *conn)
{
    unsigned int queued = rconn_packet_counter_n_packets(conn->txq);

    return queued < FR_CONN_QUEUE_MAX ? FR_CONN_QUEUE_MAX - queued : 0;
}

uint32_t
fr_conn_send(struct fr_conn *conn, struct ofpbuf *msg, uint32_t xid)
{
    struct fr_link *link = conn->link;

    if (!xid) {
        xid = fr_conn_reserve_xids(conn, 1);
    }
    ((struct ofp_header *) msg->data)->xid = htonl(xid);
    if (!link->rconn
        || rconn_send_with_limit(link->rconn, msg, conn->txq,
                                 FR_CONN_QUEUE_MAX)) {
        if (!link->rconn) {
            ofpbuf_delete(msg);
        }
        conn->stats.send_dropped++;
        return xid;
    }
    conn->stats.sent++;
    return xid;
}

uint32_t
fr_conn_new_bundle_id(struct fr_conn *conn)
{
    return conn->link->next_bundle_id++;
}

uint32_t
fr_conn_send_bundle_ctrl(struct fr_conn *conn, uint32_t bundle_id,
                         uint16_t type, uint16_t flags, uint32_t xid)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = bundle_id,
        .type = type,
        .flags = flags,
    };

    return fr_conn_send(conn, ofputil_encode_bundle_ctrl_request(
                                  fr_conn_version(conn), &bc), xid);
}

uint32_t
fr_conn_send_bundle_add(struct fr_conn *conn, uint32_t bundle_id,
                        uint16_t flags, struct ofpbuf *inner, uint32_t xid)
{
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = bundle_id,
        .flags = flags,
    };
    struct ofpbuf *msg;

    if (!xid) {
        xid = fr_conn_reserve_xids(conn, 1);
    }
    /* The switch wants the inner xid to be the outer one. */
    ((struct ofp_header *) inner->data)->xid = htonl(xid);
    bam.msg = inner->data;
    msg = ofputil_encode_bundle_add(fr_conn_version(conn), &bam);
    ofpbuf_delete(inner);
    return fr_conn_send(conn, msg, xid);
}

uint32_t
fr_conn_send_barrier(struct fr_conn *conn, uint32_t xid)
{
    return fr_conn_send(conn,
                        ofputil_encode_barrier_request(fr_conn_version(conn)),
                        xid);
}

void
fr_conn_flush(struct fr_conn *conn)
{
    if (conn->link->rconn) {
        rconn_run(conn->link->rconn);
    }
}

void
fr_conn_get_stats(const struct fr_conn *conn, struct fr_conn_stats *stats)
{
    *stats = conn->stats;
    stats->queued = rconn_packet_counter_n_packets(conn->txq);
}

void
fr_conn_format(const struct fr_conn *conn, struct ds *ds)
{
    const struct fr_link *link = conn->link;
    struct fr_conn_stats st;

    fr_conn_get_stats(conn, &st);
    ds_put_format(ds, "OpenFlow connection %s (%u user%s): %s; %s: %"PRIu64
                  " sent, %u queued (at most %u), %"PRIu64" dropped at the "
                  "limit, %"PRIu64" received, %"PRIu64" dropped unread\n",
                  link->target, link->n_ends, link->n_ends == 1 ? "" : "s",
                  fr_conn_is_connected(conn) ? "connected"
                  : link->rconn ? "not connected"
                  : "waiting for the switch",
                  conn->user, st.sent, st.queued, FR_CONN_QUEUE_MAX,
                  st.send_dropped, st.received, st.recv_dropped);
}
