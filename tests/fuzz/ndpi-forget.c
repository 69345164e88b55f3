/*
 * Empties what nDPI 4.2 remembers across flows, for the packet fuzz target:
 * its caches of hosts and ports seen in BitTorrent, Ookla, Zoom, STUN, TLS
 * (certificates), mining, Teams and tinc flows, by which it classifies
 * later flows of the same hosts.  nDPI has no call for it, and keeps its
 * detection module opaque unless built as itself (NDPI_LIB_COMPILATION,
 * which pulls in its own config header, hence no <config.h> here): this
 * file is test code, rebuilt against the installed headers of the library
 * it runs with.  nDPI creates each cache again when it needs one.
 */
#define NDPI_LIB_COMPILATION 1
#include <ndpi_api.h>

#include "ndpi-forget.h"

/* Exported by libndpi 4.2 (src/lib/third_party/src/libcache.c), declared
 * in no installed header. */
void cache_free(struct cache *);

void
fuzz_ndpi_forget(struct ndpi_detection_module_struct *mod)
{
    struct ndpi_lru_cache **caches[] = {
        &mod->ookla_cache, &mod->bittorrent_cache, &mod->zoom_cache,
        &mod->stun_cache, &mod->tls_cert_cache, &mod->mining_cache,
        &mod->msteams_cache,
    };
    size_t i;

    for (i = 0; i < sizeof caches / sizeof *caches; i++) {
        if (*caches[i]) {
            ndpi_lru_free_cache(*caches[i]);
            *caches[i] = NULL;
        }
    }
    if (mod->tinc_cache) {
        cache_free(mod->tinc_cache);
        mod->tinc_cache = NULL;
    }
}
