"""`SIGTERM` under load, as a deployment's rolling restart sends it.

Requests in flight finish with their answers (imports, writes, reads, a long poll of
the change feed, which ends early with an empty page); requests sent afterwards are
refused before the service reads them; the process exits within
`SHUTDOWN_GRACE_SECONDS`, and every acknowledged write is in the database. Past the
grace period, what is left is cut off, and a cut import leaves nothing behind.
"""

import threading
import time
import uuid

from harness import (
    OPEN_WRITES, Client, Load, Service, check, count, goal_ids, goals_per_plan, import_plan, make_token,
    plan_document, verify_writes, wait_until)

GRACE = 5
IMPORT_SHAPE = (10, 20, 4)          # 1,000 goals: about a second's work in the debug build
# A request sent this close before the signal, on a kept-alive connection, may meet
# the closing service before it was read ("connection lost"; RELIABILITY.md, "What
# is not promised"). It must then have applied nothing. Any request sent earlier was
# read, and must finish: a service that cuts requests off fails on the imports,
# which run for about a second each.
RACE_WINDOW = 0.05
# Past the grace period: an import too large to finish within a 1 s grace.
SHORT_GRACE = 1
LARGE_SHAPE = (10, 50, 9)           # 5,000 goals, the most one document may hold


def run(cluster):
    return {"under load": under_load(cluster), "a long poll waiting": long_poll(cluster),
            "past the grace period": past_grace(cluster)}


def long_poll(cluster):
    """A portal's long poll of the change feed, waiting on a quiet service: SIGTERM
    ends it at once with an empty page (the portal polls again, elsewhere), instead
    of holding the exit for the whole grace period and then cutting it off."""
    cluster.reset()
    service = Service(cluster, shutdown_grace_seconds=GRACE).start()
    try:
        token = make_token(service)
        client = Client(service, token, timeout=40)
        newest = client.request("GET", "/api/v1/events?limit=1").json()["newest_seq"]
        polls = []
        poller = threading.Thread(target=lambda: polls.append(
            client.request("GET", f"/api/v1/events?after={newest}&wait=30")), daemon=True)
        poller.start()
        time.sleep(1)
        signalled, code, exited = terminate(service)
        poller.join(5)
        check(code == 0, f"the service exited with {code}")
        check(polls, "the long poll got no answer")
        poll = polls[0]
        check(poll.ok and poll.json()["items"] == [],
              f"the long poll ended {poll.status} {poll.body[:200]!r}")
        check(exited < 2, f"the service took {exited:.1f} s to exit with a long poll waiting")
        return {"exited after (s)": round(exited, 2), "exit code": code,
                "long poll answered": poll.status,
                "long poll answered after SIGTERM (s)": round(poll.started + poll.seconds - signalled, 2)}
    finally:
        service.stop()


def under_load(cluster):
    cluster.reset()
    service = Service(cluster, shutdown_grace_seconds=GRACE).start()
    try:
        token = make_token(service)
        client = Client(service, token)
        plan_id = import_plan(client, plan_document("Shutdown drill"))
        goals = goal_ids(cluster, plan_id)
        imports = []    # (title, reply)

        def keep_importing():
            importer = Client(service, token, timeout=30)
            while True:
                title = f"Shutdown import {uuid.uuid4()}"
                reply = importer.request("POST", "/api/v1/plans/import",
                                         plan_document(title, *IMPORT_SHAPE))
                imports.append((title, reply))
                if not reply.ok:
                    return

        threads = [threading.Thread(target=keep_importing, daemon=True) for _ in range(2)]
        with Load(service, token, goals, plan_id, writers=3, readers=2) as load:
            for thread in threads:
                thread.start()
            time.sleep(1.5)
            # The signal lands while an import's transaction is open, so that one is
            # surely in flight, mid-work.
            wait_until(lambda: open_transactions(cluster) > 0, 30, "an import writing")
            signalled, code, exited = terminate(service)
            time.sleep(0.5)
        for thread in threads:
            thread.join(5)

        kinds = ([("write", w.reply, w) for w in load.ledger.writes]
                 + [("read", r, None) for r in load.ledger.reads]
                 + [("import", reply, title) for title, reply in imports])
        # In flight: sent before the signal, and its answer not yet arrived when it came.
        in_flight = [(kind, r, what) for kind, r, what in kinds
                     if r.started < signalled < r.started + r.seconds]
        after = [r for _, r, _ in kinds if r.started >= signalled]
        unfinished = [(kind, r, what) for kind, r, what in in_flight if not r.ok]
        raced = [(kind, r, what) for kind, r, what in unfinished
                 if r.status == "connection lost" and signalled - r.started < RACE_WINDOW]
        cut = [item for item in unfinished if item not in raced]
        problems = []
        if code != 0:
            problems.append(f"the service exited with {code}")
        if exited > GRACE + 1:
            problems.append(f"the service took {exited:.1f} s to exit (grace {GRACE} s)")
        if cut:
            problems.append(
                f"{len(cut)} of {len(in_flight)} requests in flight at SIGTERM did not finish: "
                + ", ".join(f"{kind} sent {signalled - r.started:.2f} s before -> {r.status}"
                            for kind, r, _ in cut[:6]))
        in_flight_imports = [(r, title) for kind, r, title in in_flight if kind == "import"]
        if not in_flight_imports:
            problems.append("no import was in flight at SIGTERM; the scenario tested nothing")
        # Served in full, or refused before anything was read.
        if not all(r.ok or r.status in ("refused", "connection lost") for r in after):
            problems.append(f"requests after SIGTERM were answered {count(r.status for r in after)}")

        complete = plans_complete(cluster, "Shutdown import %")
        expected = goals_per_plan(*IMPORT_SHAPE)
        for r, title in in_flight_imports:
            if r.ok and complete.get(title) != expected:
                problems.append(f"import {title} answered 201 but holds {complete.get(title)} goals")
        for title, goals_found in complete.items():
            if goals_found != expected:
                problems.append(f"plan {title} is there in part: {goals_found} goals of {expected}")
        # Whatever got no answer applied nothing: no write, no plan.
        late_writes = [w for w in load.ledger.writes if not w.reply.ok]
        applied = cluster.value(
            "SELECT count(*) FROM status_updates WHERE note = ANY(ARRAY[{}]::text[])".format(
                ",".join(f"'chaos {w.key}'" for w in late_writes) or "NULL"))
        if applied != "0":
            problems.append(f"{applied} writes that got no answer were applied")
        left = [title for title, r in imports if not r.ok and title in complete]
        if left:
            problems.append(f"{len(left)} imports that got no answer were applied")
        acknowledged, found = verify_writes(cluster, load.ledger)
        check(not problems, "; ".join(problems))
        return {
            "exited after (s)": round(exited, 2),
            "exit code": code,
            "requests in flight at SIGTERM (answer not yet arrived)": count(k for k, _, _ in in_flight),
            "answers in flight": count(r.status for _, r, _ in in_flight),
            f"in flight but sent within {RACE_WINDOW} s of the signal, unread and not applied": len(raced),
            "imports in flight, answered 201 and found complete":
                sum(1 for r, title in in_flight_imports if r.ok and complete.get(title) == expected),
            "requests sent after SIGTERM": len(after),
            "answers after SIGTERM": count(r.status for r in after),
            "writes acknowledged / found": f"{acknowledged} / {found}",
        }
    finally:
        service.stop()


def past_grace(cluster):
    """An import too large to finish in a 1 s grace period, signalled while its
    transaction is open: the process exits when the grace ends, the import is cut
    off without an answer, and its transaction rolls back, leaving no row."""
    cluster.reset()
    service = Service(cluster, shutdown_grace_seconds=SHORT_GRACE).start()
    try:
        token = make_token(service)
        title = f"Past the grace {uuid.uuid4()}"
        replies = []
        importer = threading.Thread(target=lambda: replies.append(Client(service, token, timeout=60).request(
            "POST", "/api/v1/plans/import", plan_document(title, *LARGE_SHAPE))), daemon=True)
        importer.start()
        wait_until(lambda: open_transactions(cluster) > 0, 30, "the import writing")
        signalled, code, exited = terminate(service)
        importer.join(10)
        check(replies, "the import's client got nothing back")
        reply = replies[0]
        wait_until(lambda: open_transactions(cluster) == 0, 30, "the cut import's transaction ending")
        rows = plans_complete(cluster, title)
        problems = []
        if reply.ok:
            problems.append(f"the import finished within the {SHORT_GRACE} s grace period "
                            f"({reply.seconds:.1f} s); the scenario tested nothing")
        elif reply.status != "connection lost":
            problems.append(f"the cut import was answered {reply.status}: {reply.body[:200]!r}")
        if not reply.ok and rows:
            problems.append(f"the cut import left its plan behind, with {rows[title]} goals")
        if not SHORT_GRACE - 0.2 <= exited <= SHORT_GRACE + 1:
            problems.append(f"the service exited {exited:.1f} s after SIGTERM, grace {SHORT_GRACE} s")
        check(not problems, "; ".join(problems))
        return {"grace (s)": SHORT_GRACE, "exited after (s)": round(exited, 2), "exit code": code,
                "import of 5,000 goals": f"{reply.status} after {reply.seconds:.2f} s",
                "rows it left": 0}
    finally:
        service.stop()


def open_transactions(cluster):
    """Transactions of the service that have written and not yet been told to commit."""
    return int(cluster.value(
        f"SELECT count(*) {OPEN_WRITES} AND query NOT ILIKE 'commit%'"))


def plans_complete(cluster, title_pattern):
    """Each plan whose title matches, and how many goals it holds."""
    return {title: int(goals) for title, goals in cluster.sql(
        "SELECT p.title, count(g.id) FROM plans p LEFT JOIN goals g ON g.plan_id = p.id "
        f"WHERE p.title LIKE '{title_pattern}' GROUP BY p.id")}


def terminate(service):
    """Sends SIGTERM; returns when it was sent, the exit code, and the seconds to exit."""
    signalled = time.monotonic()
    service.terminate()
    code = service.process.wait(GRACE + 10)
    return signalled, code, time.monotonic() - signalled
