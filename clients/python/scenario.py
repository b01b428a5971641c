"""Drive the live service through the generated Python client (openapi-python-client).

Usage: scenario.py [BASE_URL]   (default: $STRATEGY_TRACKER_URL; the service root, e.g.
http://127.0.0.1:8080, since the document's paths already start with /api/v1), with a
write token in $STRATEGY_TRACKER_TOKEN. Exits non-zero on the first mismatch.
"""

import datetime
import os
import sys
from pathlib import Path

# The client is generated, not committed: run-sdk-scenarios writes it next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent / "generated"))

from strategy_tracker_client import AuthenticatedClient, Client
from strategy_tracker_client.api.areas import create_area
from strategy_tracker_client.api.goals import create_goal, get_goal, list_plan_goals
from strategy_tracker_client.api.plans import create_plan, delete_plan
from strategy_tracker_client.api.status_updates import create_status_update
from strategy_tracker_client.models import (
    Area,
    AreaInput,
    Goal,
    GoalInput,
    GoalList,
    GoalStatus,
    Plan,
    PlanInput,
    PlanStatus,
    Problem,
    StatusUpdate,
    StatusUpdateInput,
)
from strategy_tracker_client.types import UNSET


def fail(message):
    sys.exit(f"FAIL: {message}")


def check(condition, message):
    if not condition:
        fail(message)


def expect(response, status, model):
    """The response has this status and the client parsed it into this model."""
    if response.status_code != status or not isinstance(response.parsed, model):
        fail(
            f"expected {status} {model.__name__}, got {int(response.status_code)} "
            f"{type(response.parsed).__name__}: {response.content.decode(errors='replace')}"
        )
    return response.parsed


def main():
    base_url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("STRATEGY_TRACKER_URL")
    if not base_url:
        sys.exit("usage: scenario.py BASE_URL (or set STRATEGY_TRACKER_URL)")
    token = os.environ.get("STRATEGY_TRACKER_TOKEN")
    if not token:
        sys.exit("set STRATEGY_TRACKER_TOKEN to a token with the write scope")

    # Without a token a write is refused, and the 401 is the typed Problem.
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    refused = expect(
        create_plan.sync_detailed(
            client=anonymous,
            body=PlanInput(
                title="Without a token",
                period_start=datetime.date(2022, 9, 1),
                period_end=datetime.date(2025, 8, 31),
            ),
        ),
        401,
        Problem,
    )
    print(f"without a token: 401 as expected: {refused.detail}")

    # The document's bearer scheme makes the generator send the token.
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)

    plan = expect(
        create_plan.sync_detailed(
            client=client,
            body=PlanInput(
                title="SDK scenario (Python)",
                period_start=datetime.date(2022, 9, 1),
                period_end=datetime.date(2025, 8, 31),
                status=PlanStatus.ACTIVE,
                approved_by="Core Board of Directors",
            ),
        ),
        201,
        Plan,
    )
    print(f"created plan {plan.id} ({plan.status})")

    area = expect(
        create_area.sync_detailed(
            plan.id, client=client, body=AreaInput(title="Member Engagement")
        ),
        201,
        Area,
    )
    print(f"created area {area.id} at position {area.position}")

    goal = expect(
        create_goal.sync_detailed(
            area.id,
            client=client,
            body=GoalInput(title="Develop overall member engagement and public relations campaign"),
        ),
        201,
        Goal,
    )
    sub = expect(
        create_goal.sync_detailed(
            area.id,
            client=client,
            body=GoalInput(
                title="Create a cohesive marketing plan",
                parent_goal_id=goal.id,
                owner="Marketing Committee",
            ),
        ),
        201,
        Goal,
    )
    print(f"created goal {goal.code} {goal.id} and sub-goal {sub.code} {sub.id}")

    update = expect(
        create_status_update.sync_detailed(
            sub.id,
            client=client,
            body=StatusUpdateInput(
                status=GoalStatus.ON_TRACK,
                progress_percent=40,
                note="Draft plan shared with the board",
                author="Core staff",
                as_of=datetime.date(2024, 3, 31),
            ),
        ),
        201,
        StatusUpdate,
    )
    print(f"posted status update {update.id}: {update.status}, {update.progress_percent}%")

    # One goal per page, so the cursor is followed at least twice.
    seen, cursor, pages = [], UNSET, 0
    while True:
        page = expect(
            list_plan_goals.sync_detailed(plan.id, client=client, limit=1, cursor=cursor),
            200,
            GoalList,
        )
        pages += 1
        check(len(page.items) <= 1, f"page {pages} has {len(page.items)} goals with limit=1")
        seen += [(g.id, g.code) for g in page.items]
        if not page.next_cursor:  # null on the last page
            break
        check(pages < 10, "pagination does not end")
        cursor = page.next_cursor
    codes = [code for _, code in seen]
    print(f"listed the plan's goals over {pages} pages: {codes}")
    check(
        seen == [(goal.id, "1"), (sub.id, "1.1")],
        f"expected goals 1 then 1.1, each once, got {seen}",
    )

    read = expect(get_goal.sync_detailed(sub.id, client=client), 200, Goal)
    print(f"read sub-goal back: {read.status}, {read.progress_percent}%")
    check(
        (read.status, read.progress_percent) == (update.status, update.progress_percent),
        f"sub-goal has {read.status}/{read.progress_percent}, "
        f"the update said {update.status}/{update.progress_percent}",
    )

    # A rule the types cannot express: the 422 comes back as the typed Problem model.
    problem = expect(
        create_plan.sync_detailed(
            client=client,
            body=PlanInput(
                title="Ends before it starts",
                period_start=datetime.date(2025, 9, 1),
                period_end=datetime.date(2025, 8, 31),
            ),
        ),
        422,
        Problem,
    )
    fields = [e.field for e in problem.errors or []]
    print(f"got 422 as expected: {problem.title}; fields {fields}")
    check(problem.status == 422, f"problem status is {problem.status}")
    check("period_end" in fields, f"the problem's errors do not name period_end: {fields}")

    response = delete_plan.sync_detailed(plan.id, client=client, cascade=True)
    check(response.status_code == 204, f"delete answered {int(response.status_code)}")
    print(f"deleted plan {plan.id} with everything in it")
    print("OK: Python SDK scenario passed")


if __name__ == "__main__":
    main()
