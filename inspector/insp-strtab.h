/*
 * Interned strings with reference counts, so that a decided flow keeps its
 * host name in 4 bytes and flows to one host share one copy.
 */
#ifndef INSP_STRTAB_H
#define INSP_STRTAB_H 1

#include <stddef.h>
#include <stdint.h>

struct insp_strtab_entry;

struct insp_strtab {
    struct insp_strtab_entry **by_id;   /* Index: id; [0] unused. */
    uint32_t *buckets;                  /* Hash (n_ids buckets): first id of
                                         * the chain. */
    uint32_t *free_ids;                 /* Stack of unused ids. */
    uint32_t n_free;
    uint32_t n_ids;                     /* Size of the id space. */
    uint32_t count;                     /* Strings held. */
    size_t memory;
};

void insp_strtab_init(struct insp_strtab *);
void insp_strtab_uninit(struct insp_strtab *);

/* Returns the id of a reference to string 's' (interning it if new), or 0
 * for an empty or NULL 's' or if out of memory.  Each returned nonzero id
 * must be released with insp_strtab_unref(). */
uint32_t insp_strtab_ref(struct insp_strtab *, const char *s);

/* Releases one reference to 'id'.  Accepts 0. */
void insp_strtab_unref(struct insp_strtab *, uint32_t id);

/* Returns the string for 'id', "" for 0.  Valid while 'id' is held. */
const char *insp_strtab_get(const struct insp_strtab *, uint32_t id);

#endif /* INSP_STRTAB_H */
