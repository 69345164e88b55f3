/*
 * libFuzzer target for flow records (fs_inspector_import_flow()), which
 * come from a file or, for migration, from a peer: any bytes must be
 * refused or restore a flow, and a restored flow's own record must restore
 * it again the same way.  Each input starts from empty flow tables.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flowsteer/inspector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    uint8_t rec[FS_FLOW_RECORD_MAX];
    size_t len;
};

static int
keep_record(void *aux, const void *rec, size_t len)
{
    struct copy *c = aux;

    if (len > sizeof c->rec) {
        __builtin_trap();
    }
    memcpy(c->rec, rec, len);
    c->len = len;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fs_inspector *a, *b;
    struct copy first, second;
    uint64_t id, id2;

    if (!a) {
        a = new_inspector();
        b = new_inspector();
    }
    if (!fs_inspector_import_flow(a, data, size,
                                  size & 1 ? FS_IMPORT_REJUDGE : 0, &id)) {
        memset(&first, 0, sizeof first);
        fs_inspector_export_flows(a, 0, keep_record, &first);
        if (!first.len
            || fs_inspector_import_flow(b, first.rec, first.len, 0, &id2)
            || id2 != id) {
            __builtin_trap();
        }
        /* The same record, but for the length and the rule's name: it is
         * "imported" in 'b' (header bytes 4-5 and 178, and the tail). */
        memset(&second, 0, sizeof second);
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
