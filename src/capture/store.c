/*
 * store.c - content-addressed payload store (see store.h).
 *
 * Every file operation is relative to a descriptor of DATA_DIR/payloads
 * opened with O_NOFOLLOW|O_DIRECTORY: a symlink planted as payloads/ makes
 * the store fail instead of writing elsewhere, and a symlink planted under a
 * hash name is never written through (the temporary file is created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and renamed over whatever was there; rename
 * replaces a link, it does not follow it).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"
#include "store.h"
#include "util.h"

int hp_sha256_hex(const void *data, size_t len, char out[HP_SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (!EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -1;
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[HP_SHA256_HEX_LEN] = '\0';
    return 0;
}

#ifndef HP_FUZZING
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Open (creating when missing) DATA_DIR/payloads without following a link. */
static int open_payloads(const char *data_dir)
{
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    if (mkdirat(dfd, "payloads", 0750) != 0 && errno != EEXIST) {
        int e = errno;
        close(dfd);
        errno = e;
        return -1;
    }
    int pfd = openat(dfd, "payloads", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(dfd);
    errno = e;
    return pfd;
}
#endif

int hp_store_put(const char *data_dir, const void *data, size_t len, char sha256_hex[HP_SHA256_HEX_LEN + 1])
{
    if (hp_sha256_hex(data, len, sha256_hex) != 0) {
        errno = EIO;
        return -1;
    }
#ifdef HP_FUZZING
    (void)data_dir;
    return 0;                        /* fuzzers exercise the parsers, not the disk */
#else
    if (hp_output_disk_low()) {
        errno = ENOSPC;              /* below [sensor] disk_floor: the events come first */
        return -1;
    }
    int pfd = open_payloads(data_dir);
    if (pfd < 0)
        return -1;
    struct stat st;
    if (fstatat(pfd, sha256_hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
        close(pfd);
        return 0;                    /* same content already stored */
    }
    char tmp[64];
    char rnd[17];
    hp_random_hex(rnd, 16);
    snprintf(tmp, sizeof(tmp), ".tmp-%s", rnd);
    int fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
    if (fd < 0) {
        int e = errno;
        close(pfd);
        errno = e;
        return -1;
    }
    int rc = write_all(fd, data, len);
    if (rc == 0)
        rc = fchmod(fd, 0400);
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = renameat(pfd, tmp, pfd, sha256_hex);
    if (rc != 0) {
        int e = errno;
        unlinkat(pfd, tmp, 0);
        close(pfd);
        errno = e;
        return -1;
    }
    close(pfd);
    return 0;
#endif
}
