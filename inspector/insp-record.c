/* Flow records.  See insp-record.h. */
#include <config.h>
#include "insp-record.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "insp-policy.h"

#define RECORD_MAGIC 0x4672
#define RECORD_VERSION 2
#define RECORD_VERSION_1 1

enum {
    T_OWNER = 1,
    T_POLICY = 2,
    T_TCP = 3,
    T_CLASSIFYING = 4,
    T_PAYLOAD = 5,
    T_ORIGIN = 6,
    T_FRAGS = 7,
};
#define TLV_HEAD 4

enum {
    F_PINNED = 1 << 0,
    F_CLOSED = 1 << 1,
    F_HAS_JA3 = 1 << 2,
    F_GUESSED = 1 << 3,
    F_INPUTS_LOST = 1 << 4,
};
#define F_ALL (F_PINNED | F_CLOSED | F_HAS_JA3 | F_GUESSED | F_INPUTS_LOST)

#define ACT_ALL (FS_ACT_ALLOW | FS_ACT_DROP | FS_ACT_MIRROR | FS_ACT_METER \
                 | FS_ACT_LABEL | FS_ACT_LOG)
#define ACT_ALLOWING (FS_ACT_ALLOW | FS_ACT_MIRROR | FS_ACT_METER \
                      | FS_ACT_LABEL)

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static void
put64(uint8_t *p, uint64_t v)
{
    put32(p, v >> 32);
    put32(p + 4, v);
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t) get16(p) << 16 | get16(p + 2);
}

static uint64_t
get64(const uint8_t *p)
{
    return (uint64_t) get32(p) << 32 | get32(p + 4);
}

/* Copies at most 'max' bytes of string 's' to 'p', printable ASCII only.
 * Returns the number of bytes. */
static size_t
put_string(uint8_t *p, const char *s, size_t max)
{
    size_t i;

    for (i = 0; s[i] && i < max; i++) {
        p[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    }
    return i;
}

/* Copies the 'n' bytes at 'p' into 'dst' (of at least n + 1 bytes) as a
 * string.  Returns false unless they are all printable ASCII. */
static bool
get_string(const uint8_t *p, size_t n, char *dst)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] >= 0x7f) {
            return false;
        }
        dst[i] = p[i];
    }
    dst[n] = '\0';
    return true;
}

/* Appends a TLV head of 'type' and 'len' at 'buf' + '*off', if it fits
 * with its value in 'size'.  Returns false if not. */
static bool
put_tlv(uint8_t *buf, size_t size, size_t *off, uint16_t type, size_t len)
{
    if (len > UINT16_MAX || size - *off < TLV_HEAD + len) {
        return false;
    }
    put16(buf + *off, type);
    put16(buf + *off + 2, len);
    *off += TLV_HEAD;
    return true;
}

int
insp_record_encode(const struct insp_record *r, uint8_t *buf, size_t size)
{
    uint8_t strings[FS_PORT_NAME_MAX + 255 + 255];
    size_t m, h, n, len;
    int dir;

    m = put_string(strings, r->verdict.mirror_port, FS_PORT_NAME_MAX - 1);
    h = put_string(strings + m, r->host, 255);
    n = put_string(strings + m + h, r->rule, 255);
    len = INSP_RECORD_FIXED + m + h + n;
    if (size > UINT16_MAX) {
        size = UINT16_MAX;
    }
    if (size < len) {
        return -ENOSPC;
    }
    memset(buf, 0, INSP_RECORD_FIXED);
    put16(buf, RECORD_MAGIC);
    buf[2] = RECORD_VERSION;
    buf[3] = ((r->pinned ? F_PINNED : 0) | (r->closed ? F_CLOSED : 0)
              | (r->has_ja3 ? F_HAS_JA3 : 0) | (r->guessed ? F_GUESSED : 0)
              | (r->inputs_lost ? F_INPUTS_LOST : 0));
    buf[6] = r->classified;
    buf[7] = r->syn_seen;
    put64(buf + 8, r->id);
    memcpy(buf + 16, r->key.src_ip, 16);
    memcpy(buf + 32, r->key.dst_ip, 16);
    put16(buf + 48, r->key.src_port);
    put16(buf + 50, r->key.dst_port);
    put16(buf + 52, r->key.vlan);
    buf[54] = r->key.l4_proto;
    buf[55] = r->key.ip_version;
    put32(buf + 56, r->port);
    put32(buf + 60, r->peer_port);
    memcpy(buf + 64, r->src_mac, 6);
    memcpy(buf + 70, r->dst_mac, 6);
    put16(buf + 76, r->app_id);
    put16(buf + 78, r->master_id);
    put16(buf + 80, r->category);
    put64(buf + 84, r->risks);
    memcpy(buf + 92, r->ja3, 16);
    put32(buf + 108, r->verdict.actions);
    put32(buf + 112, r->verdict.meter_kbps);
    put32(buf + 116, (uint32_t) r->rule_priority);
    for (dir = 0; dir < 2; dir++) {
        put64(buf + 120 + dir * 16, r->packets[dir]);
        put64(buf + 128 + dir * 16, r->bytes[dir]);
        put32(buf + 152 + dir * 4, r->syn_seq[dir]);
    }
    put64(buf + 160, r->first_age_ns);
    put64(buf + 168, r->last_age_ns);
    buf[176] = m;
    buf[177] = h;
    buf[178] = n;
    memcpy(buf + INSP_RECORD_FIXED, strings, m + h + n);

    if (r->owner || r->owner_name[0]) {
        uint8_t name[255];
        size_t k = put_string(name, r->owner_name, sizeof name);

        if (!put_tlv(buf, size, &len, T_OWNER, 4 + k)) {
            return -ENOSPC;
        }
        put32(buf + len, r->owner);
        memcpy(buf + len + 4, name, k);
        len += 4 + k;
    }
    if (r->policy_digest) {
        if (!put_tlv(buf, size, &len, T_POLICY, 8)) {
            return -ENOSPC;
        }
        put64(buf + len, r->policy_digest);
        len += 8;
    }
    if (r->origin_id) {
        if (!put_tlv(buf, size, &len, T_ORIGIN, 8)) {
            return -ENOSPC;
        }
        put64(buf + len, r->origin_id);
        len += 8;
    }
    if (r->has_tcp) {
        if (!put_tlv(buf, size, &len, T_TCP, 12)) {
            return -ENOSPC;
        }
        buf[len] = r->seq_known;
        buf[len + 1] = r->tcp_flags[0];
        buf[len + 2] = r->tcp_flags[1];
        buf[len + 3] = 0;
        put32(buf + len + 4, r->next_seq[0]);
        put32(buf + len + 8, r->next_seq[1]);
        len += 12;
    }
    if (r->n_frags) {
        size_t frag_len = 0;

        for (int i = 0; i < r->n_frags; i++) {
            frag_len += 20 + 8 * r->frags[i].n_ranges;
        }
        if (!put_tlv(buf, size, &len, T_FRAGS, frag_len)) {
            return -ENOSPC;
        }
        for (int i = 0; i < r->n_frags; i++) {
            const struct insp_frag_state *f = &r->frags[i];

            put32(buf + len, f->id);
            buf[len + 4] = f->reverse;
            buf[len + 5] = f->n_ranges;
            put16(buf + len + 6, 0);
            put32(buf + len + 8, f->total_len);
            put64(buf + len + 12, f->age_ns);
            len += 20;
            for (int k = 0; k < f->n_ranges; k++) {
                put32(buf + len, f->ranges[k][0]);
                put32(buf + len + 4, f->ranges[k][1]);
                len += 8;
            }
        }
    }
    if (r->classifying) {
        if (!put_tlv(buf, size, &len, T_CLASSIFYING, 4)) {
            return -ENOSPC;
        }
        buf[len] = r->cls_decided;
        buf[len + 1] = r->payload_cut ? 1 : 0;
        put16(buf + len + 2, r->packets_inspected);
        len += 4;
        if (r->payload_len) {
            if (!put_tlv(buf, size, &len, T_PAYLOAD, r->payload_len)) {
                return -ENOSPC;
            }
            memcpy(buf + len, r->payload, r->payload_len);
            len += r->payload_len;
        }
    }
    put16(buf + 4, len);
    return len;
}

void
insp_payload_put_head(uint8_t head[INSP_PAYLOAD_ENTRY_HEAD], uint64_t age_ns,
                      uint32_t n_packets, uint16_t len)
{
    put64(head, age_ns);
    put32(head + 8, n_packets);
    put16(head + 12, len);
}

bool
insp_payload_next(const uint8_t *p, size_t len, size_t *off,
                  struct insp_payload_entry *e)
{
    if (*off > len || len - *off < INSP_PAYLOAD_ENTRY_HEAD) {
        return false;
    }
    e->age_ns = get64(p + *off);
    e->n_packets = get32(p + *off + 8);
    e->len = get16(p + *off + 12);
    if (!e->len || !e->n_packets
        || len - *off - INSP_PAYLOAD_ENTRY_HEAD < e->len) {
        return false;
    }
    e->data = p + *off + INSP_PAYLOAD_ENTRY_HEAD;
    *off += INSP_PAYLOAD_ENTRY_HEAD + e->len;
    return true;
}

/* Says whether 'v' is a verdict a policy could give. */
static bool
verdict_valid(const struct fs_verdict *v)
{
    uint32_t a = v->actions;

    return (!(a & ~ACT_ALL)
            && ((a & FS_ACT_DROP) ? !(a & ACT_ALLOWING)
                                  : (a & FS_ACT_ALLOW) != 0)
            && ((a & FS_ACT_METER) != 0) == (v->meter_kbps != 0)
            && ((a & FS_ACT_MIRROR) != 0) == (v->mirror_port[0] != 0));
}

/* Says whether 'key' is a key the parser could make. */
static bool
key_valid(const struct fs_flow_key *key)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0xff, 0xff };

    return (key->vlan < 4096
            && (key->ip_version == 6
                || (key->ip_version == 4 && !memcmp(key->src_ip, mapped, 12)
                    && !memcmp(key->dst_ip, mapped, 12))));
}

/* Decodes the 'len' bytes of TLVs at 'p' into '*r'. */
static int
decode_tlvs(const uint8_t *p, size_t len, struct insp_record *r)
{
    uint32_t seen = 0;
    size_t off = 0;

    while (off < len) {
        uint16_t type, n;
        const uint8_t *v;

        if (len - off < TLV_HEAD) {
            return -EINVAL;
        }
        type = get16(p + off);
        n = get16(p + off + 2);
        v = p + off + TLV_HEAD;
        if (len - off - TLV_HEAD < n) {
            return -EINVAL;
        }
        off += TLV_HEAD + n;
        if (type < 32) {
            if (seen & (1u << type)) {
                return -EINVAL;     /* Twice. */
            }
            seen |= 1u << type;
        }
        switch (type) {
        case T_OWNER:
            if (n < 4 || !get_string(v + 4, n - 4, r->owner_name)) {
                return -EINVAL;
            }
            r->owner = get32(v);
            break;
        case T_POLICY:
            if (n != 8) {
                return -EINVAL;
            }
            r->policy_digest = get64(v);
            break;
        case T_ORIGIN:
            if (n != 8 || !get64(v) || get64(v) >> 48) {
                return -EINVAL;
            }
            r->origin_id = get64(v);
            break;
        case T_FRAGS: {
            size_t at = 0;

            while (at < n) {
                struct insp_frag_state *f = &r->frags[r->n_frags];

                if (r->n_frags == INSP_RECORD_MAX_FRAGS || n - at < 20
                    || get16(v + at + 6)) {
                    return -EINVAL;
                }
                memset(f, 0, sizeof *f);
                f->id = get32(v + at);
                f->reverse = v[at + 4];
                f->n_ranges = v[at + 5];
                f->total_len = get32(v + at + 8);
                f->age_ns = get64(v + at + 12);
                at += 20;
                if (f->n_ranges > INSP_FRAG_MAX_RANGES
                    || n - at < 8 * (size_t) f->n_ranges) {
                    return -EINVAL;
                }
                for (int k = 0; k < f->n_ranges; k++) {
                    f->ranges[k][0] = get32(v + at);
                    f->ranges[k][1] = get32(v + at + 4);
                    at += 8;
                }
                if (!insp_frag_state_valid(f)) {
                    return -EINVAL;
                }
                r->n_frags++;
            }
            break;
        }
        case T_TCP:
            if (n != 12 || v[0] & ~7 || v[3]) {
                return -EINVAL;
            }
            r->has_tcp = 1;
            r->seq_known = v[0];
            r->tcp_flags[0] = v[1];
            r->tcp_flags[1] = v[2];
            r->next_seq[0] = get32(v + 4);
            r->next_seq[1] = get32(v + 8);
            break;
        case T_CLASSIFYING:
            if (n != 4 || v[0] > 1 || v[1] & ~1) {
                return -EINVAL;
            }
            r->classifying = 1;
            r->cls_decided = v[0];
            r->payload_cut = v[1];
            r->packets_inspected = get16(v + 2);
            break;
        case T_PAYLOAD: {
            struct insp_payload_entry e;
            size_t at = 0;

            while (insp_payload_next(v, n, &at, &e)) {
                continue;
            }
            if (at != n) {
                return -EINVAL;
            }
            r->payload = v;
            r->payload_len = n;
            break;
        }
        default:
            break;              /* Newer: skipped. */
        }
    }
    return r->payload && !r->classifying ? -EINVAL : 0;
}

int
insp_record_decode(const uint8_t *buf, size_t len, struct insp_record *r)
{
    size_t m, h, n, fixed;
    int dir;

    memset(r, 0, sizeof *r);
    if (len < INSP_RECORD_FIXED || get16(buf) != RECORD_MAGIC
        || (buf[2] != RECORD_VERSION && buf[2] != RECORD_VERSION_1)
        || buf[3] & ~F_ALL
        || get16(buf + 4) != len || buf[6] > INSP_CLASSIFIED_DETECTED
        || buf[7] > 3 || get16(buf + 82) || buf[179]) {
        return -EINVAL;
    }
    m = buf[176];
    h = buf[177];
    n = buf[178];
    fixed = INSP_RECORD_FIXED + m + h + n;
    if (m >= FS_PORT_NAME_MAX || fixed > len
        || (buf[2] == RECORD_VERSION_1 && fixed != len)
        || !get_string(buf + INSP_RECORD_FIXED, m, r->verdict.mirror_port)
        || !get_string(buf + INSP_RECORD_FIXED + m, h, r->host)
        || !get_string(buf + INSP_RECORD_FIXED + m + h, n, r->rule)) {
        return -EINVAL;
    }
    r->pinned = (buf[3] & F_PINNED) != 0;
    r->closed = (buf[3] & F_CLOSED) != 0;
    r->has_ja3 = (buf[3] & F_HAS_JA3) != 0;
    r->guessed = (buf[3] & F_GUESSED) != 0;
    r->inputs_lost = (buf[3] & F_INPUTS_LOST) != 0;
    r->classified = buf[6];
    r->syn_seen = buf[7];
    r->id = get64(buf + 8);
    memcpy(r->key.src_ip, buf + 16, 16);
    memcpy(r->key.dst_ip, buf + 32, 16);
    r->key.src_port = get16(buf + 48);
    r->key.dst_port = get16(buf + 50);
    r->key.vlan = get16(buf + 52);
    r->key.l4_proto = buf[54];
    r->key.ip_version = buf[55];
    r->port = get32(buf + 56);
    r->peer_port = get32(buf + 60);
    memcpy(r->src_mac, buf + 64, 6);
    memcpy(r->dst_mac, buf + 70, 6);
    r->app_id = get16(buf + 76);
    r->master_id = get16(buf + 78);
    r->category = get16(buf + 80);
    r->risks = get64(buf + 84);
    memcpy(r->ja3, buf + 92, 16);
    r->verdict.actions = get32(buf + 108);
    r->verdict.meter_kbps = get32(buf + 112);
    r->rule_priority = (int32_t) get32(buf + 116);
    for (dir = 0; dir < 2; dir++) {
        r->packets[dir] = get64(buf + 120 + dir * 16);
        r->bytes[dir] = get64(buf + 128 + dir * 16);
        r->syn_seq[dir] = get32(buf + 152 + dir * 4);
    }
    r->first_age_ns = get64(buf + 160);
    r->last_age_ns = get64(buf + 168);
    if (!r->id || r->id >> 48 || !key_valid(&r->key)
        || r->rule_priority < -1 || r->rule_priority > 65535
        || decode_tlvs(buf + fixed, len - fixed, r)) {
        return -EINVAL;
    }
    /* A flow still undecided has no verdict; any other, a valid one. */
    if (r->classifying && !r->cls_decided
        ? (r->verdict.actions || r->verdict.meter_kbps
           || r->verdict.mirror_port[0])
        : !verdict_valid(&r->verdict)) {
        return -EINVAL;
    }
    return 0;
}
