/*
 * smb.h - the SMB engine of the "smb" module (src/proto/smb*.c).
 *
 * The engine is independent of connections so that unit tests and the
 * fuzzer drive it directly: hp_smb_input() takes the bytes of one NetBIOS
 * session service (NBSS) frame payload - an SMB1 or SMB2 message - and
 * appends the NBSS-framed replies to 'out'.  Events are emitted on the
 * context given at creation; files written to shares and DoublePulsar
 * payloads are handed to hp_upload_record / the payload store.
 *
 *   smb.c      module glue (NBSS framing, port 139 session request,
 *              configuration, per-sensor identity, events, file capture)
 *   smb1.c     SMB1 (NT LM 0.12): negotiate, session setup (extended and
 *              basic security), tree connect, NT create, read/write, trans
 *              (named pipes, the MS17-010 check), trans2 (DoublePulsar)
 *   smb2.c     SMB 2.0.2 / 2.1
 *   smb_rpc.c  DCE/RPC over named pipes (srvsvc share enumeration) and the
 *              SPNEGO tokens of session setup
 */
#ifndef HP_SMB_H
#define HP_SMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "event.h"

struct hp_smb;

struct hp_smb_opts {
    const char *data_dir;        /* NULL: uploads hashed and reported only */
    uint64_t max_file;           /* bytes kept of one written file / payload */
};

struct hp_smb *hp_smb_new(const struct hp_evctx *ctx, const struct hp_smb_opts *o);
/* Flush what is still open (files written but not closed) and free. */
void hp_smb_free(struct hp_smb *s);
/* One NBSS session message payload.  Returns 0, or -1 when the peer should
 * be disconnected (a real server drops the connection). */
int hp_smb_input(struct hp_smb *s, const uint8_t *msg, size_t n, struct hp_buf *out);

/* SPNEGO: the NTLMSSP token inside a negTokenInit or negTokenResp (or a raw
 * NTLMSSP message).  0 with tok and toklen pointing into p, -1 otherwise. */
int hp_smb_spnego_token(const uint8_t *p, size_t n, const uint8_t **tok, size_t *toklen);

/* DoublePulsar helpers (public protocol description). */
uint32_t hp_smb_dp_key(uint32_t sig);          /* XOR key from the ping reply's signature */
uint8_t hp_smb_dp_opcode(uint32_t timeout);    /* 0x23 ping, 0xc8 exec, 0x77 kill */

/* Offset of an embedded PE image (MZ + valid PE header) in p, or -1. */
long hp_smb_find_pe(const uint8_t *p, size_t n);

#endif
