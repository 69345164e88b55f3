/* Unit tests of ovs-ext/fs-mig-msg: every message type survives the round
 * trip, messages follow one another in a stream, and every kind of bad
 * message (a peer's, untrusted) is refused with a reason, including every
 * truncation of every good one. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-mig-msg.h"
#include "test-util.h"

static struct fs_mig_msg msg;
static const char *why;

/* The length the header at 'p' gives its body. */
static uint32_t
body_len(const uint8_t *p)
{
    return (uint32_t) p[8] << 24 | (uint32_t) p[9] << 16
           | (uint32_t) p[10] << 8 | p[11];
}

static void
set_body_len(uint8_t *p, uint32_t n)
{
    p[8] = n >> 24;
    p[9] = n >> 16;
    p[10] = n >> 8;
    p[11] = n;
}

/* Frames and decodes the 'len' bytes at 'p', which must be exactly one
 * good message, into 'msg'.  Returns true if both succeed. */
static bool
decode_whole(const uint8_t *p, size_t len)
{
    size_t msg_len = 0;
    int error;

    why = NULL;
    CHECK_INT(fs_mig_frame(p, len, &msg_len, &why), 1);
    CHECK_INT(msg_len, len);
    why = NULL;
    error = fs_mig_decode(p, len, &msg, &why);
    if (error) {
        fprintf(stderr, "decode failed: %s\n", why ? why : "(no reason)");
    }
    CHECK_INT(error, 0);
    return !error && msg_len == len;
}

/* Decodes the 'len' bytes at 'p' as a whole message, expecting -EINVAL
 * with 'reason'. */
static void
refused(const uint8_t *p, size_t len, const char *reason)
{
    why = NULL;
    CHECK_INT(fs_mig_decode(p, len, &msg, &why), -EINVAL);
    CHECK_STR(why, reason);
}

/* Every proper prefix of the good message of 'len' bytes at 'p' is "need
 * more" to fs_mig_frame() and refused by fs_mig_decode() as a whole
 * message of the wrong length; and with its header's length fixed to match
 * (so that what is short is the body), it is still refused, as cut short.
 * Then a byte after the last field, counted in the header, is refused. */
static void
truncations_refused(const uint8_t *p, size_t len)
{
    uint8_t *cut = malloc(len + 1);
    size_t need_more = 0, wrong_len = 0, cut_short = 0;

    memcpy(cut, p, len);
    for (size_t n = 0; n < len; n++) {
        size_t msg_len;

        why = NULL;
        if (!fs_mig_frame(p, n, &msg_len, &why)) {
            need_more++;
        }
        why = NULL;
        if (fs_mig_decode(p, n, &msg, &why) == -EINVAL && why
            && !strcmp(why, "message length does not match")) {
            wrong_len++;
        }
        if (n < FS_MIG_HDR_LEN) {
            cut_short++;
            continue;
        }
        set_body_len(cut, n - FS_MIG_HDR_LEN);
        why = NULL;
        if (fs_mig_decode(cut, n, &msg, &why) == -EINVAL && why
            && !strcmp(why, "message cut short")) {
            cut_short++;
        } else {
            fprintf(stderr, "a %zu-byte prefix of a %zu-byte %s was not "
                    "refused as cut short\n", n, len,
                    fs_mig_type_name(p[5]));
        }
    }
    CHECK_INT(need_more, len);
    CHECK_INT(wrong_len, len);
    CHECK_INT(cut_short, len);

    set_body_len(cut, len + 1 - FS_MIG_HDR_LEN);
    cut[len] = 0;
    refused(cut, len + 1, "bytes after the last field");
    /* The same byte, not counted in the header. */
    set_body_len(cut, len - FS_MIG_HDR_LEN);
    refused(cut, len + 1, "message length does not match");
    free(cut);
}

/* Builds, in 'out', a message of 'type' and 'flags' with the 'n' bytes of
 * 'body'.  Returns its length. */
static size_t
raw_msg(uint8_t *out, uint8_t type, uint16_t flags, const void *body,
        size_t n)
{
    memcpy(out, "FSMG", 4);
    out[4] = FS_MIG_VERSION;
    out[5] = type;
    out[6] = flags >> 8;
    out[7] = flags;
    set_body_len(out, n);
    memcpy(out + FS_MIG_HDR_LEN, body, n);
    return FS_MIG_HDR_LEN + n;
}

/* Fields that 'msg' must have zero for a message of its type. */
static void
check_unused_zero(bool text, bool port, bool seq, bool n, bool data)
{
    if (!text) {
        CHECK_INT(msg.text[0], 0);
    }
    if (!port) {
        CHECK_INT(msg.port, 0);
    }
    if (!seq) {
        CHECK_INT(msg.seq, 0);
    }
    if (!n) {
        CHECK_INT(msg.n, 0);
    }
    if (!data) {
        CHECK(msg.data == NULL);
        CHECK_INT(msg.data_len, 0);
    }
}

static void
test_type_names(void)
{
    CHECK_STR(fs_mig_type_name(FS_MIG_REQUEST), "REQUEST");
    CHECK_STR(fs_mig_type_name(FS_MIG_OFFER), "OFFER");
    CHECK_STR(fs_mig_type_name(FS_MIG_ACCEPT), "ACCEPT");
    CHECK_STR(fs_mig_type_name(FS_MIG_REFUSE), "REFUSE");
    CHECK_STR(fs_mig_type_name(FS_MIG_RECORDS), "RECORDS");
    CHECK_STR(fs_mig_type_name(FS_MIG_ENDED), "ENDED");
    CHECK_STR(fs_mig_type_name(FS_MIG_ACK), "ACK");
    CHECK_STR(fs_mig_type_name(FS_MIG_SWITCH), "SWITCH");
    CHECK_STR(fs_mig_type_name(FS_MIG_CANCEL), "CANCEL");
    CHECK_STR(fs_mig_type_name(0), "unknown");
    CHECK_STR(fs_mig_type_name(10), "unknown");
    CHECK_STR(fs_mig_type_name(-1), "unknown");
}

static void
test_request(void)
{
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    char longest[FS_MIG_TEXT_MAX + 1];

    fs_mig_put_request(&b, "vm1-eth0");
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 1 + 8);
    CHECK(!memcmp(b.data, "FSMG\x01\x01\x00\x00\x00\x00\x00\x09\x08"
                  "vm1-eth0", b.len));
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_REQUEST);
        CHECK_INT(msg.flags, 0);
        CHECK_STR(msg.text, "vm1-eth0");
        CHECK_INT(msg.digest, 0);
        check_unused_zero(true, false, false, false, false);
    }
    truncations_refused(b.data, b.len);

    /* The text is copied out: changing the bytes does not change it. */
    CHECK(decode_whole(b.data, b.len));
    b.data[FS_MIG_HDR_LEN + 1] = 'X';
    CHECK_STR(msg.text, "vm1-eth0");

    /* The longest iface-id there is, every printable but space. */
    for (int i = 0; i < FS_MIG_TEXT_MAX; i++) {
        longest[i] = '!' + i % ('~' - '!' + 1);
    }
    longest[FS_MIG_TEXT_MAX] = '\0';
    fs_mig_buf_clear(&b);
    CHECK_INT(b.len, 0);
    fs_mig_put_request(&b, longest);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 1 + FS_MIG_TEXT_MAX);
    CHECK_INT(b.data[FS_MIG_HDR_LEN], FS_MIG_TEXT_MAX);
    if (decode_whole(b.data, b.len)) {
        CHECK_STR(msg.text, longest);
        CHECK_INT(strlen(msg.text), FS_MIG_TEXT_MAX);
    }
    truncations_refused(b.data, b.len);
    fs_mig_buf_uninit(&b);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.allocated, 0);
}

static void
test_offer(void)
{
    static const uint8_t expected[] = {
        'F', 'S', 'M', 'G', 1, FS_MIG_OFFER, 0, 0, 0, 0, 0, 20,
        3, 'v', 'm', '1',
        0xff, 0xff, 0xff, 0xfe,
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0x00, 0x01, 0x86, 0xa0,
    };
    struct fs_mig_buf b = FS_MIG_BUF_INIT;

    fs_mig_put_offer(&b, "vm1", 0xfffffffe, UINT64_C(0x0123456789abcdef),
                     100000);
    CHECK_INT(b.len, sizeof expected);
    CHECK(b.len == sizeof expected && !memcmp(b.data, expected, b.len));
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_OFFER);
        CHECK_INT(msg.flags, 0);
        CHECK_STR(msg.text, "vm1");
        CHECK_INT(msg.port, 0xfffffffe);
        CHECK(msg.digest == UINT64_C(0x0123456789abcdef));
        CHECK_INT(msg.n, 100000);
        check_unused_zero(true, true, false, true, false);
    }
    truncations_refused(b.data, b.len);

    fs_mig_buf_clear(&b);
    fs_mig_put_offer(&b, "x", 0, UINT64_MAX, 0);
    if (decode_whole(b.data, b.len)) {
        CHECK_STR(msg.text, "x");
        CHECK_INT(msg.port, 0);
        CHECK(msg.digest == UINT64_MAX);
        CHECK_INT(msg.n, 0);
    }
    fs_mig_buf_uninit(&b);
}

static void
test_accept_ack_switch(void)
{
    struct fs_mig_buf b = FS_MIG_BUF_INIT;

    fs_mig_put_accept(&b, 70000);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 4);
    CHECK_INT(body_len(b.data), 4);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_ACCEPT);
        CHECK_INT(msg.flags, 0);
        CHECK_INT(msg.port, 70000);
        CHECK(msg.digest == 0);
        check_unused_zero(false, true, false, false, false);
    }
    truncations_refused(b.data, b.len);

    fs_mig_buf_clear(&b);
    fs_mig_put_ack(&b, 0x80000001, 11, 22, 33, 0xffffffff);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 20);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_ACK);
        CHECK_INT(msg.flags, 0);
        CHECK_INT(msg.seq, 0x80000001);
        CHECK_INT(msg.imported, 11);
        CHECK_INT(msg.updated, 22);
        CHECK_INT(msg.conflicts, 33);
        CHECK_INT(msg.rejudged, 0xffffffff);
        check_unused_zero(false, false, true, false, false);
    }
    truncations_refused(b.data, b.len);

    fs_mig_buf_clear(&b);
    fs_mig_put_switch(&b);
    CHECK_INT(b.len, FS_MIG_HDR_LEN);
    CHECK(!memcmp(b.data, "FSMG\x01\x08\0\0\0\0\0\0", FS_MIG_HDR_LEN));
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_SWITCH);
        CHECK_INT(msg.flags, 0);
        CHECK_INT(msg.imported + msg.updated + msg.conflicts
                  + msg.rejudged, 0);
        check_unused_zero(false, false, false, false, false);
    }
    truncations_refused(b.data, b.len);
    fs_mig_buf_uninit(&b);
}

static void
test_refuse_cancel(void)
{
    struct fs_mig_buf b = FS_MIG_BUF_INIT;

    /* A reason may have spaces and any printable character. */
    fs_mig_put_refuse(&b, "policy digest differs: 0x1f ~ {x}");
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 1 + 33);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_REFUSE);
        CHECK_INT(msg.flags, 0);
        CHECK_STR(msg.text, "policy digest differs: 0x1f ~ {x}");
        check_unused_zero(true, false, false, false, false);
    }
    truncations_refused(b.data, b.len);

    fs_mig_buf_clear(&b);
    fs_mig_put_cancel(&b, " ");
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_CANCEL);
        CHECK_STR(msg.text, " ");
    }
    fs_mig_buf_clear(&b);
    fs_mig_put_cancel(&b, "VM went away");
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_CANCEL);
        CHECK_INT(msg.flags, 0);
        CHECK_STR(msg.text, "VM went away");
        check_unused_zero(true, false, false, false, false);
    }
    truncations_refused(b.data, b.len);
    fs_mig_buf_uninit(&b);
}

static void
test_ended(void)
{
    static const uint64_t ids[] = {
        0, 1, UINT64_C(0x0102030405060708), UINT64_MAX,
    };
    struct fs_mig_buf b = FS_MIG_BUF_INIT;

    fs_mig_put_ended(&b, 7, ids, 4);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 8 + 4 * 8);
    /* Network order. */
    CHECK(!memcmp(b.data + FS_MIG_HDR_LEN + 8 + 16,
                  "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_ENDED);
        CHECK_INT(msg.flags, 0);
        CHECK_INT(msg.seq, 7);
        CHECK_INT(msg.n, 4);
        CHECK(msg.data == b.data + FS_MIG_HDR_LEN + 8);
        CHECK_INT(msg.data_len, 32);
        for (uint32_t i = 0; i < 4; i++) {
            CHECK(fs_mig_ended_id(&msg, i) == ids[i]);
        }
        check_unused_zero(false, false, true, true, true);
    }
    truncations_refused(b.data, b.len);

    /* None ended. */
    fs_mig_buf_clear(&b);
    fs_mig_put_ended(&b, 0xffffffff, NULL, 0);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 8);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_ENDED);
        CHECK_INT(msg.seq, 0xffffffff);
        CHECK_INT(msg.n, 0);
        CHECK_INT(msg.data_len, 0);
    }
    truncations_refused(b.data, b.len);
    fs_mig_buf_uninit(&b);
}

/* Fills 'rec' with 'len' bytes that depend on 'seed'. */
static void
fill(uint8_t *rec, size_t len, unsigned int seed)
{
    for (size_t i = 0; i < len; i++) {
        rec[i] = (uint8_t) (seed * 31 + i * 7 + (i >> 8));
    }
}

static void
test_records(void)
{
    static uint8_t recs[3][UINT16_MAX];
    static const size_t lens[3] = { 1, 300, UINT16_MAX };
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    struct fs_mig_records r;
    const uint8_t *rec;
    size_t off, len;
    int i;

    fs_mig_records_start(&b, &r, 42, 0);
    CHECK_INT(r.start, 0);
    CHECK_INT(r.n, 0);
    for (i = 0; i < 3; i++) {
        fill(recs[i], lens[i], i);
        CHECK(fs_mig_records_add(&b, &r, recs[i], lens[i]));
        CHECK_INT(r.n, i + 1);
    }
    fs_mig_records_end(&b, &r);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 8 + 6 + 1 + 300 + UINT16_MAX);
    CHECK_INT(body_len(b.data), b.len - FS_MIG_HDR_LEN);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_RECORDS);
        CHECK_INT(msg.flags, 0);
        CHECK_INT(msg.seq, 42);
        CHECK_INT(msg.n, 3);
        CHECK(msg.data == b.data + FS_MIG_HDR_LEN + 8);
        CHECK_INT(msg.data_len, b.len - FS_MIG_HDR_LEN - 8);
        check_unused_zero(false, false, true, true, true);

        off = 0;
        for (i = 0; fs_mig_records_next(&msg, &off, &rec, &len); i++) {
            if (i < 3) {
                CHECK_INT(len, lens[i]);
                CHECK(len == lens[i] && !memcmp(rec, recs[i], len));
            }
        }
        CHECK_INT(i, 3);
        CHECK_INT(off, msg.data_len);
        /* And past the end, still nothing. */
        CHECK(!fs_mig_records_next(&msg, &off, &rec, &len));
    }
    truncations_refused(b.data, b.len);

    /* The switch-over: FINAL, possibly with no records at all. */
    fs_mig_buf_clear(&b);
    fs_mig_records_start(&b, &r, 43, FS_MIG_F_FINAL);
    fs_mig_records_end(&b, &r);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 8);
    CHECK_INT(b.data[7], FS_MIG_F_FINAL);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_RECORDS);
        CHECK_INT(msg.flags, FS_MIG_F_FINAL);
        CHECK_INT(msg.seq, 43);
        CHECK_INT(msg.n, 0);
        CHECK_INT(msg.data_len, 0);
        off = 0;
        CHECK(!fs_mig_records_next(&msg, &off, &rec, &len));
        CHECK_INT(off, 0);
    }
    truncations_refused(b.data, b.len);

    fs_mig_buf_clear(&b);
    fs_mig_records_start(&b, &r, 44, FS_MIG_F_FINAL);
    CHECK(fs_mig_records_add(&b, &r, "ab", 2));
    CHECK(fs_mig_records_add(&b, &r, "cde", 3));
    fs_mig_records_end(&b, &r);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.flags, FS_MIG_F_FINAL);
        CHECK_INT(msg.n, 2);
        off = 0;
        CHECK(fs_mig_records_next(&msg, &off, &rec, &len));
        CHECK(len == 2 && !memcmp(rec, "ab", 2));
        CHECK(fs_mig_records_next(&msg, &off, &rec, &len));
        CHECK(len == 3 && !memcmp(rec, "cde", 3));
        CHECK(!fs_mig_records_next(&msg, &off, &rec, &len));
    }
    truncations_refused(b.data, b.len);

    /* Another type has no records. */
    fs_mig_buf_clear(&b);
    fs_mig_put_ended(&b, 1, (const uint64_t[]) { 5, 6 }, 2);
    if (decode_whole(b.data, b.len)) {
        off = 0;
        CHECK(!fs_mig_records_next(&msg, &off, &rec, &len));
    }
    fs_mig_buf_uninit(&b);
}

/* fs_mig_records_add() refuses what cannot go, and then adds nothing. */
static void
test_records_limits(void)
{
    static uint8_t big[UINT16_MAX + 1];
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    struct fs_mig_records r;
    const uint8_t *rec;
    size_t before, off, len, body;
    int i, n = 0, good = 0;

    /* Something else in the buffer first: 'start' is where it begins. */
    fs_mig_put_switch(&b);
    fs_mig_records_start(&b, &r, 9, 0);
    CHECK_INT(r.start, FS_MIG_HDR_LEN);

    before = b.len;
    CHECK(!fs_mig_records_add(&b, &r, "x", 0));
    CHECK(!fs_mig_records_add(&b, &r, big, UINT16_MAX + 1));
    CHECK(!fs_mig_records_add(&b, &r, big, SIZE_MAX));
    CHECK_INT(b.len, before);
    CHECK_INT(r.n, 0);

    /* Records of 65535 bytes up to the limit, then one that fills the body
     * to exactly FS_MIG_MAX_BODY. */
    for (i = 0; ; i++) {
        body = b.len - r.start - FS_MIG_HDR_LEN;
        if (body + 2 + UINT16_MAX > FS_MIG_MAX_BODY) {
            break;
        }
        fill(big, UINT16_MAX, i);
        CHECK(fs_mig_records_add(&b, &r, big, UINT16_MAX));
    }
    CHECK_INT(i, (FS_MIG_MAX_BODY - 8) / (2 + UINT16_MAX));
    CHECK_INT(r.n, i);
    len = FS_MIG_MAX_BODY - body - 2;
    before = b.len;
    CHECK(!fs_mig_records_add(&b, &r, big, UINT16_MAX));
    CHECK(!fs_mig_records_add(&b, &r, big, len + 1));
    CHECK_INT(b.len, before);
    CHECK_INT(r.n, i);
    fill(big, len, i);
    CHECK(fs_mig_records_add(&b, &r, big, len));
    CHECK_INT(b.len - r.start - FS_MIG_HDR_LEN, FS_MIG_MAX_BODY);
    CHECK_INT(r.n, i + 1);

    /* Full: not even one byte more. */
    before = b.len;
    CHECK(!fs_mig_records_add(&b, &r, "x", 1));
    CHECK_INT(b.len, before);
    CHECK_INT(r.n, i + 1);
    fs_mig_records_end(&b, &r);

    /* And what is there decodes, every record intact. */
    fs_mig_buf_pull(&b, FS_MIG_HDR_LEN);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + FS_MIG_MAX_BODY);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.type, FS_MIG_RECORDS);
        CHECK_INT(msg.seq, 9);
        CHECK_INT(msg.n, i + 1);
        off = 0;
        while (fs_mig_records_next(&msg, &off, &rec, &len)) {
            size_t want = n < i ? UINT16_MAX : FS_MIG_MAX_BODY - body - 2;

            fill(big, want, n);
            good += len == want && !memcmp(rec, big, len);
            n++;
        }
        CHECK_INT(n, i + 1);
        CHECK_INT(good, i + 1);
    }

    /* One byte over the limit is too long for the stream itself. */
    set_body_len(b.data, FS_MIG_MAX_BODY + 1);
    why = NULL;
    CHECK_INT(fs_mig_frame(b.data, b.len, &len, &why), -EINVAL);
    CHECK_STR(why, "message too long");
    fs_mig_buf_uninit(&b);
}

/* The most ids an ENDED message can take fill its body exactly. */
static void
test_ended_limit(void)
{
    uint32_t n = (FS_MIG_MAX_BODY - 8) / 8;
    uint64_t *ids = malloc(n * sizeof *ids);
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    uint32_t i, good = 0;

    for (i = 0; i < n; i++) {
        ids[i] = (uint64_t) i << 32 | (i ^ 0xa5a5a5a5u);
    }
    fs_mig_put_ended(&b, 3, ids, n);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + FS_MIG_MAX_BODY);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.n, n);
        for (i = 0; i < n; i++) {
            good += fs_mig_ended_id(&msg, i) == ids[i];
        }
        CHECK_INT(good, n);
    }
    free(ids);
    fs_mig_buf_uninit(&b);
}

/* Several messages appended to one buffer come out one after the other, as
 * a receiver that frames, decodes and pulls sees them. */
static void
test_stream(void)
{
    static const uint8_t types[] = {
        FS_MIG_REQUEST, FS_MIG_OFFER, FS_MIG_ACCEPT, FS_MIG_RECORDS,
        FS_MIG_ENDED, FS_MIG_ACK, FS_MIG_RECORDS, FS_MIG_SWITCH,
        FS_MIG_REFUSE, FS_MIG_CANCEL,
    };
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    struct fs_mig_records r;
    const uint8_t *rec;
    size_t msg_len, off, len, total;
    int n = 0;

    fs_mig_put_request(&b, "vm7");
    fs_mig_put_offer(&b, "vm7", 5, 99, 2);
    fs_mig_put_accept(&b, 6);
    fs_mig_records_start(&b, &r, 1, 0);
    CHECK(fs_mig_records_add(&b, &r, "one", 3));
    CHECK(fs_mig_records_add(&b, &r, "two!", 4));
    fs_mig_records_end(&b, &r);
    fs_mig_put_ended(&b, 2, (const uint64_t[]) { 77 }, 1);
    fs_mig_put_ack(&b, 1, 2, 0, 0, 0);
    fs_mig_records_start(&b, &r, 3, FS_MIG_F_FINAL);
    CHECK(fs_mig_records_add(&b, &r, "three", 5));
    fs_mig_records_end(&b, &r);
    fs_mig_put_switch(&b);
    fs_mig_put_refuse(&b, "no such VM");
    fs_mig_put_cancel(&b, "bye now");
    total = b.len;

    /* Walked in place. */
    for (off = 0; off < b.len; n++) {
        why = NULL;
        if (fs_mig_frame(b.data + off, b.len - off, &msg_len, &why) != 1
            || fs_mig_decode(b.data + off, msg_len, &msg, &why)) {
            fprintf(stderr, "message %d: %s\n", n, why ? why : "short");
            break;
        }
        CHECK(n < sizeof types && msg.type == types[n]);
        off += msg_len;
    }
    CHECK_INT(n, sizeof types);
    CHECK_INT(off, total);

    /* Taken off the front, one by one, each checked. */
    why = NULL;
    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(msg_len, FS_MIG_HDR_LEN + 4);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_STR(msg.text, "vm7");
    fs_mig_buf_pull(&b, msg_len);
    CHECK_INT(b.len, total - msg_len);
    total = b.len;
    fs_mig_buf_pull(&b, 0);
    CHECK_INT(b.len, total);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_OFFER);
    CHECK_INT(msg.port, 5);
    CHECK(msg.digest == 99);
    CHECK_INT(msg.n, 2);
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_ACCEPT);
    CHECK_INT(msg.port, 6);
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_RECORDS);
    CHECK_INT(msg.seq, 1);
    CHECK_INT(msg.n, 2);
    off = 0;
    CHECK(fs_mig_records_next(&msg, &off, &rec, &len)
          && len == 3 && !memcmp(rec, "one", 3));
    CHECK(fs_mig_records_next(&msg, &off, &rec, &len)
          && len == 4 && !memcmp(rec, "two!", 4));
    CHECK(!fs_mig_records_next(&msg, &off, &rec, &len));
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_ENDED);
    CHECK_INT(msg.seq, 2);
    CHECK(msg.n == 1 && fs_mig_ended_id(&msg, 0) == 77);
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_ACK);
    CHECK_INT(msg.imported, 2);
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_RECORDS);
    CHECK_INT(msg.flags, FS_MIG_F_FINAL);
    CHECK_INT(msg.seq, 3);
    off = 0;
    CHECK(fs_mig_records_next(&msg, &off, &rec, &len)
          && len == 5 && !memcmp(rec, "three", 5));
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(msg_len, FS_MIG_HDR_LEN);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_SWITCH);
    fs_mig_buf_pull(&b, msg_len);

    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_REFUSE);
    CHECK_STR(msg.text, "no such VM");
    fs_mig_buf_pull(&b, msg_len);

    /* The last one, arriving a byte at a time, is "need more" until it is
     * all there. */
    total = b.len;
    for (len = 0; len < total; len++) {
        CHECK_INT(fs_mig_frame(b.data, len, &msg_len, &why), 0);
    }
    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    CHECK_INT(msg_len, total);
    CHECK_INT(fs_mig_decode(b.data, msg_len, &msg, &why), 0);
    CHECK_INT(msg.type, FS_MIG_CANCEL);
    CHECK_STR(msg.text, "bye now");

    /* Pulling more than there is empties the buffer; it takes more. */
    fs_mig_buf_pull(&b, msg_len + 100);
    CHECK_INT(b.len, 0);
    fs_mig_put_accept(&b, 8);
    CHECK_INT(b.len, FS_MIG_HDR_LEN + 4);
    if (decode_whole(b.data, b.len)) {
        CHECK_INT(msg.port, 8);
    }
    fs_mig_buf_uninit(&b);
}

static void
test_header_errors(void)
{
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    size_t msg_len, n;
    uint8_t h[FS_MIG_HDR_LEN];

    fs_mig_put_accept(&b, 1);
    CHECK(decode_whole(b.data, b.len));
    memcpy(h, b.data, sizeof h);

    /* Bad magic, in any of its bytes, once 12 bytes are there... */
    for (int i = 0; i < 4; i++) {
        b.data[i] ^= 0x20;
        why = NULL;
        CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), -EINVAL);
        CHECK_STR(why, "bad magic");
        refused(b.data, b.len, "bad magic");

        /* ...and before, as soon as the bad byte is. */
        for (n = 0; n < FS_MIG_HDR_LEN; n++) {
            why = NULL;
            CHECK_INT(fs_mig_frame(b.data, n, &msg_len, &why),
                      n > i ? -EINVAL : 0);
            if (n > i) {
                CHECK_STR(why, "bad magic");
            }
        }
        b.data[i] ^= 0x20;
    }
    why = NULL;
    CHECK_INT(fs_mig_frame((const uint8_t *) "GET / HTTP/1.0", 1, &msg_len,
                           &why), -EINVAL);
    CHECK_STR(why, "bad magic");
    CHECK_INT(fs_mig_frame((const uint8_t *) "FSMGX", 4, &msg_len, &why), 0);

    /* Bad versions. */
    b.data[4] = 0;
    why = NULL;
    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), -EINVAL);
    CHECK_STR(why, "unsupported version");
    refused(b.data, b.len, "unsupported version");
    b.data[4] = FS_MIG_VERSION + 1;
    why = NULL;
    CHECK_INT(fs_mig_frame(b.data, FS_MIG_HDR_LEN, &msg_len, &why), -EINVAL);
    CHECK_STR(why, "unsupported version");
    refused(b.data, b.len, "unsupported version");
    b.data[4] = 0xff;
    refused(b.data, b.len, "unsupported version");
    b.data[4] = FS_MIG_VERSION;

    /* Lengths: up to FS_MIG_MAX_BODY is "need more", beyond is refused
     * from the header alone. */
    set_body_len(b.data, FS_MIG_MAX_BODY);
    why = NULL;
    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 0);
    set_body_len(b.data, FS_MIG_MAX_BODY + 1);
    CHECK_INT(fs_mig_frame(b.data, FS_MIG_HDR_LEN, &msg_len, &why), -EINVAL);
    CHECK_STR(why, "message too long");
    refused(b.data, b.len, "message too long");
    set_body_len(b.data, 0xffffffff);
    why = NULL;
    CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), -EINVAL);
    CHECK_STR(why, "message too long");
    refused(b.data, b.len, "message too long");
    set_body_len(b.data, 4);

    /* The header says one length, the bytes given have another. */
    refused(b.data, b.len - 1, "message length does not match");
    refused(b.data, FS_MIG_HDR_LEN, "message length does not match");
    refused(b.data, 0, "message length does not match");

    /* Unknown types. */
    for (int type = 0; type < 256; type++) {
        b.data[5] = type;
        why = NULL;
        if (type >= FS_MIG_REQUEST && type <= FS_MIG_CANCEL) {
            continue;
        }
        CHECK_INT(fs_mig_decode(b.data, b.len, &msg, &why), -EINVAL);
        CHECK_STR(why, "unknown message type");
        /* That is for decode to say, not for framing. */
        CHECK_INT(fs_mig_frame(b.data, b.len, &msg_len, &why), 1);
    }
    b.data[5] = FS_MIG_ACCEPT;

    /* Unknown flags, and FINAL on anything but RECORDS. */
    for (int bit = 0; bit < 16; bit++) {
        b.data[6] = (1 << bit) >> 8;
        b.data[7] = 1 << bit;
        refused(b.data, b.len, "unknown flags");
    }
    b.data[6] = 0;
    b.data[7] = 0;
    CHECK(!memcmp(b.data, h, sizeof h));
    CHECK(decode_whole(b.data, b.len));
    fs_mig_buf_uninit(&b);
}

/* FINAL is a RECORDS flag only; no other flag is, on any type. */
static void
test_flags(void)
{
    struct fs_mig_buf b = FS_MIG_BUF_INIT;
    struct fs_mig_records r;
    size_t at[9];
    int i = 0;

    at[i++] = b.len;
    fs_mig_put_request(&b, "a");
    at[i++] = b.len;
    fs_mig_put_offer(&b, "a", 1, 2, 3);
    at[i++] = b.len;
    fs_mig_put_accept(&b, 1);
    at[i++] = b.len;
    fs_mig_put_refuse(&b, "a");
    at[i++] = b.len;
    fs_mig_put_ended(&b, 1, (const uint64_t[]) { 1 }, 1);
    at[i++] = b.len;
    fs_mig_put_ack(&b, 1, 2, 3, 4, 5);
    at[i++] = b.len;
    fs_mig_put_switch(&b);
    at[i++] = b.len;
    fs_mig_put_cancel(&b, "a");
    at[i++] = b.len;
    fs_mig_records_start(&b, &r, 1, 0);
    fs_mig_records_add(&b, &r, "r", 1);
    fs_mig_records_end(&b, &r);

    for (i = 0; i < 9; i++) {
        size_t end = i < 8 ? at[i + 1] : b.len;
        uint8_t *p = b.data + at[i];

        CHECK(decode_whole(p, end - at[i]));
        p[7] = FS_MIG_F_FINAL;
        if (p[5] == FS_MIG_RECORDS) {
            CHECK(decode_whole(p, end - at[i]));
            CHECK_INT(msg.flags, FS_MIG_F_FINAL);
        } else {
            refused(p, end - at[i], "unknown flags");
        }
        p[7] = 4;
        refused(p, end - at[i], "unknown flags");
        p[6] = 0x80;
        p[7] = FS_MIG_F_FINAL;
        refused(p, end - at[i], "unknown flags");
        p[6] = p[7] = 0;
    }
    fs_mig_buf_uninit(&b);
}

static void
test_text_errors(void)
{
    static const uint8_t bad[] = { 0, 1, '\t', '\n', 0x1f, 0x7f, 0x80, 0xff };
    static uint8_t m[FS_MIG_HDR_LEN + 600];
    uint8_t body[600];
    size_t len;

    /* Empty texts. */
    len = raw_msg(m, FS_MIG_REQUEST, 0, "\0", 1);
    refused(m, len, "bad iface-id");
    len = raw_msg(m, FS_MIG_OFFER, 0, "\0" "\0\0\0\1" "\0\0\0\0\0\0\0\2"
                  "\0\0\0\3", 17);
    refused(m, len, "bad iface-id");
    len = raw_msg(m, FS_MIG_REFUSE, 0, "\0", 1);
    refused(m, len, "bad text");
    len = raw_msg(m, FS_MIG_CANCEL, 0, "\0", 1);
    refused(m, len, "bad text");
    /* Not even the length. */
    len = raw_msg(m, FS_MIG_CANCEL, 0, "", 0);
    refused(m, len, "message cut short");

    /* A good OFFER, built by hand, then spoiled. */
    len = raw_msg(m, FS_MIG_OFFER, 0, "\3vm1" "\0\0\0\1" "\0\0\0\0\0\0\0\2"
                  "\0\0\0\3", 20);
    CHECK(decode_whole(m, len));
    CHECK_STR(msg.text, "vm1");
    CHECK_INT(msg.port, 1);
    CHECK(msg.digest == 2);
    CHECK_INT(msg.n, 3);
    m[FS_MIG_HDR_LEN + 2] = ' ';
    refused(m, len, "bad iface-id");
    m[FS_MIG_HDR_LEN + 2] = '\0';
    refused(m, len, "bad iface-id");

    /* An iface-id: printable, no space; a reason: printable, spaces. */
    for (size_t i = 0; i < sizeof bad; i++) {
        memcpy(body, "\3v?1", 4);
        body[2] = bad[i];
        len = raw_msg(m, FS_MIG_REQUEST, 0, body, 4);
        refused(m, len, "bad iface-id");
        len = raw_msg(m, FS_MIG_REFUSE, 0, body, 4);
        refused(m, len, "bad text");
        len = raw_msg(m, FS_MIG_CANCEL, 0, body, 4);
        refused(m, len, "bad text");
    }
    len = raw_msg(m, FS_MIG_REQUEST, 0, "\3v 1", 4);
    refused(m, len, "bad iface-id");
    len = raw_msg(m, FS_MIG_REQUEST, 0, "\1 ", 2);
    refused(m, len, "bad iface-id");
    len = raw_msg(m, FS_MIG_REFUSE, 0, "\3v 1", 4);
    CHECK(decode_whole(m, len));
    CHECK_STR(msg.text, "v 1");
    len = raw_msg(m, FS_MIG_CANCEL, 0, "\3~!~", 4);
    CHECK(decode_whole(m, len));
    CHECK_STR(msg.text, "~!~");

    /* A text whose length says more than there is. */
    len = raw_msg(m, FS_MIG_REQUEST, 0, "\5ab", 3);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_REFUSE, 0, "\xff" "ab", 3);
    refused(m, len, "message cut short");

    /* 255 is as long as a text can say it is; a 256th byte is one after
     * the last field. */
    body[0] = FS_MIG_TEXT_MAX;
    memset(body + 1, 'a', FS_MIG_TEXT_MAX + 1);
    len = raw_msg(m, FS_MIG_REQUEST, 0, body, 1 + FS_MIG_TEXT_MAX);
    CHECK(decode_whole(m, len));
    CHECK_INT(strlen(msg.text), FS_MIG_TEXT_MAX);
    len = raw_msg(m, FS_MIG_REQUEST, 0, body, 2 + FS_MIG_TEXT_MAX);
    refused(m, len, "bytes after the last field");
    len = raw_msg(m, FS_MIG_CANCEL, 0, body, 2 + FS_MIG_TEXT_MAX);
    refused(m, len, "bytes after the last field");
}

static void
test_records_errors(void)
{
    static uint8_t m[FS_MIG_HDR_LEN + 100];
    size_t len;

    /* The good one first. */
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\2"
                  "\0\1" "a" "\0\2" "bc", 15);
    CHECK(decode_whole(m, len));
    CHECK_INT(msg.seq, 5);
    CHECK_INT(msg.n, 2);

    /* An empty record, first or later. */
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\1" "\0\0", 10);
    refused(m, len, "empty record");
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\2"
                  "\0\1" "a" "\0\0", 13);
    refused(m, len, "empty record");
    len = raw_msg(m, FS_MIG_RECORDS, FS_MIG_F_FINAL, "\0\0\0\5" "\0\0\0\2"
                  "\0\1" "a" "\0\0" "\0\1" "b", 16);
    refused(m, len, "empty record");

    /* N says more records than there are, or fewer. */
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\3"
                  "\0\1" "a" "\0\2" "bc", 15);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\xff\xff\xff\xff"
                  "\0\1" "a" "\0\2" "bc", 15);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\1"
                  "\0\1" "a" "\0\2" "bc", 15);
    refused(m, len, "bytes after the last field");
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\0"
                  "\0\1" "a", 11);
    refused(m, len, "bytes after the last field");

    /* A record whose length says more than there is. */
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\1"
                  "\0\x0a" "abcde", 15);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\1"
                  "\xff\xff" "abcde", 15);
    refused(m, len, "message cut short");
    /* Half a length. */
    len = raw_msg(m, FS_MIG_RECORDS, 0, "\0\0\0\5" "\0\0\0\2"
                  "\0\1" "a" "\0", 12);
    refused(m, len, "message cut short");

    /* ENDED: N ids, 8 bytes each, however large N says it is. */
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\0\0\0\2"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2", 24);
    CHECK(decode_whole(m, len));
    CHECK_INT(msg.n, 2);
    CHECK_INT(fs_mig_ended_id(&msg, 1), 2);
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\xff\xff\xff\xff"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2", 24);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\x20\0\0\0"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2", 24);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\x20\0\0\1"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2", 24);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\0\0\0\3"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2", 24);
    refused(m, len, "message cut short");
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\0\0\0\1"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\2", 24);
    refused(m, len, "bytes after the last field");
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\0\0\0\1"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0", 20);
    refused(m, len, "bytes after the last field");
    len = raw_msg(m, FS_MIG_ENDED, 0, "\0\0\0\1" "\0\0\0\2"
                  "\0\0\0\0\0\0\0\1" "\0\0\0\0", 20);
    refused(m, len, "message cut short");

    /* A SWITCH is empty. */
    len = raw_msg(m, FS_MIG_SWITCH, 0, "\0", 1);
    refused(m, len, "bytes after the last field");
}

/* Runs 'fn' in a child: returns true if it aborted. */
static bool
aborts(void (*fn)(struct fs_mig_buf *))
{
    struct rlimit no_core = { 0, 0 };
    int status;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (!pid) {
        struct fs_mig_buf b = FS_MIG_BUF_INIT;

        setrlimit(RLIMIT_CORE, &no_core);
        fn(&b);
        _exit(0);
    }
    return (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status)
            && WTERMSIG(status) == SIGABRT);
}

static void
put_empty_iface(struct fs_mig_buf *b)
{
    fs_mig_put_request(b, "");
}

static void
put_spaced_iface(struct fs_mig_buf *b)
{
    fs_mig_put_offer(b, "vm 1", 1, 2, 3);
}

static void
put_long_reason(struct fs_mig_buf *b)
{
    char s[FS_MIG_TEXT_MAX + 2];

    memset(s, 'a', FS_MIG_TEXT_MAX + 1);
    s[FS_MIG_TEXT_MAX + 1] = '\0';
    fs_mig_put_cancel(b, s);
}

static void
put_newline_reason(struct fs_mig_buf *b)
{
    fs_mig_put_refuse(b, "two\nlines");
}

static void
put_good_reason(struct fs_mig_buf *b)
{
    fs_mig_put_refuse(b, "one line");
}

/* The encoders abort on a text they must not send (the caller's bug). */
static void
test_encoder_aborts(void)
{
    CHECK(aborts(put_empty_iface));
    CHECK(aborts(put_spaced_iface));
    CHECK(aborts(put_long_reason));
    CHECK(aborts(put_newline_reason));
    CHECK(!aborts(put_good_reason));
}

int
main(void)
{
    RUN_TEST(test_type_names);
    RUN_TEST(test_request);
    RUN_TEST(test_offer);
    RUN_TEST(test_accept_ack_switch);
    RUN_TEST(test_refuse_cancel);
    RUN_TEST(test_ended);
    RUN_TEST(test_records);
    RUN_TEST(test_records_limits);
    RUN_TEST(test_ended_limit);
    RUN_TEST(test_stream);
    RUN_TEST(test_header_errors);
    RUN_TEST(test_flags);
    RUN_TEST(test_text_errors);
    RUN_TEST(test_records_errors);
    RUN_TEST(test_encoder_aborts);
    return test_exit_status();
}
