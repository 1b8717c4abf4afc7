/*
 * fuzz_registry.c - every registered protocol's configure() on arbitrary
 * "key = value" lines.  Configuration is operator input, not peer input, but
 * a module must reject any of it cleanly: no crash, no leak, no I/O (checked
 * by the sanitizers; configure() is documented to do no I/O).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_kv *parse_lines(const uint8_t *data, size_t size)
{
    struct hp_kv *head = NULL, **tail = &head;
    size_t i = 0;
    int line = 1;
    while (i < size && line < 64) {
        size_t j = i;
        while (j < size && data[j] != '\n')
            j++;
        const uint8_t *eq = memchr(data + i, '=', j - i);
        if (eq) {
            struct hp_kv *kv = calloc(1, sizeof(*kv));
            kv->key = strndup((const char *)data + i, (size_t)(eq - data - i));
            kv->value = strndup((const char *)eq + 1, (size_t)(data + j - eq - 1));
            kv->line = line;
            *tail = kv;
            tail = &kv->next;
        }
        i = j + 1;
        line++;
    }
    return head;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    const struct hp_proto *const *all = hp_proto_all(&n);
    struct hp_kv *opts = parse_lines(data, size);
    for (size_t i = 0; i < n; i++) {
        struct hp_service_cfg svc;
        char err[512];
        memset(&svc, 0, sizeof(svc));
        svc.name = "fuzz";
        svc.proto = all[i];
        svc.opts = opts;
        if (all[i]->configure)
            all[i]->configure(&svc, err, sizeof(err));
        if (all[i]->unconfigure)
            all[i]->unconfigure(&svc);
    }
    while (opts) {
        struct hp_kv *next = opts->next;
        free(opts->key);
        free(opts->value);
        free(opts);
        opts = next;
    }
    return 0;
}
