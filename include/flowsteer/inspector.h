/*
 * libflowsteer-inspector: deep packet inspection and per-flow verdicts.
 *
 * The embeddable half of flowsteer.  It parses packets (L2-L4), keeps a
 * bidirectional flow table, classifies the first packets of each flow with
 * nDPI, judges the flow against a policy and reports verdicts through a
 * callback.  It knows nothing of Open vSwitch, OpenFlow or DPDK: a vendor
 * links it with libndpi and libc only and brings their own packet I/O.
 *
 * Conventions:
 *   - One clock: packet times and fs_inspector_expire()'s 'now_ns' are
 *     nanoseconds of the same clock, which should never step (a monotonic
 *     clock): the inspector's time only moves forward, so a step back
 *     stops expiry until the clock catches up, and a step forward expires
 *     every idle flow that is not pinned.
 *   - The event callback runs inside the call that caused the event; it
 *     may call fs_inspector_pin_flow() and nothing else of the inspector.
 *   - Every function that can fail returns 0 (or a count) on success and a
 *     negative errno value on failure.  Nothing here aborts or exits.
 *   - Structs are opaque, except options structs, which start with a 'sz'
 *     member set to sizeof the struct the caller was compiled with (use
 *     FS_INSPECTOR_OPTS()), so new knobs never break old callers.
 *   - An inspector is not thread safe: use one per worker thread.
 *   - Strings handed to callbacks are valid only for the duration of the
 *     callback.
 */
#ifndef FLOWSTEER_INSPECTOR_H
#define FLOWSTEER_INSPECTOR_H 1

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef FS_API
#define FS_API __attribute__((visibility("default")))
#endif

#define FS_INSPECTOR_VERSION_MAJOR 0
#define FS_INSPECTOR_VERSION_MINOR 1
#define FS_INSPECTOR_VERSION_PATCH 0

/* Returns the library's version, "MAJOR.MINOR.PATCH".  Static string. */
FS_API const char *fs_inspector_version(void);

/* Returns the version of the nDPI library in use.  Static string. */
FS_API const char *fs_inspector_ndpi_version(void);

/* ---------------------------------------------------------------------- */
/* Packets. */

/* Link-layer type of the bytes handed to fs_inspector_process().  Values
 * are the pcap DLT numbers, so a capture's datalink can be passed as is. */
enum fs_link_type {
    FS_LINK_NULL = 0,           /* BSD loopback: 4-byte host-order AF. */
    FS_LINK_ETHERNET = 1,
    FS_LINK_PPP = 9,
    FS_LINK_RAW = 12,           /* Raw IPv4 or IPv6 (DLT_RAW on Linux). */
    FS_LINK_PPP_HDLC = 50,
    FS_LINK_C_HDLC = 104,
    FS_LINK_LINUX_SLL = 113,
    FS_LINK_IPV4 = 228,
    FS_LINK_IPV6 = 229,
};

struct fs_packet {
    const uint8_t *data;        /* First byte of the link-layer header. */
    uint32_t caplen;            /* Bytes available at 'data'. */
    uint32_t len;               /* Length on the wire (>= caplen), or 0. */
    uint64_t ts_ns;             /* Arrival time, nanoseconds, of a clock
                                 * that never steps back (CLOCK_MONOTONIC):
                                 * the same clock as fs_inspector_expire()'s
                                 * 'now_ns'.  Idle timeouts are in its
                                 * time; a time before the last one seen
                                 * counts as the last. */
    uint32_t port;              /* Ingress port the packet came from (the
                                 * VM's port); 0 if unknown. */
    int link_type;              /* enum fs_link_type. */
};

/* What the caller should do with one packet. */
enum fs_pkt_action {
    FS_PKT_PASS = 0,            /* Forward it. */
    FS_PKT_DROP = 1,            /* Drop it: its flow is judged 'drop', the
                                 * table is full under FS_FULL_DROP_NEW, or
                                 * the packet cannot be judged and its
                                 * exception class says drop. */
};

/* ---------------------------------------------------------------------- */
/* Exceptions. */

/* A packet that the inspector cannot judge as part of a flow falls into
 * exactly one exception class, and the class's action decides it
 * (fs_inspector_set_exception(), or 'exception=' lines in the policy).
 * Every class has a counter of the same name with "err_" in front
 * (FS_CTR_ERR_*), except non_ip, counted in FS_CTR_NON_IP.
 *
 *   non_ip            neither IPv4 nor IPv6 (ARP, LLDP, ...)
 *   zero_length       an empty frame
 *   link_type         a link type the parser does not know
 *   truncated_l2      Ethernet, VLAN, MPLS or PPPoE header cut short
 *   vlan_depth        more than INSP_MAX_VLANS 802.1Q/802.1ad tags
 *   truncated_ipv4    IPv4 header cut short
 *   ipv4_ihl          IPv4 IHL < 5 or beyond the captured bytes
 *   ipv4_total_len    IPv4 total length < IHL or beyond the frame
 *   ip_version        an IP ethertype whose header is another version
 *                     (or none)
 *   truncated_ipv6    IPv6 header or an extension header cut short
 *   ipv6_payload_len  IPv6 payload length beyond the frame
 *   ipv6_ext_overrun  an extension header longer than the packet
 *   ipv6_ext_chain    more extension headers than the parser follows
 *   tunnel_depth      IP-in-IP (or GTP-U, ...) nested too deep
 *   truncated_tcp     TCP header shorter than 20 bytes
 *   tcp_doff          TCP data offset < 5 or beyond the packet (the
 *                     packet is still judged with its flow unless the
 *                     action is drop)
 *   truncated_udp     UDP header cut short
 *   truncated_icmp    ICMP header cut short
 *   frag_tiny         a first fragment too short for the whole L4 header
 *   frag_overlap      a fragment overlapping one seen before
 *   frag_orphan       a later fragment whose first fragment (and so its
 *                     ports) was not seen
 *   frag_table_full   the fragment table, or a datagram's list of
 *                     fragments, is full: the datagram cannot be tracked
 *   tcp_sequence      a segment of a TCP connection still classifying
 *                     that is ahead of the bytes inspected so far, or
 *                     overlaps them with new bytes: inspecting it out of
 *                     order could be made to miss what the receiver
 *                     assembles (a sender resends it in order)
 *   port_mismatch     a packet of a known flow that comes in on
 *                     another port than the flow's own for its
 *                     direction (the port it began on, or the port of
 *                     the VM it goes to, when known): another VM
 *                     reusing the flow's 5-tuple must not get its
 *                     verdict.  Only packets whose port is known
 *                     (fs_packet's 'port' nonzero) are checked.
 */
#define FS_EXCEPTIONS(X)                                                      \
    X(NON_IP, "non_ip", NON_IP)                                               \
    X(ZERO_LENGTH, "zero_length", ERR_ZERO_LENGTH)                            \
    X(LINK_TYPE, "link_type", ERR_LINK_TYPE)                                  \
    X(TRUNCATED_L2, "truncated_l2", ERR_TRUNCATED_L2)                         \
    X(VLAN_DEPTH, "vlan_depth", ERR_VLAN_DEPTH)                               \
    X(TRUNCATED_IPV4, "truncated_ipv4", ERR_TRUNCATED_IPV4)                   \
    X(IPV4_IHL, "ipv4_ihl", ERR_IPV4_IHL)                                     \
    X(IPV4_TOTAL_LEN, "ipv4_total_len", ERR_IPV4_TOTAL_LEN)                   \
    X(IP_VERSION, "ip_version", ERR_IP_VERSION)                               \
    X(TRUNCATED_IPV6, "truncated_ipv6", ERR_TRUNCATED_IPV6)                   \
    X(IPV6_PAYLOAD_LEN, "ipv6_payload_len", ERR_IPV6_PAYLOAD_LEN)             \
    X(IPV6_EXT_OVERRUN, "ipv6_ext_overrun", ERR_IPV6_EXT_OVERRUN)             \
    X(IPV6_EXT_CHAIN, "ipv6_ext_chain", ERR_IPV6_EXT_CHAIN)                   \
    X(TUNNEL_DEPTH, "tunnel_depth", ERR_TUNNEL_DEPTH)                         \
    X(TRUNCATED_TCP, "truncated_tcp", ERR_TRUNCATED_TCP)                      \
    X(TCP_DOFF, "tcp_doff", ERR_TCP_DOFF)                                     \
    X(TRUNCATED_UDP, "truncated_udp", ERR_TRUNCATED_UDP)                      \
    X(TRUNCATED_ICMP, "truncated_icmp", ERR_TRUNCATED_ICMP)                   \
    X(FRAG_TINY, "frag_tiny", ERR_FRAG_TINY)                                  \
    X(FRAG_OVERLAP, "frag_overlap", ERR_FRAG_OVERLAP)                         \
    X(FRAG_ORPHAN, "frag_orphan", ERR_FRAG_ORPHAN)                            \
    X(FRAG_TABLE_FULL, "frag_table_full", ERR_FRAG_TABLE_FULL)              \
    X(TCP_SEQUENCE, "tcp_sequence", ERR_TCP_SEQUENCE)                         \
    X(PORT_MISMATCH, "port_mismatch", ERR_PORT_MISMATCH)

enum fs_exception {
#define FS_EXCEPTION_ENUM(ENUM, NAME, COUNTER) FS_EXC_##ENUM,
    FS_EXCEPTIONS(FS_EXCEPTION_ENUM)
#undef FS_EXCEPTION_ENUM
    FS_N_EXCEPTIONS
};

/* What to do with the packets of one exception class. */
enum fs_exception_action {
    FS_EXC_ACTION_DROP,         /* Drop them ("drop"). */
    FS_EXC_ACTION_ALERT,        /* Forward them, report each one through
                                 * the log callback ("alert"). */
    FS_EXC_ACTION_ALLOW,        /* Forward them, counted only ("allow"). */
};

/* A packet of a class that is forwarded but still belongs to a flow
 * (tcp_doff, port_mismatch, and frag_overlap for a later fragment) is
 * judged with its flow as well: the flow's drop still drops it. */

/* Returns the name of exception class 'e' ("frag_tiny"), or NULL if out of
 * range. */
FS_API const char *fs_exception_name(enum fs_exception e);

/* Returns the exception class named 'name', or -1 if there is none. */
FS_API int fs_exception_from_name(const char *name);

/* Returns the counter (enum fs_counter) of exception class 'e', or -1 if
 * out of range. */
FS_API int fs_exception_counter(enum fs_exception e);

/* Returns the name of 'action' ("drop", "alert", "allow"), or NULL. */
FS_API const char *fs_exception_action_name(enum fs_exception_action action);

/* Returns the action named 'name', or -1 if there is none. */
FS_API int fs_exception_action_from_name(const char *name);

/* Parses 'spec', a comma-separated list of items ACTION (for every class)
 * and CLASS=ACTION ("drop,frag_orphan=alert"), and applies the items in
 * order to 'actions' (an enum fs_exception_action per class, which the
 * caller fills with the defaults first).  Returns 0, or -EINVAL, leaving
 * 'actions' unchanged, with a message in 'err' (if nonnull, truncated to
 * 'err_size' bytes) that quotes no more of 'spec' than a valid name. */
FS_API int fs_exception_parse(const char *spec,
                              uint8_t actions[FS_N_EXCEPTIONS],
                              char *err, size_t err_size);

/* ---------------------------------------------------------------------- */
/* Flows. */

/* A flow key.  Addresses are IPv6 or IPv4-mapped IPv6 (::ffff:a.b.c.d);
 * ports in host byte order, 0 for protocols without ports (ICMP traffic
 * between two hosts is one flow).  The source is the endpoint that sent
 * the flow's first packet. */
struct fs_flow_key {
    uint8_t src_ip[16];
    uint8_t dst_ip[16];
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t vlan;              /* Innermost 802.1Q VID, 0 if untagged. */
    uint8_t l4_proto;           /* IPPROTO_*. */
    uint8_t ip_version;         /* 4 or 6. */
};

enum fs_flow_state {
    FS_FLOW_CLASSIFYING,        /* nDPI still looking at packets. */
    FS_FLOW_DECIDED,            /* Classified and judged. */
};

/* Why a flow ended (fs_flow_info's 'end_reason' in FS_EVENT_FLOW_END). */
enum fs_flow_end {
    FS_END_NONE,                /* It has not. */
    FS_END_IDLE,                /* Idle for its timeout. */
    FS_END_EVICTED,             /* The table was full. */
    FS_END_FLUSHED,             /* fs_inspector_flush(). */
    FS_END_REOPENED,            /* A new TCP connection on its 5-tuple: a
                                 * new flow, with a new id, takes its place
                                 * (see fs_inspector_process()). */
    FS_END_REMOVED,             /* fs_inspector_remove_flow(). */
    FS_END_MIGRATED,            /* fs_inspector_release_flow(): it moved
                                 * to another inspector. */
    FS_END_REPLACED,            /* fs_inspector_import(): a flow that moved
                                 * here from another inspector has its
                                 * 5-tuple and takes its place. */
};

/* A verdict: what the policy says to do with a flow.  'actions' is a set of
 * FS_ACT_* bits; exactly one of ALLOW and DROP is set once a flow is
 * decided.  MIRROR, METER and LABEL imply ALLOW. */
enum {
    FS_ACT_ALLOW = 1 << 0,
    FS_ACT_DROP = 1 << 1,
    FS_ACT_MIRROR = 1 << 2,     /* Copy to 'mirror_port' and continue. */
    FS_ACT_METER = 1 << 3,      /* Rate-limit to 'meter_kbps'. */
    FS_ACT_LABEL = 1 << 4,      /* Label and leave the decision to the
                                 * controller's policy table. */
    FS_ACT_LOG = 1 << 5,        /* Report the flow to the log. */
};

#define FS_PORT_NAME_MAX 16

struct fs_verdict {
    uint32_t actions;           /* FS_ACT_*; 0 while undecided. */
    uint32_t meter_kbps;        /* With FS_ACT_METER. */
    char mirror_port[FS_PORT_NAME_MAX]; /* With FS_ACT_MIRROR. */
};

/* Parses 'actions', a policy's action list without "actions="
 * ("drop,log", "mirror:p2", "meter:1000"), into '*verdict'.  Returns 0,
 * or -EINVAL with a message in 'err' (if nonnull, truncated to
 * 'err_size'). */
FS_API int fs_verdict_parse(const char *actions, struct fs_verdict *verdict,
                            char *err, size_t err_size);

/* Formats 'verdict' as a policy action list into 'buf' of 'size' bytes
 * and returns 'buf'. */
FS_API char *fs_verdict_format(const struct fs_verdict *verdict, char *buf,
                               size_t size);

/* A snapshot of one flow.  All pointers are valid only until the callback
 * that received it returns. */
struct fs_flow_info {
    uint64_t id;                /* Unique per inspector (1, 2, ...; never
                                 * reused), below 2**48. */
    struct fs_flow_key key;
    uint32_t port;              /* Ingress port of the flow's first packet:
                                 * its initiator's VM. */
    const char *profile;        /* Profile of 'port', or NULL. */
    enum fs_flow_state state;

    /* Classification.  'app' is nDPI's name as ndpiReader prints it:
     * "TLS", "TLS.YouTube", "Unknown". */
    const char *app;
    uint16_t app_id;            /* nDPI app protocol id. */
    uint16_t master_id;         /* nDPI master protocol id, or 0. */
    const char *category;       /* nDPI category name. */
    uint64_t risks;             /* Bit N set: nDPI risk N (fs_risk_name()). */
    const char *host;           /* Host name / SNI, "" if none. */
    const char *ja3;            /* JA3 client hash (32 hex), "" if none. */
    int guessed;                /* Classification is nDPI's guess. */

    /* Verdict and the rule that chose it. */
    struct fs_verdict verdict;
    const char *rule;           /* Rule text "file:line", "default", or
                                 * "previous-policy" for a verdict kept
                                 * when a new policy needs DPI to judge a
                                 * flow decided without it. */
    int rule_priority;

    /* Counters.  Index 0: source to destination, 1: the reverse. */
    uint64_t packets[2];
    uint64_t bytes[2];
    uint32_t packets_inspected; /* Packets handed to nDPI. */
    uint64_t first_seen_ns;
    uint64_t last_seen_ns;

    /* The VM the flow goes to, when it is an inspected port known by its
     * MAC (fs_inspector_set_port_mac()): the flow is judged under both
     * 'profile' (direction=out) and 'peer_profile' (direction=in). */
    uint32_t peer_port;         /* 0 if none. */
    const char *peer_profile;   /* Profile of 'peer_port', or NULL. */
    uint16_t category_id;       /* nDPI category number of 'category'. */
    uint8_t pinned;             /* fs_inspector_pin_flow(). */
    uint8_t end_reason;         /* enum fs_flow_end. */
    uint64_t origin_id;         /* For a flow imported from another
                                 * inspector (fs_inspector_import()): its
                                 * id there, for logs; else 0. */
};

/* Formats address 'ip' (IPv6, or IPv4-mapped shown as a.b.c.d) into 'buf'
 * of 'size' bytes (46 is enough) and returns 'buf'. */
FS_API char *fs_ip_format(const uint8_t ip[16], char *buf, size_t size);

/* Returns the name of IP protocol 'proto' as ndpiReader prints it ("TCP",
 * "UDP", "ICMP", ...), or its number written into 'buf' of 'size' bytes
 * (4 is enough). */
FS_API const char *fs_l4_name(uint8_t proto, char *buf, size_t size);

/* Returns the name of nDPI risk bit 'bit' as used in policies
 * ("clear_text_credentials"), or NULL if there is no such risk. */
FS_API const char *fs_risk_name(unsigned int bit);

/* ---------------------------------------------------------------------- */
/* Events. */

enum fs_event_type {
    FS_EVENT_VERDICT,           /* A flow was decided (or decided again,
                                 * after FS_EVENT_REINSPECT, or imported). */
    FS_EVENT_VERDICT_CHANGED,   /* A policy change altered a verdict. */
    FS_EVENT_FLOW_END,          /* A flow ended: 'end_reason' says why. */
    FS_EVENT_REINSPECT,         /* A pinned flow, decided on L2-L4 fields
                                 * alone and allowed, must be seen again:
                                 * a new policy needs its application to
                                 * judge it.  It is unpinned and classified
                                 * from its next packets (its verdict stays
                                 * until then); the caller should stop
                                 * enforcing it elsewhere so that they come.
                                 * A drop is kept instead. */
};

/* 'flow' is valid until the callback returns.  For FS_EVENT_VERDICT_CHANGED
 * 'old_verdict' holds the previous verdict; otherwise it is NULL.  The
 * callback may call fs_inspector_pin_flow(), but nothing else of the
 * inspector. */
typedef void fs_event_cb(void *aux, enum fs_event_type,
                         const struct fs_flow_info *flow,
                         const struct fs_verdict *old_verdict);

enum fs_log_level {
    FS_LOG_ERR,
    FS_LOG_WARN,
    FS_LOG_INFO,
    FS_LOG_DBG,
};

typedef void fs_log_cb(void *aux, enum fs_log_level, const char *msg);

/* ---------------------------------------------------------------------- */
/* Lifecycle. */

/* What to do with a new flow when the table is full. */
enum fs_table_full_policy {
    FS_FULL_EVICT_IDLE,         /* Evict the least recently seen flow. */
    FS_FULL_BYPASS,             /* Pass the packet uninspected. */
    FS_FULL_DROP_NEW,           /* Drop the packet. */
};

struct fs_inspector_opts {
    size_t sz;                  /* sizeof(struct fs_inspector_opts). */

    uint32_t max_flows;         /* Flow table capacity.  Default 65536. */
    uint64_t max_memory;        /* Cap on flow table plus nDPI per-flow
                                 * state, in bytes.  0: no cap beyond
                                 * max_flows.  Flows in classification are
                                 * limited so the cap holds. */
    enum fs_table_full_policy table_full;

    /* Idle timeouts in milliseconds of packet time.  0: defaults (TCP
     * 300 s, UDP 60 s, other 30 s).  UINT32_MAX: never. */
    uint32_t idle_timeout_tcp_ms;
    uint32_t idle_timeout_udp_ms;
    uint32_t idle_timeout_other_ms;

    /* Give-up budgets: packets per flow nDPI may see before the flow is
     * decided on what is known.  0: defaults (TCP 80, UDP 24, other 8). */
    uint32_t giveup_tcp;
    uint32_t giveup_udp;
    uint32_t giveup_other;

    /* Decode GTP-U, TZSP and CAPWAP tunnels and inspect the inner flow. */
    int decode_tunnels;

    /* Key flows without their 802.1Q VID (as ndpiReader's -V): for
     * embedders that use the tag for something else (flowsteerd carries
     * the original ingress port in it). */
    int ignore_vlan;

    /* Keep classifying flows that the policy decided on L3/L4 fields
     * alone, for visibility (offline analysis).  Their verdict does not
     * change when classification ends. */
    int classify_all;

    /* nDPI's optional configuration files, or NULL. */
    const char *protos_file;
    const char *categories_file;
    const char *risky_domains_file;
    const char *ja3_file;
    const char *sha1_file;

    fs_event_cb *event_cb;
    void *event_aux;
    fs_log_cb *log_cb;          /* NULL: log nothing. */
    void *log_aux;

    /* For an embedder that runs several inspectors side by side (one per
     * worker thread) whose flow ids must not collide: the ids of this
     * one's new flows are 'flow_id_offset' modulo 'flow_id_stride' (from
     * 1 to 4096; 0 means 1), and 'flow_id_offset' is below
     * 'flow_id_stride'.  fs_inspector_reserve_flow_ids() and imports keep
     * to it. */
    uint32_t flow_id_stride;
    uint32_t flow_id_offset;

    /* Migration (fs_inspector_export()): a flow still in classification
     * keeps the packets nDPI was given, at most 'payload_bytes' of them
     * (0: 16384; at most 60000; UINT32_MAX: none), and all flows at most
     * 'payload_memory' bytes in all (0: 64 MiB; within 'max_memory' too),
     * so that another inspector can give them to a fresh nDPI flow and
     * reach the classification this one would have.  Past a bound the
     * flow's payload is cut (counter payload_cut): it still migrates, and
     * its importer decides it on what the payload it has tells. */
    uint32_t payload_bytes;
    uint64_t payload_memory;
};

#define FS_INSPECTOR_OPTS(NAME, ...)                                   \
    struct fs_inspector_opts NAME = {                                  \
        .sz = sizeof(struct fs_inspector_opts), __VA_ARGS__            \
    }

struct fs_inspector;

/* Creates an inspector in '*out'.  'opts' may be NULL for defaults.
 * Options past the struct this library knows (a larger 'sz', from a newer
 * header) must be zero.
 * Returns 0 or a negative errno: -EINVAL for bad options, -ENOENT or
 * -EINVAL for an unreadable or bad nDPI configuration file (logged), -ENOMEM.
 * The caller retains ownership of 'opts' and the strings in it. */
FS_API int fs_inspector_create(const struct fs_inspector_opts *opts,
                               struct fs_inspector **out);

/* Destroys 'insp', without events.  Accepts NULL. */
FS_API void fs_inspector_destroy(struct fs_inspector *insp);

/* ---------------------------------------------------------------------- */
/* Policy. */

/* Parses policy text and, on success, replaces the inspector's policy.
 * A flow that no rule matches is dropped (rule "default"): end the policy
 * with "priority=0, actions=allow" to allow instead.  'text' NULL removes
 * the policy: every flow is then allowed, nothing is enforced.  The
 * live flows are judged again; FS_EVENT_VERDICT_CHANGED is reported for
 * each flow whose verdict changed, and the number of such flows is stored
 * in '*changed' if it is nonnull.  'name' is used in messages and rule
 * names (e.g. the file name).
 *
 * On a syntax error returns -EINVAL, keeps the old policy, and writes
 * "NAME:LINE:COLUMN: message" into 'err' (if nonnull, truncated to
 * 'err_size' bytes). */
FS_API int fs_inspector_set_policy(struct fs_inspector *insp,
                                   const char *name, const char *text,
                                   unsigned int *changed,
                                   char *err, size_t err_size);

/* Like fs_inspector_set_policy(), except that no live flow is judged
 * again: decided flows keep their verdicts, and the policy judges the flows
 * decided from now on.  For a stand-in while the real policy cannot be
 * read, which must not undo the verdicts it gave. */
FS_API int fs_inspector_set_policy_for_new_flows(struct fs_inspector *insp,
                                                 const char *name,
                                                 const char *text,
                                                 char *err, size_t err_size);

/* Like fs_inspector_set_policy() for the contents of file 'path'.
 * Returns -errno if the file cannot be read. */
FS_API int fs_inspector_load_policy(struct fs_inspector *insp,
                                    const char *path, unsigned int *changed,
                                    char *err, size_t err_size);

/* Assigns profile 'profile' (NULL to clear) and optionally a port name to
 * port number 'port', then judges that port's live flows again like
 * fs_inspector_set_policy().  Returns 0 or -ENOMEM.  The caller retains
 * ownership of the strings. */
FS_API int fs_inspector_set_port(struct fs_inspector *insp, uint32_t port,
                                 const char *name, const char *profile,
                                 unsigned int *changed);

/* Sets the action for packets of exception class 'exception' (enum
 * fs_exception), or of every class if 'exception' is -1.  A policy's
 * 'exception=' lines override this for the classes they name.  The
 * default is FS_EXC_ACTION_DROP for every class but non_ip, which is
 * FS_EXC_ACTION_ALLOW: the inspector judges IP traffic and lets other
 * protocols pass unless told otherwise.  Returns 0 or -EINVAL. */
FS_API int fs_inspector_set_exception(struct fs_inspector *insp,
                                      int exception,
                                      enum fs_exception_action action);

/* Returns the action in force for exception class 'exception': the
 * policy's if it names the class, else the one set with
 * fs_inspector_set_exception().  Returns FS_EXC_ACTION_DROP for a class
 * out of range. */
FS_API enum fs_exception_action fs_inspector_get_exception(
    const struct fs_inspector *insp, enum fs_exception exception);

/* Tells the inspector that the VM on port 'port' has MAC address 'mac' (6
 * bytes; NULL: unknown).  A flow whose first packet goes to that MAC from
 * another port is then judged under this port's profile too, with
 * direction=in: the stricter verdict of its two ends wins (drop beats
 * allow; two allows add up).  Live flows to or from that MAC are judged
 * again like fs_inspector_set_policy().  Returns 0 or -ENOMEM. */
FS_API int fs_inspector_set_port_mac(struct fs_inspector *insp,
                                     uint32_t port, const uint8_t mac[6],
                                     unsigned int *changed);

/* ---------------------------------------------------------------------- */
/* Data path. */

/* Processes one packet and returns the action for it (enum fs_pkt_action).
 * Never fails: a packet that cannot be judged as part of a flow (it cannot
 * be parsed, or it is a fragment that cannot be tied to its datagram's
 * first fragment) is counted in its exception class and gets that class's
 * action.  The caller retains ownership of 'pkt' and its data. */
FS_API int fs_inspector_process(struct fs_inspector *insp,
                                const struct fs_packet *pkt);

/* Processes 'n' packets and stores one enum fs_pkt_action per packet in
 * 'actions'.  Returns the number of packets to pass. */
FS_API unsigned int fs_inspector_process_burst(struct fs_inspector *insp,
                                               const struct fs_packet *pkts,
                                               unsigned int n,
                                               uint8_t *actions);

/* What fs_inspector_process_ex() found about one packet. */
struct fs_pkt_result {
    uint64_t flow_id;           /* The packet's flow, or 0 if it has none
                                 * (an exception, a full table). */
    int16_t exception;          /* Its enum fs_exception, or -1. */
    uint8_t action;             /* enum fs_pkt_action. */
};

/* Like fs_inspector_process(), also storing in '*result' which flow the
 * packet belongs to.  Returns the action.
 *
 * TCP: a verdict belongs to a connection, not to a 5-tuple.  A SYN without
 * ACK on the 5-tuple of a flow starts a new flow (FS_EVENT_FLOW_END with
 * FS_END_REOPENED for the old one, then a new id and a fresh
 * classification) when the old connection is over: a FIN or RST of it was
 * let through, or it was decided and allowed and the SYN is not a
 * retransmission of its own (another sequence number).  A SYN on a flow
 * that is dropped, or still classifying and not closed, stays with it. */
FS_API int fs_inspector_process_ex(struct fs_inspector *insp,
                                   const struct fs_packet *pkt,
                                   struct fs_pkt_result *result);

/* Spreading flows over several inspectors (one per worker thread, with
 * ids apart: fs_inspector_opts' 'flow_id_stride'): returns a hash of the
 * IP addresses of the flow that 'pkt' belongs to, parsed as
 * fs_inspector_process() parses it ('decode_tunnels' as in
 * fs_inspector_opts), or 0 if it is not IP or malformed.  The hash is the
 * same in both directions and, since it never looks at ports, for every
 * fragment of a datagram, so that each flow meets one inspector only.
 * fs_flow_key_hash() gives the same for the flow's key.  Neither reads
 * any inspector's state: any thread may call them. */
FS_API uint32_t fs_packet_flow_hash(const struct fs_packet *pkt,
                                    int decode_tunnels);
FS_API uint32_t fs_flow_key_hash(const struct fs_flow_key *key);

/* The same for the flow in record 'rec' of 'len' bytes (as
 * fs_inspector_export_flow() writes): for an embedder that must import it
 * into the inspector its packets will meet.  Returns 0 or -EINVAL for a
 * record that fs_inspector_import_flow() would refuse as malformed. */
FS_API int fs_flow_record_hash(const void *rec, size_t len, uint32_t *hash);

/* Expires flows idle since before 'now_ns' minus their timeout, reporting
 * FS_EVENT_FLOW_END for each.  fs_inspector_process() does this by itself
 * as packet time moves on; call it when no packets arrive.  Returns the
 * number of flows expired. */
FS_API unsigned int fs_inspector_expire(struct fs_inspector *insp,
                                        uint64_t now_ns);

/* Ends every flow still in classification with what nDPI knows by now (as
 * at a give-up), judging it and reporting FS_EVENT_VERDICT.  Use at the end
 * of a capture.  Returns the number of flows decided. */
FS_API unsigned int fs_inspector_giveup_all(struct fs_inspector *insp);

/* Removes every flow, reporting FS_EVENT_FLOW_END for each.  Returns the
 * number removed. */
FS_API unsigned int fs_inspector_flush(struct fs_inspector *insp);

/* Calls 'cb' for each live flow in no particular order.  'cb' must not
 * call into the inspector.  Stops early if 'cb' returns nonzero and returns
 * that value; otherwise returns 0. */
typedef int fs_flow_cb(void *aux, const struct fs_flow_info *flow);
FS_API int fs_inspector_foreach_flow(struct fs_inspector *insp,
                                     fs_flow_cb *cb, void *aux);

/* Calls 'cb' for the live flow whose key is 'key' (either direction), if
 * there is one, and returns what it returns; otherwise returns -ENOENT.
 * 'cb' must not call into the inspector. */
FS_API int fs_inspector_find_flow(struct fs_inspector *insp,
                                  const struct fs_flow_key *key,
                                  fs_flow_cb *cb, void *aux);

/* Pins (if 'pinned') or unpins flow 'id', whose key is 'key' (either
 * direction).  A caller that enforces a decided flow's verdict elsewhere
 * (flowsteerd: OpenFlow rules in Open vSwitch) pins it: the flow then sees
 * no packets, yet it must stay, so that a policy change judges it again
 * and its connection's next SYN, FIN or RST is judged with it.  A pinned
 * flow is never expired nor evicted; the caller removes it
 * (fs_inspector_remove_flow()) or unpins it.  Returns 0, or -ENOENT if
 * there is no such flow. */
FS_API int fs_inspector_pin_flow(struct fs_inspector *insp, uint64_t id,
                                 const struct fs_flow_key *key, int pinned);

/* Removes flow 'id', whose key is 'key', reporting FS_EVENT_FLOW_END with
 * FS_END_REMOVED.  Returns 0 or -ENOENT. */
FS_API int fs_inspector_remove_flow(struct fs_inspector *insp, uint64_t id,
                                    const struct fs_flow_key *key);

/* What to do with a new flow of a port that has all the flows it may
 * have (fs_inspector_set_port_limit()). */
enum fs_port_full_policy {
    FS_PORT_FULL_DROP,          /* Drop the packet: the new flow is not
                                 * made. */
    FS_PORT_FULL_EVICT_IDLE,    /* Evict that port's least recently seen
                                 * flow that is not pinned; drop if all
                                 * its flows are pinned. */
};

/* Limits every port to 'max_flows' live flows (0: no limit), pinned ones
 * included, so that one VM cannot take the table from the others (nor, for
 * a caller that pins flows with rules, the switch's rules).  A flow counts
 * for the port it came from if the inspector knows it
 * (fs_inspector_set_port()), else for the port of the VM it goes to
 * (fs_inspector_set_port_mac()).  Hitting the limit counts in
 * FS_CTR_PORT_FULL.  Returns 0 or -EINVAL. */
FS_API int fs_inspector_set_port_limit(struct fs_inspector *insp,
                                       uint32_t max_flows,
                                       enum fs_port_full_policy policy);

/* Returns the number of live flows that port 'port' owns. */
FS_API uint32_t fs_inspector_port_flows(const struct fs_inspector *insp,
                                        uint32_t port);

/* Makes the ids of new flows at least 'id' (never lowers them): for a
 * caller whose ids must stay unique across restarts of the inspector (they
 * name OpenFlow rules that outlive it).  Returns 0, or -EINVAL if 'id' is
 * 0 or not below 2**48. */
FS_API int fs_inspector_reserve_flow_ids(struct fs_inspector *insp,
                                         uint64_t id);

/* Sets the idle timeouts, in milliseconds (0: the default, UINT32_MAX:
 * never), as in struct fs_inspector_opts.  They apply to live flows at
 * once. */
FS_API void fs_inspector_set_idle_timeouts(struct fs_inspector *insp,
                                           uint32_t tcp_ms, uint32_t udp_ms,
                                           uint32_t other_ms);

/* ---------------------------------------------------------------------- */
/* Flow records: a decided flow's state, to restore it in another inspector
 * (after a restart, or on another host).
 *
 * A record is versioned, length-checked, in network byte order and
 * independent of struct layout: key, VMs' ports and MACs, classification
 * (application, category, risks, host, JA3), verdict, counters, TCP
 * connection state, and whether the flow is pinned.  Times are ages, so
 * they mean the same to another clock.  Flows still classifying are not
 * exported (nDPI's state cannot be). */

#define FS_FLOW_RECORD_MAX 1024     /* Bytes a record takes at most. */

/* Writes the record of flow 'id' (key 'key') into 'buf' of 'size' bytes.
 * Returns its length, -ENOENT if there is no such decided flow, or
 * -ENOSPC if 'size' is too small. */
FS_API int fs_inspector_export_flow(struct fs_inspector *insp, uint64_t id,
                                    const struct fs_flow_key *key, void *buf,
                                    size_t size);

/* Calls 'cb' with the record of each decided flow (only the pinned ones if
 * 'pinned_only').  The record is valid until 'cb' returns; 'cb' must not
 * call into the inspector.  Stops early if 'cb' returns nonzero and
 * returns that value; otherwise returns 0. */
typedef int fs_record_cb(void *aux, const void *record, size_t len);
FS_API int fs_inspector_export_flows(struct fs_inspector *insp,
                                     int pinned_only, fs_record_cb *cb,
                                     void *aux);

/* Flags for fs_inspector_import_flow(). */
enum {
    FS_IMPORT_REJUDGE = 1 << 0, /* Judge the flow by the policy in use
                                 * (else keep the record's verdict). */
    FS_IMPORT_MAPPED_ONLY = 1 << 1, /* fs_inspector_import(): a record
                                     * of a flow neither from a port of
                                     * the port map nor to one (with the
                                     * MAC of that port's VM, if known:
                                     * fs_inspector_set_port_mac()) is
                                     * malformed (the batch is refused).
                                     * A flow to a mapped port comes in
                                     * with its own port unknown (0). */
};

/* Restores the flow in record 'rec' of 'len' bytes, with its id, which
 * later new flows' ids stay above, and reports it: FS_EVENT_VERDICT, or
 * FS_EVENT_VERDICT_CHANGED if FS_IMPORT_REJUDGE changed its verdict.
 * Stores its id in '*id' if nonnull.  Returns 0, or -EINVAL for a record
 * that is malformed (too short or long, another version, bad lengths or
 * values), -EEXIST if a flow with its key or id is live, -ENOSPC if the
 * table is full of flows that cannot be evicted.  Never reads beyond
 * 'len'. */
FS_API int fs_inspector_import_flow(struct fs_inspector *insp,
                                    const void *rec, size_t len,
                                    unsigned int flags, uint64_t *id);

/* Adds a decided, pinned flow of which only the key, the ingress port of
 * its first packet and the verdict are known (a rule found in the switch
 * after a restart that lost the flow's record), and reports it
 * (FS_EVENT_VERDICT).  Policy changes never undo such a drop, since the VMs
 * it was judged under are unknown; such an allow is judged again on what
 * is known (re-inspected if the new policy needs its application).
 * Returns as fs_inspector_import_flow(). */
FS_API int fs_inspector_import_verdict(struct fs_inspector *insp,
                                       uint64_t id,
                                       const struct fs_flow_key *key,
                                       uint32_t port,
                                       const struct fs_verdict *verdict);

/* ---------------------------------------------------------------------- */
/* Migration: the flows of a VM move to another inspector (on another host)
 * with their state, those still in classification too.
 *
 * The exporter sends a bulk copy, fs_inspector_export(..., since 0), and
 * then, as flows change, deltas: every call to fs_inspector_mark() returns
 * a mark, and fs_inspector_export(..., since MARK) gives the flows changed
 * after that call.  Flows that end are reported as FS_EVENT_FLOW_END;
 * a caller that copies deltas tells its peer of them itself.  The importer
 * takes records in batches (fs_inspector_import()): a flow it already got
 * from the same exporter is replaced by the newer record.  At the switch
 * over, the exporter releases the flows (fs_inspector_release_flow()).
 *
 * A record of a flow still in classification carries the packets nDPI was
 * given (see fs_inspector_opts' 'payload_bytes'); its importer gives them
 * to a fresh nDPI flow, in order, with their times: the flow then goes on
 * as if it had never moved. */

#define FS_MIGRATE_RECORD_MAX 65535 /* Bytes a record of fs_inspector_export()
                                     * takes at most. */
#define FS_PORT_ANY UINT32_MAX

/* Returns a mark for fs_inspector_export(): flows that change after this
 * call (a packet, a verdict, a pin) are exported since it. */
FS_API uint64_t fs_inspector_mark(struct fs_inspector *insp);

/* Flags for fs_inspector_export(). */
enum {
    FS_EXPORT_DECIDED = 1 << 0, /* Only decided flows (no payload). */
    FS_EXPORT_FROM_PORT = 1 << 1,   /* Only flows whose first packet came
                                     * from 'port' (not those to it). */
    FS_EXPORT_CLASSIFYING = 1 << 2, /* Only flows still in classification
                                     * (with their payload). */
};

/* Calls 'cb' with the record (at most FS_MIGRATE_RECORD_MAX bytes) of each
 * flow of port 'port' (whose first packet came from it, or that goes to
 * it: FS_PORT_ANY for all) that changed since mark 'since' (0: every
 * flow).  The record is valid until 'cb' returns; 'cb' must not call into
 * the inspector.  Stops early if 'cb' returns nonzero and returns that
 * value; otherwise returns 0. */
FS_API int fs_inspector_export(struct fs_inspector *insp, uint32_t port,
                               uint64_t since, unsigned int flags,
                               fs_record_cb *cb, void *aux);

/* Writes the record of flow 'id' (key 'key'), as fs_inspector_export()
 * does, into 'buf' of 'size' bytes.  Returns its length, -ENOENT if there
 * is no such flow, or -ENOSPC if 'size' is too small. */
FS_API int fs_inspector_export_one(struct fs_inspector *insp, uint64_t id,
                                   const struct fs_flow_key *key, void *buf,
                                   size_t size);

/* Removes flow 'id' (key 'key') after it moved to another inspector:
 * reports FS_EVENT_FLOW_END with FS_END_MIGRATED, without classifying it
 * further.  Returns 0 or -ENOENT. */
FS_API int fs_inspector_release_flow(struct fs_inspector *insp, uint64_t id,
                                     const struct fs_flow_key *key);

/* Where fs_inspector_import() puts what it imports. */
struct fs_import_opts {
    size_t sz;                  /* sizeof(struct fs_import_opts). */
    unsigned int flags;         /* FS_IMPORT_*. */
    /* The exporter's port numbers and this inspector's: a record's ports
     * are looked up in 'port_map' ([i][0] the exporter's, [i][1] ours);
     * one not found becomes 0, unknown.  NULL: kept as they are. */
    const uint32_t (*port_map)[2];
    size_t n_port_map;
};

#define FS_IMPORT_OPTS(NAME, ...)                                      \
    struct fs_import_opts NAME = {                                     \
        .sz = sizeof(struct fs_import_opts), __VA_ARGS__               \
    }

/* What fs_inspector_import() did. */
struct fs_import_result {
    uint32_t imported;          /* New flows. */
    uint32_t updated;           /* Flows replaced by a newer record. */
    uint32_t conflicts;         /* Records for a 5-tuple that had a flow
                                 * of this inspector's own, which ended
                                 * (FS_END_REPLACED) for the record's. */
    uint32_t rejudged;          /* Judged under another policy than the
                                 * exporter's (its digest differs), so by
                                 * this inspector's. */
    uint32_t given_up;          /* Still classifying, with a cut payload:
                                 * decided on what it told. */
};

/* Imports the records of fs_inspector_export() in 'batch', 'len' bytes of
 * them back to back.  Each flow gets an id of this inspector's (the
 * record's stays as its 'origin_id'), and is reported: FS_EVENT_VERDICT if
 * decided, or, while classifying, when decided.  A flow is judged under
 * this inspector's policy if the record's policy digest is not this one's
 * (or with FS_IMPORT_REJUDGE), else keeps its verdict.  All or nothing:
 * returns -EINVAL if any record is malformed (counter records_bad),
 * -ENOSPC if the table cannot hold them all; then nothing changed.
 * Otherwise returns 0 and fills '*result' if nonnull.  Never reads beyond
 * 'len'. */
FS_API int fs_inspector_import(struct fs_inspector *insp, const void *batch,
                               size_t len, const struct fs_import_opts *opts,
                               struct fs_import_result *result);

/* The key of the flow that 'pkt' belongs to (as fs_inspector_process()
 * parses it, with 'decode_tunnels'): for a caller that must tell which of
 * several inspectors holds its flow.  Returns 0, or -EINVAL if 'pkt' is
 * not IP or malformed. */
FS_API int fs_packet_flow_key(const struct fs_packet *pkt, int decode_tunnels,
                              struct fs_flow_key *key);

/* Returns the link type (FS_LINK_*) of pcap's data link type 'dlt'
 * (pcap_datalink()), or -1 if the inspector does not read it. */
FS_API int fs_link_type_from_dlt(int dlt);

/* Returns the digest of the policy in use (0 without one): two inspectors
 * with the same policy text have the same digest. */
FS_API uint64_t fs_inspector_policy_digest(const struct fs_inspector *insp);

/* ---------------------------------------------------------------------- */
/* Counters. */

/* Counters, named as in fs_counter_name().  The err_* counters (and
 * non_ip) count the packets of each exception class; exceptions_dropped
 * and exceptions_passed count what their actions did with them.
 * tcp_not_in_sequence counts the TCP packets of classifying flows that
 * were not given to nDPI and are no exception: retransmissions, and
 * packets of no connection the flow's SYN opened. */
#define FS_COUNTERS(C)                                                        \
    C(PACKETS, "packets")                                                     \
    C(BYTES, "bytes")                                                         \
    C(PACKETS_INSPECTED, "packets_inspected")                                 \
    C(PACKETS_DROPPED, "packets_dropped")                                     \
    C(PACKETS_BYPASSED, "packets_bypassed")                                   \
    C(NON_IP, "non_ip")                                                       \
    C(FLOWS_CREATED, "flows_created")                                         \
    C(FLOWS_DECIDED, "flows_decided")                                         \
    C(FLOWS_GIVEN_UP, "flows_given_up")                                       \
    C(FLOWS_DECIDED_L4, "flows_decided_l4")                                   \
    C(FLOWS_EXPIRED, "flows_expired")                                         \
    C(FLOWS_EVICTED, "flows_evicted")                                         \
    C(TABLE_FULL, "table_full")                                               \
    C(CLASSIFY_FULL, "classify_full")                                         \
    C(VERDICTS_CHANGED, "verdicts_changed")                                   \
    C(FRAGMENTS, "fragments")                                                 \
    C(ERR_ZERO_LENGTH, "err_zero_length")                                     \
    C(SNAPLEN_CUT, "snaplen_cut")                                             \
    C(ERR_LINK_TYPE, "err_link_type")                                         \
    C(ERR_TRUNCATED_L2, "err_truncated_l2")                                   \
    C(ERR_VLAN_DEPTH, "err_vlan_depth")                                       \
    C(ERR_TRUNCATED_IPV4, "err_truncated_ipv4")                               \
    C(ERR_IPV4_IHL, "err_ipv4_ihl")                                           \
    C(ERR_IPV4_TOTAL_LEN, "err_ipv4_total_len")                               \
    C(ERR_IP_VERSION, "err_ip_version")                                       \
    C(ERR_TRUNCATED_IPV6, "err_truncated_ipv6")                               \
    C(ERR_IPV6_PAYLOAD_LEN, "err_ipv6_payload_len")                           \
    C(ERR_IPV6_EXT_OVERRUN, "err_ipv6_ext_overrun")                           \
    C(ERR_IPV6_EXT_CHAIN, "err_ipv6_ext_chain")                               \
    C(ERR_TUNNEL_DEPTH, "err_tunnel_depth")                                   \
    C(ERR_TRUNCATED_TCP, "err_truncated_tcp")                                 \
    C(ERR_TCP_DOFF, "err_tcp_doff")                                           \
    C(ERR_TRUNCATED_UDP, "err_truncated_udp")                                 \
    C(ERR_TRUNCATED_ICMP, "err_truncated_icmp")                               \
    C(ERR_FRAG_TINY, "err_frag_tiny")                                         \
    C(ERR_FRAG_OVERLAP, "err_frag_overlap")                                   \
    C(ERR_FRAG_ORPHAN, "err_frag_orphan")                                     \
    C(ERR_FRAG_TABLE_FULL, "err_frag_table_full")                             \
    C(EXCEPTIONS_DROPPED, "exceptions_dropped")                               \
    C(EXCEPTIONS_PASSED, "exceptions_passed")                                 \
    C(FLOWS_REOPENED, "flows_reopened")                                       \
    C(FLOWS_REINSPECTED, "flows_reinspected")                                 \
    C(FLOWS_IMPORTED, "flows_imported")                                       \
    C(RECORDS_BAD, "records_bad")                                             \
    C(PORT_FULL, "port_full")                                                 \
    C(TCP_NOT_IN_SEQUENCE, "tcp_not_in_sequence")                             \
    C(ERR_TCP_SEQUENCE, "err_tcp_sequence")                                   \
    C(PAYLOAD_CUT, "payload_cut")                                             \
    C(PACKETS_REPLAYED, "packets_replayed")                                   \
    C(RECORDS_CONFLICT, "records_conflict")                                   \
    C(FLOWS_RELEASED, "flows_released")                                       \
    C(ERR_PORT_MISMATCH, "err_port_mismatch")

enum fs_counter {
#define FS_COUNTER_ENUM(ENUM, NAME) FS_CTR_##ENUM,
    FS_COUNTERS(FS_COUNTER_ENUM)
#undef FS_COUNTER_ENUM
    FS_N_COUNTERS
};

/* Returns the name of counter 'c', or NULL if out of range. */
FS_API const char *fs_counter_name(enum fs_counter c);

/* Returns counter 'c' of 'insp' (0 if out of range). */
FS_API uint64_t fs_inspector_counter(const struct fs_inspector *insp,
                                     enum fs_counter c);

struct fs_inspector_stats {
    size_t sz;                  /* sizeof(struct fs_inspector_stats): set
                                 * by the caller (FS_INSPECTOR_STATS()). */
    uint32_t flows;             /* Live flows. */
    uint32_t flows_classifying; /* Of which still in classification. */
    uint32_t max_flows;
    uint32_t max_classifying;   /* Bound set by max_memory. */
    uint32_t bytes_per_flow;    /* Our per-flow record. */
    uint32_t bytes_per_classifying; /* Extra while classifying (nDPI). */
    uint64_t memory;            /* Bytes held now by flow state. */
    uint64_t memory_peak;
    uint32_t flows_pinned;      /* Live flows pinned by the caller. */
    uint64_t payload_memory;    /* Of 'memory': payload kept for
                                 * migration. */
};

#define FS_INSPECTOR_STATS(NAME)                                       \
    struct fs_inspector_stats NAME = {                                 \
        .sz = sizeof(struct fs_inspector_stats)                        \
    }

/* Fills '*stats' with the inspector's current figures, as far as
 * stats->sz says the caller's struct goes. */
FS_API void fs_inspector_get_stats(const struct fs_inspector *insp,
                                   struct fs_inspector_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* FLOWSTEER_INSPECTOR_H */
