/*
 * memcached_stats.c - `stats` and its sub-commands, and the key listings.
 *
 * What reflector hunters and key harvesters ask first: `stats` (is this an
 * exposed server, how much does it hold), `stats settings` / `items` /
 * `slabs` / `conns` / `sizes` / `extstore` / `detail` / `reset`, `stats
 * cachedump` and `lru_crawler metadump` (the keys, before the gets).  The
 * field lists are memcached 1.6.18's; counters follow what the clients did
 * to the store (memcached_store.c), the fake process's pid and uptime come
 * from the identity (memcached.c).  The binary protocol's STAT takes the
 * same general / settings / items / slabs answers (memcached_bin.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "event.h"
#include "memcached_int.h"
#include "util.h"

void mc_stats_general(struct hp_buf *o)
{
    int64_t now = mc_now(), up = now - mc_id.started;
    if (up < 1)
        up = 1;
    uint64_t base_conns = (uint64_t)up / 97 + 11;
    hp_buf_printf(o, "STAT pid %" PRIu32 "\r\nSTAT uptime %" PRId64 "\r\nSTAT time %" PRId64 "\r\n", mc_id.pid,
                  up, now);
    hp_buf_printf(o, "STAT version %s\r\nSTAT libevent 2.1.12-stable\r\nSTAT pointer_size 64\r\n", hp_mc_version());
    hp_buf_printf(o, "STAT rusage_user %" PRId64 ".%06d\r\nSTAT rusage_system %" PRId64 ".%06d\r\n", up / 2900,
                  (int)(up * 37 % 1000000), up / 2100, (int)(up * 53 % 1000000));
    hp_buf_printf(o, "STAT max_connections 1024\r\nSTAT curr_connections %" PRIu64 "\r\n"
                  "STAT total_connections %" PRIu64 "\r\nSTAT rejected_connections 0\r\n"
                  "STAT connection_structures %" PRIu64 "\r\nSTAT response_obj_oom 0\r\n"
                  "STAT response_obj_count 1\r\nSTAT response_obj_bytes 65536\r\nSTAT read_buf_count 8\r\n"
                  "STAT read_buf_bytes 131072\r\nSTAT read_buf_bytes_free 49152\r\nSTAT read_buf_oom 0\r\n"
                  "STAT reserved_fds 20\r\n",
                  mc_db.curr_conns, base_conns + mc_db.total_conns, mc_db.curr_conns + 1);
    hp_buf_printf(o, "STAT cmd_get %" PRIu64 "\r\nSTAT cmd_set %" PRIu64 "\r\nSTAT cmd_flush %" PRIu64 "\r\n"
                  "STAT cmd_touch %" PRIu64 "\r\nSTAT mc_meta_command 0\r\nSTAT get_hits %" PRIu64 "\r\n"
                  "STAT get_misses %" PRIu64 "\r\nSTAT get_expired %" PRIu64 "\r\nSTAT get_flushed 0\r\n"
                  "STAT delete_misses %" PRIu64 "\r\nSTAT delete_hits %" PRIu64 "\r\n"
                  "STAT incr_misses %" PRIu64 "\r\nSTAT incr_hits %" PRIu64 "\r\n"
                  "STAT decr_misses %" PRIu64 "\r\nSTAT decr_hits %" PRIu64 "\r\n"
                  "STAT cas_misses %" PRIu64 "\r\nSTAT cas_hits %" PRIu64 "\r\nSTAT cas_badval %" PRIu64 "\r\n"
                  "STAT touch_hits %" PRIu64 "\r\nSTAT touch_misses %" PRIu64 "\r\n",
                  mc_db.cmd_get, mc_db.cmd_set, mc_db.cmd_flush, mc_db.cmd_touch, mc_db.get_hits, mc_db.get_misses, mc_db.get_expired,
                  mc_db.delete_misses, mc_db.delete_hits, mc_db.incr_misses, mc_db.incr_hits, mc_db.decr_misses, mc_db.decr_hits,
                  mc_db.cas_misses, mc_db.cas_hits, mc_db.cas_badval, mc_db.touch_hits, mc_db.touch_misses);
    hp_buf_printf(o, "STAT store_too_large %" PRIu64 "\r\nSTAT store_no_memory 0\r\nSTAT auth_cmds 0\r\n"
                  "STAT auth_errors 0\r\nSTAT bytes_read %" PRIu64 "\r\nSTAT bytes_written %" PRIu64 "\r\n"
                  "STAT limit_maxbytes 67108864\r\nSTAT accepting_conns 1\r\nSTAT listen_disabled_num 0\r\n"
                  "STAT time_in_listen_disabled_us 0\r\nSTAT threads 4\r\nSTAT conn_yields 0\r\n"
                  "STAT hash_power_level 16\r\nSTAT hash_bytes 524288\r\nSTAT hash_is_expanding 0\r\n",
                  mc_db.too_large, base_conns * 31, base_conns * 1187);
    hp_buf_puts(o, "STAT slab_reassign_rescues 0\r\nSTAT slab_reassign_chunk_rescues 0\r\n"
                   "STAT slab_reassign_evictions_nomem 0\r\nSTAT slab_reassign_inline_reclaim 0\r\n"
                   "STAT slab_reassign_busy_items 0\r\nSTAT slab_reassign_busy_deletes 0\r\n"
                   "STAT slab_reassign_running 0\r\nSTAT slabs_moved 0\r\nSTAT lru_crawler_running 0\r\n");
    hp_buf_printf(o, "STAT lru_crawler_starts %" PRId64 "\r\nSTAT lru_maintainer_juggles %" PRId64 "\r\n"
                  "STAT malloc_fails 0\r\nSTAT log_worker_dropped 0\r\nSTAT log_worker_written 0\r\n"
                  "STAT log_watcher_skipped 0\r\nSTAT log_watcher_sent 0\r\nSTAT log_watchers 0\r\n"
                  "STAT unexpected_napi_ids 0\r\nSTAT round_robin_fallback 0\r\n",
                  up / 3600 + 1, up * 5 + 17);
    hp_buf_printf(o, "STAT bytes %zu\r\nSTAT curr_items %zu\r\nSTAT total_items %" PRIu64 "\r\n"
                  "STAT slab_global_page_pool 0\r\nSTAT expired_unfetched 0\r\nSTAT evicted_unfetched 0\r\n"
                  "STAT evicted_active 0\r\nSTAT evictions 0\r\nSTAT reclaimed 0\r\nSTAT crawler_reclaimed 0\r\n"
                  "STAT crawler_items_checked 0\r\nSTAT lrutail_reflocked 0\r\nSTAT moves_to_cold 0\r\n"
                  "STAT moves_to_warm 0\r\nSTAT moves_within_lru 0\r\nSTAT direct_reclaims 0\r\n"
                  "STAT lru_bumps_dropped 0\r\n",
                  mc_db.bytes + mc_db.count * 56, mc_db.count, mc_db.total_items);
}

/* `stats settings` of memcached 1.6.18 started without -l (listening everywhere). */
static const char mc_settings[] =
    "STAT inter NULL\r\n";
static const char mc_settings_rest[] =
    "STAT oldest 0\r\nSTAT evictions on\r\nSTAT domain_socket NULL\r\n"
    "STAT umask 700\r\nSTAT shutdown_command no\r\nSTAT growth_factor 1.25\r\nSTAT chunk_size 48\r\n"
    "STAT num_threads 4\r\nSTAT num_threads_per_udp 4\r\nSTAT stat_key_prefix :\r\nSTAT detail_enabled no\r\n"
    "STAT reqs_per_event 20\r\nSTAT cas_enabled yes\r\nSTAT tcp_backlog 1024\r\n"
    "STAT binding_protocol auto-negotiate\r\nSTAT auth_enabled_sasl no\r\nSTAT auth_enabled_ascii no\r\n"
    "STAT item_size_max 1048576\r\nSTAT maxconns_fast yes\r\nSTAT hashpower_init 0\r\nSTAT slab_reassign yes\r\n"
    "STAT slab_automove 1\r\nSTAT slab_automove_ratio 0.80\r\nSTAT slab_automove_window 30\r\n"
    "STAT slab_chunk_max 524288\r\nSTAT lru_crawler yes\r\nSTAT lru_crawler_sleep 100\r\n"
    "STAT lru_crawler_tocrawl 0\r\nSTAT tail_repair_time 0\r\nSTAT flush_enabled yes\r\nSTAT dump_enabled yes\r\n"
    "STAT hash_algorithm murmur3\r\nSTAT lru_maintainer_thread yes\r\nSTAT lru_segmented yes\r\n"
    "STAT hot_lru_pct 20\r\nSTAT warm_lru_pct 40\r\nSTAT hot_max_factor 0.20\r\nSTAT warm_max_factor 2.00\r\n"
    "STAT temp_lru no\r\nSTAT temporary_ttl 61\r\nSTAT idle_timeout 0\r\nSTAT watcher_logbuf_size 262144\r\n"
    "STAT worker_logbuf_size 65536\r\nSTAT read_buf_mem_limit 0\r\nSTAT track_sizes no\r\n"
    "STAT inline_ascii_response no\r\nSTAT ext_item_size 512\r\nSTAT ext_item_age 4294967295\r\n"
    "STAT ext_low_ttl 0\r\nSTAT ext_recache_rate 2000\r\nSTAT ext_wbuf_size 4194304\r\nSTAT ext_compact_under 0\r\n"
    "STAT ext_drop_under 0\r\nSTAT ext_max_sleep 1000000\r\nSTAT ext_max_frag 0.80\r\n"
    "STAT slab_automove_freeratio 0.010\r\nSTAT ext_drop_unread no\r\nSTAT ssl_enabled no\r\n"
    "STAT ssl_chain_cert (null)\r\nSTAT ssl_key (null)\r\nSTAT ssl_verify_mode 0\r\nSTAT ssl_keyformat 1\r\n"
    "STAT ssl_ciphers NULL\r\nSTAT ssl_ca_cert NULL\r\nSTAT ssl_wbuf_size 16384\r\nSTAT ssl_session_cache no\r\n"
    "STAT ssl_kernel_tls no\r\nSTAT ssl_min_version tlsv1.2\r\nSTAT num_napi_ids (null)\r\n"
    "STAT memory_file (null)\r\n";

void mc_stats_items(struct hp_buf *o)
{
    if (!mc_db.count)
        return;
    static const char *const zero[] = { "evicted", "evicted_nonzero", "evicted_time", "outofmemory",
                                        "tailrepairs", "reclaimed", "expired_unfetched", "evicted_unfetched",
                                        "evicted_active", "crawler_reclaimed", "crawler_items_checked",
                                        "lrutail_reflocked", "moves_to_cold", "moves_to_warm",
                                        "moves_within_lru", "direct_reclaims" };
    /* small items leave the hot LRU for the cold one at once in a quiet server */
    hp_buf_printf(o, "STAT items:1:number %zu\r\nSTAT items:1:number_hot 0\r\nSTAT items:1:number_warm 0\r\n"
                  "STAT items:1:number_cold %zu\r\nSTAT items:1:age_hot 0\r\nSTAT items:1:age_warm 0\r\n"
                  "STAT items:1:age 0\r\nSTAT items:1:mem_requested %zu\r\n",
                  mc_db.count, mc_db.count, mc_db.bytes + mc_db.count * 56);
    for (size_t i = 0; i < HP_ARRAY_LEN(zero); i++)
        hp_buf_printf(o, "STAT items:1:%s 0\r\n", zero[i]);
    hp_buf_printf(o, "STAT items:1:hits_to_hot %" PRIu64 "\r\nSTAT items:1:hits_to_warm 0\r\n"
                  "STAT items:1:hits_to_cold 0\r\nSTAT items:1:hits_to_temp 0\r\n", mc_db.get_hits);
}

void mc_stats_slabs(struct hp_buf *o)
{
    if (mc_db.total_items)                          /* a slab page, once taken, stays */
        hp_buf_printf(o, "STAT 1:chunk_size 96\r\nSTAT 1:chunks_per_page 10922\r\nSTAT 1:total_pages 1\r\n"
                      "STAT 1:total_chunks 10922\r\nSTAT 1:used_chunks %zu\r\nSTAT 1:free_chunks %zu\r\n"
                      "STAT 1:free_chunks_end 0\r\nSTAT 1:get_hits %" PRIu64 "\r\nSTAT 1:cmd_set %" PRIu64 "\r\n"
                      "STAT 1:delete_hits %" PRIu64 "\r\nSTAT 1:incr_hits %" PRIu64 "\r\nSTAT 1:decr_hits %" PRIu64
                      "\r\nSTAT 1:cas_hits %" PRIu64 "\r\nSTAT 1:cas_badval %" PRIu64 "\r\n"
                      "STAT 1:touch_hits %" PRIu64 "\r\n",
                      mc_db.count, 10922 - mc_db.count, mc_db.get_hits, mc_db.cmd_set, mc_db.delete_hits, mc_db.incr_hits,
                      mc_db.decr_hits, mc_db.cas_hits, mc_db.cas_badval, mc_db.touch_hits);
    hp_buf_printf(o, "STAT active_slabs %d\r\nSTAT total_malloced %d\r\n", mc_db.total_items ? 1 : 0,
                  mc_db.total_items ? 1048576 : 0);
}

void mc_stats_settings(const struct hp_mc_sess *s, struct hp_buf *o)
{
    /* the port the client reached (the real one behind an nftables redirect) */
    hp_buf_printf(o, "STAT maxbytes 67108864\r\nSTAT maxconns 1024\r\nSTAT tcpport %u\r\nSTAT udpport 0\r\n",
                  s->ctx && s->ctx->dst_port ? s->ctx->dst_port : 11211);
    hp_buf_puts(o, mc_settings);
    hp_buf_printf(o, "STAT verbosity %u\r\n", mc_db.verbosity);
    hp_buf_puts(o, mc_settings_rest);
}

/* stats detail on|off|dump: no prefix is ever counted here, so the dump is empty */
static void stats_detail(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    if (ntok >= 3 && (mc_tok_is(&tok[2], "on") || mc_tok_is(&tok[2], "off")))
        mc_line(s, "OK");
    else if (ntok >= 3 && mc_tok_is(&tok[2], "dump"))
        mc_line(s, "END");
    else
        mc_line(s, "CLIENT_ERROR usage: stats detail on|off|dump");
}

/* stats cachedump CLASS LIMIT: what key harvesters (Metasploit's
 * memcached_extractor) list before their gets.  Every item is in class 1
 * here; "ITEM key [bytes b; expiry s]", newest first, limit 0 for all. */
static void stats_cachedump(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, struct hp_buf *o)
{
    uint32_t id, limit;
    if (ntok < 4) {
        mc_line(s, "CLIENT_ERROR bad command line");
        return;
    }
    if (!mc_tok_u32(&tok[2], &id) || !mc_tok_u32(&tok[3], &limit)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (id >= 64) {
        mc_line(s, "CLIENT_ERROR Illegal slab id");
        return;
    }
    struct mc_item *list[MC_ITEMS];
    size_t n = id == 1 ? mc_live(list) : 0;
    for (size_t i = 0; i < n && (limit == 0 || i < limit); i++)
        hp_buf_printf(o, "ITEM %s [%zu b; %" PRId64 " s]\r\n", list[i]->key, list[i]->len, list[i]->expires);
    hp_buf_puts(o, "END\r\n");
    mc_send(s, o);
}

/* Room for the longest answer: a cachedump of every item with a 250-byte key
 * (MC_ITEMS lines of up to ~300 bytes).  64 KiB cut that one, END included. */
#define MC_STATS_MAX (MC_ITEMS * (HP_MC_KEY_MAX + 64) + 64)

void mc_cmd_stats(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    struct hp_buf o;
    hp_buf_init(&o, MC_STATS_MAX);
    if (ntok == 1) {
        mc_stats_general(&o);
    } else if (mc_tok_is(&tok[1], "settings")) {
        mc_stats_settings(s, &o);
    } else if (mc_tok_is(&tok[1], "items")) {
        mc_stats_items(&o);
    } else if (mc_tok_is(&tok[1], "slabs")) {
        mc_stats_slabs(&o);
    } else if (mc_tok_is(&tok[1], "conns")) {
        /* the listener shows its idle time too (memcached 1.6.18) */
        hp_buf_printf(&o, "STAT 26:addr tcp:0.0.0.0:%u\r\nSTAT 26:state conn_listening\r\n"
                      "STAT 26:secs_since_last_cmd %" PRId64 "\r\n",
                      s->ctx && s->ctx->dst_port ? s->ctx->dst_port : 11211, mc_now() - mc_id.started);
        if (s->ctx)
            hp_buf_printf(&o, "STAT 31:addr tcp:%s:%u\r\nSTAT 31:listen_addr tcp:%s:%u\r\n"
                          "STAT 31:state conn_parse_cmd\r\nSTAT 31:secs_since_last_cmd 0\r\n",
                          s->ctx->src_ip, s->ctx->src_port, s->ctx->dst_ip, s->ctx->dst_port);
    } else if (mc_tok_is(&tok[1], "reset")) {
        hp_buf_free(&o);
        mc_line(s, "RESET");
        return;
    } else if (mc_tok_is(&tok[1], "detail")) {
        hp_buf_free(&o);
        stats_detail(s, tok, ntok);
        return;
    } else if (mc_tok_is(&tok[1], "cachedump")) {
        stats_cachedump(s, tok, ntok, &o);
        hp_buf_free(&o);
        return;
    } else if (mc_tok_is(&tok[1], "sizes")) {
        hp_buf_puts(&o, "STAT sizes_status disabled\r\n");
    } else if (mc_tok_is(&tok[1], "extstore")) {
        /* built with extstore, none configured: nothing to list */
    } else {
        hp_buf_free(&o);
        mc_line(s, "ERROR");
        return;
    }
    hp_buf_puts(&o, "END\r\n");
    mc_send(s, &o);
    hp_buf_free(&o);
}

/* URL-encode a key as metadump prints it */
static void mc_uriencode(struct hp_buf *o, const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            hp_buf_printf(o, "%c", *p);
        else
            hp_buf_printf(o, "%%%02X", *p);
    }
}

/* lru_crawler metadump all|CLASSES: the key listing dump tools ask for
 * (memcached-tool dump, key harvesters) since cachedump was capped; oldest
 * first, one "key=... exp= la= cas= fetch= cls= size=" line each. */
void mc_cmd_lru_crawler(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    if (ntok == 3 && mc_tok_is(&tok[1], "metadump")) {
        if (s->pend_len) {
            mc_line(s, "ERROR cannot pipeline other commands before metadump");
            return;
        }
        struct mc_item *list[MC_ITEMS];
        size_t n = mc_live(list);
        struct hp_buf o;
        hp_buf_init(&o, 256 * 1024);
        for (size_t i = n; i-- > 0;) {
            const struct mc_item *it = list[i];
            hp_buf_puts(&o, "key=");
            mc_uriencode(&o, it->key);
            hp_buf_printf(&o, " exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64 " fetch=%s cls=%u size=%" PRIu64 "\n",
                          it->expires ? it->expires : -1, it->atime, it->cas, it->fetched ? "yes" : "no",
                          mc_slab_class(mc_item_total(strlen(it->key), it->flags, it->len)),
                          mc_item_total(strlen(it->key), it->flags, it->len));
        }
        hp_buf_puts(&o, "END\r\n");
        mc_send(s, &o);
        hp_buf_free(&o);
    } else if ((ntok == 3 && mc_tok_is(&tok[1], "crawl")) || (ntok == 2 && (mc_tok_is(&tok[1], "enable") ||
                                                                          mc_tok_is(&tok[1], "disable")))) {
        mc_line(s, "OK");
    } else {
        mc_line(s, "ERROR");
    }
}
