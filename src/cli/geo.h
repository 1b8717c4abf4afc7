/*
 * geo.h - `hanipo geo IP...`: the GeoIP / ASN enrichment of addresses, one
 * JSON line each (what session.connect would carry; src/intel/geo.h).
 */
#ifndef HP_CLI_GEO_H
#define HP_CLI_GEO_H

/* argv[0] is "geo".  Returns 0 ok, 1 a database cannot be used, 64 usage, 78 config. */
int hp_cli_geo(int argc, char **argv);

#endif
