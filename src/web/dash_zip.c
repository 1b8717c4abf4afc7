/*
 * dash_zip.c - one file in a password-protected zip, for payload downloads.
 *
 * Malware repositories hand samples out as zips encrypted with the password
 * "infected" so no scanner, mail filter or careless double-click acts on
 * them; the dashboard does the same and never serves a payload's raw bytes.
 * The encryption is the traditional PKWARE stream cipher ("ZipCrypto"): it
 * is weak cryptography, and that is not its purpose here; every unzip,
 * 7-Zip and Python's zipfile can open it, which AES zips cannot claim.
 * The data is deflated with zlib (raw deflate), then encrypted behind the
 * 12-byte header whose last byte is the CRC's high byte (APPNOTE 6.1).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "util.h"
#include "web/dash_int.h"

struct zc_keys {
    uint32_t k0, k1, k2;
};

static uint32_t crc_byte(uint32_t crc, unsigned char b)
{
    const z_crc_t *tab = get_crc_table();
    return (crc >> 8) ^ (uint32_t)tab[(crc ^ b) & 0xff];
}

static void zc_update(struct zc_keys *k, unsigned char p)
{
    k->k0 = crc_byte(k->k0, p);
    k->k1 = (k->k1 + (k->k0 & 0xff)) * 134775813u + 1;
    k->k2 = crc_byte(k->k2, (unsigned char)(k->k1 >> 24));
}

static unsigned char zc_stream(const struct zc_keys *k)
{
    unsigned t = (k->k2 | 2) & 0xffff;
    return (unsigned char)((t * (t ^ 1)) >> 8);
}

static void zc_encrypt(struct zc_keys *k, unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char p = buf[i];
        buf[i] = p ^ zc_stream(k);
        zc_update(k, p);
    }
}

static unsigned char *put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    p = put16(p, v & 0xffff);
    return put16(p, v >> 16);
}

/* Raw deflate of data into a new buffer; NULL on failure. */
static unsigned char *deflate_raw(const void *data, size_t len, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&zs, (uLong)len);
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *outlen = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* The fields local and central headers share, from "version needed" on. */
static unsigned char *put_common(unsigned char *p, uint32_t crc, size_t csize, size_t usize, size_t nlen)
{
    p = put16(p, 20);                  /* version needed: 2.0 (deflate, encryption) */
    p = put16(p, 1);                   /* flags: encrypted */
    p = put16(p, 8);                   /* deflate */
    p = put16(p, 0);                   /* time 00:00 */
    p = put16(p, (1 << 5) | 1);        /* date 1980-01-01: no timestamp leaks from here */
    p = put32(p, crc);
    p = put32(p, (uint32_t)csize);
    p = put32(p, (uint32_t)usize);
    p = put16(p, (unsigned)nlen);
    return put16(p, 0);                /* extra field length */
}

unsigned char *hp_zip_encrypted(const char *name, const void *data, size_t len, const char *password,
                                size_t *outlen)
{
    size_t nlen = strlen(name), clen;
    if (nlen == 0 || nlen > 255 || len > 0x7fffffffu)
        return NULL;
    uint32_t crc = (uint32_t)crc32(0L, data, (uInt)len);
    unsigned char *comp = deflate_raw(data, len, &clen);
    if (!comp)
        return NULL;
    size_t csize = clen + 12;
    size_t total = 30 + nlen + csize + 46 + nlen + 22;
    unsigned char *zip = malloc(total), *p = zip;
    if (!zip) {
        free(comp);
        return NULL;
    }
    struct zc_keys k = { 0x12345678u, 0x23456789u, 0x34567890u };
    for (const char *s = password; *s; s++)
        zc_update(&k, (unsigned char)*s);
    /* local header */
    p = put32(p, 0x04034b50u);
    p = put_common(p, crc, csize, len, nlen);
    memcpy(p, name, nlen);
    p += nlen;
    /* encryption header: 11 random bytes, then the CRC's high byte (the password check) */
    unsigned char hdr[12];
    hp_random_bytes(hdr, 11);
    hdr[11] = (unsigned char)(crc >> 24);
    zc_encrypt(&k, hdr, 12);
    memcpy(p, hdr, 12);
    p += 12;
    zc_encrypt(&k, comp, clen);
    memcpy(p, comp, clen);
    p += clen;
    free(comp);
    /* central directory */
    size_t cd_off = (size_t)(p - zip);
    p = put32(p, 0x02014b50u);
    p = put16(p, 20);                  /* version made by: MS-DOS 2.0 (no unix modes) */
    p = put_common(p, crc, csize, len, nlen);
    p = put16(p, 0);                   /* comment length */
    p = put16(p, 0);                   /* disk */
    p = put16(p, 0);                   /* internal attributes */
    p = put32(p, 0);                   /* external attributes */
    p = put32(p, 0);                   /* offset of the local header */
    memcpy(p, name, nlen);
    p += nlen;
    size_t cd_len = (size_t)(p - zip) - cd_off;
    /* end of central directory */
    p = put32(p, 0x06054b50u);
    p = put16(p, 0);
    p = put16(p, 0);
    p = put16(p, 1);
    p = put16(p, 1);
    p = put32(p, (uint32_t)cd_len);
    p = put32(p, (uint32_t)cd_off);
    p = put16(p, 0);
    *outlen = (size_t)(p - zip);
    return zip;
}
