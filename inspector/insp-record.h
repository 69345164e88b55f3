/*
 * Flow records: a decided flow's state as bytes, and back.
 *
 * Version 1, all integers in network byte order:
 *
 *   offset  size  field
 *        0     2  magic 0x4672 ("Fr")
 *        2     1  version (1)
 *        3     1  flags: 1 pinned, 2 closed, 4 has JA3, 8 guessed,
 *                 16 inputs lost (only the verdict is known)
 *        4     2  length of the whole record
 *        6     1  classified (INSP_CLASSIFIED_*)
 *        7     1  syn_seen
 *        8     8  id (1 to 2**48 - 1)
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
 *      108     4  verdict actions (FS_ACT_*)
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
 * Decoding checks every length and value; it never reads past the bytes it
 * is given.
 */
#ifndef INSP_RECORD_H
#define INSP_RECORD_H 1

#include <stddef.h>
#include <stdint.h>
#include "flowsteer/inspector.h"

#define INSP_RECORD_FIXED 180

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
};

/* Writes 'r' into 'buf' of 'size' bytes.  Returns the record's length or
 * -ENOSPC.  Strings longer than a record holds are cut; bytes outside
 * 0x20-0x7e become '?'. */
int insp_record_encode(const struct insp_record *r, uint8_t *buf,
                       size_t size);

/* Decodes the 'len' bytes at 'buf' into '*r'.  Returns 0 or -EINVAL. */
int insp_record_decode(const uint8_t *buf, size_t len,
                       struct insp_record *r);

#endif /* INSP_RECORD_H */
