/*
 * identity.c - per-sensor generated identity.  See identity.h.
 *
 * The file is "key=value" lines.  Missing keys are generated and the file
 * rewritten, so a later version can add facts without disturbing old ones.
 * Host names follow the shapes real servers on cloud and hosting networks
 * have (provider defaults, admin habits), chosen at random.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "identity.h"
#include "util.h"

#define ID_MAX 64         /* facts: one or a few per protocol module (16 was outgrown) */

static struct { char key[32]; char value[128]; } ids[ID_MAX];
static size_t nids;
static char id_path[4096];        /* the file, once loaded: hp_identity_set rewrites it */

const char *hp_identity_get(const char *key)
{
    for (size_t i = 0; i < nids; i++)
        if (strcmp(ids[i].key, key) == 0)
            return ids[i].value;
    return NULL;
}

static void id_set(const char *key, const char *value)
{
    for (size_t i = 0; i < nids; i++) {
        if (strcmp(ids[i].key, key) == 0) {
            snprintf(ids[i].value, sizeof(ids[i].value), "%s", value);
            return;
        }
    }
    if (nids < ID_MAX) {
        snprintf(ids[nids].key, sizeof(ids[nids].key), "%s", key);
        snprintf(ids[nids].value, sizeof(ids[nids].value), "%s", value);
        nids++;
    }
}

/* Rewrite the file whole (a temporary renamed into place: never half-written). */
static int id_save(void)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", id_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "# generated at first start; delete to draw a new identity\n");
    for (size_t i = 0; i < nids; i++)
        fprintf(f, "%s=%s\n", ids[i].key, ids[i].value);
    if (fclose(f) != 0 || rename(tmp, id_path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(hp_random_u64() % n);
}

static void gen_hostname(char *out, size_t len)
{
    static const char *const words[] = { "web", "srv", "app", "node", "vps", "host", "prod", "db", "api", "dev" };
    static const char *const regions[] = { "fra1", "ams3", "nyc1", "sgp1", "lon1", "tor1", "blr1", "sfo3" };
    static const char *const distro[] = { "debian", "ubuntu", "server" };
    char hex[9];
    hp_random_hex(hex, 8);
    switch (rnd(6)) {
    case 0:   /* AWS EC2 default */
        snprintf(out, len, "ip-172-%u-%u-%u", 16 + rnd(16), rnd(256), 1 + rnd(254));
        break;
    case 1:   /* DigitalOcean-style droplet name */
        snprintf(out, len, "%s-s-1vcpu-%ugb-%s-%02u", distro[rnd(2)], 1 + rnd(2), regions[rnd(8)], 1 + rnd(20));
        break;
    case 2:
        snprintf(out, len, "%s%02u", words[rnd(10)], 1 + rnd(30));
        break;
    case 3:
        snprintf(out, len, "vps%u", 10000 + rnd(90000));
        break;
    case 4:   /* hosting panels: random suffix */
        snprintf(out, len, "%s-%.6s", distro[rnd(3)], hex);
        break;
    default:
        snprintf(out, len, "%s-%s-%02u", words[rnd(10)], words[rnd(10)], 1 + rnd(9));
        break;
    }
}

int hp_identity_load(const char *data_dir, char *err, size_t errlen)
{
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s/identity", data_dir);
    snprintf(id_path, sizeof(id_path), "%s", path);
    nids = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            char *eq = strchr(line, '=');
            if (!eq || line[0] == '#')
                continue;
            *eq = '\0';
            line[strcspn(line, "\n")] = '\0';
            eq[1 + strcspn(eq + 1, "\r\n")] = '\0';
            id_set(line, eq + 1);
        }
        fclose(f);
    }
    bool changed = false;
    if (!hp_identity_get("hostname")) {
        char h[64];
        gen_hostname(h, sizeof(h));
        id_set("hostname", h);
        changed = true;
    }
    if (!changed)
        return 0;
    if (id_save() != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int hp_identity_set(const char *key, const char *value)
{
    const char *old = hp_identity_get(key);
    if (old && strcmp(old, value) == 0)
        return 0;
    id_set(key, value);
    return id_path[0] ? id_save() : 0;
}

/* One of n picked by the host name and key: the same sensor always picks
 * the same (FNV-1a). */
static size_t id_stable_pick(const char *key, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    const char *host = hp_identity_get("hostname");
    for (const char *p = host ? host : ""; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return n ? (size_t)(h % n) : 0;
}

void hp_identity_product(const char *server_key, const char *version_key, const char *product, const char *kept,
                         const char *const *versions, char *out, size_t outlen)
{
    size_t n = 0;
    while (versions[n])
        n++;
    bool mine = kept && strcasecmp(kept, product) == 0;
    const char *v = mine ? hp_identity_get(version_key) : NULL;
    if (!out[0]) {
        if (!v || !v[0] || strlen(v) >= outlen)
            v = kept && !mine ? versions[id_stable_pick(product, n)] : versions[hp_random_u64() % n];
        snprintf(out, outlen, "%s", v);
    }
    if (!kept || (mine && !hp_identity_get(version_key))) {
        hp_identity_set(server_key, product);
        hp_identity_set(version_key, out);
    }
}
