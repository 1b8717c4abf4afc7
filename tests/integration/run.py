#!/usr/bin/python3
"""
run.py - hanipo integration tests: a tiny runner over the cases in cases.py.

    HANIPO_BIN=./hanipo /usr/bin/python3 tests/integration/run.py [-v] [-jN] [NAME_SUBSTRING ...]

-jN (N >= 2) runs the cases in N worker processes that take the next case
from one shared queue (a counter in a locked file), the slowest cases first
(SLOW_FIRST) and the rest in their usual order.  Cases start their own
daemons on free ports and their own namespaces, so any two may run side by
side.  Most cases wait on clients and timers, so two workers halve the time,
and taking cases as workers free up keeps both busy to the end (two fixed
groups of modules ended 100 s apart).  make test runs one worker more than
the CPUs (IT_JOBS): with 3 on 2 cores the waits overlap further (323 -> 220 s,
sanitized 397 -> 253 s).

Environment:
    HANIPO_BIN        the binary under test (default: ./hanipo at the top of the tree)
    HANIPO_SANITIZED  1 for an ASan+UBSan build: every timeout is multiplied by 3
    HANIPO_KEEP_TMP   1 keeps each daemon's temporary directory (config, data, stderr)

Each case starts its own daemon(s) on free ports of 127.0.0.1 (or in a
network namespace it creates).  A failing case prints its traceback and the
configuration and stderr of every daemon it started; whatever it left
running is killed.  The last line is

    integration: N passed, M failed, K skipped

and the exit status is non-zero when anything failed.
"""
import importlib
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import cases    # noqa: E402

# More case modules, run after cases.py in this order; a missing file is skipped.  A module may
# append to cases.ALL (from cases import case) or keep its own ALL list: both are collected.
CASE_MODULES = ("cases_telnet", "cases_ssh", "cases_shell", "cases_capture", "cases_http", "cases_fp",
                "cases_knowledge", "cases_geo", "cases_report", "cases_harden", "cases_sandbox",
                "cases_ftp", "cases_fleetops", "cases_smtp", "cases_mysql",
                "cases_pgsql", "cases_mssql", "cases_rdp", "cases_redis", "cases_mongo", "cases_vnc", "cases_ami",
                "cases_dashboard", "cases_ics", "cases_smb", "cases_adb", "cases_udpiot", "cases_memcached",
                "cases_proxy", "cases_sshproxy", "cases_fleet", "cases_trap",
                "cases_clickhouse")


# Started first under -jN, slowest first (seconds in a sanitized run): a long
# case taken last would keep one worker busy after the other has finished.
SLOW_FIRST = ("detect_nmap_services_and_scripts",      # 74
              "clickhouse_outage_kill9_no_loss",       # 48
              "fp_live_clients_match_tshark",          # 31
              "fp_live_ssh_clients_match_tshark",      # 26
              "ssh_client_flooding_input_keeps_sensor_up",  # 26
              "many_short_shell_lines_share_the_loop",  # 17
              "udp_reflection",                        # 15
              "clickhouse_fleet_dashboard",            # 15
              "telnet_hydra_attempts_counted",         # 15
              "adb_nmap", "dashboard_views_in_chromium_xss_inert", "sip_svmap_svwar")


def queue_order(selected):
    """The cases in the order the workers take them: SLOW_FIRST, then the rest as listed."""
    rank = {n: i for i, n in enumerate(SLOW_FIRST)}
    first = sorted((c for c in selected if c[0] in rank), key=lambda c: rank[c[0]])
    return first + [c for c in selected if c[0] not in rank]


def queue_take(path):
    """The index of the next case to run: a counter in path, under an exclusive lock."""
    import fcntl
    with open(path, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        i = int(f.read() or "0")
        f.seek(0)
        f.truncate()
        f.write(str(i + 1))
        f.flush()
        return i


def queue_cases(path, selected):
    """The cases this worker takes from the shared queue, until it is empty."""
    while True:
        i = queue_take(path)
        if i >= len(selected):
            return
        yield selected[i]


def run_parallel(argv, jobs):
    """Run jobs workers over one queue of cases; print their reports in order; sum the counts."""
    import re
    import subprocess
    import tempfile
    args = [a for a in argv if not a.startswith("-j")]
    qfd, qpath = tempfile.mkstemp(prefix="hanipo-it-queue-")
    os.write(qfd, b"0")
    os.close(qfd)
    kids = []
    t0 = time.monotonic()
    for k in range(jobs):
        out = tempfile.TemporaryFile()
        # each worker draws its ports from its own slice (harness.free_port): two workers picking
        # the same free port before either daemon binds it cannot happen
        env = dict(os.environ, HANIPO_IT_WORKER="%d/%d" % (k, jobs))
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--queue=" + qpath] + args,
                             stdout=out, stderr=subprocess.STDOUT, env=env)
        kids.append((p, out))
    totals = [0, 0, 0]
    rc = 0
    try:
        for p, out in kids:
            rc |= p.wait()
    except (KeyboardInterrupt, SystemExit):
        for p, _ in kids:
            p.terminate()
        raise
    finally:
        os.unlink(qpath)
    for k, (p, out) in enumerate(kids, 1):
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        print("---- worker %d of %d ----" % (k, jobs))
        print(text.rstrip())
        m = re.search(r"integration: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", text)
        if not m:
            print("integration: worker %d ended without its summary (exit %d)" % (k, p.returncode))
            rc |= 1
            continue
        for i in range(3):
            totals[i] += int(m.group(i + 1) or 0)
    print("integration: %d workers in %.1fs" % (jobs, time.monotonic() - t0))
    line = "integration: %d passed, %d failed" % (totals[0], totals[1])
    if totals[2]:
        line += ", %d skipped" % totals[2]
    print(line)
    return 1 if rc or totals[1] else 0


def all_cases():
    mods = [cases]
    for m in CASE_MODULES:
        if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), m + ".py")):
            mods.append(importlib.import_module(m))
    out, seen = [], set()
    for mod in mods:                  # after every import: some modules extend cases.ALL
        for name, fn in getattr(mod, "ALL", ()):
            if fn not in seen:
                seen.add(fn)
                out.append((name, fn))
    return out


class Context:
    """Handed to each case: creates daemons and remembers them for the report and the clean-up."""

    def __init__(self, name):
        self.name = name
        self.daemons = []
        self.cleanups = []
        self.notes = []

    def note(self, msg):
        """A line printed under the case's result (what was measured)."""
        self.notes.append(msg)

    def daemon(self, *args, **kw):
        d = harness.Daemon(*args, **kw)
        self.daemons.append(d)
        return d

    def defer(self, fn):
        """Run fn at the end of the case, pass or fail (after daemons are killed)."""
        self.cleanups.append(fn)

    def finish(self):
        for d in self.daemons:
            d.kill()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:
                print("  (clean-up of %s failed: %r)" % (self.name, e))

    def remove_dirs(self):
        for d in self.daemons:
            d.cleanup()


def _terminate(signum, frame):
    # make/CI stopping us: unwind so that daemons are killed and namespaces removed.
    raise SystemExit(128 + signum)


def main(argv):
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    verbose = "-v" in argv
    filters = [a for a in argv if not a.startswith("-")]
    jobs = max([int(a[2:]) for a in argv if a.startswith("-j") and a[2:].isdigit()] or [1])
    queue = next((a[8:] for a in argv if a.startswith("--queue=")), None)
    if jobs >= 2 and not queue:
        return run_parallel(argv, jobs)
    if not os.access(harness.HANIPO_BIN, os.X_OK):
        print("integration: binary %s is missing or not executable (set HANIPO_BIN)" % harness.HANIPO_BIN)
        print("integration: 0 passed, 1 failed")
        return 1
    selected = [(n, f) for n, f in all_cases() if not filters or any(x in n for x in filters)]
    if queue:
        selected = queue_order(selected)
    print("integration: %s%d case(s), binary %s%s" % (
        "a worker over " if queue else "", len(selected), harness.HANIPO_BIN, " (sanitized: timeouts x%g)" % harness.SCALE if harness.SANITIZED else ""))
    passed = failed = skipped = 0
    failures = []
    t_all = time.monotonic()
    for name, fn in (queue_cases(queue, selected) if queue else selected):
        ctx = Context(name)
        t0 = time.monotonic()
        status, detail = "PASS", ""
        try:
            fn(ctx)
        except harness.Skip as e:
            status, detail = "SKIP", str(e)
        except (KeyboardInterrupt, SystemExit):
            ctx.finish()
            ctx.remove_dirs()
            raise
        except BaseException:                        # noqa: B902 - report everything, go on
            status = "FAIL"
            detail = traceback.format_exc()
        finally:
            ctx.finish()
        dt = time.monotonic() - t0
        if status == "PASS":
            passed += 1
            print("PASS %-28s %6.2fs" % (name, dt))
        elif status == "SKIP":
            skipped += 1
            print("SKIP %-28s %6.2fs  %s" % (name, dt, detail))
        else:
            failed += 1
            failures.append(name)
            print("FAIL %-28s %6.2fs" % (name, dt))
            print("  " + detail.rstrip().replace("\n", "\n  "))
            for d in ctx.daemons:
                print("  " + d.describe().rstrip().replace("\n", "\n  "))
        for n in ctx.notes:
            print("     %s" % n)
        if verbose and status == "PASS":
            for d in ctx.daemons:
                print("  " + d.describe().rstrip().replace("\n", "\n  "))
        if status != "FAIL" or not harness.KEEP:
            ctx.remove_dirs()
        sys.stdout.flush()
    print("integration: total %.1fs%s" % (time.monotonic() - t_all,
                                          "; failed: " + ", ".join(failures) if failures else ""))
    line = "integration: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
