/*
 * IP fragment tracking: which flow a later fragment belongs to, and
 * whether fragments overlap.  Fragments are not reassembled: the first
 * fragment carries the L4 header, so it is judged (and seen by nDPI) with
 * its flow, and later fragments follow its flow's verdict.  A later
 * fragment whose first fragment was not seen cannot be judged: it is an
 * orphan.
 */
#ifndef INSP_FRAG_H
#define INSP_FRAG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "insp-parse.h"

struct insp_frags;

/* Creates a table that tracks up to 'n' datagrams at a time (rounded up),
 * hashing with 'seed'.  Returns NULL if out of memory. */
struct insp_frags *insp_frags_create(unsigned int n, uint32_t seed);

/* Frees 'frags'.  Accepts NULL. */
void insp_frags_destroy(struct insp_frags *frags);

/* Returns the bytes 'frags' holds. */
size_t insp_frags_memory(const struct insp_frags *frags);

/* Records fragment 'p' seen at 'now_ns'.  For a later fragment of a
 * datagram whose first fragment was seen, copies that fragment's ports
 * into p->key.  Sets p->frag_ports_known if p->key has the datagram's
 * ports (a first fragment, or a later one whose first was seen).
 *
 * Returns 0, or the counter of the exception: FS_CTR_ERR_FRAG_OVERLAP if
 * 'p' overlaps a fragment already seen, FS_CTR_ERR_FRAG_ORPHAN for a later
 * fragment with no first fragment, FS_CTR_ERR_FRAG_TABLE_FULL for a first
 * fragment that finds no room, or a fragment that would make its
 * datagram's list of ranges too long. */
int insp_frags_track(struct insp_frags *frags, struct insp_parsed *p,
                     uint64_t now_ns);

/* A datagram in flight of a flow, for migration (insp-record.h, type 7):
 * a flow that moves to another inspector between a datagram's first
 * fragment and its last takes it along, or the later fragments would be
 * orphans there. */
#define INSP_FRAG_MAX_RANGES 16

struct insp_frag_state {
    uint32_t id;                /* IP identification. */
    uint8_t reverse;            /* Sent the flow key's reverse way. */
    uint8_t n_ranges;
    uint32_t total_len;         /* 0 while its last fragment is unseen. */
    uint64_t age_ns;            /* Since its last fragment. */
    uint32_t ranges[INSP_FRAG_MAX_RANGES][2];   /* [start, end), sorted,
                                                 * disjoint. */
};

/* Stores into 'out' (of 'max') the datagrams in flight of the flow 'key'
 * (either direction) whose first fragment was seen, as of 'now_ns'.
 * Returns their number.  Fast when no datagram is in flight. */
int insp_frags_of_flow(const struct insp_frags *frags,
                       const struct fs_flow_key *key, uint64_t now_ns,
                       struct insp_frag_state *out, int max);

/* Says whether 's' is a datagram state insp_frags_of_flow() could make. */
bool insp_frag_state_valid(const struct insp_frag_state *s);

/* Adds datagram 's' of flow 'key', as of 'now_ns'.  Returns 0, or
 * FS_CTR_ERR_FRAG_TABLE_FULL if there is no room for it. */
int insp_frags_restore(struct insp_frags *frags,
                       const struct fs_flow_key *key,
                       const struct insp_frag_state *s, uint64_t now_ns);

#endif /* INSP_FRAG_H */
