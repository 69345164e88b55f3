/*
 * libFuzzer target for the migration messages between two flowsteerd
 * (ovs-ext/fs-mig-msg.h), which each decodes from the other's TLS stream,
 * untrusted: any bytes must be refused with a reason or decode, and a
 * message that decodes must encode again, through the encoders, to the
 * same bytes (one encoding per message: nothing is ignored).  The input is
 * also read as a stream, framed and decoded message after message.
 *
 * With FUZZ_MIG_SEEDS=DIR set it writes a seed corpus of one good message
 * of each type, and of two messages in one stream, into DIR and exits.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-mig-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Writes the messages in 'b', which must all be good, to 'dir'/'name'. */
static void
write_seed(const char *dir, const char *name, const struct fs_mig_buf *b)
{
    struct fs_mig_msg m;
    const char *why = "need more";
    char path[4096];
    size_t off, msg_len;
    FILE *f;

    for (off = 0; off < b->len; off += msg_len) {
        if (fs_mig_frame(b->data + off, b->len - off, &msg_len, &why) != 1
            || fs_mig_decode(b->data + off, msg_len, &m, &why)) {
            fprintf(stderr, "seed %s: %s\n", name, why);
            exit(1);
        }
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void
put_records(struct fs_mig_buf *b, uint32_t seq, uint16_t flags)
{
    struct fs_mig_records r;

    fs_mig_records_start(b, &r, seq, flags);
    if (!fs_mig_records_add(b, &r, "Fr\x02\x00\x00\x08" "ab", 8)
        || !fs_mig_records_add(b, &r, "Fr\x02\x00\x00\x06", 6)) {
        abort();
    }
    fs_mig_records_end(b, &r);
}

static void
write_seeds(const char *dir)
{
    static const uint64_t ids[] = { 5, UINT64_C(1) << 40, 7 };
    struct fs_mig_buf b = FS_MIG_BUF_INIT;

    fs_mig_put_request(&b, "vm1-eth0");
    write_seed(dir, "request", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_offer(&b, "vm1-eth0", 3, UINT64_C(0x0123456789abcdef), 2);
    write_seed(dir, "offer", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_accept(&b, 4);
    write_seed(dir, "accept", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_refuse(&b, "policy digest differs");
    write_seed(dir, "refuse", &b);

    fs_mig_buf_clear(&b);
    put_records(&b, 1, 0);
    write_seed(dir, "records", &b);

    fs_mig_buf_clear(&b);
    put_records(&b, 3, FS_MIG_F_FINAL);
    write_seed(dir, "records-final", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_ended(&b, 2, ids, 3);
    write_seed(dir, "ended", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_ack(&b, 1, 2, 0, 0, 0);
    write_seed(dir, "ack", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_switch(&b);
    write_seed(dir, "switch", &b);

    fs_mig_buf_clear(&b);
    fs_mig_put_cancel(&b, "VM went away");
    write_seed(dir, "cancel", &b);

    /* Two messages, one after the other, as a stream carries them. */
    fs_mig_buf_clear(&b);
    put_records(&b, 4, 0);
    fs_mig_put_ended(&b, 5, ids, 1);
    write_seed(dir, "stream", &b);

    fs_mig_buf_uninit(&b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("FUZZ_MIG_SEEDS");

    (void) argc;
    (void) argv;
    if (dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}

/* Appends to 'b' the message 'm' decoded, through the encoders. */
static void
reencode(const struct fs_mig_msg *m, struct fs_mig_buf *b)
{
    struct fs_mig_records r;
    const uint8_t *rec;
    size_t off, len;
    uint64_t *ids;
    uint32_t i;

    switch (m->type) {
    case FS_MIG_REQUEST:
        fs_mig_put_request(b, m->text);
        break;
    case FS_MIG_OFFER:
        fs_mig_put_offer(b, m->text, m->port, m->digest, m->n);
        break;
    case FS_MIG_ACCEPT:
        fs_mig_put_accept(b, m->port);
        break;
    case FS_MIG_REFUSE:
        fs_mig_put_refuse(b, m->text);
        break;
    case FS_MIG_RECORDS:
        fs_mig_records_start(b, &r, m->seq, m->flags);
        off = 0;
        while (fs_mig_records_next(m, &off, &rec, &len)) {
            /* Each record lies within the decoded bytes. */
            if (!len || rec < m->data || rec + len > m->data + m->data_len
                || !fs_mig_records_add(b, &r, rec, len)) {
                __builtin_trap();
            }
        }
        /* The records are what N says, and all the body after it. */
        if (r.n != m->n || off != m->data_len) {
            __builtin_trap();
        }
        fs_mig_records_end(b, &r);
        break;
    case FS_MIG_ENDED:
        if (m->data_len != (size_t) m->n * 8) {
            __builtin_trap();
        }
        ids = malloc((m->n ? m->n : 1) * sizeof *ids);
        if (!ids) {
            abort();
        }
        for (i = 0; i < m->n; i++) {
            ids[i] = fs_mig_ended_id(m, i);
        }
        fs_mig_put_ended(b, m->seq, ids, m->n);
        free(ids);
        break;
    case FS_MIG_ACK:
        fs_mig_put_ack(b, m->seq, m->imported, m->updated, m->conflicts,
                       m->rejudged);
        break;
    case FS_MIG_SWITCH:
        fs_mig_put_switch(b);
        break;
    case FS_MIG_CANCEL:
        fs_mig_put_cancel(b, m->text);
        break;
    default:
        __builtin_trap();       /* Decoded, yet no type we know. */
    }
}

/* Decodes the 'len' bytes at 'p' as one whole message: returns true if it
 * decodes, after checking that it encodes again to the same bytes. */
static bool
decode_one(const uint8_t *p, size_t len)
{
    static struct fs_mig_buf again = FS_MIG_BUF_INIT;
    struct fs_mig_msg m;
    const char *why = NULL;
    size_t msg_len;

    if (fs_mig_decode(p, len, &m, &why)) {
        if (!why) {
            __builtin_trap();   /* A refusal always says why. */
        }
        return false;
    }
    /* What decodes frames as itself. */
    why = NULL;
    if (fs_mig_frame(p, len, &msg_len, &why) != 1 || msg_len != len
        || strlen(m.text) > FS_MIG_TEXT_MAX) {
        __builtin_trap();
    }
    fs_mig_buf_clear(&again);
    reencode(&m, &again);
    if (again.len != len || memcmp(again.data, p, len)) {
        __builtin_trap();
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    /* The whole input, as one message. */
    decode_one(data, size);

    /* The input as a stream: framed and decoded while messages come. */
    while (off < size) {
        const char *why = NULL;
        size_t msg_len = 0;
        int retval = fs_mig_frame(data + off, size - off, &msg_len, &why);

        if (retval < 0) {
            if (!why) {
                __builtin_trap();
            }
            break;
        } else if (!retval) {
            break;              /* Need more. */
        } else if (msg_len < FS_MIG_HDR_LEN || msg_len > size - off
                   || msg_len > FS_MIG_HDR_LEN + FS_MIG_MAX_BODY) {
            __builtin_trap();
        }
        if (!decode_one(data + off, msg_len)) {
            break;              /* The stream would close here. */
        }
        off += msg_len;
    }
    return 0;
}
