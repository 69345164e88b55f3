/* Unit tests of fr-conn, the OpenFlow connection its ends share: routing
 * by xid, messages for every end, the bounds of the queues, xids.  No
 * switch: messages are injected as if received (the daemon tests use a
 * real one). */
#include <config.h>

#include <stdlib.h>

#include "flowrules/fr-conn.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "test-util.h"
#include "util.h"

#define TARGET "unix:/nonexistent/test.mgmt"

/* A barrier reply with 'xid'. */
static struct ofpbuf *
reply(uint32_t xid)
{
    struct ofpbuf *rq = ofputil_encode_barrier_request(OFP13_VERSION);
    struct ofpbuf *msg;

    ((struct ofp_header *) rq->data)->xid = htonl(xid);
    msg = ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY, rq->data, 0);
    ofpmsg_update_length(msg);
    ofpbuf_delete(rq);
    return msg;
}

/* Reads 'conn''s queue empty; returns how many, and the last one's xid in
 * '*last'. */
static int
drain(struct fr_conn *conn, uint32_t *last)
{
    struct ofpbuf *msg;
    int n = 0;

    while ((msg = fr_conn_recv(conn))) {
        *last = ntohl(((struct ofp_header *) msg->data)->xid);
        ofpbuf_delete(msg);
        n++;
    }
    return n;
}

static void
test_routing(void)
{
    struct fr_conn *a = fr_conn_open(TARGET, "a", FR_CONN_ASYNC);
    struct fr_conn *b = fr_conn_open(TARGET, "b", 0);
    struct fr_conn *other = fr_conn_open(TARGET ".other", "c",
                                         FR_CONN_ASYNC);
    uint32_t xa = fr_conn_reserve_xids(a, 1);
    uint32_t xb = fr_conn_reserve_xids(b, 1);
    uint32_t last = 0;
    struct ofpbuf *echo;

    CHECK(fr_conn_owns_xid(a, xa) && !fr_conn_owns_xid(a, xb));
    CHECK(fr_conn_owns_xid(b, xb) && !fr_conn_owns_xid(b, xa));
    CHECK(xa >> 28 != xb >> 28);

    /* A reply goes to the end whose xid it carries, only. */
    fr_conn_receive_for_testing(a, reply(xb));
    CHECK_INT(drain(a, &last), 0);
    CHECK_INT(drain(b, &last), 1);
    CHECK_INT(last, xb);
    /* Received on either end of the connection, the same. */
    fr_conn_receive_for_testing(b, reply(xa));
    CHECK_INT(drain(b, &last), 0);
    CHECK_INT(drain(a, &last), 1);
    CHECK_INT(last, xa);

    /* No end's xid: to the ends that asked (FR_CONN_ASYNC), not to the
     * other connection's. */
    fr_conn_receive_for_testing(b, reply(0));
    fr_conn_receive_for_testing(b, reply(0xf0000000));
    CHECK_INT(drain(a, &last), 2);
    CHECK_INT(drain(b, &last), 0);
    CHECK_INT(drain(other, &last), 0);

    /* An echo request is answered by the connection (here: nobody to
     * answer) and given to no end. */
    echo = ofputil_encode_echo_request(OFP13_VERSION);
    fr_conn_receive_for_testing(a, echo);
    CHECK_INT(drain(a, &last) + drain(b, &last), 0);

    fr_conn_close(a);
    fr_conn_close(b);
    fr_conn_close(other);
}

static void
test_bounds(void)
{
    struct fr_conn *a = fr_conn_open(TARGET, "a", FR_CONN_ASYNC);
    struct fr_conn_stats st;
    uint32_t xa = fr_conn_reserve_xids(a, 1), last = 0, xid;
    int i;

    /* The received queue: broadcast messages past the bound are dropped,
     * not the reply at its head; a reply still gets in. */
    fr_conn_receive_for_testing(a, reply(xa));
    for (i = 0; i < FR_CONN_RECV_MAX + 100; i++) {
        fr_conn_receive_for_testing(a, reply(0));
    }
    fr_conn_get_stats(a, &st);
    CHECK_INT(st.recv_dropped, 101);
    {
        struct ofpbuf *head = fr_conn_recv(a);

        CHECK(head && ntohl(((struct ofp_header *) head->data)->xid) == xa);
        ofpbuf_delete(head);
    }
    fr_conn_receive_for_testing(a, reply(xa + 1));
    fr_conn_receive_for_testing(a, reply(xa + 2));
    fr_conn_get_stats(a, &st);
    CHECK_INT(st.recv_dropped, 102);
    CHECK_INT(drain(a, &last), FR_CONN_RECV_MAX);
    CHECK_INT(last, xa + 2);

    /* Not connected: sending drops, counted, and still gives the xid. */
    fr_conn_set_version_for_testing(a, OFP13_VERSION);
    xid = fr_conn_send_barrier(a, 0);
    CHECK(fr_conn_owns_xid(a, xid));
    fr_conn_get_stats(a, &st);
    CHECK_INT(st.send_dropped, 1);
    CHECK_INT(st.sent, 0);
    CHECK_INT(fr_conn_room(a), FR_CONN_QUEUE_MAX);
    CHECK(!fr_conn_is_connected(a));

    /* Reserved xids are consecutive, also where the counter wraps. */
    for (i = 0; i < 3; i++) {
        uint32_t first = fr_conn_reserve_xids(a, 100000000);

        CHECK(fr_conn_owns_xid(a, first)
              && fr_conn_owns_xid(a, first + 100000000 - 1));
    }
    fr_conn_close(a);
}

static void
test_bundle_ids(void)
{
    struct fr_conn *a = fr_conn_open(TARGET, "a", 0);
    struct fr_conn *b = fr_conn_open(TARGET, "b", 0);
    uint32_t ia = fr_conn_new_bundle_id(a), ib = fr_conn_new_bundle_id(b);

    CHECK(ia != ib);            /* One switch connection, one id space. */
    fr_conn_close(a);
    fr_conn_close(b);
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_routing();
    test_bounds();
    test_bundle_ids();
    return test_exit_status();
}
