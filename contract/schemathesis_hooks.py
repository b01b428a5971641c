"""Schemathesis hooks for strategy-tracker (loaded by scripts/contract-check).

They teach the generator rules of the API that JSON Schema cannot state. Every rule
is enforced by the service and covered by its own tests; the hooks only keep
made-up "valid" requests from breaking them.
"""

import base64
import binascii
import datetime
import json
import os
import re
import uuid

import requests
import schemathesis


def issued_by_server(cursor):
    """A list's `cursor` is opaque: only a `next_cursor` the server returned is valid,
    and any other string is rightly a 400 naming `cursor` (tests/plans.rs and
    tests/goals.rs cover forged cursors). This file may know the encoding (base64url
    of JSON) that clients must not."""
    try:
        json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        return False
    return True


IMPORT_PATH = "/api/v1/plans/import"
MAX_LEVELS = 8
def within_budget(document, left):
    """Drops goals and status updates past a document's totals (at most 5,000 and
    50,000), which each list's own maxItems cannot state; depth first."""
    if not isinstance(document, dict):
        return
    for key in ("areas", "goals", "sub_goals", "status_updates"):
        items = document.get(key)
        if not isinstance(items, list):
            continue
        budget = "goals" if key == "sub_goals" else key
        if budget in left:
            del items[max(left[budget], 0):]
            left[budget] -= len(items)
        for item in items:
            within_budget(item, left)


def import_document(document, level=0):
    """In an import document (tests/documents.rs covers each rule): positions follow
    the order of each list, codes are unique in an area (so made-up ones are left
    out), a goal's dates come in order, and goals nest at most 8 levels."""
    if isinstance(document, list):
        for item in document:
            import_document(item, level)
        return
    if not isinstance(document, dict):
        return
    document.pop("position", None)
    document.pop("code", None)
    start, due = document.get("start_date"), document.get("due_date")
    if isinstance(start, str) and isinstance(due, str) and due < start:
        document["start_date"], document["due_date"] = due, start
    if "sub_goals" in document and level + 1 >= MAX_LEVELS:
        document["sub_goals"] = []
    for key in ("areas", "goals", "sub_goals"):
        import_document(document.get(key), level + (key == "sub_goals"))


def generated_lines(text, limit):
    """The made-up text's lines, each as the readers keep it: control characters
    dropped, spaces collapsed, at most `limit` characters; blank ones left out."""
    lines = []
    for line in text.splitlines():
        printable = "".join(c if c.isprintable() else " " for c in line)
        line = " ".join(printable.split())[:limit].strip()
        if line:
            lines.append(line)
    return lines


def outline_around(text):
    """An outline needs a title line with its years and, under a strategic area, a
    numbered goal (tests/documents.rs covers outlines without them); a structure of
    made-up text is rightly refused. So the made-up text keeps its lines, and only
    the structure is given: each line becomes a goal's title, numbered in order, in
    areas of up to five goals, each area titled by its first goal's line."""
    lines = generated_lines(text, 200) or ["Goal"]
    outline = ["Fuzzed Plan 2024-2026", ""]
    for start in range(0, len(lines), 5):
        outline += [f"Strategic Area {start // 5 + 1}: {lines[start]}", ""]
        outline += [f"{n}. {line}" for n, line in enumerate(lines[start:start + 5], 1)]
        outline.append("")
    return "\n".join(outline) + "\n"


SHEET_IMPORT = "/api/v1/plans/{plan_id}/status-updates/import"


def csv_cell(text):
    """A CSV cell, quoted as RFC 4180 has it."""
    return '"' + text.replace('"', '""') + '"'


def csv_sheet(text, goals):
    """A sheet of real goals made from made-up CSV text: its lines choose how many
    rows there are (one to every goal) and from which goal they start; each row's
    note is a generated line, its status and progress derived from that line (a
    status the document allows, a whole percentage). Columns the generator cannot
    get right (codes, measures, dates, which must not be ahead of today) are left
    out."""
    lines = generated_lines(text, 500) or [""]
    rows = 1 + len(lines) % len(goals)
    first = len(text) % len(goals)
    out = ["goal_id,status,progress_percent,latest_update_note"]
    for n in range(rows):
        goal = goals[(first + n) % len(goals)]
        line = lines[n % len(lines)]
        weight = sum(map(ord, line)) + n
        out.append(",".join([goal["goal_id"], GOAL_STATUSES[weight % len(GOAL_STATUSES)],
                             str(weight % 101), csv_cell(line)]))
    return "\r\n".join(out) + "\r\n"


GOAL_STATUSES = ("not_started", "on_track", "at_risk", "off_track", "completed")


def sheet_of_real_goals(case):
    """A tracking sheet sent back must name the plan's own goals, each once, and
    measures by their names; made-up ids, codes and measure names are rightly a 422
    naming the row and column (tests/sheet_import.rs covers every rule), made-up
    CSV text is not a sheet's columns, and a date may not be ahead of today. So a
    positive body is made a sheet of the plan's real goals, fetched through the
    API, keeping what was generated where the rules allow it: made-up JSON rows keep
    their status, progress, note, author and any date not ahead of today, each given
    a real goal (rows past the number of goals are dropped) and no code or
    measures; made-up CSV text becomes rows of real goals whose notes, statuses and
    progress come from its lines (`csv_sheet`). An unknown plan is left alone (a
    404, which is accepted)."""
    base_url = case.operation.schema.get_base_url()
    plan_id = (case.path_parameters or {}).get("plan_id")
    sheet = get_json(base_url, f"/api/v1/plans/{plan_id}/tracking-sheet")
    if sheet is None:
        return
    goals = sheet["rows"]
    if isinstance(case.body, str):
        # A plan without goals has a sheet of the header alone.
        case.body = csv_sheet(case.body, goals) if goals else "goal_id,status\r\n"
        return
    if not isinstance(case.body, list):
        return
    rows = [row for row in case.body if isinstance(row, dict)][: len(goals)]
    for row, goal in zip(rows, goals):
        for key in ("code", "area_position", "measures"):
            row.pop(key, None)
        as_of = row.get("latest_update_as_of")
        # YYYY-MM-DD strings sort like the dates they name; today (UTC) is always allowed.
        if isinstance(as_of, str) and as_of > datetime.datetime.now(datetime.timezone.utc).date().isoformat():
            row.pop("latest_update_as_of")
        row["goal_id"] = goal["goal_id"]
    case.body = rows


UPDATES_OF_GOAL = "/api/v1/goals/{goal_id}/status-updates"
UPDATE = "/api/v1/status-updates/{update_id}"


# What the hooks read through the API, they read with the run's token
# (scripts/contract-check makes one with every scope): drafts are hidden without it.
AUTHORIZATION = {"Authorization": f"Bearer {os.environ['CONTRACT_TOKEN']}"}


def get_json(base_url, path):
    """The JSON body of GET `path` on the service under test, or None if not 200."""
    reply = requests.get(base_url + path, headers=AUTHORIZATION, timeout=10)
    return reply.json() if reply.status_code == 200 else None


def own_measurements(case):
    """A status update records values only for its own goal's measures, one value
    per measure; a measure of another goal, or one given twice, is rightly a 422
    naming `measurements/N/measure_id` (tests/measures.rs covers both). No JSON
    Schema can say which goal a measure id belongs to, and Schemathesis reuses
    real measure ids from earlier responses, so this asks the service: items for
    another goal's measure, and repeats, are dropped. Unknown ids are kept (a 404
    naming the item, which is accepted)."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("measurements"), list):
        return
    base_url = case.operation.schema.get_base_url()
    params = case.path_parameters or {}
    if case.operation.path == UPDATES_OF_GOAL:
        goal_id = params.get("goal_id")
    else:
        update = get_json(base_url, f"/api/v1/status-updates/{params.get('update_id')}")
        goal_id = update and update["goal_id"]
    if goal_id is None:
        return
    kept, seen = [], set()
    for item in body["measurements"]:
        measure_id = item.get("measure_id") if isinstance(item, dict) else None
        if isinstance(measure_id, str):
            if measure_id in seen:
                continue
            seen.add(measure_id)
            measure = get_json(base_url, f"/api/v1/measures/{measure_id}")
            if measure is not None and measure["goal_id"] != goal_id:
                continue
        kept.append(item)
    body["measurements"] = kept


def one_key_per_request(case):
    """An `Idempotency-Key` names one request: the same key with another request is
    rightly a 422 naming it (tests/idempotency.rs), and Schemathesis reuses example
    values. So each positive request gets a fresh key."""
    headers = case.headers or {}
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = str(uuid.uuid4())


# `*` or a list of entity tags, as the document states for If-Match and If-None-Match.
ENTITY_TAGS = re.compile(r'(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)')


def well_formed_condition(value):
    return isinstance(value, str) and len(value) <= 255 and ENTITY_TAGS.fullmatch(value)


def conditions_on_real_versions(case, positive):
    """`If-Match` names a version of the resource: a made-up tag names none, and is
    rightly a 412 (or a 400 when it is not a list of entity tags at all; tests/
    conditional.rs covers both). So a well-formed `If-Match` is replaced by the
    resource's current version, fetched through the API: in positive requests so
    that they can succeed, and in negative ones so that what they test (a bad body,
    say) is what gets refused, not the version, which RFC 9110 checks first. A
    malformed `If-Match` in a negative request is what it tests, and stays. A
    malformed `If-None-Match` (Schemathesis's boundary values ignore the pattern) is
    dropped from positive requests."""
    headers = case.headers or {}
    if "If-Match" in headers and (positive or well_formed_condition(headers["If-Match"])):
        path = case.operation.path.format(**(case.path_parameters or {}))
        reply = requests.get(
            case.operation.schema.get_base_url() + path, headers=AUTHORIZATION, timeout=10
        )
        if reply.status_code == 200:
            headers["If-Match"] = reply.headers["ETag"]
        elif positive:
            del headers["If-Match"]
    condition = headers.get("If-None-Match")
    if positive and condition is not None and not well_formed_condition(condition):
        del headers["If-None-Match"]


def feed_position_that_exists(case):
    """A long poll waits at most a second here. The change feed's `after` must not pass the newest event, which a schema
    cannot know; a made-up larger one is rightly a 400 naming `after`
    (tests/events.rs). It is brought down to the newest event."""
    query = case.query or {}
    # A long poll with nothing new answers at its deadline (tests/events.rs times
    # it); waiting up to a minute per case would only slow the run down.
    if isinstance(query.get("wait"), int) and query["wait"] > 1:
        query["wait"] = 1
    after = query.get("after")
    if isinstance(after, str) and after.isdigit():
        after = int(after)
    if not isinstance(after, int):
        return
    newest = get_json(case.operation.schema.get_base_url(), "/api/v1/events?limit=1")
    if newest is not None and after > newest["newest_seq"]:
        case.query["after"] = newest["newest_seq"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Where Schemathesis makes up negative data, a well-formed `If-Match` names the
    current version. Where it makes up positive data: each request gets its own
    idempotency key and changes are conditional on the current version, the feed's `after` stays within the feed, a made-up cursor is dropped (the
    cursors the server issued, passed along the `next_page` links in the stateful
    phase, are kept), a status update's measurements are kept to its own goal's
    measures, an import body is made to follow the rules above, and a tracking
    sheet sent back names the plan's real goals."""
    meta = case.meta
    if meta is None:
        return
    if not meta.generation.mode.is_positive:
        conditions_on_real_versions(case, positive=False)
        return
    one_key_per_request(case)
    conditions_on_real_versions(case, positive=True)
    if case.operation.path == "/api/v1/events":
        feed_position_that_exists(case)
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and not issued_by_server(cursor):
        del case.query["cursor"]
    if case.operation.path in (UPDATES_OF_GOAL, UPDATE):
        own_measurements(case)
    if case.operation.path == SHEET_IMPORT:
        sheet_of_real_goals(case)
    if case.operation.path == IMPORT_PATH:
        if isinstance(case.body, str):
            case.body = outline_around(case.body)
        else:
            within_budget(case.body, {"goals": 5000, "status_updates": 50000})
            import_document(case.body)


# Dates that must come in order within one body. A body that breaks this is rightly
# a 422 (tests/plans.rs, tests/goals.rs); against the stored resource the same rule
# is a 409 conflict, which Schemathesis accepts.
ORDERED_DATES = (("period_start", "period_end"), ("start_date", "due_date"))


@schemathesis.hook
def filter_body(ctx, body):
    if not isinstance(body, dict):
        return True
    for earlier, later in ORDERED_DATES:
        first, second = body.get(earlier), body.get(later)
        # YYYY-MM-DD strings sort like the dates they name.
        if isinstance(first, str) and isinstance(second, str) and second < first:
            return False
    return True
