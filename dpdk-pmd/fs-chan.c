/* The messages between flowsteerd and its appliance.  See fs-chan.h. */
#include <config.h>

#include "fs-chan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Encoding. */

void
fs_chan_start(struct fs_chan_buf *b, void *data, size_t size,
              enum fs_chan_type type, uint16_t flags, uint32_t xid)
{
    b->data = data;
    b->len = 0;
    b->size = size < FS_CHAN_MAX_MSG ? size : FS_CHAN_MAX_MSG;
    b->overflow = false;
    fs_chan_put_u8(b, FS_CHAN_VERSION);
    fs_chan_put_u8(b, type);
    fs_chan_put_u16(b, flags);
    fs_chan_put_u32(b, 0);      /* Length, set by fs_chan_finish(). */
    fs_chan_put_u32(b, xid);
}

size_t
fs_chan_finish(struct fs_chan_buf *b)
{
    if (b->overflow || b->len < FS_CHAN_HDR_LEN) {
        return 0;
    }
    b->data[4] = b->len >> 24;
    b->data[5] = b->len >> 16;
    b->data[6] = b->len >> 8;
    b->data[7] = b->len;
    return b->len;
}

void
fs_chan_put_bytes(struct fs_chan_buf *b, const void *p, size_t n)
{
    if (b->overflow || n > b->size - b->len) {
        b->overflow = true;
        return;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
}

void
fs_chan_put_u8(struct fs_chan_buf *b, uint8_t x)
{
    fs_chan_put_bytes(b, &x, 1);
}

void
fs_chan_put_u16(struct fs_chan_buf *b, uint16_t x)
{
    uint8_t p[2] = { x >> 8, x };

    fs_chan_put_bytes(b, p, sizeof p);
}

void
fs_chan_put_u32(struct fs_chan_buf *b, uint32_t x)
{
    uint8_t p[4] = { x >> 24, x >> 16, x >> 8, x };

    fs_chan_put_bytes(b, p, sizeof p);
}

void
fs_chan_put_u64(struct fs_chan_buf *b, uint64_t x)
{
    fs_chan_put_u32(b, x >> 32);
    fs_chan_put_u32(b, x);
}

/* A string longer than FS_CHAN_STR_MAX, or with a NUL, cannot be sent:
 * the message overflows (and fs_chan_finish() refuses it). */
void
fs_chan_put_strn(struct fs_chan_buf *b, const char *s, size_t n)
{
    if (n > FS_CHAN_STR_MAX || (n && memchr(s, '\0', n))) {
        b->overflow = true;
        return;
    }
    fs_chan_put_u16(b, n);
    fs_chan_put_bytes(b, s, n);
}

void
fs_chan_put_str(struct fs_chan_buf *b, const char *s)
{
    fs_chan_put_strn(b, s ? s : "", s ? strlen(s) : 0);
}

void
fs_chan_put_key(struct fs_chan_buf *b, const struct fs_flow_key *k)
{
    fs_chan_put_bytes(b, k->src_ip, 16);
    fs_chan_put_bytes(b, k->dst_ip, 16);
    fs_chan_put_u16(b, k->src_port);
    fs_chan_put_u16(b, k->dst_port);
    fs_chan_put_u16(b, k->vlan);
    fs_chan_put_u8(b, k->l4_proto);
    fs_chan_put_u8(b, k->ip_version);
}

void
fs_chan_put_verdict(struct fs_chan_buf *b, const struct fs_verdict *v)
{
    fs_chan_put_u32(b, v->actions);
    fs_chan_put_u32(b, v->meter_kbps);
    fs_chan_put_strn(b, v->mirror_port,
                     strnlen(v->mirror_port, sizeof v->mirror_port));
}

/* A flow's string, cut at FS_CHAN_FLOW_STR_MAX bytes. */
static size_t
flow_str_len(const char *s)
{
    return s ? strnlen(s, FS_CHAN_FLOW_STR_MAX) : 0;
}

static void
put_flow_str(struct fs_chan_buf *b, const char *s)
{
    fs_chan_put_strn(b, s ? s : "", flow_str_len(s));
}

static size_t
str_size(const char *s)
{
    return 2 + flow_str_len(s);
}

/* A flow: u64 id, key, u32 port, u32 peer port, u8 state, u8 guessed, u8
 * pinned, u8 end reason, u16 app id, u16 master id, u16 category id, u16
 * 0, u64 risks, verdict, i32 rule priority, 2 u64 packets, 2 u64 bytes,
 * u32 packets inspected, u64 first seen, u64 last seen (ns), then str
 * profile, app, category, host, JA3, rule, peer profile. */
void
fs_chan_put_flow(struct fs_chan_buf *b, const struct fs_flow_info *f)
{
    fs_chan_put_u64(b, f->id);
    fs_chan_put_key(b, &f->key);
    fs_chan_put_u32(b, f->port);
    fs_chan_put_u32(b, f->peer_port);
    fs_chan_put_u8(b, f->state);
    fs_chan_put_u8(b, f->guessed != 0);
    fs_chan_put_u8(b, f->pinned != 0);
    fs_chan_put_u8(b, f->end_reason);
    fs_chan_put_u16(b, f->app_id);
    fs_chan_put_u16(b, f->master_id);
    fs_chan_put_u16(b, f->category_id);
    fs_chan_put_u16(b, 0);
    fs_chan_put_u64(b, f->risks);
    fs_chan_put_verdict(b, &f->verdict);
    fs_chan_put_u32(b, (uint32_t) f->rule_priority);
    for (int i = 0; i < 2; i++) {
        fs_chan_put_u64(b, f->packets[i]);
    }
    for (int i = 0; i < 2; i++) {
        fs_chan_put_u64(b, f->bytes[i]);
    }
    fs_chan_put_u32(b, f->packets_inspected);
    fs_chan_put_u64(b, f->first_seen_ns);
    fs_chan_put_u64(b, f->last_seen_ns);
    fs_chan_put_u64(b, f->origin_id);
    put_flow_str(b, f->profile);
    put_flow_str(b, f->app);
    put_flow_str(b, f->category);
    put_flow_str(b, f->host);
    put_flow_str(b, f->ja3);
    put_flow_str(b, f->rule);
    put_flow_str(b, f->peer_profile);
}

size_t
fs_chan_flow_size(const struct fs_flow_info *f)
{
    return (8 + 40 + 4 + 4 + 4 + 2 * 4 + 8
            + 8 + 2 + strnlen(f->verdict.mirror_port,
                              sizeof f->verdict.mirror_port)
            + 4 + 32 + 4 + 16 + 8
            + str_size(f->profile) + str_size(f->app)
            + str_size(f->category) + str_size(f->host) + str_size(f->ja3)
            + str_size(f->rule) + str_size(f->peer_profile));
}

/* ---------------------------------------------------------------------- */
/* Decoding. */

struct reader {
    const uint8_t *p;
    size_t left;
    bool error;
    const char *what;           /* The first item that did not decode. */
};

static bool
need(struct reader *r, size_t n, const char *what)
{
    if (r->error) {
        return false;
    }
    if (n > r->left) {
        r->error = true;
        r->what = what;
        return false;
    }
    return true;
}

static void
bad(struct reader *r, const char *what)
{
    if (!r->error) {
        r->error = true;
        r->what = what;
    }
}

static const uint8_t *
get_bytes(struct reader *r, size_t n, const char *what)
{
    const uint8_t *p;

    if (!need(r, n, what)) {
        return NULL;
    }
    p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint8_t
get_u8(struct reader *r, const char *what)
{
    const uint8_t *p = get_bytes(r, 1, what);
    return p ? p[0] : 0;
}

static uint16_t
get_u16(struct reader *r, const char *what)
{
    const uint8_t *p = get_bytes(r, 2, what);
    return p ? p[0] << 8 | p[1] : 0;
}

static uint32_t
get_u32(struct reader *r, const char *what)
{
    const uint8_t *p = get_bytes(r, 4, what);
    return (p ? (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
                | (uint32_t) p[2] << 8 | p[3]
              : 0);
}

static uint64_t
get_u64(struct reader *r, const char *what)
{
    uint64_t hi = get_u32(r, what);
    return hi << 32 | get_u32(r, what);
}

/* A str item: stores where its bytes are and how many. */
static void
get_str(struct reader *r, const char **s, size_t *n, const char *what)
{
    size_t len = get_u16(r, what);
    const uint8_t *p;

    *s = "";
    *n = 0;
    if (len > FS_CHAN_STR_MAX) {
        bad(r, what);
        return;
    }
    p = get_bytes(r, len, what);
    if (p && len && memchr(p, '\0', len)) {
        bad(r, what);
        return;
    }
    if (p) {
        *s = (const char *) p;
        *n = len;
    }
}

/* A str item into 'buf' of 'size' bytes, NUL terminated. */
static void
get_str_buf(struct reader *r, char *buf, size_t size, const char *what)
{
    const char *s;
    size_t n;

    get_str(r, &s, &n, what);
    if (n >= size) {
        bad(r, what);
        n = 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
}

static void
get_key(struct reader *r, struct fs_flow_key *k)
{
    const uint8_t *p;

    memset(k, 0, sizeof *k);
    p = get_bytes(r, 16, "key");
    if (p) {
        memcpy(k->src_ip, p, 16);
    }
    p = get_bytes(r, 16, "key");
    if (p) {
        memcpy(k->dst_ip, p, 16);
    }
    k->src_port = get_u16(r, "key");
    k->dst_port = get_u16(r, "key");
    k->vlan = get_u16(r, "key");
    k->l4_proto = get_u8(r, "key");
    k->ip_version = get_u8(r, "key");
    if (!r->error && k->ip_version != 4 && k->ip_version != 6) {
        bad(r, "key's IP version");
    }
}

static void
get_verdict(struct reader *r, struct fs_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->actions = get_u32(r, "verdict");
    v->meter_kbps = get_u32(r, "verdict");
    get_str_buf(r, v->mirror_port, sizeof v->mirror_port, "mirror port");
}

static void
get_flow(struct reader *r, struct fs_chan_flow *cf)
{
    struct fs_flow_info *f = &cf->info;
    uint8_t state;

    memset(f, 0, sizeof *f);
    f->id = get_u64(r, "flow id");
    get_key(r, &f->key);
    f->port = get_u32(r, "flow port");
    f->peer_port = get_u32(r, "flow peer port");
    state = get_u8(r, "flow state");
    f->state = state;
    f->guessed = get_u8(r, "flow guessed");
    f->pinned = get_u8(r, "flow pinned");
    f->end_reason = get_u8(r, "flow end reason");
    f->app_id = get_u16(r, "flow app");
    f->master_id = get_u16(r, "flow master app");
    f->category_id = get_u16(r, "flow category");
    if (get_u16(r, "flow padding")) {
        bad(r, "flow padding");
    }
    f->risks = get_u64(r, "flow risks");
    get_verdict(r, &f->verdict);
    f->rule_priority = (int32_t) get_u32(r, "flow rule priority");
    for (int i = 0; i < 2; i++) {
        f->packets[i] = get_u64(r, "flow packets");
    }
    for (int i = 0; i < 2; i++) {
        f->bytes[i] = get_u64(r, "flow bytes");
    }
    f->packets_inspected = get_u32(r, "flow packets inspected");
    f->first_seen_ns = get_u64(r, "flow first seen");
    f->last_seen_ns = get_u64(r, "flow last seen");
    f->origin_id = get_u64(r, "flow origin id");
    get_str_buf(r, cf->profile, sizeof cf->profile, "flow profile");
    get_str_buf(r, cf->app, sizeof cf->app, "flow app name");
    get_str_buf(r, cf->category, sizeof cf->category, "flow category name");
    get_str_buf(r, cf->host, sizeof cf->host, "flow host");
    get_str_buf(r, cf->ja3, sizeof cf->ja3, "flow JA3");
    get_str_buf(r, cf->rule, sizeof cf->rule, "flow rule");
    get_str_buf(r, cf->peer_profile, sizeof cf->peer_profile,
                "flow peer profile");
    if (!r->error
        && (state > FS_FLOW_DECIDED || f->guessed > 1 || f->pinned > 1
            || f->end_reason > FS_END_REPLACED || f->id == 0
            || f->id >= UINT64_C(1) << 48
            || f->origin_id >= UINT64_C(1) << 48)) {
        bad(r, "flow values");
    }
    /* As the inspector gives them: NULL for no profile. */
    f->profile = cf->profile[0] ? cf->profile : NULL;
    f->peer_profile = cf->peer_profile[0] ? cf->peer_profile : NULL;
    f->app = cf->app;
    f->category = cf->category;
    f->host = cf->host;
    f->ja3 = cf->ja3;
    f->rule = cf->rule;
}

bool
fs_chan_next_flow(const void *buf, size_t len, size_t *offset,
                  struct fs_chan_flow *flow)
{
    struct reader r;

    const uint8_t *p = buf;
    size_t first = FS_CHAN_HDR_LEN + (p[1] == FS_CHAN_EVENT ? 1 : 2);

    if (*offset == 0) {
        /* The first flow: after the header and what precedes it. */
        *offset = first;
    } else if (p[1] == FS_CHAN_EVENT) {
        return false;           /* An event has one flow; then a record. */
    }
    if (*offset >= len) {
        return false;
    }
    r.p = (const uint8_t *) buf + *offset;
    r.left = len - *offset;
    r.error = false;
    get_flow(&r, flow);
    if (r.error) {
        return false;           /* fs_chan_decode() checked them all. */
    }
    *offset = len - r.left;
    return true;
}

/* Takes the rest of the body as records, each as long as its length field
 * says: 'n' of them (SIZE_MAX: as many as there are), counted in
 * m->n_records.  Their contents are the inspector's to check. */
static void
get_records(struct reader *r, struct fs_chan_msg *m, size_t n)
{
    size_t off = 0;

    m->data = r->p;
    m->data_len = r->left;
    m->n_records = 0;
    while (!r->error && off < m->data_len) {
        size_t rec_len;

        if (m->data_len - off < 6) {
            bad(r, "record");
            return;
        }
        rec_len = (size_t) m->data[off + 4] << 8 | m->data[off + 5];
        if (rec_len < 6 || rec_len > m->data_len - off
            || m->n_records >= n) {
            bad(r, "record lengths");
            return;
        }
        off += rec_len;
        m->n_records++;
    }
    if (!r->error && n != SIZE_MAX && m->n_records != n) {
        bad(r, "record count");
        return;
    }
    get_bytes(r, r->left, "records");
}

static int
decode_body(struct reader *r, struct fs_chan_msg *m, const uint8_t *buf,
            size_t len)
{
    struct fs_chan_flow flow;
    size_t i, n;

    switch (m->type) {
    case FS_CHAN_HELLO:
        m->min_version = get_u8(r, "minimum version");
        m->max_version = get_u8(r, "maximum version");
        m->role = get_u8(r, "role");
        if (get_u8(r, "padding")) {
            bad(r, "padding");
        }
        m->pid = get_u32(r, "pid");
        get_str(r, &m->str, &m->str_len, "name");
        if (!r->error && (m->min_version > m->max_version || !m->min_version
                          || (m->role != FS_CHAN_ROLE_DAEMON
                              && m->role != FS_CHAN_ROLE_APPLIANCE))) {
            bad(r, "versions or role");
        }
        break;

    case FS_CHAN_ERROR:
        m->code = get_u32(r, "error code");
        get_str(r, &m->str, &m->str_len, "error text");
        break;

    case FS_CHAN_ECHO_REQUEST:
    case FS_CHAN_ECHO_REPLY:
    case FS_CHAN_GONE:
        m->u64 = get_u64(r, "number");
        break;

    case FS_CHAN_CONFIG:
        m->mode = get_u8(r, "mode");
        m->port_full_policy = get_u8(r, "port full policy");
        m->ready = get_u8(r, "ready");
        m->n_exceptions = get_u8(r, "exceptions");
        if (m->n_exceptions > FS_N_EXCEPTIONS) {
            bad(r, "more exceptions than this side knows");
        }
        for (i = 0; i < m->n_exceptions && !r->error; i++) {
            m->exceptions[i] = get_u8(r, "exception action");
            if (m->exceptions[i] > FS_EXC_ACTION_ALLOW) {
                bad(r, "exception action");
            }
        }
        m->max_flows_per_port = get_u32(r, "max flows per port");
        for (i = 0; i < 3; i++) {
            m->idle_ms[i] = get_u32(r, "idle timeout");
        }
        m->min_flow_id = get_u64(r, "least flow id");
        get_str(r, &m->ifname, &m->ifname_len, "interface");
        get_str(r, &m->backend, &m->backend_len, "backend");
        if (!r->error && (m->mode > 1 || m->port_full_policy > 1
                          || m->ready > 1 || m->ifname_len >= 16
                          || m->min_flow_id >= UINT64_C(1) << 48
                          || m->backend_len >= 32)) {
            bad(r, "configuration values");
        }
        break;

    case FS_CHAN_PORTS:
        m->n_ports = get_u16(r, "ports");
        if (m->n_ports > FS_CHAN_MAX_PORTS_PER_MSG) {
            bad(r, "too many ports in one message");
        }
        for (i = 0; i < m->n_ports && !r->error; i++) {
            struct fs_chan_port *p = &m->ports[i];
            const uint8_t *mac;
            uint8_t has_mac;

            p->ofport = get_u32(r, "ofport");
            has_mac = get_u8(r, "has MAC");
            p->has_mac = has_mac == 1;
            mac = get_bytes(r, 6, "MAC");
            if (mac) {
                memcpy(p->mac, mac, 6);
            }
            get_str(r, &p->name, &p->name_len, "port name");
            get_str(r, &p->profile, &p->profile_len, "profile");
            if (!r->error && (has_mac > 1 || !p->ofport
                              || !p->name_len || p->name_len >= 16
                              || (!p->has_mac
                                  && memcmp(p->mac, "\0\0\0\0\0\0", 6)))) {
                bad(r, "port values");
            }
        }
        break;

    case FS_CHAN_POLICY:
        m->u32 = get_u8(r, "policy kind");
        m->total = get_u32(r, "policy length");
        m->offset = get_u32(r, "policy offset");
        get_str(r, &m->str, &m->str_len, "policy name");
        m->data = r->p;
        m->data_len = r->left;
        get_bytes(r, r->left, "policy text");
        if (!r->error
            && (m->u32 > FS_CHAN_POLICY_NEW_FLOWS
                || m->total > FS_CHAN_POLICY_MAX
                || m->offset > m->total
                || m->data_len > m->total - m->offset
                || (!(m->flags & FS_CHAN_F_MORE)
                    && m->offset + m->data_len != m->total)
                || memchr(m->data, '\0', m->data_len))) {
            bad(r, "policy part");
        }
        break;

    case FS_CHAN_PIN:
    case FS_CHAN_REMOVE:
        m->u64 = get_u64(r, "flow id");
        get_key(r, &m->key);
        if (m->type == FS_CHAN_PIN) {
            m->u32 = get_u8(r, "pinned");
            if (m->u32 > 1) {
                bad(r, "pinned");
            }
        }
        break;

    case FS_CHAN_IMPORT:
        m->u32 = get_u32(r, "import flags");
        m->data = r->p;
        m->data_len = r->left;
        get_bytes(r, r->left, "record");
        if (!r->error && (m->data_len > FS_FLOW_RECORD_MAX
                          || m->u32 & ~(uint32_t) FS_IMPORT_REJUDGE)) {
            bad(r, "record or flags");
        }
        break;

    case FS_CHAN_IMPORT_VERDICT:
        m->u64 = get_u64(r, "flow id");
        get_key(r, &m->key);
        m->u32 = get_u32(r, "port");
        get_verdict(r, &m->verdict);
        break;

    case FS_CHAN_FLUSH:
        break;

    case FS_CHAN_QUERY_FLOWS:
        m->u64 = get_u64(r, "after");
        m->u32 = get_u32(r, "limit");
        break;

    case FS_CHAN_EXPORT:
        m->port = get_u32(r, "port");
        m->u64 = get_u64(r, "since");
        m->u32 = get_u32(r, "export flags");
        if (!r->error && m->u32 & ~(uint32_t) (FS_EXPORT_DECIDED
                                               | FS_EXPORT_FROM_PORT
                                               | FS_EXPORT_CLASSIFYING)) {
            bad(r, "export flags");
        }
        break;

    case FS_CHAN_IMPORT_BATCH:
        m->u32 = get_u32(r, "import flags");
        m->n_port_map = get_u16(r, "port map");
        m->port_map = r->p;
        get_bytes(r, 8 * m->n_port_map, "port map");
        if (!r->error && (m->u32 & ~(uint32_t) (FS_IMPORT_REJUDGE
                                                | FS_IMPORT_MAPPED_ONLY)
                          || m->n_port_map > FS_CHAN_MAX_PORT_MAP)) {
            bad(r, "import flags or port map");
        }
        get_records(r, m, SIZE_MAX);
        break;

    case FS_CHAN_RELEASE:
        m->u64 = get_u64(r, "flow id");
        get_key(r, &m->key);
        break;

    case FS_CHAN_HOLD_PORT:
        m->port = get_u32(r, "port");
        m->u32 = get_u32(r, "hold time");
        if (!r->error
            && (!m->port || !m->u32 || m->u32 > FS_CHAN_HOLD_MAX_MS)) {
            bad(r, "port or hold time");
        }
        break;

    case FS_CHAN_RELEASE_PORT:
        m->port = get_u32(r, "port");
        break;

    case FS_CHAN_IMPORT_FLOWS:
        n = get_u16(r, "records");
        if (n > FS_CHAN_RECORDS_PER_MSG) {
            bad(r, "too many records in one message");
        }
        get_records(r, m, n);
        break;

    case FS_CHAN_RECORDS:
        m->u64 = get_u64(r, "mark");
        n = get_u16(r, "records");
        if (n > FS_CHAN_RECORDS_PER_MSG) {
            bad(r, "too many records in one message");
        }
        get_records(r, m, n);
        break;

    case FS_CHAN_RESULT:
        m->code = get_u32(r, "result code");
        m->value = get_u64(r, "result value");
        m->value2 = get_u64(r, "result value");
        get_str(r, &m->str, &m->str_len, "result text");
        if (!r->error && m->code > 0) {
            bad(r, "result code");
        }
        break;

    case FS_CHAN_EVENT:
    case FS_CHAN_FLOWS:
        if (m->type == FS_CHAN_EVENT) {
            m->event = get_u8(r, "event type");
            n = 1;
            if (m->event > FS_EVENT_REINSPECT) {
                bad(r, "event type");
            }
        } else {
            n = get_u16(r, "flows");
            if (n > FS_CHAN_FLOWS_PER_MSG) {
                bad(r, "too many flows in one message");
            }
        }
        m->n_flows = n;
        for (i = 0; i < n && !r->error; i++) {
            get_flow(r, &flow);
        }
        if (m->type == FS_CHAN_EVENT && !r->error) {
            m->data = r->p;
            m->data_len = r->left;
            get_bytes(r, r->left, "record");
            if (m->data_len > FS_FLOW_RECORD_MAX) {
                bad(r, "record");
            }
        }
        break;

    case FS_CHAN_STATS:
        m->n_counters = get_u16(r, "counters");
        n = m->n_counters;
        for (i = 0; i < n && !r->error; i++) {
            uint64_t c = get_u64(r, "counter");
            if (i < FS_N_COUNTERS) {
                m->counters[i] = c;
            }
        }
        if (m->n_counters > FS_N_COUNTERS) {
            m->n_counters = FS_N_COUNTERS; /* A newer sender's extras. */
        }
        m->insp_flows = get_u32(r, "inspector figures");
        m->insp_classifying = get_u32(r, "inspector figures");
        m->insp_max_flows = get_u32(r, "inspector figures");
        m->insp_pinned = get_u32(r, "inspector figures");
        m->insp_memory = get_u64(r, "inspector figures");
        m->insp_memory_peak = get_u64(r, "inspector figures");
        for (i = 0; i < FS_CHAN_N_DP; i++) {
            m->dp[i] = get_u64(r, "data path figures");
        }
        m->n_port_flows = get_u16(r, "port flows");
        if (m->n_port_flows > FS_CHAN_MAX_STATS_PORTS) {
            bad(r, "too many ports");
        }
        m->port_flows = get_bytes(r, 8 * m->n_port_flows, "port flows");
        break;

    default:
        bad(r, "message type");
        break;
    }
    (void) buf;
    (void) len;
    if (!r->error && r->left) {
        bad(r, "trailing bytes");
    }
    return r->error ? EPROTO : 0;
}

static int fail(char *err, size_t size, int error, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t size, int error, const char *format, ...)
{
    va_list args;

    if (size) {
        va_start(args, format);
        vsnprintf(err, size, format, args);
        va_end(args);
    }
    return error;
}

int
fs_chan_decode(const void *buf_, size_t len, struct fs_chan_msg *m,
               char *err, size_t err_size)
{
    const uint8_t *buf = buf_;
    struct reader r;
    uint32_t length;
    int error;

    memset(m, 0, offsetof(struct fs_chan_msg, ports));
    m->n_ports = 0;
    if (err_size) {
        err[0] = '\0';
    }
    if (len < FS_CHAN_HDR_LEN) {
        return fail(err, err_size, EPROTO, "message of %zu bytes: shorter "
                    "than a header", len);
    }
    if (len > FS_CHAN_MAX_MSG) {
        return fail(err, err_size, EMSGSIZE, "message of %zu bytes: longer "
                    "than %d", len, FS_CHAN_MAX_MSG);
    }
    m->type = buf[1];
    m->flags = buf[2] << 8 | buf[3];
    length = ((uint32_t) buf[4] << 24 | (uint32_t) buf[5] << 16
              | (uint32_t) buf[6] << 8 | buf[7]);
    m->xid = ((uint32_t) buf[8] << 24 | (uint32_t) buf[9] << 16
              | (uint32_t) buf[10] << 8 | buf[11]);
    if (buf[0] != FS_CHAN_VERSION) {
        return fail(err, err_size, EPROTONOSUPPORT, "message of version %u "
                    "(this side speaks %d)", buf[0], FS_CHAN_VERSION);
    }
    if (length != len) {
        return fail(err, err_size, EMSGSIZE, "%s message says %"PRIu32
                    " bytes, has %zu", (fs_chan_type_name(m->type)
                                        ? fs_chan_type_name(m->type) : "a"),
                    length, len);
    }
    if (m->flags & ~FS_CHAN_F_MORE
        || (m->flags & FS_CHAN_F_MORE && m->type != FS_CHAN_PORTS
            && m->type != FS_CHAN_POLICY && m->type != FS_CHAN_FLOWS
            && m->type != FS_CHAN_RECORDS)) {
        return fail(err, err_size, EPROTO, "message flags %#x not known for "
                    "type %u", m->flags, m->type);
    }
    r.p = buf + FS_CHAN_HDR_LEN;
    r.left = len - FS_CHAN_HDR_LEN;
    r.error = false;
    r.what = NULL;
    error = decode_body(&r, m, buf, len);
    if (error) {
        return fail(err, err_size, error, "%s message (%zu bytes): bad %s",
                    (fs_chan_type_name(m->type) ? fs_chan_type_name(m->type)
                     : "unknown"), len, r.what ? r.what : "body");
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Re-encoding (the round trip of the fuzz target). */

size_t
fs_chan_reencode(const struct fs_chan_msg *m, const void *buf, size_t len,
                 void *out)
{
    struct fs_chan_buf b;
    size_t i;

    fs_chan_start(&b, out, FS_CHAN_MAX_MSG, m->type, m->flags, m->xid);
    switch (m->type) {
    case FS_CHAN_HELLO:
        fs_chan_put_u8(&b, m->min_version);
        fs_chan_put_u8(&b, m->max_version);
        fs_chan_put_u8(&b, m->role);
        fs_chan_put_u8(&b, 0);
        fs_chan_put_u32(&b, m->pid);
        fs_chan_put_strn(&b, m->str, m->str_len);
        break;
    case FS_CHAN_ERROR:
        fs_chan_put_u32(&b, m->code);
        fs_chan_put_strn(&b, m->str, m->str_len);
        break;
    case FS_CHAN_ECHO_REQUEST:
    case FS_CHAN_ECHO_REPLY:
    case FS_CHAN_GONE:
        fs_chan_put_u64(&b, m->u64);
        break;
    case FS_CHAN_CONFIG:
        fs_chan_put_u8(&b, m->mode);
        fs_chan_put_u8(&b, m->port_full_policy);
        fs_chan_put_u8(&b, m->ready);
        fs_chan_put_u8(&b, m->n_exceptions);
        fs_chan_put_bytes(&b, m->exceptions, m->n_exceptions);
        fs_chan_put_u32(&b, m->max_flows_per_port);
        for (i = 0; i < 3; i++) {
            fs_chan_put_u32(&b, m->idle_ms[i]);
        }
        fs_chan_put_u64(&b, m->min_flow_id);
        fs_chan_put_strn(&b, m->ifname, m->ifname_len);
        fs_chan_put_strn(&b, m->backend, m->backend_len);
        break;
    case FS_CHAN_PORTS:
        fs_chan_put_u16(&b, m->n_ports);
        for (i = 0; i < m->n_ports; i++) {
            const struct fs_chan_port *p = &m->ports[i];

            fs_chan_put_u32(&b, p->ofport);
            fs_chan_put_u8(&b, p->has_mac);
            fs_chan_put_bytes(&b, p->mac, 6);
            fs_chan_put_strn(&b, p->name, p->name_len);
            fs_chan_put_strn(&b, p->profile, p->profile_len);
        }
        break;
    case FS_CHAN_POLICY:
        fs_chan_put_u8(&b, m->u32);
        fs_chan_put_u32(&b, m->total);
        fs_chan_put_u32(&b, m->offset);
        fs_chan_put_strn(&b, m->str, m->str_len);
        fs_chan_put_bytes(&b, m->data, m->data_len);
        break;
    case FS_CHAN_PIN:
    case FS_CHAN_REMOVE:
        fs_chan_put_u64(&b, m->u64);
        fs_chan_put_key(&b, &m->key);
        if (m->type == FS_CHAN_PIN) {
            fs_chan_put_u8(&b, m->u32);
        }
        break;
    case FS_CHAN_IMPORT:
        fs_chan_put_u32(&b, m->u32);
        fs_chan_put_bytes(&b, m->data, m->data_len);
        break;
    case FS_CHAN_IMPORT_VERDICT:
        fs_chan_put_u64(&b, m->u64);
        fs_chan_put_key(&b, &m->key);
        fs_chan_put_u32(&b, m->u32);
        fs_chan_put_verdict(&b, &m->verdict);
        break;
    case FS_CHAN_FLUSH:
        break;
    case FS_CHAN_QUERY_FLOWS:
        fs_chan_put_u64(&b, m->u64);
        fs_chan_put_u32(&b, m->u32);
        break;
    case FS_CHAN_EXPORT:
        fs_chan_put_u32(&b, m->port);
        fs_chan_put_u64(&b, m->u64);
        fs_chan_put_u32(&b, m->u32);
        break;
    case FS_CHAN_IMPORT_BATCH:
        fs_chan_put_u32(&b, m->u32);
        fs_chan_put_u16(&b, m->n_port_map);
        fs_chan_put_bytes(&b, m->port_map, 8 * m->n_port_map);
        fs_chan_put_bytes(&b, m->data, m->data_len);
        break;
    case FS_CHAN_RELEASE:
        fs_chan_put_u64(&b, m->u64);
        fs_chan_put_key(&b, &m->key);
        break;
    case FS_CHAN_HOLD_PORT:
        fs_chan_put_u32(&b, m->port);
        fs_chan_put_u32(&b, m->u32);
        break;
    case FS_CHAN_RELEASE_PORT:
        fs_chan_put_u32(&b, m->port);
        break;
    case FS_CHAN_IMPORT_FLOWS:
        fs_chan_put_u16(&b, m->n_records);
        fs_chan_put_bytes(&b, m->data, m->data_len);
        break;
    case FS_CHAN_RECORDS:
        fs_chan_put_u64(&b, m->u64);
        fs_chan_put_u16(&b, m->n_records);
        fs_chan_put_bytes(&b, m->data, m->data_len);
        break;
    case FS_CHAN_RESULT:
        fs_chan_put_u32(&b, m->code);
        fs_chan_put_u64(&b, m->value);
        fs_chan_put_u64(&b, m->value2);
        fs_chan_put_strn(&b, m->str, m->str_len);
        break;
    case FS_CHAN_EVENT:
    case FS_CHAN_FLOWS: {
        struct fs_chan_flow flow;
        size_t off = 0;

        if (m->type == FS_CHAN_EVENT) {
            fs_chan_put_u8(&b, m->event);
        } else {
            fs_chan_put_u16(&b, m->n_flows);
        }
        while (fs_chan_next_flow(buf, len, &off, &flow)) {
            fs_chan_put_flow(&b, &flow.info);
        }
        if (m->type == FS_CHAN_EVENT) {
            fs_chan_put_bytes(&b, m->data, m->data_len);
        }
        break;
    }
    case FS_CHAN_STATS: {
        /* Counters beyond what this side knows were dropped: re-encode
         * only what was kept. */
        fs_chan_put_u16(&b, m->n_counters);
        for (i = 0; i < m->n_counters; i++) {
            fs_chan_put_u64(&b, m->counters[i]);
        }
        fs_chan_put_u32(&b, m->insp_flows);
        fs_chan_put_u32(&b, m->insp_classifying);
        fs_chan_put_u32(&b, m->insp_max_flows);
        fs_chan_put_u32(&b, m->insp_pinned);
        fs_chan_put_u64(&b, m->insp_memory);
        fs_chan_put_u64(&b, m->insp_memory_peak);
        for (i = 0; i < FS_CHAN_N_DP; i++) {
            fs_chan_put_u64(&b, m->dp[i]);
        }
        fs_chan_put_u16(&b, m->n_port_flows);
        fs_chan_put_bytes(&b, m->port_flows, 8 * m->n_port_flows);
        break;
    }
    }
    return fs_chan_finish(&b);
}

/* ---------------------------------------------------------------------- */

const char *
fs_chan_type_name(int type)
{
    switch (type) {
    case FS_CHAN_HELLO: return "HELLO";
    case FS_CHAN_ERROR: return "ERROR";
    case FS_CHAN_ECHO_REQUEST: return "ECHO_REQUEST";
    case FS_CHAN_CONFIG: return "CONFIG";
    case FS_CHAN_PORTS: return "PORTS";
    case FS_CHAN_POLICY: return "POLICY";
    case FS_CHAN_PIN: return "PIN";
    case FS_CHAN_REMOVE: return "REMOVE";
    case FS_CHAN_IMPORT: return "IMPORT";
    case FS_CHAN_IMPORT_VERDICT: return "IMPORT_VERDICT";
    case FS_CHAN_GONE: return "GONE";
    case FS_CHAN_FLUSH: return "FLUSH";
    case FS_CHAN_QUERY_FLOWS: return "QUERY_FLOWS";
    case FS_CHAN_EXPORT: return "EXPORT";
    case FS_CHAN_IMPORT_BATCH: return "IMPORT_BATCH";
    case FS_CHAN_RELEASE: return "RELEASE";
    case FS_CHAN_IMPORT_FLOWS: return "IMPORT_FLOWS";
    case FS_CHAN_HOLD_PORT: return "HOLD_PORT";
    case FS_CHAN_RELEASE_PORT: return "RELEASE_PORT";
    case FS_CHAN_RECORDS: return "RECORDS";
    case FS_CHAN_ECHO_REPLY: return "ECHO_REPLY";
    case FS_CHAN_RESULT: return "RESULT";
    case FS_CHAN_EVENT: return "EVENT";
    case FS_CHAN_FLOWS: return "FLOWS";
    case FS_CHAN_STATS: return "STATS";
    default: return NULL;
    }
}

const char *
fs_chan_exit_reason(int status)
{
    switch (status) {
    case FS_CHAN_EXIT_CHANNEL: return "its channel failed";
    case FS_CHAN_EXIT_PORT: return "its inspector port failed";
    case FS_CHAN_EXIT_RECONFIGURE: return "another port was configured";
    case FS_CHAN_EXIT_PROTOCOL: return "it was sent a bad message";
    case FS_CHAN_EXIT_SANDBOX: return "its sandbox could not be set up";
    default: return NULL;
    }
}

const char *
fs_chan_dp_name(int i)
{
    static const char *const names[] = {
#define FS_CHAN_DP_NAME(ENUM, NAME) NAME,
        FS_CHAN_DP_FIGURES(FS_CHAN_DP_NAME)
#undef FS_CHAN_DP_NAME
    };
    return i >= 0 && i < FS_CHAN_N_DP ? names[i] : NULL;
}
