"""The service is killed (`kill -9`) in the middle of its work, and restarted.

Twice: during large plan imports, and during a burst of status updates. Afterwards
every acknowledged write is in the database, no plan is there in part, and every
write that got no answer succeeds when repeated with its Idempotency-Key.
"""

import random
import threading
import time
import uuid

from harness import (
    OPEN_WRITES, Client, Ledger, Load, Service, check, count, goal_ids, goals_per_plan,
    import_plan, make_token, plan_document, retry_unacknowledged, verify_consistency, verify_writes, wait_until)

ROUNDS = 3
# Kills that must land inside an open import transaction (one the kill rolled back);
# fewer, and the scenario did not test what it says.
MIN_INSIDE = ROUNDS - 1
SHAPE = (10, 20, 4)  # areas, goals per area, sub-goals per goal: 1,000 goals a plan


def run(cluster):
    return {"killed during imports": imports(cluster),
            "killed during a write burst": burst(cluster)}


def imports(cluster):
    cluster.reset()
    service = Service(cluster).start()
    token = make_token(service)
    client = Client(service, token, timeout=60)
    started = time.monotonic()
    import_plan(client, plan_document("Timing import", *SHAPE))
    seconds = time.monotonic() - started
    sent, acknowledged, lost = [], [], []
    inside, outcomes = 0, []
    try:
        for attempt in range(ROUNDS):
            results = []
            threads = [threading.Thread(target=keep_importing, args=(service, token, results),
                                        daemon=True) for _ in range(2)]
            for thread in threads:
                thread.start()
            # Some imports done, then killed while one has written and not committed.
            time.sleep(random.uniform(seconds, 3 * seconds))
            wait_until(lambda: writing(cluster, before_commit=True), 30, "an import writing")
            # The transactions open just before the kill. Whether the kill landed
            # inside one is read afterwards from the transaction's own fate, which
            # cannot race: a transaction whose COMMIT had reached the server commits
            # though its client is gone, one cut before it rolls back.
            open_xids = [row[0] for row in cluster.sql(
                f"SELECT backend_xid {OPEN_WRITES} AND query NOT ILIKE 'commit%'")]
            service.kill()
            for thread in threads:
                thread.join(10)
            sent += results
            acknowledged += [r for r in results if r["status"] == 201]
            lost += [r for r in results if r["status"] != 201]
            # A killed client's transaction runs on until its server process notices:
            # it commits if its COMMIT was sent, else it rolls back.
            wait_until(lambda: not writing(cluster), 30, "the killed service's transactions ending")
            fates = [fate(cluster, xid) for xid in open_xids]
            outcomes.append(count(fates))
            inside += "aborted" in fates
            service.start()
        expected = goals_per_plan(*SHAPE)
        plans = cluster.sql(
            "SELECT p.title, p.id, count(DISTINCT a.id), count(g.id) FROM plans p "
            "LEFT JOIN areas a ON a.plan_id = p.id LEFT JOIN goals g ON g.area_id = a.id "
            "WHERE p.title LIKE 'Crash drill %' GROUP BY p.id")
        found = {title: (plan_id, int(areas), int(goals)) for title, plan_id, areas, goals in plans}
        problems = []
        for title, (plan_id, areas, goals) in found.items():
            if (areas, goals) != (SHAPE[0], expected):
                problems.append(f"plan {title} is there in part: {areas} areas, {goals} goals of {expected}")
        for result in acknowledged:
            if result["title"] not in found:
                problems.append(f"acknowledged import {result['title']} is missing")
            elif found[result["title"]][0] != result["plan_id"]:
                problems.append(f"import {result['title']} has another id than acknowledged")
        # A cut import is there whole (its COMMIT had reached the server) or has left
        # no row at all: no plan by its title, and no area or goal of a plan that is
        # not there (plans, areas and goals of every title are counted above).
        absent = [r for r in lost if r["title"] not in found]
        leftovers = int(cluster.value(
            "SELECT (SELECT count(*) FROM areas a WHERE NOT EXISTS (SELECT 1 FROM plans p WHERE p.id = a.plan_id))"
            " + (SELECT count(*) FROM goals g WHERE NOT EXISTS (SELECT 1 FROM areas a WHERE a.id = g.area_id))"))
        if leftovers:
            problems.append(f"{leftovers} areas and goals are left of plans that are not there")
        rolled_back = sum(outcome.get("aborted", 0) for outcome in outcomes)
        # Each rolled-back transaction was a cut import, which must be absent.
        if rolled_back > len(absent):
            problems.append(f"{rolled_back} import transactions rolled back, but only {len(absent)} "
                            "cut imports are absent")
        if inside < MIN_INSIDE:
            problems.append(f"only {inside} of {ROUNDS} kills landed inside an open import transaction "
                            f"(fates of the transactions open at each kill: {outcomes}); at least "
                            f"{MIN_INSIDE} must, to prove anything")
        if not lost:
            problems.append("no import was cut by the kill; the scenario tested nothing")
        check(not problems, "; ".join(problems))
        verify_consistency(cluster)
        return {
            "one import (s)": round(seconds, 2),
            "imports sent": len(sent),
            "answers": count(r["status"] for r in sent),
            "kills": ROUNDS,
            "kills that landed inside an open import transaction (it rolled back)": inside,
            "fates of the transactions open at each kill": outcomes,
            "imports cut by the kill": len(lost),
            "imports acknowledged / found complete": f"{len(acknowledged)} / "
            f"{sum(1 for r in acknowledged if r['title'] in found)}",
            "cut imports found complete (their COMMIT had reached the server) / absent, no row left":
                f"{len(lost) - len(absent)} / {len(absent)}",
        }
    finally:
        service.stop()


def fate(cluster, xid):
    """"committed" or "aborted": how a transaction ended. The suite's cluster is new,
    so its transaction ids are still in epoch 0, and the 32-bit id is the full one."""
    return cluster.value(f"SELECT pg_xact_status('{xid}'::xid8)")


def writing(cluster, before_commit=False):
    """Whether a transaction of the service has written and not yet committed; with
    `before_commit`, one that has not yet been told to commit either (a COMMIT
    received runs the deferred checks, then commits, client or not)."""
    return cluster.value(
        f"SELECT count(*) {OPEN_WRITES}"
        + (" AND query NOT ILIKE 'commit%'" if before_commit else "")) != "0"


def keep_importing(service, token, results):
    """Imports plans one after another until the service dies under it."""
    client = Client(service, token, timeout=60)
    while True:
        title = f"Crash drill {uuid.uuid4()}"
        reply = client.request("POST", "/api/v1/plans/import", plan_document(title, *SHAPE))
        result = {"title": title, "status": reply.status,
                  "plan_id": reply.json()["plan_id"] if reply.status == 201 else None}
        results.append(result)
        if reply.status != 201:
            return


def burst(cluster):
    cluster.reset()
    service = Service(cluster).start()
    token = make_token(service)
    try:
        client = Client(service, token)
        plan_id = import_plan(client, plan_document("Burst drill"))
        goals = goal_ids(cluster, plan_id)
        ledger = Ledger()
        for _ in range(2):
            with Load(service, token, goals, plan_id, writers=8, readers=0, ledger=ledger):
                time.sleep(random.uniform(1.5, 2.5))
                service.kill()
            wait_until(lambda: not writing(cluster), 30, "the killed service's transactions ending")
            service.start()
        answers = count(w.status for w in ledger.writes)
        acknowledged, found = verify_writes(cluster, ledger)
        check(acknowledged == found, f"{acknowledged - found} acknowledged writes are missing")
        retried = retry_unacknowledged(Client(service, token), ledger)
        verify_writes(cluster, ledger)
        return {"writes sent": len(ledger.writes), "answers": answers,
                "writes acknowledged / found after restart": f"{acknowledged} / {found}",
                "unanswered writes retried with their key, all applied once": retried}
    finally:
        service.stop()
