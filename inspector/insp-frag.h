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

#endif /* INSP_FRAG_H */
