/*
 * ftp_data.h - the FTP module's data connection (src/proto/ftp.c).
 *
 * One data channel per session, on the sensor's event loop:
 *   passive  ftp_data_pasv(): a listening socket on the control connection's
 *            local address (an ephemeral port, or one of a configured range);
 *            only a connection from the control peer's IP address is taken
 *            (others are closed and reported), the listener is closed once
 *            one is accepted.
 *   active   ftp_data_active(): a non-blocking connect() to an address the
 *            caller has vetted (the client's own: no FTP bounce).
 * A transfer (ftp_data_send / ftp_data_recv) starts when both the command
 * and the connection are there, in whichever order they come.  A channel
 * not connected, or idle, for 'timeout_ms' fails.  Everything is closed by
 * ftp_data_reset / ftp_data_free (with the session).
 *
 * The callbacks run from the channel's own libevent callbacks, outside the
 * core's callbacks for the control connection: the channel brackets them
 * the way conn.c does (c->busy), so they may send on and close the control
 * connection; the connection is released once they return.
 */
#ifndef HP_FTP_DATA_H
#define HP_FTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hp_conn;
struct hp_buf;
struct ftp_data;

struct ftp_data_ops {
    /* A transfer ended: ok (all sent / peer closed after sending), data and
     * len what was received (recv; at most the cap), total what the peer
     * sent in all. */
    void (*done)(void *arg, bool ok, const uint8_t *data, size_t len, uint64_t total);
    /* A connection to the passive port came from another address. */
    void (*refused)(void *arg, const struct sockaddr_storage *from);
};

struct ftp_data *ftp_data_new(struct hp_conn *c, const struct ftp_data_ops *ops, void *arg, uint64_t timeout_ms);
void ftp_data_free(struct ftp_data *d);
/* Drop any listener, connection and transfer. */
void ftp_data_reset(struct ftp_data *d);

/* Listen for a passive connection on the control connection's local address
 * (port from [lo, hi], 0 0: any).  *port receives the port; *local the bound
 * address.  0 or -1 (errno). */
int ftp_data_pasv(struct ftp_data *d, uint16_t lo, uint16_t hi, uint16_t *port, struct sockaddr_storage *local);
/* Connect to 'to' when a transfer starts. */
void ftp_data_active(struct ftp_data *d, const struct sockaddr_storage *to);
/* PASV/EPSV or PORT/EPRT came first. */
bool ftp_data_armed(const struct ftp_data *d);
/* A transfer is running or waiting for its connection. */
bool ftp_data_busy(const struct ftp_data *d);

/* Send the bytes of 'content' (taken over: the buffer is moved, *content
 * left empty) then close the data connection. */
void ftp_data_send(struct ftp_data *d, struct hp_buf *content);
/* Receive until the peer closes, keeping at most cap bytes. */
void ftp_data_recv(struct ftp_data *d, size_t cap);

#endif
