/*
 * upload.h - one way for every protocol to keep a file the attacker sent.
 *
 * FTP STOR, SMTP messages, Redis/MySQL file writes, SMB share writes: each
 * hands the received bytes here.  They are stored once by SHA-256 in
 * DATA_DIR/payloads (hp_store_put), reported as session.file_upload and
 * passed to the capture pipeline, which classifies, indexes and mines them
 * like a download.  Modules keep their own size cap and say whether they
 * had to cut the file.
 */
#ifndef HP_UPLOAD_H
#define HP_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "store.h"

struct hp_upload_info {
    const char *data_dir;   /* NULL: hash and report only */
    const char *filename;   /* attacker-given name or path (bytes, may be binary) */
    size_t filename_len;
    const char *detail;     /* protocol_detail: "ftp", "smtp", "redis", ... */
    uint64_t size;          /* size the peer sent (may exceed len if capped) */
};

/* Store data[0..len) and emit session.file_upload; sha_out (may be NULL)
 * receives the hex SHA-256.  Returns 0 if stored, -1 if only reported. */
int hp_upload_record(const struct hp_evctx *ctx, const struct hp_upload_info *u, const void *data,
                     size_t len, char sha_out[HP_SHA256_HEX_LEN + 1]);

#endif
