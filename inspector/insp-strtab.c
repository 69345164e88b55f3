/* Interned strings.  See insp-strtab.h. */
#include <config.h>
#include "insp-strtab.h"

#include <stdlib.h>
#include <string.h>

struct insp_strtab_entry {
    uint32_t hash;
    uint32_t refs;
    uint32_t next;              /* Next id in the bucket, or free list. */
    char s[];
};

static uint32_t
str_hash(const char *s)
{
    uint32_t h = 2166136261u;   /* FNV-1a. */

    for (; *s; s++) {
        h = (h ^ (uint8_t) *s) * 16777619u;
    }
    return h;
}

void
insp_strtab_init(struct insp_strtab *t)
{
    memset(t, 0, sizeof *t);
}

void
insp_strtab_uninit(struct insp_strtab *t)
{
    uint32_t i;

    for (i = 1; i < t->n_ids; i++) {
        free(t->by_id[i]);
    }
    free(t->by_id);
    free(t->buckets);
    free(t->free_ids);
    memset(t, 0, sizeof *t);
}

/* Doubles the id space and the hash table.  Returns 0 or -1. */
static int
strtab_grow(struct insp_strtab *t)
{
    uint32_t old = t->n_ids;
    uint32_t n = old ? old * 2 : 64;
    struct insp_strtab_entry **by_id;
    uint32_t *buckets, *free_ids;
    uint32_t i;

    by_id = realloc(t->by_id, n * sizeof *by_id);
    if (!by_id) {
        return -1;
    }
    t->by_id = by_id;
    free_ids = realloc(t->free_ids, n * sizeof *free_ids);
    if (!free_ids) {
        return -1;
    }
    t->free_ids = free_ids;
    buckets = calloc(n, sizeof *buckets);
    if (!buckets) {
        return -1;
    }
    for (i = old; i < n; i++) {
        t->by_id[i] = NULL;
    }
    /* New ids go on the free stack, lowest on top; id 0 is never used. */
    for (i = n - 1; i >= (old ? old : 1); i--) {
        t->free_ids[t->n_free++] = i;
    }
    for (i = 1; i < old; i++) {
        struct insp_strtab_entry *e = t->by_id[i];

        if (e) {
            uint32_t b = e->hash & (n - 1);

            e->next = buckets[b];
            buckets[b] = i;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->memory += (size_t) (n - old) * (sizeof *by_id + sizeof *buckets
                                       + sizeof *free_ids);
    t->n_ids = n;
    return 0;
}

uint32_t
insp_strtab_ref(struct insp_strtab *t, const char *s)
{
    struct insp_strtab_entry *e;
    uint32_t hash, id;
    size_t len;

    if (!s || !*s) {
        return 0;
    }
    hash = str_hash(s);
    if (t->n_ids) {
        for (id = t->buckets[hash & (t->n_ids - 1)]; id; id = e->next) {
            e = t->by_id[id];
            if (e->hash == hash && !strcmp(e->s, s)) {
                e->refs++;
                return id;
            }
        }
    }
    if (2 * (t->count + 1) >= t->n_ids && strtab_grow(t)) {
        return 0;
    }
    len = strlen(s);
    e = malloc(sizeof *e + len + 1);
    if (!e) {
        return 0;
    }
    id = t->free_ids[--t->n_free];
    e->hash = hash;
    e->refs = 1;
    memcpy(e->s, s, len + 1);
    e->next = t->buckets[hash & (t->n_ids - 1)];
    t->buckets[hash & (t->n_ids - 1)] = id;
    t->by_id[id] = e;
    t->count++;
    t->memory += sizeof *e + len + 1;
    return id;
}

void
insp_strtab_unref(struct insp_strtab *t, uint32_t id)
{
    struct insp_strtab_entry *e;
    uint32_t *link;

    if (!id || id >= t->n_ids || !(e = t->by_id[id]) || --e->refs) {
        return;
    }
    for (link = &t->buckets[e->hash & (t->n_ids - 1)]; *link;
         link = &t->by_id[*link]->next) {
        if (*link == id) {
            *link = e->next;
            break;
        }
    }
    t->memory -= sizeof *e + strlen(e->s) + 1;
    free(e);
    t->by_id[id] = NULL;
    t->count--;
    t->free_ids[t->n_free++] = id;
}

const char *
insp_strtab_get(const struct insp_strtab *t, uint32_t id)
{
    return id && id < t->n_ids && t->by_id[id] ? t->by_id[id]->s : "";
}
