/*
 * jsonl.h - where the JSON-lines output writes (jsonl.c), for its readers.
 */
#ifndef HP_JSONL_H
#define HP_JSONL_H

#include <stdbool.h>
#include <stddef.h>

struct hp_config;

/* True if cfg enables [output jsonl]; then its directory and file prefix
 * (files are DIR/PREFIX-YYYY-MM-DD.jsonl). */
bool hp_jsonl_location(const struct hp_config *cfg, char *dir, size_t dircap, char *prefix, size_t prefixcap);

#endif
