"""`SIGTERM` under load, as a deployment's rolling restart sends it.

Requests in flight finish with their answers (imports, writes, a long poll of the
change feed, which ends early with an empty page); requests sent afterwards are
refused before the service reads them; the process exits within
`SHUTDOWN_GRACE_SECONDS`, and every acknowledged write is in the database.
"""

import threading
import time
import uuid

from harness import (
    Client, Load, Service, check, count, goal_ids, import_plan, make_token, plan_document,
    verify_writes)

GRACE = 5


def run(cluster):
    return {"under load": under_load(cluster), "a long poll waiting": long_poll(cluster)}


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
        imports = []

        def keep_importing():
            importer = Client(service, token, timeout=30)
            while True:
                reply = importer.request("POST", "/api/v1/plans/import",
                                         plan_document(f"Shutdown import {uuid.uuid4()}", 10, 20, 4))
                imports.append(reply)
                if not reply.ok:
                    return

        threads = [threading.Thread(target=keep_importing, daemon=True) for _ in range(2)]
        with Load(service, token, goals, plan_id, writers=3, readers=2) as load:
            for thread in threads:
                thread.start()
            time.sleep(1.5)
            signalled, code, exited = terminate(service)
            time.sleep(0.5)
        for thread in threads:
            thread.join(5)

        replies = [w.reply for w in load.ledger.writes] + load.ledger.reads + imports
        in_flight = [r for r in replies if r.started < signalled]
        after = [r for r in replies if r.started >= signalled]
        check(code == 0, f"the service exited with {code}")
        check(exited <= GRACE + 1, f"the service took {exited:.1f} s to exit (grace {GRACE} s)")
        # A request still on its way when the connection closed was never read; a
        # write among them is checked below not to have been applied.
        check(all(r.ok or r.status == "connection lost" for r in in_flight),
              f"requests in flight at SIGTERM ended {count(r.status for r in in_flight)}")
        # Served in full, or refused before anything was read.
        check(all(r.ok or r.status in ("refused", "connection lost") for r in after),
              f"requests after SIGTERM were answered {count(r.status for r in after)}")
        acknowledged, found = verify_writes(cluster, load.ledger)
        late = [w for w in load.ledger.writes if not w.reply.ok]
        applied = cluster.value(
            "SELECT count(*) FROM status_updates WHERE note = ANY(ARRAY[{}]::text[])".format(
                ",".join(f"'chaos {w.key}'" for w in late) or "NULL"))
        check(applied == "0", f"{applied} writes that got no answer were applied")
        return {
            "exited after (s)": round(exited, 2),
            "exit code": code,
            "requests in flight at SIGTERM": len(in_flight),
            "answers in flight": count(r.status for r in in_flight),
            "requests sent after SIGTERM": len(after),
            "answers after SIGTERM": count(r.status for r in after),
            "imports acknowledged": sum(1 for r in imports if r.ok),
            "writes acknowledged / found": f"{acknowledged} / {found}",
        }
    finally:
        service.stop()


def terminate(service):
    """Sends SIGTERM; returns when it was sent, the exit code, and the seconds to exit."""
    signalled = time.monotonic()
    service.terminate()
    code = service.process.wait(GRACE + 10)
    return signalled, code, time.monotonic() - signalled
