/*
 * fuzz_ami.c - the AMI parser and session machine (src/proto/ami.c) on
 * arbitrary client bytes delivered in pieces, as the core would (unconsumed
 * bytes offered again).  The first byte picks the release, the accept rule
 * ("*" or the default) and the chunk size; the login delay is 0 so failed
 * logins finish at once, and the timer is fired now and then.  Invariants:
 * never more consumed than given, output within its cap, a closed session
 * stays closed and silent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "util.h"
#include "proto/ami.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t noscan(const struct hp_evctx *ctx, const void *d, size_t n, const char *w)
{
    (void)ctx, (void)d, (void)n, (void)w;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_evctx ctx = { .session = "000000000000", .protocol = "asterisk_ami", .transport = "tcp" };
    if (size < 1)
        return 0;
    size_t npers;
    const struct hp_ami_pers *pers = hp_ami_pers_all(&npers);
    uint8_t ctl = data[0];
    data++, size--;
    struct hp_ami_conf cf;
    hp_ami_conf_init(&cf);
    cf.pers = &pers[ctl % npers];
    cf.auth_fail_delay_ms = 0;
    if (ctl & 0x08) {
        free(cf.accept[0]);
        cf.accept[0] = hp_xstrdup("*");
    }
    struct hp_ami_sess s;
    hp_ami_open(&s, &cf, &ctx, fuzz_drop_event, noscan);
    size_t chunk = 1 + (size_t)(ctl >> 4) * 7;
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, off = 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(buf + have, data + off, n);
        have += n;
        off += n;
        bool was_closed = s.close_reason != NULL;
        hp_buf_reset(&s.out);
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_ami_input(&s, &rd);
        size_t used = hp_rd_pos(&rd);
        if (used > have || s.out.len > HP_AMI_OUT_MAX || (was_closed && s.out.len))
            abort();
        memmove(buf, buf + used, have - used);
        have -= used;
        if ((off & 0xff) == 0x80)
            hp_ami_timer(&s);
    }
    free(buf);
    hp_ami_free(&s);
    hp_ami_conf_free(&cf);
    return 0;
}
