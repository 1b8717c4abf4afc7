/*
 * flowfp.h - TLS, QUIC, DTLS and SSH fingerprints of the flows in a
 * capture: frames in, one JSON line per fingerprinted flow out.
 *
 * The engine of `hanipo fingerprint` (src/cli/fingerprint.c), apart from the
 * file reading so that the frame decoder and the per-flow reassembly can be
 * fuzzed without libpcap's file format (fuzz/fuzz_flowfp.c).  Every frame is
 * hostile input: it is read through hp_rd (reader.h) only.
 */
#ifndef HP_INTEL_FLOWFP_H
#define HP_INTEL_FLOWFP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hp_flowfp;

/* A new table for frames of the given link type (a pcap DLT_ value).
 * NULL if out of memory. */
struct hp_flowfp *hp_flowfp_new(int linktype);

/* One captured frame, caplen bytes as captured (possibly cut short). */
void hp_flowfp_packet(struct hp_flowfp *c, const uint8_t *pkt, size_t caplen);

/* Writes one JSON object a line to out for every flow with a fingerprint,
 * in the order the flows were first seen, then frees c (NULL is a no-op).
 * Keys: src, dst (client first), transport ("quic"/"dtls" for UDP), ja3,
 * ja3_string, ja4, sni, alpn, tls_versions, ja3_retry, ja3_retry_string,
 * ja4_retry, ja3s, ja3s_string, hassh, hassh_string, hasshServer,
 * hasshServer_string, server, client (docs/http.md, "Offline"). */
void hp_flowfp_finish(struct hp_flowfp *c, FILE *out);

#endif
