#!/usr/bin/python3
"""
corpus-report.py - the two figures of issue 4, measured on the attacker-session corpus.

    tools/corpus-report.py [--bin ./hanipo] [--parallel 8] [--only SUBSTR ...] [--json FILE]

Starts one sensor with the four shell services (ssh+debian, ssh+busybox,
telnet+busybox, telnet+linux), types every session of tests/corpus/ into the
service(s) of its personality exactly as tests/integration/cases_shell.py
does (the replay and the checks are that module's, so the report and the
test can never disagree), stops the sensor and prints, per personality and
overall:

  - the share of corpus sessions that reach their final step (every line
    recorded, the prompt back after each, no "not found" for a command the
    real box has, every URL requested, the final marker printed);
  - the share of commands answered "not found" among the commands a real box
    of that personality has (tests/corpus/present.txt), counted over the
    simple commands the shell ran (the argv of command.input events);

then every failure (session, way in, line, expected, got).  Exit status 0
whatever the figures (it is a report); 1 if the sensor could not be run;
--strict makes any failure exit 1.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip())
    ap.add_argument("--bin", help="the hanipo binary (default: $HANIPO_BIN or ./hanipo)")
    ap.add_argument("--parallel", type=int, default=8, help="sessions replayed at once (default 8)")
    ap.add_argument("--only", nargs="*", default=[], help="replay only sessions whose id contains one of these")
    ap.add_argument("--json", help="also write the figures and failures to this file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when any session fails")
    args = ap.parse_args(argv)
    if args.bin or os.environ.get("HANIPO_BIN"):       # the daemon runs in its own directory
        os.environ["HANIPO_BIN"] = os.path.abspath(args.bin or os.environ["HANIPO_BIN"])

    import harness                    # noqa: E402  (reads HANIPO_BIN at import)
    import cases_shell                # noqa: E402
    if not os.access(harness.HANIPO_BIN, os.X_OK):
        print("corpus-report: %s is missing or not executable (--bin)" % harness.HANIPO_BIN)
        return 1
    sessions = cases_shell.load_corpus()
    if args.only:
        sessions = [s for s in sessions if any(x in s.id for x in args.only)]
    made = []

    def factory(label, services):
        d = harness.Daemon(label, services)
        made.append(d)
        return d
    try:
        sensor, verdicts = cases_shell.run_corpus(factory, sessions, args.parallel)
    except Exception as e:                                       # noqa: B902 - report and stop
        print("corpus-report: the sensor could not be run: %s" % e)
        for d in made:
            print(d.describe())
        return 1
    finally:
        for d in made:
            d.cleanup()

    print("corpus: %d sessions, %d replays, binary %s" % (len(sessions), len(verdicts), harness.HANIPO_BIN))
    for n in sensor.notes:
        print("note: %s" % n)
    if sensor.crash:
        print("DAEMON: %s" % sensor.crash)
    for line in cases_shell.summary(verdicts):
        print(line)
    failed = [v for v in verdicts if not v.reached]
    if failed:
        print("\nfailures (%d replays):" % len(failed))
        for v in failed:
            for f in v.failures:
                print("  " + f)
    nf = {}
    for v in verdicts:
        for name in v.present_failed:
            key = (v.rep.sess.personality, name)
            nf[key] = nf.get(key, 0) + 1
    if nf:
        print("\n\"not found\" for commands the real box has (personality, command: times):")
        for (pers, name), n in sorted(nf.items(), key=lambda kv: (-kv[1], kv[0])):
            print("  %-8s %-12s %d" % (pers, name, n))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({
                "summary": cases_shell.summary(verdicts),
                "replays": [{"session": v.rep.sess.id, "via": v.rep.proto,
                             "personality": v.rep.sess.personality, "reached": v.reached,
                             "present_run": v.present_run, "present_failed": v.present_failed,
                             "failures": v.failures} for v in verdicts],
            }, f, indent=1)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
