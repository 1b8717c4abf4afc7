/*
 * upload.c - store and report a file an attacker sent (see upload.h).
 */
#include <stdio.h>
#include <string.h>
#include "upload.h"
#include "capture.h"

int hp_upload_record(const struct hp_evctx *ctx, const struct hp_upload_info *u, const void *data,
                     size_t len, char sha_out[HP_SHA256_HEX_LEN + 1])
{
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    bool stored = false;
    if (u->data_dir)
        stored = hp_store_put(u->data_dir, data, len, sha) == 0;
    if (!stored)
        hp_sha256_hex(data, len, sha);
    struct hp_ev ev;
    hp_ev_begin(&ev, ctx, "session.file_upload");
    hp_ev_bytes(&ev, "filename", u->filename ? u->filename : "", u->filename ? u->filename_len : 0);
    hp_ev_uint(&ev, "size", u->size > len ? u->size : len);
    hp_ev_str(&ev, "shasum", sha);
    if (stored) {
        char out[16 + HP_SHA256_HEX_LEN];
        snprintf(out, sizeof(out), "payloads/%s", sha);
        hp_ev_str(&ev, "outfile", out);
    } else if (u->data_dir) {
        hp_ev_bool(&ev, "store_failed", true);
    }
    hp_ev_str(&ev, "protocol_detail", u->detail ? u->detail : "unknown");
    if (u->size > len) {
        hp_ev_bool(&ev, "truncated", true);
        hp_ev_uint(&ev, "stored_size", len);
    }
    hp_ev_emit(&ev);
    if (stored) {
        char name[256];
        size_t n = u->filename ? u->filename_len : 0;
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        memcpy(name, u->filename ? u->filename : "", n);
        name[n] = '\0';
        hp_capture_upload(ctx, sha, len, u->detail ? u->detail : "upload", name);
    }
    if (sha_out)
        memcpy(sha_out, sha, sizeof(sha));
    return stored ? 0 : -1;
}
