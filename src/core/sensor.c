/*
 * sensor.c - start, run and stop the sensor.
 *
 * Start-up order matters for safety:
 *   1. data directory prepared and owned by the run-time user
 *   2. outputs opened and their writer threads started
 *   3. every listening socket bound (ports below 1024 need root)
 *   1b. Landlock (sandbox.c): from here on, files are written only under
 *       data_dir (and configured output paths); before any thread exists,
 *       since Landlock is inherited by threads, not imposed on running ones
 *   4. root dropped, no_new_privs, seccomp allowlist (no execve) in all threads
 *   5. sensor.start event, then the event loop
 * SIGTERM/SIGINT: stop accepting, close every connection (each gets its
 * session.closed), sensor.stop, drain and close every output, exit 0.
 * SIGHUP: reopen the operational log and the JSONL file (logrotate).
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "capture/capture.h"
#include "config.h"
#include "debughook.h"
#include "event.h"
#include "identity.h"
#include "intel/geo.h"
#include "intel/knowledge.h"
#include "log.h"
#include "output.h"
#include "privs.h"
#include "sandbox.h"
#include "proto.h"
#include "sensor.h"
#include "srcmap.h"
#include "status.h"
#include "util.h"
#include "web/dash.h"

struct hp_sensor hp_sensor;

static void emit_start(const struct hp_config *cfg)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "sensor.start");
    hp_ev_str(&ev, "version", HP_VERSION);
    hp_ev_int(&ev, "pid", getpid());
    hp_ev_str(&ev, "config", cfg->path);
    hp_ev_uint(&ev, "user_id", geteuid());
    hp_ev_arr_begin(&ev, "services");
    for (size_t i = 0; i < cfg->nservices; i++) {
        const struct hp_service_cfg *s = &cfg->services[i];
        hp_ev_obj_begin(&ev, NULL);
        hp_ev_str(&ev, "name", s->name);
        hp_ev_str(&ev, "protocol", s->proto->name);
        hp_ev_arr_begin(&ev, "bind");
        for (size_t b = 0; b < s->nbind; b++)
            hp_ev_elem_str(&ev, s->bind[b]);
        hp_ev_arr_end(&ev);
        hp_ev_arr_begin(&ev, "tcp_ports");
        for (size_t p = 0; p < s->ntcp; p++)
            hp_ev_elem_int(&ev, s->tcp_ports[p]);
        hp_ev_arr_end(&ev);
        hp_ev_arr_begin(&ev, "udp_ports");
        for (size_t p = 0; p < s->nudp; p++)
            hp_ev_elem_int(&ev, s->udp_ports[p]);
        hp_ev_arr_end(&ev);
        hp_ev_obj_end(&ev);
    }
    hp_ev_arr_end(&ev);
    hp_ev_obj_begin(&ev, "geoip");             /* build dates; null: database not open */
    hp_ev_str(&ev, "country_db", hp_geo_build_date());
    hp_ev_str(&ev, "asn_db", hp_geo_asn_build_date());
    hp_ev_str(&ev, "city_db", hp_geo_city_build_date());
    hp_ev_obj_end(&ev);
    hp_ev_emit(&ev);
}

/* Counters shared by sensor.stats and sensor.stop. */
static void put_counters(struct hp_ev *ev)
{
    const struct hp_counters *n = &hp_sensor.n;
    hp_ev_uint(ev, "connections_active", hp_sensor.active);
    hp_ev_uint(ev, "connections_accepted", n->accepted);
    hp_ev_uint(ev, "connections_closed", n->closed);
    hp_ev_uint(ev, "refused_per_source", n->refused_per_source);
    hp_ev_uint(ev, "refused_error", n->refused_error);
    hp_ev_uint(ev, "accept_pauses", n->accept_pauses);
    hp_ev_uint(ev, "reads_parked", n->reads_parked);
    hp_ev_uint(ev, "udp_datagrams", n->udp_datagrams);
    hp_ev_uint(ev, "udp_dropped", n->udp_dropped);
    hp_ev_uint(ev, "udp_sessions", n->udp_sessions);
    hp_ev_uint(ev, "udp_suppressed", n->udp_suppressed);
    hp_ev_uint(ev, "http_verdicts_reused", n->http_reused);
    hp_ev_uint(ev, "shell_oneshot_shed", n->oneshot_shed);
    hp_ev_bool(ev, "disk_low", hp_output_disk_low());
    hp_ev_bool(ev, "disk_full", hp_output_disk_full_since() != 0);
    hp_ev_uint(ev, "disk_full_episodes", hp_output_disk_full_episodes());
    struct hp_capture_stats cs;
    hp_capture_get_stats(&cs);
    hp_ev_obj_begin(ev, "capture");
    hp_ev_uint(ev, "requested", cs.requested);
    hp_ev_uint(ev, "fetched", cs.fetched);
    hp_ev_uint(ev, "failed", cs.failed);
    hp_ev_uint(ev, "cached", cs.cached);
    hp_ev_uint(ev, "refused_address", cs.refused);
    hp_ev_uint(ev, "shed", cs.shed);
    hp_ev_uint(ev, "stored_new", cs.stored_new);
    hp_ev_uint(ev, "evicted", cs.evicted);
    hp_ev_uint(ev, "running", cs.running);
    hp_ev_uint(ev, "queued", cs.queued);
    hp_ev_obj_end(ev);
    struct hp_output_stats st[8];
    size_t k = hp_outputs_stats(st, 8);
    hp_ev_obj_begin(ev, "outputs");
    for (size_t i = 0; i < k; i++) {
        hp_ev_obj_begin(ev, st[i].name);
        hp_ev_uint(ev, "written", st[i].written);
        hp_ev_uint(ev, "queued", st[i].queued);
        hp_ev_uint(ev, "shed", st[i].shed);
        hp_ev_uint(ev, "errors", st[i].errors);
        hp_ev_obj_end(ev);
    }
    hp_ev_obj_end(ev);
}

/* One sensor.limit event per source refused since the last report. */
static void report_refused(struct hp_srcent *e, void *arg)
{
    char ip[HP_IPSTR_LEN];
    struct hp_ev ev;
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(e->addr, v4mapped, 12) == 0)
        hp_fmt_ipv4(e->addr + 12, ip);
    else
        inet_ntop(AF_INET6, e->addr, ip, sizeof(ip));
    hp_ev_begin(&ev, NULL, "sensor.limit");
    snprintf(ev.meta.src_ip, sizeof(ev.meta.src_ip), "%s", ip);   /* indexed column too */
    hp_ev_str(&ev, "limit", "max_per_source");
    hp_ev_str(&ev, "src_ip", ip);
    hp_ev_uint(&ev, "refused", e->refused);
    hp_ev_uint(&ev, "active", e->active);
    hp_ev_emit(&ev);
    e->refused = 0;
}

static void stats_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "sensor.stats");
    put_counters(&ev);
    hp_ev_emit(&ev);
}

/* Every second: expire UDP sessions, report refused sources, check back-pressure. */
static void housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
    hp_udp_sweep(false);
    hp_srcmap_each_refused(report_refused, NULL);
    hp_listeners_check();
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
    hp_info("signal %d: stopping", (int)sig);
    hp_sensor.stopping = true;
    event_base_loopbreak(hp_sensor.base);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    hp_info("SIGHUP: reopening log files");
    hp_log_reopen();
    hp_outputs_reopen();
}

static int startup(struct hp_config *cfg)
{
    char err[1024];
    enum hp_log_level lvl;

    if (hp_log_parse_level(cfg->log_level, &lvl) == 0)
        hp_log_set_level(lvl);
    if (hp_log_open(cfg->log_file) != 0) {
        fprintf(stderr, "hanipo: cannot open log_file %s: %m\n", cfg->log_file);
        return 1;
    }
    hp_event_set_sensor(cfg->sensor_name);
    hp_sensor.cfg = cfg;
    /* the compiled-in facts login events are annotated with (parsed before the sandbox) */
    if (hp_knowledge_init(err, sizeof(err)) != 0) {
        hp_error("%s", err);
        return 1;
    }
    if (hp_privs_prepare_dir(cfg->data_dir, cfg->user, err, sizeof(err)) != 0 ||
        hp_sandbox_fs(cfg, err, sizeof(err)) != 0 ||
        hp_outputs_start(cfg, err, sizeof(err)) != 0) {
        hp_error("%s", err);
        return 1;
    }
    if (hp_identity_load(cfg->data_dir, err, sizeof(err)) != 0) {
        hp_error("%s", err);
        return 1;
    }
    /* GeoIP databases are mapped now, before the sandbox; a missing or broken one only
     * turns its part of the enrichment off (docs/geo.md). */
    if (hp_geo_open(cfg->geoip_country, cfg->geoip_asn, cfg->geoip_city, err, sizeof(err)) != 0)
        hp_error("%s (those lookups are off)", err);
    for (size_t i = 0; i < cfg->nservices; i++) {
        struct hp_service_cfg *s = &cfg->services[i];
        if (s->proto->start && s->proto->start(s, cfg, err, sizeof(err)) != 0) {
            hp_error("[service %s]: %s", s->name, err);
            return 1;
        }
    }
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);    /* one network thread */
    hp_sensor.base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (!hp_sensor.base) {
        hp_error("cannot create the event loop");
        return 1;
    }
    /* before the sockets: a bound port means the sensor is ready, sandbox included */
    if (hp_capture_start(cfg, hp_sensor.base, err, sizeof(err)) != 0 ||
        hp_listeners_open(cfg, err, sizeof(err)) != 0) {
        hp_error("%s", err);
        return 1;
    }
    /* the dashboard's socket, token and files are opened with the same rights;
     * its thread then lives under the same sandbox */
    if (hp_dash_start(cfg, err, sizeof(err)) != 0) {
        hp_error("%s", err);
        return 1;
    }
    if (hp_privs_drop(cfg->user, cfg->data_dir, err, sizeof(err)) != 0 || hp_sandbox_syscalls(cfg, err, sizeof(err)) != 0) {
        hp_error("%s", err);
        return 1;
    }
    return 0;
}

static void shutdown_all(void)
{
    hp_dash_stop();
    hp_listeners_close();
    hp_conn_close_all("shutdown");
    hp_udp_sweep(true);
    hp_capture_stop();
    hp_srcmap_each_refused(report_refused, NULL);
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "sensor.stop");
    put_counters(&ev);
    hp_ev_emit(&ev);
    hp_outputs_stop();
    hp_geo_close();
    hp_services_free();
    for (size_t i = 0; i < hp_sensor.cfg->nservices; i++) {
        struct hp_service_cfg *s = &hp_sensor.cfg->services[i];
        if (s->proto->stop)
            s->proto->stop(s);
    }
}

int hp_sensor_run(struct hp_config *cfg)
{
    /* A stop or log-reopen request during start-up waits for the loop
     * instead of killing the half-started process with the default action:
     * the signals stay blocked (and so pending) until their events exist.
     * The threads start-up creates keep them blocked, so they are always
     * taken by this one. */
    sigset_t stop_sigs;
    hp_stop_signals(&stop_sigs);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Connections come and go thousands of times a second: without this, glibc
     * gives the top of the heap back after every burst and takes it again,
     * and each brk() shrink costs a TLB shoot-down on every core the output
     * threads run on.  32 MiB of slack is kept instead. */
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 4 << 20);
    umask(027);               /* events and payloads are not for other local users */
    int rc = startup(cfg);
    if (rc != 0) {
        hp_dash_stop();
        hp_outputs_stop();
        return rc;
    }
    hp_debug_hook_started();              /* nothing in release builds (debughook.c) */
    struct event_base *base = hp_sensor.base;
    struct event *sig_term = evsignal_new(base, SIGTERM, stop_cb, NULL);
    struct event *sig_int = evsignal_new(base, SIGINT, stop_cb, NULL);
    struct event *sig_hup = evsignal_new(base, SIGHUP, hup_cb, NULL);
    struct event *stats = event_new(base, -1, EV_PERSIST, stats_cb, NULL);
    struct event *house = event_new(base, -1, EV_PERSIST, housekeeping_cb, NULL);
    struct timeval st = { (time_t)(cfg->stats_interval_ms / 1000), (suseconds_t)(cfg->stats_interval_ms % 1000) * 1000 };
    struct timeval one = { 1, 0 };
    evsignal_add(sig_term, NULL);
    evsignal_add(sig_int, NULL);
    evsignal_add(sig_hup, NULL);
    pthread_sigmask(SIG_UNBLOCK, &stop_sigs, NULL);   /* one that came during start-up is handled now */
    if (cfg->stats_interval_ms)
        event_add(stats, &st);
    event_add(house, &one);
    hp_debug_hooks_install(base);         /* nothing in release builds (debughook.c) */

    emit_start(cfg);
    if (hp_status_start(base, cfg) != 0)
        hp_error("status: cannot publish %s/%s ('hanipo status' will say not running)", cfg->data_dir,
                 HP_STATUS_FILE);
    hp_info("sensor %s started: %zu service(s), %zu listening socket(s), data in %s",
            cfg->sensor_name, cfg->nservices, hp_listeners_count(), cfg->data_dir);
    event_base_dispatch(base);

    hp_status_stop();
    shutdown_all();
    hp_debug_hooks_free();
    event_free(sig_term);
    event_free(sig_int);
    event_free(sig_hup);
    event_free(stats);
    event_free(house);
    event_base_free(base);
    hp_info("stopped");
    return 0;
}
