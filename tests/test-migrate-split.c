/*
 * Migration of flows in the middle of their classification, against every
 * capture of shared/data/ndpi-4.2 (a test no one can tune to).
 *
 * For each capture and each split point k (after a flow's 1st, 2nd, 3rd,
 * 5th and 8th packet, and half-way through it), the capture runs through
 * inspector A; when a flow has had k packets it is exported from A
 * (fs_inspector_export_one()), released there, imported into a fresh
 * inspector B (fs_inspector_import()), and its further packets go to B.
 * And once as a VM's live migration moves them (k "all"): every flow at
 * once, half-way through the capture, as one batch (fs_inspector_export()
 * of all, fs_inspector_import()).
 * Every flow must end with the application, category, risks, host,
 * verdict and counters it ends with when the whole capture runs through
 * one inspector.  Run twice: classifying every flow to its end (as
 * flowsteer-inspect), and under a policy that decides flows as soon as it
 * can (as flowsteerd).
 *
 * Environment: MIGRATE_SPLITS, other split points ("2 0 -1"; 0 is
 * half-way, -1 all flows at once).
 * Usage: test-migrate-split DIR [EXCEPTIONS] (the capture set in
 * DIR/pcap; EXCEPTIONS lists flows known to differ, with the reason, as
 * CAPTURE<tab>FLOW<tab>REASON).  Prints the agreement per mode and split
 * point and every difference; exits 1 if there is any not listed.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsteer/inspector.h"

/* A policy with rules on the application, its category, host names and
 * risks, so that verdicts depend on what classification finds. */
static const char policy_text[] =
    "priority=500, app=SSH, actions=drop\n"
    "priority=450, host=*.google.com, actions=drop\n"
    "priority=440, host=*facebook*, actions=allow,log\n"
    "priority=400, category=Media, actions=drop\n"
    "priority=390, risk=known_protocol_on_non_standard_port, actions=drop\n"
    "priority=300, app=TLS, actions=allow\n"
    "priority=290, app=HTTP, actions=allow\n"
    "priority=200, udp, tp_dst=53, actions=allow\n"
    "priority=100, app=Unknown, actions=drop\n"
    "priority=0, actions=allow\n";

struct packet {
    uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts_ns;
};

struct capture {
    const char *name;
    int link_type;
    struct packet *pkts;
    size_t n;
};

/* What a flow ended with. */
struct outcome {
    struct fs_flow_key key;
    uint64_t first_seen_ns;
    char app[64];
    char category[48];
    char host[96];
    char rule[96];
    uint64_t risks;
    uint32_t actions;
    uint64_t packets[2];
    int state;
    int end_reason;
};

struct outcomes {
    struct outcome *o;
    size_t n, cap;
};

static unsigned int n_differences;  /* Not listed as known. */
static unsigned int n_known;
static int listed;

/* Flows known to differ: "CAPTURE\tFLOW" each. */
static char **known;
static size_t n_known_flows;

static void
load_known(const char *path)
{
    char line[1024];
    FILE *f = fopen(path, "r");

    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');

        if (line[0] == '#' || !tab || !(tab = strchr(tab + 1, '\t'))) {
            continue;
        }
        *tab = '\0';
        known = realloc(known, (n_known_flows + 1) * sizeof *known);
        known[n_known_flows++] = strdup(line);
    }
    fclose(f);
}

static bool
is_known(const char *capture, const char *flow)
{
    char probe[1024];

    snprintf(probe, sizeof probe, "%s\t%s", capture, flow);
    for (size_t i = 0; i < n_known_flows; i++) {
        if (!strcmp(known[i], probe)) {
            return true;
        }
    }
    return false;
}

static void
on_event(void *aux, enum fs_event_type type, const struct fs_flow_info *f,
         const struct fs_verdict *old)
{
    struct outcomes *out = aux;
    struct outcome *o;

    (void) old;
    if (type != FS_EVENT_FLOW_END || f->end_reason == FS_END_MIGRATED) {
        return;
    }
    if (out->n == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 256;
        out->o = realloc(out->o, out->cap * sizeof *out->o);
        if (!out->o) {
            abort();
        }
    }
    o = &out->o[out->n++];
    memset(o, 0, sizeof *o);
    o->key = f->key;
    o->first_seen_ns = f->first_seen_ns;
    snprintf(o->app, sizeof o->app, "%s", f->app);
    snprintf(o->category, sizeof o->category, "%s", f->category);
    snprintf(o->host, sizeof o->host, "%s", f->host);
    snprintf(o->rule, sizeof o->rule, "%s", f->rule);
    o->risks = f->risks;
    o->actions = f->verdict.actions;
    memcpy(o->packets, f->packets, sizeof o->packets);
    o->state = f->state;
    o->end_reason = f->end_reason;
}

static int
compare_outcomes(const void *a_, const void *b_)
{
    const struct outcome *a = a_, *b = b_;
    int c = memcmp(&a->key, &b->key, sizeof a->key);

    if (c) {
        return c;
    }
    return (a->first_seen_ns > b->first_seen_ns)
           - (a->first_seen_ns < b->first_seen_ns);
}

/* (qsort() and bsearch() must not see the NULL of no outcomes.) */
static void
sort_outcomes(struct outcomes *out)
{
    if (out->n) {
        qsort(out->o, out->n, sizeof *out->o, compare_outcomes);
    }
}

static const struct outcome *
find_outcome(const struct outcomes *out, const struct outcome *probe)
{
    return (out->n ? bsearch(probe, out->o, out->n, sizeof *out->o,
                             compare_outcomes)
                   : NULL);
}

static void
log_quiet(void *aux, enum fs_log_level level, const char *msg)
{
    (void) aux;
    if (level <= FS_LOG_ERR) {
        fprintf(stderr, "inspector: %s\n", msg);
    }
}

static struct fs_inspector *
make(int classify_all, struct outcomes *out)
{
    /* Without nDPI's configuration files (as ndpiReader's -p, -c...): the
     * comparison is with this library itself, and reading them would take
     * most of the test's time. */
    FS_INSPECTOR_OPTS(opts, .classify_all = classify_all, .decode_tunnels = 1,
                      .event_cb = on_event, .event_aux = out,
                      .log_cb = log_quiet);
    struct fs_inspector *insp;
    char err[256];
    int error;

    error = fs_inspector_create(&opts, &insp);
    if (error) {
        fprintf(stderr, "fs_inspector_create: %s\n", strerror(-error));
        exit(1);
    }
    if (classify_all) {
        /* As flowsteer-inspect: nothing is enforced offline. */
        fs_inspector_set_exception(insp, -1, FS_EXC_ACTION_ALLOW);
    } else if (fs_inspector_set_policy(insp, "policy", policy_text, NULL,
                                       err, sizeof err)) {
        fprintf(stderr, "policy: %s\n", err);
        exit(1);
    }
    return insp;
}

/* Reads capture 'path' into '*c'.  Returns false if it cannot be read. */
static bool
load(const char *path, struct capture *c)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    size_t cap = 0;
    pcap_t *pcap;

    memset(c, 0, sizeof *c);
    pcap = pcap_open_offline_with_tstamp_precision(
        path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pcap) {
        fprintf(stderr, "%s: %s\n", path, errbuf);
        return false;
    }
    c->link_type = fs_link_type_from_dlt(pcap_datalink(pcap));
    if (c->link_type < 0) {
        pcap_close(pcap);
        return false;
    }
    while (pcap_next_ex(pcap, &hdr, &data) == 1) {
        struct packet *p;

        if (c->n == cap) {
            cap = cap ? 2 * cap : 1024;
            c->pkts = realloc(c->pkts, cap * sizeof *c->pkts);
            if (!c->pkts) {
                abort();
            }
        }
        p = &c->pkts[c->n++];
        p->data = malloc(hdr->caplen ? hdr->caplen : 1);
        if (!p->data) {
            abort();
        }
        memcpy(p->data, data, hdr->caplen);
        p->caplen = hdr->caplen;
        p->len = hdr->len;
        p->ts_ns = ((uint64_t) hdr->ts.tv_sec * 1000000000
                    + (uint64_t) hdr->ts.tv_usec);
    }
    pcap_close(pcap);
    return true;
}

static void
unload(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->pkts[i].data);
    }
    free(c->pkts);
}

static struct fs_packet
fs_packet_of(const struct capture *c, size_t i)
{
    struct fs_packet pkt = {
        .data = c->pkts[i].data,
        .caplen = c->pkts[i].caplen,
        .len = c->pkts[i].len,
        .ts_ns = c->pkts[i].ts_ns,
        .port = 1,
        .link_type = c->link_type,
    };
    return pkt;
}

/* The whole capture through one inspector: the reference. */
static void
run_reference(const struct capture *c, int classify_all,
              struct outcomes *out)
{
    struct fs_inspector *insp = make(classify_all, out);

    for (size_t i = 0; i < c->n; i++) {
        struct fs_packet pkt = fs_packet_of(c, i);

        fs_inspector_process(insp, &pkt);
    }
    fs_inspector_flush(insp);
    fs_inspector_destroy(insp);
    sort_outcomes(out);
}

struct found {
    uint64_t id;
    uint64_t packets;
    uint64_t first_seen_ns;
};

static int
found_cb(void *aux, const struct fs_flow_info *f)
{
    struct found *found = aux;

    found->id = f->id;
    found->packets = f->packets[0] + f->packets[1];
    found->first_seen_ns = f->first_seen_ns;
    return 1;
}

/* Returns the number of packets the reference saw in the flow of 'key'
 * first seen at 'first_seen_ns', or 0. */
static uint64_t
reference_packets(const struct outcomes *ref, const struct fs_flow_key *key,
                  uint64_t first_seen_ns)
{
    struct outcome probe;
    const struct outcome *o;

    memset(&probe, 0, sizeof probe);
    probe.key = *key;
    probe.first_seen_ns = first_seen_ns;
    o = find_outcome(ref, &probe);
    return o ? o->packets[0] + o->packets[1] : 0;
}

/* Split point 'k' of a flow of 'total' packets: 0 stands for half-way. */
static uint64_t
split_at(int k, uint64_t total)
{
    return k ? (uint64_t) k : (total > 1 ? total / 2 : 1);
}

/* Where the last packets of IP address pairs went, for the fragments after
 * a datagram's first, which have no ports (the inspector that saw the
 * first fragment knows them). */
#define N_ROUTES 64

struct route {
    struct fs_flow_key key;     /* Ports zero. */
    int to_b;
};

struct routes {
    struct route r[N_ROUTES];
    unsigned int n;
};

static void
route_key(struct fs_flow_key *key)
{
    key->src_port = key->dst_port = 0;
}

static void
route_note(struct routes *rt, struct fs_flow_key key, int to_b)
{
    route_key(&key);
    rt->r[rt->n++ % N_ROUTES] = (struct route) { key, to_b };
}

/* Returns 1 if the last packet between the addresses of 'key' went to B,
 * 0 if to A, -1 if none is known. */
static int
route_find(const struct routes *rt, struct fs_flow_key key)
{
    unsigned int i;

    route_key(&key);
    for (i = 0; i < N_ROUTES && i < rt->n; i++) {
        const struct route *r = &rt->r[(rt->n - 1 - i) % N_ROUTES];

        if (!memcmp(&r->key, &key, sizeof key)) {
            return r->to_b;
        }
    }
    return -1;
}

struct batch {
    uint8_t *buf;
    size_t len, cap;
    unsigned int n;
};

static int
batch_add(void *b_, const void *rec, size_t len)
{
    struct batch *b = b_;

    if (b->len + len > b->cap) {
        b->cap = 2 * (b->len + len);
        b->buf = realloc(b->buf, b->cap);
        if (!b->buf) {
            abort();
        }
    }
    memcpy(b->buf + b->len, rec, len);
    b->len += len;
    b->n++;
    return 0;
}

/* The capture through A, then, half-way through it, every flow at once
 * into B, as a VM's live migration moves them, and the rest through B. */
static void
run_all_at_once(const struct capture *c, int classify_all,
                struct outcomes *out, unsigned int *n_migrated,
                unsigned int *n_classifying)
{
    struct fs_inspector *a = make(classify_all, out);
    struct fs_inspector *b = make(classify_all, out);
    struct batch batch = { NULL, 0, 0, 0 };
    struct fs_import_result res;
    FS_IMPORT_OPTS(o);
    size_t i, half = c->n / 2;
    int error;

    for (i = 0; i < half; i++) {
        struct fs_packet pkt = fs_packet_of(c, i);

        fs_inspector_process(a, &pkt);
    }
    {
        FS_INSPECTOR_STATS(st);

        fs_inspector_get_stats(a, &st);
        *n_classifying += st.flows_classifying;
    }
    if (fs_inspector_export(a, FS_PORT_ANY, 0, 0, batch_add, &batch)) {
        fprintf(stderr, "%s: export failed\n", c->name);
        n_differences++;
    }
    /* The source lets go of them all (its flows moved: no end for them
     * there). */
    fs_inspector_destroy(a);
    /* B's clock where A's was: the latest time of a packet A parsed
     * (captures are not always in time order, and a packet that does not
     * parse leaves the clock alone), so that ages mean the same. */
    for (size_t j = 0; j < half; j++) {
        struct fs_packet pkt = fs_packet_of(c, j);
        struct fs_flow_key key;

        if (!fs_packet_flow_key(&pkt, 1, &key)) {
            fs_inspector_expire(b, pkt.ts_ns);
        }
    }
    error = fs_inspector_import(b, batch.buf, batch.len, &o, &res);
    if (error || res.imported != batch.n) {
        fprintf(stderr, "%s: import of %u records: %s (%"PRIu32" imported, "
                "%"PRIu32" conflicts)\n", c->name, batch.n,
                strerror(-error), res.imported, res.conflicts);
        n_differences++;
    }
    *n_migrated += batch.n;

    for (; i < c->n; i++) {
        struct fs_packet pkt = fs_packet_of(c, i);

        fs_inspector_process(b, &pkt);
    }
    fs_inspector_flush(b);
    fs_inspector_destroy(b);
    free(batch.buf);
    sort_outcomes(out);
}

/* The capture through A and B, each flow moving to B after its 'k'th
 * packet.  Counts migrations in '*n_migrated'. */
static void
run_split(const struct capture *c, int classify_all, int k,
          const struct outcomes *ref, struct outcomes *out,
          unsigned int *n_migrated, unsigned int *n_classifying)
{
    struct fs_inspector *a = make(classify_all, out);
    struct fs_inspector *b = make(classify_all, out);
    uint8_t *rec = malloc(FS_MIGRATE_RECORD_MAX);
    static struct routes routes;

    routes.n = 0;

    for (size_t i = 0; i < c->n; i++) {
        struct fs_packet pkt = fs_packet_of(c, i);
        struct fs_flow_key key;
        struct found found;
        int keyed = !fs_packet_flow_key(&pkt, 1, &key);
        int to_b = 0;

        if (keyed && !key.src_port && !key.dst_port
            && (key.l4_proto == 6 || key.l4_proto == 17)) {
            /* A fragment after the first: with the first. */
            to_b = route_find(&routes, key) == 1;
        } else if (keyed) {
            to_b = fs_inspector_find_flow(b, &key, found_cb, &found) > 0;
            route_note(&routes, key, to_b);
        }
        if (to_b) {
            fs_inspector_process(b, &pkt);
            fs_inspector_expire(a, pkt.ts_ns);
            continue;
        }
        fs_inspector_process(a, &pkt);
        if (!keyed) {
            continue;
        }
        fs_inspector_expire(b, pkt.ts_ns);
        if (fs_inspector_find_flow(a, &key, found_cb, &found) > 0
            && found.packets == split_at(k, reference_packets(
                                             ref, &key,
                                             found.first_seen_ns))) {
            FS_IMPORT_OPTS(o);
            struct fs_import_result res;
            uint64_t replayed;
            int len, error;

            len = fs_inspector_export_one(a, found.id, &key, rec,
                                          FS_MIGRATE_RECORD_MAX);
            if (len < 0) {
                fprintf(stderr, "%s: export: %s\n", c->name,
                        strerror(-len));
                n_differences++;
                continue;
            }
            fs_inspector_release_flow(a, found.id, &key);
            route_note(&routes, key, 1);
            replayed = fs_inspector_counter(b, FS_CTR_PACKETS_REPLAYED);
            error = fs_inspector_import(b, rec, len, &o, &res);
            if (error || res.imported != 1) {
                fprintf(stderr, "%s: import: %s (%"PRIu32" imported)\n",
                        c->name, strerror(-error), res.imported);
                n_differences++;
            }
            (*n_migrated)++;
            *n_classifying += (fs_inspector_counter(b,
                                                    FS_CTR_PACKETS_REPLAYED)
                               != replayed);
        }
    }
    fs_inspector_flush(a);
    fs_inspector_flush(b);
    fs_inspector_destroy(a);
    fs_inspector_destroy(b);
    free(rec);
    sort_outcomes(out);
}

static void
format_key(const struct fs_flow_key *key, char *buf, size_t size)
{
    char src[64], dst[64], l4[8];

    snprintf(buf, size, "%s %s:%u -> %s:%u",
             fs_l4_name(key->l4_proto, l4, sizeof l4),
             fs_ip_format(key->src_ip, src, sizeof src), key->src_port,
             fs_ip_format(key->dst_ip, dst, sizeof dst), key->dst_port);
}

static void
difference(const char *capture, const char *mode, int k,
           const struct outcome *o, const char *what, const char *ref,
           const char *got)
{
    char key[160], ks[16];
    bool is_known_flow;

    format_key(&o->key, key, sizeof key);
    is_known_flow = is_known(capture, key);
    if (is_known_flow) {
        n_known++;
    } else {
        n_differences++;
    }
    if (listed++ < 200) {
        snprintf(ks, sizeof ks, k > 0 ? "%d" : k ? "all" : "half", k);
        printf("  %s %s %s k=%s %s: %s: %s, migrated %s\n",
               is_known_flow ? "KNOWN" : "DIFF", capture, mode, ks, key,
               what, ref, got);
    }
}

/* Compares outcomes; returns the number of flows that agree. */
static size_t
compare(const char *capture, const char *mode, int k,
        const struct outcomes *ref, const struct outcomes *got)
{
    size_t agree = 0, i;

    if (ref->n != got->n) {
        char r[32], g[32];

        snprintf(r, sizeof r, "%zu flows", ref->n);
        snprintf(g, sizeof g, "%zu flows", got->n);
        difference(capture, mode, k, ref->n ? &ref->o[0] : &got->o[0],
                   "flow count", r, g);
    }
    for (i = 0; i < ref->n; i++) {
        const struct outcome *r = &ref->o[i];
        const struct outcome *g = find_outcome(got, r);
        char rs[64], gs[64];
        size_t before = n_differences + n_known;

        if (!g) {
            difference(capture, mode, k, r, "flow", "present", "missing");
            continue;
        }
        if (strcmp(r->app, g->app)) {
            difference(capture, mode, k, r, "app", r->app, g->app);
        }
        if (strcmp(r->category, g->category)) {
            difference(capture, mode, k, r, "category", r->category,
                       g->category);
        }
        if (strcmp(r->host, g->host)) {
            difference(capture, mode, k, r, "host", r->host, g->host);
        }
        if (r->risks != g->risks) {
            snprintf(rs, sizeof rs, "%#"PRIx64, r->risks);
            snprintf(gs, sizeof gs, "%#"PRIx64, g->risks);
            difference(capture, mode, k, r, "risks", rs, gs);
        }
        if (r->actions != g->actions) {
            snprintf(rs, sizeof rs, "%#"PRIx32, r->actions);
            snprintf(gs, sizeof gs, "%#"PRIx32, g->actions);
            difference(capture, mode, k, r, "verdict", rs, gs);
        }
        if (memcmp(r->packets, g->packets, sizeof r->packets)) {
            snprintf(rs, sizeof rs, "%"PRIu64"/%"PRIu64, r->packets[0],
                     r->packets[1]);
            snprintf(gs, sizeof gs, "%"PRIu64"/%"PRIu64, g->packets[0],
                     g->packets[1]);
            difference(capture, mode, k, r, "packets", rs, gs);
        }
        if (r->end_reason != g->end_reason) {
            snprintf(rs, sizeof rs, "end %d", r->end_reason);
            snprintf(gs, sizeof gs, "end %d", g->end_reason);
            difference(capture, mode, k, r, "end", rs, gs);
        }
        agree += n_differences + n_known == before;
    }
    return agree;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int
main(int argc, char *argv[])
{
    enum { N_SPLITS_MAX = 16 };
    int splits[N_SPLITS_MAX] = { 1, 2, 3, 5, 8, 0, -1 };
    int n_splits = 7;
    const char *env = getenv("MIGRATE_SPLITS");
    size_t agree[2][N_SPLITS_MAX] = { { 0 } };
    size_t total[2][N_SPLITS_MAX] = { { 0 } };
    unsigned int migrated[2][N_SPLITS_MAX] = { { 0 } };
    unsigned int classifying[2][N_SPLITS_MAX] = { { 0 } };
    char dir[4096], **names = NULL;
    size_t n_names = 0, cap = 0;
    struct dirent *de;
    DIR *d;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s DIR [EXCEPTIONS]\n", argv[0]);
        return 2;
    }
    if (argc == 3) {
        load_known(argv[2]);
    }
    if (env) {
        /* Other split points: "2 0" (0: half-way). */
        char *copy = strdup(env), *save = NULL, *tok;

        n_splits = 0;
        for (tok = strtok_r(copy, " ,", &save); tok && n_splits < N_SPLITS_MAX;
             tok = strtok_r(NULL, " ,", &save)) {
            splits[n_splits++] = atoi(tok);
        }
        free(copy);
        if (!n_splits) {
            fprintf(stderr, "MIGRATE_SPLITS: no split point\n");
            return 2;
        }
    }
    snprintf(dir, sizeof dir, "%s/pcap", argv[1]);
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return 2;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (n_names == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, cap * sizeof *names);
        }
        names[n_names++] = strdup(de->d_name);
    }
    closedir(d);
    if (n_names) {
        qsort(names, n_names, sizeof *names, compare_names);
    }

    for (size_t f = 0; f < n_names; f++) {
        char path[8192];
        struct capture c;

        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        if (!load(path, &c)) {
            printf("  (%s: not a capture of a link type we read)\n",
                   names[f]);
            continue;
        }
        c.name = names[f];
        for (int mode = 0; mode < 2; mode++) {
            struct outcomes ref = { NULL, 0, 0 };

            run_reference(&c, !mode, &ref);
            for (int s = 0; s < n_splits; s++) {
                struct outcomes got = { NULL, 0, 0 };
                unsigned int n_cls = 0;

                if (splits[s] < 0) {
                    run_all_at_once(&c, !mode, &got, &migrated[mode][s],
                                    &n_cls);
                } else {
                    run_split(&c, !mode, splits[s], &ref, &got,
                              &migrated[mode][s], &n_cls);
                }
                classifying[mode][s] += n_cls;
                total[mode][s] += ref.n;
                agree[mode][s] += compare(names[f],
                                          mode ? "policy" : "classify-all",
                                          splits[s], &ref, &got);
                free(got.o);
            }
            free(ref.o);
        }
        unload(&c);
    }

    printf("%zu captures\n", n_names);
    for (int mode = 0; mode < 2; mode++) {
        for (int s = 0; s < n_splits; s++) {
            char k[16];

            snprintf(k, sizeof k, splits[s] > 0 ? "%d" : splits[s] ? "all"
                     : "half", splits[s]);
            printf("%-13s k=%-4s %6zu of %6zu flows agree (%.2f%%), "
                   "%u migrated, %u of them classifying\n",
                   mode ? "policy" : "classify-all", k,
                   agree[mode][s], total[mode][s],
                   total[mode][s] ? 100.0 * agree[mode][s] / total[mode][s]
                                  : 0.0,
                   migrated[mode][s], classifying[mode][s]);
        }
    }
    if (listed > 200) {
        printf("(%d differences, the first 200 listed)\n", listed);
    }
    printf("%u differences, and %u in flows known to differ "
           "(listed with the reason in the exceptions)\n", n_differences,
           n_known);
    for (size_t f = 0; f < n_names; f++) {
        free(names[f]);
    }
    free(names);
    return n_differences ? 1 : (total[0][0] ? 0 : 99);
}
