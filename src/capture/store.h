/*
 * store.h - content-addressed storage of captured payloads.
 *
 * A payload is kept once, under its SHA-256: DATA_DIR/payloads/<64 hex
 * digits>, mode 0400, written to a temporary name in the same directory and
 * renamed into place, so a reader never sees a half-written file and two
 * sessions storing the same bytes race harmlessly.  Nothing in the path
 * comes from the peer except through the hash; no symlink is ever followed
 * below DATA_DIR (the payloads directory is opened O_NOFOLLOW and every file
 * operation is relative to it).
 *
 * This is the minimal store the SCP/SFTP emulation needs; the full capture
 * pipeline (quotas, metadata, off-thread writes) will extend it.
 *
 * Built with HP_FUZZING, hp_store_put() hashes but writes nothing.
 */
#ifndef HP_STORE_H
#define HP_STORE_H

#include <stddef.h>

#define HP_SHA256_HEX_LEN 64

/* SHA-256 of data as 64 lowercase hex digits plus NUL.  Returns 0, or -1 if
 * OpenSSL failed (out is then "" ). */
int hp_sha256_hex(const void *data, size_t len, char out[HP_SHA256_HEX_LEN + 1]);

/*
 * Store len bytes (len may be 0) as DATA_DIR/payloads/<sha256>, creating
 * payloads/ (0750) when missing; a payload already present is left as it
 * is.  sha256_hex receives the hash in any case.  Returns 0, or -1 (errno
 * set) when the file could not be written, or ENOSPC without trying while
 * free space is below [sensor] disk_floor (hp_output_disk_low): uploads,
 * like downloads, must not take the room the event outputs need.
 *
 * Synchronous: it runs on the network thread, which is acceptable while
 * payloads are small and capped (8 MiB per file by default in the callers);
 * the capture pipeline will move it to a worker.
 */
int hp_store_put(const char *data_dir, const void *data, size_t len, char sha256_hex[HP_SHA256_HEX_LEN + 1]);

#endif
