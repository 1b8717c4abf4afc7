/*
 * trap_banner.h - banners the trap builds instead of taking them from the
 * configuration.
 *
 * A trap port may greet a silent client with a fixed `banner`.  Some
 * services' greetings are binary frames that carry facts of the host they
 * run on: ActiveMQ's OpenWire broker sends a WireFormatInfo whose
 * PlatformDetails name the JVM and the kernel, inside length-prefixed
 * fields, and mass scanners for CVE-2023-46604 read its ProviderVersion
 * before they fire.  A fixed string in the shipped config would be the
 * same on every sensor and could not agree with the SSH shell's kernel;
 * `banner_kind = NAME` has the trap build the frame from the sensor's
 * Debian personality (src/shell/persona.h) instead.
 */
#ifndef HP_TRAP_BANNER_H
#define HP_TRAP_BANNER_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

enum hp_trap_banner_kind {
    HP_TRAP_BANNER_NONE = 0,
    HP_TRAP_BANNER_ACTIVEMQ,      /* ActiveMQ 5.15 OpenWire WireFormatInfo (61616) */
};

/* The kind named name ("activemq"), or -1. */
int hp_trap_banner_kind(const char *name);

/* Append the banner of kind to out; false for HP_TRAP_BANNER_NONE. */
bool hp_trap_banner_build(enum hp_trap_banner_kind kind, struct hp_buf *out);

#endif
