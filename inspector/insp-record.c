/* Flow records.  See insp-record.h. */
#include <config.h>
#include "insp-record.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "insp-policy.h"

#define RECORD_MAGIC 0x4672
#define RECORD_VERSION 1

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
    if (size < len) {
        return -ENOSPC;
    }
    memset(buf, 0, INSP_RECORD_FIXED);
    put16(buf, RECORD_MAGIC);
    buf[2] = RECORD_VERSION;
    buf[3] = ((r->pinned ? F_PINNED : 0) | (r->closed ? F_CLOSED : 0)
              | (r->has_ja3 ? F_HAS_JA3 : 0) | (r->guessed ? F_GUESSED : 0)
              | (r->inputs_lost ? F_INPUTS_LOST : 0));
    put16(buf + 4, len);
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
    return len;
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

int
insp_record_decode(const uint8_t *buf, size_t len, struct insp_record *r)
{
    size_t m, h, n;
    int dir;

    memset(r, 0, sizeof *r);
    if (len < INSP_RECORD_FIXED || get16(buf) != RECORD_MAGIC
        || buf[2] != RECORD_VERSION || buf[3] & ~F_ALL
        || get16(buf + 4) != len || buf[6] > INSP_CLASSIFIED_DETECTED
        || buf[7] > 3 || get16(buf + 82) || buf[179]) {
        return -EINVAL;
    }
    m = buf[176];
    h = buf[177];
    n = buf[178];
    if (m >= FS_PORT_NAME_MAX || INSP_RECORD_FIXED + m + h + n != len
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
        || !verdict_valid(&r->verdict) || r->rule_priority < -1
        || r->rule_priority > 65535) {
        return -EINVAL;
    }
    return 0;
}
