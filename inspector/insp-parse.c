/*
 * Packet parsing: link layer to L4.  See insp-parse.h.
 *
 * Every read is checked against the bytes captured.  Lengths that headers
 * claim are checked against the bytes on the wire, so a frame cut short by
 * the capture's snaplen still parses as far as it goes.
 */
#include <config.h>
#include "insp-parse.h"

#include <string.h>

#define ETH_HDR_LEN 14
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_QINQ 0x88a8
#define ETH_TYPE_QINQ_OLD 0x9100
#define ETH_TYPE_MPLS 0x8847
#define ETH_TYPE_MPLS_MC 0x8848
#define ETH_TYPE_PPPOE 0x8864

#define PPP_PROTO_IPV4 0x0021
#define PPP_PROTO_IPV6 0x0057
#define PPP_PROTO_MPLS 0x0281

#define GTP_U_PORT 2152
#define TZSP_PORT 37008
#define CAPWAP_DATA_PORT 5247

/* Pseudo ethertype: "look at the IP version nibble". */
#define TYPE_IP_ANY 0xffff

/* One layer of parsing: what is left of the frame. */
struct span {
    const uint8_t *p;           /* Start of this layer. */
    uint32_t cap;               /* Bytes captured from 'p'. */
    uint32_t wire;              /* Bytes on the wire from 'p' (>= cap). */
};

static int parse_ethernet(struct span, int depth, int tunnels,
                          struct insp_parsed *);
static int parse_ip(struct span, uint16_t type, int depth, int tunnels,
                    struct insp_parsed *);
static int parse_ethertype(struct span, uint16_t type, int depth,
                           int tunnels, struct insp_parsed *);

static inline uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

/* Returns 's' advanced by 'n' bytes; the caller checked n <= s.cap. */
static inline struct span
span_skip(struct span s, uint32_t n)
{
    struct span r = { s.p + n, s.cap - n, s.wire - n };
    return r;
}

/* Clears 'key' for a new (possibly inner) IP header, keeping the VLAN. */
static void
reset_key(struct fs_flow_key *key)
{
    uint16_t vlan = key->vlan;

    memset(key, 0, sizeof *key);
    key->vlan = vlan;
}

static void
set_ipv4_addrs(struct fs_flow_key *key, const uint8_t *ip)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0xff, 0xff};

    memcpy(key->src_ip, mapped, 12);
    memcpy(key->src_ip + 12, ip + 12, 4);
    memcpy(key->dst_ip, mapped, 12);
    memcpy(key->dst_ip + 12, ip + 16, 4);
    key->ip_version = 4;
}

/* Decapsulates GTP-U, TZSP or CAPWAP data in UDP payload 's' if it is one.
 * Returns 0 with the inner packet parsed, -1 if 's' is not a tunnel (the
 * caller keeps the outer flow), or a counter for a bad inner packet. */
static int
parse_udp_tunnel(struct span s, uint16_t sport, uint16_t dport, int depth,
                 struct insp_parsed *out)
{
    if (sport == GTP_U_PORT || dport == GTP_U_PORT) {
        uint8_t flags;
        uint32_t off = 8;

        if (s.cap < 9) {
            return -1;
        }
        flags = s.p[0];
        if (flags >> 5 != 1 || s.p[1] != 0xff) {
            return -1;          /* Not a GTPv1 T-PDU. */
        }
        if (flags & 0x07) {
            off += 4;
        }
        if (flags & 0x04) {
            /* Extension headers: length in 4-byte units, then the next
             * extension type in the last byte. */
            for (;;) {
                uint32_t ext;

                if (off >= s.cap) {
                    return -1;
                }
                ext = (uint32_t) s.p[off] * 4;
                if (!ext || off + ext > s.cap) {
                    return -1;
                }
                off += ext;
                if (s.p[off - 1] == 0) {
                    break;
                }
            }
        }
        if (off >= s.cap) {
            return -1;
        }
        out->tunnel = 1;
        return parse_ip(span_skip(s, off), TYPE_IP_ANY, depth + 1, 1, out);
    } else if (sport == TZSP_PORT || dport == TZSP_PORT) {
        uint32_t off = 4;

        /* Version 1, type "received", encapsulating Ethernet. */
        if (s.cap < 4 || s.p[0] != 1 || s.p[1] != 0
            || get_be16(s.p + 2) != 1) {
            return -1;
        }
        for (;;) {
            uint8_t tag;

            if (off >= s.cap) {
                return -1;
            }
            tag = s.p[off];
            if (tag == 1) {         /* End. */
                off++;
                break;
            } else if (tag == 0) {  /* Padding. */
                off++;
            } else {
                if (off + 2 > s.cap) {
                    return -1;
                }
                off += 2 + s.p[off + 1];
            }
        }
        if (off >= s.cap) {
            return -1;
        }
        out->tunnel = 1;
        return parse_ethernet(span_skip(s, off), depth + 1, 1, out);
    } else if (sport == CAPWAP_DATA_PORT || dport == CAPWAP_DATA_PORT) {
        uint32_t off;

        if (s.cap < 2 || (s.p[0] & 0x0f) != 0) {
            return -1;
        }
        /* CAPWAP header, then an 802.11 data header and LLC/SNAP. */
        off = (uint32_t) (s.p[1] & 0xf8) >> 1;
        off += 24;
        if (off + 8 + 20 > s.cap) {
            return -1;
        }
        out->tunnel = 1;
        return parse_ip(span_skip(s, off + 8), get_be16(s.p + off + 6),
                        depth + 1, 1, out);
    }
    return -1;
}

/* Parses the L4 header at 's' for protocol 'proto'.  'first_frag' says the
 * packet is the first fragment of a larger datagram. */
static int
parse_l4(struct span s, uint8_t proto, int first_frag, int depth,
         int tunnels, struct insp_parsed *out)
{
    struct fs_flow_key *key = &out->key;
    uint32_t need;

    out->l4 = s.p;
    out->l4_len = s.cap;

    switch (proto) {
    case 6:
        need = 20;
        break;
    case 17:
        need = 8;
        break;
    case 1:
    case 58:
        need = 4;
        break;
    default:
        return 0;               /* A flow by protocol number, no ports. */
    }

    if (s.cap < need) {
        if (first_frag) {
            return FS_CTR_ERR_FRAG_TINY;
        }
        return (proto == 6 ? FS_CTR_ERR_TRUNCATED_TCP
                : proto == 17 ? FS_CTR_ERR_TRUNCATED_UDP
                : FS_CTR_ERR_TRUNCATED_ICMP);
    }

    if (proto == 6) {
        uint32_t doff = (uint32_t) (s.p[12] >> 4) * 4;

        if (first_frag && doff > s.cap) {
            return FS_CTR_ERR_FRAG_TINY;
        }
        key->src_port = get_be16(s.p);
        key->dst_port = get_be16(s.p + 2);
        out->tcp_seq = get_be32(s.p + 4);
        out->tcp_ack = get_be32(s.p + 8);
        out->tcp_flags = s.p[13];
        out->tcp_payload = doff >= 20 && doff <= s.wire ? s.wire - doff : 0;
        if (doff < 20 || doff > s.cap) {
            /* The ports are there, so the packet still belongs to its
             * flow and is judged with it: skipping it would let a bad
             * offset slip packets past the policy.  Flag the anomaly. */
            out->anomaly = FS_CTR_ERR_TCP_DOFF;
        }
    } else if (proto == 17) {
        key->src_port = get_be16(s.p);
        key->dst_port = get_be16(s.p + 2);
        if (tunnels && !first_frag && depth < INSP_MAX_IP_DEPTH) {
            struct insp_parsed inner = *out;
            int error = parse_udp_tunnel(span_skip(s, 8), key->src_port,
                                         key->dst_port, depth, &inner);
            if (error >= 0) {
                *out = inner;
                return error;
            }
        }
    }
    /* ICMP: one flow per pair of hosts, as ndpiReader keys it. */
    return 0;
}

/* Parses an IPv4 header at 's'. */
static int
parse_ipv4(struct span s, int depth, int tunnels, struct insp_parsed *out)
{
    uint32_t ihl, tot_len, frag;
    uint8_t proto;

    if (s.cap < 20) {
        return FS_CTR_ERR_TRUNCATED_IPV4;
    }
    /* The addresses first, for the log of a packet that is bad after. */
    reset_key(&out->key);
    set_ipv4_addrs(&out->key, s.p);
    out->key.l4_proto = s.p[9];
    ihl = (uint32_t) (s.p[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > s.cap) {
        return FS_CTR_ERR_IPV4_IHL;
    }
    tot_len = get_be16(s.p + 2);
    if (tot_len < ihl || tot_len > s.wire) {
        return FS_CTR_ERR_IPV4_TOTAL_LEN;
    }
    if (s.cap > tot_len) {
        s.cap = tot_len;        /* Drop Ethernet padding. */
    }
    s.wire = tot_len;
    proto = s.p[9];
    frag = get_be16(s.p + 6);

    out->l3 = s.p;
    out->l3_len = s.cap;
    out->l4 = NULL;
    out->l4_len = 0;

    if (frag & 0x3fff) {
        out->is_fragment = 1;
        out->more_fragments = (frag & 0x2000) != 0;
        out->frag_offset = (frag & 0x1fff) * 8;
        out->frag_id = get_be16(s.p + 4);
        out->frag_len = tot_len - ihl;
        if (out->frag_offset) {
            return 0;
        }
    } else if (proto == 4 || proto == 41) {
        if (depth + 1 >= INSP_MAX_IP_DEPTH) {
            return FS_CTR_ERR_TUNNEL_DEPTH;
        }
        out->tunnel = 1;
        return parse_ip(span_skip(s, ihl), proto == 4 ? ETH_TYPE_IPV4
                                                      : ETH_TYPE_IPV6,
                        depth + 1, tunnels, out);
    }
    return parse_l4(span_skip(s, ihl), proto, out->is_fragment, depth,
                    tunnels, out);
}

/* Parses an IPv6 header and its extension headers at 's'. */
static int
parse_ipv6(struct span s, int depth, int tunnels, struct insp_parsed *out)
{
    uint32_t plen, off = 40;
    uint8_t nh;
    int n_ext = 0;

    if (s.cap < 40) {
        return FS_CTR_ERR_TRUNCATED_IPV6;
    }
    plen = get_be16(s.p + 4);
    if (plen == 0) {
        plen = s.wire - 40;     /* Jumbogram or unknown: all there is. */
    }
    if (40 + plen > s.wire) {
        return FS_CTR_ERR_IPV6_PAYLOAD_LEN;
    }
    if (s.cap > 40 + plen) {
        s.cap = 40 + plen;
    }
    s.wire = 40 + plen;

    reset_key(&out->key);
    memcpy(out->key.src_ip, s.p + 8, 16);
    memcpy(out->key.dst_ip, s.p + 24, 16);
    out->key.ip_version = 6;
    out->l3 = s.p;
    out->l3_len = s.cap;
    out->l4 = NULL;
    out->l4_len = 0;

    nh = s.p[6];
    for (;;) {
        uint32_t len;

        if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60
            && nh != 135 && nh != 139 && nh != 140) {
            break;
        }
        if (++n_ext > INSP_MAX_IPV6_EXT) {
            return FS_CTR_ERR_IPV6_EXT_CHAIN;
        }
        if (off + 8 > s.wire) {
            return FS_CTR_ERR_IPV6_EXT_OVERRUN;
        }
        if (off + 8 > s.cap) {
            return FS_CTR_ERR_TRUNCATED_IPV6;
        }
        if (nh == 44) {
            uint16_t fo = get_be16(s.p + off + 2);

            out->is_fragment = 1;
            out->frag_offset = fo & 0xfff8;
            out->more_fragments = fo & 1;
            out->frag_id = get_be32(s.p + off + 4);
            len = 8;
        } else if (nh == 51) {
            len = ((uint32_t) s.p[off + 1] + 2) * 4;
        } else {
            len = ((uint32_t) s.p[off + 1] + 1) * 8;
        }
        if (off + len > s.wire) {
            return FS_CTR_ERR_IPV6_EXT_OVERRUN;
        }
        nh = s.p[off];
        off += len;
        if (off > s.cap) {
            return FS_CTR_ERR_TRUNCATED_IPV6;
        }
        if (out->is_fragment && out->frag_offset) {
            break;
        }
    }
    out->key.l4_proto = nh;
    if (out->is_fragment) {
        out->frag_len = s.wire - off;
        if (out->frag_offset) {
            return 0;
        }
    } else if (nh == 4 || nh == 41) {
        if (depth + 1 >= INSP_MAX_IP_DEPTH) {
            return FS_CTR_ERR_TUNNEL_DEPTH;
        }
        out->tunnel = 1;
        return parse_ip(span_skip(s, off), nh == 4 ? ETH_TYPE_IPV4
                                                   : ETH_TYPE_IPV6,
                        depth + 1, tunnels, out);
    }
    return parse_l4(span_skip(s, off), nh, out->is_fragment, depth,
                    tunnels, out);
}

/* Parses an IP packet at 's'.  'type' is an ethertype, or TYPE_IP_ANY to
 * go by the version nibble. */
static int
parse_ip(struct span s, uint16_t type, int depth, int tunnels,
         struct insp_parsed *out)
{
    uint8_t version;

    if (type != ETH_TYPE_IPV4 && type != ETH_TYPE_IPV6
        && type != TYPE_IP_ANY) {
        return FS_CTR_NON_IP;
    }
    if (!s.cap) {
        return type == ETH_TYPE_IPV6 ? FS_CTR_ERR_TRUNCATED_IPV6
                                     : FS_CTR_ERR_TRUNCATED_IPV4;
    }
    /* The ethertype says which: Open vSwitch and Linux go by it, so an
     * IPv6 header behind the IPv4 ethertype is neither. */
    version = s.p[0] >> 4;
    if (version == 4 && type != ETH_TYPE_IPV6) {
        return parse_ipv4(s, depth, tunnels, out);
    } else if (version == 6 && type != ETH_TYPE_IPV4) {
        return parse_ipv6(s, depth, tunnels, out);
    }
    return FS_CTR_ERR_IP_VERSION;
}

/* Parses an Ethernet frame with up to INSP_MAX_VLANS tags, MPLS, PPPoE or
 * LLC/SNAP, and what it carries. */
static int
parse_ethernet(struct span s, int depth, int tunnels,
               struct insp_parsed *out)
{
    uint16_t type;
    uint16_t vlan = 0;
    int n_vlans = 0;

    if (s.cap < ETH_HDR_LEN) {
        return FS_CTR_ERR_TRUNCATED_L2;
    }
    if (!out->eth) {
        out->eth = s.p;
    }
    type = get_be16(s.p + 12);
    s = span_skip(s, ETH_HDR_LEN);

    while (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ
           || type == ETH_TYPE_QINQ_OLD) {
        if (++n_vlans > INSP_MAX_VLANS) {
            return FS_CTR_ERR_VLAN_DEPTH;
        }
        if (s.cap < 4) {
            return FS_CTR_ERR_TRUNCATED_L2;
        }
        vlan = get_be16(s.p) & 0x0fff;
        type = get_be16(s.p + 2);
        s = span_skip(s, 4);
    }

    if (type <= 1500) {
        /* 802.3 length: IP only behind LLC/SNAP. */
        if (s.cap < 8 || s.p[0] != 0xaa || s.p[1] != 0xaa) {
            return FS_CTR_NON_IP;
        }
        type = get_be16(s.p + 6);
        s = span_skip(s, 8);
    }
    out->key.vlan = vlan;
    return parse_ethertype(s, type, depth, tunnels, out);
}

/* Parses what ethertype 'type' carries at 's': MPLS, PPPoE or IP. */
static int
parse_ethertype(struct span s, uint16_t type, int depth, int tunnels,
                struct insp_parsed *out)
{
    if (type == ETH_TYPE_MPLS || type == ETH_TYPE_MPLS_MC) {
        for (;;) {
            int bottom;

            if (s.cap < 4) {
                return FS_CTR_ERR_TRUNCATED_L2;
            }
            bottom = s.p[2] & 1;
            s = span_skip(s, 4);
            if (bottom) {
                break;
            }
        }
        type = TYPE_IP_ANY;
    } else if (type == ETH_TYPE_PPPOE) {
        uint16_t ppp;

        if (s.cap < 8) {
            return FS_CTR_ERR_TRUNCATED_L2;
        }
        ppp = get_be16(s.p + 6);
        if (ppp != PPP_PROTO_IPV4 && ppp != PPP_PROTO_IPV6) {
            return FS_CTR_NON_IP;
        }
        type = ppp == PPP_PROTO_IPV4 ? ETH_TYPE_IPV4 : ETH_TYPE_IPV6;
        s = span_skip(s, 8);
    }
    return parse_ip(s, type, depth, tunnels, out);
}

/* Maps a PPP protocol field to an ethertype.  Cisco HDLC carries
 * ethertypes already, which pass unchanged. */
static uint16_t
ppp_to_ethertype(uint16_t proto)
{
    switch (proto) {
    case PPP_PROTO_IPV4:
        return ETH_TYPE_IPV4;
    case PPP_PROTO_IPV6:
        return ETH_TYPE_IPV6;
    case PPP_PROTO_MPLS:
        return ETH_TYPE_MPLS;
    default:
        return proto;
    }
}

int
insp_parse(const struct fs_packet *pkt, int decode_tunnels,
           struct insp_parsed *out)
{
    struct span s;
    uint16_t type;
    uint32_t hdr;

    memset(out, 0, sizeof *out);
    if (!pkt->caplen || !pkt->data) {
        return FS_CTR_ERR_ZERO_LENGTH;
    }
    s.p = pkt->data;
    s.cap = pkt->caplen;
    s.wire = pkt->len > pkt->caplen ? pkt->len : pkt->caplen;
    out->wire_len = s.wire;

    switch (pkt->link_type) {
    case FS_LINK_ETHERNET:
        return parse_ethernet(s, 0, decode_tunnels, out);

    case FS_LINK_LINUX_SLL:
        if (s.cap < 16) {
            return FS_CTR_ERR_TRUNCATED_L2;
        }
        return parse_ethertype(span_skip(s, 16), get_be16(s.p + 14), 0,
                               decode_tunnels, out);

    case FS_LINK_NULL: {
        uint32_t af;

        if (s.cap < 4) {
            return FS_CTR_ERR_TRUNCATED_L2;
        }
        /* The address family is in the capturing host's byte order. */
        af = s.p[0] | s.p[1] << 8 | s.p[2] << 16 | (uint32_t) s.p[3] << 24;
        if (af > 0xffff) {
            af = get_be32(s.p);
        }
        type = (af == 2 ? ETH_TYPE_IPV4
                : af == 10 || af == 24 || af == 28 || af == 30
                ? ETH_TYPE_IPV6 : 0);
        hdr = 4;
        break;
    }

    case FS_LINK_PPP:
    case FS_LINK_PPP_HDLC:
    case FS_LINK_C_HDLC:
        if (s.cap < 4) {
            return FS_CTR_ERR_TRUNCATED_L2;
        }
        if (s.p[0] == 0xff || s.p[0] == 0x0f || s.p[0] == 0x8f) {
            /* HDLC address and control bytes, then the protocol. */
            type = ppp_to_ethertype(get_be16(s.p + 2));
            hdr = 4;
        } else {
            type = ppp_to_ethertype(get_be16(s.p));
            hdr = 2;
        }
        return parse_ethertype(span_skip(s, hdr), type, 0, decode_tunnels,
                               out);

    case FS_LINK_RAW:
    case FS_LINK_IPV4:
    case FS_LINK_IPV6:
        type = TYPE_IP_ANY;
        hdr = 0;
        break;

    default:
        return FS_CTR_ERR_LINK_TYPE;
    }
    return parse_ip(span_skip(s, hdr), type, 0, decode_tunnels, out);
}
