/*
 * fuzz_http_inject.c - libFuzzer harness for the injected-command lists of
 * http.request (src/proto/http_inject.c): the shell parser over the
 * classifier's extracted command text, substitutions opened, "sh -c"
 * scripts unquoted and parsed again.
 *
 * Input: the command text (any bytes).  It is listed into an "injected"
 * array of an event; checks: the event's JSON is valid and safe, and
 * "injected" holds at most HP_HTTP_INJECTED_MAX arrays of strings.
 * Seeds: fuzz/corpus/http_inject/ (commands the exploit corpus extracts,
 * nested sh -c, quotes, substitutions).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "proto/http_inject.h"
#include "../tests/unit/json_check.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "http.request");
    hp_ev_arr_begin(&ev, "injected");
    hp_http_injected(&ev, (const char *)data, size);
    hp_ev_arr_end(&ev);
    struct hp_event *e = hp_ev_finish(&ev);
    CHECK(e != NULL);
    CHECK(jc_valid(e->json, e->json_len));
    CHECK(jc_safe_text(e->json, e->json_len));
    static struct jc_member m[64];
    int nm = jc_members(e->json, e->json_len, m, (int)(sizeof(m) / sizeof(m[0])));
    const struct jc_member *inj = jc_find(m, nm, "injected");
    if (inj) {                                /* absent only when the event was cut (too large) */
        CHECK(inj->vlen >= 2 && inj->val[0] == '[' && inj->val[inj->vlen - 1] == ']');
        /* count the top-level elements: each an array of strings */
        int depth = 0, n = 0;
        bool in_str = false;
        for (size_t i = 0; i < inj->vlen; i++) {
            char ch = inj->val[i];
            if (in_str) {
                if (ch == '\\')
                    i++;
                else if (ch == '"')
                    in_str = false;
                continue;
            }
            if (ch == '"') {
                CHECK(depth == 2);            /* strings only inside a command's array */
                in_str = true;
            } else if (ch == '[') {
                depth++;
                CHECK(depth <= 2);
                if (depth == 2)
                    n++;
            } else if (ch == ']') {
                depth--;
            }
        }
        CHECK(n <= HP_HTTP_INJECTED_MAX);
    }
    hp_event_unref(e);
    return 0;
}
