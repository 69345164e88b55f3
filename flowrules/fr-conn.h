/*
 * fr-conn: one OpenFlow connection per switch, shared by the modules that
 * program it.
 *
 * flowrules (verdict rules) and fs-steer (steering rules and groups) both
 * program the integration bridge.  Each opens its end of the connection
 * with fr_conn_open(); ends opened on the same target share one rconn,
 * so the switch sees one controller connection, one negotiated version
 * and one set of bundle ids.  The shared part:
 *
 *   - Connects once the target exists (a "unix:" socket the switch has
 *     not made yet is waited for without warnings), reconnects with
 *     backoff, and answers echo requests.
 *   - Gives each end its own range of xids (the top four bits name the
 *     end) and routes every reply, error included, to the end whose xid
 *     it carries.  Messages that carry no end's xid (flow-removed, port
 *     status, packet-in, errors about foreign xids) go to every end that
 *     asked for them (FR_CONN_ASYNC).
 *   - Bounds what each end may queue on the socket (FR_CONN_QUEUE_MAX
 *     messages): a message past the bound is dropped and counted; an end
 *     asks fr_conn_room() before starting a bundle, so that none is cut
 *     short.  Each end's received queue is bounded too (FR_CONN_RECV_MAX:
 *     past it, a message for every end is dropped, and a reply makes room
 *     by dropping the oldest message; counted).  An end that reads its
 *     queue empty on each run never gets there: a run reads at most 512
 *     messages from the switch.
 *
 * Like rconn, an end is driven by fr_conn_run() and fr_conn_wait() from
 * its user's own run and wait functions; a new connection shows as a new
 * fr_conn_seqno(), after which replies to earlier requests never come.
 * Single-threaded, as the rest of the daemon.
 */
#ifndef FR_CONN_H
#define FR_CONN_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/ofp-protocol.h"

struct ds;
struct ofpbuf;

/* The most messages one end may have queued on the socket. */
#define FR_CONN_QUEUE_MAX (1u << 18)

/* The most messages waiting in one end's received queue. */
#define FR_CONN_RECV_MAX 65536

struct fr_conn_stats {
    uint64_t sent;              /* Messages queued by this end. */
    uint64_t send_dropped;      /* Past FR_CONN_QUEUE_MAX. */
    uint64_t received;          /* Messages given to this end. */
    uint64_t recv_dropped;      /* Past FR_CONN_RECV_MAX. */
    unsigned int queued;        /* On the socket now. */
};

/* Flags for fr_conn_open(). */
#define FR_CONN_ASYNC 1         /* Also give this end the messages that
                                 * carry no end's xid. */

/* Opens an end named 'user' (for logs) of the connection to 'target'
 * ("unix:DIR/BRIDGE.mgmt", "tcp:IP:PORT", ...), creating the connection
 * if no end has it open.  At most 15 ends per target. */
struct fr_conn *fr_conn_open(const char *target, const char *user,
                             unsigned int flags);

/* Closes 'conn' (accepts NULL); the last end to close a connection
 * closes it.  Messages it queued and the switch has not read are lost. */
void fr_conn_close(struct fr_conn *conn);

void fr_conn_run(struct fr_conn *conn);
void fr_conn_wait(struct fr_conn *conn);

/* Returns the next message for this end, or NULL.  The caller frees it
 * (ofpbuf_delete()). */
struct ofpbuf *fr_conn_recv(struct fr_conn *conn);

bool fr_conn_is_connected(const struct fr_conn *conn);

/* Changes with each new connection (0 before the first). */
unsigned int fr_conn_seqno(const struct fr_conn *conn);

/* Of the connection in use, or of the last one (0 before the first). */
enum ofp_version fr_conn_version(const struct fr_conn *conn);
enum ofputil_protocol fr_conn_protocol(const struct fr_conn *conn);

/* For the fuzz targets: encode as if connected with 'version' (what is
 * sent without a connection is dropped, counted). */
void fr_conn_set_version_for_testing(struct fr_conn *,
                                     enum ofp_version version);

/* For the fuzz targets: 'msg' (consumed) as if received from the switch,
 * routed to the ends of 'conn''s connection. */
void fr_conn_receive_for_testing(struct fr_conn *, struct ofpbuf *msg);

const char *fr_conn_target(const struct fr_conn *conn);

/* Reserves 'n' consecutive xids of this end and returns the first. */
uint32_t fr_conn_reserve_xids(struct fr_conn *conn, uint32_t n);

/* Says whether 'xid' is one of this end's. */
bool fr_conn_owns_xid(const struct fr_conn *conn, uint32_t xid);

/* Returns how many more messages this end may queue now. */
unsigned int fr_conn_room(const struct fr_conn *conn);

/* Sends 'msg' (consumed) with 'xid' (one of fr_conn_reserve_xids()'s), or
 * with a new xid if 'xid' is 0.  Returns the xid, also when the message
 * was dropped (not connected, or past FR_CONN_QUEUE_MAX: counted): then,
 * as with rconn_send() while disconnected, no reply comes. */
uint32_t fr_conn_send(struct fr_conn *conn, struct ofpbuf *msg,
                      uint32_t xid);

/* Returns a bundle id no other end of this connection uses. */
uint32_t fr_conn_new_bundle_id(struct fr_conn *conn);

/* Bundle messages: a control message of 'type' (OFPBCT_*), and the
 * addition of 'inner' (consumed) to the bundle, with the xid the switch
 * wants it to have (the outer one).  'xid' as for fr_conn_send(). */
uint32_t fr_conn_send_bundle_ctrl(struct fr_conn *conn, uint32_t bundle_id,
                                  uint16_t type, uint16_t flags,
                                  uint32_t xid);
uint32_t fr_conn_send_bundle_add(struct fr_conn *conn, uint32_t bundle_id,
                                 uint16_t flags, struct ofpbuf *inner,
                                 uint32_t xid);
uint32_t fr_conn_send_barrier(struct fr_conn *conn, uint32_t xid);

/* Hands what is queued to the socket now (e.g. in the middle of encoding
 * a large bundle). */
void fr_conn_flush(struct fr_conn *conn);

void fr_conn_get_stats(const struct fr_conn *conn,
                       struct fr_conn_stats *stats);

/* Appends one line on the connection and this end's counters to 'ds'. */
void fr_conn_format(const struct fr_conn *conn, struct ds *ds);

#endif /* FR_CONN_H */
