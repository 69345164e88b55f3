/*
 * Policy: parse the flow-like policy text and judge flows against it.
 *
 * Syntax (one rule per line; '#' starts a comment; blank lines ignored):
 *
 *   priority=300, profile=web, app=BitTorrent, actions=drop
 *   priority=200, profile=web, tcp, tp_dst=443, sni=*.example.com,
 *       actions=allow
 *
 * A rule is a comma-separated list of FIELD=VALUE matches, bare protocol
 * keywords, and exactly one 'actions=' list, which must come last.  A line
 * "exception=CLASS, actions=drop|alert|allow" is not a rule: it sets what
 * happens to packets of an exception class (inspector.h).  See
 * inspector/flowsteer-inspect.1 (POLICY) for every field.
 *
 * Errors are 0 or negative errno, as in the public API.
 */
#ifndef INSP_POLICY_H
#define INSP_POLICY_H 1

#include <stddef.h>
#include <stdint.h>
#include "flowsteer/inspector.h"

struct insp_policy;

/* How much of a flow's DPI fields is known. */
enum {
    INSP_CLASSIFIED_NONE,       /* Only L2-L4 fields are known yet. */
    INSP_CLASSIFIED_FINAL,      /* Classification is over. */
    INSP_CLASSIFIED_DETECTED,   /* nDPI detected the application (with its
                                 * host name and JA3), but more packets may
                                 * still add risks. */
};

/* The side of a flow that a judgement takes: the judged VM's. */
enum {
    INSP_DIR_OUT = 1,           /* The judged VM opened the flow. */
    INSP_DIR_IN = 2,            /* The other end opened it, toward the
                                 * judged VM. */
};

/* What a rule can match on for one flow, judged for one of its VMs.
 * Pointers may be NULL when unknown ('profile', 'port_name', MACs), and
 * strings "" when empty.  The DPI fields are meaningful only when
 * 'classified' is nonzero. */
struct insp_policy_flow {
    const struct fs_flow_key *key;
    int direction;              /* INSP_DIR_*. */
    uint32_t port;              /* The judged VM's port: the ingress port of
                                 * the flow's first packet (out), or the
                                 * port it goes to (in). */
    const char *port_name;      /* Its name, or NULL. */
    const char *profile;        /* Its profile, or NULL. */
    const uint8_t *src_mac;     /* 6 bytes, or NULL. */
    const uint8_t *dst_mac;     /* 6 bytes, or NULL. */

    int classified;             /* INSP_CLASSIFIED_*. */
    const char *app;            /* "TLS.YouTube", "TLS", "Unknown". */
    const char *master_name;    /* "TLS" for "TLS.YouTube", else "". */
    const char *app_name;       /* "YouTube" for "TLS.YouTube", "TLS"
                                 * for "TLS". */
    const char *category;       /* "Web". */
    uint64_t risks;             /* Bit N: nDPI risk N. */
    const char *host;           /* Host / SNI, "" if none. */
    const char *ja3;            /* 32 lowercase hex digits, "" if none. */
};

/* A rule index for a verdict kept from a previous policy: the new one
 * needs DPI to judge a flow that was decided without it. */
#define INSP_RULE_KEPT (-2)

/* A rule index for a verdict that came in a flow record. */
#define INSP_RULE_IMPORTED (-3)

/* The outcome of judging a flow. */
struct insp_policy_decision {
    struct fs_verdict verdict;
    int rule_index;             /* Index of the rule in the policy, or -1
                                 * when no rule matched (the default), or
                                 * INSP_RULE_KEPT. */
    int priority;               /* The rule's priority, or -1. */
    int needs_dpi;              /* The chosen rule matches on DPI fields. */
};

/* Parses 'text' (NUL-terminated).  'name' (e.g. the file name) is used in
 * messages and rule names.  On success stores a new policy in '*out' (the
 * caller owns it: insp_policy_destroy()) and returns 0.  On error returns
 * -EINVAL and writes "NAME:LINE:COLUMN: message" to 'err' (if 'err' is
 * nonnull, truncated to 'err_size').  -ENOMEM if out of memory. */
int insp_policy_parse(const char *name, const char *text,
                      struct insp_policy **out, char *err, size_t err_size);

/* Frees 'policy'.  Accepts NULL. */
void insp_policy_destroy(struct insp_policy *policy);

/* Returns the number of rules in 'policy' (0 for NULL). */
size_t insp_policy_n_rules(const struct insp_policy *policy);

/* Returns the name of rule 'index' ("NAME:LINE"), or "default" for -1.  The
 * string is valid as long as 'policy' is. */
const char *insp_policy_rule_name(const struct insp_policy *policy,
                                  int index);

/* Judges 'flow' against 'policy' (which may be NULL: no rules).  Rules are
 * tried from the highest priority down, equal priorities in file order;
 * the first rule that matches wins.  When nothing matches, the verdict is
 * FS_ACT_ALLOW with rule_index -1.
 *
 * While 'flow->classified' is INSP_CLASSIFIED_NONE, a rule that matches on
 * DPI fields cannot be evaluated: if such a rule would be tried before any
 * rule that matches, returns -EAGAIN (classify first, then judge again).
 * With INSP_CLASSIFIED_DETECTED, the same holds for a rule that does not
 * match yet but could once classification is over: one on risks (they
 * only grow), or on a host name or JA3 the flow does not have yet.
 * Otherwise returns 0 with '*decision' filled: the verdict cannot change
 * with more packets. */
int insp_policy_judge(const struct insp_policy *policy,
                      const struct insp_policy_flow *flow,
                      struct insp_policy_decision *decision);

/* Returns the action (enum fs_exception_action) that 'policy''s exception
 * lines give class 'exception', or -1 if they do not name it ('policy'
 * may be NULL). */
int insp_policy_exception(const struct insp_policy *policy,
                          enum fs_exception exception);

/* Returns nonzero if some rule of 'policy' matches on MAC addresses (so the
 * caller knows whether to keep them per flow). */
int insp_policy_uses_macs(const struct insp_policy *policy);

/* Returns the nDPI risk bit for policy risk name 'name'
 * ("clear_text_credentials"), or -1 if unknown. */
int insp_risk_from_name(const char *name);

/* Formats 'verdict' as the policy 'actions=' list would write it
 * ("allow", "drop,log", "mirror:p1", "meter:1000,log") into 'buf'.  Returns
 * 'buf'. */
char *insp_verdict_format(const struct fs_verdict *verdict, char *buf,
                          size_t size);

#endif /* INSP_POLICY_H */
