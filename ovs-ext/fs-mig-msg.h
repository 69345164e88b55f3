/*
 * The messages two flowsteerd exchange to migrate a VM's flows (see
 * fs-migrate.h), over a TLS stream whose peer is another host: untrusted
 * input, decoded here and nowhere else.
 *
 * A message is a 12-byte header, all in network order,
 *
 *     magic "FSMG" (4) | version (1) | type (1) | flags (2) | length (4)
 *
 * and 'length' bytes of body (at most FS_MIG_MAX_BODY).  A body has one
 * encoding: fields in a fixed order, a text as its length (1 byte, 1 to
 * 255) and its bytes (printable ASCII), nothing after the last field.  A
 * message that breaks any of this is refused whole, with a reason.
 *
 *   REQUEST  destination to source (pull): text iface-id.
 *   OFFER    source to destination: text iface-id, u32 the VM's port at
 *            the source, u64 the source's policy digest, u32 its flows.
 *   ACCEPT   destination to source: u32 the VM's port at the destination.
 *   REFUSE   either way, then the stream closes: text reason.
 *   RECORDS  source to destination: u32 sequence number, u32 N, then N
 *            flow records (fs_inspector_export()), each behind its length
 *            (u16, 1 or more).  Flag FS_MIG_F_FINAL: the switch-over, the
 *            last of them; the VM runs at the destination from now on.
 *            Flag FS_MIG_F_CLASSIFYING: records of flows still in
 *            classification, with the payload they were given.
 *   ENDED    source to destination: u32 sequence number, u32 N, then N
 *            flow ids (u64, the source's) of flows sent before that
 *            ended since.
 *   ACK      destination to source: u32 the sequence number of the
 *            RECORDS or ENDED message taken, u32 flows imported, updated,
 *            in conflict (skipped), judged again.
 *   SWITCH   destination to source: the VM has shown up here (its first
 *            packet): send the final records now.  Empty.
 *   CANCEL   either way, then the stream closes: text reason.
 *
 * Pure C, no OVS: tests/test-mig-msg and tests/fuzz/fuzz-mig use it too.
 */
#ifndef FS_MIG_MSG_H
#define FS_MIG_MSG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FS_MIG_MAGIC 0x46534d47u        /* "FSMG" */
#define FS_MIG_VERSION 1
#define FS_MIG_HDR_LEN 12
#define FS_MIG_MAX_BODY (4u << 20)      /* Bytes of body, at most. */
#define FS_MIG_TEXT_MAX 255

enum fs_mig_type {
    FS_MIG_REQUEST = 1,
    FS_MIG_OFFER = 2,
    FS_MIG_ACCEPT = 3,
    FS_MIG_REFUSE = 4,
    FS_MIG_RECORDS = 5,
    FS_MIG_ENDED = 6,
    FS_MIG_ACK = 7,
    FS_MIG_SWITCH = 8,
    FS_MIG_CANCEL = 9,
};

#define FS_MIG_F_FINAL 0x0001           /* RECORDS: the switch-over. */
#define FS_MIG_F_CLASSIFYING 0x0002     /* RECORDS: of flows still in
                                         * classification (the appliance
                                         * holds them). */

/* Returns the name of message type 'type' ("RECORDS"), or "unknown". */
const char *fs_mig_type_name(int type);

/* A decoded message.  Pointers point into the bytes decoded. */
struct fs_mig_msg {
    uint8_t type;               /* enum fs_mig_type. */
    uint16_t flags;
    char text[FS_MIG_TEXT_MAX + 1]; /* REQUEST, OFFER: the iface-id;
                                     * REFUSE, CANCEL: the reason. */
    uint32_t port;              /* OFFER, ACCEPT. */
    uint64_t digest;            /* OFFER. */
    uint32_t seq;               /* RECORDS, ENDED, ACK. */
    uint32_t n;                 /* OFFER: flows; RECORDS: records; ENDED:
                                 * ids. */
    uint32_t imported, updated, conflicts, rejudged;    /* ACK. */
    const uint8_t *data;        /* RECORDS: the records behind their
                                 * lengths; ENDED: the ids. */
    size_t data_len;
};

/* Looks at the 'avail' bytes at 'buf', the start of a message: returns 1
 * and its whole length in '*msg_len' if all of it is there, 0 if more is
 * needed, or -EINVAL (a bad magic, version or length: the stream is no
 * good) with a reason in '*why'. */
int fs_mig_frame(const uint8_t *buf, size_t avail, size_t *msg_len,
                 const char **why);

/* Decodes the whole message of 'len' bytes at 'buf' (fs_mig_frame()'s
 * '*msg_len') into '*m'.  Returns 0, or -EINVAL with a reason in '*why'. */
int fs_mig_decode(const uint8_t *buf, size_t len, struct fs_mig_msg *m,
                  const char **why);

/* Steps through a decoded RECORDS message's records from '*off' (0 first):
 * returns false after the last. */
bool fs_mig_records_next(const struct fs_mig_msg *m, size_t *off,
                         const uint8_t **rec, size_t *len);

/* The 'i'th id of a decoded ENDED message (i < m->n). */
uint64_t fs_mig_ended_id(const struct fs_mig_msg *m, uint32_t i);

/* ---------------------------------------------------------------------- */
/* Encoding: messages appended to a growing buffer. */

struct fs_mig_buf {
    uint8_t *data;
    size_t len;
    size_t allocated;
};

#define FS_MIG_BUF_INIT { NULL, 0, 0 }

void fs_mig_buf_uninit(struct fs_mig_buf *);
void fs_mig_buf_clear(struct fs_mig_buf *);

/* Drops the first 'n' bytes. */
void fs_mig_buf_pull(struct fs_mig_buf *, size_t n);

/* Appends whole messages.  'text' is an iface-id (no spaces) or a reason
 * (spaces allowed); one that is empty, too long or not printable is the
 * caller's bug (the encoders abort). */
void fs_mig_put_request(struct fs_mig_buf *, const char *iface_id);
void fs_mig_put_offer(struct fs_mig_buf *, const char *iface_id,
                      uint32_t port, uint64_t digest, uint32_t n_flows);
void fs_mig_put_accept(struct fs_mig_buf *, uint32_t port);
void fs_mig_put_refuse(struct fs_mig_buf *, const char *reason);
void fs_mig_put_cancel(struct fs_mig_buf *, const char *reason);
void fs_mig_put_switch(struct fs_mig_buf *);
void fs_mig_put_ack(struct fs_mig_buf *, uint32_t seq, uint32_t imported,
                    uint32_t updated, uint32_t conflicts, uint32_t rejudged);
/* At most (FS_MIG_MAX_BODY - 8) / 8 ids: the caller splits more. */
void fs_mig_put_ended(struct fs_mig_buf *, uint32_t seq, const uint64_t *ids,
                      uint32_t n);

/* A RECORDS message, built record by record: fs_mig_records_start(), then
 * fs_mig_records_add() while it returns true (false: the record does not
 * fit, or is empty or over 65535 bytes; nothing was added), then
 * fs_mig_records_end(). */
struct fs_mig_records {
    size_t start;               /* Of the message in the buffer. */
    uint32_t n;
};
void fs_mig_records_start(struct fs_mig_buf *, struct fs_mig_records *,
                          uint32_t seq, uint16_t flags);
bool fs_mig_records_add(struct fs_mig_buf *, struct fs_mig_records *,
                        const void *rec, size_t len);
void fs_mig_records_end(struct fs_mig_buf *, struct fs_mig_records *);

#endif /* FS_MIG_MSG_H */
