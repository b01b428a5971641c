"""The benchmark's dataset, loaded through the API as an association would load it.

Usage: dataset.py BASE_URL TOKEN OUT_DIR [--scale N]

Imports N x 20 plans of 8 strategic areas, each area with 5 goals of 4 sub-goals
(25 goals; 200 a plan), and one plan of 1,000 goals (10 areas of 20 goals with 4
sub-goals each) for the whole-plan document. Every goal gets 2 status updates, so the
database starts with about 10,000 (scale 1); `grow` in scripts/bench adds older ones
to reach 100,000 and 1,000,000. Plans are published (active), as the portal reads them.

Then the largest plan one import allows (MAX_GOALS and MAX_UPDATES in
src/models/import.rs): 5,000 goals (50 areas of 20 goals with 4 sub-goals each), 10
status updates each, 50,000 in all, in one request of about 15 MB. It is kept apart
from the rest: its goals are not in goals.txt (no scenario writes to it), and
scripts/bench neither grows it nor counts it in a stage's status updates.

Writes, for the load scripts: goals.txt (every goal id but the largest plan's),
plans.txt (the 200-goal plans), big_plan.txt (the 1,000-goal plan) and huge_plan.txt
(the 5,000-goal plan).
"""

import datetime
import json
import sys
import time
import urllib.request
from pathlib import Path

STATUSES = ["on_track", "on_track", "at_risk", "completed", "not_started", "off_track"]


def goal(code, n, sub_goals=(), updates=2):
    """A goal with `updates` status updates, dated a quarter apart."""
    status = STATUSES[n % len(STATUSES)]
    reports = [
        {
            "status": status,
            "progress_percent": (n * 7 + offset * 20) % 101,
            "note": f"Quarterly report {offset + 1} on goal {code}",
            "author": "Member engagement committee",
            "as_of": (datetime.date(2025, 3, 31) + datetime.timedelta(days=91 * offset)).isoformat(),
        }
        for offset in range(updates)
    ]
    return {
        "title": f"Goal {code}: develop the member engagement campaign, part {n}",
        "owner": f"Committee {n % 12}",
        "due_date": "2026-08-31",
        "status_updates": reports,
        "sub_goals": list(sub_goals),
    }


def plan(title, areas, top_goals, sub_goals, updates=2):
    """A published plan of `areas` areas, each of `top_goals` goals with `sub_goals`
    sub-goals, every goal with `updates` status updates."""
    document_areas = []
    n = 0
    for a in range(1, areas + 1):
        goals = []
        for g in range(1, top_goals + 1):
            subs = []
            for s in range(1, sub_goals + 1):
                n += 1
                subs.append(goal(f"{g}.{s}", n, updates=updates))
            n += 1
            goals.append(goal(str(g), n, subs, updates=updates))
        document_areas.append({"title": f"Strategic Area {a}", "goals": goals})
    return {
        "title": title,
        "value_proposition": "At some phases of your career, you will need Core.",
        "period_start": "2025-01-01",
        "period_end": "2027-12-31",
        "status": "active",
        "approved_by": "Board of Directors",
        "approved_on": "2024-12-01",
        "areas": document_areas,
    }


def call(base_url, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=300) as reply:
        return json.load(reply)


def goal_ids(base_url, token, plan_id):
    sheet = call(base_url, token, "GET", f"/api/v1/plans/{plan_id}/tracking-sheet")
    return [row["goal_id"] for row in sheet["rows"]]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    base_url, token, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    scale = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--scale" else 1
    out.mkdir(parents=True, exist_ok=True)
    plans, goals = [], []
    for p in range(20 * scale):
        report = call(
            base_url, token, "POST", "/api/v1/plans/import",
            plan(f"Strategic Plan {p + 1}", areas=8, top_goals=5, sub_goals=4),
        )
        plans.append(report["plan_id"])
        goals += goal_ids(base_url, token, report["plan_id"])
    big = call(
        base_url, token, "POST", "/api/v1/plans/import",
        plan("The 1,000-goal plan", areas=10, top_goals=20, sub_goals=4),
    )["plan_id"]
    goals += goal_ids(base_url, token, big)
    # The largest plan the import allows, in one request: 5,000 goals, 50,000 updates.
    started = time.monotonic()
    huge = call(
        base_url, token, "POST", "/api/v1/plans/import",
        plan("The 5,000-goal plan", areas=50, top_goals=20, sub_goals=4, updates=10),
    )
    took = time.monotonic() - started
    counts = huge["created"]
    if (counts["goals"], counts["status_updates"]) != (5_000, 50_000):
        sys.exit(f"the 5,000-goal plan imported as {counts}")
    (out / "plans.txt").write_text("\n".join(plans) + "\n")
    (out / "goals.txt").write_text("\n".join(goals) + "\n")
    (out / "big_plan.txt").write_text(big + "\n")
    (out / "huge_plan.txt").write_text(huge["plan_id"] + "\n")
    print(f"loaded {len(plans)} plans of 200 goals and one of 1,000: {len(goals)} goals; "
          f"the plan of 5,000 goals and 50,000 updates in {took:.1f} s")


if __name__ == "__main__":
    main()
