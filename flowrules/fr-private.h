/*
 * flowrules' internals, shared by its files (see flowrules.c for how it
 * works).  Not an interface: only flowrules and its fuzz target use it.
 */
#ifndef FR_PRIVATE_H
#define FR_PRIVATE_H 1

#include <stdbool.h>
#include <stdint.h>

#include "flowrules.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/shash.h"
#include "openvswitch/types.h"

struct match;
struct ofp_header;
struct ofpbuf;

#define FLOW_ID_MASK ((UINT64_C(1) << 48) - 1)

/* Room on the connection's queue that bundles leave for requests (dumps,
 * meters): a bundle is sized to what fits, and none starts with less than
 * this and one flow's messages. */
#define FR_CONN_SPARE 64

enum fr_state {
    FR_UNKNOWN,                 /* After a reconnection, until the dump. */
    FR_DIRTY,
    FR_INFLIGHT,
    FR_INSTALLED,
    FR_FAILED,
    FR_GONE,
};

/* What a pending change does. */
enum fr_op {
    FR_OP_ADD,                  /* Both rules are new: OFPFC_ADD. */
    FR_OP_MODIFY,               /* Actions changed: MODIFY_STRICT. */
    FR_OP_REPLACE,              /* Delete by cookie, then add both, in one
                                 * ordered bundle: the switch had rules
                                 * under this flow's cookie that differ. */
    FR_OP_DELETE,               /* Delete by cookie. */
};

struct fr_flow {
    struct hmap_node node;      /* In 'flows', by hash of 'id'. */
    struct ovs_list dirty_node; /* In 'dirty' while DIRTY, else empty. */
    uint64_t id;
    struct flowrules_rule rule;
    uint32_t meter_id;          /* 0 if none. */
    uint8_t state[2];           /* enum fr_state per direction. */
    uint8_t op;                 /* enum fr_op, while DIRTY or INFLIGHT. */
    bool deleted;               /* Desired: gone.  Freed once confirmed. */
    bool adopted;               /* Found on the switch, nobody set it. */
    bool opaque;                /* Adopted, rules not decoded: 'rule' has
                                 * only the protocol and drop or allow. */
    bool seen_in_dump;          /* Scratch for reconciliation. */
    bool expiring;              /* Deleted by us for being idle. */
    bool committing;            /* In the front of 'dirty' that goes in
                                 * one bundle (flowrules_commit()). */
    uint64_t packets, bytes;    /* From flow-removed messages. */
    uint64_t poll_packets;      /* Sum over this poll's replies. */
    uint64_t idle_packets;      /* Packets at the last change seen. */
    long long int idle_since;   /* When they last changed (ms). */
};

/* A bundle sent and not yet confirmed.  Its messages have consecutive
 * xids: open, one per entry, commit, then a barrier, whose reply confirms
 * the bundle (any error about it comes before). */
struct fr_bundle {
    struct ovs_list node;
    uint32_t id;
    uint32_t open_xid;
    uint32_t n;
    bool failed;
    bool blamed;                /* A flow_mod of its own was refused. */
    uint64_t *flow_ids;         /* Flow of each entry. */
};

/* A meter shared by every flow with the same rate. */
struct fr_meter {
    uint32_t id;
    uint32_t kbps;
    uint32_t refs;
};

struct flowrules {
    struct flowrules_options opts;
    char *target;
    struct fr_conn *conn;       /* Shared with other users of the switch. */
    unsigned int conn_seqno;
    enum ofputil_protocol protocol;
    enum ofp_version version;

    struct hmap flows;          /* Desired table. */
    struct ovs_list dirty;      /* Flows with changes to send. */
    size_t n_committing;        /* Flows at its front, of a commit. */
    long long int dirty_since;  /* When 'dirty' became nonempty. */
    struct ovs_list inflight;   /* struct fr_bundle. */
    size_t n_inflight;

    /* Reconciliation after a (re)connection. */
    bool reconciled;
    bool ever_reconciled;       /* The first reconciliation is over. */
    bool first_connection;
    uint32_t dump_xid;
    uint32_t poll_xid;          /* Counter poll in progress, or 0. */
    long long int next_poll;    /* Of the idle poll (opts.poll_idle). */
    bool poll_wanted;           /* flowrules_poll() asked for one. */
    uint64_t poll_seqno;        /* Polls completed. */
    uint32_t ports_xid;
    struct shash ports;         /* Port name -> ofp_port_t (as pointer). */

    struct fr_meter *meters;
    size_t n_meters;
    uint32_t log_meter_id;
    uint32_t next_meter_id;

    long long int full_until;   /* Table full: new adds wait till then. */
    struct flowrules_stats stats;
};

/* flowrules.c: the desired table, receiving, the connection. */
void fr_bundle_free(struct fr_bundle *b);
struct fr_flow *fr_find(const struct flowrules *fr, uint64_t id);
void fr_free_flow(struct flowrules *fr, struct fr_flow *f);
bool fr_is_inflight(const struct fr_flow *f);
bool fr_is_installed(const struct fr_flow *f);
void fr_mark_dirty(struct flowrules *fr, struct fr_flow *f, enum fr_op op);
bool fr_op_touches(const struct fr_flow *f, int dir);
void fr_undirty(struct flowrules *fr, struct fr_flow *f);
void fr_handle_msg(struct flowrules *fr, struct ofpbuf *msg);
void fr_start_session(struct flowrules *fr, enum ofp_version version);

/* fr-encode.c: cookies, matches, actions and meters. */
int fr_build_actions(const struct flowrules *fr, const struct fr_flow *f,
                     struct ofpbuf *ofpacts);
void fr_build_match(const struct flowrules *fr, const struct flowrules_rule *r,
                    int dir, struct match *m);
ovs_be64 fr_cookie(const struct flowrules *fr, uint64_t flow_id);
bool fr_excludes_syn(const struct flowrules *fr,
                     const struct flowrules_rule *r);
int fr_lru(uint8_t proto);
bool fr_match_equal(const struct match *a, const struct match *b);
void fr_meter_adopt(struct flowrules *fr, uint32_t id);
uint32_t fr_meter_rate(const struct flowrules *fr, uint32_t id);
uint32_t fr_meter_ref(struct flowrules *fr, uint32_t kbps);
void fr_meter_unref(struct flowrules *fr, uint32_t id);
ovs_be64 fr_ns_mask(void);
void fr_send(struct flowrules *fr, struct ofpbuf *msg);
void fr_send_meter(struct flowrules *fr, uint32_t id, uint32_t rate,
                   bool pktps);
bool fr_proto_has_ports(uint8_t proto);

/* fr-bundle.c: bundles sent, and the errors and removals that come back. */
uint32_t fr_bundle_barrier_xid(const struct fr_bundle *b);
uint32_t fr_bundle_commit_xid(const struct fr_bundle *b);
struct fr_bundle *fr_bundle_by_xid(struct flowrules *fr, uint32_t xid);
void fr_bundle_done(struct flowrules *fr, struct fr_bundle *b);
void fr_flow_gone(struct flowrules *fr, struct fr_flow *f, int reason);
void fr_handle_error(struct flowrules *fr, const struct ofp_header *oh);
void fr_handle_flow_removed(struct flowrules *fr, const struct ofp_header *oh);
void fr_send_bundle(struct flowrules *fr);

/* fr-reconcile.c: adoption, reconciliation, idle polling. */
void fr_handle_dump_reply(struct flowrules *fr, struct ofpbuf *msg);
void fr_handle_poll_reply(struct flowrules *fr, struct ofpbuf *msg);
long long int fr_poll_interval(const struct flowrules *fr);
uint32_t fr_request_dump(struct flowrules *fr);

#endif /* FR_PRIVATE_H */
