/*
 * sshproxy_sftp.h - the SFTP tap of the SSH proxy: files a client uploads
 * to the backend's sftp-server, rebuilt from both directions of the relayed
 * stream and captured like the emulation's uploads (session.file_upload,
 * payloads/<sha256>).
 *
 * The tap reads, never answers: client packets OPEN (with the write flag),
 * WRITE and CLOSE, and the server's HANDLE replies that tie an OPEN to the
 * handle the WRITEs use.  A file is recorded when the client closes it (or
 * when the tap is freed with the file still open).  Bounded: packets up to
 * SFTPTAP_PKT_MAX (a longer one stops the tap: no sftp client sends one),
 * SFTPTAP_FILES files open at once, SFTPTAP_PENDING opens awaiting their
 * handle, bytes kept per file and per channel as sshfile's defaults
 * (the rest is counted and the event says truncated).
 */
#ifndef HP_SSHPROXY_SFTP_H
#define HP_SSHPROXY_SFTP_H

#include <stddef.h>

struct hp_evctx;
struct hp_event;
struct hp_sftptap;

/* data_dir NULL: hash and report only. */
struct hp_sftptap *hp_sftptap_new(const struct hp_evctx *ctx, const char *data_dir);
void hp_sftptap_client(struct hp_sftptap *t, const void *data, size_t len);   /* client -> server */
void hp_sftptap_server(struct hp_sftptap *t, const void *data, size_t len);   /* server -> client */
void hp_sftptap_free(struct hp_sftptap *t);

#endif
