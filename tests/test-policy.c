/* Unit tests of the policy module: parsing, judging, verdict formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "insp-policy.h"
#include "test-util.h"

/* A flow and the storage its pointers refer to. */
struct test_flow {
    struct fs_flow_key key;
    struct insp_policy_flow f;
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
};

/* Stores address 's' (IPv4 or IPv6 text) as the key stores it. */
static void
set_ip(uint8_t ip[16], const char *s)
{
    memset(ip, 0, 16);
    if (strchr(s, ':')) {
        CHECK(inet_pton(AF_INET6, s, ip) == 1);
    } else {
        ip[10] = ip[11] = 0xff;
        CHECK(inet_pton(AF_INET, s, ip + 12) == 1);
    }
}

/* Initializes 't' as an unclassified flow from 'src':'sport' to
 * 'dst':'dport' with IP protocol 'proto', on port 1 "vm1" of profile "web",
 * whose DPI fields (once 'classified' is set) say TLS.YouTube. */
static void
flow_init(struct test_flow *t, const char *src, const char *dst, int proto,
          int sport, int dport)
{
    static const uint8_t smac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    static const uint8_t dmac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

    memset(t, 0, sizeof *t);
    set_ip(t->key.src_ip, src);
    set_ip(t->key.dst_ip, dst);
    t->key.ip_version = strchr(src, ':') ? 6 : 4;
    t->key.l4_proto = proto;
    t->key.src_port = sport;
    t->key.dst_port = dport;
    memcpy(t->src_mac, smac, 6);
    memcpy(t->dst_mac, dmac, 6);

    t->f.key = &t->key;
    t->f.direction = INSP_DIR_OUT;
    t->f.port = 1;
    t->f.port_name = "vm1";
    t->f.profile = "web";
    t->f.src_mac = t->src_mac;
    t->f.dst_mac = t->dst_mac;
    t->f.classified = 0;
    t->f.app = "TLS.YouTube";
    t->f.master_name = "TLS";
    t->f.app_name = "YouTube";
    t->f.category = "Media";
    t->f.risks = 0;
    t->f.host = "www.youtube.com";
    t->f.ja3 = "";
}

static void
tcp_flow(struct test_flow *t)
{
    flow_init(t, "10.0.0.5", "93.184.216.34", 6, 40000, 443);
}

/* Parses 'text' as policy "t.conf".  Returns the policy, or NULL after
 * reporting a failed check. */
static struct insp_policy *
parse_ok(const char *text)
{
    struct insp_policy *pol = NULL;
    char err[256];
    int error = insp_policy_parse("t.conf", text, &pol, err, sizeof err);

    if (error) {
        fprintf(stderr, "unexpected parse error %d for \"%s\": %s\n",
                error, text, err);
    }
    CHECK_INT(error, 0);
    return pol;
}

/* Judges 'flow' against the one-rule policy "MATCH, actions=drop".  Returns
 * 1 if the rule matched, 0 if not, -EAGAIN if DPI is needed, -1000 if the
 * policy does not parse. */
static int
matches(const char *match, const struct test_flow *t)
{
    struct insp_policy_decision d;
    struct insp_policy *pol;
    char text[512];
    int error;

    snprintf(text, sizeof text, "%s, actions=drop", match);
    pol = parse_ok(text);
    if (!pol) {
        return -1000;
    }
    error = insp_policy_judge(pol, &t->f, &d);
    insp_policy_destroy(pol);
    if (error) {
        return error;
    }
    CHECK(d.verdict.actions == FS_ACT_DROP
          || (d.verdict.actions == FS_ACT_ALLOW && d.rule_index == -1));
    return d.rule_index == 0;
}

/* Checks that 'text' fails to parse as "p.conf" with message 'expected'. */
static void
check_error_(const char *text, const char *expected, int line)
{
    struct insp_policy *pol = (struct insp_policy *) 1;
    char err[256];
    int error = insp_policy_parse("p.conf", text, &pol, err, sizeof err);

    test_checks++;
    if (error != -EINVAL || pol || strcmp(err, expected)) {
        test_failures++;
        fprintf(stderr, "%s:%d: parsing \"%.60s\": %d, \"%s\"; expected "
                "-EINVAL, \"%s\"\n", __FILE__, line, text, error, err,
                expected);
    }
    if (!error) {
        insp_policy_destroy(pol);
    }
}
#define check_error(TEXT, EXPECTED) check_error_(TEXT, EXPECTED, __LINE__)

/* ---------------------------------------------------------------------- */

static void
test_empty_policy(void)
{
    struct insp_policy_decision d;
    struct test_flow t;
    struct insp_policy *pol;

    tcp_flow(&t);
    pol = parse_ok("# nothing\n\n   \t\n# but comments\n");
    CHECK_INT(insp_policy_n_rules(pol), 0);
    /* A policy that no rule of matches fails closed... */
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    CHECK_INT(d.rule_index, -1);
    CHECK_INT(d.priority, -1);
    CHECK_INT(d.needs_dpi, 0);
    CHECK_STR(insp_policy_rule_name(pol, -1), "default");
    insp_policy_destroy(pol);

    /* ... as does one whose rules are all for another profile, or another
     * protocol, unless it says otherwise. */
    pol = parse_ok("profile=other, actions=allow\nudp, actions=allow\n");
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    CHECK_INT(d.rule_index, -1);
    insp_policy_destroy(pol);
    pol = parse_ok("udp, actions=drop\npriority=0, actions=allow\n");
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW);
    CHECK_INT(d.rule_index, 1);
    insp_policy_destroy(pol);

    /* No policy enforces nothing, and has no rules either. */
    CHECK_INT(insp_policy_judge(NULL, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW);
    CHECK_INT(d.rule_index, -1);
    CHECK_INT(insp_policy_n_rules(NULL), 0);
    CHECK_INT(insp_policy_uses_macs(NULL), 0);
    insp_policy_destroy(NULL);

    pol = parse_ok("");
    CHECK_INT(insp_policy_n_rules(pol), 0);
    insp_policy_destroy(pol);
}

static void
test_profile_and_port(void)
{
    struct test_flow t;

    tcp_flow(&t);
    CHECK_INT(matches("profile=web", &t), 1);
    CHECK_INT(matches("profile=db", &t), 0);
    CHECK_INT(matches("profile=Web", &t), 0);
    CHECK_INT(matches("in_port=1", &t), 1);
    CHECK_INT(matches("in_port=2", &t), 0);
    CHECK_INT(matches("port=1", &t), 1);
    CHECK_INT(matches("in_port=vm1", &t), 1);
    CHECK_INT(matches("port=vm2", &t), 0);
    CHECK_INT(matches("in_port=4294967295", &t), 0);

    /* Unknown profile or port name matches no rule that names one. */
    t.f.profile = NULL;
    t.f.port_name = NULL;
    CHECK_INT(matches("profile=web", &t), 0);
    CHECK_INT(matches("in_port=vm1", &t), 0);
    CHECK_INT(matches("in_port=1", &t), 1);
}

static void
test_macs(void)
{
    struct insp_policy *pol;
    struct test_flow t;

    tcp_flow(&t);
    CHECK_INT(matches("dl_src=52:54:00:12:34:56", &t), 1);
    CHECK_INT(matches("dl_src=52:54:00:12:34:57", &t), 0);
    CHECK_INT(matches("dl_dst=52:54:00:AB:CD:EF", &t), 1);
    CHECK_INT(matches("dl_dst=52:54:00:12:34:56", &t), 0);
    CHECK_INT(matches("mac=52:54:00:12:34:56", &t), 1);
    CHECK_INT(matches("mac=52:54:00:ab:cd:ef", &t), 1);
    CHECK_INT(matches("mac=52:54:00:00:00:00", &t), 0);
    CHECK_INT(matches("dl_src=52:54:00:00:00:00/ff:ff:ff:00:00:00", &t), 1);
    CHECK_INT(matches("dl_src=52:55:00:00:00:00/ff:ff:ff:00:00:00", &t), 0);
    CHECK_INT(matches("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00", &t), 0);

    t.f.src_mac = NULL;
    CHECK_INT(matches("dl_src=52:54:00:12:34:56", &t), 0);
    CHECK_INT(matches("mac=52:54:00:ab:cd:ef", &t), 1);

    pol = parse_ok("tcp, actions=drop\n");
    CHECK_INT(insp_policy_uses_macs(pol), 0);
    insp_policy_destroy(pol);
    pol = parse_ok("tcp, actions=drop\nmac=00:00:00:00:00:01, actions=log\n");
    CHECK_INT(insp_policy_uses_macs(pol), 1);
    insp_policy_destroy(pol);
}

static void
test_ipv4(void)
{
    struct test_flow t;

    tcp_flow(&t);
    CHECK_INT(matches("nw_src=10.0.0.0/8", &t), 1);
    CHECK_INT(matches("nw_src=10.0.0.5", &t), 1);
    CHECK_INT(matches("nw_src=10.0.0.6", &t), 0);
    CHECK_INT(matches("nw_src=10.0.0.4/31", &t), 1);
    CHECK_INT(matches("nw_src=10.0.0.6/31", &t), 0);
    CHECK_INT(matches("nw_src=11.0.0.0/8", &t), 0);
    CHECK_INT(matches("nw_src=10.9.9.9/8", &t), 1);     /* Host bits. */
    CHECK_INT(matches("nw_src=0.0.0.0/0", &t), 1);
    CHECK_INT(matches("nw_src=10.0.0.0/255.255.255.0", &t), 1);
    CHECK_INT(matches("nw_src=10.0.1.0/255.255.255.0", &t), 0);
    CHECK_INT(matches("nw_dst=93.184.216.0/24", &t), 1);
    CHECK_INT(matches("nw_dst=10.0.0.5", &t), 0);
    CHECK_INT(matches("nw_addr=93.184.216.34", &t), 1);
    CHECK_INT(matches("nw_addr=10.0.0.5/32", &t), 1);
    CHECK_INT(matches("nw_addr=192.168.0.0/16", &t), 0);
    CHECK_INT(matches("nw_src=10.0.0.0/8, nw_dst=93.0.0.0/8", &t), 1);
    CHECK_INT(matches("nw_src=10.0.0.0/8, nw_dst=94.0.0.0/8", &t), 0);

    /* An IPv4 CIDR, even 0.0.0.0/0, matches only IPv4 flows. */
    flow_init(&t, "::ffff:10.0.0.5", "2001:db8::1", 6, 40000, 443);
    CHECK_INT(matches("nw_src=0.0.0.0/0", &t), 0);
    CHECK_INT(matches("nw_src=10.0.0.5", &t), 0);
}

static void
test_ipv6(void)
{
    struct test_flow t;

    flow_init(&t, "2001:db8::5", "2001:db8:1::80", 6, 40000, 443);
    CHECK_INT(matches("ipv6_src=2001:db8::/32", &t), 1);
    CHECK_INT(matches("ipv6_src=2001:db8::5", &t), 1);
    CHECK_INT(matches("ipv6_src=2001:db8::6", &t), 0);
    CHECK_INT(matches("ipv6_src=2001:db9::/32", &t), 0);
    CHECK_INT(matches("ipv6_src=::/0", &t), 1);
    CHECK_INT(matches("ipv6_dst=2001:db8:1::/48", &t), 1);
    CHECK_INT(matches("ipv6_dst=2001:db8:2::/48", &t), 0);
    CHECK_INT(matches("ipv6_addr=2001:db8:1::80/128", &t), 1);
    CHECK_INT(matches("ipv6_addr=2001:db8::5", &t), 1);
    CHECK_INT(matches("ipv6_addr=fe80::/10", &t), 0);
    CHECK_INT(matches("ipv6_src=2001:db8::4/127", &t), 1);
    CHECK_INT(matches("ipv6_src=2001:db8::6/127", &t), 0);
    CHECK_INT(matches("nw_src=0.0.0.0/0", &t), 0);

    /* An IPv6 match does not match IPv4 flows, even ::ffff:0:0/96. */
    tcp_flow(&t);
    CHECK_INT(matches("ipv6_src=::/0", &t), 0);
    CHECK_INT(matches("ipv6_src=::ffff:0:0/96", &t), 0);
}

static void
test_protocols(void)
{
    struct test_flow t;

    tcp_flow(&t);
    CHECK_INT(matches("ip", &t), 1);
    CHECK_INT(matches("tcp", &t), 1);
    CHECK_INT(matches("ip, tcp", &t), 1);
    CHECK_INT(matches("udp", &t), 0);
    CHECK_INT(matches("icmp", &t), 0);
    CHECK_INT(matches("sctp", &t), 0);
    CHECK_INT(matches("ipv6", &t), 0);
    CHECK_INT(matches("tcp6", &t), 0);
    CHECK_INT(matches("nw_proto=6", &t), 1);
    CHECK_INT(matches("tcp,nw_proto=6", &t), 1);
    CHECK_INT(matches("nw_proto=17", &t), 0);

    flow_init(&t, "2001:db8::5", "2001:db8::6", 17, 5353, 53);
    CHECK_INT(matches("ipv6", &t), 1);
    CHECK_INT(matches("udp6", &t), 1);
    CHECK_INT(matches("udp", &t), 0);
    CHECK_INT(matches("tcp6", &t), 0);
    CHECK_INT(matches("ip", &t), 0);
    CHECK_INT(matches("nw_proto=17", &t), 1);

    flow_init(&t, "2001:db8::5", "2001:db8::6", 58, 128 << 8, 0);
    CHECK_INT(matches("icmp6", &t), 1);
    flow_init(&t, "10.0.0.1", "10.0.0.2", 1, 8 << 8, 0);
    CHECK_INT(matches("icmp", &t), 1);
    flow_init(&t, "10.0.0.1", "10.0.0.2", 132, 9, 9);
    CHECK_INT(matches("sctp", &t), 1);
    CHECK_INT(matches("sctp, tp_dst=9", &t), 1);
    flow_init(&t, "2001:db8::5", "2001:db8::6", 132, 9, 9);
    CHECK_INT(matches("sctp6", &t), 1);
}

static void
test_ports(void)
{
    struct test_flow t;

    tcp_flow(&t);
    CHECK_INT(matches("tp_dst=443", &t), 1);
    CHECK_INT(matches("tp_dst=80", &t), 0);
    CHECK_INT(matches("tcp,tp_dst=443", &t), 1);
    CHECK_INT(matches("udp,tp_dst=443", &t), 0);
    CHECK_INT(matches("tp_src=40000", &t), 1);
    CHECK_INT(matches("tp_src=443", &t), 0);
    CHECK_INT(matches("tp_src=32768-60999", &t), 1);
    CHECK_INT(matches("tp_src=40000-40000", &t), 1);
    CHECK_INT(matches("tp_src=40001-65535", &t), 0);
    CHECK_INT(matches("tp_src=0-39999", &t), 0);
    CHECK_INT(matches("tp_dst=1-1023", &t), 1);
    CHECK_INT(matches("tp_port=443", &t), 1);
    CHECK_INT(matches("tp_port=40000", &t), 1);
    CHECK_INT(matches("tp_port=80-442", &t), 0);
    CHECK_INT(matches("tp_port=444-39999", &t), 0);
    CHECK_INT(matches("tp_src=40000, tp_dst=443", &t), 1);
    CHECK_INT(matches("tp_src=40000, tp_dst=444", &t), 0);

    /* ICMP flows carry type and code in the ports: no tp_* match them. */
    flow_init(&t, "10.0.0.1", "10.0.0.2", 1, 0, 0);
    CHECK_INT(matches("tp_src=0-65535", &t), 0);
    CHECK_INT(matches("tp_dst=0", &t), 0);
    CHECK_INT(matches("tp_port=0-65535", &t), 0);
}

static void
test_no_key(void)
{
    struct test_flow t;

    tcp_flow(&t);
    t.f.key = NULL;
    CHECK_INT(matches("profile=web", &t), 1);
    CHECK_INT(matches("tcp", &t), 0);
    CHECK_INT(matches("tp_dst=443", &t), 0);
    CHECK_INT(matches("nw_src=0.0.0.0/0", &t), 0);
}

static void
test_app_category(void)
{
    struct test_flow t;

    tcp_flow(&t);
    t.f.classified = 1;
    CHECK_INT(matches("app=TLS.YouTube", &t), 1);
    CHECK_INT(matches("app=tls.youtube", &t), 1);
    CHECK_INT(matches("app=TLS", &t), 1);
    CHECK_INT(matches("app=tls", &t), 1);
    CHECK_INT(matches("app=YouTube", &t), 1);
    CHECK_INT(matches("app=YOUTUBE", &t), 1);
    CHECK_INT(matches("app=Tube", &t), 0);
    CHECK_INT(matches("app=TLS.You", &t), 0);
    CHECK_INT(matches("app=HTTP", &t), 0);
    CHECK_INT(matches("category=Media", &t), 1);
    CHECK_INT(matches("category=media", &t), 1);
    CHECK_INT(matches("category=Web", &t), 0);
    CHECK_INT(matches("category=Med", &t), 0);

    /* A plain "TLS" flow: no master. */
    t.f.app = "TLS";
    t.f.master_name = "";
    t.f.app_name = "TLS";
    CHECK_INT(matches("app=TLS", &t), 1);
    CHECK_INT(matches("app=YouTube", &t), 0);

    /* NULL strings do not crash and match nothing. */
    t.f.app = t.f.master_name = t.f.app_name = t.f.category = NULL;
    t.f.host = t.f.ja3 = NULL;
    CHECK_INT(matches("app=TLS", &t), 0);
    CHECK_INT(matches("category=Media", &t), 0);
    CHECK_INT(matches("host=x", &t), 0);
    CHECK_INT(matches("ja3=0123456789abcdef0123456789abcdef", &t), 0);
    CHECK_INT(matches("host=*", &t), 1);
}

static void
test_risks(void)
{
    struct test_flow t;

    tcp_flow(&t);
    t.f.classified = 1;
    CHECK_INT(matches("risk=clear_text_credentials", &t), 0);
    t.f.risks = UINT64_C(1) << 36;
    CHECK_INT(matches("risk=clear_text_credentials", &t), 1);
    CHECK_INT(matches("risk=CLEAR_TEXT_CREDENTIALS", &t), 1);
    CHECK_INT(matches("risk=tls_weak_cipher", &t), 0);
    t.f.risks |= UINT64_C(1) << 8;
    CHECK_INT(matches("risk=tls_weak_cipher", &t), 1);
    CHECK_INT(matches("risk=tls_certificate_about_to_expire", &t), 0);
    t.f.risks = UINT64_C(1) << 41;
    CHECK_INT(matches("risk=tls_certificate_about_to_expire", &t), 1);
    t.f.risks = UINT64_C(1) << 1;
    CHECK_INT(matches("risk=url_possible_xss", &t), 1);
}

static void
test_risk_names(void)
{
    unsigned int bit;

    CHECK(fs_risk_name(0) == NULL);
    CHECK_STR(fs_risk_name(1), "url_possible_xss");
    CHECK_STR(fs_risk_name(5), "known_protocol_on_non_standard_port");
    CHECK_STR(fs_risk_name(10), "tls_certificate_mismatch");
    CHECK_STR(fs_risk_name(20), "smb_insecure_version");
    CHECK_STR(fs_risk_name(30), "desktop_or_file_sharing_session");
    CHECK_STR(fs_risk_name(36), "clear_text_credentials");
    CHECK_STR(fs_risk_name(40), "possible_exploit");
    CHECK_STR(fs_risk_name(41), "tls_certificate_about_to_expire");
    CHECK(fs_risk_name(42) == NULL);
    CHECK(fs_risk_name(63) == NULL);
    CHECK(fs_risk_name(64) == NULL);
    CHECK(fs_risk_name(UINT32_MAX) == NULL);

    CHECK_INT(insp_risk_from_name("clear_text_credentials"), 36);
    CHECK_INT(insp_risk_from_name("Clear_Text_Credentials"), 36);
    CHECK_INT(insp_risk_from_name("tls_missing_sni"), 24);
    CHECK_INT(insp_risk_from_name("no_risk"), -1);
    CHECK_INT(insp_risk_from_name("max_risk"), -1);
    CHECK_INT(insp_risk_from_name(""), -1);
    CHECK_INT(insp_risk_from_name("clear_text_credential"), -1);
    CHECK_INT(insp_risk_from_name("clear_text_credentialss"), -1);
    CHECK_INT(insp_risk_from_name(NULL), -1);

    /* Names and bits round-trip, and names are unique. */
    for (bit = 1; bit < 42; bit++) {
        CHECK(fs_risk_name(bit) != NULL);
        if (fs_risk_name(bit)) {
            CHECK_INT(insp_risk_from_name(fs_risk_name(bit)), bit);
        }
    }
}

static void
test_globs(void)
{
    static const struct {
        const char *glob;
        const char *host;
        int match;
    } cases[] = {
        { "*.example.com", "a.example.com", 1 },
        { "*.example.com", "a.b.example.com", 1 },
        { "*.example.com", "example.com", 0 },
        { "*.example.com", "aexample.com", 0 },
        { "*.example.com", "a.example.com.evil", 0 },
        { "*.EXAMPLE.com", "A.Example.COM", 1 },
        { "example.com", "example.com", 1 },
        { "example.com", "www.example.com", 0 },
        { "www.example.???", "www.example.com", 1 },
        { "www.example.???", "www.example.co", 0 },
        { "*", "", 1 },
        { "*", "anything", 1 },
        { "?*", "", 0 },
        { "a*b*c", "aXbYc", 1 },
        { "a*b*c", "abc", 1 },
        { "a*b*c", "acb", 0 },
        { "*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
        { "[ab]x", "bx", 1 },
        { "[ab]x", "cx", 0 },
        { "[!ab]x", "cx", 1 },
        { "[^ab]x", "ax", 0 },
        { "v[0-9].cdn.net", "v7.cdn.net", 1 },
        { "v[0-9].cdn.net", "vx.cdn.net", 0 },
        { "[A-C]", "b", 1 },
        { "[]]", "]", 1 },
        { "[a-]", "-", 1 },
        { "\\*.com", "*.com", 1 },
        { "\\*.com", "a.com", 0 },
        { "**.com", "a.com", 1 },
        { "*com", "com", 1 },
    };
    struct test_flow t;
    size_t i;

    tcp_flow(&t);
    t.f.classified = 1;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char match[128];
        int result;

        t.f.host = cases[i].host;
        snprintf(match, sizeof match, "%s=%s", i % 2 ? "host" : "sni",
                 cases[i].glob);
        result = matches(match, &t);
        if (result != cases[i].match) {
            fprintf(stderr, "glob '%s' against '%s': %d\n", cases[i].glob,
                    cases[i].host, result);
        }
        CHECK_INT(result, cases[i].match);
    }
}

static void
test_ja3(void)
{
    struct test_flow t;

    tcp_flow(&t);
    t.f.classified = 1;
    t.f.ja3 = "e7d705a3286e19ea42f587b344ee6865";
    CHECK_INT(matches("ja3=e7d705a3286e19ea42f587b344ee6865", &t), 1);
    CHECK_INT(matches("ja3=E7D705A3286E19EA42F587B344EE6865", &t), 1);
    CHECK_INT(matches("ja3=e7d705a3286e19ea42f587b344ee6866", &t), 0);
    t.f.ja3 = "";
    CHECK_INT(matches("ja3=e7d705a3286e19ea42f587b344ee6865", &t), 0);
}

static void
test_direction(void)
{
    struct test_flow t;

    tcp_flow(&t);
    CHECK_INT(matches("direction=out", &t), 1);
    CHECK_INT(matches("direction=in", &t), 0);
    CHECK_INT(matches("direction=out, profile=web, tcp, tp_dst=443", &t), 1);
    t.f.direction = INSP_DIR_IN;
    CHECK_INT(matches("direction=out", &t), 0);
    CHECK_INT(matches("direction=in, tcp, tp_dst=443", &t), 1);
    CHECK_INT(matches("tcp, tp_dst=443", &t), 1);
    check_error("direction=inbound, actions=drop",
                "p.conf:1:11: bad direction 'inbound' (expected in or out)");
    check_error("direction=in, direction=out, actions=drop",
                "p.conf:1:15: duplicate field 'direction'");
}

static void
test_dpi_needed(void)
{
    struct insp_policy_decision d;
    struct insp_policy *pol;
    struct test_flow t;

    tcp_flow(&t);

    /* A DPI rule that could match comes first: -EAGAIN until classified. */
    pol = parse_ok("priority=200, tcp, app=BitTorrent, actions=drop\n"
                   "priority=100, tcp, actions=allow\n");
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);
    CHECK_INT(d.verdict.actions, 0);
    CHECK_INT(d.rule_index, -1);
    t.f.classified = 1;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW);
    CHECK_INT(d.rule_index, 1);
    CHECK_INT(d.priority, 100);
    CHECK_INT(d.needs_dpi, 0);
    t.f.app = t.f.master_name = t.f.app_name = "BitTorrent";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    CHECK_INT(d.rule_index, 0);
    CHECK_INT(d.priority, 200);
    CHECK_INT(d.needs_dpi, 1);
    insp_policy_destroy(pol);

    /* The DPI rule's L4 fields cannot match UDP: decided without DPI. */
    pol = parse_ok("priority=200, tcp, app=BitTorrent, actions=drop\n"
                   "priority=100, udp, actions=meter:100\n"
                   "priority=50, sni=*.x.com, actions=drop\n");
    flow_init(&t, "10.0.0.5", "10.0.0.6", 17, 5000, 6000);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW | FS_ACT_METER);
    CHECK_INT(d.verdict.meter_kbps, 100);
    CHECK_INT(d.rule_index, 1);
    CHECK_INT(d.needs_dpi, 0);

    /* TCP: the first rule needs DPI. */
    tcp_flow(&t);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);

    /* ICMP: only the lowest rule could match, and it needs DPI. */
    flow_init(&t, "10.0.0.5", "10.0.0.6", 1, 0, 0);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);
    t.f.classified = 1;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, -1);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    t.f.host = "a.x.com";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 2);
    CHECK_INT(d.needs_dpi, 1);
    insp_policy_destroy(pol);

    /* A profile rule without DPI above a DPI rule: decided on L4. */
    pol = parse_ok("priority=300, profile=db, app=TLS, actions=drop\n"
                   "priority=200, profile=web, tp_dst=443, actions=log\n"
                   "priority=100, app=TLS, actions=drop\n");
    tcp_flow(&t);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 1);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW | FS_ACT_LOG);
    t.f.profile = NULL;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);
    insp_policy_destroy(pol);

    CHECK_INT(insp_policy_judge(NULL, NULL, &d), -EINVAL);
    CHECK_INT(insp_policy_judge(NULL, &t.f, NULL), -EINVAL);
}

/* Detected but not final: decided only if no detail still to come could
 * make a higher rule match. */
static void
test_detected(void)
{
    struct insp_policy_decision d;
    struct insp_policy *pol;
    struct test_flow t;

    pol = parse_ok("priority=300, app=TLS, sni=*.blocked.test, actions=drop\n"
                   "priority=250, app=TLS, risk=clear_text_credentials, "
                   "actions=drop\n"
                   "priority=200, app=TLS, actions=allow\n"
                   "priority=100, app=DNS, host=*.blocked.test, "
                   "actions=drop\n"
                   "priority=90, app=DNS, actions=allow\n");
    tcp_flow(&t);
    t.f.classified = INSP_CLASSIFIED_DETECTED;
    t.f.app = t.f.app_name = "TLS";
    t.f.master_name = "";
    t.f.host = "www.blocked.test";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 0);
    /* Another name: the risk rule could still match. */
    t.f.host = "www.ok.test";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);
    CHECK_INT(d.needs_dpi, 1);
    t.f.risks = UINT64_C(1) << 36;      /* clear_text_credentials */
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 1);
    t.f.risks = 0;
    t.f.classified = INSP_CLASSIFIED_FINAL;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 2);

    /* DNS: the TLS rules cannot match whatever comes; with no name yet,
     * the DNS name rule could. */
    t.f.classified = INSP_CLASSIFIED_DETECTED;
    t.f.app = t.f.app_name = "DNS";
    t.f.host = "";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);
    t.f.host = "www.web.test";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 4);
    t.f.host = "x.blocked.test";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 3);
    insp_policy_destroy(pol);
}

static void
test_priorities(void)
{
    struct insp_policy_decision d;
    struct insp_policy *pol;
    struct test_flow t;

    tcp_flow(&t);
    pol = parse_ok("# First rule: line 2.\n"
                   "priority=10, actions=drop\n"
                   "priority=20, tcp, actions=mirror:mon0\n"
                   "priority=20, actions=label\n"
                   "tcp, actions=log\n"
                   "actions=meter:5\n"
                   "priority=65535, udp, actions=drop\n"
                   "priority=0, actions=allow\n");
    CHECK_INT(insp_policy_n_rules(pol), 7);
    CHECK_STR(insp_policy_rule_name(pol, 0), "t.conf:2");
    CHECK_STR(insp_policy_rule_name(pol, 1), "t.conf:3");
    CHECK_STR(insp_policy_rule_name(pol, 6), "t.conf:8");
    CHECK_STR(insp_policy_rule_name(pol, -1), "default");
    CHECK_STR(insp_policy_rule_name(pol, 7), "unknown");
    CHECK_STR(insp_policy_rule_name(pol, INSP_RULE_KEPT), "previous-policy");
    CHECK_STR(insp_policy_rule_name(pol, INSP_RULE_IMPORTED), "imported");
    CHECK_STR(insp_policy_rule_name(pol, -4), "unknown");

    /* Default priority 32768, and equal priorities in file order. */
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 3);
    CHECK_INT(d.priority, 32768);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW | FS_ACT_LOG);

    /* UDP skips the tcp rules: the meter rule (also 32768) is next. */
    flow_init(&t, "10.0.0.5", "10.0.0.6", 17, 1, 2);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 5);
    CHECK_INT(d.priority, 65535);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    insp_policy_destroy(pol);

    pol = parse_ok("priority=20, udp, actions=drop\n"
                   "priority=20, tcp, actions=mirror:mon0\n"
                   "priority=20, actions=label\n"
                   "priority=10, actions=drop\n");
    tcp_flow(&t);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 1);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW | FS_ACT_MIRROR);
    CHECK_STR(d.verdict.mirror_port, "mon0");
    flow_init(&t, "10.0.0.5", "10.0.0.6", 1, 1, 2);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 2);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW | FS_ACT_LABEL);
    insp_policy_destroy(pol);

    /* Many rules of the same priority keep file order. */
    {
        char text[64 * 100] = "";
        int i;

        for (i = 0; i < 100; i++) {
            snprintf(text + strlen(text), sizeof text - strlen(text),
                     "priority=%d, tp_dst=%d, actions=log\n", i % 3, i);
        }
        pol = parse_ok(text);
        tcp_flow(&t);
        for (i = 0; i < 100; i++) {
            t.key.dst_port = i;
            CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
            CHECK_INT(d.rule_index, i);
            CHECK_INT(d.priority, i % 3);
        }
        insp_policy_destroy(pol);
    }
}

static void
test_design_example(void)
{
    struct insp_policy_decision d;
    struct insp_policy *pol;
    struct test_flow t;

    pol = parse_ok(
        "priority=300, profile=web, app=BitTorrent, actions=drop\n"
        "priority=200, profile=web, app=TLS, sni=*.example.com, "
        "actions=allow\n"
        "priority=100, profile=web, risk=clear_text_credentials, "
        "actions=drop,log\n"
        "priority=0,   profile=web, actions=drop\n");
    tcp_flow(&t);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), -EAGAIN);
    t.f.classified = 1;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 3);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    t.f.host = "www.example.com";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 1);
    CHECK_INT(d.verdict.actions, FS_ACT_ALLOW);
    CHECK_STR(insp_policy_rule_name(pol, d.rule_index), "t.conf:2");
    t.f.app = "HTTP";
    t.f.master_name = "";
    t.f.app_name = "HTTP";
    t.f.risks = UINT64_C(1) << 36;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 2);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP | FS_ACT_LOG);

    /* Another profile: no rule matches, not even to ask for DPI. */
    t.f.classified = 0;
    t.f.profile = "db";
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, -1);
    CHECK_INT(d.verdict.actions, FS_ACT_DROP);
    insp_policy_destroy(pol);
}

/* Parses "actions=ACTIONS" and checks the verdict, and that formatting it
 * gives 'formatted', which parses back to the same verdict. */
static void
check_actions_(const char *acts, uint32_t bits, uint32_t kbps,
               const char *mirror, const char *formatted, int line)
{
    struct insp_policy_decision d, d2;
    struct insp_policy *pol;
    struct test_flow t;
    char text[256], buf[64];

    tcp_flow(&t);
    snprintf(text, sizeof text, "actions=%s", acts);
    pol = parse_ok(text);
    if (!pol) {
        fprintf(stderr, "(from line %d)\n", line);
        return;
    }
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    insp_policy_destroy(pol);
    CHECK_INT(d.verdict.actions, bits);
    CHECK_INT(d.verdict.meter_kbps, kbps);
    CHECK_STR(d.verdict.mirror_port, mirror);
    CHECK_STR(insp_verdict_format(&d.verdict, buf, sizeof buf), formatted);

    snprintf(text, sizeof text, "actions=%s", buf);
    pol = parse_ok(text);
    CHECK_INT(insp_policy_judge(pol, &t.f, &d2), 0);
    insp_policy_destroy(pol);
    CHECK(!memcmp(&d.verdict, &d2.verdict, sizeof d.verdict));
    if (d.verdict.actions != bits) {
        fprintf(stderr, "(from line %d)\n", line);
    }
}
#define check_actions(A, BITS, KBPS, MIRROR, FMT) \
    check_actions_(A, BITS, KBPS, MIRROR, FMT, __LINE__)

static void
test_actions(void)
{
    check_actions("allow", FS_ACT_ALLOW, 0, "", "allow");
    check_actions("drop", FS_ACT_DROP, 0, "", "drop");
    check_actions("log", FS_ACT_ALLOW | FS_ACT_LOG, 0, "", "allow,log");
    check_actions("allow,log", FS_ACT_ALLOW | FS_ACT_LOG, 0, "",
                  "allow,log");
    check_actions("drop, log", FS_ACT_DROP | FS_ACT_LOG, 0, "", "drop,log");
    check_actions("log ,drop", FS_ACT_DROP | FS_ACT_LOG, 0, "", "drop,log");
    check_actions("mirror:p1", FS_ACT_ALLOW | FS_ACT_MIRROR, 0, "p1",
                  "mirror:p1");
    check_actions("mirror:abcdefghijklmno", FS_ACT_ALLOW | FS_ACT_MIRROR, 0,
                  "abcdefghijklmno", "mirror:abcdefghijklmno");
    check_actions("meter:1000,log", FS_ACT_ALLOW | FS_ACT_METER | FS_ACT_LOG,
                  1000, "", "meter:1000,log");
    check_actions("meter:1000kbps", FS_ACT_ALLOW | FS_ACT_METER, 1000, "",
                  "meter:1000");
    check_actions("meter:10mbps", FS_ACT_ALLOW | FS_ACT_METER, 10000, "",
                  "meter:10000");
    check_actions("meter:2Gbps", FS_ACT_ALLOW | FS_ACT_METER, 2000000, "",
                  "meter:2000000");
    check_actions("meter:4294967295", FS_ACT_ALLOW | FS_ACT_METER,
                  4294967295u, "", "meter:4294967295");
    check_actions("meter:4294gbps", FS_ACT_ALLOW | FS_ACT_METER,
                  4294000000u, "", "meter:4294000000");
    check_actions("label", FS_ACT_ALLOW | FS_ACT_LABEL, 0, "", "label");
    check_actions("allow, mirror:m, meter:1, label, log",
                  FS_ACT_ALLOW | FS_ACT_MIRROR | FS_ACT_METER | FS_ACT_LABEL
                  | FS_ACT_LOG, 1, "m", "mirror:m,meter:1,label,log");
    check_actions("log,label,meter:7mbps,mirror:x",
                  FS_ACT_ALLOW | FS_ACT_MIRROR | FS_ACT_METER | FS_ACT_LABEL
                  | FS_ACT_LOG, 7000, "x", "mirror:x,meter:7000,label,log");
}

static void
test_verdict_format(void)
{
    struct fs_verdict v;
    char buf[64];

    memset(&v, 0, sizeof v);
    CHECK_STR(insp_verdict_format(&v, buf, sizeof buf), "none");
    CHECK_STR(insp_verdict_format(NULL, buf, sizeof buf), "none");
    v.actions = FS_ACT_DROP | FS_ACT_LOG;
    CHECK_STR(insp_verdict_format(&v, buf, sizeof buf), "drop,log");
    v.actions = FS_ACT_ALLOW | FS_ACT_METER | FS_ACT_LOG;
    v.meter_kbps = 1000;
    CHECK_STR(insp_verdict_format(&v, buf, sizeof buf), "meter:1000,log");

    /* A mirror port without NUL is cut at FS_PORT_NAME_MAX. */
    v.actions = FS_ACT_ALLOW | FS_ACT_MIRROR;
    memset(v.mirror_port, 'x', sizeof v.mirror_port);
    CHECK_STR(insp_verdict_format(&v, buf, sizeof buf),
              "mirror:xxxxxxxxxxxxxxxx");

    /* Truncation keeps a NUL and a valid prefix. */
    v.actions = FS_ACT_ALLOW | FS_ACT_METER | FS_ACT_LABEL | FS_ACT_LOG;
    v.meter_kbps = 123456;
    CHECK_STR(insp_verdict_format(&v, buf, sizeof buf),
              "meter:123456,label,log");
    CHECK_STR(insp_verdict_format(&v, buf, 8), "meter:1");
    CHECK_STR(insp_verdict_format(&v, buf, 13), "meter:123456");
    CHECK_STR(insp_verdict_format(&v, buf, 14), "meter:123456,");
    CHECK_STR(insp_verdict_format(&v, buf, 15), "meter:123456,l");
    CHECK_STR(insp_verdict_format(&v, buf, 1), "");
    buf[0] = 'z';
    CHECK(insp_verdict_format(&v, buf, 0) == buf);
    CHECK_INT(buf[0], 'z');
}

static void
test_syntax(void)
{
    struct insp_policy *pol;

    /* Spacing, comments, CRLF, and tabs are fine. */
    pol = parse_ok("  priority=5 ,tcp,\ttp_dst=80-81 , actions=drop");
    CHECK_INT(insp_policy_n_rules(pol), 1);
    insp_policy_destroy(pol);
    pol = parse_ok("priority=5,tcp,tp_dst=80-81,actions=drop,log # c\r\n"
                   "\t# comment\r\n"
                   "\r\n"
                   "actions=allow   \n"
                   "actions=allow");
    CHECK_INT(insp_policy_n_rules(pol), 3);
    CHECK_STR(insp_policy_rule_name(pol, 1), "t.conf:4");
    CHECK_STR(insp_policy_rule_name(pol, 2), "t.conf:5");
    insp_policy_destroy(pol);
}

static void
test_syntax_errors(void)
{
    check_error("tcp, ap=BitTorrent, actions=drop",
                "p.conf:1:6: unknown field 'ap'");
    check_error("\n\npriority=1, tcp, ap=x, actions=drop",
                "p.conf:3:18: unknown field 'ap'");
    check_error("priority=65536, actions=drop",
                "p.conf:1:10: priority must be a number from 0 to 65535");
    check_error("priority=99999999999999999999999999, actions=drop",
                "p.conf:1:10: priority must be a number from 0 to 65535");
    check_error("priority=-1, actions=drop",
                "p.conf:1:10: priority must be a number from 0 to 65535");
    check_error("priority=1, priority=2, actions=drop",
                "p.conf:1:13: duplicate field 'priority'");
    check_error("in_port=1, port=2, actions=drop",
                "p.conf:1:12: duplicate field 'port' (same as 'in_port')");
    check_error("host=a, sni=b, actions=drop",
                "p.conf:1:9: duplicate field 'sni' (same as 'host')");
    check_error("tcp, tcp, actions=drop",
                "p.conf:1:6: duplicate field 'tcp'");
    check_error("priority=1, tcp",
                "p.conf:1:16: missing 'actions=' (it must be the last "
                "field)");
    check_error("tcp,",
                "p.conf:1:5: missing 'actions='");
    check_error("actions=",
                "p.conf:1:9: missing action");
    check_error("actions=drop,",
                "p.conf:1:14: missing action");
    check_error("actions=drop,,log",
                "p.conf:1:14: empty action");
    check_error("tcp,,actions=drop",
                "p.conf:1:5: empty field");
    check_error(",actions=drop",
                "p.conf:1:1: empty field");
    check_error("=5, actions=drop",
                "p.conf:1:1: missing field name before '='");
    check_error("actions=drop log",
                "p.conf:1:14: expected ',' between actions");
    check_error("actions=drop, tcp",
                "p.conf:1:15: unknown action 'tcp'");
    check_error("actions=drop,allow",
                "p.conf:1:9: 'drop' cannot be combined with allow, mirror, "
                "meter or label");
    check_error("actions=mirror:p1,drop",
                "p.conf:1:9: 'drop' cannot be combined with allow, mirror, "
                "meter or label");
    check_error("actions=drop,drop",
                "p.conf:1:14: duplicate action 'drop'");
    check_error("actions=mirror",
                "p.conf:1:9: 'mirror' needs an argument (mirror:PORT)");
    check_error("actions=mirror:",
                "p.conf:1:9: 'mirror' needs an argument (mirror:PORT)");
    check_error("actions=mirror:abcdefghijklmnop",
                "p.conf:1:16: mirror port name too long (maximum 15 bytes)");
    check_error("actions=meter:0",
                "p.conf:1:15: bad meter rate '0' (expected a number > 0 "
                "with optional unit kbps, mbps or gbps, at most 4294967295 "
                "kbps)");
    check_error("actions=meter:4294967296",
                "p.conf:1:15: bad meter rate '4294967296' (expected a "
                "number > 0 with optional unit kbps, mbps or gbps, at most "
                "4294967295 kbps)");
    check_error("actions=meter:4295gbps",
                "p.conf:1:15: bad meter rate '4295gbps' (expected a number "
                "> 0 with optional unit kbps, mbps or gbps, at most "
                "4294967295 kbps)");
    check_error("actions=meter:10bps",
                "p.conf:1:15: bad meter rate '10bps' (expected a number > 0 "
                "with optional unit kbps, mbps or gbps, at most 4294967295 "
                "kbps)");
    check_error("actions=meter:mbps",
                "p.conf:1:15: bad meter rate 'mbps' (expected a number > 0 "
                "with optional unit kbps, mbps or gbps, at most 4294967295 "
                "kbps)");
    check_error("actions=log:x",
                "p.conf:1:12: 'log' takes no argument");
    check_error("actions=Drop",
                "p.conf:1:9: unknown action 'Drop'");
    check_error("tcp=1, actions=drop",
                "p.conf:1:4: 'tcp' takes no value");
    check_error("priority, actions=drop",
                "p.conf:1:1: 'priority' needs a value (priority=...)");
    check_error("priority =1, actions=drop",
                "p.conf:1:1: 'priority' needs a value (priority=...)");
    check_error("priority=, actions=drop",
                "p.conf:1:10: missing value for 'priority'");
    check_error("tcp, actions = drop",
                "p.conf:1:6: 'actions' needs a value (actions=...)");
    check_error("actions, drop",
                "p.conf:1:1: 'actions' needs a value (actions=...)");
    check_error("app=a=b, actions=drop",
                "p.conf:1:5: bad value 'a=b' for 'app' (missing ',' before "
                "the next field?)");
    check_error("tcp tp_dst=80, actions=drop",
                "p.conf:1:5: expected ',' before 'tp_dst=80'");
    check_error("priority=1 actions=drop",
                "p.conf:1:12: expected ',' before 'actions=drop'");
    check_error("risk=foo, actions=drop",
                "p.conf:1:6: unknown risk 'foo'");
    check_error("risk=no_risk, actions=drop",
                "p.conf:1:6: unknown risk 'no_risk'");
    check_error("tp_dst=80-70, actions=drop",
                "p.conf:1:8: empty port range");
    check_error("tp_dst=65536, actions=drop",
                "p.conf:1:8: 'tp_dst' must be a port from 0 to 65535 or a "
                "range N-M");
    check_error("tp_src=1-, actions=drop",
                "p.conf:1:8: 'tp_src' must be a port from 0 to 65535 or a "
                "range N-M");
    check_error("tp_port=1-2-3, actions=drop",
                "p.conf:1:9: 'tp_port' must be a port from 0 to 65535 or a "
                "range N-M");
    check_error("icmp, tp_dst=1, actions=drop",
                "p.conf:1:14: 'tp_dst' conflicts with 'icmp' (only tcp, "
                "udp and sctp have ports)");
    check_error("tp_dst=1, icmp, actions=drop",
                "p.conf:1:11: 'icmp' conflicts with 'tp_dst' (only tcp, "
                "udp and sctp have ports)");
    check_error("tp_dst=1, nw_proto=1, actions=drop",
                "p.conf:1:20: 'nw_proto' conflicts with 'tp_dst' (only tcp, "
                "udp and sctp have ports)");
    check_error("tcp, udp, actions=drop",
                "p.conf:1:6: 'udp' conflicts with 'tcp'");
    check_error("tcp, nw_proto=17, actions=drop",
                "p.conf:1:15: 'nw_proto' conflicts with 'tcp'");
    check_error("nw_proto=256, actions=drop",
                "p.conf:1:10: nw_proto must be a number from 0 to 255");
    check_error("ipv6, nw_src=10.0.0.1, actions=drop",
                "p.conf:1:14: 'nw_src' conflicts with 'ipv6'");
    check_error("nw_src=10.0.0.1, ipv6_dst=::1, actions=drop",
                "p.conf:1:27: 'ipv6_dst' conflicts with 'nw_src'");
    check_error("tcp6, nw_dst=1.2.3.4, actions=drop",
                "p.conf:1:14: 'nw_dst' conflicts with 'tcp6'");
    check_error("nw_src=10.0.0.256, actions=drop",
                "p.conf:1:8: bad IPv4 address");
    check_error("nw_src=10.0.0, actions=drop",
                "p.conf:1:8: bad IPv4 address");
    check_error("nw_src=2001:db8::1, actions=drop",
                "p.conf:1:8: bad IPv4 address (use ipv6_* for IPv6)");
    check_error("nw_src=10.0.0.0/33, actions=drop",
                "p.conf:1:17: bad IPv4 prefix length or mask");
    check_error("nw_src=10.0.0.0/, actions=drop",
                "p.conf:1:17: bad IPv4 prefix length or mask");
    check_error("nw_dst=1.2.3.4/8/8, actions=drop",
                "p.conf:1:16: bad IPv4 prefix length or mask");
    check_error("ipv6_src=2001:db8::/129, actions=drop",
                "p.conf:1:21: bad IPv6 prefix length (expected 0 to 128)");
    check_error("ipv6_src=2001:db8:::1, actions=drop",
                "p.conf:1:10: bad IPv6 address");
    check_error("ipv6_src=10.0.0.1, actions=drop",
                "p.conf:1:10: bad IPv6 address");
    check_error("dl_src=52:54:00:12:34, actions=drop",
                "p.conf:1:8: bad MAC address (expected xx:xx:xx:xx:xx:xx)");
    check_error("dl_src=52:54:00:12:34:5g, actions=drop",
                "p.conf:1:8: bad MAC address (expected xx:xx:xx:xx:xx:xx)");
    check_error("mac=52-54-00-12-34-56, actions=drop",
                "p.conf:1:5: bad MAC address (expected xx:xx:xx:xx:xx:xx)");
    check_error("dl_dst=52:54:00:12:34:56/ff, actions=drop",
                "p.conf:1:26: bad MAC mask (expected xx:xx:xx:xx:xx:xx)");
    check_error("in_port=4294967296, actions=drop",
                "p.conf:1:9: port number too large (maximum 4294967295)");
    check_error("ja3=abc, actions=drop",
                "p.conf:1:5: ja3 must be 32 hex digits");
    check_error("ja3=0123456789abcdef0123456789abcdeg, actions=drop",
                "p.conf:1:36: ja3 must be 32 hex digits");
    check_error("sni=[abc, actions=drop",
                "p.conf:1:5: unterminated '[' in glob");
    check_error("host=a[!, actions=drop",
                "p.conf:1:7: unterminated '[' in glob");
    check_error("host=x[], actions=drop",
                "p.conf:1:7: unterminated '[' in glob");
    check_error("host=abc\\, actions=drop",
                "p.conf:1:9: glob ends in '\\'");
    check_error("host=[z-a], actions=drop",
                "p.conf:1:6: bad range in glob");
    check_error("Priority=1, actions=drop",
                "p.conf:1:1: unknown field 'Priority'");
    check_error("tcp\x01, actions=drop",
                "p.conf:1:4: invalid character \\x01");
    check_error("app=\x7f, actions=drop",
                "p.conf:1:5: invalid character \\x7f");
    check_error("\xff\xfe, actions=drop",
                "p.conf:1:1: unknown field (not shown: not a policy token)");
    check_error("actions=drop\nactions=drop\nactions=foo # bar",
                "p.conf:3:9: unknown action 'foo'");
    check_error("actions=drop\r\nactions=drop\r\ntcp\r\n",
                "p.conf:3:4: missing 'actions=' (it must be the last "
                "field)");
}

/* Error messages stay bounded and NUL-terminated, whatever the input. */
static void
test_no_file_content_in_errors(void)
{
    /* What a mistaken path would read: nothing of it in the message. */
    check_error("root:x:0:0:root:/root:/bin/bash\n",
                "p.conf:1:1: unknown field (not shown: not a policy token)");
    check_error("root:$y$j9T$secret:19000:0:99999:7:::\n",
                "p.conf:1:1: unknown field (not shown: not a policy token)");
    /* An authorized_keys line: only its key type, no key. */
    check_error("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI+/x root@host\n",
                "p.conf:1:1: unknown field (not shown: not a policy token)");
}

static void
test_error_limits(void)
{
    struct insp_policy *pol = NULL;
    char err[64], *text, *p;
    size_t i;

    /* A line of 65536 bytes is fine; one more byte is too long. */
    text = malloc(200000);
    memset(text, ' ', 65536);
    memcpy(text, "actions=drop", 12);
    text[65536] = '\0';
    pol = parse_ok(text);
    CHECK_INT(insp_policy_n_rules(pol), 1);
    insp_policy_destroy(pol);
    strcpy(text + 65536, "x\nactions=drop");
    check_error(text, "p.conf:1:65537: line too long (maximum 65536 bytes)");
    text[0] = '\n';
    memset(text + 1, '#', 65537);
    text[65538] = '\0';
    check_error(text, "p.conf:2:65537: line too long (maximum 65536 bytes)");

    /* Long values: an error, with the value shortened in the message. */
    memset(text, 'a', 70000);
    memcpy(text, "app=", 4);
    strcpy(text + 1000, ", actions=drop");
    check_error(text, "p.conf:1:5: value too long (maximum 255 bytes)");
    memcpy(text, "risk=", 5);
    check_error(text, "p.conf:1:6: unknown risk '"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaa...'");
    memcpy(text, "xyz\x80" "a", 5);
    check_error(text, "p.conf:1:1: unknown field (not shown: not a policy "
                "token)");

    /* A tiny error buffer is truncated, NULL is fine. */
    CHECK_INT(insp_policy_parse("p.conf", "foo", &pol, err, 8), -EINVAL);
    CHECK_STR(err, "p.conf:");
    CHECK_INT(insp_policy_parse("p.conf", "foo", &pol, NULL, 0), -EINVAL);
    CHECK(pol == NULL);
    CHECK_INT(insp_policy_parse("p.conf", NULL, &pol, err, sizeof err),
              -EINVAL);
    CHECK_INT(insp_policy_parse("p.conf", "", NULL, err, sizeof err),
              -EINVAL);
    CHECK_INT(insp_policy_parse(NULL, "foo", &pol, err, sizeof err),
              -EINVAL);
    CHECK_STR(err, "policy:1:1: unknown field 'foo'");

    /* A long name is shortened, keeping its end. */
    memset(text, 'n', 1000);
    strcpy(text + 1000, ".conf");
    CHECK_INT(insp_policy_parse(text, "\nactions=drop", &pol, err,
                                sizeof err), 0);
    p = (char *) insp_policy_rule_name(pol, 0);
    CHECK_INT(strlen(p), 255 + 2);
    CHECK(!strncmp(p, "...nnn", 6));
    CHECK(!strcmp(p + strlen(p) - 7, ".conf:2"));
    insp_policy_destroy(pol);

    /* 100000 rules are fine, 100001 are not. */
    free(text);
    text = malloc(100001 * 13 + 1);
    for (i = 0, p = text; i < 100001; i++, p += 13) {
        memcpy(p, "actions=drop\n", 13);
    }
    *p = '\0';
    check_error(text, "p.conf:100001:1: too many rules (maximum 100000)");
    p[-13] = '\0';
    pol = parse_ok(text);
    CHECK_INT(insp_policy_n_rules(pol), 100000);
    CHECK_STR(insp_policy_rule_name(pol, 99999), "t.conf:100000");
    insp_policy_destroy(pol);
    free(text);
}

/* Inputs that try to make parsing or judging slow or large. */
static void
test_hostile_inputs(void)
{
    struct insp_policy_decision d;
    struct insp_policy *pol;
    struct test_flow t;
    char *text, *host;
    size_t i;

    /* A glob of many stars against a long host that almost matches: at
     * most strlen(glob) * strlen(host) steps, no recursion. */
    text = malloc(300);
    strcpy(text, "host=");
    for (i = 0; i < 120; i++) {
        strcat(text, "*a");
    }
    strcat(text, "*b, actions=drop");
    pol = parse_ok(text);
    host = malloc(100001);
    memset(host, 'a', 100000);
    host[100000] = '\0';
    tcp_flow(&t);
    t.f.classified = 1;
    t.f.host = host;
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, -1);
    host[99999] = 'b';
    CHECK_INT(insp_policy_judge(pol, &t.f, &d), 0);
    CHECK_INT(d.rule_index, 0);
    insp_policy_destroy(pol);
    free(host);
    free(text);

    /* Millions of blank and comment lines cost nothing per line. */
    text = malloc(4000001);
    for (i = 0; i < 4000000; i++) {
        text[i] = i % 4 == 3 ? '\n' : i % 4 ? ' ' : '#';
    }
    text[4000000] = '\0';
    pol = parse_ok(text);
    CHECK_INT(insp_policy_n_rules(pol), 0);
    insp_policy_destroy(pol);

    /* A line of 60000 commas or equal signs. */
    memset(text, ',', 60000);
    text[60000] = '\0';
    check_error(text, "p.conf:1:1: empty field");
    memset(text, '=', 60000);
    check_error(text, "p.conf:1:1: missing field name before '='");
    memcpy(text, "app", 3);
    check_error(text, "p.conf:1:5: bad value '"
                "========================================================"
                "...' for 'app' (missing ',' before the next field?)");
    free(text);
}

int
main(void)
{
    RUN_TEST(test_empty_policy);
    RUN_TEST(test_profile_and_port);
    RUN_TEST(test_macs);
    RUN_TEST(test_ipv4);
    RUN_TEST(test_ipv6);
    RUN_TEST(test_protocols);
    RUN_TEST(test_ports);
    RUN_TEST(test_no_key);
    RUN_TEST(test_app_category);
    RUN_TEST(test_risks);
    RUN_TEST(test_risk_names);
    RUN_TEST(test_globs);
    RUN_TEST(test_ja3);
    RUN_TEST(test_dpi_needed);
    RUN_TEST(test_detected);
    RUN_TEST(test_priorities);
    RUN_TEST(test_design_example);
    RUN_TEST(test_actions);
    RUN_TEST(test_direction);
    RUN_TEST(test_verdict_format);
    RUN_TEST(test_syntax);
    RUN_TEST(test_syntax_errors);
    RUN_TEST(test_error_limits);
    RUN_TEST(test_no_file_content_in_errors);
    RUN_TEST(test_hostile_inputs);
    return test_exit_status();
}
