/*
 * fuzz_payloadclass.c - libFuzzer harness for the trap's exploit recognition
 * (src/intel/payloadclass.c with the built-in data/trap/exploits.yar).
 *
 * Input: the bytes of one trap chunk (any bytes).  Checks: every class is
 * one of the shared vocabulary's static strings, every CVE is well formed,
 * the lists stay within HP_PAYLOADCLASS_MAX, a reply comes only with the
 * rule that gave it and is not empty, and the same bytes again get the same
 * verdict (kept or scanned).
 * Seeds: fuzz/corpus/payloadclass/ (the exploits the rules describe: T3,
 * OpenWire, RocketMQ, GIOP, JDWP, Log4Shell strings, shell droppers, NTP
 * monlist, Smart Install).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/payloadclass.h"
#include "intel/webclass.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        char err[256];
        CHECK(hp_payloadclass_init(NULL, err, sizeof(err)) == 0);
        ready = 1;
    }
    struct hp_payloadclass r;
    hp_payloadclass_scan(data, size, &r);
    CHECK(r.nclasses <= HP_PAYLOADCLASS_MAX && r.ncves <= HP_PAYLOADCLASS_MAX && r.nrules <= HP_PAYLOADCLASS_MAX);
    CHECK(r.nrules > 0 || (r.nclasses == 0 && r.ncves == 0 && !r.reply));
    CHECK(r.nrules == 0 || r.nclasses > 0);
    for (size_t i = 0; i < r.nclasses; i++)
        CHECK(hp_webclass_class_name(r.classes[i]) == r.classes[i]);
    for (size_t i = 0; i < r.ncves; i++)
        CHECK(hp_webclass_valid_cve(r.cves[i]));
    struct hp_payloadclass again;        /* the kept verdict (or a second scan) agrees */
    hp_payloadclass_scan(data, size, &again);
    CHECK(memcmp(&again, &r, sizeof(r)) == 0);
    if (r.reply) {
        CHECK(r.reply_rule != NULL && r.reply_len > 0 && r.reply_len <= 4096);
        int found = 0;
        for (size_t i = 0; i < r.nrules; i++)
            found |= strcmp(r.rules[i], r.reply_rule) == 0;
        CHECK(found);
    }
    return 0;
}
