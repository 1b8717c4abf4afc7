/*
 * yararules.h - the sensor's one compiled YARA rule set, shared.
 *
 * Two parts of the sensor match bytes with YARA: the capture pipeline names
 * a payload's malware family (classify.h: the files of data/yara and the
 * site's [capture] yara_rules directory) and the catch-all trap recognises
 * exploits (payloadclass.h: data/trap/exploits.yar, namespace "trap").
 * libyara keeps about 7 MB of memory per compiled rule set, however few
 * rules it holds, so both use this one set; each looks only at its own
 * rules (by namespace) in what a scan reports.
 *
 * The set is compiled by the first hp_yara_acquire() (before the sandbox:
 * it reads the site directory) and destroyed when the last user releases
 * it.  Every acquirer must name the same site directory.
 */
#ifndef HP_YARARULES_H
#define HP_YARARULES_H

#include <stddef.h>
#include <yara.h>

/* The namespace of the trap's rules in the shared set. */
#define HP_YARA_NS_TRAP "trap"

/* The shared set, compiled on first use from the built-in files plus every
 * <name>.yar of extra_dir (namespace "extra/<name>") when it is non-NULL.
 * Returns the rules, or NULL with a message in err. */
YR_RULES *hp_yara_acquire(const char *extra_dir, char *err, size_t errlen);

/* One user fewer; the last one destroys the set. */
void hp_yara_release(void);

/* Whether rule belongs to namespace ns. */
int hp_yara_in_ns(const YR_RULE *rule, const char *ns);

#endif
