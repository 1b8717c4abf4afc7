/*
 * fuzz_urlx.c - libFuzzer harness for the URL extractor (src/capture/urlx*.c).
 *
 * The whole input is scanned with hp_urlx_scan().  Every report must be a
 * non-empty URL of at most HP_URLX_URL_MAX bytes with no control bytes,
 * blanks or bytes >= 0x80, starting with http://, https://, ftp://, tftp://
 * (or tcp:// only when how is "nc"), that normalises to itself; how and layer
 * come from the documented sets; no URL is reported twice and at most
 * HP_URLX_MAX are reported, matching the return value.  The input is also
 * given to hp_urlx_normalize() directly: when it is accepted the result must
 * obey the same rules.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capture/urlx.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct seen {
    size_t n;
    char url[HP_URLX_MAX][HP_URLX_URL_MAX + 1];
};

static bool in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static void check_url(const char *url, bool tcp_ok)
{
    size_t n = strlen(url);
    CHECK(n > 0 && n <= HP_URLX_URL_MAX);
    for (size_t i = 0; i < n; i++)
        CHECK((uint8_t)url[i] > 0x20 && (uint8_t)url[i] < 0x7f);
    CHECK(!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8) || !strncmp(url, "ftp://", 6) ||
          !strncmp(url, "tftp://", 7) || (tcp_ok && !strncmp(url, "tcp://", 6)));
    char again[HP_URLX_URL_MAX + 1];
    CHECK(hp_urlx_normalize(url, n, NULL, again, sizeof(again)) == 0);
    CHECK(strcmp(again, url) == 0);
}

static void on_url(void *arg, const char *url, const char *how, const char *layer)
{
    static const char *const hows[] = { "url", "wget", "curl", "tftp", "ftpget", "ftp-script", "nc",
                                        "busybox-wget-g", "powershell", "certutil", "bitsadmin",
                                        "perl", "python", "php", NULL };
    static const char *const layers[] = { "plain", "urldecode", "base64", "hex", "ifs", NULL };
    struct seen *s = arg;
    CHECK(url && how && layer);
    CHECK(in_set(how, hows));
    CHECK(in_set(layer, layers));
    check_url(url, strcmp(how, "nc") == 0);
    CHECK(s->n < HP_URLX_MAX);
    for (size_t i = 0; i < s->n; i++)
        CHECK(strcmp(s->url[i], url) != 0);
    memcpy(s->url[s->n++], url, strlen(url) + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct seen s;
    s.n = 0;
    size_t n = hp_urlx_scan(data, size, on_url, &s);
    CHECK(n == s.n);

    char out[HP_URLX_URL_MAX + 1];
    if (hp_urlx_normalize((const char *)data, size, NULL, out, sizeof(out)) == 0)
        check_url(out, true);
    if (size > 0 && hp_urlx_normalize((const char *)data + 1, size - 1, (const char *)"tftp", out, 16) == 0)
        CHECK(strlen(out) < 16);
    return 0;
}
