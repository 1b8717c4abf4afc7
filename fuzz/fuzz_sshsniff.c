/*
 * fuzz_sshsniff.c - libFuzzer harness for the SSH sniffer and KEXINIT parser.
 *
 * Input: one control byte, then the bytes of one direction of a connection.
 *   - The bytes are fed to one sniffer in pieces whose sizes come from a
 *     small PRNG seeded by the control byte (0: one piece), and to a second
 *     sniffer in one piece.  Both must end identically (state, version,
 *     KEXINIT copy, completion bits): the sniffer's result must not depend
 *     on how TCP cut the stream.
 *   - The same bytes are given to hp_kexinit_parse() directly, as a payload.
 *   - Whenever a KEXINIT parses, both HASSHes are computed, into a roomy and
 *     a tiny buffer; every name-list must lie inside its payload.
 *   - The same bytes as a client identification line (hp_ssh_ident_refusal):
 *     one of sshd's two messages, or accepted only when it reads "SSH-...";
 *     and scanned as sshd reads it (hp_ssh_ident_scan): a verdict never lies
 *     past the input, a line ends at its first '\n', no '\n' before a refusal.
 * Invariant violations abort(), so they are crashes like ASan reports.
 * Seeds: fuzz/corpus/sshsniff/ (real stream starts from the capture vectors
 * and raw KEXINIT payloads; tools/gen-hassh-vectors.py --corpus).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/sshsniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_namelist(const struct hp_namelist *l, const uint8_t *p, size_t n)
{
    CHECK(l->len <= n);
    CHECK(l->len == 0 || (l->p >= p && (size_t)(l->p - p) <= n - l->len));
}

/* A parsed KEXINIT: lists inside the payload, HASSH consistent. */
static void check_kexinit(const struct hp_kexinit *k, const uint8_t *p, size_t n)
{
    const struct hp_namelist *l[10] = { &k->kex, &k->hostkey, &k->enc_cs, &k->enc_sc, &k->mac_cs,
                                        &k->mac_sc, &k->comp_cs, &k->comp_sc, &k->lang_cs, &k->lang_sc };
    for (int i = 0; i < 10; i++)
        check_namelist(l[i], p, n);
    for (int server = 0; server <= 1; server++) {
        struct hp_buf big, tiny;
        char hex1[33], hex2[33], hex3[33];
        hp_buf_init(&big, 1 << 20);
        hp_buf_init(&tiny, 7);
        hp_hassh(k, server, &big, hex1);
        hp_hassh(k, server, &tiny, hex2);
        hp_hassh(k, server, NULL, hex3);
        CHECK(hp_buf_ok(&big));
        CHECK(big.len == k->kex.len + 3 + (server ? k->enc_sc.len + k->mac_sc.len + k->comp_sc.len
                                                  : k->enc_cs.len + k->mac_cs.len + k->comp_cs.len));
        CHECK(strlen(hex1) == 32 && !strcmp(hex1, hex2) && !strcmp(hex1, hex3));
        CHECK(tiny.len <= 7);
        hp_buf_free(&big);
        hp_buf_free(&tiny);
    }
}

/* What must hold for a sniffer at any time. */
static void check_sniffer(const struct hp_sshsniff *s)
{
    CHECK(s->version_len <= HP_SSH_VERSION_MAX && s->version[s->version_len] == '\0');
    CHECK(s->buf.alloc <= HP_SSH_SNIFF_BUF_MAX + 1);
    CHECK(s->banner_bytes <= HP_SSH_BANNER_MAX);
    if (s->state == HP_SNIFF_DONE || s->state == HP_SNIFF_FAILED)
        CHECK(s->buf.alloc == 0);
    if (s->state == HP_SNIFF_DONE) {
        CHECK(s->kexinit && s->kexinit_len > 0 && s->version_len >= 4);
        check_namelist(&s->kex.kex, s->kexinit, s->kexinit_len);
    } else {
        CHECK(!s->kexinit && s->kexinit_len == 0);
    }
}

static int feed_pieces(struct hp_sshsniff *s, const uint8_t *p, size_t n, uint8_t ctl)
{
    uint32_t x = ctl;
    size_t off = 0;
    int got = 0;
    while (off < n) {
        x = x * 1103515245u + 12345u;
        size_t k = ctl ? (x >> 16) % ((size_t)ctl + 1) : n;   /* 0-byte feeds too */
        if (k > n - off)
            k = n - off;
        int r = hp_sshsniff_feed(s, p + off, k);
        CHECK((r & got) == 0);          /* each completion reported once */
        got |= r;
        check_sniffer(s);
        off += k;
    }
    return got;
}

static void fuzz_sniffer(const uint8_t *p, size_t n, uint8_t ctl)
{
    struct hp_sshsniff a, b;
    hp_sshsniff_init(&a);
    hp_sshsniff_init(&b);
    int got_a = feed_pieces(&a, p, n, ctl);
    int got_b = hp_sshsniff_feed(&b, p, n);
    check_sniffer(&b);
    CHECK(got_a == got_b && a.state == b.state);
    CHECK(a.version_len == b.version_len && !memcmp(a.version, b.version, a.version_len));
    CHECK(a.kexinit_len == b.kexinit_len);
    if (a.state == HP_SNIFF_DONE) {
        CHECK(!memcmp(a.kexinit, b.kexinit, a.kexinit_len));
        check_kexinit(&a.kex, a.kexinit, a.kexinit_len);
    }
    if (a.state == HP_SNIFF_DONE || a.state == HP_SNIFF_FAILED)
        CHECK(hp_sshsniff_feed(&a, p, n) == 0 && a.buf.alloc == 0);   /* terminal: ignored */
    hp_sshsniff_free(&a);
    hp_sshsniff_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_kexinit k;
    if (size == 0)
        return 0;
    if (hp_kexinit_parse(data + 1, size - 1, &k) == 0)
        check_kexinit(&k, data + 1, size - 1);
    fuzz_sniffer(data + 1, size - 1, data[0]);
    /* The same bytes as a client identification line judged the sshd way. */
    const char *why = NULL, *msg = hp_ssh_ident_refusal(data + 1, size - 1, &why);
    CHECK(why != NULL);
    if (msg)
        CHECK(!strcmp(msg, "Invalid SSH identification string.\r\n") ||
              !strcmp(msg, "Protocol major versions differ.\r\n"));
    else
        CHECK(size - 1 >= 8 && !memcmp(data + 1, "SSH-", 4) && !memchr(data + 1, 0, size - 1));
    size_t len = 1;
    enum hp_ssh_ident st = hp_ssh_ident_scan(data + 1, size - 1, &len);
    const uint8_t *nl = memchr(data + 1, '\n', size - 1);
    if (st == HP_SSH_IDENT_MORE)
        CHECK(len == 0 && !nl && !memchr(data + 1, 0, size - 1));
    else
        CHECK(len >= 1 && len <= size - 1 && (!nl || nl >= data + len));
    if (st == HP_SSH_IDENT_LINE)
        CHECK(nl == data + len);
    return 0;
}
