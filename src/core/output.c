/*
 * output.c - per-output bounded queues and writer threads.  See output.h.
 *
 * The network thread is the only producer; each output's writer thread is
 * its only consumer.  A queue is a ring of event pointers guarded by one
 * mutex.  The producer signals the consumer only when it is asleep, and the
 * consumer takes everything queued (up to BATCH_MAX) in one go, so under
 * load the lock is taken about once per batch, not once per event.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include "buf.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "output.h"
#include "util.h"

#define BATCH_MAX 2048
#define TICK_MS 200
#define PUBLISH_WAIT_MS 50     /* how long the producer may stall on a full queue */
/*
 * Queue age bounds what a crash can lose: once the oldest queued event has
 * waited LAG_HIGH_MS, the output counts as congested and accepting pauses
 * until it is back under LAG_LOW_MS.  A writer slower than the traffic
 * (SQLite on a slow disk, a sanitized build) therefore slows the sensor down
 * instead of building a backlog of seconds that kill -9 would take with it.
 */
#define LAG_HIGH_MS 500
#define LAG_LOW_MS 250
/*
 * Pull outputs (output.h) run at SCHED_IDLE: their work waits for CPU that
 * serving does not need, so a burst is answered at the rate of the network
 * thread and stored after it.  Once the oldest event they have not stored
 * has waited PULL_URGENT_MS they go back to normal priority (a sensor busy
 * for minutes must still fill its store), and idle again under PULL_CALM_MS.
 */
#define PULL_URGENT_MS 30000
#define PULL_CALM_MS 5000

struct output {
    const struct hp_output_ops *ops;
    void *state;
    char name[32];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_data;       /* consumer waits for events */
    pthread_cond_t cv_space;      /* producer waits for room */
    struct hp_event **ring;
    int64_t *enq_ms;              /* when each ring slot was queued (monotonic) */
    size_t cap, head, count;
    size_t bytes, bytes_cap;
    bool consumer_asleep;
    bool producer_waiting;
    bool stopping;
    _Atomic bool congested;
    _Atomic bool pressing;        /* queue 3/4 full (update_pressure) */
    _Atomic uint64_t written, shed, errors;
    _Atomic size_t inflight;      /* events of the batch being written (for status) */
    /* Set while the output's writes fail (0: writing): its queue then holds
     * events up to the [limits] bounds without pausing the listeners. */
    _Atomic int64_t failing_since_us;
    _Atomic bool failing_nospace;
    struct hp_ratelimit shed_rl;
    /* Pull outputs: no queue (cap 0); their thread is puller_main. */
    bool pull;
    bool idle;                    /* running at SCHED_IDLE */
    bool prio_stuck;              /* could not leave SCHED_IDLE: not tried again */
    _Atomic int64_t lag_ms;       /* what pull() last said */
};

static struct output *outputs;
static size_t noutputs;
/* Wakes pull outputs: pull_seq grows after every batch a queue output wrote. */
static pthread_mutex_t pull_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pull_cv = PTHREAD_COND_INITIALIZER;
static uint64_t pull_seq;
static bool pull_stopping;
static size_t npull;
static _Atomic bool disk_low;
static char disk_dir[4096];
static uint64_t disk_floor;
static int64_t disk_next_check;
/* Disk full: some output cannot write for want of space (see write_batch). */
static _Atomic int64_t disk_full_since_us;
static _Atomic uint64_t disk_full_episodes;
static pthread_mutex_t disk_full_mu = PTHREAD_MUTEX_INITIALIZER;

bool hp_output_disk_low(void) { return atomic_load(&disk_low); }

int64_t hp_output_disk_full_since(void) { return atomic_load(&disk_full_since_us); }

uint64_t hp_output_disk_full_episodes(void) { return atomic_load(&disk_full_episodes); }

void hp_output_note_disk(bool low)
{
    bool was = atomic_exchange(&disk_low, low);
    if (was != low) {
        if (low)
            hp_warn("free disk space is below the floor: payload bytes are no longer written");
        else
            hp_info("free disk space is above the floor again: payload bytes are written");
    }
}

/* The first writer thread watches free space in the data directory. */
static void check_disk(void)
{
    struct statvfs sv;
    int64_t now = hp_mono_ms();
    if (!disk_floor || now < disk_next_check || statvfs(disk_dir, &sv) != 0)
        return;
    disk_next_check = now + 5000;
    hp_output_note_disk((uint64_t)sv.f_bavail * sv.f_frsize < disk_floor);
}

static void deadline_after_ms(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static bool queue_full(const struct output *o, size_t len)
{
    return o->count == o->cap || o->bytes + len > o->bytes_cap;
}

static bool o_nospace(const struct output *o)
{
    return atomic_load(&o->failing_since_us) && atomic_load(&o->failing_nospace);
}

/*
 * How many outputs are pressing (their queue three quarters full: events
 * would soon be shed), in a cache line of its own: the network thread asks
 * on every read of a busy connection (conn.c parks it), while the outputs'
 * own fields are written by their threads all the time.  Each output's flag
 * changes under its own lock, so counting its transitions keeps the sum
 * right without a lock of its own.
 */
static struct {
    _Alignas(64) _Atomic int n;
    char pad[64 - sizeof(int)];
} pressure;

/* Pressing: over 3/4 of the queue, until it is back under 1/2.  Only this
 * parks open connections: the lag bound alone (a WAL checkpoint, a slow
 * batch) pauses accepting but would cost a keep-alive flood a tenth of its
 * rate for events that fit in the queue anyway. */
static void update_pressure(struct output *o)
{
    bool on;
    if (o_nospace(o) || (o->count < o->cap / 2 && o->bytes < o->bytes_cap / 2))
        on = false;
    else if (o->count > o->cap / 4 * 3 || o->bytes > o->bytes_cap / 4 * 3)
        on = true;
    else
        return;
    if (atomic_load_explicit(&o->pressing, memory_order_relaxed) == on)
        return;
    atomic_store(&o->pressing, on);
    atomic_fetch_add(&pressure.n, on ? 1 : -1);
}

static void update_congestion(struct output *o, int64_t now_ms)
{
    update_pressure(o);
    /* An output that cannot write for want of disk space does not pause
     * accepting: slowing down cannot free space, and the sensor must keep
     * serving.  Its queue fills to the [limits] bounds, then events are shed
     * (counted).  A receiver that is down (syslog, ClickHouse) still pauses
     * accepting, as documented: it is expected back soon. */
    if (o_nospace(o)) {
        atomic_store(&o->congested, false);
        return;
    }
    /* High water at half: the other half is headroom for the events that
     * connections already accepted will still produce while accepting is paused. */
    int64_t lag = o->count ? now_ms - o->enq_ms[o->head] : 0;
    if (o->count > o->cap / 2 || o->bytes > o->bytes_cap / 2 || lag > LAG_HIGH_MS)
        atomic_store(&o->congested, true);
    else if (o->count < o->cap / 4 && o->bytes < o->bytes_cap / 4 && lag < LAG_LOW_MS)
        atomic_store(&o->congested, false);
}

/* Take up to max events; caller holds the lock. */
static size_t queue_take(struct output *o, struct hp_event **batch, size_t max)
{
    size_t n = 0;
    while (n < max && o->count > 0) {
        struct hp_event *e = o->ring[o->head];
        o->head = (o->head + 1) % o->cap;
        o->count--;
        o->bytes -= e->json_len;
        batch[n++] = e;
    }
    return n;
}

/* Any output still failing for want of space? */
static bool any_output_nospace(void)
{
    for (size_t i = 0; i < noutputs; i++)
        if (o_nospace(&outputs[i]))
            return true;
    return false;
}

/* First failure of a run (or the first for want of space): log it, and the
 * disk-full condition if that is the cause. */
static void note_failing(struct output *o, int err)
{
    /* outputs leave errno as the write failed: jsonl the write's, sqlite ENOSPC for SQLITE_FULL */
    bool nospace = err == ENOSPC || err == EDQUOT;
    int64_t now = hp_now_us();
    atomic_store(&o->failing_nospace, nospace);
    if (!atomic_load(&o->failing_since_us))
        atomic_store(&o->failing_since_us, now);
    pthread_mutex_lock(&o->mu);
    size_t queued = o->count;
    pthread_mutex_unlock(&o->mu);
    if (o->pull)
        hp_error("output %s: cannot write (%s): retried; the events wait where it reads them from", o->name,
                 nospace ? "disk full" : strerror(err));
    else
        hp_error("output %s: cannot write (%s): %zu event(s) kept in memory and retried%s", o->name,
                 nospace ? "disk full" : strerror(err), atomic_load(&o->inflight) + queued,
                 nospace ? "; accepting goes on, events beyond the [limits] queue bounds are shed and counted" : "");
    if (!nospace)
        return;
    pthread_mutex_lock(&disk_full_mu);
    if (!atomic_load(&disk_full_since_us)) {
        atomic_store(&disk_full_since_us, now);
        atomic_fetch_add(&disk_full_episodes, 1);
        hp_error("disk full: events are held in memory until space returns (data_dir %s)", disk_dir);
    }
    pthread_mutex_unlock(&disk_full_mu);
}

static void note_recovered(struct output *o, size_t n)
{
    int64_t since = atomic_exchange(&o->failing_since_us, 0);
    hp_info("output %s: writing again after %.1f s (batch of %zu event(s) written)", o->name,
            (double)(hp_now_us() - since) / 1e6, n);
    pthread_mutex_lock(&disk_full_mu);
    if (atomic_load(&disk_full_since_us) && !any_output_nospace()) {
        hp_info("disk space is back after %.1f s: outputs are writing again",
                (double)(hp_now_us() - atomic_load(&disk_full_since_us)) / 1e6);
        atomic_store(&disk_full_since_us, 0);
    }
    pthread_mutex_unlock(&disk_full_mu);
}

static void pull_kick(void)
{
    pthread_mutex_lock(&pull_mu);
    pull_seq++;
    pthread_cond_broadcast(&pull_cv);
    pthread_mutex_unlock(&pull_mu);
}

/* Write a batch, retrying until it goes through or we are told to stop and
 * the failure persists.  A failing disk therefore fills the queue (the
 * listeners keep accepting, see update_congestion) instead of dropping what
 * was already accepted; outputs undo a failed batch completely (whole JSONL
 * lines, a rolled-back transaction), so the retry writes each event once. */
static void write_batch(struct output *o, struct hp_event **batch, size_t n)
{
    int64_t backoff = 100;
    int attempts = 0;
    atomic_store(&o->inflight, n);
    for (;;) {
        errno = 0;
        if (o->ops->write(o->state, batch, n) == 0)
            break;
        int err = errno;
        atomic_fetch_add(&o->errors, 1);
        /* first failure of a run, or its cause turned into a full disk */
        bool nospace = err == ENOSPC || err == EDQUOT;
        if (!atomic_load(&o->failing_since_us) || (nospace && !atomic_load(&o->failing_nospace)))
            note_failing(o, err);
        attempts++;
        pthread_mutex_lock(&o->mu);
        bool stopping = o->stopping;
        update_congestion(o, hp_mono_ms());
        pthread_mutex_unlock(&o->mu);
        if (stopping && attempts >= 3) {
            hp_error("output %s: giving up on %zu events at shutdown", o->name, n);
            atomic_fetch_add(&o->shed, n);
            goto done;
        }
        struct timespec ts = { backoff / 1000, (backoff % 1000) * 1000000 };
        nanosleep(&ts, NULL);
        if (backoff < 2000)
            backoff *= 2;
    }
    atomic_fetch_add(&o->written, n);
    if (atomic_load(&o->failing_since_us))
        note_recovered(o, n);
    if (npull)
        pull_kick();
done:
    atomic_store(&o->inflight, 0);
    for (size_t i = 0; i < n; i++)
        hp_event_unref(batch[i]);
}

/* Idle or normal priority for a pull output, by how far behind it is. */
static void pull_priority(struct output *o, int64_t lag_ms, bool stopping)
{
    bool idle = !stopping && (o->idle ? lag_ms < PULL_URGENT_MS : lag_ms < PULL_CALM_MS);
    if (idle == o->idle || (!idle && o->prio_stuck))
        return;
    int rc = hp_thread_set_idle(idle);
    if (rc == 0) {
        o->idle = idle;
        if (!idle && !stopping)
            hp_warn("output %s: %lld ms behind: storing at normal priority until it has caught up",
                    o->name, (long long)lag_ms);
        return;
    }
    if (!idle) {
        o->prio_stuck = true;         /* not tried again; at shutdown the CPU is free anyway */
        if (!stopping)
            hp_warn("output %s: %lld ms behind, and cannot leave idle priority (%s): it catches up"
                    " when the CPU is free", o->name, (long long)lag_ms, strerror(rc));
    }
}

/* Tick (flush, retention) and watch the disk. */
static void output_tick(struct output *o)
{
    if (o->ops->tick)
        o->ops->tick(o->state, hp_now_us());
    if (o == &outputs[0])
        check_disk();
}

/*
 * A pull output's thread: woken when a queue output wrote a batch (after
 * batch_delay_ms, to gather more), it pulls until nothing is new.  Failures
 * are retried with a growing pause, as write_batch() does.  At shutdown the
 * queue outputs have stopped first, so the last round takes all they wrote.
 */
static void *puller_main(struct output *o)
{
    uint64_t seen = 0;
    int64_t next_tick = hp_mono_ms() + TICK_MS, backoff = 100;
    int attempts = 0;
    pull_priority(o, 0, false);
    for (;;) {
        pthread_mutex_lock(&pull_mu);
        while (pull_seq == seen && !pull_stopping && hp_mono_ms() < next_tick) {
            struct timespec ts;
            deadline_after_ms(&ts, next_tick - hp_mono_ms());
            pthread_cond_timedwait(&pull_cv, &pull_mu, &ts);
        }
        bool stopping = pull_stopping, kicked = pull_seq != seen;
        seen = pull_seq;
        pthread_mutex_unlock(&pull_mu);
        if (kicked && !stopping && o->ops->batch_delay_ms)
            nanosleep(&(struct timespec){ 0, (long)o->ops->batch_delay_ms * 1000000 }, NULL);
        int rc;
        do {
            int64_t lag = 0;
            errno = 0;
            rc = o->ops->pull(o->state, &lag);
            if (rc < 0)
                break;
            attempts = 0;
            backoff = 100;
            atomic_store(&o->lag_ms, lag);
            if (rc > 0) {
                atomic_fetch_add(&o->written, (uint64_t)rc);
                if (atomic_load(&o->failing_since_us))
                    note_recovered(o, (size_t)rc);
            }
            pull_priority(o, lag, stopping);
            if (hp_mono_ms() >= next_tick) {
                output_tick(o);
                next_tick = hp_mono_ms() + TICK_MS;
            }
        } while (rc > 0);
        if (rc < 0) {
            int err = errno;
            atomic_fetch_add(&o->errors, 1);
            bool nospace = err == ENOSPC || err == EDQUOT;
            if (!atomic_load(&o->failing_since_us) || (nospace && !atomic_load(&o->failing_nospace)))
                note_failing(o, err);
            if (stopping && ++attempts >= 3) {
                hp_error("output %s: giving up at shutdown; what it has not stored is in the files it reads",
                         o->name);
                break;
            }
            nanosleep(&(struct timespec){ backoff / 1000, (backoff % 1000) * 1000000 }, NULL);
            if (backoff < 2000)
                backoff *= 2;
            continue;
        }
        if (hp_mono_ms() >= next_tick || stopping) {
            output_tick(o);
            next_tick = hp_mono_ms() + TICK_MS;
        }
        if (stopping)
            break;
    }
    return NULL;
}

static void *writer_main(void *arg)
{
    struct output *o = arg;
    char tname[sizeof(o->name) + 4];
    snprintf(tname, sizeof(tname), "out-%s", o->name);
    hp_thread_name(tname);
    if (o->pull)
        return puller_main(o);
    struct hp_event **batch = hp_xcalloc(BATCH_MAX, sizeof(*batch));
    int64_t next_tick = hp_mono_ms() + TICK_MS;

    for (;;) {
        pthread_mutex_lock(&o->mu);
        while (o->count == 0 && !o->stopping && hp_mono_ms() < next_tick) {
            struct timespec ts;
            deadline_after_ms(&ts, next_tick - hp_mono_ms());
            o->consumer_asleep = true;
            pthread_cond_timedwait(&o->cv_data, &o->mu, &ts);
            o->consumer_asleep = false;
        }
        if (o->ops->batch_delay_ms && o->count > 0 && o->count < BATCH_MAX && !o->stopping) {
            /* Let a batch gather; the producer never waits on this. */
            pthread_mutex_unlock(&o->mu);
            nanosleep(&(struct timespec){ 0, (long)o->ops->batch_delay_ms * 1000000 }, NULL);
            pthread_mutex_lock(&o->mu);
        }
        size_t n = queue_take(o, batch, BATCH_MAX);
        bool done = o->stopping && o->count == 0;
        update_congestion(o, hp_mono_ms());
        if (o->producer_waiting)
            pthread_cond_signal(&o->cv_space);
        pthread_mutex_unlock(&o->mu);

        if (n)
            write_batch(o, batch, n);
        if (hp_mono_ms() >= next_tick || done) {
            output_tick(o);
            next_tick = hp_mono_ms() + TICK_MS;
        }
        if (done && n == 0)
            break;
    }
    free(batch);
    return NULL;
}

int hp_outputs_start(const struct hp_config *cfg, char *err, size_t errlen)
{
    outputs = hp_xcalloc(cfg->noutputs, sizeof(*outputs));
    snprintf(disk_dir, sizeof(disk_dir), "%s", cfg->data_dir);
    disk_floor = cfg->disk_floor;
    check_disk();
    for (size_t i = 0; i < cfg->noutputs; i++) {
        const struct hp_output_cfg *oc = &cfg->outputs[i];
        if (!oc->enabled)
            continue;
        const struct hp_output_ops *ops = hp_output_find(oc->name);
        struct output *o = &outputs[noutputs];
        memset(o, 0, sizeof(*o));
        o->ops = ops;
        snprintf(o->name, sizeof(o->name), "%s", oc->name);
        if (ops->open(&o->state, cfg, oc, err, errlen) != 0)
            return -1;
        o->pull = ops->pulls && ops->pulls(o->state);
        if (o->pull) {
            npull++;
        } else {
            o->cap = cfg->queue_events;
            o->bytes_cap = cfg->queue_bytes;
            o->ring = hp_xcalloc(o->cap, sizeof(*o->ring));
            o->enq_ms = hp_xcalloc(o->cap, sizeof(*o->enq_ms));
        }
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv_data, NULL);
        pthread_cond_init(&o->cv_space, NULL);
        noutputs++;
    }
    /* Threads start only when every output opened, so a bad output leaves none running. */
    for (size_t i = 0; i < noutputs; i++) {
        if (pthread_create(&outputs[i].thread, NULL, writer_main, &outputs[i]) != 0) {
            snprintf(err, errlen, "cannot start writer thread for output %s", outputs[i].name);
            return -1;
        }
    }
    return 0;
}

void hp_outputs_stop(void)
{
    /* Queue outputs first: a pull output's last round must see all they wrote. */
    for (size_t i = 0; i < noutputs; i++) {
        struct output *o = &outputs[i];
        pthread_mutex_lock(&o->mu);
        o->stopping = true;
        pthread_cond_signal(&o->cv_data);
        pthread_mutex_unlock(&o->mu);
    }
    for (size_t i = 0; i < noutputs; i++)
        if (!outputs[i].pull)
            pthread_join(outputs[i].thread, NULL);
    pthread_mutex_lock(&pull_mu);
    pull_stopping = true;
    pthread_cond_broadcast(&pull_cv);
    pthread_mutex_unlock(&pull_mu);
    for (size_t i = 0; i < noutputs; i++)
        if (outputs[i].pull)
            pthread_join(outputs[i].thread, NULL);
    for (size_t i = 0; i < noutputs; i++) {
        struct output *o = &outputs[i];
        if (o->ops->close)
            o->ops->close(o->state);
        free(o->ring);
        free(o->enq_ms);
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv_data);
        pthread_cond_destroy(&o->cv_space);
    }
    free(outputs);
    outputs = NULL;
    noutputs = 0;
    npull = 0;
    pull_stopping = false;
}

static int publish_one(struct output *o, struct hp_event *e)
{
    pthread_mutex_lock(&o->mu);
    if (queue_full(o, e->json_len) && !o_nospace(o)) {
        /* Stall the producer briefly: overload slows the sensor down.  Not for
         * a full disk: waiting cannot help it, and serving must go on. */
        struct timespec ts;
        deadline_after_ms(&ts, PUBLISH_WAIT_MS);
        o->producer_waiting = true;
        while (queue_full(o, e->json_len)) {
            if (pthread_cond_timedwait(&o->cv_space, &o->mu, &ts) == ETIMEDOUT)
                break;
        }
        o->producer_waiting = false;
    }
    if (queue_full(o, e->json_len)) {
        pthread_mutex_unlock(&o->mu);
        atomic_fetch_add(&o->shed, 1);
        uint64_t n = hp_ratelimit_ok(&o->shed_rl, 10000);
        if (n)
            hp_warn("output %s: queue full, shed %llu event(s) (total shed %llu)", o->name,
                    (unsigned long long)n, (unsigned long long)atomic_load(&o->shed));
        return -1;
    }
    size_t tail = (o->head + o->count) % o->cap;
    int64_t now = hp_mono_ms();
    o->ring[tail] = hp_event_ref(e);
    o->enq_ms[tail] = now;
    o->count++;
    o->bytes += e->json_len;
    update_congestion(o, now);
    if (o->consumer_asleep)
        pthread_cond_signal(&o->cv_data);
    pthread_mutex_unlock(&o->mu);
    return 0;
}

static pthread_rwlock_t tap_lock = PTHREAD_RWLOCK_INITIALIZER;
static hp_output_tap_fn tap_fn;
static void *tap_arg;

void hp_output_set_tap(hp_output_tap_fn fn, void *arg)
{
    /* The write lock waits for any publisher inside the tap, so after
     * set_tap(NULL) returns the old subscriber is never called again. */
    pthread_rwlock_wrlock(&tap_lock);
    tap_fn = fn;
    tap_arg = arg;
    pthread_rwlock_unlock(&tap_lock);
}

int hp_output_publish(struct hp_event *e)
{
    int rc = 0;
    pthread_rwlock_rdlock(&tap_lock);           /* uncontended: a few ns */
    if (tap_fn)
        tap_fn(e, tap_arg);
    pthread_rwlock_unlock(&tap_lock);
    for (size_t i = 0; i < noutputs; i++)
        if (!outputs[i].pull && publish_one(&outputs[i], e) != 0)
            rc = -1;
    hp_event_unref(e);
    return rc;
}

bool hp_output_congested(void)
{
    for (size_t i = 0; i < noutputs; i++)
        if (atomic_load(&outputs[i].congested))
            return true;
    return false;
}

bool hp_output_pressing(void)
{
    return atomic_load_explicit(&pressure.n, memory_order_relaxed) > 0;
}

void hp_outputs_reopen(void)
{
    /* Runs on the network thread; outputs make reopen thread-safe (a flag). */
    for (size_t i = 0; i < noutputs; i++)
        if (outputs[i].ops->reopen)
            outputs[i].ops->reopen(outputs[i].state);
}

size_t hp_outputs_stats(struct hp_output_stats *out, size_t max)
{
    size_t n = 0;
    for (; n < noutputs && n < max; n++) {
        struct output *o = &outputs[n];
        out[n].name = o->name;
        out[n].written = atomic_load(&o->written);
        out[n].shed = atomic_load(&o->shed);
        out[n].errors = atomic_load(&o->errors);
        pthread_mutex_lock(&o->mu);
        out[n].queued = o->count;
        pthread_mutex_unlock(&o->mu);
    }
    return n;
}

void hp_outputs_status_json(struct hp_buf *out)
{
    hp_buf_putc(out, '[');
    for (size_t i = 0; i < noutputs; i++) {
        struct output *o = &outputs[i];
        hp_buf_puts(out, i ? ",{" : "{");
        if (o->ops->status)
            o->ops->status(o->state, out);
        int64_t failing = atomic_load(&o->failing_since_us);
        if (failing)
            hp_buf_printf(out, "\"failing_since_us\":%lld,\"failing_reason\":\"%s\",", (long long)failing,
                          atomic_load(&o->failing_nospace) ? "disk full" : "write error");
        pthread_mutex_lock(&o->mu);
        size_t queued = o->count;
        int64_t oldest = o->pull ? atomic_load(&o->lag_ms) : o->count ? hp_mono_ms() - o->enq_ms[o->head] : 0;
        pthread_mutex_unlock(&o->mu);
        hp_buf_printf(out, "\"name\":\"%s\",\"written\":%llu,\"shed\":%llu,\"errors\":%llu,"
                      "\"queued\":%zu,\"inflight\":%zu,\"oldest_ms\":%lld}", o->name,
                      (unsigned long long)atomic_load(&o->written), (unsigned long long)atomic_load(&o->shed),
                      (unsigned long long)atomic_load(&o->errors), queued, atomic_load(&o->inflight),
                      (long long)oldest);
    }
    hp_buf_putc(out, ']');
}
