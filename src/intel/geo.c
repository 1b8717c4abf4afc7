/*
 * geo.c - GeoIP / ASN enrichment of source addresses (see geo.h, docs/geo.md).
 *
 * The country and city databases are MaxMind DB files read with
 * libmaxminddb in MMDB_MODE_MMAP: after MMDB_open the library only reads the
 * mapping, so concurrent lookups are safe and the seccomp sandbox (no open,
 * no mmap needed later) does not get in the way.  Addresses are handed over
 * as sockaddrs, never as text: MMDB_lookup_string would go through
 * getaddrinfo.
 *
 * The ASN file is hanipo's own (tools/geoip_asn.py): two tables of sorted,
 * non-overlapping ranges (IPv4 with 4-byte keys, IPv6 with 16-byte keys,
 * both big-endian so memcmp orders them) and a string table of organisation
 * names.  It is mmap'ed read-only and validated completely once at open
 * (sizes, offsets, order, every name offset, the final NUL), so a lookup is a
 * plain binary search that needs no bounds checks of its own beyond the
 * table sizes proven at open.
 *
 * Country names come from data/geo/countries.tsv, embedded with .incbin like
 * the fingerprint tables (fpnames.c) and indexed once into a 26x26 array.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "capture/addrpolicy.h"
#include "event.h"
#include "intel/geo.h"
#include "log.h"

extern const char hp_geo_countries[], hp_geo_countries_end[];

__asm__("  .pushsection .rodata\n"
        "  .balign 16\n"
        "  .globl hp_geo_countries\n  .hidden hp_geo_countries\n"
        "  .globl hp_geo_countries_end\n  .hidden hp_geo_countries_end\n"
        "hp_geo_countries:\n"
        "  .incbin \"data/geo/countries.tsv\"\n"
        "hp_geo_countries_end:\n"
        "  .byte 0\n"
        "  .popsection\n");

#define ASN_MAGIC "HPASNDB1"
#define ASN_HEADER 64
#define ASN_REC4 16
#define ASN_REC6 40

struct geo_mmdb {
    MMDB_s db;
    bool open;
    char date[16];
};

static struct {
    struct geo_mmdb country, city;
    /* ASN file */
    const uint8_t *map;
    size_t maplen;
    const uint8_t *t4, *t6;
    uint32_t n4, n6;
    const char *str;
    uint32_t strsize;
    char asn_date[16];
} geo;

/* ---- country names ------------------------------------------------------------ */

static const char *cc_names[26 * 26];
static char *cc_text;
static pthread_once_t cc_once = PTHREAD_ONCE_INIT;

static int cc_index(const char *cc)
{
    int a = cc[0] & ~0x20;
    if (a < 'A' || a > 'Z')
        return -1;
    int b = cc[1] & ~0x20;          /* cc[1] exists: cc[0] was not the NUL */
    if (b < 'A' || b > 'Z' || cc[2] != '\0')
        return -1;
    return (a - 'A') * 26 + (b - 'A');
}

static void cc_load(void)
{
    size_t n = (size_t)(hp_geo_countries_end - hp_geo_countries);
    cc_text = malloc(n + 1);
    if (!cc_text)
        return;
    memcpy(cc_text, hp_geo_countries, n);
    cc_text[n] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(cc_text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab || tab - line != 2)
            continue;
        *tab = '\0';
        int i = cc_index(line);
        if (i >= 0 && tab[1])
            cc_names[i] = tab + 1;
    }
}

const char *hp_geo_country_name(const char *cc)
{
    if (!cc)
        return NULL;
    pthread_once(&cc_once, cc_load);
    int i = cc_index(cc);
    return i < 0 ? NULL : cc_names[i];
}

/* ---- helpers ---------------------------------------------------------------------- */

static void epoch_date(uint64_t epoch, char out[16])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (epoch == 0 || !gmtime_r(&t, &tm) || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 16, "unknown");
}

/* Copy at most outlen-1 bytes of s[0..n) without cutting a UTF-8 sequence. */
static void copy_utf8(char *out, size_t outlen, const char *s, size_t n)
{
    if (n >= outlen) {
        n = outlen - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static uint32_t rd_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_le64(const uint8_t *p)
{
    return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

/* ---- MaxMind databases ------------------------------------------------------------ */

static int mmdb_open(struct geo_mmdb *g, const char *what, const char *path, char *err, size_t errlen)
{
    if (!path || !path[0]) {
        hp_warn("geoip: no %s database configured: %s lookups off", what, what);
        return 0;
    }
    if (access(path, R_OK) != 0) {
        hp_warn("geoip: %s database %s: %s: %s lookups off%s", what, path, strerror(errno), what,
                strcmp(what, "country") == 0 ? " (tools/geoip.sh installs it)" : "");
        return 0;
    }
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
    if (rc != MMDB_SUCCESS) {
        snprintf(err, errlen, "geoip: %s database %s: %s", what, path,
                 rc == MMDB_IO_ERROR ? strerror(errno) : MMDB_strerror(rc));
        return -1;
    }
    g->open = true;
    epoch_date(g->db.metadata.build_epoch, g->date);
    hp_info("geoip: %s database %s (%s, built %s)", what, path,
            g->db.metadata.database_type ? g->db.metadata.database_type : "?", g->date);
    return 0;
}

static void mmdb_close(struct geo_mmdb *g)
{
    if (g->open)
        MMDB_close(&g->db);
    memset(g, 0, sizeof(*g));
}

/* The first of several key paths that leads to a UTF-8 string. */
static bool mmdb_str(MMDB_entry_s *entry, const char *const *const paths[], char *out, size_t outlen)
{
    for (size_t i = 0; paths[i]; i++) {
        MMDB_entry_data_s d;
        if (MMDB_aget_value(entry, &d, paths[i]) == MMDB_SUCCESS && d.has_data &&
            d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size > 0) {
            copy_utf8(out, outlen, d.utf8_string, d.data_size);
            return true;
        }
    }
    return false;
}

static bool mmdb_find(struct geo_mmdb *g, const struct sockaddr *sa, MMDB_entry_s *entry)
{
    if (!g->open)
        return false;
    int mmerr;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->db, sa, &mmerr);
    if (mmerr != MMDB_SUCCESS || !r.found_entry)
        return false;
    *entry = r.entry;
    return true;
}

static const char *const p_cc1[] = { "country_code", NULL };
static const char *const p_cc2[] = { "country", "iso_code", NULL };
static const char *const *const cc_paths[] = { p_cc1, p_cc2, NULL };
static const char *const p_city1[] = { "city", NULL };
static const char *const p_city2[] = { "city", "names", "en", NULL };
static const char *const *const city_paths[] = { p_city1, p_city2, NULL };
static const char *const p_reg1[] = { "state1", NULL };
static const char *const p_reg2[] = { "subdivisions", "0", "names", "en", NULL };
static const char *const *const region_paths[] = { p_reg1, p_reg2, NULL };

static void set_cc(struct hp_geo *out, const char *cc)
{
    const char *name = hp_geo_country_name(cc);
    if (cc_index(cc) < 0)
        return;
    out->cc[0] = (char)(cc[0] & ~0x20);
    out->cc[1] = (char)(cc[1] & ~0x20);
    out->cc[2] = '\0';
    snprintf(out->country, sizeof(out->country), "%s", name ? name : "");
}

/* ---- the ASN range file -------------------------------------------------------------- */

static void asn_close(void)
{
    if (geo.map)
        munmap((void *)geo.map, geo.maplen);
    geo.map = geo.t4 = geo.t6 = NULL;
    geo.str = NULL;
    geo.maplen = 0;
    geo.n4 = geo.n6 = geo.strsize = 0;
    geo.asn_date[0] = '\0';
}

/* Every range start <= end, after the previous end, with a valid name. */
static bool asn_table_ok(const uint8_t *t, uint32_t n, size_t keylen, size_t rec, uint32_t strsize)
{
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = t + (size_t)i * rec;
        if (memcmp(r, r + keylen, keylen) > 0)
            return false;
        if (i > 0 && memcmp(r - rec + keylen, r, keylen) >= 0)
            return false;
        if (rd_le32(r + 2 * keylen + 4) >= strsize)
            return false;
    }
    return true;
}

static int asn_check(const uint8_t *m, size_t len, char *why, size_t whylen)
{
    if (len < ASN_HEADER || memcmp(m, ASN_MAGIC, 8) != 0) {
        snprintf(why, whylen, "not a hanipo ASN file (tools/geoip_asn.py writes them)");
        return -1;
    }
    uint32_t hsize = rd_le32(m + 8), n4 = rd_le32(m + 12), n6 = rd_le32(m + 16), ss = rd_le32(m + 20);
    uint64_t o4 = rd_le32(m + 32), o6 = rd_le32(m + 36), os = rd_le32(m + 40);
    if (hsize != ASN_HEADER || o4 != ASN_HEADER || o6 != o4 + (uint64_t)n4 * ASN_REC4 ||
        os != o6 + (uint64_t)n6 * ASN_REC6 || os + ss != len || ss == 0 || m[len - 1] != '\0') {
        snprintf(why, whylen, "inconsistent sizes (truncated or damaged file)");
        return -1;
    }
    if (!asn_table_ok(m + o4, n4, 4, ASN_REC4, ss) || !asn_table_ok(m + o6, n6, 16, ASN_REC6, ss)) {
        snprintf(why, whylen, "ranges out of order or bad name offsets");
        return -1;
    }
    geo.t4 = m + o4;
    geo.t6 = m + o6;
    geo.n4 = n4;
    geo.n6 = n6;
    geo.str = (const char *)m + os;
    geo.strsize = ss;
    epoch_date(rd_le64(m + 24), geo.asn_date);
    return 0;
}

static int asn_open(const char *path, char *err, size_t errlen)
{
    if (!path || !path[0]) {
        hp_warn("geoip: no ASN database configured: ASN lookups off");
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            hp_warn("geoip: ASN database %s: %s: ASN lookups off (tools/geoip.sh installs it)", path,
                    strerror(errno));
            return 0;
        }
        snprintf(err, errlen, "geoip: ASN database %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char why[128];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < ASN_HEADER ||
        (uint64_t)st.st_size > UINT32_MAX) {
        close(fd);
        snprintf(err, errlen, "geoip: ASN database %s: not a regular file of a plausible size", path);
        return -1;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "geoip: ASN database %s: mmap: %s", path, strerror(errno));
        return -1;
    }
    geo.map = m;
    geo.maplen = (size_t)st.st_size;
    if (asn_check(m, geo.maplen, why, sizeof(why)) != 0) {
        asn_close();
        snprintf(err, errlen, "geoip: ASN database %s: %s", path, why);
        return -1;
    }
    /* The check read every page; give them back (they stay in the page cache)
     * so the resident size is what lookups touch, not the whole 10 MB file. */
    madvise(m, geo.maplen, MADV_DONTNEED);
    hp_info("geoip: ASN database %s (%u IPv4 + %u IPv6 ranges, built %s)", path, geo.n4, geo.n6,
            geo.asn_date);
    return 0;
}

/* Binary search for the last range starting at or below key. */
static const uint8_t *asn_find(const uint8_t *t, uint32_t n, size_t rec, size_t keylen, const uint8_t *key)
{
    uint32_t lo = 0, hi = n;                 /* answer in [lo, hi): first start > key */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(t + (size_t)mid * rec, key, keylen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const uint8_t *r = t + (size_t)(lo - 1) * rec;
    return memcmp(key, r + keylen, keylen) <= 0 ? r : NULL;
}

static void asn_lookup(const uint8_t a[16], bool v4, struct hp_geo *out)
{
    if (!geo.map)
        return;
    const uint8_t *r = v4 ? asn_find(geo.t4, geo.n4, ASN_REC4, 4, a + 12)
                          : asn_find(geo.t6, geo.n6, ASN_REC6, 16, a);
    if (!r)
        return;
    size_t keylen = v4 ? 4 : 16;
    out->asn = rd_le32(r + 2 * keylen);
    const char *name = geo.str + rd_le32(r + 2 * keylen + 4);    /* NUL-terminated: checked at open */
    copy_utf8(out->as_org, sizeof(out->as_org), name, strlen(name));
}

/* ---- public API ------------------------------------------------------------------------ */

void hp_geo_close(void)
{
    mmdb_close(&geo.country);
    mmdb_close(&geo.city);
    asn_close();
}

int hp_geo_open(const char *country_mmdb, const char *asn_file, const char *city_mmdb,
                char *err, size_t errlen)
{
    char e1[512] = "", e2[512] = "", e3[512] = "";
    hp_geo_close();
    (void)hp_geo_country_name("US");     /* build the name table now, before any sandbox */
    int rc = 0;
    if (mmdb_open(&geo.country, "country", country_mmdb, e1, sizeof(e1)) != 0)
        rc = -1;
    if (asn_open(asn_file, e2, sizeof(e2)) != 0)
        rc = -1;
    if (city_mmdb && city_mmdb[0] && mmdb_open(&geo.city, "city", city_mmdb, e3, sizeof(e3)) != 0)
        rc = -1;
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s%s%s", e1, e1[0] && (e2[0] || e3[0]) ? "; " : "", e2,
                 e2[0] && e3[0] ? "; " : "", e3);
    return rc;
}

const char *hp_geo_build_date(void)
{
    return geo.country.open ? geo.country.date : NULL;
}

const char *hp_geo_asn_build_date(void)
{
    return geo.map ? geo.asn_date : NULL;
}

const char *hp_geo_city_build_date(void)
{
    return geo.city.open ? geo.city.date : NULL;
}

const char *hp_geo_default_path(const char *file, char *buf, size_t len)
{
    const char *dir = getenv("HANIPO_GEO_DIR");
    snprintf(buf, len, "%s/%s", dir && dir[0] ? dir : "/var/lib/hanipo/geo", file);
    return buf;
}

int hp_geo_have_city(void)
{
    return geo.city.open;
}

/* Text to the 128-bit form; *v4 when it is (or maps) an IPv4 address. */
static bool parse_addr(const char *ip, uint8_t a[16], bool *v4)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    struct in_addr a4;
    if (inet_pton(AF_INET, ip, &a4) == 1) {
        memcpy(a, mapped, 12);
        memcpy(a + 12, &a4, 4);
        *v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, ip, a) != 1)
        return false;
    *v4 = memcmp(a, mapped, 12) == 0;
    return true;
}

void hp_geo_lookup(const char *ip, struct hp_geo *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t a[16];
    bool v4;
    if (!ip || !parse_addr(ip, a, &v4)) {
        out->special = "invalid";
        return;
    }
    out->special = hp_addr_special16(a);
    if (out->special)
        return;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
    const struct sockaddr *sa;
    if (v4) {
        memcpy(&sin.sin_addr, a + 12, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memcpy(&sin6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    MMDB_entry_s entry;
    char cc[8];
    if (mmdb_find(&geo.country, sa, &entry) && mmdb_str(&entry, cc_paths, cc, sizeof(cc)))
        set_cc(out, cc);
    if (mmdb_find(&geo.city, sa, &entry)) {
        if (!out->cc[0] && mmdb_str(&entry, cc_paths, cc, sizeof(cc)))
            set_cc(out, cc);
        mmdb_str(&entry, region_paths, out->region, sizeof(out->region));
        mmdb_str(&entry, city_paths, out->city, sizeof(out->city));
    }
    asn_lookup(a, v4, out);
}

void hp_geo_ev_fields(struct hp_ev *ev, const char *ip)
{
    struct hp_geo g;
    hp_geo_lookup(ip, &g);
    if (g.special) {
        hp_ev_str(ev, "src_special", g.special);
        return;
    }
    if (g.cc[0]) {
        hp_ev_str(ev, "src_cc", g.cc);
        if (g.country[0])
            hp_ev_str(ev, "src_country", g.country);
    }
    if (g.asn) {
        hp_ev_uint(ev, "src_asn", g.asn);
        if (g.as_org[0])
            hp_ev_str(ev, "src_as_org", g.as_org);
    }
    if (geo.city.open) {
        if (g.region[0])
            hp_ev_str(ev, "src_region", g.region);
        if (g.city[0])
            hp_ev_str(ev, "src_city", g.city);
    }
}
