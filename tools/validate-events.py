#!/usr/bin/python3
"""Validate hanipo event files (JSON lines) against docs/events.schema.json.

usage: tools/validate-events.py [-q] [--schema FILE] [--builtin] [--max-errors N] FILE...

Every line of every FILE ('-' is standard input) must be one event that
passes the JSON Schema, plus checks a schema cannot express:

  - the file is UTF-8 and ends with a newline (no partial last line); no empty
    lines; an event is at most 1 MiB; no duplicate keys; no NaN/Infinity;
    U+2028/U+2029 and DEL never appear unescaped
  - the timestamp is a real date and time; in events-YYYY-MM-DD.jsonl it falls
    on that UTC day
  - uid is unique across all the files given
  - every "<key>_b64" has its "<key>" beside it, and that text is exactly the
    decoded bytes with each invalid UTF-8 byte shown as U+FFFD
  - in a complete trap.payload, "length" is the number of payload bytes

The schema is checked with python3-jsonschema when it is installed (Debian:
apt-get install python3-jsonschema) unless --builtin is given, otherwise with
a small built-in evaluator that knows the keywords the schema uses.

Prints each invalid line as FILE:LINE: problem, then "N events valid, M invalid".
Exit status: 0 all valid, 1 some invalid, 2 usage error or unreadable file/schema.
Standard library only.
"""

import argparse
import base64
import binascii
import codecs
import datetime
import json
import os
import re
import sys

EVENT_MAX = 1024 * 1024          # HP_EVENT_MAX in src/core/event.h
DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "docs",
                              "events.schema.json")
DAY_FILE = re.compile(r"-(\d{4}-\d\d-\d\d)\.jsonl$")


class SchemaError(Exception):
    pass


# ---- a small JSON Schema (draft 2020-12) evaluator -----------------------------

ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description", "examples",
               "default", "format", "deprecated", "readOnly", "writeOnly"}
ASSERTIONS = {"type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
              "exclusiveMinimum", "exclusiveMaximum", "required", "properties",
              "patternProperties", "additionalProperties", "dependentRequired", "items",
              "minItems", "maxItems", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
              "$ref"}


def json_type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise SchemaError("unknown type %r" % t)


def json_equal(a, b):
    """Equality as JSON sees it: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class Builtin:
    """Evaluates the subset of draft 2020-12 that docs/events.schema.json uses.

    Unknown keywords are refused when the schema is loaded, so the schema cannot
    silently grow a rule this evaluator ignores."""

    def __init__(self, schema):
        self.root = schema
        self.regex = {}
        self._check(schema, "#")

    def _check(self, s, where):
        if isinstance(s, bool):
            return
        if not isinstance(s, dict):
            raise SchemaError("%s: a schema must be an object or a boolean" % where)
        for k, v in s.items():
            if k not in ANNOTATIONS and k not in ASSERTIONS:
                raise SchemaError("%s: keyword %r is not supported by the built-in checker" % (where, k))
            if k in ("properties", "patternProperties", "$defs"):
                for name, sub in v.items():
                    self._check(sub, "%s/%s/%s" % (where, k, name))
            elif k in ("allOf", "anyOf", "oneOf"):
                for i, sub in enumerate(v):
                    self._check(sub, "%s/%s/%d" % (where, k, i))
            elif k in ("not", "if", "then", "else", "items", "additionalProperties"):
                self._check(v, "%s/%s" % (where, k))
            elif k == "pattern":
                self._re(v)
            elif k == "$ref":
                self._resolve(v)
        for name in s.get("patternProperties", {}):
            self._re(name)

    def _re(self, pattern):
        r = self.regex.get(pattern)
        if r is None:
            try:
                r = self.regex[pattern] = re.compile(pattern, re.ASCII)
            except re.error as e:
                raise SchemaError("bad pattern %r: %s" % (pattern, e))
        return r

    def _resolve(self, ref):
        if not ref.startswith("#"):
            raise SchemaError("only local $ref is supported: %r" % ref)
        node = self.root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SchemaError("unresolvable $ref %r" % ref)
            node = node[part]
        return node

    def errors(self, value, schema=None, path="$"):
        """Yield messages, empty when value is valid."""
        if schema is None:
            schema = self.root
        if schema is True:
            return
        if schema is False:
            yield "%s: not allowed" % path
            return
        s = schema
        if "$ref" in s:
            yield from self.errors(value, self._resolve(s["$ref"]), path)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(json_type_ok(value, t) for t in types):
                yield "%s: expected %s, got %s" % (path, " or ".join(types), short(value))
                return
        if "const" in s and not json_equal(value, s["const"]):
            yield "%s: must be %s, got %s" % (path, json.dumps(s["const"]), short(value))
        if "enum" in s and not any(json_equal(value, e) for e in s["enum"]):
            yield "%s: must be one of %s, got %s" % (path, json.dumps(s["enum"]), short(value))
        if isinstance(value, str):
            if "pattern" in s and not self._re(s["pattern"]).search(value):
                yield "%s: %s does not match %s" % (path, short(value), s["pattern"])
            if "minLength" in s and len(value) < s["minLength"]:
                yield "%s: shorter than %d characters" % (path, s["minLength"])
            if "maxLength" in s and len(value) > s["maxLength"]:
                yield "%s: longer than %d characters" % (path, s["maxLength"])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in s and value < s["minimum"]:
                yield "%s: %s is below %s" % (path, value, s["minimum"])
            if "maximum" in s and value > s["maximum"]:
                yield "%s: %s is above %s" % (path, value, s["maximum"])
            if "exclusiveMinimum" in s and value <= s["exclusiveMinimum"]:
                yield "%s: %s is not above %s" % (path, value, s["exclusiveMinimum"])
            if "exclusiveMaximum" in s and value >= s["exclusiveMaximum"]:
                yield "%s: %s is not below %s" % (path, value, s["exclusiveMaximum"])
        if isinstance(value, dict):
            for k in s.get("required", []):
                if k not in value:
                    yield "%s: missing required field %r" % (path, k)
            for k, needs in s.get("dependentRequired", {}).items():
                if k in value:
                    for n in needs:
                        if n not in value:
                            yield "%s: field %r requires %r" % (path, k, n)
            props = s.get("properties", {})
            pprops = s.get("patternProperties", {})
            for k, v in value.items():
                matched = False
                if k in props:
                    matched = True
                    yield from self.errors(v, props[k], "%s.%s" % (path, k))
                for pat, sub in pprops.items():
                    if self._re(pat).search(k):
                        matched = True
                        yield from self.errors(v, sub, "%s.%s" % (path, k))
                if not matched and "additionalProperties" in s:
                    yield from self.errors(v, s["additionalProperties"], "%s.%s" % (path, k))
        if isinstance(value, list):
            if "minItems" in s and len(value) < s["minItems"]:
                yield "%s: fewer than %d items" % (path, s["minItems"])
            if "maxItems" in s and len(value) > s["maxItems"]:
                yield "%s: more than %d items" % (path, s["maxItems"])
            if "items" in s:
                for i, v in enumerate(value):
                    yield from self.errors(v, s["items"], "%s[%d]" % (path, i))
        for sub in s.get("allOf", []):
            yield from self.errors(value, sub, path)
        if "anyOf" in s and not any(self.valid(value, sub) for sub in s["anyOf"]):
            yield "%s: matches none of the alternatives (anyOf)" % path
        if "oneOf" in s:
            n = sum(1 for sub in s["oneOf"] if self.valid(value, sub))
            if n != 1:
                yield "%s: matches %d of the alternatives, not exactly one (oneOf: %s)" % (
                    path, n, " | ".join(json.dumps(x.get("required", x)) for x in s["oneOf"]))
        if "not" in s and self.valid(value, s["not"]):
            yield "%s: must not match %s" % (path, json.dumps(s["not"]))
        if "if" in s:
            branch = "then" if self.valid(value, s["if"]) else "else"
            if branch in s:
                yield from self.errors(value, s[branch], path)

    def valid(self, value, schema):
        return next(self.errors(value, schema), None) is None


class External:
    """python3-jsonschema, when installed."""

    def __init__(self, schema, jsonschema):
        cls = jsonschema.Draft202012Validator
        try:
            cls.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            raise SchemaError(e.message)
        self.v = cls(schema)

    def errors(self, value):
        for e in sorted(self.v.iter_errors(value), key=lambda e: list(e.path)):
            where = "$" + "".join(".%s" % p if isinstance(p, str) else "[%d]" % p for p in e.path)
            if e.validator in ("not", "oneOf", "anyOf"):
                # jsonschema's message repeats the whole event; name the rule instead.
                yield "%s: fails %s %s" % (where, e.validator, short(e.validator_value, 120))
            else:
                yield "%s: %s" % (where, e.message if len(e.message) <= 200 else e.message[:197] + "...")


# ---- checks beyond the schema -----------------------------------------------------

def _per_byte_fffd(err):
    # hanipo writes one U+FFFD per byte that does not start a valid sequence;
    # Python reports maximal invalid runs, whose bytes are each such a byte.
    return "\ufffd" * (err.end - err.start), err.end


codecs.register_error("hanipo-fffd", _per_byte_fffd)


def as_text(raw):
    """The text hanipo writes for these bytes (before JSON escaping)."""
    return raw.decode("utf-8", "hanipo-fffd")


def short(v, n=60):
    s = json.dumps(v, ensure_ascii=True)
    return s if len(s) <= n else s[:n - 3] + "..."


def no_dup_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key %r" % k)
        d[k] = v
    return d


def bad_constant(name):
    raise ValueError("%s is not JSON" % name)


def semantic_errors(ev, file_day):
    ts = ev.get("timestamp")
    if isinstance(ts, str) and len(ts) == 27:
        try:
            datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            yield "$.timestamp: %s is not a real date and time" % short(ts)
        else:
            if file_day and ts[:10] != file_day:
                yield "$.timestamp: %s is not in the file's day %s" % (ts, file_day)
    for k, v in ev.items():
        if not k.endswith("_b64") or not isinstance(v, str):
            continue
        base = k[:-4]
        if base not in ev:
            yield "$.%s: present without %r" % (k, base)
            continue
        try:
            raw = base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            continue                    # the schema reports it
        if not isinstance(ev[base], str):
            yield "$.%s: %r is not a string" % (k, base)
        elif ev[base] != as_text(raw):
            yield "$.%s: %r is not the text of these bytes" % (k, base)
    if ev.get("eventid") == "trap.payload" and not ev.get("truncated") and \
            isinstance(ev.get("payload"), str) and isinstance(ev.get("length"), int):
        b64 = ev.get("payload_b64")
        try:
            raw = base64.b64decode(b64, validate=True) if isinstance(b64, str) else \
                ev["payload"].encode("utf-8", "surrogatepass")
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None and len(raw) != ev["length"]:
            yield "$.length: %d, but the payload has %d bytes" % (ev["length"], len(raw))


# ---- driver -----------------------------------------------------------------------

class Checker:
    def __init__(self, validator, quiet, max_errors):
        self.validator = validator
        self.quiet = quiet
        self.max_errors = max_errors
        self.valid = 0
        self.invalid = 0
        self.printed = 0
        self.uids = {}

    def report(self, where, problems):
        self.invalid += 1
        if self.quiet:
            return
        if self.max_errors and self.printed >= self.max_errors:
            if self.printed == self.max_errors:
                print("... (more invalid lines not shown; see --max-errors)", file=sys.stderr)
                self.printed += 1
            return
        self.printed += 1
        print("%s: %s" % (where, "; ".join(problems[:5]) +
                          (" (+%d more)" % (len(problems) - 5) if len(problems) > 5 else "")),
              file=sys.stderr)

    def line(self, name, lineno, raw, file_day):
        where = "%s:%d" % (name, lineno)
        problems = []
        if not raw.endswith(b"\n"):
            problems.append("last line is incomplete (no newline)")
        body = raw[:-1] if raw.endswith(b"\n") else raw
        if not body.strip():
            self.report(where, problems + ["empty line"])
            return
        if len(body) > EVENT_MAX:
            problems.append("event is %d bytes, more than 1 MiB" % len(body))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            self.report(where, problems + ["not UTF-8 (byte %d)" % e.start])
            return
        for ch, name_ in (("\u2028", "U+2028"), ("\u2029", "U+2029"), ("\x7f", "DEL")):
            if ch in text:
                problems.append("unescaped %s" % name_)
        try:
            ev = json.loads(text, object_pairs_hook=no_dup_pairs, parse_constant=bad_constant)
        except ValueError as e:
            self.report(where, problems + ["not JSON: %s" % e])
            return
        if not isinstance(ev, dict):
            self.report(where, problems + ["not a JSON object"])
            return
        problems += list(self.validator.errors(ev))
        problems += list(semantic_errors(ev, file_day))
        uid = ev.get("uid")
        if isinstance(uid, str):
            if uid in self.uids:
                problems.append("uid %s already seen at %s" % (uid, self.uids[uid]))
            else:
                self.uids[uid] = where
        if problems:
            self.report(where, problems)
        else:
            self.valid += 1

    def file(self, name, f):
        m = DAY_FILE.search(name)
        file_day = m.group(1) if m else None
        for lineno, raw in enumerate(f, 1):
            self.line(name, lineno, raw, file_day)


def load_validator(path, builtin_only):
    try:
        with open(path, "rb") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        raise SchemaError("%s: %s" % (path, e))
    if not builtin_only:
        try:
            import jsonschema
        except ImportError:
            jsonschema = None
        if jsonschema is not None and hasattr(jsonschema, "Draft202012Validator"):
            try:
                from importlib.metadata import version
                how = "jsonschema %s" % version("jsonschema")
            except Exception:
                how = "jsonschema"
            return External(schema, jsonschema), how
    return Builtin(schema), "built-in checker"


def main(argv):
    p = argparse.ArgumentParser(
        description="Validate hanipo JSON-lines event files against docs/events.schema.json.",
        epilog="Exit status: 0 all valid, 1 some invalid, 2 usage error or unreadable input.")
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON-lines file ('-' for standard input)")
    p.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema file (default: %(default)s)")
    p.add_argument("--builtin", action="store_true",
                   help="use the built-in checker even when python3-jsonschema is installed")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.add_argument("--max-errors", type=int, default=50, metavar="N",
                   help="show at most N invalid lines, 0 for all (default: %(default)s)")
    a = p.parse_args(argv)

    try:
        validator, how = load_validator(os.path.normpath(a.schema), a.builtin)
    except SchemaError as e:
        print("validate-events: schema: %s" % e, file=sys.stderr)
        return 2
    c = Checker(validator, a.quiet, a.max_errors)
    for name in a.files:
        try:
            if name == "-":
                c.file("<stdin>", sys.stdin.buffer)
            else:
                with open(name, "rb") as f:
                    c.file(name, f)
        except OSError as e:
            print("validate-events: %s: %s" % (name, e.strerror or e), file=sys.stderr)
            return 2
    if not a.quiet:
        print("(%s)" % how, file=sys.stderr)
    print("%d events valid, %d invalid" % (c.valid, c.invalid))
    return 1 if c.invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
