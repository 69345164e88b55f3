/* Migration messages.  See fs-mig-msg.h. */
#include <config.h>
#include "fs-mig-msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
fs_mig_type_name(int type)
{
    switch (type) {
    case FS_MIG_REQUEST: return "REQUEST";
    case FS_MIG_OFFER: return "OFFER";
    case FS_MIG_ACCEPT: return "ACCEPT";
    case FS_MIG_REFUSE: return "REFUSE";
    case FS_MIG_RECORDS: return "RECORDS";
    case FS_MIG_ENDED: return "ENDED";
    case FS_MIG_ACK: return "ACK";
    case FS_MIG_SWITCH: return "SWITCH";
    case FS_MIG_CANCEL: return "CANCEL";
    }
    return "unknown";
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
    return (uint64_t) get32(p) << 32 | get32(p + 4);
}

int
fs_mig_frame(const uint8_t *buf, size_t avail, size_t *msg_len,
             const char **why)
{
    uint32_t body;

    if (avail < FS_MIG_HDR_LEN) {
        /* What there is must already look right: a peer that speaks
         * something else is told at once, not after 12 bytes. */
        static const uint8_t magic[4] = { 'F', 'S', 'M', 'G' };

        if (memcmp(buf, magic, avail < 4 ? avail : 4)) {
            *why = "bad magic";
            return -EINVAL;
        }
        return 0;
    }
    if (get32(buf) != FS_MIG_MAGIC) {
        *why = "bad magic";
        return -EINVAL;
    }
    if (buf[4] != FS_MIG_VERSION) {
        *why = "unsupported version";
        return -EINVAL;
    }
    body = get32(buf + 8);
    if (body > FS_MIG_MAX_BODY) {
        *why = "message too long";
        return -EINVAL;
    }
    if (avail < FS_MIG_HDR_LEN + (size_t) body) {
        return 0;
    }
    *msg_len = FS_MIG_HDR_LEN + (size_t) body;
    return 1;
}

/* A cursor over a body. */
struct cur {
    const uint8_t *p;
    size_t left;
    const char *why;            /* First problem, or NULL. */
};

static bool
take(struct cur *c, size_t n, const uint8_t **p)
{
    if (c->why) {
        return false;
    }
    if (c->left < n) {
        c->why = "message cut short";
        return false;
    }
    *p = c->p;
    c->p += n;
    c->left -= n;
    return true;
}

static uint32_t
take32(struct cur *c)
{
    const uint8_t *p;

    return take(c, 4, &p) ? get32(p) : 0;
}

static uint64_t
take64(struct cur *c)
{
    const uint8_t *p;

    return take(c, 8, &p) ? get64(p) : 0;
}

static bool
text_ok(const uint8_t *s, size_t n, bool spaces)
{
    size_t i;

    if (n == 0 || n > FS_MIG_TEXT_MAX) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (s[i] > 0x7e || s[i] < (spaces ? 0x20 : 0x21)) {
            return false;
        }
    }
    return true;
}

static void
take_text(struct cur *c, char *out, bool spaces)
{
    const uint8_t *p, *s;

    if (!take(c, 1, &p) || !take(c, p[0], &s)) {
        return;
    }
    if (!text_ok(s, p[0], spaces)) {
        c->why = spaces ? "bad text" : "bad iface-id";
        return;
    }
    memcpy(out, s, p[0]);
    out[p[0]] = '\0';
}

int
fs_mig_decode(const uint8_t *buf, size_t len, struct fs_mig_msg *m,
              const char **why)
{
    struct cur c;
    size_t msg_len;
    int error;
    uint32_t i;

    memset(m, 0, sizeof *m);
    error = fs_mig_frame(buf, len, &msg_len, why);
    if (error < 0) {
        return error;
    }
    if (!error || msg_len != len) {
        *why = "message length does not match";
        return -EINVAL;
    }
    m->type = buf[5];
    m->flags = get16(buf + 6);
    c.p = buf + FS_MIG_HDR_LEN;
    c.left = len - FS_MIG_HDR_LEN;
    c.why = NULL;
    if (m->flags & ~(m->type == FS_MIG_RECORDS
                     ? FS_MIG_F_FINAL | FS_MIG_F_CLASSIFYING : 0)) {
        *why = "unknown flags";
        return -EINVAL;
    }

    switch (m->type) {
    case FS_MIG_REQUEST:
        take_text(&c, m->text, false);
        break;
    case FS_MIG_OFFER:
        take_text(&c, m->text, false);
        m->port = take32(&c);
        m->digest = take64(&c);
        m->n = take32(&c);
        break;
    case FS_MIG_ACCEPT:
        m->port = take32(&c);
        break;
    case FS_MIG_REFUSE:
    case FS_MIG_CANCEL:
        take_text(&c, m->text, true);
        break;
    case FS_MIG_RECORDS:
        m->seq = take32(&c);
        m->n = take32(&c);
        m->data = c.p;
        m->data_len = c.left;
        for (i = 0; !c.why && i < m->n; i++) {
            const uint8_t *p, *rec;

            if (take(&c, 2, &p) && !get16(p)) {
                c.why = "empty record";
            } else if (!c.why) {
                take(&c, get16(p), &rec);
            }
        }
        break;
    case FS_MIG_ENDED:
        m->seq = take32(&c);
        m->n = take32(&c);
        if (!c.why && c.left / 8 < m->n) {
            c.why = "message cut short";
        } else if (!c.why) {
            m->data = c.p;
            m->data_len = (size_t) m->n * 8;
            c.p += m->data_len;
            c.left -= m->data_len;
        }
        break;
    case FS_MIG_ACK:
        m->seq = take32(&c);
        m->imported = take32(&c);
        m->updated = take32(&c);
        m->conflicts = take32(&c);
        m->rejudged = take32(&c);
        break;
    case FS_MIG_SWITCH:
        break;
    default:
        *why = "unknown message type";
        return -EINVAL;
    }
    if (!c.why && c.left) {
        c.why = "bytes after the last field";
    }
    if (c.why) {
        *why = c.why;
        return -EINVAL;
    }
    return 0;
}

bool
fs_mig_records_next(const struct fs_mig_msg *m, size_t *off,
                    const uint8_t **rec, size_t *len)
{
    size_t n;

    if (m->type != FS_MIG_RECORDS || *off + 2 > m->data_len) {
        return false;
    }
    n = get16(m->data + *off);
    *rec = m->data + *off + 2;
    *len = n;
    *off += 2 + n;
    return true;
}

uint64_t
fs_mig_ended_id(const struct fs_mig_msg *m, uint32_t i)
{
    return get64(m->data + (size_t) i * 8);
}

/* ---------------------------------------------------------------------- */
/* Encoding. */

void
fs_mig_buf_uninit(struct fs_mig_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->allocated = 0;
}

void
fs_mig_buf_clear(struct fs_mig_buf *b)
{
    b->len = 0;
}

void
fs_mig_buf_pull(struct fs_mig_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
}

static uint8_t *
put(struct fs_mig_buf *b, size_t n)
{
    uint8_t *p;

    if (b->allocated - b->len < n) {
        size_t want = b->allocated ? b->allocated * 2 : 4096;

        while (want - b->len < n) {
            want *= 2;
        }
        b->data = realloc(b->data, want);
        if (!b->data) {
            abort();
        }
        b->allocated = want;
    }
    p = b->data + b->len;
    b->len += n;
    return p;
}

static void
set16(uint8_t *p, uint16_t x)
{
    p[0] = x >> 8;
    p[1] = x;
}

static void
set32(uint8_t *p, uint32_t x)
{
    p[0] = x >> 24;
    p[1] = x >> 16;
    p[2] = x >> 8;
    p[3] = x;
}

static void
put32(struct fs_mig_buf *b, uint32_t x)
{
    set32(put(b, 4), x);
}

static void
put64(struct fs_mig_buf *b, uint64_t x)
{
    put32(b, x >> 32);
    put32(b, x);
}

static void
put_text(struct fs_mig_buf *b, const char *s, bool spaces)
{
    size_t n = strlen(s);

    if (!text_ok((const uint8_t *) s, n, spaces)) {
        abort();
    }
    *put(b, 1) = n;
    memcpy(put(b, n), s, n);
}

static size_t
start(struct fs_mig_buf *b, uint8_t type, uint16_t flags)
{
    size_t at = b->len;
    uint8_t *h = put(b, FS_MIG_HDR_LEN);

    set32(h, FS_MIG_MAGIC);
    h[4] = FS_MIG_VERSION;
    h[5] = type;
    set16(h + 6, flags);
    return at;
}

static void
end(struct fs_mig_buf *b, size_t at)
{
    set32(b->data + at + 8, b->len - at - FS_MIG_HDR_LEN);
}

void
fs_mig_put_request(struct fs_mig_buf *b, const char *iface_id)
{
    size_t at = start(b, FS_MIG_REQUEST, 0);

    put_text(b, iface_id, false);
    end(b, at);
}

void
fs_mig_put_offer(struct fs_mig_buf *b, const char *iface_id, uint32_t port,
                 uint64_t digest, uint32_t n_flows)
{
    size_t at = start(b, FS_MIG_OFFER, 0);

    put_text(b, iface_id, false);
    put32(b, port);
    put64(b, digest);
    put32(b, n_flows);
    end(b, at);
}

void
fs_mig_put_accept(struct fs_mig_buf *b, uint32_t port)
{
    size_t at = start(b, FS_MIG_ACCEPT, 0);

    put32(b, port);
    end(b, at);
}

void
fs_mig_put_refuse(struct fs_mig_buf *b, const char *reason)
{
    size_t at = start(b, FS_MIG_REFUSE, 0);

    put_text(b, reason, true);
    end(b, at);
}

void
fs_mig_put_cancel(struct fs_mig_buf *b, const char *reason)
{
    size_t at = start(b, FS_MIG_CANCEL, 0);

    put_text(b, reason, true);
    end(b, at);
}

void
fs_mig_put_switch(struct fs_mig_buf *b)
{
    end(b, start(b, FS_MIG_SWITCH, 0));
}

void
fs_mig_put_ack(struct fs_mig_buf *b, uint32_t seq, uint32_t imported,
               uint32_t updated, uint32_t conflicts, uint32_t rejudged)
{
    size_t at = start(b, FS_MIG_ACK, 0);

    put32(b, seq);
    put32(b, imported);
    put32(b, updated);
    put32(b, conflicts);
    put32(b, rejudged);
    end(b, at);
}

void
fs_mig_put_ended(struct fs_mig_buf *b, uint32_t seq, const uint64_t *ids,
                 uint32_t n)
{
    size_t at = start(b, FS_MIG_ENDED, 0);
    uint32_t i;

    put32(b, seq);
    put32(b, n);
    for (i = 0; i < n; i++) {
        put64(b, ids[i]);
    }
    end(b, at);
}

void
fs_mig_records_start(struct fs_mig_buf *b, struct fs_mig_records *r,
                     uint32_t seq, uint16_t flags)
{
    r->start = start(b, FS_MIG_RECORDS, flags);
    r->n = 0;
    put32(b, seq);
    put32(b, 0);
}

bool
fs_mig_records_add(struct fs_mig_buf *b, struct fs_mig_records *r,
                   const void *rec, size_t len)
{
    size_t body = b->len - r->start - FS_MIG_HDR_LEN;

    if (!len || len > UINT16_MAX || body + 2 + len > FS_MIG_MAX_BODY) {
        return false;
    }
    set16(put(b, 2), len);
    memcpy(put(b, len), rec, len);
    r->n++;
    return true;
}

void
fs_mig_records_end(struct fs_mig_buf *b, struct fs_mig_records *r)
{
    set32(b->data + r->start + FS_MIG_HDR_LEN + 4, r->n);
    end(b, r->start);
}
