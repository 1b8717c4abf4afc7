/*
 * fingerprint.h - `hanipo fingerprint FILE`: TLS / SSH fingerprints of the
 * TCP flows in a pcap or pcapng file, one JSON line per flow.
 */
#ifndef HP_CLI_FINGERPRINT_H
#define HP_CLI_FINGERPRINT_H

/* argv[0] is "fingerprint".  Returns 0 ok, 1 unreadable file, 64 usage. */
int hp_cli_fingerprint(int argc, char **argv);

#endif
