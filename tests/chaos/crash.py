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
    Client, Ledger, Load, Service, check, count, goal_ids, goals_per_plan, import_plan, make_token,
    plan_document, retry_unacknowledged, verify_consistency, verify_writes, wait_until)

ROUNDS = 3
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
            service.kill()
            for thread in threads:
                thread.join(10)
            sent += results
            acknowledged += [r for r in results if r["status"] == 201]
            lost += [r for r in results if r["status"] != 201]
            # A killed client's transaction runs on until its server process notices:
            # it commits if its COMMIT was sent, else it rolls back.
            wait_until(lambda: not writing(cluster), 30, "the killed service's transactions ending")
            service.start()
        expected = goals_per_plan(*SHAPE)
        plans = cluster.sql(
            "SELECT p.title, p.id, count(DISTINCT a.id), count(g.id) FROM plans p "
            "LEFT JOIN areas a ON a.plan_id = p.id LEFT JOIN goals g ON g.area_id = a.id "
            "WHERE p.title LIKE 'Crash drill %' GROUP BY p.id")
        found = {title: (plan_id, int(areas), int(goals)) for title, plan_id, areas, goals in plans}
        for title, (plan_id, areas, goals) in found.items():
            check((areas, goals) == (SHAPE[0], expected),
                  f"plan {title} is there in part: {areas} areas, {goals} goals of {expected}")
        for result in acknowledged:
            check(result["title"] in found, f"acknowledged import {result['title']} is missing")
            check(found[result["title"]][0] == result["plan_id"],
                  f"import {result['title']} has another id than acknowledged")
        check(lost, "no import was cut by the kill; the scenario tested nothing")
        verify_consistency(cluster)
        return {
            "one import (s)": round(seconds, 2),
            "imports sent": len(sent),
            "answers": count(r["status"] for r in sent),
            "kills, each inside an import's uncommitted transaction": ROUNDS,
            "imports cut by the kill": len(lost),
            "imports acknowledged / found complete": f"{len(acknowledged)} / "
            f"{sum(1 for r in acknowledged if r['title'] in found)}",
            "cut imports found complete (their COMMIT had reached the server) / absent":
                f"{sum(1 for r in lost if r['title'] in found)} / "
                f"{sum(1 for r in lost if r['title'] not in found)}",
        }
    finally:
        service.stop()


def writing(cluster, before_commit=False):
    """Whether a transaction of the service has written and not yet committed; with
    `before_commit`, one that has not yet been told to commit either (a COMMIT
    received runs the change feed's numbering, then commits, client or not)."""
    return cluster.value(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'strategy_tracker' "
        "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
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
