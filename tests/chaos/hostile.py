"""Hostile input: a corpus of bad requests over every route of the API.

The corpus is built at run time from the committed OpenAPI document, so a new route
is covered as soon as it is documented: for each operation, with the ids of a real
fixture in its path, bad path parameters (not UUIDs, overlong, NUL, invalid UTF-8,
path tricks, a 10,000-character segment, an unknown UUID), bad values of every
query parameter it declares (and unknown ones, forged cursors, repeated ones), bad
header values (Idempotency-Key, If-Match, If-None-Match) and Authorization abuse,
and, where it takes a body, malformed and deeply nested JSON, wrong types for every
property of its schema, NUL characters, strings at and one past maxLength, unknown
fields, wrong content types and a body past the 2 MiB limit. The two importers get
garbage of their own (CSV tracking sheets, plan outlines), the HTTP parser gets
malformed requests on raw sockets, and 70 slow clients hold connections open.

It proves that every answer of the application to a bad request is a 4xx problem
document (RFC 9457: type, title, status, detail, and `errors` naming the field when
one is at fault), that nothing answers 5xx or hangs past the request timeout, that
requests the HTTP parser refuses get the bare 4xx expected of it and a closed connection,
that slow clients do not slow down the others, and that the service stays healthy
after each group of cases. Values the schema allows (a string exactly at its
maxLength, say) may be accepted.
"""

import base64
import concurrent.futures
import datetime
import http.client
import json
import random
import re
import select
import socket
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass

from harness import (
    CLIENT_MARGIN, REPO, REQUEST_TIMEOUT, Client, Failure, Reply, Service, check, count,
    import_plan, make_token, plan_document)

DEADLINE = REQUEST_TIMEOUT + CLIENT_MARGIN
BODY_LIMIT = 2 * 1024 * 1024
THREADS = 4
SLOW_LORIS = 50
SLOW_BODIES = 20
SLOW_STEP = 0.2        # seconds between two bytes of a slow client
SLOW_HOLD = 15         # the longest a slow connection is kept open, in seconds
NORMAL_GETS = 50
# The statuses with which actix's HTTP parser refuses a request before the
# application sees it: a bare answer, no body, the connection closed. A case is let
# off with one only where its bytes are what the parser refuses (see
# parser_refusal); everywhere else a bare answer is an application without its
# problem document, and fails.
PARSER_STATUSES = {400, 408, 413, 414, 431}
# Slow clients must not slow the others: the normal GETs' median while they are held
# stays within twice the median before plus this, and their slowest within the
# slowest before plus SLOW_MAX_MARGIN (seconds). Both far below the hang deadline, so
# that a server whose connections the slow clients use up (each normal GET then waits
# for one of them to time out) fails.
SLOW_MEDIAN_MARGIN = 0.02
SLOW_MAX_MARGIN = 0.5
UNKNOWN_FIELD = "hostile_unknown_field"


@dataclass
class Case:
    group: str
    operation: str          # "GET /api/v1/plans/{plan_id}", as the document names it
    name: str
    method: str
    path: str               # as sent: percent-encoded
    headers: list           # [(name, value)], repeats allowed
    body: bytes = None
    # "4xx": any 4xx problem; "404", "413": exactly that; "tolerated": the value is
    # allowed by the schema, so anything but a 5xx or a hang (a 4xx still a problem).
    expect: str = "4xx"
    field: str = None       # the field, parameter or header `errors` must name
    reply: Reply = None
    at_limit: bool = False  # a string exactly at its maxLength: may be accepted
    offence: str = None     # what is wrong with the answer, if anything
    refused_by_parser: bool = False


class Raw:
    """A JSON number written as is (1e400 has no Python value)."""

    def __init__(self, text, value):
        self.text, self.value = text, value

    def __repr__(self):
        return self.text


def run(cluster):
    cluster.reset()
    service = Service(cluster, name="hostile").start()
    started = time.monotonic()
    try:
        token = make_token(service)
        document = json.loads((REPO / "openapi" / "openapi.json").read_text())
        spec = Spec(document)
        fixture = Fixture(service, token)
        groups = {
            "path parameters": path_cases(spec, fixture),
            "query parameters": query_cases(spec, fixture),
            "headers": header_cases(spec, fixture),
            "authorization": authorization_cases(spec, fixture),
            "bodies": body_cases(spec, fixture),
            "importers": importer_cases(spec, fixture),
        }
        covered = {case.operation for cases in groups.values() for case in cases}
        missing = sorted(set(spec.operations) - covered)
        check(not missing, f"no case for the operations {missing}")

        all_cases, figures_by_group = [], {}
        for name, cases in groups.items():
            group_started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(lambda case: send_case(service, case), cases))
            for case in cases:
                judge(case)
            healthy(service, fixture, name)
            figures_by_group[name] = {
                "cases": len(cases),
                "answers": count(c.reply.status for c in cases),
                "seconds": round(time.monotonic() - group_started, 1),
            }
            all_cases += cases

        protocol = protocol_cases(service, fixture)
        healthy(service, fixture, "protocol abuse")
        slow = slow_clients(service, fixture)
        healthy(service, fixture, "slow clients")

        offenders = [case for case in all_cases if case.offence]
        raw_offenders = [r for r in protocol if r["offence"]]
        slow_failures = slow.pop("failures")
        answered = [c for c in all_cases if isinstance(c.reply.status, int)]
        slowest = max(all_cases, key=lambda c: c.reply.seconds)
        at_limit = [c for c in all_cases if c.at_limit]
        tolerated = [c for c in all_cases if c.expect == "tolerated"]
        not_problem = [c for c in all_cases if c.refused_by_parser]
        figures = {
            "operations in the document": len(spec.operations),
            "operations covered": len(covered),
            "cases sent": len(all_cases) + len(protocol) + SLOW_LORIS + SLOW_BODIES,
            "application cases by group": figures_by_group,
            "answers by status": count(c.reply.status for c in all_cases),
            "answers that were not problem+json, by cause": {
                "refused by the HTTP parser": count(
                    f"{c.reply.status} to {c.name.split(': ')[-1]}" for c in not_problem),
                "refused by the HTTP parser on raw sockets": count(
                    f"{r['status']} to {r['case']}" for r in protocol if r["refused_by_parser"]),
                "from the application": count(
                    c.offence for c in offenders if c.offence.startswith(("not problem", "problem"))),
            },
            "wrong answers, by cause": count(cause_of(c.offence) for c in offenders),
            "values the schema allows (any non-5xx accepted), by status": count(
                c.reply.status for c in tolerated),
            "strings at maxLength, by status": count(c.reply.status for c in at_limit),
            "strings at maxLength refused": sorted({
                f"{c.operation} {c.name.split(':')[0]}: {c.reply.status}" for c in at_limit
                if not c.reply.ok}),
            "5xx answers": sum(1 for c in answered if c.reply.status >= 500),
            "hangs": sum(1 for c in all_cases if c.reply.status == "hang"),
            "slowest answer": {"seconds": round(slowest.reply.seconds, 3),
                               "case": f"{slowest.operation} [{slowest.name}]",
                               "status": slowest.reply.status},
            "protocol abuse on raw sockets": {r["case"]: r["outcome"] for r in protocol},
            "slow clients": slow,
            "wall time (s)": round(time.monotonic() - started, 1),
        }
        if offenders or raw_offenders or slow_failures:
            raise Failure(describe_failures(offenders, raw_offenders, slow_failures, len(all_cases))
                          + "\nfigures: " + json.dumps(figures, indent=1))
        return figures
    finally:
        service.stop()


# --- The document ---------------------------------------------------------------

class Spec:
    """The operations of the OpenAPI document and a reader of its schemas."""

    def __init__(self, document):
        self.document = document
        self.operations = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method in ("get", "put", "post", "patch", "delete"):
                    parameters = [self.resolve(p) for p in
                                  item.get("parameters", []) + operation.get("parameters", [])]
                    self.operations[f"{method.upper()} {path}"] = {
                        "method": method.upper(), "path": path, "operation": operation,
                        "parameters": parameters,
                    }

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            target = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def params(self, op, where):
        return [p for p in op["parameters"] if p["in"] == where]

    def body_content(self, op):
        body = op["operation"].get("requestBody")
        return body["content"] if body else {}

    def anonymous(self, op):
        """Whether the operation may be called without a token at all."""
        security = op["operation"].get("security", self.document.get("security", []))
        return not security or {} in security

    def only_anonymous(self, op):
        security = op["operation"].get("security", self.document.get("security", []))
        return all(not requirement for requirement in security)

    def violates(self, schema, value):
        """Whether a JSON value breaks `schema` (the subset of JSON Schema the document
        uses: type, enum, formats, lengths, pattern, bounds, items)."""
        schema = self.resolve(schema)
        if "allOf" in schema:
            return any(self.violates(part, value) for part in schema["allOf"])
        types = schema.get("type")
        if types is None and "enum" not in schema:
            return False
        types = [types] if isinstance(types, str) else list(types or [])
        if "enum" in schema:
            if isinstance(value, Raw) or value not in schema["enum"] or isinstance(value, bool):
                return not (value is None and "null" in types)
            return False
        if value is None:
            return "null" not in types
        if isinstance(value, bool):
            return "boolean" not in types
        if isinstance(value, (int, float, Raw)):
            number = value.value if isinstance(value, Raw) else value
            if "number" in types:
                pass
            elif "integer" in types:
                if isinstance(value, Raw) or not float(number).is_integer():
                    return True
            else:
                return True
            return (("maximum" in schema and number > schema["maximum"])
                    or ("minimum" in schema and number < schema["minimum"]))
        if isinstance(value, str):
            if "string" not in types:
                return True
            return self.string_violates(schema, value)
        if isinstance(value, list):
            if "array" not in types:
                return True
            if len(value) > schema.get("maxItems", len(value)) or len(value) < schema.get("minItems", 0):
                return True
            return any(self.violates(schema.get("items", {}), item) for item in value)
        if isinstance(value, dict):
            return "object" not in types
        return True

    def string_violates(self, schema, text):
        if len(text) > schema.get("maxLength", len(text)) or len(text) < schema.get("minLength", 0):
            return True
        if "pattern" in schema and not re.search(schema["pattern"], text):
            return True
        kind = schema.get("format")
        if kind == "uuid":
            return not re.fullmatch(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", text)
        if kind == "date":
            try:
                return not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) or not datetime.date.fromisoformat(text)
            except ValueError:
                return True
        if kind == "date-time":
            try:
                return not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", text) \
                    or not datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return True
        return False

    def query_violates(self, schema, text):
        """Whether the decoded text of a query parameter breaks its schema."""
        schema = self.resolve(schema)
        if "enum" in schema:
            return text not in schema["enum"]
        types = schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if "integer" in types:
            if not re.fullmatch(r"-?\d+", text):
                return True
            return self.violates({k: v for k, v in schema.items() if k != "format"}, int(text))
        if "number" in types:
            try:
                return self.violates(schema, float(text))
            except ValueError:
                return True
        if "boolean" in types:
            return text not in ("true", "false")
        return self.string_violates(schema, text)


# --- The fixture ---------------------------------------------------------------

class Fixture:
    """A plan with an area, a goal, a status update and a measure, a token; and a
    second such set, the victim, for the DELETE operations (a case that wrongly
    succeeds deletes only the victim)."""

    def __init__(self, service, token):
        self.service, self.token = service, token
        client = Client(service, token)
        self.ids = self.make(client, "Hostile input fixture", "hostile fixture")
        self.victim = self.make(client, "Hostile input victim", "hostile victim")
        self.plan_path = f"/api/v1/plans/{self.ids['plan_id']}"
        client.close()

    @staticmethod
    def make(client, title, token_name):
        plan_id = import_plan(client, plan_document(title, areas=2, goals=2, sub_goals=1))

        def first(path):
            reply = client.request("GET", path)
            check(reply.status == 200, f"GET {path} answered {reply.status}: {reply.body[:200]!r}")
            return reply.json()["items"][0]["id"]

        area_id = first(f"/api/v1/plans/{plan_id}/areas")
        goal_id = first(f"/api/v1/areas/{area_id}/goals?top_level=true")
        update_id = first(f"/api/v1/goals/{goal_id}/status-updates")
        reply = client.request("POST", f"/api/v1/goals/{goal_id}/measures",
                               {"name": "Webinars", "target": 6, "unit": "webinars", "period": "per_year"})
        check(reply.status == 201, f"creating a measure answered {reply.status}: {reply.body[:200]!r}")
        measure_id = reply.json()["id"]
        reply = client.request("POST", "/api/v1/tokens", {"name": token_name, "scopes": ["read"]})
        check(reply.status == 201, f"creating a token answered {reply.status}: {reply.body[:200]!r}")
        return {"plan_id": plan_id, "area_id": area_id, "goal_id": goal_id, "update_id": update_id,
                "measure_id": measure_id, "token_id": reply.json()["id"]}

    def id_for(self, name, victim=False):
        """The id for a path parameter or an id field: `predecessor_plan_id` is a plan."""
        ids = self.victim if victim else self.ids
        for key, value in ids.items():
            if name == key or name.endswith("_" + key) or name.endswith(key):
                return value
        return None

    def path(self, op, victim=False, override=None):
        """The operation's path with fixture ids, one parameter replaced by `override`
        = (name, raw text)."""
        def substitute(match):
            name = match.group(1)
            if override and override[0] == name:
                return override[1]
            value = self.id_for(name, victim)
            if value is None:
                raise Failure(f"the fixture has no id for the path parameter {name} of {op['path']}")
            return value
        return re.sub(r"\{([^}]+)\}", substitute, op["path"])


def auth(fixture):
    return [("Authorization", f"Bearer {fixture.token}")]


unique = iter(range(1, 10**9))


def valid_body(spec, op, fixture):
    """A body the operation accepts (a schema example, made unique where names must
    be), as a Python value; None if it takes none."""
    content = spec.body_content(op)
    if "application/json" not in content:
        return None
    schema = spec.resolve(content["application/json"]["schema"])
    if op["method"] == "PATCH":
        return {}
    if schema.get("type") == "array":
        row = dict(spec.resolve(schema["items"]).get("example", {}))
        for key in list(row):
            if key.endswith("_id"):
                row[key] = fixture.id_for(key) or row[key]
        row.pop("measures", None)
        return [row]
    body = dict(schema.get("example", {}))
    for key in ("name", "title"):
        if key in body:
            body[key] = f"{body[key]} {next(unique)}"
    for key in list(body):
        if key.endswith("_id") and fixture.id_for(key):
            body[key] = fixture.id_for(key)
    return body


def encode(value):
    """JSON text of a value that may hold Raw numbers."""
    raws = {}

    def swap(item):
        if isinstance(item, Raw):
            marker = f"@@raw{len(raws)}@@"
            raws[marker] = item.text
            return marker
        if isinstance(item, dict):
            return {k: swap(v) for k, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        return item
    text = json.dumps(swap(value))
    for marker, raw in raws.items():
        text = text.replace(json.dumps(marker), raw)
    return text.encode()


def json_headers(fixture, content_type="application/json"):
    return auth(fixture) + [("Content-Type", content_type)]


def case_for(spec, fixture, op, group, name, *, path=None, query="", headers=None, body=None,
             body_value=None, expect="4xx", field=None, at_limit=False):
    """A case on `op`, by default with the fixture's ids (the victim's for a DELETE),
    a valid token and, if it takes one, a valid body."""
    victim = op["method"] == "DELETE"
    if path is None:
        path = fixture.path(op, victim)
    if query:
        path += "?" + query
    if headers is None:
        headers = auth(fixture)
    if body is None:
        if body_value is None:
            body_value = valid_body(spec, op, fixture)
        if body_value is not None:
            body = encode(body_value)
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers = headers + [("Content-Type", "application/json")]
    # A DELETE the schema allows would delete the victim, and the cases after it
    # would meet a 404 before the check they are about: a condition that matches
    # nothing keeps it (412, or the 4xx of the check that comes first).
    if victim and expect == "tolerated" and not any(k.lower() == "if-match" for k, _ in headers):
        headers = headers + [("If-Match", '"' + "0" * 32 + '"')]
    return Case(group, f"{op['method']} {op['path']}", name, op["method"], path, headers, body,
                expect, field, at_limit=at_limit)


# --- The corpus ------------------------------------------------------------------

def path_cases(spec, fixture):
    bad = [
        ("not a UUID", "not-a-uuid"),
        ("a number", "123"),
        ("an overlong UUID", str(uuid.uuid4()) + "0"),
        ("a UUID with NUL", str(uuid.uuid4())[:18] + "%00" + str(uuid.uuid4())[19:]),
        ("invalid UTF-8", "%FF%FE"),
        ("a UUID with invalid UTF-8", str(uuid.uuid4()) + "%FF%FE"),
        ("path traversal", "..%2F..%2Fetc%2Fpasswd"),
        ("encoded dot-dot", "%2e%2e"),
        ("a 10,000-character segment", "a" * 10000),
        ("a UUID in braces", "%7B" + str(uuid.uuid4()) + "%7D"),
        ("an uppercase UUID without dashes", uuid.uuid4().hex.upper()),
    ]
    cases = []
    for op in spec.operations.values():
        for param in spec.params(op, "path"):
            name = param["name"]
            for label, text in bad:
                cases.append(case_for(spec, fixture, op, "path parameters", f"{name}: {label}",
                                      path=fixture.path(op, op["method"] == "DELETE", (name, text))))
            # A valid UUID that names nothing: exactly 404, with a valid body.
            cases.append(case_for(spec, fixture, op, "path parameters", f"{name}: unknown UUID",
                                  path=fixture.path(op, op["method"] == "DELETE", (name, str(uuid.uuid4()))),
                                  expect="404"))
    return cases


QUERY_VALUES = [
    ("-1", "-1"), ("1000000000", "1000000000"), ("1e999", "1e999"),
    ("99999999999999999999999", "99999999999999999999999"), ("empty", ""), ("NUL", "%00"),
    ("invalid UTF-8", "%FF"), ("5,000 characters", "x" * 5000), ("a UUID with NUL", "%00" * 36),
]


def forged_cursors():
    b64 = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")
    rng = random.Random(9457)
    return [
        ('base64url of {"x":1}', b64(b'{"x":1}')),
        ("base64url of [1,2,3]", b64(b"[1,2,3]")),
        ("random base64", b64(bytes(rng.randrange(256) for _ in range(48)))),
        ("2,000 characters", "A" * 2000),
        ("base64url of a huge position", b64(b'{"position":99999999999999999999999,"id":"x"}')),
        ("not base64", "!!!***"),
    ]


def valid_query_values(spec, param, fixture):
    """Two values the parameter's schema allows, for the repeated-parameter case."""
    schema = spec.resolve(param["schema"])
    if "enum" in schema:
        return schema["enum"][:2]
    kind = schema.get("type")
    if kind == "boolean":
        return ["true", "false"]
    if kind == "integer":
        low = schema.get("minimum", 0)
        return [str(low + 1), str(low + 2)]
    if schema.get("format") == "uuid":
        return [fixture.id_for(param["name"]) or str(uuid.uuid4()), str(uuid.uuid4())]
    if schema.get("format") == "date":
        return ["2025-01-01", "2025-02-01"]
    if schema.get("format") == "date-time":
        return ["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"]
    return ["a", "b"]


def query_cases(spec, fixture):
    cases = []
    for op in spec.operations.values():
        params = spec.params(op, "query")
        for param in params:
            name = param["name"]
            values = list(QUERY_VALUES)
            if name == "cursor":
                values += forged_cursors()
            if name == "after":
                values += [("-9223372036854775808", "-9223372036854775808"),
                           ("2^53", "9007199254740992"), ("2^63", "9223372036854775808"),
                           ("2^64", "18446744073709551616")]
            for label, raw in values:
                text = urllib.parse.unquote(raw, errors="replace")
                quoted = raw if "%" in raw else urllib.parse.quote(raw, safe="")
                violates = spec.query_violates(param["schema"], text)
                # An opaque cursor the service did not make is never valid.
                if name == "cursor" and text:
                    violates = True
                cases.append(case_for(spec, fixture, op, "query parameters", f"{name}={label}",
                                      query=f"{name}={quoted}",
                                      expect="4xx" if violates else "tolerated",
                                      field=name if violates else None))
            first, second = valid_query_values(spec, param, fixture)
            cases.append(case_for(spec, fixture, op, "query parameters", f"{name} repeated",
                                  query=f"{name}={first}&{name}={second}", field=name))
        # Unknown parameters: refused where the operation reads a query string.
        expect = "4xx" if params else "tolerated"
        cases.append(case_for(spec, fixture, op, "query parameters", "an unknown parameter",
                              query="hostile_unknown=1", expect=expect,
                              field="hostile_unknown" if params else None))
        cases.append(case_for(spec, fixture, op, "query parameters", "a parameter without a value",
                              query="hostile_unknown", expect=expect))
        cases.append(case_for(spec, fixture, op, "query parameters", "an access_token parameter",
                              query=f"access_token={fixture.token}", field="access_token"))
        cases.append(case_for(spec, fixture, op, "query parameters", "a 20,000-character query",
                              query="&".join(f"p{i}={i}" for i in range(2500)), expect=expect))
    return cases


HEADER_VALUES = [
    ("empty", ""), ("blank", "   "), ("garbage", "garbage"), ("a weak tag", 'W/"x"'),
    ("an unterminated tag", '"abc'), ("one past maxLength", None), ("10,000 characters", "x" * 10000),
    ("non-ASCII", "clé-ключ-鍵".encode()), ("latin-1 bytes", b"\xe9t\xe9"), ("a control character", "a\x01b"),
    ("at maxLength", None),
]


def header_cases(spec, fixture):
    """Bad values of the headers each operation declares: Idempotency-Key on POSTs,
    If-Match on PATCH and DELETE, If-None-Match on reads."""
    cases = []
    for op in spec.operations.values():
        for param in spec.params(op, "header"):
            name, schema = param["name"], spec.resolve(param["schema"])
            for label, value in HEADER_VALUES:
                if label == "one past maxLength":
                    value = '"' + "x" * (schema.get("maxLength", 255) - 1) + '"'
                if label == "at maxLength":
                    value = '"' + "x" * (schema.get("maxLength", 255) - 2) + '"'
                text = value.decode("latin-1") if isinstance(value, bytes) else value
                violates = spec.string_violates(schema, text)
                if name == "Idempotency-Key" and not violates:
                    # A key used before with another request is refused (422): one per case.
                    tag = str(next(unique))
                    value = text[:-len(tag) - 1] + tag + text[-1:] if len(text) > len(tag) + 2 else text + tag
                field_name = name if violates else None
                # A condition that is not the current tag (nor *) must never let a change
                # through: 400 if malformed (naming the header), else 412.
                if name == "If-Match":
                    violates = True
                cases.append(case_for(
                    spec, fixture, op, "headers", f"{name}: {label}",
                    headers=auth(fixture) + [(name, value)],
                    expect="4xx" if violates else "tolerated", field=field_name,
                    at_limit=label == "at maxLength" and name != "If-Match"))
    return cases


def authorization_cases(spec, fixture):
    bogus = "stk_" + "x" * 65
    values = [
        ("a 20,000-character bearer token", [("Authorization", "Bearer " + "A" * 20000)]),
        ("two Authorization headers", [("Authorization", f"Bearer {fixture.token}"),
                                       ("Authorization", f"Bearer {bogus}")]),
        ("two Authorization headers, the good one last", [("Authorization", f"Bearer {bogus}"),
                                                          ("Authorization", f"Bearer {fixture.token}")]),
        ("a well-formed unknown token", [("Authorization", f"Bearer {bogus}")]),
        ("Basic credentials", [("Authorization", "Basic dXNlcjpwYXNzd29yZA==")]),
        ("Bearer without a token", [("Authorization", "Bearer")]),
        ("a token with NUL", [("Authorization", "Bearer stk_\x00" + "x" * 64)]),
        ("a token of non-ASCII bytes", [("Authorization", b"Bearer stk_\xff\xfe" + b"x" * 63)]),
    ]
    cases = []
    for op in spec.operations.values():
        for label, headers in values:
            # Where no token is ever needed, a bad one may be ignored.
            expect = "tolerated" if spec.only_anonymous(op) else "4xx"
            cases.append(case_for(spec, fixture, op, "authorization", label, headers=headers,
                                  expect=expect, field="Authorization" if expect == "4xx" else None))
    return cases


WRONG_VALUES = [
    ("the number 12345", 12345), ("the number 1.5", 1.5), ("a string", "text"), ("true", True),
    ("null", None), ("an array", []), ("an object", {}), ("NUL", "\u0000"),
    ("a string with NUL", "abc\u0000def"), ("123456789012345678901234567890", 123456789012345678901234567890),
    ("1e400", Raw("1e400", float("inf"))), ("-1e400", Raw("-1e400", float("-inf"))), ("-1", -1),
    ("2^31", 2**31), ("1e16", 1e16), ("a lone surrogate", "\ud800"), ("a 1,000-deep array", None),
]


def limit_strings(spec, name, schema, fixture):
    """A string exactly at the property's maxLength, and one past it, both otherwise valid."""
    schema = spec.resolve(schema)
    limit = schema["maxLength"]
    kind = schema.get("format")
    if kind == "uuid":
        at = fixture.id_for(name) or str(uuid.uuid4())
        return at, at + "0"
    if kind == "date":
        return "2025-06-30", "2025-06-300"
    if kind == "date-time":
        return None, None
    fill = "A" if "pattern" in schema and "A-Z" in schema["pattern"] else "x"
    return fill * limit, fill * (limit + 1)


def sample_item(spec, schema, fixture):
    """A valid item of an array property, to make one too many of."""
    schema = spec.resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "example" in schema:
        return schema["example"]
    if "properties" in schema:
        item = {}
        for name in schema["properties"]:
            if name.endswith("_id") and fixture.id_for(name):
                item[name] = fixture.id_for(name)
        if "value" in schema["properties"]:
            item["value"] = 1
        return item
    return "x"


def body_cases(spec, fixture):
    cases = []
    for op in spec.operations.values():
        content = spec.body_content(op)
        if not content:
            continue
        group = "bodies"
        base = valid_body(spec, op, fixture)
        json_schema = spec.resolve(content["application/json"]["schema"]) if "application/json" in content else None
        is_array = json_schema and json_schema.get("type") == "array"

        def raw(name, body, expect="4xx", content_type="application/json", field=None):
            headers = auth(fixture) + ([("Content-Type", content_type)] if content_type else [])
            cases.append(case_for(spec, fixture, op, group, name, headers=headers, body=body,
                                  expect=expect, field=field))

        accepts = lambda media: media.split(";")[0] in content
        # Not JSON at all, or not the JSON expected.
        raw("malformed JSON: {", b"{")
        raw('malformed JSON: {"title":', b'{"title":')
        raw("trailing garbage", encode(base) + b" garbage")
        raw("two JSON documents", encode(base) + encode(base))
        for label, text in [("an array", b"[1,2]"), ("an object", b"{}"), ("a number", b"42"),
                            ("a string", b'"text"'), ("null", b"null"), ("true", b"true")]:
            if is_array and label == "an array" or not is_array and label == "an object":
                continue
            raw(f"{label} for the body", text)
        raw("100,000 [", b"[" * 100000)
        raw("a 1,000-deep nest", b'{"a":' * 1000 + b"1" + b"}" * 1000)
        raw("a 1,000-deep array", b"[" * 1000 + b"]" * 1000)
        raw("invalid UTF-8", b'{"title": "\xff\xfe\xfd"}' if not is_array else b'[{"status": "\xff\xfe"}]')
        raw("a UTF-8 byte order mark", b"\xef\xbb\xbf" + encode(base), expect="tolerated")
        raw("UTF-16", encode(base).decode().encode("utf-16"))
        raw("an empty body", b"")
        raw("whitespace only", b" \r\n\t ")
        for media, body in [("text/plain", encode(base)), ("application/xml", b"<plan/>"),
                            ("multipart/form-data; boundary=hostile",
                             b'--hostile\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--hostile--\r\n'),
                            ("application/x-www-form-urlencoded", b"title=x&status=active"),
                            ("application/octet-stream", encode(base))]:
            raw(f"Content-Type {media}", body, expect="tolerated" if accepts(media) else "4xx",
                content_type=media)
        raw("no Content-Type", encode(base), content_type=None)
        raw("Content-Type json; charset=utf-16", encode(base).decode().encode("utf-16-le"),
            content_type="application/json; charset=utf-16")
        # Past the body limit: exactly 413.
        big = b'{"title": "' + b"x" * (BODY_LIMIT + 1024) + b'"}'
        if is_array:
            big = b'[{"latest_update_note": "' + b"x" * (BODY_LIMIT + 1024) + b'"}]'
        raw("a body past the 2 MiB limit", big, expect="413")
        if json_schema is None:
            continue

        # Field by field, from the schema.
        item_schema = spec.resolve(json_schema["items"]) if is_array else json_schema

        def with_field(name, value):
            if is_array:
                row = dict(base[0])
                row[name] = value
                return [row]
            body = dict(base)
            body[name] = value
            return body

        cases.append(case_for(spec, fixture, op, group, "an unknown field",
                              body_value=with_field(UNKNOWN_FIELD, 1), field=UNKNOWN_FIELD))
        for name, prop in item_schema.get("properties", {}).items():
            prop = spec.resolve(prop)
            if not prop.get("type") and "enum" not in prop:
                continue        # accepted and ignored, whatever it is
            for label, value in WRONG_VALUES:
                if label == "a 1,000-deep array":
                    body = encode(with_field(name, "@@deep@@")).replace(b'"@@deep@@"', b"[" * 1000 + b"]" * 1000)
                    cases.append(case_for(spec, fixture, op, group, f"{name}: {label}",
                                          headers=json_headers(fixture), body=body))
                    continue
                violates = spec.violates(prop, value)
                # Numbers past what a double holds, and lone surrogates, break the JSON
                # reader itself: a 400 for the body as a whole, no field to name.
                unreadable = isinstance(value, Raw) or label == "a lone surrogate"
                cases.append(case_for(spec, fixture, op, group, f"{name}: {label}",
                                      body_value=with_field(name, value),
                                      expect="4xx" if violates or unreadable else "tolerated",
                                      field=name if violates and not unreadable else None))
            if "maxLength" in prop:
                at, past = limit_strings(spec, name, prop, fixture)
                if at is not None:
                    cases.append(case_for(spec, fixture, op, group, f"{name}: at maxLength",
                                          body_value=with_field(name, at), expect="tolerated",
                                          at_limit=True))
                    cases.append(case_for(spec, fixture, op, group, f"{name}: one past maxLength",
                                          body_value=with_field(name, past), field=name))
                    if not prop.get("format") and "A-Z" not in prop.get("pattern", ""):
                        limit = prop["maxLength"]
                        cases.append(case_for(spec, fixture, op, group,
                                              f"{name}: at maxLength in 2-byte characters",
                                              body_value=with_field(name, "é" * limit), expect="tolerated",
                                              at_limit=True))
                        cases.append(case_for(spec, fixture, op, group,
                                              f"{name}: one past maxLength in 2-byte characters",
                                              body_value=with_field(name, "é" * (limit + 1)), field=name))
            if prop.get("maxItems", 10**9) <= 1000:
                item = sample_item(spec, prop.get("items", {}), fixture)
                cases.append(case_for(spec, fixture, op, group, f"{name}: one past maxItems",
                                      body_value=with_field(name, [item] * (prop["maxItems"] + 1)),
                                      field=name))
    return cases


def importer_cases(spec, fixture):
    """Garbage for the two importers, in the text types they take besides JSON."""
    cases = []
    rng = random.Random(9112)
    goal = fixture.ids["goal_id"]
    header = "goal_id,status,progress_percent,latest_update_as_of,latest_update_note\r\n"
    for op in spec.operations.values():
        content = spec.body_content(op)
        if "text/csv" in content:
            wide = ("goal_id,status," + ",".join(f"measure:m{i}:current" for i in range(9998)) + "\r\n"
                    + f"{goal},bogus_status," + ",".join("1" for _ in range(9998)) + "\r\n")
            sheets = [
                ("binary garbage", bytes(rng.randrange(256) for _ in range(4096)), None),
                ("10,000 columns", wide.encode(), None),
                ("an unterminated quote", (header + f'{goal},on_track,10,2025-03-01,"never closed\r\n').encode(), None),
                ("NUL bytes", (header + f"{goal},on_track,10,2025-03-01,abc\x00def\r\n").encode(), None),
                ("UTF-16", (header + f"{goal},on_track,10,2025-03-01,note\r\n").encode("utf-16"), None),
                ("an empty file", b"", None),
                ("a header without status", b"goal_id,owner\r\n" + goal.encode() + b",x\r\n", None),
                ("a header only, of garbage", b"\x01\x02,\x03\r\n", None),
                ("progress 1e999", (header + f"{goal},on_track,1e999,2025-03-01,n\r\n").encode(), "progress_percent"),
                ("progress 99999999999999999999999",
                 (header + f"{goal},on_track,99999999999999999999999,2025-03-01,n\r\n").encode(), "progress_percent"),
                ("a note one past maxLength",
                 (header + f"{goal},on_track,10,2025-03-01,{'x' * 10001}\r\n").encode(), "latest_update_note"),
                ("an unknown measure", (f"goal_id,status,measure:Nope:current\r\n{goal},on_track,5\r\n").encode(), None),
                ("a measure value 1e400",
                 (f"goal_id,status,measure:Webinars:current\r\n{goal},on_track,1e400\r\n").encode(), None),
                ("a goal id with NUL", (header + f"{goal[:10]}\x00{goal[11:]},on_track,10,2025-03-01,n\r\n").encode(), "goal_id"),
                ("a date of 10,000 characters", (header + f"{goal},on_track,10,{'9' * 10000},n\r\n").encode(),
                 "latest_update_as_of"),
                ("a quote in an unquoted cell", (header + f'{goal},on_track,10,2025-03-01,a"b"c\r\n').encode(), None),
                ("20,000 rows of an unknown goal",
                 (header + f"{uuid.uuid4()},on_track,10,2025-03-01,n\r\n" * 20000).encode(), None),
                ("a 2 MiB cell", (header + f"{goal},on_track,10,2025-03-01,{'x' * BODY_LIMIT}\r\n").encode(), "413"),
            ]
            for label, body, field_name in sheets:
                expect = "413" if field_name == "413" else "4xx"
                cases.append(case_for(spec, fixture, op, "importers", f"CSV: {label}",
                                      headers=json_headers(fixture, "text/csv"), body=body, expect=expect,
                                      field=None if field_name in (None, "413") else field_name))
        for media in ("text/plain", "text/markdown"):
            if media not in content:
                continue
            # Well-formed outlines with noise a reader may clean up (and say so in its notes).
            noisy = {"NUL bytes", "10,000-deep indentation"}
            outlines = [
                ("binary garbage", bytes(rng.randrange(256) for _ in range(4096))),
                ("printable garbage", "\n".join(
                    "".join(rng.choice("qwxz#*-_>|[]()") for _ in range(rng.randrange(1, 80)))
                    for _ in range(200)).encode()),
                ("NUL bytes", b"Strategic Plan 2025-2027\n\x00\x00\x00\nStrategic Area 1: A\x00B\n1. Goal\n"),
                ("UTF-16", "Strategic Plan 2025-2027\nStrategic Area 1: Reach\n1. Goal\n".encode("utf-16")),
                ("an empty outline", b""),
                ("only blank lines", b"\n" * 10000),
                ("100,000 heading marks", b"#" * 100000 + b" Plan 2025-2027\n"),
                ("10,000-deep indentation", b"Strategic Plan 2025-2027\nStrategic Area 1: A\n" + b" " * 10000 + b"1. Goal\n"),
                ("1,000 areas", ("Strategic Plan 2025-2027\n" + "".join(
                    f"Strategic Area {n}: Area {n}\n1. Goal\n" for n in range(1, 1001))).encode()),
                ("a goal number of 40 digits", b"Strategic Plan 2025-2027\nStrategic Area 1: A\n"
                 + b"9" * 40 + b". Goal\n"),
                ("years out of range", b"Strategic Plan 99999-999999\nStrategic Area 1: A\n1. Goal\n"),
                ("a 1 MiB line", b"x" * (1024 * 1024)),
                ("past the 2 MiB limit", b"x\n" * (BODY_LIMIT // 2 + 1024)),
            ]
            for label, body in outlines:
                expect = "413" if "limit" in label else "tolerated" if label in noisy else "4xx"
                cases.append(case_for(spec, fixture, op, "importers", f"{media} outline: {label}",
                                      headers=json_headers(fixture, media), body=body, expect=expect))
    return cases


# --- Sending and judging ---------------------------------------------------------

def send_case(service, case):
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=DEADLINE)
    started = time.monotonic()
    try:
        connection.putrequest(case.method, case.path, skip_accept_encoding=True)
        for name, value in case.headers:
            connection.putheader(name, value)
        if case.body is not None:
            connection.putheader("Content-Length", str(len(case.body)))
        try:
            connection.endheaders(case.body)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the server may answer (413) before reading the whole body
        response = connection.getresponse()
        data = response.read()
        case.reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                           time.monotonic() - started, started)
    except (TimeoutError, socket.timeout):
        case.reply = Reply("hang", {}, b"", time.monotonic() - started, started)
    except (ConnectionError, http.client.HTTPException, OSError) as error:
        case.reply = Reply("connection lost", {"error": repr(error)}, b"",
                           time.monotonic() - started, started)
    finally:
        connection.close()


def field_named(errors, name):
    """Whether `errors` names `name`: as is, or as the last step of a path
    (`0/title`, `/areas/1/title`, `2/latest_update_note`)."""
    for error in errors or []:
        text = str(error.get("field", "")) if isinstance(error, dict) else ""
        steps = [step for step in re.split(r"[/.\[\]]+", text) if step]
        if text == name or name in steps:
            return True
    return False


def problem_offence(reply, field_name):
    """What is wrong with a 4xx answer as a problem document, or None."""
    media = reply.headers.get("content-type", "").split(";")[0].strip()
    if media != "application/problem+json":
        return f"not problem+json: Content-Type {media or 'none'}"
    try:
        problem = json.loads(reply.body)
    except ValueError:
        return "problem+json whose body is not JSON"
    if not isinstance(problem, dict):
        return "problem+json whose body is not an object"
    missing = [key for key in ("type", "title", "status", "detail") if key not in problem]
    if missing:
        return f"problem without {', '.join(missing)}"
    if problem["status"] != reply.status:
        return f"problem whose status {problem['status']} is not the answer's {reply.status}"
    if field_name and reply.status in (400, 401, 422) and not field_named(problem.get("errors"), field_name):
        return f"errors does not name {field_name}"
    return None


def judge(case):
    reply = case.reply
    status = reply.status
    if not isinstance(status, int):
        case.offence = f"no answer ({status}, {reply.seconds:.1f} s)"
        return
    if reply.seconds > DEADLINE:
        case.offence = f"answered after {reply.seconds:.1f} s"
    elif status >= 500:
        case.offence = f"{status}"
    elif (status in PARSER_STATUSES and not reply.headers.get("content-type") and not reply.body):
        refusal = parser_refusal(case)
        if refusal is None:
            case.offence = (f"a bare {status} without a problem document, though the HTTP parser "
                            "passes this request to the application")
        elif status != refusal:
            case.offence = f"a bare {status} from the HTTP parser, not its {refusal}"
        else:
            case.refused_by_parser = True       # actix's HTTP parser, before the application
    elif case.expect == "404" and status != 404:
        case.offence = f"{status}, not 404"
    elif case.expect == "413" and status != 413:
        case.offence = f"{status}, not 413"
    elif case.expect in ("4xx", "404", "413") and not 400 <= status < 500:
        case.offence = f"{status}, not 4xx"
    elif 400 <= status < 500:
        case.offence = problem_offence(reply, case.field)
    elif status >= 300 and status != 304:
        case.offence = f"{status}"


def parser_refusal(case):
    """The status actix's HTTP parser answers this request with before the
    application sees it, or None when it passes it on. Only one thing in the corpus
    is the parser's to refuse: a header name or value with a control character
    (NUL, CR, LF, ... but not a tab), a 400. Its limits (header size and count) are
    tried on raw sockets; a body past the limit, an overlong path or a bad value are
    the application's to answer, with a problem."""
    for name, value in case.headers:
        for text in (name, value):
            if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7f for c in str(text)):
                return 400
    return None


def healthy(service, fixture, group):
    check(service.process.poll() is None,
          f"the service exited during the {group} cases; its log ends: {service.log_tail()}")
    client = Client(service, fixture.token)
    try:
        health = client.request("GET", "/healthz")
        plan = client.request("GET", fixture.plan_path)
    finally:
        client.close()
    check(health.status == 200, f"after the {group} cases /healthz answered {health.status}")
    check(plan.status == 200, f"after the {group} cases GET of the fixture plan answered "
                              f"{plan.status}: {plan.body[:200]!r}")


def cause_of(offence):
    """An offence without its particulars, so that like ones group."""
    offence = re.sub(r"errors does not name \S+", "errors does not name the field at fault", offence)
    return re.sub(r"\d+\.\d s", "N s", offence)


def describe_failures(offenders, raw_offenders, slow_failures, total):
    lines = [f"{len(offenders)} of {total} cases were answered wrongly"]
    by_cause = {}
    for case in offenders:
        by_cause.setdefault(cause_of(case.offence), []).append(case)
    for cause, cases in sorted(by_cause.items(), key=lambda item: -len(item[1])):
        lines.append(f"- {cause}: {len(cases)} cases, such as:")
        # Examples from as many operations and kinds of case as there are.
        examples, seen = [], set()
        for case in cases:
            kind = (case.operation, case.name.split(": ")[0])
            if kind not in seen and len(examples) < 6:
                seen.add(kind)
                examples.append(case)
        for case in examples:
            lines.append(f"    {case.method} {case.path[:120]} [{case.name}] -> {case.reply.status}: "
                         f"{case.reply.body[:200]!r}")
    for result in raw_offenders:
        lines.append(f"- raw socket {result['case']}: {result['offence']} ({result['outcome']})")
    lines += [f"- slow clients: {failure}" for failure in slow_failures]
    return "\n".join(lines)


# --- Protocol abuse on raw sockets ---------------------------------------------

def read_answer(sock, deadline):
    """Reads one HTTP answer: (status or None, head text, body bytes, closed)."""
    data = b""
    closed = False
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.1 100"):
                data = body
                continue
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if length and len(body) >= int(length.group(1)):
                break
            if re.search(rb"(?im)^transfer-encoding:\s*chunked", head) and body.endswith(b"0\r\n\r\n"):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return (int(match.group(1)) if match else None), head.decode("latin-1"), body, closed


def raw_exchange(service, chunks, timeout=DEADLINE):
    started = time.monotonic()
    deadline = started + timeout
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=timeout)
    sent_all = True
    try:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:
                sent_all = False
                break
        status, head, body, closed = read_answer(sock, deadline)
        if status is not None and not closed:
            # Is the connection closed after the answer? Give it a moment.
            sock.settimeout(0.3)
            try:
                closed = sock.recv(1) == b""
            except socket.timeout:
                closed = False
            except OSError:
                closed = True
        return {"status": status, "head": head, "body": body, "closed": closed,
                "seconds": time.monotonic() - started, "sent_all": sent_all}
    finally:
        sock.close()


def protocol_cases(service, fixture):
    token = fixture.token
    plan = fixture.plan_path
    areas = f"{plan}/areas"
    host = f"Host: 127.0.0.1:{service.port}\r\n".encode()
    bearer = f"Authorization: Bearer {token}\r\n".encode()
    body = b'{"title": "x"}'
    requests = {
        "a 200 KB header": [b"GET " + plan.encode() + b" HTTP/1.1\r\n" + host + bearer
                            + b"X-Padding: " + b"p" * 200_000 + b"\r\n\r\n"],
        "a 100 KB header": [b"GET " + plan.encode() + b" HTTP/1.1\r\n" + host + bearer
                            + b"X-Padding: " + b"p" * 100_000 + b"\r\n\r\n"],
        "1,000 headers": [b"GET " + plan.encode() + b" HTTP/1.1\r\n" + host + bearer
                          + b"".join(b"X-H-%d: v\r\n" % n for n in range(1000)) + b"\r\n"],
        "two different Content-Length headers": [
            b"POST " + areas.encode() + b" HTTP/1.1\r\n" + host + bearer
            + b"Content-Type: application/json\r\nContent-Length: 14\r\nContent-Length: 4\r\n\r\n" + body],
        "Content-Length and Transfer-Encoding: chunked": [
            b"POST " + areas.encode() + b" HTTP/1.1\r\n" + host + bearer
            + b"Content-Type: application/json\r\nContent-Length: 14\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"1\r\n{\r\n0\r\n\r\n"],
        "a negative Content-Length": [
            b"POST " + areas.encode() + b" HTTP/1.1\r\n" + host + bearer
            + b"Content-Type: application/json\r\nContent-Length: -14\r\n\r\n" + body],
        "a Content-Length of 2^64": [
            b"POST " + areas.encode() + b" HTTP/1.1\r\n" + host + bearer
            + b"Content-Type: application/json\r\nContent-Length: 18446744073709551616\r\n\r\n" + body],
        "an invalid chunk size": [
            b"POST " + areas.encode() + b" HTTP/1.1\r\n" + host + bearer
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"],
        "a chunk size of 2^64": [
            b"POST " + areas.encode() + b" HTTP/1.1\r\n" + host + bearer
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"10000000000000000\r\n{}\r\n0\r\n\r\n"],
        "an invalid request line": [b"THIS IS NOT HTTP\r\n\r\n"],
        "a request line of spaces": [b"          \r\n\r\n"],
        "binary garbage": [bytes(random.Random(1).randrange(256) for _ in range(2048))],
        "a bare-LF request": [b"GET /api/v1/plans/not-a-uuid HTTP/1.1\nHost: x\n" + bearer.rstrip(b"\r\n") + b"\n\n"],
        "an HTTP/0.9 request": [b"GET /healthz\r\n"],
        "HTTP/2.0 over HTTP/1 framing": [b"GET /healthz HTTP/2.0\r\n" + host + b"\r\n"],
        "HTTP/1.2": [b"GET /healthz HTTP/1.2\r\n" + host + b"\r\n"],
        "an HTTP/2 preface": [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
        "a NUL in a header value": [b"GET /healthz HTTP/1.1\r\n" + host + b"X-Evil: a\x00b\r\n\r\n"],
        "a header without a colon": [b"GET /healthz HTTP/1.1\r\n" + host + b"NoColonHere\r\n\r\n"],
        "a folded header": [b"GET /healthz HTTP/1.1\r\n" + host + b"X-Folded: a\r\n  b\r\n\r\n"],
        "a 100 KB request target": [b"GET /api/v1/plans/" + b"a" * 100_000 + b" HTTP/1.1\r\n" + host + b"\r\n"],
        "an unknown method": [b"BREW /api/v1/plans HTTP/1.1\r\n" + host + bearer + b"\r\n"],
        "an absolute-form target": [b"GET http://evil.example/api/v1/plans/not-a-uuid HTTP/1.1\r\n"
                                    + host + bearer + b"\r\n"],
        "a request target without a slash": [b"GET api/v1/plans HTTP/1.1\r\n" + host + b"\r\n"],
        "a Host header with CR": [b"GET /healthz HTTP/1.1\r\nHost: a\rb\r\n\r\n"],
    }
    # What the HTTP parser passes to the application, which must then answer a 4xx
    # problem document.
    application = {"a bare-LF request", "an unknown method", "an absolute-form target"}
    # What the parser refuses itself, and with which bare status: a header past its
    # limits is a 431, binary garbage never ends its request head (408 when the
    # head's time is up, or 400 if a byte gives it away), every other one a 400. A bad
    # chunk is found by the application reading the body, which answers a problem.
    parser = {"a 200 KB header": {431}, "1,000 headers": {431}, "binary garbage": {400, 408},
              "an invalid chunk size": {400}, "a chunk size of 2^64": {400}}
    parser.update({label: {400} for label in requests
                   if label not in parser and label not in application})
    # Requests a lenient parser may serve (/healthz): anything but 5xx or a hang.
    lenient = {"a 100 KB header", "HTTP/2.0 over HTTP/1 framing", "HTTP/1.2", "a folded header", "a request target without a slash",
               "a NUL in a header value", "a header without a colon", "a Host header with CR"}

    def one(item):
        label, chunks = item
        result = raw_exchange(service, chunks)
        status = result["status"]
        content_type = re.search(r"(?im)^content-type:\s*([^;\r\n]+)", result["head"])
        problem = bool(content_type) and content_type.group(1).strip() == "application/problem+json"
        refused = status is not None and 400 <= status < 500 and not problem
        outcome = (f"{status}{' problem+json' if problem else ''}" if status else "no answer") \
            + (", closed" if result["closed"] else ", kept open") + f" in {result['seconds']:.2f} s"
        offence = None
        if status is None and not result["closed"]:
            offence = "hang: no answer and the connection held open"
        elif status is None:
            # Every one of these gets an answer from actix; a close without one is a
            # crashed worker or a dropped request.
            offence = "the server closed the connection without answering"
        elif status >= 500:
            offence = f"{status}"
        elif result["seconds"] > DEADLINE:
            offence = f"answered after {result['seconds']:.1f} s"
        elif label in lenient:
            pass
        elif status is not None and not 400 <= status < 500:
            offence = f"{status}, not 4xx"
        elif label in application and not problem:
            offence = f"{status} that is not problem+json"
        elif label in parser and status not in parser[label]:
            offence = f"{status}, not {' or '.join(map(str, sorted(parser[label])))}"
        return {"case": label, "status": status, "outcome": outcome, "offence": offence,
                "refused_by_parser": refused}

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, requests.items()))


# --- Slow clients ----------------------------------------------------------------

def timed_gets(service, fixture, n):
    client = Client(service, fixture.token)
    try:
        return [client.request("GET", fixture.plan_path) for _ in range(n)]
    finally:
        client.close()


def latency(replies):
    times = sorted(r.seconds for r in replies)
    return {"p50 (ms)": round(times[len(times) // 2] * 1000, 1), "max (ms)": round(times[-1] * 1000, 1),
            "answers": count(r.status for r in replies)}


def slow_clients(service, fixture):
    """50 clients sending headers a byte every 200 ms and 20 trickling a POST body,
    while another client's GETs are timed against the same GETs before."""
    before = timed_gets(service, fixture, NORMAL_GETS)
    host = f"127.0.0.1:{service.port}"
    loris_request = (f"GET {fixture.plan_path} HTTP/1.1\r\nHost: {host}\r\n"
                     f"Authorization: Bearer {fixture.token}\r\nAccept: application/json\r\n"
                     f"X-Slow: {'s' * 64}\r\n\r\n").encode()
    body = json.dumps({"title": "Trickled area", "description": "d" * 400}).encode()
    body_head = (f"POST {fixture.plan_path}/areas HTTP/1.1\r\nHost: {host}\r\n"
                 f"Authorization: Bearer {fixture.token}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n").encode()
    slow = []
    for n in range(SLOW_LORIS + SLOW_BODIES):
        sock = socket.create_connection(("127.0.0.1", service.port), timeout=5)
        if n < SLOW_LORIS:
            slow.append({"kind": "headers", "sock": sock, "data": loris_request, "sent": 0})
        else:
            sock.sendall(body_head)
            slow.append({"kind": "body", "sock": sock, "data": body, "sent": 0})
        sock.setblocking(False)
    for item in slow:
        item.update(answer=None, answered_at=None, closed_at=None, received=b"")
    start = time.monotonic()
    stop = threading.Event()

    def trickle():
        next_byte = start
        while not stop.is_set() and time.monotonic() - start < SLOW_HOLD:
            now = time.monotonic()
            sending, next_byte = now >= next_byte, next_byte + SLOW_STEP if now >= next_byte else next_byte
            for item in slow if sending else []:
                if item["closed_at"] is not None or item["sent"] >= len(item["data"]):
                    continue
                try:
                    item["sock"].send(item["data"][item["sent"]:item["sent"] + 1])
                    item["sent"] += 1
                except BlockingIOError:
                    pass
                except OSError:
                    item["closed_at"] = now - start
            open_socks = {item["sock"]: item for item in slow if item["closed_at"] is None}
            if not open_socks:
                break
            wait = max(0.0, next_byte - time.monotonic())
            readable, _, _ = select.select(list(open_socks), [], [], wait)
            for sock in readable:
                item = open_socks[sock]
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    item["received"] += chunk
                    if item["answered_at"] is None:
                        item["answered_at"] = time.monotonic() - start
                else:
                    item["closed_at"] = time.monotonic() - start

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(1)
    during = timed_gets(service, fixture, NORMAL_GETS)
    thread.join(SLOW_HOLD + 2)
    stop.set()
    held = time.monotonic() - start
    outcomes = {}
    for item in slow:
        item["sock"].close()
        match = re.match(rb"HTTP/1\.[01] (\d{3})", item["received"])
        if match:
            what = f"{match.group(1).decode()} after {bucket(item['answered_at'])}"
        elif item["received"]:
            what = "bytes that are not HTTP"
        else:
            what = "no answer"
        what += (f", closed by the server after {bucket(item['closed_at'])}" if item["closed_at"] is not None
                 else f", still open at {held:.0f} s (closed by the client)")
        key = "slow headers (50)" if item["kind"] == "headers" else "slow POST bodies (20)"
        outcomes.setdefault(key, {})
        outcomes[key][what] = outcomes[key].get(what, 0) + 1

    failures = []
    for label, replies in (("before", before), ("during", during)):
        bad = [r for r in replies if r.status != 200 or r.seconds > DEADLINE]
        if bad:
            failures.append(f"{len(bad)} of the normal GETs {label} the slow clients failed or were slow: "
                            f"{count(r.status for r in bad)}, the slowest {max(r.seconds for r in bad):.1f} s")
    median_before, median_during = median(before), median(during)
    slowest_before, slowest_during = max(r.seconds for r in before), max(r.seconds for r in during)
    if median_during > 2 * median_before + SLOW_MEDIAN_MARGIN:
        failures.append(f"the slow clients slowed the others: median {median_before * 1000:.0f} ms "
                        f"before, {median_during * 1000:.0f} ms during")
    if slowest_during > slowest_before + SLOW_MAX_MARGIN:
        failures.append(f"the slow clients slowed the others: slowest {slowest_before * 1000:.0f} ms "
                        f"before, {slowest_during * 1000:.0f} ms during")
    answers = [int(m.group(1)) for item in slow
               for m in [re.match(rb"HTTP/1\.[01] (\d{3})", item["received"])] if m]
    if any(status >= 500 and status != 503 for status in answers):
        failures.append(f"slow clients got {count(answers)}")
    return {
        "normal GETs before the slow clients": latency(before),
        "normal GETs while 70 slow clients were held": latency(during),
        "what the slow connections got": outcomes,
        "slow connections held for (s)": round(held, 1),
        "failures": failures,
    }


def median(replies):
    times = sorted(r.seconds for r in replies)
    return times[len(times) // 2]


def bucket(seconds):
    """A time rounded to the half second, so that outcomes group."""
    return f"{round(seconds * 2) / 2:.1f} s"
