"""Schemathesis hooks for strategy-tracker (loaded by scripts/contract-check).

They teach the generator two rules of the API that JSON Schema cannot state. Both
rules are enforced by the service and covered by its own tests; the hooks only keep
made-up "valid" requests from breaking them.
"""

import base64
import binascii
import json

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


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Where Schemathesis makes up positive data, a made-up cursor is dropped; the
    cursors the server issued, passed along the `next_page` links in the stateful
    phase, are kept."""
    meta = case.meta
    cursor = (case.query or {}).get("cursor")
    if (
        isinstance(cursor, str)
        and meta is not None
        and meta.generation.mode.is_positive
        and not issued_by_server(cursor)
    ):
        del case.query["cursor"]


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
