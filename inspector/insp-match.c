/*
 * Matching helpers for the policy: nDPI risk names, ASCII case-insensitive
 * comparison (whatever the locale), and globs.  See insp-match.h.
 */
#include "insp-match.h"

#include <string.h>

#include "flowsteer/inspector.h"
#include "insp-policy.h"

/* ---------------------------------------------------------------------- */
/* nDPI risks. */

/* nDPI 4.2 'ndpi_risk_enum', indexed by risk bit, as policy names: the enum
 * identifier without "NDPI_", lowercased.  Bit 0 (NDPI_NO_RISK) has no
 * name. */
static const char *const risk_names[] = {
    [1] = "url_possible_xss",
    [2] = "url_possible_sql_injection",
    [3] = "url_possible_rce_injection",
    [4] = "binary_application_transfer",
    [5] = "known_protocol_on_non_standard_port",
    [6] = "tls_selfsigned_certificate",
    [7] = "tls_obsolete_version",
    [8] = "tls_weak_cipher",
    [9] = "tls_certificate_expired",
    [10] = "tls_certificate_mismatch",
    [11] = "http_suspicious_user_agent",
    [12] = "http_numeric_ip_host",
    [13] = "http_suspicious_url",
    [14] = "http_suspicious_header",
    [15] = "tls_not_carrying_https",
    [16] = "suspicious_dga_domain",
    [17] = "malformed_packet",
    [18] = "ssh_obsolete_client_version_or_cipher",
    [19] = "ssh_obsolete_server_version_or_cipher",
    [20] = "smb_insecure_version",
    [21] = "tls_suspicious_esni_usage",
    [22] = "unsafe_protocol",
    [23] = "dns_suspicious_traffic",
    [24] = "tls_missing_sni",
    [25] = "http_suspicious_content",
    [26] = "risky_asn",
    [27] = "risky_domain",
    [28] = "malicious_ja3",
    [29] = "malicious_sha1_certificate",
    [30] = "desktop_or_file_sharing_session",
    [31] = "tls_uncommon_alpn",
    [32] = "tls_cert_validity_too_long",
    [33] = "tls_suspicious_extension",
    [34] = "tls_fatal_alert",
    [35] = "suspicious_entropy",
    [36] = "clear_text_credentials",
    [37] = "dns_large_packet",
    [38] = "dns_fragmented",
    [39] = "invalid_characters",
    [40] = "possible_exploit",
    [41] = "tls_certificate_about_to_expire",
};
#define N_RISKS (sizeof risk_names / sizeof risk_names[0])

FS_API const char *
fs_risk_name(unsigned int bit)
{
    return bit < N_RISKS ? risk_names[bit] : NULL;
}

int
insp_match_tolower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Returns true if the 'len' bytes at 'a' equal NUL-terminated 'b',
 * ignoring ASCII case (whatever the locale). */
bool
insp_match_caseeq_n(const char *a, size_t len, const char *b)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!b[i] || insp_match_tolower((unsigned char) a[i])
                     != insp_match_tolower((unsigned char) b[i])) {
            return false;
        }
    }
    return b[len] == '\0';
}

bool
insp_match_caseeq(const char *a, const char *b)
{
    return insp_match_caseeq_n(a, strlen(a), b);
}

int
insp_risk_from_name_n(const char *name, size_t len)
{
    size_t i;

    for (i = 1; i < N_RISKS; i++) {
        if (risk_names[i] && insp_match_caseeq_n(name, len, risk_names[i])) {
            return i;
        }
    }
    return -1;
}

int
insp_risk_from_name(const char *name)
{
    return name ? insp_risk_from_name_n(name, strlen(name)) : -1;
}

/* ---------------------------------------------------------------------- */
/* Globs. */

/* Parses the glob element at 'p' (not '*', not the end of the lowercase,
 * NUL-terminated pattern) and checks it against lowercase character 'c'
 * (-1 for none).  Stores the element's length in '*len' and whether 'c'
 * matches in '*match'.  Returns NULL, or a message if the element is
 * invalid. */
const char *
insp_match_glob_element(const char *p, int c, size_t *len, bool *match)
{
    const char *start = p;
    bool negate;

    *len = 1;
    *match = *p == '?' || (unsigned char) *p == c;
    if (*p == '\\') {
        *len = 2;
        *match = (unsigned char) p[1] == c;
        return p[1] ? NULL : "glob ends in '\\'";
    } else if (*p != '[') {
        return NULL;
    }

    p++;
    negate = *p == '!' || *p == '^';
    p += negate;
    *match = false;
    do {
        int lo, hi;

        if (!*p) {
            return "unterminated '[' in glob";
        }
        lo = hi = (unsigned char) *p++;
        if (*p == '-' && p[1] && p[1] != ']') {
            hi = (unsigned char) p[1];
            p += 2;
        }
        if (lo > hi) {
            return "bad range in glob";
        }
        *match |= c >= lo && c <= hi;
    } while (*p != ']');
    *match ^= negate;
    *len = p + 1 - start;
    return NULL;
}

/* Returns true if 's' matches glob 'pat', ignoring ASCII case.  'pat' is
 * lowercase and valid.  A '*' matches any string, dots included.  Needs
 * no allocation and at most strlen(pat) * strlen(s) steps. */
bool
insp_match_glob(const char *pat, const char *s)
{
    const char *star_pat = NULL, *star_s = NULL;

    for (;;) {
        bool match = false;
        size_t n;

        if (*pat == '*') {
            while (*pat == '*') {
                pat++;
            }
            if (!*pat) {
                return true;
            }
            star_pat = pat;
            star_s = s;
            continue;
        } else if (!*s) {
            return !*pat;
        } else if (*pat) {
            insp_match_glob_element(pat,
                                    insp_match_tolower((unsigned char) *s),
                                    &n, &match);
        }

        if (match) {
            pat += n;
            s++;
        } else if (star_pat) {
            pat = star_pat;
            s = ++star_s;
        } else {
            return false;
        }
    }
}
