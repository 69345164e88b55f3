/*
 * libFuzzer target for flow records, which come from a file
 * (fs_inspector_import_flow()) or, for migration, from a peer
 * (fs_inspector_import(), batches): any bytes must be refused or restore
 * flows, and restored flows' own records must restore them again.  A
 * record of a flow still classifying brings its payload, which goes to
 * nDPI.  Each input starts from empty flow tables.
 *
 * With FUZZ_RECORD_SEEDS=DIR set it writes a seed corpus into DIR and
 * exits: the records of a decided flow and of a flow still classifying
 * (with its payload), alone and as a batch.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsteer/inspector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fs_inspector *
new_inspector(void)
{
    FS_INSPECTOR_OPTS(opts, .max_flows = 8);
    struct fs_inspector *insp;

    if (fs_inspector_create(&opts, &insp)
        || fs_inspector_set_policy(insp, "fuzz",
                                   "priority=10, tcp, tp_dst=80, "
                                   "actions=drop\n"
                                   "priority=5, app=HTTP, actions=allow\n",
                                   NULL, NULL, 0)) {
        __builtin_trap();
    }
    return insp;
}

struct copy {
    uint8_t rec[FS_MIGRATE_RECORD_MAX * 8];
    size_t len;
    int n;
};

static int
keep_record(void *aux, const void *rec, size_t len)
{
    struct copy *c = aux;

    if (len > FS_MIGRATE_RECORD_MAX || c->len + len > sizeof c->rec) {
        __builtin_trap();
    }
    memcpy(c->rec + c->len, rec, len);
    c->len += len;
    c->n++;
    return 0;
}

static int
is_decided(void *aux, const struct fs_flow_info *f)
{
    (void) aux;
    return f->state == FS_FLOW_DECIDED ? 1 : 2;
}

/* The migration path: a batch into 'a' and, exported again, into 'b'. */
static void
batch(struct fs_inspector *a, struct fs_inspector *b, const uint8_t *data,
      size_t size)
{
    static struct copy out;
    FS_IMPORT_OPTS(o);
    struct fs_import_result res, res2;

    if (fs_inspector_import(a, data, size, &o, &res)) {
        return;
    }
    out.len = out.n = 0;
    if (fs_inspector_export(a, FS_PORT_ANY, 0, 0, keep_record, &out)
        || fs_inspector_import(b, out.rec, out.len, &o, &res2)
        || res2.imported + res2.updated + res2.conflicts != (uint32_t) out.n) {
        __builtin_trap();
    }
}

/* Sends Ethernet + IPv4 + TCP from 10.0.0.1:'sport' to 10.0.0.2:'dport'
 * (or back, if 'reverse'), with 'flags', 'seq', 'ack' and 'payload'. */
static void
send_tcp(struct fs_inspector *insp, uint16_t sport, uint16_t dport,
         int reverse, uint8_t flags, uint32_t seq, uint32_t ack,
         const char *payload, uint64_t ts)
{
    uint8_t f[1514];
    size_t n = strlen(payload), len = 14 + 20 + 20 + n;
    uint8_t *ip = f + 14, *tcp = ip + 20;
    struct fs_packet pkt = {
        .data = f, .caplen = len, .len = len, .ts_ns = ts, .port = 1,
        .link_type = FS_LINK_ETHERNET,
    };

    memset(f, 0, 54);
    f[0] = 2, f[5] = reverse ? 1 : 2, f[6] = 2, f[11] = reverse ? 2 : 1;
    f[12] = 0x08;
    ip[0] = 0x45, ip[2] = (20 + 20 + n) >> 8, ip[3] = 20 + 20 + n;
    ip[8] = 64, ip[9] = 6;
    ip[12] = 10, ip[15] = reverse ? 2 : 1;
    ip[16] = 10, ip[19] = reverse ? 1 : 2;
    tcp[0] = (reverse ? dport : sport) >> 8, tcp[1] = reverse ? dport : sport;
    tcp[2] = (reverse ? sport : dport) >> 8, tcp[3] = reverse ? sport : dport;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = seq >> (24 - 8 * i);
        tcp[8 + i] = ack >> (24 - 8 * i);
    }
    tcp[12] = 5 << 4, tcp[13] = flags;
    memcpy(tcp + 20, payload, n);
    fs_inspector_process(insp, &pkt);
}

static void
write_seed(const char *dir, const char *name, const struct copy *c)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(c->rec, 1, c->len, f) != c->len || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void
write_seeds(const char *dir)
{
    struct fs_inspector *insp = new_inspector();
    static struct copy c;

    /* Port 80: dropped on its SYN.  Port 8080: still classifying after
     * its handshake and a few bytes. */
    send_tcp(insp, 40000, 80, 0, 0x02, 100, 0, "", 1000);
    send_tcp(insp, 40001, 8080, 0, 0x02, 100, 0, "", 1000);
    send_tcp(insp, 40001, 8080, 1, 0x12, 500, 101, "", 2000);
    send_tcp(insp, 40001, 8080, 0, 0x10, 101, 501, "", 3000);
    send_tcp(insp, 40001, 8080, 0, 0x18, 101, 501, "\x16\x03", 4000);
    fs_inspector_export(insp, FS_PORT_ANY, 0, 0, keep_record, &c);
    write_seed(dir, "batch", &c);
    c.len = c.n = 0;
    fs_inspector_export(insp, FS_PORT_ANY, 0, FS_EXPORT_DECIDED, keep_record,
                        &c);
    write_seed(dir, "decided", &c);
    fs_inspector_destroy(insp);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("FUZZ_RECORD_SEEDS");

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
    static struct fs_inspector *a, *b;
    static struct copy first, second;
    uint64_t id, id2;

    if (!a) {
        a = new_inspector();
        b = new_inspector();
    }
    if (size & 2) {
        batch(a, b, data, size);
    } else if (!fs_inspector_import_flow(a, data, size,
                                         size & 1 ? FS_IMPORT_REJUDGE : 0,
                                         &id)
               && fs_inspector_foreach_flow(a, is_decided, NULL) == 1) {
        first.len = first.n = 0;
        fs_inspector_export_flows(a, 0, keep_record, &first);
        if (!first.len
            || fs_inspector_import_flow(b, first.rec, first.len, 0, &id2)
            || id2 != id) {
            __builtin_trap();
        }
        /* The same record, but for the length and the rule's name: it is
         * "imported" in 'b' (header bytes 4-5 and 178, and the tail). */
        second.len = second.n = 0;
        fs_inspector_export_flows(b, 0, keep_record, &second);
        if (second.len < 180
            || memcmp(second.rec, first.rec, 4)
            || memcmp(second.rec + 6, first.rec + 6, 172)
            || memcmp(second.rec + 179, first.rec + 179,
                      1 + first.rec[176] + first.rec[177])) {
            __builtin_trap();
        }
    }
    fs_inspector_flush(a);
    fs_inspector_flush(b);
    return 0;
}
