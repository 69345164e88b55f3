/*
 * Policy: parse the flow-like policy text and judge flows against it.
 *
 * Parsing compiles each rule into a 'struct policy_rule' whose matchers
 * need no further parsing or allocation when judging: addresses become
 * address/mask pairs, port ranges min/max pairs, globs lowercased patterns
 * checked for syntax, risks bit masks.  All strings of a policy live in one
 * string pool owned by the policy.
 *
 * Errors are 0 or negative errno, as in the public API.
 */
#include "insp-policy.h"
#include "insp-match.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on what a policy may hold, so any input costs bounded memory. */
#define MAX_RULES 100000
#define MAX_LINE_LEN 65536      /* Bytes per line, excluding the newline. */
#define MAX_VALUE_LEN 255       /* Bytes per string value. */
#define MAX_NAME_LEN 255        /* Bytes of 'name' kept in rule names. */

#define DEFAULT_PRIORITY 32768

/* ---------------------------------------------------------------------- */
/* Compiled rules. */

/* Which matchers a rule uses ('struct policy_rule' member 'match'). */
enum {
    M_PROFILE = 1 << 0,
    M_PORT_NO = 1 << 1,
    M_PORT_NAME = 1 << 2,
    M_DL_SRC = 1 << 3,
    M_DL_DST = 1 << 4,
    M_DL_ANY = 1 << 5,
    M_IP_SRC = 1 << 6,
    M_IP_DST = 1 << 7,
    M_IP_ANY = 1 << 8,
    M_IP_VERSION = 1 << 9,
    M_NW_PROTO = 1 << 10,
    M_TP_SRC = 1 << 11,
    M_TP_DST = 1 << 12,
    M_TP_ANY = 1 << 13,
    M_DIRECTION = 1 << 14,
    /* DPI fields: need classification. */
    M_APP = 1 << 16,
    M_CATEGORY = 1 << 17,
    M_RISK = 1 << 18,
    M_HOST = 1 << 19,
    M_JA3 = 1 << 20,
};
#define M_DPI (M_APP | M_CATEGORY | M_RISK | M_HOST | M_JA3)
#define M_MACS (M_DL_SRC | M_DL_DST | M_DL_ANY)
#define M_TP (M_TP_SRC | M_TP_DST | M_TP_ANY)

struct mac_match {
    uint8_t mac[6];             /* Already masked. */
    uint8_t mask[6];
};

/* IPv4 addresses are stored IPv4-mapped, with a zero mask on the first 12
 * bytes; the rule's ip_version keeps them from matching IPv6 flows. */
struct ip_match {
    uint8_t addr[16];           /* Already masked. */
    uint8_t mask[16];
};

struct port_range {
    uint16_t min, max;
};

struct policy_rule {
    uint32_t match;             /* M_* bits. */
    int priority;
    uint8_t ip_version;         /* With M_IP_VERSION: 4 or 6. */
    uint8_t nw_proto;           /* With M_NW_PROTO. */
    uint8_t direction;          /* With M_DIRECTION: INSP_DIR_*. */
    uint32_t port_no;           /* With M_PORT_NO. */
    const char *port_name;      /* With M_PORT_NAME. */
    const char *profile;        /* With M_PROFILE. */
    struct mac_match dl_src, dl_dst, dl_any;
    struct ip_match ip_src, ip_dst, ip_any;
    struct port_range tp_src, tp_dst, tp_any;

    const char *app;            /* With M_APP. */
    const char *category;       /* With M_CATEGORY. */
    uint64_t risk;              /* With M_RISK: one bit. */
    const char *host_glob;      /* With M_HOST: lowercased, valid glob. */
    char ja3[33];               /* With M_JA3: lowercase hex. */

    struct fs_verdict verdict;
    int index;                  /* Index in file order. */
    const char *name;           /* "NAME:LINE". */
};

/* A chunk of the string pool. */
struct pool_chunk {
    struct pool_chunk *next;
    size_t used, size;
    char data[];
};

struct insp_policy {
    int8_t exceptions[FS_N_EXCEPTIONS];  /* 'exception=' lines: enum
                                          * fs_exception_action, or -1. */
    int8_t exception_all;       /* 'exception=*', or -1. */
    struct policy_rule *rules;  /* In judging order once parsed. */
    const char **names;         /* Rule names ("NAME:LINE") in file order. */
    size_t n_rules, allocated;
    int uses_macs;
    struct pool_chunk *pool;
};

/* Returns a copy of the 'len' bytes at 's', NUL-terminated, owned by
 * 'policy' (freed by insp_policy_destroy()), or NULL if out of memory. */
static char *
pool_strndup(struct insp_policy *policy, const char *s, size_t len)
{
    struct pool_chunk *chunk = policy->pool;
    char *copy;

    if (!chunk || chunk->size - chunk->used < len + 1) {
        size_t size = len + 1 > 16384 ? len + 1 : 16384;

        chunk = malloc(sizeof *chunk + size);
        if (!chunk) {
            return NULL;
        }
        chunk->used = 0;
        chunk->size = size;
        chunk->next = policy->pool;
        policy->pool = chunk;
    }
    copy = chunk->data + chunk->used;
    memcpy(copy, s, len);
    copy[len] = '\0';
    chunk->used += len + 1;
    return copy;
}

/* ---------------------------------------------------------------------- */
/* Parsing. */

struct parser {
    const char *name;           /* For messages and rule names. */
    size_t line_no;             /* 1-based. */
    const char *line;           /* Start of the current line. */
    char *err;
    size_t err_size;
    struct insp_policy *pol;    /* The policy being built. */

    /* The rule being parsed, and what its fields said so far, to detect
     * duplicates and conflicts. */
    struct policy_rule *rule;
    const char *slots[40];      /* Field name that filled each slot. */
    const char *version_by;     /* Field that set the IP version. */
    const char *proto_by;       /* Field that set the IP protocol. */
    const char *ports_by;       /* First tp_* field. */
};

/* Stores "NAME:LINE:COLUMN: message" in the parser's error buffer, with
 * the column of 'at' (a pointer into the current line).  Returns
 * -EINVAL. */
static int parse_error(struct parser *p, const char *at,
                       const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int
parse_error(struct parser *p, const char *at, const char *format, ...)
{
    va_list args;
    int n;

    if (!p->err || !p->err_size) {
        return -EINVAL;
    }
    n = snprintf(p->err, p->err_size, "%s:%zu:%zu: ", p->name, p->line_no,
                 (size_t) (at - p->line) + 1);
    if (n >= 0 && (size_t) n < p->err_size) {
        va_start(args, format);
        vsnprintf(p->err + n, p->err_size - n, format, args);
        va_end(args);
    }
    return -EINVAL;
}

/* Quotes the 'len' bytes at 's' for a message into 'buf' ('like this'),
 * shortening long text, if every byte is in 'allowed'; otherwise writes a
 * placeholder.  A policy may be pointed at any file (by mistake, or by
 * whoever can set the key): its messages must not copy out what is not
 * policy text.  Returns 'buf'. */
#define QUOTE_SIZE 64
static const char *
quote_if(const char *s, size_t len, const char *allowed,
         char buf[QUOTE_SIZE])
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (!s[i] || !strchr(allowed, s[i])) {
            snprintf(buf, QUOTE_SIZE, "(not shown: not a policy token)");
            return buf;
        }
    }
    buf[n++] = '\'';
    for (i = 0; i < len && n + 7 < QUOTE_SIZE; i++) {
        buf[n++] = s[i];
    }
    if (i < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz" \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
#define VALUE_CHARS (NAME_CHARS ".:*/+@=-")

/* Quotes a field, action or class name: letters, digits, '_'. */
static const char *
quote_name(const char *s, size_t len, char buf[QUOTE_SIZE])
{
    return quote_if(s, len, NAME_CHARS, buf);
}

/* Quotes a value: what addresses, host names, globs and numbers are made
 * of. */
static const char *
quote(const char *s, size_t len, char buf[QUOTE_SIZE])
{
    return quote_if(s, len, VALUE_CHARS, buf);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* A span of text in the current line. */
struct token {
    const char *s;
    size_t len;
};

/* Returns the token that starts at 's' and ends before a separator (',' or
 * white space) or 'end'. */
static struct token
token_at(const char *s, const char *end)
{
    struct token tok = { s, 0 };

    while (s + tok.len < end && s[tok.len] != ','
           && !is_space(s[tok.len])) {
        tok.len++;
    }
    return tok;
}

static const char *
skip_spaces(const char *s, const char *end)
{
    while (s < end && is_space(*s)) {
        s++;
    }
    return s;
}

/* Parses 'tok' as a decimal number no greater than 'max' into '*out'.
 * Returns true on success. */
static bool
parse_uint(struct token tok, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (!tok.len) {
        return false;
    }
    for (i = 0; i < tok.len; i++) {
        unsigned int d = (unsigned char) tok.s[i] - '0';

        if (d > 9 || d > max || v > (max - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Says whether 'tok' is nonempty and all decimal digits. */
static bool
is_number(struct token tok)
{
    size_t i;

    for (i = 0; i < tok.len; i++) {
        if (tok.s[i] < '0' || tok.s[i] > '9') {
            return false;
        }
    }
    return tok.len > 0;
}

static int
hex_digit(int c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

/* Fills 'mask' (of 'size' bytes) with a prefix mask 'plen' bits long. */
static void
prefix_mask(uint8_t *mask, size_t size, unsigned int plen)
{
    size_t i;

    for (i = 0; i < size; i++) {
        unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;

        mask[i] = bits >= 8 ? 0xff : (0xff00 >> bits) & 0xff;
    }
}

/* Copies 'tok' into 'buf' of 'size' bytes as a C string.  Returns false if
 * it does not fit. */
static bool
token_to_cstr(struct token tok, char *buf, size_t size)
{
    if (tok.len >= size) {
        return false;
    }
    memcpy(buf, tok.s, tok.len);
    buf[tok.len] = '\0';
    return true;
}

/* ---------------------------------------------------------------------- */
/* Field values. */

struct field;

/* Parses the value 'val' of field 'f' into 'p->rule'.  Returns 0, -EINVAL
 * (with the message from parse_error()) or -ENOMEM. */
typedef int field_parse_fn(struct parser *p, const struct field *f,
                           struct token val);

struct field {
    const char *name;
    field_parse_fn *parse;      /* NULL for a bare keyword. */
    int slot;                   /* Synonyms share a slot (duplicates). */
    uint32_t bit;               /* M_* that selects the matcher, or 0. */
    uint8_t ip_version;         /* Implied IP version, or 0. */
    int nw_proto;               /* Implied IP protocol, or -1. */
};

static bool
proto_has_ports(int proto)
{
    return proto == 6 || proto == 17 || proto == 132;
}

/* Applies IP version 'version' (0: none) and IP protocol 'proto' (-1:
 * none), implied by field 'f' at 'at', checking them against the rest of
 * the rule.  Returns 0 or -EINVAL. */
static int
apply_implied(struct parser *p, const struct field *f, const char *at,
              uint8_t version, int proto)
{
    struct policy_rule *rule = p->rule;

    if (version) {
        if ((rule->match & M_IP_VERSION) && rule->ip_version != version) {
            return parse_error(p, at, "'%s' conflicts with '%s'",
                               f->name, p->version_by);
        }
        rule->match |= M_IP_VERSION;
        rule->ip_version = version;
        p->version_by = f->name;
    }
    if (proto >= 0) {
        if ((rule->match & M_NW_PROTO) && rule->nw_proto != proto) {
            return parse_error(p, at, "'%s' conflicts with '%s'",
                               f->name, p->proto_by);
        } else if (p->ports_by && !proto_has_ports(proto)) {
            return parse_error(p, at, "'%s' conflicts with '%s' (only tcp, "
                               "udp and sctp have ports)",
                               f->name, p->ports_by);
        }
        rule->match |= M_NW_PROTO;
        rule->nw_proto = proto;
        p->proto_by = f->name;
    }
    return 0;
}

static int
parse_priority(struct parser *p, const struct field *f, struct token val)
{
    uint64_t v;

    if (!parse_uint(val, 65535, &v)) {
        return parse_error(p, val.s, "priority must be a number from 0 to "
                           "65535");
    }
    p->rule->priority = v;
    return 0;
}

/* Stores a copy of string value 'val', owned by the policy, in '*dst'. */
static int
parse_string(struct parser *p, struct token val, char **dst)
{
    if (val.len > MAX_VALUE_LEN) {
        return parse_error(p, val.s, "value too long (maximum %d bytes)",
                           MAX_VALUE_LEN);
    }
    *dst = pool_strndup(p->pol, val.s, val.len);
    return *dst ? 0 : -ENOMEM;
}

/* Parses a profile, port name, app or category. */
static int
parse_name(struct parser *p, const struct field *f, struct token val)
{
    struct policy_rule *rule = p->rule;
    uint32_t bit = f->bit;
    uint64_t port_no;
    char *s = NULL;
    int error;

    if (bit == M_PORT_NO && is_number(val)) {
        if (!parse_uint(val, UINT32_MAX, &port_no)) {
            return parse_error(p, val.s, "port number too large (maximum "
                               "%"PRIu32")", UINT32_MAX);
        }
        rule->port_no = port_no;
        rule->match |= M_PORT_NO;
        return 0;
    }

    bit = bit == M_PORT_NO ? M_PORT_NAME : bit;
    error = parse_string(p, val, &s);
    *(bit == M_PROFILE ? &rule->profile
      : bit == M_PORT_NAME ? &rule->port_name
      : bit == M_APP ? &rule->app
      : &rule->category) = s;
    rule->match |= bit;
    return error;
}

/* Parses "xx:xx:xx:xx:xx:xx" from 'tok' into 'mac'. */
static bool
parse_mac_addr(struct token tok, uint8_t mac[6])
{
    int i;

    if (tok.len != 17) {
        return false;
    }
    for (i = 0; i < 6; i++) {
        int hi = hex_digit((unsigned char) tok.s[i * 3]);
        int lo = hex_digit((unsigned char) tok.s[i * 3 + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && tok.s[i * 3 + 2] != ':')) {
            return false;
        }
        mac[i] = hi * 16 + lo;
    }
    return true;
}

/* Splits 'val' at its first 'sep' into '*a' and '*b'.  Returns true if
 * 'sep' was there; otherwise '*a' is all of 'val' and '*b' is empty. */
static bool
split(struct token val, char sep, struct token *a, struct token *b)
{
    const char *at = memchr(val.s, sep, val.len);

    a->s = val.s;
    a->len = at ? (size_t) (at - val.s) : val.len;
    b->s = at ? at + 1 : val.s + val.len;
    b->len = at ? val.len - a->len - 1 : 0;
    return at != NULL;
}

/* Parses "MAC" or "MAC/MASK". */
static int
parse_mac(struct parser *p, const struct field *f, struct token val)
{
    struct mac_match *m = (f->bit == M_DL_SRC ? &p->rule->dl_src
                           : f->bit == M_DL_DST ? &p->rule->dl_dst
                           : &p->rule->dl_any);
    struct token addr, mask;
    bool has_mask = split(val, '/', &addr, &mask);
    int i;

    if (!parse_mac_addr(addr, m->mac)) {
        return parse_error(p, val.s, "bad MAC address (expected "
                           "xx:xx:xx:xx:xx:xx)");
    }
    memset(m->mask, 0xff, sizeof m->mask);
    if (has_mask && !parse_mac_addr(mask, m->mask)) {
        return parse_error(p, mask.s, "bad MAC mask (expected "
                           "xx:xx:xx:xx:xx:xx)");
    }
    for (i = 0; i < 6; i++) {
        m->mac[i] &= m->mask[i];
    }
    p->rule->match |= f->bit;
    return 0;
}

/* Parses "ADDR" or "ADDR/LEN", or for IPv4 also "ADDR/MASK".  IPv4
 * addresses are stored IPv4-mapped, as flow keys hold them. */
static int
parse_ip(struct parser *p, const struct field *f, struct token val)
{
    struct ip_match *m = (f->bit == M_IP_SRC ? &p->rule->ip_src
                          : f->bit == M_IP_DST ? &p->rule->ip_dst
                          : &p->rule->ip_any);
    bool v4 = f->ip_version == 4;
    uint8_t *addr = v4 ? &m->addr[12] : m->addr;
    uint8_t *mask = v4 ? &m->mask[12] : m->mask;
    uint64_t plen = v4 ? 32 : 128;
    char buf[INET6_ADDRSTRLEN];
    struct token a, b;
    bool has_mask = split(val, '/', &a, &b);
    int i;

    memset(m, 0, sizeof *m);
    if (!token_to_cstr(a, buf, sizeof buf)
        || inet_pton(v4 ? AF_INET : AF_INET6, buf, addr) != 1) {
        return parse_error(p, val.s, "bad %s address%s",
                           v4 ? "IPv4" : "IPv6",
                           v4 && memchr(a.s, ':', a.len)
                           ? " (use ipv6_* for IPv6)" : "");
    }
    if (!has_mask || parse_uint(b, plen, &plen)) {
        prefix_mask(mask, v4 ? 4 : 16, plen);
    } else if (!v4 || !token_to_cstr(b, buf, sizeof buf)
               || inet_pton(AF_INET, buf, mask) != 1) {
        return parse_error(p, b.s, (v4 ? "bad IPv4 prefix length or mask"
                                    : "bad IPv6 prefix length (expected 0 "
                                    "to 128)"));
    }
    for (i = 0; i < 16; i++) {
        m->addr[i] &= m->mask[i];
    }
    p->rule->match |= f->bit;
    return apply_implied(p, f, val.s, f->ip_version, -1);
}

static int
parse_nw_proto(struct parser *p, const struct field *f, struct token val)
{
    uint64_t v;

    if (!parse_uint(val, 255, &v)) {
        return parse_error(p, val.s, "nw_proto must be a number from 0 to "
                           "255");
    }
    return apply_implied(p, f, val.s, 0, v);
}

/* Parses a port "N" or a range "N-M". */
static int
parse_tp(struct parser *p, const struct field *f, struct token val)
{
    struct policy_rule *rule = p->rule;
    struct port_range *r = (f->bit == M_TP_SRC ? &rule->tp_src
                            : f->bit == M_TP_DST ? &rule->tp_dst
                            : &rule->tp_any);
    struct token lo, hi;
    uint64_t min, max;

    if (!split(val, '-', &lo, &hi)) {
        hi = lo;
    }
    if (!parse_uint(lo, 65535, &min) || !parse_uint(hi, 65535, &max)) {
        return parse_error(p, val.s, "'%s' must be a port from 0 to 65535 "
                           "or a range N-M", f->name);
    } else if (min > max) {
        return parse_error(p, val.s, "empty port range");
    } else if ((rule->match & M_NW_PROTO)
               && !proto_has_ports(rule->nw_proto)) {
        return parse_error(p, val.s, "'%s' conflicts with '%s' (only tcp, "
                           "udp and sctp have ports)", f->name, p->proto_by);
    }
    p->ports_by = p->ports_by ? p->ports_by : f->name;
    r->min = min;
    r->max = max;
    rule->match |= f->bit;
    return 0;
}

static int
parse_risk(struct parser *p, const struct field *f, struct token val)
{
    int bit = insp_risk_from_name_n(val.s, val.len);
    char q[QUOTE_SIZE];

    if (bit < 0) {
        return parse_error(p, val.s, "unknown risk %s",
                           quote(val.s, val.len, q));
    }
    p->rule->risk = UINT64_C(1) << bit;
    p->rule->match |= M_RISK;
    return 0;
}

/* Parses a glob, stored lowercase. */
static int
parse_host(struct parser *p, const struct field *f, struct token val)
{
    const char *msg;
    size_t i, n;
    bool match;
    char *s = NULL;
    int error = parse_string(p, val, &s);

    if (error) {
        return error;
    }
    for (i = 0; i < val.len; i++) {
        s[i] = insp_match_tolower((unsigned char) s[i]);
    }
    for (i = 0; i < val.len; i += n) {
        n = 1;
        msg = (s[i] == '*'
               ? NULL
               : insp_match_glob_element(&s[i], -1, &n, &match));
        if (msg) {
            return parse_error(p, val.s + i, "%s", msg);
        }
    }
    p->rule->host_glob = s;
    p->rule->match |= M_HOST;
    return 0;
}

static int
parse_ja3(struct parser *p, const struct field *f, struct token val)
{
    size_t i;

    if (val.len != 32) {
        return parse_error(p, val.s, "ja3 must be 32 hex digits");
    }
    for (i = 0; i < 32; i++) {
        if (hex_digit((unsigned char) val.s[i]) < 0) {
            return parse_error(p, val.s + i, "ja3 must be 32 hex digits");
        }
        p->rule->ja3[i] = insp_match_tolower((unsigned char) val.s[i]);
    }
    p->rule->ja3[32] = '\0';
    p->rule->match |= M_JA3;
    return 0;
}

static int
parse_direction(struct parser *p, const struct field *f, struct token val)
{
    if (val.len == 2 && !memcmp(val.s, "in", 2)) {
        p->rule->direction = INSP_DIR_IN;
    } else if (val.len == 3 && !memcmp(val.s, "out", 3)) {
        p->rule->direction = INSP_DIR_OUT;
    } else {
        char q[QUOTE_SIZE];

        return parse_error(p, val.s, "bad direction %s (expected in or "
                           "out)", quote_name(val.s, val.len, q));
    }
    p->rule->match |= f->bit;
    return 0;
}

/* Fields.  'slot' is the index in this table, except for synonyms, which
 * use their canonical field's slot.  "actions" is parsed apart. */
static const struct field fields[] = {
    { "priority", parse_priority, 0, 0, 0, -1 },
    { "profile", parse_name, 1, M_PROFILE, 0, -1 },
    { "in_port", parse_name, 2, M_PORT_NO, 0, -1 },
    { "port", parse_name, 2, M_PORT_NO, 0, -1 },
    { "dl_src", parse_mac, 4, M_DL_SRC, 0, -1 },
    { "dl_dst", parse_mac, 5, M_DL_DST, 0, -1 },
    { "mac", parse_mac, 6, M_DL_ANY, 0, -1 },
    { "nw_src", parse_ip, 7, M_IP_SRC, 4, -1 },
    { "nw_dst", parse_ip, 8, M_IP_DST, 4, -1 },
    { "nw_addr", parse_ip, 9, M_IP_ANY, 4, -1 },
    { "ipv6_src", parse_ip, 10, M_IP_SRC, 6, -1 },
    { "ipv6_dst", parse_ip, 11, M_IP_DST, 6, -1 },
    { "ipv6_addr", parse_ip, 12, M_IP_ANY, 6, -1 },
    { "ip", NULL, 13, 0, 4, -1 },
    { "ipv6", NULL, 14, 0, 6, -1 },
    { "tcp", NULL, 15, 0, 4, 6 },
    { "udp", NULL, 16, 0, 4, 17 },
    { "icmp", NULL, 17, 0, 4, 1 },
    { "sctp", NULL, 18, 0, 4, 132 },
    { "tcp6", NULL, 19, 0, 6, 6 },
    { "udp6", NULL, 20, 0, 6, 17 },
    { "icmp6", NULL, 21, 0, 6, 58 },
    { "sctp6", NULL, 22, 0, 6, 132 },
    { "nw_proto", parse_nw_proto, 23, 0, 0, -1 },
    { "tp_src", parse_tp, 24, M_TP_SRC, 0, -1 },
    { "tp_dst", parse_tp, 25, M_TP_DST, 0, -1 },
    { "tp_port", parse_tp, 26, M_TP_ANY, 0, -1 },
    { "app", parse_name, 27, M_APP, 0, -1 },
    { "category", parse_name, 28, M_CATEGORY, 0, -1 },
    { "risk", parse_risk, 29, 0, 0, -1 },
    { "host", parse_host, 30, 0, 0, -1 },
    { "sni", parse_host, 30, 0, 0, -1 },
    { "ja3", parse_ja3, 32, 0, 0, -1 },
    { "direction", parse_direction, 34, M_DIRECTION, 0, -1 },
    { "actions", NULL, 33, 0, 0, -1 },
};
#define N_FIELDS (sizeof fields / sizeof fields[0])
#define ACTIONS_FIELD (&fields[N_FIELDS - 1])

/* ---------------------------------------------------------------------- */
/* Actions. */

/* Parses meter rate 'arg' ("1000", "10mbps") into '*kbps'.  Returns true
 * on success. */
static bool
parse_meter_rate(struct token arg, uint32_t *kbps)
{
    static const struct {
        const char *suffix;
        uint32_t scale;
    } units[] = {
        { "kbps", 1 }, { "mbps", 1000 }, { "gbps", 1000000 },
    };
    struct token num = arg;
    uint32_t scale = 1;
    uint64_t v;
    size_t i;

    while (num.len && (num.s[num.len - 1] < '0'
                       || num.s[num.len - 1] > '9')) {
        num.len--;
    }
    if (num.len != arg.len) {
        for (i = 0; ; i++) {
            if (i == sizeof units / sizeof units[0]) {
                return false;
            } else if (insp_match_caseeq_n(num.s + num.len, arg.len - num.len,
                                      units[i].suffix)) {
                scale = units[i].scale;
                break;
            }
        }
    }
    if (!parse_uint(num, UINT32_MAX / scale, &v) || !v) {
        return false;
    }
    *kbps = v * scale;
    return true;
}

static const struct action {
    const char *name;
    uint32_t bit;
    const char *arg;            /* Argument's name, or NULL for none. */
} actions[] = {
    { "allow", FS_ACT_ALLOW, NULL },
    { "drop", FS_ACT_DROP, NULL },
    { "mirror", FS_ACT_MIRROR, "PORT" },
    { "meter", FS_ACT_METER, "KBPS" },
    { "label", FS_ACT_LABEL, NULL },
    { "log", FS_ACT_LOG, NULL },
};

/* Parses one action 'act' into 'verdict', which holds the actions seen so
 * far.  Returns 0 or -EINVAL. */
static int
parse_action(struct parser *p, struct token act, struct fs_verdict *verdict)
{
    struct token name, arg;
    bool has_arg = split(act, ':', &name, &arg);
    const struct action *a;
    char q[QUOTE_SIZE];

    for (a = actions; ; a++) {
        if (a == &actions[sizeof actions / sizeof actions[0]]) {
            return parse_error(p, act.s, "unknown action %s",
                               quote_name(act.s, act.len, q));
        } else if (strlen(a->name) == name.len
                   && !memcmp(a->name, name.s, name.len)) {
            break;
        }
    }
    if (verdict->actions & a->bit) {
        return parse_error(p, act.s, "duplicate action '%s'", a->name);
    } else if (a->arg && !arg.len) {
        return parse_error(p, act.s, "'%s' needs an argument (%s:%s)",
                           a->name, a->name, a->arg);
    } else if (!a->arg && has_arg) {
        return parse_error(p, arg.s - 1, "'%s' takes no argument",
                           a->name);
    }

    if (a->bit == FS_ACT_MIRROR) {
        if (arg.len >= FS_PORT_NAME_MAX) {
            return parse_error(p, arg.s, "mirror port name too long "
                               "(maximum %d bytes)", FS_PORT_NAME_MAX - 1);
        }
        memcpy(verdict->mirror_port, arg.s, arg.len);
        verdict->mirror_port[arg.len] = '\0';
    } else if (a->bit == FS_ACT_METER
               && !parse_meter_rate(arg, &verdict->meter_kbps)) {
        return parse_error(p, arg.s, "bad meter rate %s (expected a "
                           "number > 0 with optional unit kbps, mbps or "
                           "gbps, at most %"PRIu32" kbps)",
                           quote(arg.s, arg.len, q), UINT32_MAX);
    }
    verdict->actions |= a->bit;
    return 0;
}

/* Parses the actions list from 's' to 'end' (the rest of the rule) into
 * 'verdict'.  Returns 0 or -EINVAL. */
static int
parse_actions(struct parser *p, const char *s, const char *end,
              struct fs_verdict *verdict)
{
    const uint32_t allowing = (FS_ACT_ALLOW | FS_ACT_MIRROR | FS_ACT_METER
                               | FS_ACT_LABEL);
    const char *start = s;

    memset(verdict, 0, sizeof *verdict);
    for (;;) {
        struct token act = token_at(skip_spaces(s, end), end);
        int error;

        if (!act.len) {
            return parse_error(p, act.s, (act.s < end && *act.s == ','
                                          ? "empty action"
                                          : "missing action"));
        }
        error = parse_action(p, act, verdict);
        if (error) {
            return error;
        }
        s = skip_spaces(act.s + act.len, end);
        if (s >= end) {
            break;
        } else if (*s != ',') {
            return parse_error(p, s, "expected ',' between actions");
        }
        s++;
    }
    if ((verdict->actions & FS_ACT_DROP) && (verdict->actions & allowing)) {
        return parse_error(p, start, "'drop' cannot be combined with "
                           "allow, mirror, meter or label");
    }
    if (!(verdict->actions & FS_ACT_DROP)) {
        verdict->actions |= FS_ACT_ALLOW;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Rules and lines. */

/* Parses field 'f', whose name ends just before 's', into 'p->rule'.
 * Stores in '*endp' where the field ends.  Returns 0, -EINVAL or
 * -ENOMEM. */
static int
parse_field(struct parser *p, const struct field *f, const char *key,
            const char *s, const char *end, const char **endp)
{
    struct token val;
    char q[QUOTE_SIZE];

    *endp = s;
    if (s >= end || *s != '=') {
        if (f->parse) {
            return parse_error(p, key, "'%s' needs a value (%s=...)",
                               f->name, f->name);
        }
        return apply_implied(p, f, key, f->ip_version, f->nw_proto);
    } else if (!f->parse) {
        return parse_error(p, s, "'%s' takes no value", f->name);
    }

    val = token_at(s + 1, end);
    *endp = val.s + val.len;
    if (!val.len) {
        return parse_error(p, val.s, "missing value for '%s'", f->name);
    } else if (memchr(val.s, '=', val.len)) {
        return parse_error(p, val.s, "bad value %s for '%s' (missing "
                           "',' before the next field?)",
                           quote(val.s, val.len, q), f->name);
    }
    return f->parse(p, f, val);
}

/* Looks up the field named 'key' at the start of a field and checks that
 * the rule has no such field yet.  Returns it, or NULL after
 * parse_error(). */
static const struct field *
start_field(struct parser *p, struct token key, const char *end)
{
    const struct field *f;
    char q[QUOTE_SIZE];
    size_t i;

    if (!key.len) {
        parse_error(p, key.s, (key.s >= end ? "missing 'actions='"
                               : *key.s == '=' ? "missing field name before "
                               "'='" : "empty field"));
        return NULL;
    }
    for (i = 0, f = NULL; i < N_FIELDS && !f; i++) {
        if (strlen(fields[i].name) == key.len
            && !memcmp(fields[i].name, key.s, key.len)) {
            f = &fields[i];
        }
    }
    if (!f) {
        parse_error(p, key.s, "unknown field %s",
                    quote_name(key.s, key.len, q));
    } else if (p->slots[f->slot] && !strcmp(p->slots[f->slot], f->name)) {
        parse_error(p, key.s, "duplicate field '%s'", f->name);
        f = NULL;
    } else if (p->slots[f->slot]) {
        parse_error(p, key.s, "duplicate field '%s' (same as '%s')",
                    f->name, p->slots[f->slot]);
        f = NULL;
    } else {
        p->slots[f->slot] = f->name;
    }
    return f;
}

/* Parses the rule from 's' to 'end' (a nonblank line without its comment)
 * into 'p->rule'.  Returns 0, -EINVAL or -ENOMEM. */
static int
parse_rule(struct parser *p, const char *s, const char *end)
{
    char q[QUOTE_SIZE];

    memset(p->rule, 0, sizeof *p->rule);
    memset(p->slots, 0, sizeof p->slots);
    p->version_by = p->proto_by = p->ports_by = NULL;
    p->rule->priority = DEFAULT_PRIORITY;

    for (;;) {
        struct token key = token_at(skip_spaces(s, end), end);
        const char *eq = memchr(key.s, '=', key.len);
        const struct field *f;
        int error;

        key.len = eq ? (size_t) (eq - key.s) : key.len;
        f = start_field(p, key, end);
        if (!f) {
            return -EINVAL;
        }
        s = key.s + key.len;
        if (f == ACTIONS_FIELD) {
            if (s >= end || *s != '=') {
                return parse_error(p, key.s, "'actions' needs a value "
                                   "(actions=...)");
            }
            return parse_actions(p, s + 1, end, &p->rule->verdict);
        }
        error = parse_field(p, f, key.s, s, end, &s);
        if (error) {
            return error;
        }

        s = skip_spaces(s, end);
        if (s >= end) {
            return parse_error(p, s, "missing 'actions=' (it must be the "
                               "last field)");
        } else if (*s != ',') {
            struct token next = token_at(s, end);

            return parse_error(p, s, "expected ',' before %s",
                               quote(next.s, next.len, q));
        }
        s++;
    }
}

/* Returns the first byte from 's' to 'end' that may not appear in a rule,
 * or NULL. */
static const char *
find_bad_char(const char *s, const char *end)
{
    for (; s < end; s++) {
        unsigned char c = *s;

        if ((c < 0x20 && !is_space(c)) || c == 0x7f) {
            return s;
        }
    }
    return NULL;
}

/* Returns a new rule slot at the end of 'pol->rules', or NULL if out of
 * memory. */
static struct policy_rule *
add_rule(struct insp_policy *pol)
{
    if (pol->n_rules >= pol->allocated) {
        size_t n = pol->allocated ? pol->allocated * 2 : 16;
        struct policy_rule *rules;

        n = n > MAX_RULES ? MAX_RULES : n;
        rules = realloc(pol->rules, n * sizeof *rules);
        if (!rules) {
            return NULL;
        }
        pol->rules = rules;
        pol->allocated = n;
    }
    return &pol->rules[pol->n_rules];
}

/* Parses an exception line, "exception=CLASS, actions=ACTION", from 's'
 * to 'end', where 's' is the start of "exception".  CLASS is an exception
 * class (fs_exception_name()) or '*' for every class that no line of its
 * own names; ACTION is drop, alert or allow.  Returns 0 or -EINVAL. */
static int
parse_exception_line(struct parser *p, const char *s, const char *end)
{
    struct token tok = token_at(s, end), key, cls, act;
    struct insp_policy *pol = p->pol;
    char q[QUOTE_SIZE], name[32];
    int8_t *slot;
    int e, a;

    split(tok, '=', &key, &cls);
    if (!cls.len) {
        return parse_error(p, key.s + key.len, "'exception' needs a class "
                           "(exception=CLASS)");
    }
    if (cls.len == 1 && cls.s[0] == '*') {
        slot = &pol->exception_all;
    } else {
        e = (token_to_cstr(cls, name, sizeof name)
             ? fs_exception_from_name(name) : -1);
        if (e < 0) {
            return parse_error(p, cls.s, "unknown exception class %s",
                               quote_name(cls.s, cls.len, q));
        }
        slot = &pol->exceptions[e];
    }
    if (*slot >= 0) {
        return parse_error(p, cls.s, "duplicate exception line for %s",
                           quote_name(cls.s, cls.len, q));
    }

    s = skip_spaces(tok.s + tok.len, end);
    if (s >= end || *s != ',') {
        return parse_error(p, s, "expected ', actions=' after the "
                           "exception class");
    }
    tok = token_at(skip_spaces(s + 1, end), end);
    split(tok, '=', &key, &act);
    if (key.len != 7 || memcmp(key.s, "actions", 7)) {
        return parse_error(p, tok.s, "an exception line has only "
                           "'exception=' and 'actions='");
    }
    a = (token_to_cstr(act, name, sizeof name)
         ? fs_exception_action_from_name(name) : -1);
    if (a < 0) {
        return parse_error(p, act.s, "bad exception action %s (expected "
                           "drop, alert or allow)",
                           quote_name(act.s, act.len, q));
    }
    s = skip_spaces(tok.s + tok.len, end);
    if (s < end) {
        return parse_error(p, s, "unexpected text after the exception "
                           "action");
    }
    *slot = a;
    return 0;
}

/* Says whether the line from 's' to 'end' (no leading space) starts with
 * the field name 'exception'. */
static bool
is_exception_line(const char *s, const char *end)
{
    struct token tok = token_at(s, end);
    const char *eq = memchr(tok.s, '=', tok.len);
    size_t len = eq ? (size_t) (eq - tok.s) : tok.len;

    return len == 9 && !memcmp(s, "exception", 9);
}

/* Parses the line from 'line' to 'end' (without the newline).  Returns 0,
 * -EINVAL or -ENOMEM. */
static int
parse_line(struct parser *p, const char *line, const char *end)
{
    const char *hash = memchr(line, '#', end - line);
    char name[MAX_NAME_LEN + 32];
    const char *s, *bad;
    int error;

    p->line = line;
    end = hash ? hash : end;
    bad = find_bad_char(line, end);
    if (bad) {
        return parse_error(p, bad, "invalid character \\x%02x",
                           (unsigned char) *bad);
    }
    s = skip_spaces(line, end);
    while (end > s && is_space(end[-1])) {
        end--;
    }
    if (s == end) {
        return 0;
    } else if (is_exception_line(s, end)) {
        return parse_exception_line(p, s, end);
    } else if (p->pol->n_rules >= MAX_RULES) {
        return parse_error(p, s, "too many rules (maximum %d)", MAX_RULES);
    }

    p->rule = add_rule(p->pol);
    if (!p->rule) {
        return -ENOMEM;
    }
    error = parse_rule(p, s, end);
    if (error) {
        return error;
    }
    snprintf(name, sizeof name, "%s:%zu", p->name, p->line_no);
    p->rule->name = pool_strndup(p->pol, name, strlen(name));
    p->rule->index = p->pol->n_rules++;
    return p->rule->name ? 0 : -ENOMEM;
}

/* Orders rules by priority, highest first, then in file order. */
static int
compare_rules(const void *a_, const void *b_)
{
    const struct policy_rule *a = a_, *b = b_;

    return (a->priority != b->priority ? b->priority - a->priority
            : a->index - b->index);
}

/* Names the rules of 'pol' and sorts them into judging order.  Returns 0
 * or -ENOMEM. */
static int
finish_policy(struct insp_policy *pol)
{
    size_t i;

    pol->names = malloc((pol->n_rules + 1) * sizeof *pol->names);
    if (!pol->names) {
        return -ENOMEM;
    }
    for (i = 0; i < pol->n_rules; i++) {
        pol->names[i] = pol->rules[i].name;
        pol->uses_macs |= (pol->rules[i].match & M_MACS) != 0;
    }
    if (pol->n_rules) {
        qsort(pol->rules, pol->n_rules, sizeof *pol->rules, compare_rules);
    }
    return 0;
}

/* Stores in 'buf' the form of 'name' used in messages and rule names: at
 * most MAX_NAME_LEN bytes, keeping the end of a long name (a path's file
 * name).  Returns 'buf'. */
static const char *
short_name(const char *name, char buf[MAX_NAME_LEN + 1])
{
    size_t len = strlen(name);

    if (len <= MAX_NAME_LEN) {
        return name;
    }
    snprintf(buf, MAX_NAME_LEN + 1, "...%s", name + len - (MAX_NAME_LEN - 3));
    return buf;
}

int
insp_policy_parse(const char *name, const char *text,
                  struct insp_policy **out, char *err, size_t err_size)
{
    char name_buf[MAX_NAME_LEN + 1];
    struct parser p = {
        .name = short_name(name ? name : "policy", name_buf),
        .err = err,
        .err_size = err_size,
    };
    const char *s = text;
    int error = 0;

    if (err && err_size) {
        err[0] = '\0';
    }
    if (!out || !text) {
        return -EINVAL;
    }
    *out = NULL;
    p.pol = calloc(1, sizeof *p.pol);
    if (!p.pol) {
        return -ENOMEM;
    }
    memset(p.pol->exceptions, -1, sizeof p.pol->exceptions);
    p.pol->exception_all = -1;

    for (p.line_no = 1; *s && !error; p.line_no++) {
        size_t len = strcspn(s, "\n");

        p.line = s;
        error = (len > MAX_LINE_LEN
                 ? parse_error(&p, s + MAX_LINE_LEN, "line too long "
                               "(maximum %d bytes)", MAX_LINE_LEN)
                 : parse_line(&p, s, s + len));
        s += len + (s[len] == '\n');
    }
    if (!error) {
        error = finish_policy(p.pol);
    }
    if (error) {
        if (error == -ENOMEM && err && err_size) {
            snprintf(err, err_size, "%s: out of memory", p.name);
        }
        insp_policy_destroy(p.pol);
        return error;
    }
    *out = p.pol;
    return 0;
}

void
insp_policy_destroy(struct insp_policy *policy)
{
    if (policy) {
        struct pool_chunk *chunk, *next;

        for (chunk = policy->pool; chunk; chunk = next) {
            next = chunk->next;
            free(chunk);
        }
        free(policy->rules);
        free(policy->names);
        free(policy);
    }
}

size_t
insp_policy_n_rules(const struct insp_policy *policy)
{
    return policy ? policy->n_rules : 0;
}

/* Returns "unknown" for an index that is none of -1, INSP_RULE_KEPT or a
 * rule's. */
const char *
insp_policy_rule_name(const struct insp_policy *policy, int index)
{
    if (index == -1) {
        return "default";
    } else if (index == INSP_RULE_KEPT) {
        return "previous-policy";
    } else if (index == INSP_RULE_IMPORTED) {
        return "imported";
    } else if (!policy || index < 0 || (size_t) index >= policy->n_rules) {
        return "unknown";
    }
    return policy->names[index];
}

int
insp_policy_exception(const struct insp_policy *policy,
                      enum fs_exception exception)
{
    if (!policy || (unsigned int) exception >= FS_N_EXCEPTIONS) {
        return -1;
    }
    return (policy->exceptions[exception] >= 0
            ? policy->exceptions[exception] : policy->exception_all);
}

int
insp_policy_uses_macs(const struct insp_policy *policy)
{
    return policy ? policy->uses_macs : 0;
}

/* ---------------------------------------------------------------------- */
/* Judging. */

/* Returns true if the 'n' bytes at 'x' (false if NULL), masked with
 * 'mask', equal 'value'. */
static bool
masked_eq(const uint8_t *x, const uint8_t *value, const uint8_t *mask,
          size_t n)
{
    size_t i;

    for (i = 0; x && i < n; i++) {
        if ((x[i] & mask[i]) != value[i]) {
            return false;
        }
    }
    return x != NULL;
}

static bool
mac_matches(const struct mac_match *m, const uint8_t *mac)
{
    return masked_eq(mac, m->mac, m->mask, 6);
}

static bool
ip_matches(const struct ip_match *m, const uint8_t ip[16])
{
    return masked_eq(ip, m->addr, m->mask, 16);
}

static bool
in_range(const struct port_range *r, uint16_t port)
{
    return port >= r->min && port <= r->max;
}

/* Returns true if the L2 fields and the port and profile of 'r' match
 * 'flow'. */
static bool
rule_matches_port_l2(const struct policy_rule *r,
                     const struct insp_policy_flow *flow)
{
    uint32_t m = r->match;

    return (!(m & M_DIRECTION) || flow->direction == r->direction)
        && (!(m & M_PROFILE)
            || (flow->profile && !strcmp(flow->profile, r->profile)))
        && (!(m & M_PORT_NO) || flow->port == r->port_no)
        && (!(m & M_PORT_NAME)
            || (flow->port_name && !strcmp(flow->port_name, r->port_name)))
        && (!(m & M_DL_SRC) || mac_matches(&r->dl_src, flow->src_mac))
        && (!(m & M_DL_DST) || mac_matches(&r->dl_dst, flow->dst_mac))
        && (!(m & M_DL_ANY) || mac_matches(&r->dl_any, flow->src_mac)
            || mac_matches(&r->dl_any, flow->dst_mac));
}

/* Returns true if the L3 and L4 fields of 'r' match 'key'. */
static bool
rule_matches_l3_l4(const struct policy_rule *r, const struct fs_flow_key *k)
{
    uint32_t m = r->match;

    if (!(m & (M_IP_VERSION | M_NW_PROTO | M_TP))) {
        return true;
    }
    return (!(m & M_IP_VERSION) || k->ip_version == r->ip_version)
        && (!(m & M_NW_PROTO) || k->l4_proto == r->nw_proto)
        && (!(m & M_IP_SRC) || ip_matches(&r->ip_src, k->src_ip))
        && (!(m & M_IP_DST) || ip_matches(&r->ip_dst, k->dst_ip))
        && (!(m & M_IP_ANY) || ip_matches(&r->ip_any, k->src_ip)
            || ip_matches(&r->ip_any, k->dst_ip))
        && (!(m & M_TP) || proto_has_ports(k->l4_proto))
        && (!(m & M_TP_SRC) || in_range(&r->tp_src, k->src_port))
        && (!(m & M_TP_DST) || in_range(&r->tp_dst, k->dst_port))
        && (!(m & M_TP_ANY) || in_range(&r->tp_any, k->src_port)
            || in_range(&r->tp_any, k->dst_port));
}

/* Returns true if the fields of 'r' that need no DPI match 'flow'. */
static bool
rule_matches_l2_l4(const struct policy_rule *r,
                   const struct insp_policy_flow *flow)
{
    if (!(r->match & ~M_DPI)) {
        return true;
    } else if (!rule_matches_port_l2(r, flow)) {
        return false;
    } else if (!flow->key) {
        return !(r->match & (M_IP_VERSION | M_NW_PROTO | M_TP));
    }
    return rule_matches_l3_l4(r, flow->key);
}

static const char *
str_or_empty(const char *s)
{
    return s ? s : "";
}

/* Returns true if the DPI fields of 'r' match classified 'flow', taking
 * those in 'unknown' (M_*) as matching. */
static bool
rule_matches_dpi__(const struct policy_rule *r,
                   const struct insp_policy_flow *flow, uint32_t unknown)
{
    uint32_t m = r->match & ~unknown;

    return (!(m & M_APP)
            || insp_match_caseeq(str_or_empty(flow->app), r->app)
            || insp_match_caseeq(str_or_empty(flow->master_name), r->app)
            || insp_match_caseeq(str_or_empty(flow->app_name), r->app))
        && (!(m & M_CATEGORY)
            || insp_match_caseeq(str_or_empty(flow->category), r->category))
        && (!(m & M_RISK) || (flow->risks & r->risk))
        && (!(m & M_HOST)
            || insp_match_glob(r->host_glob, str_or_empty(flow->host)))
        && (!(m & M_JA3)
            || insp_match_caseeq(str_or_empty(flow->ja3), r->ja3));
}

static bool
rule_matches_dpi(const struct policy_rule *r,
                 const struct insp_policy_flow *flow)
{
    return rule_matches_dpi__(r, flow, 0);
}

/* Returns true if 'r', which does not match 'flow' in classification, may
 * match it once classification is over: on the fields that may still come
 * (risks, and a host name or JA3 it does not have yet). */
static bool
may_match_later(const struct policy_rule *r,
                const struct insp_policy_flow *flow)
{
    uint32_t later = (M_RISK
                      | (*str_or_empty(flow->host) ? 0 : M_HOST)
                      | (*str_or_empty(flow->ja3) ? 0 : M_JA3));

    return (r->match & later) && rule_matches_dpi__(r, flow, later);
}

/* On -EAGAIN, '*decision' is undecided: actions 0, rule_index and priority
 * -1, needs_dpi 1.  Returns -EINVAL if 'flow' or 'decision' is NULL. */
int
insp_policy_judge(const struct insp_policy *policy,
                  const struct insp_policy_flow *flow,
                  struct insp_policy_decision *decision)
{
    size_t i, n = policy ? policy->n_rules : 0;

    if (!flow || !decision) {
        return -EINVAL;
    }
    memset(decision, 0, sizeof *decision);
    decision->rule_index = -1;
    decision->priority = -1;
    for (i = 0; i < n; i++) {
        const struct policy_rule *r = &policy->rules[i];

        if (!rule_matches_l2_l4(r, flow)) {
            continue;
        } else if (r->match & M_DPI) {
            if (flow->classified == INSP_CLASSIFIED_NONE
                || (flow->classified == INSP_CLASSIFIED_DETECTED
                    && !rule_matches_dpi(r, flow)
                    && may_match_later(r, flow))) {
                decision->needs_dpi = 1;
                return -EAGAIN;
            } else if (!rule_matches_dpi(r, flow)) {
                continue;
            }
        }
        decision->verdict = r->verdict;
        decision->rule_index = r->index;
        decision->priority = r->priority;
        decision->needs_dpi = (r->match & M_DPI) != 0;
        return 0;
    }
    /* A policy that no rule of matches has no opinion it can be trusted
     * with: fail closed.  Without a policy nothing is enforced. */
    decision->verdict.actions = policy ? FS_ACT_DROP : FS_ACT_ALLOW;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Verdicts. */

/* Appends "," (unless first) and the printf-style 'format' to 'buf' of
 * 'size' bytes, of which '*n' are used (or would be, without
 * truncation). */
static void format_add(char *buf, size_t size, size_t *n,
                       const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void
format_add(char *buf, size_t size, size_t *n, const char *format, ...)
{
    va_list args;
    int r;

    if (*n && *n < size) {
        buf[(*n)++] = ',';
        buf[*n < size ? *n : size - 1] = '\0';
    } else if (*n) {
        (*n)++;
    }
    if (*n < size) {
        va_start(args, format);
        r = vsnprintf(buf + *n, size - *n, format, args);
        va_end(args);
        *n += r > 0 ? r : 0;
    }
}

/* Writes "none" for a verdict with no actions.  Truncates to 'size' bytes,
 * always NUL-terminated if 'size' is nonzero. */
char *
insp_verdict_format(const struct fs_verdict *verdict, char *buf,
                    size_t size)
{
    uint32_t acts = verdict ? verdict->actions : 0;
    size_t n = 0;

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    if (acts & FS_ACT_DROP) {
        format_add(buf, size, &n, "drop");
    }
    if ((acts & FS_ACT_ALLOW)
        && !(acts & (FS_ACT_MIRROR | FS_ACT_METER | FS_ACT_LABEL))) {
        format_add(buf, size, &n, "allow");
    }
    if (acts & FS_ACT_MIRROR) {
        format_add(buf, size, &n, "mirror:%.*s",
                   (int) strnlen(verdict->mirror_port, FS_PORT_NAME_MAX),
                   verdict->mirror_port);
    }
    if (acts & FS_ACT_METER) {
        format_add(buf, size, &n, "meter:%"PRIu32, verdict->meter_kbps);
    }
    if (acts & FS_ACT_LABEL) {
        format_add(buf, size, &n, "label");
    }
    if (acts & FS_ACT_LOG) {
        format_add(buf, size, &n, "log");
    }
    if (!n) {
        format_add(buf, size, &n, "none");
    }
    return buf;
}

/* ---------------------------------------------------------------------- */
/* Public verdict helpers: the 'actions=' syntax of a policy, alone. */

FS_API int
fs_verdict_parse(const char *actions, struct fs_verdict *verdict,
                 char *err, size_t err_size)
{
    static const char prefix[] = "actions=";
    struct insp_policy *policy = NULL;
    size_t len = strlen(actions);
    char *text;
    int error;

    if (strchr(actions, '\n')) {
        if (err) {
            snprintf(err, err_size, "actions: newline in actions");
        }
        return -EINVAL;
    }
    text = malloc(sizeof prefix + len);
    if (!text) {
        return -ENOMEM;
    }
    memcpy(text, prefix, sizeof prefix - 1);
    memcpy(text + sizeof prefix - 1, actions, len + 1);
    error = insp_policy_parse("actions", text, &policy, err, err_size);
    free(text);
    if (!error) {
        if (policy->n_rules == 1) {
            *verdict = policy->rules[0].verdict;
        } else {
            if (err) {
                snprintf(err, err_size, "actions: no actions");
            }
            error = -EINVAL;
        }
    }
    insp_policy_destroy(policy);
    return error;
}

FS_API char *
fs_verdict_format(const struct fs_verdict *verdict, char *buf, size_t size)
{
    return insp_verdict_format(verdict, buf, size);
}
