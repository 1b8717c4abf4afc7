/*
 * test_sshproxy_sftp.c - the SSH proxy's SFTP tap (src/proto/sshproxy_sftp.c):
 * an upload rebuilt from the two directions of a relayed sftp channel, with
 * writes out of order, fed whole and byte by byte; opens that are not for
 * writing or that the server refuses capture nothing; a packet length no
 * client sends turns the tap off; a file still open at the end is captured.
 * Events are caught with the output tap; data_dir NULL: hashed, not stored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "buf.h"
#include "event.h"
#include "output.h"
#include "proto/sshproxy_sftp.h"

static char *evs[64];
static size_t nevs;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    if (nevs < 64)
        evs[nevs++] = strndup(e->json, e->json_len);
}

static void evs_reset(void)
{
    for (size_t i = 0; i < nevs; i++)
        free(evs[i]);
    nevs = 0;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned ml = 0;
    EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- packet builders ---- */

static void put32(struct hp_buf *b, uint32_t v)
{
    uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };
    hp_buf_put(b, x, 4);
}

static void putstr(struct hp_buf *b, const void *s, size_t n)
{
    put32(b, (uint32_t)n);
    hp_buf_put(b, s, n);
}

/* Start a packet; pkt_end fills in its length. */
static size_t pkt_begin(struct hp_buf *b, uint8_t type, uint32_t id)
{
    size_t at = b->len;
    put32(b, 0);
    hp_buf_putc(b, type);
    put32(b, id);
    return at;
}

static void pkt_end(struct hp_buf *b, size_t at)
{
    uint32_t n = (uint32_t)(b->len - at - 4);
    uint8_t x[4] = { n >> 24, n >> 16, n >> 8, n };
    memcpy(b->data + at, x, 4);
}

static void c_open(struct hp_buf *b, uint32_t id, const char *name, uint32_t flags)
{
    size_t at = pkt_begin(b, 3, id);
    putstr(b, name, strlen(name));
    put32(b, flags);
    put32(b, 0);                      /* attrs: no flags */
    pkt_end(b, at);
}

static void c_write(struct hp_buf *b, uint32_t id, const char *h, uint64_t off, const void *d, size_t n)
{
    size_t at = pkt_begin(b, 6, id);
    putstr(b, h, strlen(h));
    put32(b, (uint32_t)(off >> 32));
    put32(b, (uint32_t)off);
    putstr(b, d, n);
    pkt_end(b, at);
}

static void c_close(struct hp_buf *b, uint32_t id, const char *h)
{
    size_t at = pkt_begin(b, 4, id);
    putstr(b, h, strlen(h));
    pkt_end(b, at);
}

static void s_handle(struct hp_buf *b, uint32_t id, const char *h)
{
    size_t at = pkt_begin(b, 102, id);
    putstr(b, h, strlen(h));
    pkt_end(b, at);
}

static void s_status(struct hp_buf *b, uint32_t id, uint32_t code)
{
    size_t at = pkt_begin(b, 101, id);
    put32(b, code);
    putstr(b, "denied", 6);
    putstr(b, "", 0);
    pkt_end(b, at);
}

static struct hp_evctx ctx;

static void feed(struct hp_sftptap *t, bool client, struct hp_buf *b, bool bytewise)
{
    if (!bytewise) {
        client ? hp_sftptap_client(t, b->data, b->len) : hp_sftptap_server(t, b->data, b->len);
    } else {
        for (size_t i = 0; i < b->len; i++)
            client ? hp_sftptap_client(t, b->data + i, 1) : hp_sftptap_server(t, b->data + i, 1);
    }
    hp_buf_reset(b);
}

static const char *find(const char *eventid)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", eventid);
    for (size_t i = 0; i < nevs; i++)
        if (strstr(evs[i], pat))
            return evs[i];
    return NULL;
}

static void upload_run(bool bytewise)
{
    struct hp_buf c, s;
    hp_buf_init(&c, 1 << 20);
    hp_buf_init(&s, 1 << 20);
    struct hp_sftptap *t = hp_sftptap_new(&ctx, NULL);
    /* INIT / VERSION are not requests with ids: skipped */
    size_t at = c.len;
    put32(&c, 0);
    hp_buf_putc(&c, 1);
    put32(&c, 3);
    pkt_end(&c, at);
    feed(t, true, &c, bytewise);
    c_open(&c, 7, "/tmp/dropper.sh", 0x1a);           /* WRITE|CREAT|TRUNC */
    feed(t, true, &c, bytewise);
    s_handle(&s, 7, "H0");
    feed(t, false, &s, bytewise);
    c_write(&c, 8, "H0", 6, "world!", 6);              /* out of order, as pipelined writes may */
    c_write(&c, 9, "H0", 0, "hello ", 6);
    c_write(&c, 10, "H9", 0, "other", 5);              /* unknown handle: ignored */
    feed(t, true, &c, bytewise);
    assert_null(find("session.file_upload"));
    c_close(&c, 11, "H0");
    feed(t, true, &c, bytewise);
    const char *up = find("session.file_upload");
    assert_non_null(up);
    char sha[65], want[100];
    sha256_hex("hello world!", 12, sha);
    snprintf(want, sizeof(want), "\"shasum\":\"%s\"", sha);
    assert_non_null(strstr(up, want));
    assert_non_null(strstr(up, "\"filename\":\"/tmp/dropper.sh\""));
    assert_non_null(strstr(up, "\"size\":12"));
    assert_non_null(strstr(up, "\"protocol_detail\":\"sftp\""));
    hp_sftptap_free(t);
    assert_int_equal(nevs, 1);
    evs_reset();
    hp_buf_free(&c);
    hp_buf_free(&s);
}

static void test_upload_whole(void **st)
{
    (void)st;
    upload_run(false);
}

static void test_upload_bytewise(void **st)
{
    (void)st;
    upload_run(true);
}

static void test_not_captured(void **st)
{
    (void)st;
    struct hp_buf c, s;
    hp_buf_init(&c, 1 << 20);
    hp_buf_init(&s, 1 << 20);
    struct hp_sftptap *t = hp_sftptap_new(&ctx, NULL);
    c_open(&c, 1, "/etc/passwd", 0x01);               /* read only */
    c_open(&c, 2, "/root/x", 0x1a);                   /* refused by the server */
    feed(t, true, &c, false);
    s_handle(&s, 1, "R");
    s_status(&s, 2, 3);
    feed(t, false, &s, false);
    c_write(&c, 3, "R", 0, "x", 1);
    c_close(&c, 4, "R");
    feed(t, true, &c, false);
    hp_sftptap_free(t);
    assert_int_equal(nevs, 0);
    hp_buf_free(&c);
    hp_buf_free(&s);
}

static void test_open_at_end_and_bad_length(void **st)
{
    (void)st;
    struct hp_buf c, s;
    hp_buf_init(&c, 1 << 20);
    hp_buf_init(&s, 1 << 20);
    struct hp_sftptap *t = hp_sftptap_new(&ctx, NULL);
    c_open(&c, 1, "half.bin", 0x1a);
    feed(t, true, &c, false);
    s_handle(&s, 1, "F");
    feed(t, false, &s, false);
    c_write(&c, 2, "F", 4, "tail", 4);                /* a hole of 4 zero bytes first */
    put32(&c, 0x7fffffff);                            /* no client sends such a packet: tap off */
    hp_buf_put(&c, "junk", 4);
    feed(t, true, &c, false);
    c_close(&c, 3, "F");                              /* not seen any more */
    feed(t, true, &c, false);
    assert_int_equal(nevs, 0);
    hp_sftptap_free(t);                               /* the open file is captured now */
    assert_int_equal(nevs, 1);
    char sha[65], want[100];
    sha256_hex("\0\0\0\0tail", 8, sha);
    snprintf(want, sizeof(want), "\"shasum\":\"%s\"", sha);
    assert_non_null(strstr(evs[0], want));
    evs_reset();
    hp_buf_free(&c);
    hp_buf_free(&s);
}

int main(void)
{
    snprintf(ctx.session, sizeof(ctx.session), "0123456789ab");
    ctx.protocol = "ssh";
    ctx.transport = "tcp";
    snprintf(ctx.src_ip, sizeof(ctx.src_ip), "192.0.2.9");
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_whole),
        cmocka_unit_test(test_upload_bytewise),
        cmocka_unit_test(test_not_captured),
        cmocka_unit_test(test_open_at_end_and_bad_length),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    evs_reset();
    return rc;
}
