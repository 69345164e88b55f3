/* flowrules: cookies, matches and actions of verdict rules, and their
 * meters.  See flowrules.c. */
#include <config.h>
#include "fr-private.h"
#include "fr-conn.h"
#include "fs-openflow.h"

#include <errno.h>
#include <string.h>

#include "byte-order.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "timeval.h"

VLOG_DEFINE_THIS_MODULE(fr_encode);

/* ---------------------------------------------------------------------- */
/* Cookies, matches and actions. */

ovs_be64
fr_cookie(const struct flowrules *fr, uint64_t flow_id)
{
    return htonll((uint64_t) fr->opts.cookie_ns << 48 | flow_id);
}

ovs_be64
fr_ns_mask(void)
{
    return htonll(~FLOW_ID_MASK);
}

bool
fr_proto_has_ports(uint8_t proto)
{
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP
           || proto == IPPROTO_SCTP;
}

int
fr_lru(uint8_t proto)
{
    return proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : 2;
}

/* Says whether the rules of 'r' leave packets with SYN set to the rules
 * below (opts.exclude_syn): those of an allowed TCP flow do; a drop's
 * match every packet, so that they hold while nobody below is there to
 * judge a SYN (the inspector down, fail=open). */
bool
fr_excludes_syn(const struct flowrules *fr, const struct flowrules_rule *r)
{
    return (fr->opts.exclude_syn && r->key.l4_proto == IPPROTO_TCP
            && !(r->verdict.actions & FS_ACT_DROP));
}

/* Builds the match of direction 'dir' (0: as keyed, 1: reverse) of 'r'. */
void
fr_build_match(const struct flowrules *fr, const struct flowrules_rule *r,
               int dir, struct match *m)
{
    const struct fs_flow_key *k = &r->key;
    const uint8_t *src = dir ? k->dst_ip : k->src_ip;
    const uint8_t *dst = dir ? k->src_ip : k->dst_ip;
    uint16_t sport = dir ? k->dst_port : k->src_port;
    uint16_t dport = dir ? k->src_port : k->dst_port;

    match_init_catchall(m);
    match_set_packet_type(m, htonl(PT_ETH));  /* As the switch reports it. */
    if (r->in_port && !dir) {
        match_set_in_port(m, u16_to_ofp(r->in_port));
    }
    if (k->vlan) {
        match_set_dl_vlan(m, htons(k->vlan), 0);
    } else {
        /* Untagged only; OpenFlow 1.3 can match VID and CFI, no more. */
        match_set_dl_tci_masked(m, htons(0), htons(VLAN_CFI | VLAN_VID_MASK));
    }
    if (k->ip_version == 4) {
        ovs_be32 a, b;

        memcpy(&a, src + 12, 4);
        memcpy(&b, dst + 12, 4);
        match_set_dl_type(m, htons(ETH_TYPE_IP));
        match_set_nw_src(m, a);
        match_set_nw_dst(m, b);
    } else {
        struct in6_addr a, b;

        memcpy(&a, src, 16);
        memcpy(&b, dst, 16);
        match_set_dl_type(m, htons(ETH_TYPE_IPV6));
        match_set_ipv6_src(m, &a);
        match_set_ipv6_dst(m, &b);
    }
    match_set_nw_proto(m, k->l4_proto);
    if (fr_proto_has_ports(k->l4_proto)) {
        match_set_tp_src(m, htons(sport));
        match_set_tp_dst(m, htons(dport));
    }
    if (fr_excludes_syn(fr, r)) {
        /* SYN and SYN-ACK go on to the rules below. */
        match_set_tcp_flags_masked(m, htons(0), htons(TCP_SYN));
    }
}

/* Returns true if 'a' and 'b' match the same packets.  (match_equal()
 * also compares bits outside the masks, which differ after decoding.) */
bool
fr_match_equal(const struct match *a_, const struct match *b_)
{
    struct match a = *a_, b = *b_;
    struct minimatch ma, mb;
    bool equal;

    /* Flow stats carry the packet type; flow-removed messages may not. */
    a.flow.packet_type = b.flow.packet_type = 0;
    a.wc.masks.packet_type = b.wc.masks.packet_type = 0;
    minimatch_init(&ma, &a);
    minimatch_init(&mb, &b);
    equal = minimatch_equal(&ma, &mb);
    minimatch_destroy(&ma);
    minimatch_destroy(&mb);
    return equal;
}

static void
fr_put_continue(const struct flowrules *fr, struct ofpbuf *ofpacts)
{
    if (fr->opts.next_table >= 0) {
        struct ofpact_resubmit *rs = ofpact_put_RESUBMIT(ofpacts);

        rs->in_port = OFPP_IN_PORT;
        rs->table_id = fr->opts.next_table;
    } else {
        ofpact_put_OUTPUT(ofpacts)->port = OFPP_NORMAL;
    }
}

static void
fr_put_reg(struct ofpbuf *ofpacts, int reg, uint32_t value)
{
    const struct mf_field *field = mf_from_id(MFF_REG0 + reg);
    union mf_value v, mask;

    memset(&v, 0, sizeof v);
    memset(&mask, 0xff, sizeof mask);
    v.be32 = htonl(value);
    ofpact_put_set_field(ofpacts, field, &v, &mask);
}

/* Builds the actions of 'f'.  Returns 0 or an errno (ENOENT: the mirror
 * port is unknown). */
int
fr_build_actions(const struct flowrules *fr, const struct fr_flow *f,
                 struct ofpbuf *ofpacts)
{
    const struct flowrules_rule *r = &f->rule;
    uint32_t a = r->verdict.actions;

    if (a & FS_ACT_LOG && fr->log_meter_id) {
        struct ofpact_controller *c = ofpact_put_CONTROLLER(ofpacts);

        c->max_len = 256;
        c->reason = OFPR_ACTION;
        c->meter_id = fr->log_meter_id;
        c->provider_meter_id = UINT32_MAX;
        ofpact_finish_CONTROLLER(ofpacts, &c);
    }
    if (a & FS_ACT_DROP) {
        return 0;
    }
    if (a & FS_ACT_METER && f->meter_id) {
        struct ofpact_meter *m = ofpact_put_METER(ofpacts);

        m->meter_id = f->meter_id;
        m->provider_meter_id = UINT32_MAX;
    }
    if (a & FS_ACT_MIRROR) {
        struct shash_node *node = shash_find(&fr->ports,
                                             r->verdict.mirror_port);

        if (!node) {
            return ENOENT;
        }
        ofpact_put_OUTPUT(ofpacts)->port =
            u16_to_ofp((uintptr_t) node->data);
    }
    if (a & FS_ACT_LABEL) {
        struct ofpact_resubmit *rs;

        fr_put_reg(ofpacts, fr->opts.label_reg,
                   (uint32_t) r->master_id << 16 | r->app_id);
        fr_put_reg(ofpacts, fr->opts.label_reg + 1, r->category);
        fr_put_reg(ofpacts, fr->opts.label_reg + 2, (uint32_t) r->risks);
        rs = ofpact_put_RESUBMIT(ofpacts);
        rs->in_port = OFPP_IN_PORT;
        rs->table_id = fr->opts.label_table;
        return 0;
    }
    fr_put_continue(fr, ofpacts);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Meters. */

static struct fr_meter *
fr_meter_find(struct flowrules *fr, uint32_t kbps)
{
    size_t i;

    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].refs && fr->meters[i].kbps == kbps && kbps) {
            return &fr->meters[i];
        }
    }
    return NULL;
}

void
fr_send(struct flowrules *fr, struct ofpbuf *msg)
{
    fr_conn_send(fr->conn, msg, 0);
}

/* Sends a meter_mod creating meter 'id' with one drop band at 'rate'
 * ('pktps': packets/s, else kbps). */
void
fr_send_meter(struct flowrules *fr, uint32_t id, uint32_t rate, bool pktps)
{
    /* A burst of a tenth of a second: OVS's default is a whole second,
     * which lets a short flow through at twice the rate. */
    struct ofputil_meter_band band = {
        .type = OFPMBT13_DROP, .rate = rate,
        .burst_size = rate / 10 > 1 ? rate / 10 : 1,
    };
    struct ofputil_meter_mod mm = {
        .command = OFPMC13_ADD,
        .meter = {
            .meter_id = id,
            .flags = (pktps ? OFPMF13_PKTPS : OFPMF13_KBPS) | OFPMF13_BURST,
            .n_bands = 1,
            .bands = &band,
        },
    };

    if (!fr_conn_is_connected(fr->conn)) {
        return;
    }
    /* Add, then modify: the meter may exist from before a reconnect or a
     * restart, maybe with another rate. */
    fr_send(fr, ofputil_encode_meter_mod(fr->version, &mm));
    mm.command = OFPMC13_MODIFY;
    fr_send(fr, ofputil_encode_meter_mod(fr->version, &mm));
}

/* Returns the id of a meter at 'kbps', creating it if needed. */
uint32_t
fr_meter_ref(struct flowrules *fr, uint32_t kbps)
{
    struct fr_meter *m = fr_meter_find(fr, kbps);

    if (!m) {
        size_t i;

        for (i = 0; i < fr->n_meters && fr->meters[i].refs; i++) {
            continue;
        }
        if (i == fr->n_meters) {
            fr->meters = xrealloc(fr->meters,
                                  ++fr->n_meters * sizeof *fr->meters);
            fr->meters[i].id = fr->next_meter_id++;
        }
        m = &fr->meters[i];
        m->kbps = kbps;
        m->refs = 0;
        fr->stats.meters++;
        fr_send_meter(fr, m->id, kbps, false);
    }
    m->refs++;
    return m->id;
}

/* Returns the rate that this instance gave meter 'id', or 0 if none. */
uint32_t
fr_meter_rate(const struct flowrules *fr, uint32_t id)
{
    size_t i;

    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].id == id) {
            return fr->meters[i].kbps;
        }
    }
    return 0;
}

/* Takes a reference to meter 'id', which an adopted rule uses: one of this
 * instance's, or else one of unknown rate (kbps 0), which is neither
 * shared with new flows nor sent again, and whose id is not given out. */
void
fr_meter_adopt(struct flowrules *fr, uint32_t id)
{
    struct fr_meter *m = NULL;
    size_t i;

    for (i = 0; i < fr->n_meters && !m; i++) {
        if (fr->meters[i].id == id) {
            m = &fr->meters[i];
        }
    }
    if (!m) {
        fr->meters = xrealloc(fr->meters,
                              ++fr->n_meters * sizeof *fr->meters);
        m = &fr->meters[fr->n_meters - 1];
        m->id = id;
        m->kbps = 0;
        m->refs = 0;
        fr->next_meter_id = MAX(fr->next_meter_id, id + 1);
    }
    if (!m->refs++) {
        fr->stats.meters++;
    }
}

void
fr_meter_unref(struct flowrules *fr, uint32_t id)
{
    size_t i;

    for (i = 0; i < fr->n_meters; i++) {
        if (fr->meters[i].id == id && fr->meters[i].refs) {
            if (!--fr->meters[i].refs) {
                fr->stats.meters--;     /* Kept on the switch for reuse. */
            }
            return;
        }
    }
}

