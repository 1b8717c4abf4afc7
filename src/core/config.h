/*
 * config.h - the sensor's INI configuration (parsed with inih).
 *
 * Sections:
 *   [sensor]            name, data_dir, user, log_file, log_level, retention_days, disk_floor
 *                       geoip_country, geoip_asn, geoip_city, management
 *   [limits]            max_connections, max_per_source, queue_events, queue_bytes,
 *                       stats_interval, shell_persist, shell_source_bytes, shell_total_bytes
 *   [capture]           fetch, max_size, timeout, concurrency, queue, dedup_window, retries,
 *                       retry_delay, quota, depth, per_session, per_host, shell_wait, allow, yara_rules
 *   [dashboard]         enabled, bind, port, password, tls, assets (src/web/dash.h, docs/api.md)
 *   [output NAME]       one per output (jsonl, sqlite, ...); keys belong to the output
 *   [service NAME]      one per service instance: protocol, bind, tcp_ports, udp_ports,
 *                       idle_timeout, max_duration, max_input, udp_answer_window,
 *                       udp_max_amplification, backend, backend_* (backend.h),
 *                       plus keys of the protocol
 *
 * Every key is documented in docs/config.md.  Keys of outputs and protocols
 * are kept as (key, value, line) lists and validated by their owner at load
 * time, so a misspelt key anywhere is reported as FILE:LINE: problem and the
 * sensor refuses to start.
 */
#ifndef HP_CONFIG_H
#define HP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct hp_proto;
struct hp_backend_cfg;

#define HP_UDP_AMP_CAP 3.0            /* udp_max_amplification never goes above this */

struct hp_kv {
    char *key;
    char *value;
    int line;
    struct hp_kv *next;
};

struct hp_service_cfg {
    char *name;
    int line;                     /* line of the section header */
    const struct hp_proto *proto;
    char **bind;                  /* addresses ("127.0.0.1", "::1", "0.0.0.0", "::") */
    size_t nbind;
    uint16_t *tcp_ports;
    size_t ntcp;
    uint16_t *udp_ports;
    size_t nudp;
    uint64_t idle_timeout_ms;     /* close a connection silent this long */
    uint64_t max_input;           /* bytes accepted from one connection before it is cut */
    bool max_input_set;           /* given in the file (else the protocol's default applies) */
    uint64_t max_duration_ms;     /* hard cap on a connection's life */
    uint64_t udp_answer_window_ms; /* a flooding UDP source gets at most one reply per window (udp.c) */
    double udp_max_amplification; /* UDP reply bytes / request bytes, 1.0 default, <= HP_UDP_AMP_CAP */
    struct hp_kv *opts;           /* protocol keys */
    void *proto_conf;             /* set by proto->configure */
    struct hp_backend_cfg *backend; /* backend* keys (backend.h); NULL: low-interaction only */
};

/* [capture]: the payload pipeline (docs/capture.md). */
struct hp_capture_cfg {
    bool fetch;                   /* download what attackers point at (URLs are logged anyway) */
    uint64_t max_size;            /* bytes per download; a longer body is cut and not kept */
    uint64_t timeout_ms;          /* whole download, redirects included */
    uint64_t concurrency;         /* downloads at the same time */
    uint64_t queue;               /* downloads waiting for a slot; more are refused (counted) */
    uint64_t dedup_window_ms;     /* a URL fetched (or failed) this recently is not fetched again */
    uint64_t retries;             /* extra attempts after a transient failure */
    uint64_t retry_delay_ms;      /* before the first retry; doubles each time */
    uint64_t quota;               /* bytes of payloads kept; the least recently seen go first */
    uint64_t depth;               /* downloaded scripts are mined for URLs this many levels deep */
    uint64_t per_session;         /* downloads one session may cause */
    uint64_t per_host;            /* new downloads from one host per hour */
    uint64_t shell_wait_ms;       /* how long an emulated wget/curl waits for its download */
    char *allow;                  /* CIDR ranges the downloader may reach despite the policy */
    char *yara_rules;             /* extra *.yar directory; NULL: the built-in rules only */
};

/* [dashboard]: the web dashboard (src/web/dash.h). */
struct hp_dashboard_cfg {
    bool enabled;
    int line;                     /* of the section header, for messages */
    char *bind;                   /* one address; default 127.0.0.1 */
    uint16_t port;                /* default 8787; never a service's TCP port */
    char *password;               /* "" none: the token only */
    bool tls;                     /* serve HTTPS with DATA_DIR/tls/server.{crt,key} */
    char *assets;                 /* vendored front-end libraries (tools/webdeps.sh) */
    char *store;                  /* NULL: the sensor's SQLite store; else clickhouse://... (a fleet) */
};

/* [report]: defaults for `hanipo report` (docs/report.md). */
struct hp_report_cfg {
    char *store;                  /* NULL: the SQLite store; else clickhouse://... */
    char *sensor_country;         /* "NAME:CC NAME:CC ..." for the per-sensor sections; NULL none */
};

struct hp_output_cfg {
    char *name;                   /* "jsonl", "sqlite", ... */
    int line;
    bool enabled;
    struct hp_kv *opts;
};

struct hp_config {
    char *path;
    /* [sensor] */
    char *sensor_name;
    char *data_dir;
    char *user;                   /* drop to this user when started as root */
    char *log_file;
    char *log_level;
    int sandbox;                  /* enum hp_sandbox_mode (sandbox.h): strict, denylist, off */
    uint64_t retention_days;
    uint64_t disk_floor;          /* bytes of free space below which payload bytes are not written */
    char *geoip_country;          /* country mmdb; "" turns country lookups off (docs/geo.md) */
    char *geoip_asn;              /* tools/geoip_asn.py range file; "" off */
    char *geoip_city;             /* optional city mmdb; "" (default) off */
    char *management;             /* CIDR list a backend may never be in (backend.h); NULL none */
    /* [limits] */
    uint64_t max_connections;
    uint64_t max_per_source;
    uint64_t queue_events;        /* per-output queue capacity (events) */
    uint64_t queue_bytes;         /* per-output queue capacity (bytes) */
    uint64_t stats_interval_ms;
    uint64_t shell_persist_ms;    /* how long a source's files outlive its last shell session */
    uint64_t shell_source_bytes;  /* bytes of files one source may write in the shells */
    uint64_t shell_total_bytes;   /* bytes of such files kept for all sources */
    struct hp_capture_cfg capture;
    struct hp_dashboard_cfg dashboard;
    struct hp_report_cfg report;
    struct hp_service_cfg *services;
    size_t nservices;
    struct hp_output_cfg *outputs;
    size_t noutputs;
};

/*
 * Load and validate a file.  On error returns NULL and writes
 * "FILE:LINE: message" (or "FILE: message") into err.
 */
struct hp_config *hp_config_load(const char *path, char *err, size_t errlen);
/* Same from a string (tests, fuzzing); 'name' is used in messages. */
struct hp_config *hp_config_load_string(const char *text, const char *name, char *err, size_t errlen);
/* Flags of the _flags variants. HP_CONFIG_NO_SERVICES: no [service] is needed (the
 * configuration of `hanipo dashboard` on a machine that runs no sensor). */
#define HP_CONFIG_NO_SERVICES 1u
struct hp_config *hp_config_load_flags(const char *path, unsigned flags, char *err, size_t errlen);
struct hp_config *hp_config_load_string_flags(const char *text, const char *name, unsigned flags, char *err,
                                              size_t errlen);
void hp_config_free(struct hp_config *cfg);

/* Lookup in a kv list; NULL if absent. */
const struct hp_kv *hp_kv_find(const struct hp_kv *kv, const char *key);

/* Parse a port list "81 102 8000-8010, 9000" into a sorted, de-duplicated array. */
int hp_parse_ports(const char *s, uint16_t **ports, size_t *n, char *err, size_t errlen);

#endif
