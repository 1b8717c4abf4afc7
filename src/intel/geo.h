/*
 * geo.h - country, ASN and (optionally) region/city of a source address.
 *
 * Three optional databases, opened once at start-up (before the sandbox)
 * and then only read:
 *   country  an mmdb with "country_code" (@ip-location-db/geo-whois-asn-
 *            country-mmdb) or MaxMind's "country"/"iso_code" layout; the
 *            English name comes from the embedded data/geo/countries.tsv
 *   ASN      hanipo's sorted range file made by tools/geoip_asn.py from
 *            @ip-location-db/asn (format in that script and docs/geo.md),
 *            mmap'ed and binary-searched
 *   city     an mmdb in ip-location-db's city layout ("city", "state1",
 *            "country_code") or MaxMind's GeoLite2-City layout
 * Any of them may be missing: that part is off (a warning is logged).
 *
 * Private, loopback, link-local, CGNAT, multicast and reserved addresses
 * (capture/addrpolicy.h's tables) are never looked up: they get 'special'.
 *
 * Lookups are read-only over memory mapped at open and are safe from any
 * number of threads; hp_geo_open / hp_geo_close must not race with them.
 */
#ifndef HP_GEO_H
#define HP_GEO_H

#include <stddef.h>
#include <stdint.h>

struct hp_ev;

struct hp_geo {
    char cc[3];               /* ISO 3166 alpha-2, "" when unknown */
    char country[64];         /* English name, "" when unknown */
    uint32_t asn;             /* 0 when unknown */
    char as_org[128];
    char region[64];          /* city database only */
    char city[64];
    const char *special;      /* "private", "loopback", ..., "invalid"; NULL for a public address */
};

/* Open the databases; any path may be NULL or name a missing file (that part
 * is then off, with a warning in err when err is not NULL).  Returns 0, or -1
 * when a file exists but cannot be used (message in err): the caller decides
 * whether that is fatal.  Calling it again replaces the previous set. */
int hp_geo_open(const char *country_mmdb, const char *asn_file, const char *city_mmdb,
                char *err, size_t errlen);
void hp_geo_close(void);

/* Fill out for ip (IPv4 or IPv6 text).  Never fails: unknown parts stay empty. */
void hp_geo_lookup(const char *ip, struct hp_geo *out);

/* Build date ("YYYY-MM-DD", UTC) of each database, NULL when it is not open.
 * hp_geo_build_date is the country database's. */
const char *hp_geo_build_date(void);
const char *hp_geo_asn_build_date(void);
const char *hp_geo_city_build_date(void);
/* Is a city database open (events then carry src_region / src_city)? */
int hp_geo_have_city(void);

/* Default path of an installed database file ("country.mmdb", "asn.bin"):
 * $HANIPO_GEO_DIR/FILE, else /var/lib/hanipo/geo/FILE (where tools/geoip.sh
 * installs).  Returns buf. */
const char *hp_geo_default_path(const char *file, char *buf, size_t len);

/* English name of an ISO 3166 alpha-2 code (any case); NULL when unknown. */
const char *hp_geo_country_name(const char *cc);

/* Add the src_* fields of ip to an event being built: src_special for a
 * non-public address, else src_cc, src_country, src_asn, src_as_org (each
 * when known) and src_region / src_city when a city database is open. */
void hp_geo_ev_fields(struct hp_ev *ev, const char *ip);

#endif
