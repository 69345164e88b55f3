/* libFuzzer target: policy text.  Parses the input as a policy and, if it
 * parses, judges a few fixed flows, classified and not, and formats the
 * verdicts. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "insp-policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Flow keys: IPv4 TCP, IPv6 UDP, IPv4 ICMP. */
static const struct fs_flow_key keys[] = {
    {
        .src_ip = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 5 },
        .dst_ip = { [10] = 0xff, [11] = 0xff, 93, 184, 216, 34 },
        .src_port = 40000, .dst_port = 443, .l4_proto = 6, .ip_version = 4,
    },
    {
        .src_ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 },
        .dst_ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x35 },
        .src_port = 5353, .dst_port = 53, .l4_proto = 17, .ip_version = 6,
    },
    {
        .src_ip = { [10] = 0xff, [11] = 0xff, 192, 168, 1, 1 },
        .dst_ip = { [10] = 0xff, [11] = 0xff, 192, 168, 1, 2 },
        .src_port = 8 << 8, .l4_proto = 1, .ip_version = 4,
    },
};

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_b[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Checks that 'verdict', formatted as an actions list, parses back to
 * itself. */
static void
check_round_trip(const struct fs_verdict *verdict)
{
    struct insp_policy_decision d;
    struct insp_policy_flow flow = { .key = &keys[0] };
    struct insp_policy *pol;
    char text[80] = "actions=";

    insp_verdict_format(verdict, text + 8, sizeof text - 8);
    if (insp_policy_parse("rt", text, &pol, NULL, 0)
        || insp_policy_judge(pol, &flow, &d)
        || memcmp(&d.verdict, verdict, sizeof *verdict)) {
        abort();
    }
    insp_policy_destroy(pol);
}

/* Judges each flow at each stage of classification: before (NONE), once
 * nDPI detected the application (DETECTED), and after (FINAL).  FINAL
 * always decides; an earlier stage may ask to wait (-EAGAIN), but what it
 * decides must be what FINAL decides on the same facts: a verdict taken
 * early cannot change with more packets (insp-policy.h). */
static void
judge_all(const struct insp_policy *pol)
{
    static const int stages[] = {
        INSP_CLASSIFIED_FINAL, INSP_CLASSIFIED_NONE,
        INSP_CLASSIFIED_DETECTED,
    };
    size_t i, j;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        struct insp_policy_decision final;

        for (j = 0; j < sizeof stages / sizeof stages[0]; j++) {
            struct insp_policy_flow flow = {
                .key = &keys[i],
                .direction = 1 + (int) (i & 1),
                .port = i,
                .port_name = i ? "vm1" : NULL,
                .profile = i == 2 ? NULL : "web",
                .src_mac = mac_a,
                .dst_mac = i ? mac_b : NULL,
                .classified = stages[j],
                .app = i ? "DNS" : "TLS.YouTube",
                .master_name = i ? "" : "TLS",
                .app_name = i ? "DNS" : "YouTube",
                .category = "Media",
                .risks = i == 1 ? UINT64_C(1) << 36 : 0,
                .host = i ? "a.b.example.com" : "",
                .ja3 = i ? "" : "e7d705a3286e19ea42f587b344ee6865",
            };
            struct insp_policy_decision d;
            char buf[64], small[5];
            int error = insp_policy_judge(pol, &flow, &d);

            if (error && error != -EAGAIN) {
                abort();
            } else if (error && stages[j] == INSP_CLASSIFIED_FINAL) {
                abort();
            } else if (!error && d.needs_dpi
                       && stages[j] == INSP_CLASSIFIED_NONE) {
                abort();        /* A DPI rule chosen without DPI. */
            }
            if (stages[j] == INSP_CLASSIFIED_FINAL) {
                final = d;
            } else if (!error
                       && (d.rule_index != final.rule_index
                           || memcmp(&d.verdict, &final.verdict,
                                     sizeof d.verdict))) {
                abort();        /* Decided early, and wrongly. */
            }
            if (error) {
                continue;
            }
            insp_verdict_format(&d.verdict, buf, sizeof buf);
            insp_verdict_format(&d.verdict, small, sizeof small);
            if (!insp_policy_rule_name(pol, d.rule_index)) {
                abort();
            } else if (d.rule_index >= 0) {
                check_round_trip(&d.verdict);
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct insp_policy *pol = NULL;
    char err[128];
    char *text = malloc(size + 1);

    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (!insp_policy_parse("fuzz.conf", text, &pol, err, sizeof err)) {
        insp_policy_n_rules(pol);
        insp_policy_uses_macs(pol);
        judge_all(pol);
        insp_policy_destroy(pol);
    } else if (pol || strncmp(err, "fuzz.conf:", 10)) {
        abort();
    }
    free(text);
    return 0;
}
