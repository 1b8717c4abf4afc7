/*
 * sensor.h - process-wide state of a running sensor.
 *
 * One network thread runs one libevent loop; everything in struct
 * hp_sensor belongs to that thread (output threads never touch it).
 */
#ifndef HP_SENSOR_H
#define HP_SENSOR_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct hp_config;
struct hp_conn;
struct hp_service_cfg;
struct hp_proto;

/* A configured service at run time. */
struct hp_service {
    const struct hp_service_cfg *cfg;
    const struct hp_proto *proto;
    uint64_t active;              /* live TCP connections */
};

struct hp_counters {
    uint64_t accepted;
    uint64_t refused_per_source;  /* per-source cap reached */
    uint64_t refused_error;       /* accept/setup failures */
    uint64_t closed;
    uint64_t accept_pauses;       /* times accepting was paused (global cap or output back-pressure) */
    uint64_t reads_parked;        /* times a connection's reading waited for congested outputs (conn.h) */
    uint64_t udp_datagrams;
    uint64_t udp_dropped;         /* over the per-source datagram rate */
    uint64_t udp_sessions;
    uint64_t udp_suppressed;      /* replies withheld: flooding source or over the size rule */
    uint64_t http_reused;         /* HTTP requests given the kept verdict of an identical one (http_memo.h) */
    uint64_t oneshot_shed;        /* one-shot shell runs refused over their rate (shell.h) */
};

struct hp_sensor {
    struct event_base *base;
    const struct hp_config *cfg;
    uint64_t active;              /* live TCP connections, all services */
    struct hp_conn *conns;        /* list of live connections */
    struct hp_counters n;
    bool stopping;
};

extern struct hp_sensor hp_sensor;

/* Run the sensor with a loaded configuration; returns a process exit code. */
int hp_sensor_run(struct hp_config *cfg);

/* listener.c */
int  hp_listeners_open(const struct hp_config *cfg, char *err, size_t errlen);
void hp_listeners_close(void);
void hp_services_free(void);
/* Re-evaluate whether accepting must pause (global cap, output back-pressure). */
void hp_listeners_check(void);
size_t hp_listeners_count(void);

/* conn.c */
struct sockaddr_storage;
/* peer: from accept(); local: the listener's bound address. */
void hp_conn_accept(struct hp_service *svc, int fd, const struct sockaddr_storage *peer,
                    const struct sockaddr_storage *local);
void hp_conn_close_all(const char *reason);

/* udp.c */
void hp_udp_datagram(struct hp_service *svc, int fd, uint16_t listen_port);
void hp_udp_sweep(bool all);

#endif
