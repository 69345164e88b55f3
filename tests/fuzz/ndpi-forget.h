/* See ndpi-forget.c. */
#ifndef NDPI_FORGET_H
#define NDPI_FORGET_H 1

struct ndpi_detection_module_struct;

/* Frees nDPI's caches across flows in 'mod' (nDPI makes them anew). */
void fuzz_ndpi_forget(struct ndpi_detection_module_struct *mod);

#endif /* NDPI_FORGET_H */
