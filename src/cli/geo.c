/*
 * geo.c - `hanipo geo [-c FILE] [--country F] [--asn F] [--city F] [--info] IP...`
 *
 * Looks addresses up exactly as the sensor does for session.connect and
 * prints one JSON object per address:
 *   {"ip":"8.8.8.8","cc":"US","country":"United States","asn":15169,"as_org":"Google LLC"}
 *   {"ip":"10.1.2.3","special":"private"}
 * Database paths: the options, else the [sensor] geoip_* keys of -c FILE,
 * else the built-in defaults (HANIPO_GEO_DIR or /var/lib/hanipo/geo).  With
 * --info the databases' build dates come first as {"geoip":{...}}.  Used by
 * the integration tests to compare with mmdblookup, and by operators.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "buf.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "cli/geo.h"
#include "intel/geo.h"

static void geo_usage(FILE *f)
{
    fprintf(f, "usage: hanipo geo [-c FILE] [--country MMDB] [--asn FILE] [--city MMDB] [--info] IP...\n"
               "  one JSON line per address: cc, country, asn, as_org (region, city with a city\n"
               "  database), or special (private, loopback, ...) for non-public addresses\n");
}

static void put_val(struct hp_buf *b, const char *v)
{
    if (v)
        hp_json_str(b, v, strlen(v));
    else
        hp_buf_puts(b, "null");
}

static void put_str(struct hp_buf *b, const char *key, const char *v)
{
    hp_buf_printf(b, ",\"%s\":", key);
    put_val(b, v);
}

static void print_info(struct hp_buf *b)
{
    hp_buf_reset(b);
    hp_buf_puts(b, "{\"geoip\":{\"country_db\":");
    put_val(b, hp_geo_build_date());
    put_str(b, "asn_db", hp_geo_asn_build_date());
    put_str(b, "city_db", hp_geo_city_build_date());
    hp_buf_puts(b, "}}");
    printf("%s\n", hp_buf_cstr(b));
}

static void print_one(struct hp_buf *b, const char *ip)
{
    struct hp_geo g;
    hp_geo_lookup(ip, &g);
    hp_buf_reset(b);
    hp_buf_puts(b, "{\"ip\":");
    hp_json_str(b, ip, strlen(ip));
    if (g.special) {
        put_str(b, "special", g.special);
    } else {
        if (g.cc[0])
            put_str(b, "cc", g.cc);
        if (g.country[0])
            put_str(b, "country", g.country);
        if (g.asn)
            hp_buf_printf(b, ",\"asn\":%u", (unsigned)g.asn);
        if (g.as_org[0])
            put_str(b, "as_org", g.as_org);
        if (g.region[0])
            put_str(b, "region", g.region);
        if (g.city[0])
            put_str(b, "city", g.city);
    }
    hp_buf_putc(b, '}');
    printf("%s\n", hp_buf_cstr(b));
}

int hp_cli_geo(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "country", required_argument, NULL, 'C' },
        { "asn", required_argument, NULL, 'A' },    { "city", required_argument, NULL, 'Y' },
        { "info", no_argument, NULL, 'i' },         { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cfgpath = NULL, *country = NULL, *asn = NULL, *city = NULL;
    int info = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': cfgpath = optarg; break;
        case 'C': country = optarg; break;
        case 'A': asn = optarg; break;
        case 'Y': city = optarg; break;
        case 'i': info = 1; break;
        case 'h': geo_usage(stdout); return 0;
        default: geo_usage(stderr); return EX_USAGE;
        }
    }
    if (optind >= argc && !info) {
        geo_usage(stderr);
        return EX_USAGE;
    }
    char err[1024], dc[4096], da[4096];
    struct hp_config *cfg = NULL;
    if (cfgpath && !(cfg = hp_config_load(cfgpath, err, sizeof(err)))) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    if (!country)
        country = cfg ? cfg->geoip_country : hp_geo_default_path("country.mmdb", dc, sizeof(dc));
    if (!asn)
        asn = cfg ? cfg->geoip_asn : hp_geo_default_path("asn.bin", da, sizeof(da));
    if (!city)
        city = cfg ? cfg->geoip_city : NULL;
    hp_log_set_level(HP_LOG_WARN);
    int rc = hp_geo_open(country, asn, city, err, sizeof(err));
    hp_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "hanipo: %s\n", err);
        hp_geo_close();
        return 1;
    }
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    if (info)
        print_info(&b);
    for (int i = optind; i < argc; i++)
        print_one(&b, argv[i]);
    hp_buf_free(&b);
    hp_geo_close();
    return 0;
}
