/*
 * Matching helpers for the policy: nDPI risk names, ASCII case-insensitive
 * comparison, and globs.
 */
#ifndef INSP_MATCH_H
#define INSP_MATCH_H 1

#include <stdbool.h>
#include <stddef.h>

/* Returns 'c' in lower case if it is an ASCII capital, else 'c'. */
int insp_match_tolower(int c);

/* Returns true if the 'len' bytes at 'a' equal NUL-terminated 'b',
 * ignoring ASCII case. */
bool insp_match_caseeq_n(const char *a, size_t len, const char *b);

/* Like insp_match_caseeq_n() for NUL-terminated 'a'. */
bool insp_match_caseeq(const char *a, const char *b);

/* Returns the nDPI risk bit named by the 'len' bytes at 'name' (ignoring
 * case), or -1. */
int insp_risk_from_name_n(const char *name, size_t len);

/* Parses the glob element at 'p' (not '*', not the end of the lowercase,
 * NUL-terminated pattern) and checks it against lowercase character 'c'
 * (-1 for none).  Stores the element's length in '*len' and whether 'c'
 * matches in '*match'.  Returns NULL, or a message if the element is
 * invalid. */
const char *insp_match_glob_element(const char *p, int c, size_t *len,
                                    bool *match);

/* Returns true if 's' matches glob 'pat', ignoring ASCII case.  'pat' is
 * lowercase and valid (checked with insp_match_glob_element()).  A '*'
 * matches any string, dots included.  Needs no allocation and at most
 * strlen(pat) * strlen(s) steps. */
bool insp_match_glob(const char *pat, const char *s);

#endif /* INSP_MATCH_H */
