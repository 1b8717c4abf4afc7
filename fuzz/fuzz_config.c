/*
 * fuzz_config.c - libFuzzer harness for configuration loading (src/core/config.c,
 * inih, the value parsers in src/core/util.c and the trap's configure()).
 *
 * The input, copied and NUL-terminated, is loaded with hp_config_load_string.
 * On failure the message must be NUL-terminated and have the documented form
 * "fuzz.ini:LINE: message" (LINE between 1 and the number of lines) or
 * "fuzz.ini: message".  On success the result must be consistent: at least
 * one service, each with a protocol, an address and a sorted, duplicate-free,
 * non-zero port list, no port used twice on one transport; then it is freed
 * (LeakSanitizer checks that nothing is left behind).  Loading from a string
 * touches neither the file system nor the network.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "proto.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_ports(const uint16_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(p[i] != 0);
        if (i)
            CHECK(p[i - 1] < p[i]);
    }
}

static bool share_port(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
    for (size_t i = 0, j = 0; i < na && j < nb;) {
        if (a[i] == b[j])
            return true;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);
    long lines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            lines++;

    char err[512];
    memset(err, 'E', sizeof(err));
    struct hp_config *c = hp_config_load_string(text, "fuzz.ini", err, sizeof(err));
    if (!c) {
        CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        CHECK(strncmp(err, "fuzz.ini:", 9) == 0);
        const char *p = err + 9;
        if (*p == ' ') {
            CHECK(p[1] != '\0');             /* "fuzz.ini: message" */
        } else {
            char *end;
            long line = strtol(p, &end, 10);
            CHECK(end > p && line >= 1 && line <= lines);
            CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
        }
    } else {
        CHECK(strcmp(c->path, "fuzz.ini") == 0);
        CHECK(c->nservices >= 1);
        CHECK(c->sensor_name && c->data_dir && c->user && c->log_file && c->log_level);
        for (size_t i = 0; i < c->nservices; i++) {
            const struct hp_service_cfg *s = &c->services[i];
            CHECK(s->name && s->name[0]);
            CHECK(s->proto != NULL && s->proto == hp_proto_find(s->proto->name));
            CHECK(s->line >= 1 && s->line <= lines);
            CHECK(s->nbind >= 1);
            for (size_t k = 0; k < s->nbind; k++)
                CHECK(s->bind[k] && s->bind[k][0]);
            CHECK(s->ntcp + s->nudp >= 1);
            check_ports(s->tcp_ports, s->ntcp);
            check_ports(s->udp_ports, s->nudp);
            for (const struct hp_kv *kv = s->opts; kv; kv = kv->next)
                CHECK(kv->line >= 1 && kv->line <= lines);
            for (size_t j = 0; j < i; j++) {
                CHECK(strcmp(c->services[j].name, s->name) != 0);
                CHECK(!share_port(c->services[j].tcp_ports, c->services[j].ntcp, s->tcp_ports, s->ntcp));
                CHECK(!share_port(c->services[j].udp_ports, c->services[j].nudp, s->udp_ports, s->nudp));
            }
        }
        for (size_t i = 0; i < c->noutputs; i++) {
            CHECK(c->outputs[i].line >= 1 && c->outputs[i].line <= lines);
            for (size_t j = 0; j < i; j++)
                CHECK(strcmp(c->outputs[i].name, c->outputs[j].name) != 0);
        }
        hp_config_free(c);
    }
    free(text);
    return 0;
}
