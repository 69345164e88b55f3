/*
 * flowrules: per-flow verdicts as OpenFlow rules in a real Open vSwitch.
 *
 * The caller says what each flow's rules should be (flowrules_set(),
 * flowrules_remove()); flowrules keeps that desired table, sends the
 * difference to the switch in ordered, atomic bundles batched by size and
 * time, tracks what the switch confirmed, and after a lost connection or a
 * restart dumps the rules under its cookie namespace and sends only what
 * differs.  Rules with other cookies are never modified or deleted.
 *
 * Each flow gets two rules, one per direction: an exact match on the
 * 5-tuple (plus VLAN and in_port when known, and, for an allowed TCP
 * flow with opts.exclude_syn, no SYN flag) in one table and priority, with
 * cookie = (namespace << 48) | flow id.  Actions by verdict:
 *
 *   allow   resubmit(,NEXT) or NORMAL
 *   drop    no actions
 *   mirror  output:PORT, then as allow
 *   meter   meter:ID (one meter per rate, shared), then as allow
 *   label   load app, category and risks into registers, then
 *           resubmit(,LABEL_TABLE) where the controller's policy is
 *   log     controller(reason=action) through OVS's controller meter,
 *           then as the rest of the verdict
 *
 * With opts.adopt, rules found under the namespace on the first connection
 * that nobody set are kept, and decoded back into the rule that made them
 * (see flowrules_adopted_cb); they then expire and are reported like the
 * caller's own.
 *
 * Errors: 0 or a positive errno value (OVS convention).  The module is a
 * run/wait module: call flowrules_run() and flowrules_wait() from the main
 * loop.  Not thread safe.
 */
#ifndef FLOWRULES_H
#define FLOWRULES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowsteer/inspector.h"

struct flowrules;

/* What to do when the switch says its flow table is full. */
enum flowrules_full_policy {
    FLOWRULES_FULL_INSPECT,     /* Keep the flow in the inspector. */
    FLOWRULES_FULL_DROP_NEW,    /* Drop new flows in the inspector. */
};

/* The desired state of one flow's rules. */
struct flowrules_rule {
    struct fs_flow_key key;     /* src: the flow's initiator. */
    uint32_t in_port;           /* OpenFlow port of the initiator; 0: any.
                                 * The reverse rule then matches no port. */
    struct fs_verdict verdict;  /* meter_kbps 0: the rate of an adopted
                                 * rule's meter is unknown. */
    uint16_t master_id, app_id; /* For 'label'. */
    uint16_t category;
    uint64_t risks;             /* Only the low 32 bits go in the rule. */
};

/* A flow's rules could not be installed: 'error' is an OpenFlow error
 * (enum ofperr) or a positive errno.  'table_full' says it was a full
 * table, in which case 'policy' says what the caller should do. */
typedef void flowrules_error_cb(void *aux, uint64_t flow_id, int error,
                                bool table_full,
                                enum flowrules_full_policy policy);

/* Both of a flow's rules are gone from the switch (idle or hard timeout,
 * expired by polling, or, for an adopted flow whose rules were not decoded,
 * gone across a reconnection: reason OFPRR_DELETE), and flowrules no longer
 * holds the flow.  'rule' is the flow's rule (for an adopted flow, as
 * decoded: see flowrules_adopted_cb), valid only during the call.
 * Counters are the sums over both directions; 'reason' is an OFPRR_*
 * value (OFPRR_IDLE_TIMEOUT for a flow expired by polling).  The callback
 * may call flowrules_set() and flowrules_remove(), not
 * flowrules_destroy(). */
typedef void flowrules_removed_cb(void *aux, uint64_t flow_id,
                                  const struct flowrules_rule *rule,
                                  uint64_t packets, uint64_t bytes,
                                  int reason);

/* Both of a flow's rules, added or changed by flowrules_set(), were
 * confirmed by the switch: the bundle that carried them was committed.
 * Not called for rules that a reconciliation after a (re)connection finds
 * already installed.  The callback may call flowrules_set() and
 * flowrules_remove(), not flowrules_destroy(). */
typedef void flowrules_installed_cb(void *aux, uint64_t flow_id);

/* Flow 'flow_id' was adopted (opts.adopt): its rules were found under the
 * namespace on the first connection and nobody had set it.  Called once
 * per adopted flow when that reconciliation finishes.  'rule' is the rule
 * decoded from the switch's two rules: the one with an in_port is the
 * initiator's (direction 0); with no in_port on either, the first one
 * dumped is.  If they do not decode (one rule alone, rules that
 * flowrules with these options does not make), rule->key.ip_version is 0
 * and only rule->key.l4_proto (0 if unknown) and the verdict, drop for
 * rules with no actions and allow otherwise, are known; flowrules_set()
 * then replaces both rules.  'rule' is valid only during the call.  The
 * callback may call flowrules_set() and flowrules_remove(), not
 * flowrules_destroy(). */
typedef void flowrules_adopted_cb(void *aux, uint64_t flow_id,
                                  const struct flowrules_rule *rule);

struct flowrules_options {
    const char *target;         /* "unix:DIR/BRIDGE.mgmt", "tcp:IP:PORT",
                                 * "ssl:IP:PORT".  Required. */
    uint8_t table;              /* Table of the per-flow rules (0). */
    uint16_t priority;          /* Their priority (40000). */
    uint16_t cookie_ns;         /* Cookie namespace: the top 16 bits
                                 * (0xf5e1).  Must not be 0. */
    int next_table;             /* allow: resubmit(,N); -1: NORMAL (-1). */
    uint8_t label_table;        /* label: the controller's table (50). */
    uint8_t label_reg;          /* First of three registers for labels:
                                 * regN = master << 16 | app, regN+1 =
                                 * category, regN+2 = risks (low 32 bits)
                                 * (5, so reg5-reg7). */
    uint16_t idle_timeout[3];   /* Seconds for TCP, UDP, other; 0: none
                                 * (300, 60, 30). */
    uint16_t hard_timeout;      /* Seconds, 0: none (0). */
    bool poll_idle;             /* Expire idle flows by polling the rules'
                                 * counters (every idle timeout / 4, at
                                 * least 1 s) and deleting them, instead of
                                 * OpenFlow idle timeouts: in OVS 3.1 every
                                 * bundle commit walks all rules that have
                                 * a timeout, so with many rules OpenFlow
                                 * timeouts slow every install.  Final
                                 * counters still come back through
                                 * send_flow_rem.  (true) */
    uint32_t log_pps;           /* Rate of 'log' packets to the daemon, in
                                 * packets/s, through the controller meter
                                 * (100). */
    uint32_t bundle_max;        /* Flow mods per bundle (2000). */
    uint32_t batch_ms;          /* Longest wait to fill a bundle (1). */
    uint32_t max_inflight;      /* Bundles awaiting commit replies (4). */
    enum flowrules_full_policy full_policy;
    bool adopt;                 /* On the first connection, keep rules
                                 * found under the namespace that are not
                                 * desired (a restart), instead of deleting
                                 * them, and decode them (adopted_cb).
                                 * (false) */
    bool exclude_syn;           /* Both rules of an allowed TCP flow also
                                 * match tcp_flags=-syn: packets with SYN
                                 * set (SYN, SYN-ACK) go on to the rules
                                 * below, so a new connection on the
                                 * 5-tuple of an allowed flow is not held
                                 * to its verdict.  A drop's rules match
                                 * every packet: they hold even while
                                 * nothing below judges SYNs.  Adopted
                                 * rules decode only if they agree.
                                 * (false) */

    flowrules_error_cb *error_cb;           /* May be NULL. */
    flowrules_removed_cb *removed_cb;       /* May be NULL. */
    flowrules_installed_cb *installed_cb;   /* May be NULL. */
    flowrules_adopted_cb *adopted_cb;       /* May be NULL. */
    void *aux;
};

/* Initializes 'opts' with the defaults above (target NULL). */
void flowrules_options_init(struct flowrules_options *opts);

/* Creates a flowrules instance that connects to opts->target.  Returns 0
 * and stores it in '*out', or a positive errno (EINVAL for bad options).
 * The caller retains ownership of 'opts'. */
int flowrules_create(const struct flowrules_options *opts,
                     struct flowrules **out);

/* Destroys 'fr' without touching the switch's rules.  Accepts NULL. */
void flowrules_destroy(struct flowrules *fr);

/* Sets the desired rules of flow 'flow_id' (< 2**48) to 'rule': installs
 * them, or replaces their actions in place (counters kept) if the verdict
 * changed; for an adopted flow, replaces its rules (in place if they were
 * decoded and the match is the same).  Returns 0, or EINVAL (bad id or
 * verdict), ENOENT (mirror port unknown to the switch), ENOMEM.  The
 * caller retains ownership of 'rule'. */
int flowrules_set(struct flowrules *fr, uint64_t flow_id,
                  const struct flowrules_rule *rule);

/* Removes flow 'flow_id''s rules.  Returns 0 or ENOENT.  The rules are gone
 * from the switch once flowrules_has_flow() returns false. */
int flowrules_remove(struct flowrules *fr, uint64_t flow_id);

/* Sends flow 'flow_id''s rules again, replacing whatever the switch has
 * under its cookie (a delete by cookie, then the adds, in order, after
 * every change made before): for a caller that knows the switch may not
 * have what flowrules believes it has.  Returns 0, or ENOENT if the flow
 * has no rules (or only undecoded adopted ones). */
int flowrules_resend(struct flowrules *fr, uint64_t flow_id);

/* Returns the desired rule of flow 'flow_id', valid until the next call
 * that changes it, or NULL if it has none (never set, or removed). */
const struct flowrules_rule *flowrules_get_rule(const struct flowrules *fr,
                                                uint64_t flow_id);

/* Returns true once the first reconciliation with the switch is over (and
 * opts.adopted_cb has been called for every adopted flow). */
bool flowrules_reconciled(const struct flowrules *fr);

/* Returns true while flowrules holds anything for flow 'flow_id': desired
 * rules (set, adopted, or refused by the switch), or a removal that the
 * switch has not confirmed yet (flowrules_remove(), idle expiry). */
bool flowrules_has_flow(const struct flowrules *fr, uint64_t flow_id);

/* Every change made so far goes out in one ordered, atomic bundle, ignoring
 * opts.bundle_max (up to 2**20 flow mods; more take as few bundles as that
 * allows) and opts.batch_ms, as soon as the connection is reconciled and a
 * bundle slot is free (opts.max_inflight).  Changes made after the call
 * wait for the next bundle as usual, except that a flow changed again
 * before its committed change is sent goes in with its latest rule.  If the
 * connection is lost before the switch confirms the bundle, the switch
 * discards it whole, and what the reconciliation then sends goes in the
 * usual bundles.  Counted in stats.commits. */
void flowrules_commit(struct flowrules *fr);

/* Sets the idle timeouts, in seconds, of TCP, UDP and other flows
 * ('timeouts', as opts.idle_timeout; 0: none).  With opts.poll_idle they
 * apply at once to every flow, and the next poll comes within the new
 * interval; without it, they go into the rules sent from now on (rules
 * already installed keep theirs). */
void flowrules_set_idle_timeouts(struct flowrules *fr,
                                 const uint16_t timeouts[3]);

/* Runs the connection and sends pending changes.  Never blocks. */
void flowrules_run(struct flowrules *fr);

/* Registers the wake-ups flowrules_run() needs. */
void flowrules_wait(struct flowrules *fr);

/* Returns true if the connection is up, reconciled, and every desired
 * change has been confirmed by the switch (or failed). */
bool flowrules_synced(const struct flowrules *fr);

/* Returns true if connected to the switch. */
bool flowrules_connected(const struct flowrules *fr);

/* Asks the switch for the counters of every rule now.  Returns the value
 * flowrules_poll_seqno() reaches once they are in, or 0 if not connected
 * (a lost connection loses the poll: callers should not wait forever). */
uint64_t flowrules_poll(struct flowrules *fr);

/* Returns the number of counter polls completed, by flowrules_poll() or
 * for idle expiry (opts.poll_idle). */
uint64_t flowrules_poll_seqno(const struct flowrules *fr);

/* Stores in '*packets' the packets that flow 'flow_id''s rules (both
 * directions) matched in the switch as of the last completed poll.
 * Returns false if 'flow_id' has no rules. */
bool flowrules_get_packets(const struct flowrules *fr, uint64_t flow_id,
                           uint64_t *packets);

struct flowrules_stats {
    uint64_t flows;             /* Desired flows. */
    uint64_t rules_installed;   /* Rules the switch confirmed. */
    uint64_t flow_mods_sent;
    uint64_t bundles_sent;
    uint64_t bundles_committed;
    uint64_t bundles_failed;
    uint64_t commits;           /* Bundles sent for flowrules_commit(). */
    uint64_t errors;            /* OpenFlow errors received. */
    uint64_t rules_failed;      /* Rules given up on (not retried). */
    uint64_t table_full;
    uint64_t connects;
    uint64_t reconcile_kept;    /* Rules found identical on reconnect. */
    uint64_t reconcile_sent;    /* Rules (re)sent after a reconnect. */
    uint64_t reconcile_deleted; /* Stray rules deleted after a reconnect. */
    uint64_t reconcile_adopted; /* Flows adopted (opts.adopt). */
    uint64_t flows_removed;     /* By the switch (timeouts). */
    uint64_t meters;            /* Meters in use. */
    uint64_t queue_waits;       /* Bundles held back: the connection's
                                 * queue was at its limit (fr-conn.h). */
    size_t memory;              /* Bytes held for the desired table. */
};

void flowrules_get_stats(const struct flowrules *fr,
                         struct flowrules_stats *stats);

/* Appends a line on flowrules' end of its OpenFlow connection (which it
 * shares with the switch's other users: fr-conn.h) to 'ds'. */
struct ds;
void flowrules_format_connection(const struct flowrules *fr, struct ds *ds);

#endif /* FLOWRULES_H */
