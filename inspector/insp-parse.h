/*
 * Packet parsing: link layer to L4, with no state.
 *
 * insp_parse() reads one frame and fills a struct insp_parsed.  It never
 * reads past 'caplen', and classifies every frame it cannot use into exactly
 * one enum fs_counter reason.
 */
#ifndef INSP_PARSE_H
#define INSP_PARSE_H 1

#include <stdint.h>
#include "flowsteer/inspector.h"

#define INSP_MAX_VLANS 2        /* Tags beyond this are a parse error. */
#define INSP_MAX_IP_DEPTH 3     /* IP-in-IP nesting: outer plus two. */
#define INSP_MAX_IPV6_EXT 64    /* Extension headers per IPv6 packet:
                                 * Linux and Open vSwitch set no limit but
                                 * the packet's length; a chain this long
                                 * is an attack, not traffic. */

struct insp_parsed {
    struct fs_flow_key key;     /* As sent: 'src' is this packet's sender.
                                 * Ports are 0 for non-first fragments. */
    const uint8_t *eth;         /* Ethernet header, or NULL. */
    const uint8_t *l3;          /* Innermost IP header. */
    uint32_t l3_len;            /* Its bytes: min(captured, IP length). */
    const uint8_t *l4;          /* L4 header (NULL for non-first frags). */
    uint32_t l4_len;            /* L4 bytes available from 'l4'. */
    uint32_t wire_len;          /* Frame length on the wire. */

    /* Fragmentation (is_fragment only for IPv4 MF/offset or an IPv6
     * fragment header).  'frag_offset' is in bytes. */
    uint8_t is_fragment;
    uint8_t more_fragments;
    uint8_t tcp_flags;
    uint8_t tunnel;             /* Nonzero if decapsulated. */
    uint8_t anomaly;            /* A counter for a malformation that still
                                 * leaves the packet usable, or 0. */
    uint8_t frag_ports_known;   /* A later fragment's ports, from its first
                                 * fragment, are in 'key' (insp_frags). */
    uint32_t tcp_seq;           /* TCP sequence number, */
    uint32_t tcp_ack;           /* acknowledgement number, */
    uint32_t tcp_payload;       /* and payload bytes on the wire (0 if the
                                 * data offset is bad). */
    uint32_t frag_id;
    uint32_t frag_offset;
    uint32_t frag_len;          /* Fragment payload bytes (after IP hdrs). */
};

/* Parses 'pkt'.  Returns 0 if 'out' describes an IP packet (possibly a
 * fragment) or, otherwise, the counter that says why not: FS_CTR_NON_IP
 * or one of the FS_CTR_ERR_* counters.  'decode_tunnels' enables GTP-U,
 * TZSP and CAPWAP decapsulation (IP-in-IP is always decapsulated). */
int insp_parse(const struct fs_packet *pkt, int decode_tunnels,
               struct insp_parsed *out);

#endif /* INSP_PARSE_H */
