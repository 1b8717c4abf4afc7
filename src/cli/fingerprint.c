/*
 * fingerprint.c - `hanipo fingerprint FILE`: the TLS (JA3, JA4, JA3S) and
 * SSH (HASSH, HASSHServer) fingerprints of the flows in a pcap or pcapng
 * file.  libpcap reads the file; every frame goes to the flow table of
 * src/intel/flowfp.c, which decodes and reassembles it and prints the
 * results once the file is read.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "cli/fingerprint.h"
#include "intel/flowfp.h"

static void fp_usage(FILE *out)
{
    fprintf(out, "usage: hanipo fingerprint FILE\n"
                 "  Print the TLS (JA3, JA4, JA3S) and SSH (HASSH, HASSHServer) fingerprints of\n"
                 "  every TCP flow in FILE (pcap or pcapng; '-' reads standard input), and the TLS\n"
                 "  ones of QUIC and DTLS flows, one JSON object per line, with the client's known\n"
                 "  name when the lists have it.\n");
}

int hp_cli_fingerprint(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *pkt;
    struct hp_flowfp *c;
    pcap_t *p;
    int rc;

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fp_usage(stdout);
        return 0;
    }
    if (argc != 2) {
        fp_usage(stderr);
        return EX_USAGE;
    }
    if (!(p = pcap_open_offline(argv[1], err))) {
        fprintf(stderr, "hanipo fingerprint: %s\n", err);
        return 1;
    }
    if (!(c = hp_flowfp_new(pcap_datalink(p)))) {
        pcap_close(p);
        return 1;
    }
    while ((rc = pcap_next_ex(p, &h, &pkt)) == 1)
        hp_flowfp_packet(c, pkt, h->caplen);
    if (rc == PCAP_ERROR)
        fprintf(stderr, "hanipo fingerprint: %s (output is what came before)\n", pcap_geterr(p));
    pcap_close(p);
    hp_flowfp_finish(c, stdout);
    fflush(stdout);
    return rc == PCAP_ERROR ? 1 : 0;
}
