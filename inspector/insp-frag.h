/*
 * IP fragment tracking: which flow a non-first fragment belongs to, and
 * whether fragments overlap.  Fragments are not reassembled: nDPI sees the
 * first fragment, which carries the L4 header, and later fragments are
 * counted on the flow.
 */
#ifndef INSP_FRAG_H
#define INSP_FRAG_H 1

#include <stdint.h>
#include "insp-parse.h"

struct insp_frags;

/* Creates a table that tracks up to 'n' datagrams at a time (rounded up to
 * a power of 2).  Returns NULL if out of memory. */
struct insp_frags *insp_frags_create(unsigned int n);

/* Frees 'frags'.  Accepts NULL. */
void insp_frags_destroy(struct insp_frags *frags);

/* Records fragment 'p' seen at 'now_ns'.  For a non-first fragment of a
 * datagram whose first fragment was seen, copies that fragment's ports
 * into p->key.  Returns 0, or FS_CTR_ERR_FRAG_OVERLAP if 'p' overlaps a
 * fragment already seen, or FS_CTR_ERR_FRAG_ORPHAN for a non-first fragment
 * with no first fragment. */
int insp_frags_track(struct insp_frags *frags, struct insp_parsed *p,
                     uint64_t now_ns);

#endif /* INSP_FRAG_H */
