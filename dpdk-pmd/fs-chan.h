/*
 * fs-chan: the messages between flowsteerd and its inspector appliance
 * (flowsteer-inspectord).
 *
 * flowsteerd keeps OVSDB, OpenFlow, the policy files and the flow state
 * file; the appliance holds the inspector (nDPI) and the packet ports, and
 * runs unprivileged.  They talk over one AF_UNIX SOCK_SEQPACKET socket
 * pair, a message per datagram.  Each side treats the other as untrusted:
 * the appliance parses hostile packets and may be compromised, and
 * flowsteerd must not be taken down by anything it sends.  So every
 * message is decoded here, with every length and value checked, into a
 * struct fs_chan_msg, and a message that does not decode is rejected whole
 * (with a reason and a counter kept by the caller); nothing is read past
 * the bytes received.
 *
 * Wire format, integers in network byte order:
 *
 *   header (12 bytes):
 *     0  1  version (FS_CHAN_VERSION)
 *     1  1  type (enum fs_chan_type)
 *     2  2  flags (FS_CHAN_F_*; others must be zero)
 *     4  4  length of the whole message, header included
 *     8  4  xid: chosen by the sender of a request; a reply carries it
 *
 *   then the body of the type, as described at each type below, with
 *   these items:
 *     key     the flow key: 16 source address, 16 destination address
 *             (IPv4-mapped for IPv4), 2 source port, 2 destination port,
 *             2 VLAN, 1 IP protocol, 1 IP version (4 or 6): 40 bytes
 *     str     2 length (at most FS_CHAN_STR_MAX), then the bytes, none of
 *             them NUL
 *     verdict 4 actions (FS_ACT_*), 4 meter kbps, str mirror port
 *     flow    a struct fs_flow_info: see encode_flow() in fs-chan.c
 *     records flow records of the inspector (include/flowsteer/
 *             inspector.h) back to back, each as long as its own length
 *             field says (bytes 4-5), to the end of the message
 *
 * A body must be exactly as long as its items: trailing bytes are an
 * error, so that each message has a single encoding (the fuzz target
 * checks that decoding and encoding again gives the same bytes).
 *
 * Versions: the two sides exchange HELLO first, each with the range of
 * versions it speaks; they go on with the highest common one, or the
 * side that finds none sends ERROR and closes.  This library speaks
 * version 2 only (version 1 had no migration messages, and no origin id in
 * a flow); both sides come from one build.
 */
#ifndef FS_CHAN_H
#define FS_CHAN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowsteer/inspector.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS_CHAN_VERSION 2
#define FS_CHAN_HDR_LEN 12
#define FS_CHAN_MAX_MSG 131072      /* Bytes in a message, at most: a
                                     * migration record (up to
                                     * FS_MIGRATE_RECORD_MAX) and more. */
#define FS_CHAN_STR_MAX 4096        /* Bytes in a string, at most. */

/* The most of a policy text (in POLICY parts) and of a page of flows (in
 * FLOWS parts) one transfer may carry. */
#define FS_CHAN_POLICY_MAX (64u << 20)
#define FS_CHAN_CHUNK_MAX (FS_CHAN_MAX_MSG - 1024) /* Policy bytes a part. */
#define FS_CHAN_FLOWS_PER_MSG 64

/* The longest a port's packets may be held (HOLD_PORT). */
#define FS_CHAN_HOLD_MAX_MS 60000

/* Flags. */
#define FS_CHAN_F_MORE 0x0001       /* PORTS, POLICY, FLOWS, RECORDS: more
                                     * parts of the same transfer follow. */

/* "down": flowsteerd to the appliance; "up": the other way. */
enum fs_chan_type {
    /* Both ways. */
    FS_CHAN_HELLO = 1,          /* u8 min version, u8 max version, u8 role
                                 * (FS_CHAN_ROLE_*), u8 0, u32 pid, str
                                 * program name and version. */
    FS_CHAN_ERROR = 2,          /* u32 errno value, str explanation; xid of
                                 * the message it is about, or 0. */
    FS_CHAN_ECHO_REQUEST = 3,   /* u64 sequence number. */

    /* Down. */
    FS_CHAN_CONFIG = 16,        /* u8 mode (enum fs_mode of fs-config.h),
                                 * u8 port full policy, u8 ready (packets
                                 * may be judged), u8 N, N exception
                                 * actions, u32 max flows per port, 3 u32
                                 * idle timeouts (ms: TCP, UDP, other), u64
                                 * the least id a new flow may have, str
                                 * interface, str backend ("" for the
                                 * default). */
    FS_CHAN_PORTS = 17,         /* u16 N, N times: u32 ofport, u8 has MAC,
                                 * 6 MAC, str name, str profile ("" for
                                 * none).  The set of inspected ports,
                                 * replacing the previous set once the part
                                 * without FS_CHAN_F_MORE arrives. */
    FS_CHAN_POLICY = 18,        /* u8 kind (FS_CHAN_POLICY_*), u32 total
                                 * length, u32 offset of this part, str
                                 * name, then the part's bytes to the end.
                                 * Parts in order; RESULT when whole:
                                 * code, value = verdicts changed, text =
                                 * error. */
    FS_CHAN_PIN = 19,           /* u64 id, key, u8 pinned (0 or 1). */
    FS_CHAN_REMOVE = 20,        /* u64 id, key. */
    FS_CHAN_IMPORT = 21,        /* u32 flags (FS_IMPORT_*), then a flow
                                 * record to the end (at most
                                 * FS_FLOW_RECORD_MAX bytes).  RESULT: code,
                                 * value = id. */
    FS_CHAN_IMPORT_VERDICT = 22, /* u64 id, key, u32 port, verdict.  RESULT:
                                  * code; on -EEXIST, value = the id of the
                                  * flow with that key and value2 = 1 if it
                                  * drops. */
    FS_CHAN_GONE = 23,          /* u64 id: the rules of flow 'id' are gone
                                 * from the switch (held packets may go). */
    FS_CHAN_FLUSH = 24,         /* Empty.  RESULT: value = flows. */
    FS_CHAN_QUERY_FLOWS = 25,   /* u64 after (ids above), u32 limit.  FLOWS
                                 * parts, the last without F_MORE. */

    /* Down, for migration (fs_inspector_export() and the rest). */
    FS_CHAN_EXPORT = 26,        /* u32 port (FS_PORT_ANY: all), u64 since
                                 * (a mark, 0: every flow), u32 flags
                                 * (FS_EXPORT_*).  RECORDS parts, the last
                                 * without F_MORE. */
    FS_CHAN_IMPORT_BATCH = 27,  /* u32 flags (FS_IMPORT_*), u16 M (at most
                                 * FS_CHAN_MAX_PORT_MAP), M times u32 the
                                 * exporter's port and u32 ours, then
                                 * records.  RESULT: code, value = flows
                                 * imported or updated, value2 = conflicts,
                                 * text = every figure. */
    FS_CHAN_RELEASE = 28,       /* u64 id, key.  RESULT: code. */
    FS_CHAN_IMPORT_FLOWS = 29,  /* u16 N (at most FS_CHAN_RECORDS_PER_MSG),
                                 * then N flow records, each imported as
                                 * IMPORT with no flags (its id and verdict
                                 * kept).  RESULT only if some were refused:
                                 * code, value = refused, value2 = the
                                 * first refused one's id. */
    FS_CHAN_HOLD_PORT = 30,     /* u32 port (nonzero), u32 ms (1 to
                                 * FS_CHAN_HOLD_MAX_MS): until RELEASE_PORT,
                                 * or 'ms' after the first, the port's
                                 * packets wait unjudged
                                 * (fs_dp_hold_port()). */
    FS_CHAN_RELEASE_PORT = 31,  /* u32 port: judge them, in order. */

    /* Up. */
    FS_CHAN_ECHO_REPLY = 32,    /* u64 sequence number, as requested. */
    FS_CHAN_RESULT = 33,        /* i32 code (0 or -errno), u64 value, u64
                                 * value2, str text. */
    FS_CHAN_EVENT = 34,         /* u8 type (enum fs_event_type), flow,
                                 * then the flow's record to the end (none
                                 * for FS_EVENT_FLOW_END; at most
                                 * FS_FLOW_RECORD_MAX bytes). */
    FS_CHAN_FLOWS = 35,         /* u16 N (at most FS_CHAN_FLOWS_PER_MSG),
                                 * N flows. */
    FS_CHAN_STATS = 36,         /* u16 N, N u64 counters (FS_CTR_*, as many
                                 * as the sender knows), inspector figures
                                 * (u32 flows, classifying, max, pinned; u64
                                 * memory, memory peak), data path figures
                                 * (FS_CHAN_N_DP u64), u16 M, M times u32
                                 * ofport and u32 flows of that port. */
    FS_CHAN_RECORDS = 37,       /* u64 mark (taken as the export began: the
                                 * next delta's 'since'), u16 N, N records
                                 * (at most FS_CHAN_RECORDS_PER_MSG). */
};

enum {
    FS_CHAN_ROLE_DAEMON = 1,    /* flowsteerd. */
    FS_CHAN_ROLE_APPLIANCE = 2, /* flowsteer-inspectord. */
};

enum {
    FS_CHAN_POLICY_SET = 0,     /* fs_inspector_set_policy(). */
    FS_CHAN_POLICY_NEW_FLOWS = 1, /* ..._set_policy_for_new_flows(). */
};

/* What the appliance queues for flowsteerd at most: beyond, it drops
 * events (counted, EVENTS_DROPPED below). */
#define FS_CHAN_APPLIANCE_QUEUE_MAX (64u << 20)

/* Data path figures in STATS. */
#define FS_CHAN_DP_FIGURES(D)                                           \
    D(RX, "rx")                 /* Received from the port. */           \
    D(RX_KERNEL_DROPPED, "rx_dropped")                                  \
    D(TX, "tx")                 /* Sent back (inline). */               \
    D(DROPPED, "dropped")       /* By verdict. */                       \
    D(UNTAGGED, "untagged")                                             \
    D(UNSENT, "unsent")         /* Transmit ring full. */               \
    D(HELD_NOW, "held_now")                                             \
    D(HELD, "held")                                                     \
    D(RELEASED, "released")                                             \
    D(HOLD_DROPPED, "hold_dropped")                                     \
    D(HOLD_EXPIRED, "hold_expired")                                     \
    D(PORT_OPEN, "port_open")   /* 1 if the port is open, else 0. */  \
    D(WORKERS, "workers")                                               \
    D(WORKER_SLEEPS, "worker_sleeps") /* Idle worker threads slept. */  \
    D(WORKER_PACKETS_MIN, "worker_packets_min") /* Judged by the */     \
    D(WORKER_PACKETS_MAX, "worker_packets_max") /* least, most busy. */ \
    D(EVENTS_DROPPED, "events_dropped") /* flowsteerd read too slowly. */ \
    /* Ports held for a migration (FS_CHAN_HOLD_PORT). */               \
    D(MIG_HOLDS, "migration_holds")         /* Ports held now. */       \
    D(MIG_HELD_NOW, "migration_held_now")                               \
    D(MIG_HELD, "migration_held")                                       \
    D(MIG_JUDGED, "migration_held_judged")                              \
    D(MIG_HOLD_FULL, "migration_hold_full") /* Dropped at the cap. */   \
    D(MIG_HOLD_TIMEOUTS, "migration_hold_timeouts")
enum {
#define FS_CHAN_DP_ENUM(ENUM, NAME) FS_CHAN_DP_##ENUM,
    FS_CHAN_DP_FIGURES(FS_CHAN_DP_ENUM)
#undef FS_CHAN_DP_ENUM
    FS_CHAN_N_DP
};
const char *fs_chan_dp_name(int);

/* The appliance's exit statuses, for flowsteerd's log. */
enum {
    FS_CHAN_EXIT_CHANNEL = 2,   /* The channel closed or failed. */
    FS_CHAN_EXIT_PORT = 3,      /* Its port failed (or never opened). */
    FS_CHAN_EXIT_RECONFIGURE = 4, /* Another port was configured. */
    FS_CHAN_EXIT_PROTOCOL = 5,  /* flowsteerd sent what does not decode. */
    FS_CHAN_EXIT_SANDBOX = 6,   /* Its sandbox could not be set up. */
};

/* Returns what exit status 'status' of the appliance means, or NULL. */
const char *fs_chan_exit_reason(int status);

#define FS_CHAN_MAX_PORTS_PER_MSG 256
#define FS_CHAN_MAX_PORT_MAP 256
#define FS_CHAN_RECORDS_PER_MSG 1024
#define FS_CHAN_MAX_STATS_PORTS 4096

/* A flow, decoded: the strings of 'info' point into the members after
 * it.  A flow's strings are at most FS_CHAN_FLOW_STR_MAX bytes. */
#define FS_CHAN_FLOW_STR_MAX 255
struct fs_chan_flow {
    struct fs_flow_info info;
    char profile[FS_CHAN_FLOW_STR_MAX + 1];
    char app[FS_CHAN_FLOW_STR_MAX + 1];
    char category[FS_CHAN_FLOW_STR_MAX + 1];
    char host[FS_CHAN_FLOW_STR_MAX + 1];
    char ja3[FS_CHAN_FLOW_STR_MAX + 1];
    char rule[FS_CHAN_FLOW_STR_MAX + 1];
    char peer_profile[FS_CHAN_FLOW_STR_MAX + 1];
};

struct fs_chan_port {
    uint32_t ofport;
    bool has_mac;
    uint8_t mac[6];
    const char *name;           /* Into the message's bytes: see below. */
    size_t name_len;
    const char *profile;
    size_t profile_len;
};

/* A message, decoded.  Variable-length members point into the bytes the
 * message was decoded from ('...' and '..._len'; not NUL terminated) and
 * are valid as long as those are. */
struct fs_chan_msg {
    uint8_t type;               /* enum fs_chan_type. */
    uint16_t flags;
    uint32_t xid;

    /* HELLO. */
    uint8_t min_version, max_version, role;
    uint32_t pid;

    /* ERROR, RESULT (code, value, value2), CONFIG, POLICY, IMPORT: */
    int32_t code;
    uint64_t value, value2;

    /* ECHO_*: sequence; PIN, REMOVE, IMPORT_VERDICT, GONE: id;
     * QUERY_FLOWS: after. */
    uint64_t u64;
    struct fs_flow_key key;     /* PIN, REMOVE, IMPORT_VERDICT. */
    uint32_t u32;               /* PIN: pinned; IMPORT: flags;
                                 * IMPORT_VERDICT: port; QUERY_FLOWS:
                                 * limit; POLICY: kind. */
    struct fs_verdict verdict;  /* IMPORT_VERDICT. */

    /* HELLO: name; ERROR, RESULT: text; POLICY: name. */
    const char *str;
    size_t str_len;
    /* POLICY: the part; IMPORT, EVENT: the record. */
    const uint8_t *data;
    size_t data_len;
    uint32_t total, offset;     /* POLICY. */

    /* CONFIG. */
    uint8_t mode, port_full_policy, ready, n_exceptions;
    uint8_t exceptions[FS_N_EXCEPTIONS];
    uint32_t max_flows_per_port;
    uint32_t idle_ms[3];
    uint64_t min_flow_id;
    const char *ifname, *backend;
    size_t ifname_len, backend_len;

    /* PORTS. */
    size_t n_ports;
    struct fs_chan_port ports[FS_CHAN_MAX_PORTS_PER_MSG];

    /* EVENT: 'event' and one flow; FLOWS: 'n_flows' flows, in 'flows'
     * (decoded by the caller with fs_chan_next_flow()). */
    uint8_t event;
    size_t n_flows;

    /* EXPORT: port; IMPORT_BATCH: the port map, M pairs of u32 at
     * 'port_map' (into the message's bytes); IMPORT_BATCH, RECORDS:
     * 'n_records' records at 'data' ('data_len' bytes); RECORDS: mark in
     * 'u64'; EXPORT: since in 'u64', flags in 'u32'. */
    uint32_t port;
    size_t n_port_map;
    const uint8_t *port_map;
    size_t n_records;

    /* STATS. */
    size_t n_counters;
    uint64_t counters[FS_N_COUNTERS];
    uint32_t insp_flows, insp_classifying, insp_max_flows, insp_pinned;
    uint64_t insp_memory, insp_memory_peak;
    uint64_t dp[FS_CHAN_N_DP];
    size_t n_port_flows;
    const uint8_t *port_flows;  /* n_port_flows times u32 + u32. */
};

/* Decodes the 'len' bytes at 'buf' into '*msg'.  Returns 0, or a positive
 * errno value (EPROTO: bad header or body; EPROTONOSUPPORT: another
 * version; EMSGSIZE: longer than FS_CHAN_MAX_MSG or than its header says)
 * with a sentence in 'err' (of 'err_size' bytes) that says what was wrong.
 * EVENT and FLOWS leave their flows to fs_chan_next_flow(), after
 * checking they decode. */
int fs_chan_decode(const void *buf, size_t len, struct fs_chan_msg *msg,
                   char *err, size_t err_size);

/* Decodes the next of the flows of EVENT or FLOWS message 'msg' (decoded
 * from 'buf'), starting at '*offset' (0 the first time), into '*flow'.
 * Returns true, or false after the last one. */
bool fs_chan_next_flow(const void *buf, size_t len, size_t *offset,
                       struct fs_chan_flow *flow);

/* Encoding: a message is built in a caller's buffer of FS_CHAN_MAX_MSG
 * bytes with fs_chan_start(), items appended with the fs_chan_put_*()
 * functions, and finished with fs_chan_finish(), which returns its length,
 * or 0 if it did not fit (nothing may then be sent). */
struct fs_chan_buf {
    uint8_t *data;
    size_t len, size;
    bool overflow;
};

void fs_chan_start(struct fs_chan_buf *, void *data, size_t size,
                   enum fs_chan_type, uint16_t flags, uint32_t xid);
size_t fs_chan_finish(struct fs_chan_buf *);

void fs_chan_put_u8(struct fs_chan_buf *, uint8_t);
void fs_chan_put_u16(struct fs_chan_buf *, uint16_t);
void fs_chan_put_u32(struct fs_chan_buf *, uint32_t);
void fs_chan_put_u64(struct fs_chan_buf *, uint64_t);
void fs_chan_put_bytes(struct fs_chan_buf *, const void *, size_t);
void fs_chan_put_str(struct fs_chan_buf *, const char *); /* NULL: "". */
void fs_chan_put_strn(struct fs_chan_buf *, const char *, size_t);
void fs_chan_put_key(struct fs_chan_buf *, const struct fs_flow_key *);
void fs_chan_put_verdict(struct fs_chan_buf *, const struct fs_verdict *);
void fs_chan_put_flow(struct fs_chan_buf *, const struct fs_flow_info *);

/* The bytes fs_chan_put_flow() would append for 'flow'. */
size_t fs_chan_flow_size(const struct fs_flow_info *flow);

/* Re-encodes decoded message 'msg', taken from 'buf' of 'len' bytes, into
 * 'out' of FS_CHAN_MAX_MSG bytes and returns its length (for the fuzz
 * target's round trip). */
size_t fs_chan_reencode(const struct fs_chan_msg *msg, const void *buf,
                        size_t len, void *out);

/* Returns the name of message type 'type' ("HELLO"), or NULL. */
const char *fs_chan_type_name(int type);

#ifdef __cplusplus
}
#endif

#endif /* fs-chan.h */
