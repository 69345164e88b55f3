/*
 * Flow records: a flow's state as bytes, and back.
 *
 * Version 2 (version 1, the same without TLVs, is still read), all
 * integers in network byte order:
 *
 *   offset  size  field
 *        0     2  magic 0x4672 ("Fr")
 *        2     1  version (2)
 *        3     1  flags: 1 pinned, 2 closed, 4 has JA3, 8 guessed,
 *                 16 inputs lost (only the verdict is known)
 *        4     2  length of the whole record
 *        6     1  classified (INSP_CLASSIFIED_*)
 *        7     1  syn_seen
 *        8     8  id (1 to 2**48 - 1): the exporter's
 *       16    16  source address (IPv4-mapped for IPv4)
 *       32    16  destination address
 *       48     2  source port
 *       50     2  destination port
 *       52     2  VLAN
 *       54     1  IP protocol
 *       55     1  IP version (4 or 6)
 *       56     4  port
 *       60     4  peer port
 *       64     6  source MAC
 *       70     6  destination MAC
 *       76     2  app id
 *       78     2  master id
 *       80     2  category
 *       82     2  zero
 *       84     8  risks
 *       92    16  JA3 (zero without one)
 *      108     4  verdict actions (FS_ACT_*; zero while classifying)
 *      112     4  meter rate, kbps
 *      116     4  rule priority (signed)
 *      120    32  packets and bytes, each direction
 *      152     8  SYN sequence numbers, each direction
 *      160     8  age of the first packet, ns
 *      168     8  age of the last packet, ns
 *      176     1  mirror port length (M, < FS_PORT_NAME_MAX)
 *      177     1  host length (H)
 *      178     1  rule name length (R)
 *      179     1  zero
 *      180     M  mirror port, H host, R rule name: bytes 0x20 to 0x7e
 *
 * then, in version 2, TLVs to the end: type (2), length of the value (2),
 * value.  A reader skips types it does not know; each type appears at most
 * once.
 *
 *   type  value
 *      1  owner: port (4), then its name (0x20 to 0x7e, at most 255)
 *      2  policy digest (8)
 *      3  TCP: seq_known (1), flags seen each direction (2), zero (1),
 *         next sequence number each direction (8)
 *      4  classifying: state (1: 0 classifying, 1 decided), flags (1: 1
 *         payload cut at the exporter's bound), packets inspected (2).
 *         Only for a flow still in classification; then its verdict is
 *         zero unless decided
 *      5  payload: the packets nDPI was given, in order, each as age (8),
 *         the flow's packet count then (4), length L (2, 1 to 65535),
 *         L bytes from the IP header on.  Only with type 4.
 *      6  origin: the flow's id in the inspector it was first imported
 *         from (8)
 *      7  datagrams in flight (see insp-frag.h), at most
 *         INSP_RECORD_MAX_FRAGS, each as IP id (4), reverse (1), number
 *         of ranges N (1, 1 to 16), zero (2), total length (4, 0 if not
 *         known yet), age (8), N ranges of start (4) and end (4)
 *
 * Decoding checks every length and value; it never reads past the bytes it
 * is given.
 */
#ifndef INSP_RECORD_H
#define INSP_RECORD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowsteer/inspector.h"
#include "insp-frag.h"

#define INSP_RECORD_FIXED 180
#define INSP_RECORD_MAX_FRAGS 8

struct insp_record {
    uint64_t id;
    struct fs_flow_key key;
    uint32_t port, peer_port;
    uint8_t src_mac[6], dst_mac[6];
    uint8_t classified;
    uint8_t syn_seen;
    uint8_t pinned, closed, has_ja3, guessed, inputs_lost;
    uint16_t app_id, master_id, category;
    uint64_t risks;
    uint8_t ja3[16];
    struct fs_verdict verdict;
    int32_t rule_priority;
    uint64_t packets[2], bytes[2];
    uint32_t syn_seq[2];
    uint64_t first_age_ns, last_age_ns;
    char host[256];
    char rule[256];

    /* Version 2. */
    uint32_t owner;
    char owner_name[256];
    uint64_t origin_id;
    uint64_t policy_digest;
    uint8_t has_tcp;
    uint8_t seq_known;
    uint8_t tcp_flags[2];
    uint32_t next_seq[2];
    uint8_t classifying;        /* Type 4 present. */
    uint8_t cls_decided;
    uint8_t payload_cut;
    uint16_t packets_inspected;
    struct insp_frag_state frags[INSP_RECORD_MAX_FRAGS];
    uint8_t n_frags;
    const uint8_t *payload;     /* Type 5's value, or NULL: encoding reads
                                 * it, decoding points into the record. */
    size_t payload_len;
};

/* Writes 'r' into 'buf' of 'size' bytes.  Returns the record's length or
 * -ENOSPC.  Strings longer than a record holds are cut; bytes outside
 * 0x20-0x7e become '?'. */
int insp_record_encode(const struct insp_record *r, uint8_t *buf,
                       size_t size);

/* Decodes the 'len' bytes at 'buf' into '*r'.  Returns 0 or -EINVAL.
 * r->payload points into 'buf'. */
int insp_record_decode(const uint8_t *buf, size_t len,
                       struct insp_record *r);

/* A payload entry (type 5).  The payload of a record that decoded is well
 * formed: insp_payload_next() fails only at its end. */
struct insp_payload_entry {
    uint64_t age_ns;
    uint32_t n_packets;
    uint16_t len;
    const uint8_t *data;
};
#define INSP_PAYLOAD_ENTRY_HEAD 14

/* Reads the entry at '*off' of the 'len' bytes at 'p' into '*e' and moves
 * '*off' past it.  Returns false at the end or on a malformed entry. */
bool insp_payload_next(const uint8_t *p, size_t len, size_t *off,
                       struct insp_payload_entry *e);

/* Writes the head of a payload entry into 'head'. */
void insp_payload_put_head(uint8_t head[INSP_PAYLOAD_ENTRY_HEAD],
                           uint64_t age_ns, uint32_t n_packets,
                           uint16_t len);

#endif /* INSP_RECORD_H */
