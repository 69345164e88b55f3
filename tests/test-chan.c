/* Unit tests of dpdk-pmd/fs-chan: every message type survives the round
 * trip, and every kind of bad message is refused with the right error,
 * including every truncation of every good one. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs-chan.h"
#include "test-util.h"

static uint8_t buf[FS_CHAN_MAX_MSG];
static struct fs_chan_msg msg;
static char err[256];

static struct fs_flow_key
test_key(void)
{
    struct fs_flow_key k;

    memset(&k, 0, sizeof k);
    k.src_ip[10] = k.src_ip[11] = 0xff;
    k.src_ip[12] = 10;
    k.src_ip[15] = 1;
    k.dst_ip[10] = k.dst_ip[11] = 0xff;
    k.dst_ip[12] = 10;
    k.dst_ip[15] = 2;
    k.src_port = 40000;
    k.dst_port = 443;
    k.vlan = 7;
    k.l4_proto = 6;
    k.ip_version = 4;
    return k;
}

static struct fs_flow_info
test_flow(void)
{
    struct fs_flow_info f;

    memset(&f, 0, sizeof f);
    f.id = 12345;
    f.key = test_key();
    f.port = 3;
    f.profile = "web";
    f.state = FS_FLOW_DECIDED;
    f.app = "TLS.YouTube";
    f.app_id = 124;
    f.master_id = 91;
    f.category = "Media";
    f.risks = UINT64_C(1) << 40 | 3;
    f.host = "www.youtube.com";
    f.ja3 = "0123456789abcdef0123456789abcdef";
    f.guessed = 1;
    f.verdict.actions = FS_ACT_ALLOW | FS_ACT_MIRROR;
    strcpy(f.verdict.mirror_port, "mirror0");
    f.rule = "policy.conf:12";
    f.rule_priority = -5;
    f.packets[0] = 10;
    f.packets[1] = 20;
    f.bytes[0] = 1000;
    f.bytes[1] = UINT64_C(1) << 33;
    f.packets_inspected = 6;
    f.first_seen_ns = 111;
    f.last_seen_ns = UINT64_C(1) << 62;
    f.peer_port = 4;
    f.peer_profile = NULL;
    f.category_id = 17;
    f.pinned = 1;
    f.end_reason = FS_END_REOPENED;
    f.origin_id = 777;
    return f;
}

/* Decodes buf[0 .. len-1], expecting success, and checks that encoding the
 * result again gives the same bytes. */
static void
round_trip(size_t len)
{
    static uint8_t again[FS_CHAN_MAX_MSG];
    int error = fs_chan_decode(buf, len, &msg, err, sizeof err);
    size_t n;

    if (error) {
        fprintf(stderr, "decode failed: %s\n", err);
    }
    CHECK_INT(error, 0);
    n = fs_chan_reencode(&msg, buf, len, again);
    CHECK_INT(n, len);
    CHECK(n == len && !memcmp(again, buf, len));
}

/* Every proper prefix of the message in buf[0 .. len-1] (with its header's
 * length fixed to match, so that the body is what is short) is refused,
 * but for those that cut only into the last 'open' bytes, an item that
 * runs to the end (a record), which decode. */
static void
truncations_refused_but(size_t len, size_t open)
{
    static uint8_t cut[FS_CHAN_MAX_MSG];
    int refused = 0;

    for (size_t n = 0; n < len; n++) {
        memcpy(cut, buf, n);
        if (n >= 8) {
            cut[4] = n >> 24;
            cut[5] = n >> 16;
            cut[6] = n >> 8;
            cut[7] = n;
        }
        if (fs_chan_decode(cut, n, &msg, err, sizeof err)) {
            refused++;
        } else if (n >= len - open) {
            refused++;
        } else {
            fprintf(stderr, "a %zu-byte prefix of a %zu-byte %s decoded\n",
                    n, len, fs_chan_type_name(buf[1]));
        }
    }
    CHECK_INT(refused, len);
}

static void
truncations_refused(size_t len)
{
    truncations_refused_but(len, 0);
}

static void
test_hello(void)
{
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_HELLO, 0, 7);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, FS_CHAN_ROLE_APPLIANCE);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_u32(&b, 4242);
    fs_chan_put_str(&b, "flowsteer-inspectord 0.1");
    len = fs_chan_finish(&b);
    CHECK(len > FS_CHAN_HDR_LEN);
    round_trip(len);
    CHECK_INT(msg.type, FS_CHAN_HELLO);
    CHECK_INT(msg.xid, 7);
    CHECK_INT(msg.role, FS_CHAN_ROLE_APPLIANCE);
    CHECK_INT(msg.pid, 4242);
    CHECK(msg.str_len == 24 && !memcmp(msg.str, "flowsteer-inspectord 0.1",
                                       24));
    truncations_refused(len);

    /* Another version of the header: refused as such. */
    buf[0] = 1;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err),
              EPROTONOSUPPORT);
    CHECK(strstr(err, "version 1") != NULL);
    buf[0] = FS_CHAN_VERSION;

    /* A role no one has. */
    buf[FS_CHAN_HDR_LEN + 2] = 9;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    CHECK(strstr(err, "role") != NULL);
}

static void
test_header_errors(void)
{
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_GONE, 0, 1);
    fs_chan_put_u64(&b, 99);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.u64, 99);

    /* The header says one length, the datagram has another. */
    CHECK_INT(fs_chan_decode(buf, len - 1, &msg, err, sizeof err), EMSGSIZE);
    buf[len] = 0;
    CHECK_INT(fs_chan_decode(buf, len + 1, &msg, err, sizeof err), EMSGSIZE);

    /* A trailing byte that the header counts. */
    buf[7]++;
    CHECK_INT(fs_chan_decode(buf, len + 1, &msg, err, sizeof err), EPROTO);
    CHECK(strstr(err, "trailing") != NULL);
    buf[7]--;

    /* Flags: unknown, or MORE on a type that has no parts. */
    buf[3] = 0x80;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    buf[3] = FS_CHAN_F_MORE;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    buf[3] = 0;

    /* Unknown types. */
    buf[1] = 200;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    CHECK(strstr(err, "type") != NULL);
    buf[1] = 0;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);

    /* Longer than any message. */
    CHECK_INT(fs_chan_decode(buf, FS_CHAN_MAX_MSG + 1, &msg, err,
                             sizeof err), EMSGSIZE);

    /* What does not fit is not sent. */
    fs_chan_start(&b, buf, 20, FS_CHAN_GONE, 0, 1);
    fs_chan_put_u64(&b, 1);
    fs_chan_put_u64(&b, 2);
    CHECK_INT(fs_chan_finish(&b), 0);
}

static void
test_config_and_ports(void)
{
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_CONFIG, 0, 2);
    fs_chan_put_u8(&b, 1);      /* Inline. */
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, FS_N_EXCEPTIONS);
    for (int i = 0; i < FS_N_EXCEPTIONS; i++) {
        fs_chan_put_u8(&b, i % 3);
    }
    fs_chan_put_u32(&b, 5000);
    fs_chan_put_u32(&b, 1000);
    fs_chan_put_u32(&b, 2000);
    fs_chan_put_u32(&b, 3000);
    fs_chan_put_u64(&b, 1001);
    fs_chan_put_str(&b, "fs-insp0");
    fs_chan_put_str(&b, "afpacket");
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.n_exceptions, FS_N_EXCEPTIONS);
    CHECK_INT(msg.exceptions[1], 1);
    CHECK_INT(msg.idle_ms[2], 3000);
    CHECK_INT(msg.min_flow_id, 1001);
    CHECK(msg.ifname_len == 8 && !memcmp(msg.ifname, "fs-insp0", 8));
    truncations_refused(len);

    /* An exception action that does not exist. */
    buf[FS_CHAN_HDR_LEN + 4] = 3;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    CHECK(strstr(err, "exception action") != NULL);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_PORTS, FS_CHAN_F_MORE, 3);
    fs_chan_put_u16(&b, 2);
    fs_chan_put_u32(&b, 5);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_bytes(&b, "\x02\x00\x00\x00\x00\x05", 6);
    fs_chan_put_str(&b, "vm5");
    fs_chan_put_str(&b, "web");
    fs_chan_put_u32(&b, 6);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_bytes(&b, "\0\0\0\0\0\0", 6);
    fs_chan_put_str(&b, "vm6");
    fs_chan_put_str(&b, "");
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.n_ports, 2);
    CHECK_INT(msg.ports[1].ofport, 6);
    CHECK_INT(msg.ports[1].profile_len, 0);
    CHECK(msg.flags & FS_CHAN_F_MORE);
    truncations_refused(len);

    /* No MAC, but MAC bytes: not the one encoding. */
    buf[len - 2 - 3 - 2 - 6] = 1;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
}

static void
test_policy_parts(void)
{
    static const char text[] = "priority=0, actions=allow\n";
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_POLICY, FS_CHAN_F_MORE, 4);
    fs_chan_put_u8(&b, FS_CHAN_POLICY_SET);
    fs_chan_put_u32(&b, 2 * strlen(text));
    fs_chan_put_u32(&b, 0);
    fs_chan_put_str(&b, "/etc/flowsteer/policy.conf");
    fs_chan_put_bytes(&b, text, strlen(text));
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.data_len, strlen(text));
    CHECK_INT(msg.total, 2 * strlen(text));

    /* The same part as the last: it does not reach the total. */
    buf[3] = 0;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);

    /* The last part, at its offset. */
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_POLICY, 0, 4);
    fs_chan_put_u8(&b, FS_CHAN_POLICY_SET);
    fs_chan_put_u32(&b, 2 * strlen(text));
    fs_chan_put_u32(&b, strlen(text));
    fs_chan_put_str(&b, "/etc/flowsteer/policy.conf");
    fs_chan_put_bytes(&b, text, strlen(text));
    len = fs_chan_finish(&b);
    round_trip(len);

    /* A part past the total, and a NUL in the text. */
    buf[FS_CHAN_HDR_LEN + 8] = 0x7f;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    buf[FS_CHAN_HDR_LEN + 8] = strlen(text);
    buf[len - 1] = '\0';
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
}

static void
test_flow_commands(void)
{
    struct fs_flow_key key = test_key();
    struct fs_verdict v;
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_PIN, 0, 5);
    fs_chan_put_u64(&b, 77);
    fs_chan_put_key(&b, &key);
    fs_chan_put_u8(&b, 1);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.u64, 77);
    CHECK(!memcmp(&msg.key, &key, sizeof key));
    CHECK_INT(msg.u32, 1);
    truncations_refused(len);

    /* IP version 5. */
    buf[FS_CHAN_HDR_LEN + 8 + 39] = 5;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    CHECK(strstr(err, "IP version") != NULL);

    memset(&v, 0, sizeof v);
    v.actions = FS_ACT_DROP;
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT_VERDICT, 0, 6);
    fs_chan_put_u64(&b, 78);
    fs_chan_put_key(&b, &key);
    fs_chan_put_u32(&b, 3);
    fs_chan_put_verdict(&b, &v);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.verdict.actions, FS_ACT_DROP);
    truncations_refused(len);

    /* A record longer than any record. */
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT, 0, 7);
    fs_chan_put_u32(&b, FS_IMPORT_REJUDGE);
    for (int i = 0; i <= FS_FLOW_RECORD_MAX; i++) {
        fs_chan_put_u8(&b, i);
    }
    len = fs_chan_finish(&b);
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
}

/* Migration: EXPORT, RELEASE, IMPORT_BATCH and RECORDS.  Records are
 * framed by their own length fields (their contents are the inspector's
 * to check). */
static void
test_migration_messages(void)
{
    static const uint8_t rec[2][8] = {
        { 0x46, 0x72, 2, 0, 0x00, 0x08, 0xaa, 0xbb },
        { 0x46, 0x72, 2, 0, 0x00, 0x07, 0xcc },
    };
    struct fs_flow_key key = test_key();
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_EXPORT, 0, 1);
    fs_chan_put_u32(&b, 7);
    fs_chan_put_u64(&b, 42);
    fs_chan_put_u32(&b, FS_EXPORT_DECIDED);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.port, 7);
    CHECK_INT(msg.u64, 42);
    CHECK_INT(msg.u32, FS_EXPORT_DECIDED);
    truncations_refused(len);
    buf[len - 1] |= 0x80;               /* An unknown flag. */
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RELEASE, 0, 2);
    fs_chan_put_u64(&b, 99);
    fs_chan_put_key(&b, &key);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.u64, 99);
    CHECK(!memcmp(&msg.key, &key, sizeof key));
    truncations_refused(len);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RECORDS, FS_CHAN_F_MORE, 3);
    fs_chan_put_u64(&b, 5);
    fs_chan_put_u16(&b, 2);
    fs_chan_put_bytes(&b, rec[0], 8);
    fs_chan_put_bytes(&b, rec[1], 7);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.u64, 5);
    CHECK_INT(msg.n_records, 2);
    CHECK_INT(msg.data_len, 15);
    truncations_refused(len);
    buf[FS_CHAN_HDR_LEN + 9] = 3;       /* Says 3 records, holds 2. */
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT_BATCH, 0, 4);
    fs_chan_put_u32(&b, FS_IMPORT_REJUDGE);
    fs_chan_put_u16(&b, 2);
    fs_chan_put_u32(&b, 3), fs_chan_put_u32(&b, 30);
    fs_chan_put_u32(&b, 4), fs_chan_put_u32(&b, 40);
    fs_chan_put_bytes(&b, rec[0], 8);
    fs_chan_put_bytes(&b, rec[1], 7);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.n_port_map, 2);
    CHECK_INT(msg.n_records, 2);
    CHECK_INT(msg.port_map[7], 30);
    /* Cut in the middle of its last record: refused. */
    buf[7] = len - 1;
    CHECK_INT(fs_chan_decode(buf, len - 1, &msg, err, sizeof err), EPROTO);
    buf[7] = len;
    /* A record claiming more bytes than there are. */
    buf[len - 2] = 0x09;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT_FLOWS, 0, 6);
    fs_chan_put_u16(&b, 2);
    fs_chan_put_bytes(&b, rec[0], 8);
    fs_chan_put_bytes(&b, rec[1], 7);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.n_records, 2);
    CHECK_INT(msg.data_len, 15);
    truncations_refused(len);
    buf[FS_CHAN_HDR_LEN + 1] = 3;       /* Says 3 records, holds 2. */
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    buf[FS_CHAN_HDR_LEN] = 0xff;        /* More than a message may hold. */
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);

    /* Holding a port's packets for a migration, and letting them go. */
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_HOLD_PORT, 0, 7);
    fs_chan_put_u32(&b, 12);
    fs_chan_put_u32(&b, 3000);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.port, 12);
    CHECK_INT(msg.u32, 3000);
    truncations_refused(len);
    buf[FS_CHAN_HDR_LEN + 5] = 0;       /* Held for 0 ms: refused. */
    buf[FS_CHAN_HDR_LEN + 6] = 0;
    buf[FS_CHAN_HDR_LEN + 7] = 0;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    buf[FS_CHAN_HDR_LEN + 5] = 0xff;    /* Beyond FS_CHAN_HOLD_MAX_MS. */
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_HOLD_PORT, 0, 7);
    fs_chan_put_u32(&b, 0);             /* Port 0: refused. */
    fs_chan_put_u32(&b, 3000);
    len = fs_chan_finish(&b);
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RELEASE_PORT, 0, 8);
    fs_chan_put_u32(&b, 12);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.port, 12);
    truncations_refused(len);

    /* A port map longer than the message, or than allowed. */
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT_BATCH, 0, 5);
    fs_chan_put_u32(&b, 0);
    fs_chan_put_u16(&b, FS_CHAN_MAX_PORT_MAP + 1);
    for (int i = 0; i <= FS_CHAN_MAX_PORT_MAP; i++) {
        fs_chan_put_u32(&b, i), fs_chan_put_u32(&b, i);
    }
    len = fs_chan_finish(&b);
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
    CHECK_INT(fs_chan_decode(buf, FS_CHAN_HDR_LEN + 10, &msg, err,
                             sizeof err), EMSGSIZE);
}

static void
test_event_and_flows(void)
{
    struct fs_flow_info f = test_flow();
    struct fs_chan_flow out;
    struct fs_chan_buf b;
    size_t len, off;
    int n;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_EVENT, 0, 0);
    fs_chan_put_u8(&b, FS_EVENT_VERDICT);
    fs_chan_put_flow(&b, &f);
    fs_chan_put_bytes(&b, "RECORD", 6);
    len = fs_chan_finish(&b);
    CHECK_INT(len, FS_CHAN_HDR_LEN + 1 + fs_chan_flow_size(&f) + 6);
    round_trip(len);
    CHECK_INT(msg.event, FS_EVENT_VERDICT);
    CHECK(msg.data_len == 6 && !memcmp(msg.data, "RECORD", 6));
    off = 0;
    CHECK(fs_chan_next_flow(buf, len, &off, &out));
    CHECK_INT(out.info.id, f.id);
    CHECK(!memcmp(&out.info.key, &f.key, sizeof f.key));
    CHECK_STR(out.info.app, "TLS.YouTube");
    CHECK_STR(out.info.host, "www.youtube.com");
    CHECK_STR(out.info.profile, "web");
    CHECK(out.info.peer_profile == NULL);
    CHECK_STR(out.info.verdict.mirror_port, "mirror0");
    CHECK_INT(out.info.rule_priority, -5);
    CHECK_INT(out.info.bytes[1], UINT64_C(1) << 33);
    CHECK_INT(out.info.end_reason, FS_END_REOPENED);
    CHECK_INT(out.info.risks, f.risks);
    CHECK(!fs_chan_next_flow(buf, len, &off, &out));
    truncations_refused_but(len, 6);

    /* Flow id 0 is no flow's. */
    memset(buf + FS_CHAN_HDR_LEN + 1, 0, 8);
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);

    /* A page of 3 flows; a host longer than a flow's string is cut. */
    char long_host[600];
    memset(long_host, 'h', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_FLOWS, FS_CHAN_F_MORE, 9);
    fs_chan_put_u16(&b, 3);
    for (int i = 0; i < 3; i++) {
        f.id = 100 + i;
        f.host = i == 2 ? long_host : "x";
        fs_chan_put_flow(&b, &f);
    }
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.n_flows, 3);
    off = 0;
    for (n = 0; fs_chan_next_flow(buf, len, &off, &out); n++) {
        CHECK_INT(out.info.id, 100 + n);
    }
    CHECK_INT(n, 3);
    CHECK_INT(strlen(out.info.host), FS_CHAN_FLOW_STR_MAX);

    /* The count says more than there are. */
    buf[FS_CHAN_HDR_LEN + 1] = 4;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
}

static void
test_stats_and_result(void)
{
    struct fs_chan_buf b;
    size_t len;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_STATS, 0, 0);
    fs_chan_put_u16(&b, FS_N_COUNTERS);
    for (int i = 0; i < FS_N_COUNTERS; i++) {
        fs_chan_put_u64(&b, i * 10);
    }
    for (int i = 0; i < 4; i++) {
        fs_chan_put_u32(&b, i);
    }
    fs_chan_put_u64(&b, 1 << 20);
    fs_chan_put_u64(&b, 2 << 20);
    for (int i = 0; i < FS_CHAN_N_DP; i++) {
        fs_chan_put_u64(&b, 1000 + i);
    }
    fs_chan_put_u16(&b, 1);
    fs_chan_put_u32(&b, 5);
    fs_chan_put_u32(&b, 33);
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.counters[FS_N_COUNTERS - 1], (FS_N_COUNTERS - 1) * 10);
    CHECK_INT(msg.dp[FS_CHAN_DP_UNSENT], 1000 + FS_CHAN_DP_UNSENT);
    CHECK_INT(msg.n_port_flows, 1);
    truncations_refused(len);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RESULT, 0, 11);
    fs_chan_put_u32(&b, (uint32_t) -EEXIST);
    fs_chan_put_u64(&b, 5);
    fs_chan_put_u64(&b, 1);
    fs_chan_put_str(&b, "exists");
    len = fs_chan_finish(&b);
    round_trip(len);
    CHECK_INT(msg.code, -EEXIST);
    CHECK_INT(msg.value, 5);
    truncations_refused(len);

    /* A positive result code is no errno convention of ours. */
    buf[FS_CHAN_HDR_LEN] = 0;
    buf[FS_CHAN_HDR_LEN + 3] = 1;
    CHECK_INT(fs_chan_decode(buf, len, &msg, err, sizeof err), EPROTO);
}

/* Random bytes never crash the decoder, and what decodes round-trips. */
static void
test_random(void)
{
    int decoded = 0;

    srand(1);
    for (int i = 0; i < 20000; i++) {
        size_t len = FS_CHAN_HDR_LEN + rand() % 200;

        for (size_t j = 0; j < len; j++) {
            buf[j] = rand();
        }
        buf[0] = FS_CHAN_VERSION;
        buf[1] = rand() % 40;
        buf[2] = 0;
        buf[3] = rand() % 2;
        buf[4] = buf[5] = 0;
        buf[6] = len >> 8;
        buf[7] = len;
        if (!fs_chan_decode(buf, len, &msg, err, sizeof err)) {
            static uint8_t again[FS_CHAN_MAX_MSG];

            decoded++;
            CHECK_INT(fs_chan_reencode(&msg, buf, len, again), len);
            CHECK(!memcmp(again, buf, len));
        }
    }
    /* Some, e.g. FLUSH and GONE, decode from random bodies. */
    CHECK(decoded > 0);
}

int
main(void)
{
    RUN_TEST(test_hello);
    RUN_TEST(test_header_errors);
    RUN_TEST(test_config_and_ports);
    RUN_TEST(test_policy_parts);
    RUN_TEST(test_flow_commands);
    RUN_TEST(test_event_and_flows);
    RUN_TEST(test_migration_messages);
    RUN_TEST(test_stats_and_result);
    RUN_TEST(test_random);
    return test_exit_status();
}
