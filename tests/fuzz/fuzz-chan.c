/*
 * libFuzzer target for the appliance channel's messages (dpdk-pmd/
 * fs-chan.h), which each side decodes from the other, untrusted: any
 * bytes must be refused or decode, and a message that decodes must encode
 * again to the same bytes (one encoding per message: nothing is ignored).
 *
 * With FUZZ_CHAN_SEEDS=DIR set it writes a seed corpus of one good
 * message of each type into DIR and exits.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-chan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void
write_seed(const char *dir, const char *name, const struct fs_chan_buf *b)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void
write_seeds(const char *dir)
{
    static uint8_t buf[FS_CHAN_MAX_MSG];
    struct fs_flow_info f;
    struct fs_verdict v;
    struct fs_chan_buf b;

    memset(&f, 0, sizeof f);
    f.id = 5;
    f.key.ip_version = 4;
    f.key.l4_proto = 6;
    f.key.src_port = 40000;
    f.key.dst_port = 80;
    f.state = FS_FLOW_DECIDED;
    f.app = "HTTP";
    f.host = "example.com";
    f.rule = "p.conf:3";
    f.verdict.actions = FS_ACT_ALLOW;
    memset(&v, 0, sizeof v);
    v.actions = FS_ACT_DROP;

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_HELLO, 0, 1);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, FS_CHAN_ROLE_DAEMON);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_u32(&b, 1);
    fs_chan_put_str(&b, "flowsteerd");
    fs_chan_finish(&b);
    write_seed(dir, "hello", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_CONFIG, 0, 2);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_u8(&b, 2);
    fs_chan_put_u8(&b, 0);
    fs_chan_put_u8(&b, 2);
    fs_chan_put_u32(&b, 100);
    fs_chan_put_u32(&b, 1000);
    fs_chan_put_u32(&b, 1000);
    fs_chan_put_u32(&b, 1000);
    fs_chan_put_u64(&b, 1);
    fs_chan_put_str(&b, "fs-insp0");
    fs_chan_put_str(&b, "");
    fs_chan_finish(&b);
    write_seed(dir, "config", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_PORTS, 0, 3);
    fs_chan_put_u16(&b, 1);
    fs_chan_put_u32(&b, 2);
    fs_chan_put_u8(&b, 1);
    fs_chan_put_bytes(&b, "\x52\x54\0\0\0\1", 6);
    fs_chan_put_str(&b, "vm1");
    fs_chan_put_str(&b, "web");
    fs_chan_finish(&b);
    write_seed(dir, "ports", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_POLICY, 0, 4);
    fs_chan_put_u8(&b, FS_CHAN_POLICY_SET);
    fs_chan_put_u32(&b, 26);
    fs_chan_put_u32(&b, 0);
    fs_chan_put_str(&b, "p.conf");
    fs_chan_put_bytes(&b, "priority=0, actions=allow\n", 26);
    fs_chan_finish(&b);
    write_seed(dir, "policy", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_PIN, 0, 5);
    fs_chan_put_u64(&b, 5);
    fs_chan_put_key(&b, &f.key);
    fs_chan_put_u8(&b, 1);
    fs_chan_finish(&b);
    write_seed(dir, "pin", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT_VERDICT, 0, 6);
    fs_chan_put_u64(&b, 6);
    fs_chan_put_key(&b, &f.key);
    fs_chan_put_u32(&b, 2);
    fs_chan_put_verdict(&b, &v);
    fs_chan_finish(&b);
    write_seed(dir, "import-verdict", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_EVENT, 0, 0);
    fs_chan_put_u8(&b, FS_EVENT_VERDICT);
    fs_chan_put_flow(&b, &f);
    fs_chan_finish(&b);
    write_seed(dir, "event", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_FLOWS, FS_CHAN_F_MORE, 7);
    fs_chan_put_u16(&b, 2);
    fs_chan_put_flow(&b, &f);
    f.id = 6;
    fs_chan_put_flow(&b, &f);
    fs_chan_finish(&b);
    write_seed(dir, "flows", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_STATS, 0, 0);
    fs_chan_put_u16(&b, 1);
    fs_chan_put_u64(&b, 9);
    for (int i = 0; i < 4; i++) {
        fs_chan_put_u32(&b, i);
    }
    fs_chan_put_u64(&b, 1);
    fs_chan_put_u64(&b, 2);
    for (int i = 0; i < FS_CHAN_N_DP; i++) {
        fs_chan_put_u64(&b, i);
    }
    fs_chan_put_u16(&b, 0);
    fs_chan_finish(&b);
    write_seed(dir, "stats", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RESULT, 0, 8);
    fs_chan_put_u32(&b, 0);
    fs_chan_put_u64(&b, 1);
    fs_chan_put_u64(&b, 0);
    fs_chan_put_str(&b, "");
    fs_chan_finish(&b);
    write_seed(dir, "result", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_EXPORT, 0, 9);
    fs_chan_put_u32(&b, FS_PORT_ANY);
    fs_chan_put_u64(&b, 3);
    fs_chan_put_u32(&b, 0);
    fs_chan_finish(&b);
    write_seed(dir, "export", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_RECORDS, FS_CHAN_F_MORE, 9);
    fs_chan_put_u64(&b, 4);
    fs_chan_put_u16(&b, 2);
    fs_chan_put_bytes(&b, "Fr\x02\x00\x00\x08" "ab", 8);
    fs_chan_put_bytes(&b, "Fr\x02\x00\x00\x06", 6);
    fs_chan_finish(&b);
    write_seed(dir, "records", &b);

    fs_chan_start(&b, buf, sizeof buf, FS_CHAN_IMPORT_BATCH, 0, 10);
    fs_chan_put_u32(&b, FS_IMPORT_REJUDGE);
    fs_chan_put_u16(&b, 1);
    fs_chan_put_u32(&b, 5);
    fs_chan_put_u32(&b, 6);
    fs_chan_put_bytes(&b, "Fr\x02\x00\x00\x08" "ab", 8);
    fs_chan_finish(&b);
    write_seed(dir, "import-batch", &b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("FUZZ_CHAN_SEEDS");

    (void) argc;
    (void) argv;
    if (dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t again[FS_CHAN_MAX_MSG];
    static struct fs_chan_msg msg;
    struct fs_chan_flow flow;
    char err[256];
    size_t n, off = 0;

    if (fs_chan_decode(data, size, &msg, err, sizeof err)) {
        if (!err[0]) {
            __builtin_trap();   /* A refusal always says why. */
        }
        return 0;
    }
    n = fs_chan_reencode(&msg, data, size, again);
    if (n != size || memcmp(again, data, size)) {
        __builtin_trap();
    }
    if (msg.type == FS_CHAN_EVENT || msg.type == FS_CHAN_FLOWS) {
        size_t count = 0;

        while (fs_chan_next_flow(data, size, &off, &flow)) {
            count++;
            if (strlen(flow.info.host) > FS_CHAN_FLOW_STR_MAX) {
                __builtin_trap();
            }
        }
        /* The flows, then (an event's) record, are the whole body. */
        if (count != msg.n_flows
            || off + (msg.type == FS_CHAN_EVENT ? msg.data_len : 0) != size) {
            __builtin_trap();
        }
    }
    return 0;
}
