"""Two service processes on one database, as a deployment with two replicas runs.

A mixed workload spread over both: the same Idempotency-Key sent to both at once is
applied once and both get the same answer; the same If-Match sent to both at once
lets exactly one change through; a reader following the change feed on one
instance sees every event, written through either, once and in order, with no
gap; and every goal's derived status is that of its latest update.
"""

import threading
import time
import uuid

from harness import (
    Client, Ledger, Load, Service, check, count, goal_ids, import_plan, make_token,
    plan_document, verify_writes)

RACES = 30


def run(cluster):
    cluster.reset()
    first = Service(cluster, name="first").start()
    second = Service(cluster, name="second").start()
    try:
        token = make_token(first)
        plan_id = import_plan(Client(first, token), plan_document("Two instances drill"))
        goals = goal_ids(cluster, plan_id)
        start_seq = Client(first, token).request("GET", "/api/v1/events?limit=1").json()["newest_seq"]
        follower = Follower(first, token, start_seq)
        follower.start()
        ledger = Ledger()
        # The races edit goals the load leaves alone: its updates change their tags.
        loaded, raced = goals[::2], goals[1::2]
        with Load(first, token, loaded, plan_id, writers=2, readers=1, ledger=ledger), \
                Load(second, token, loaded, plan_id, writers=2, readers=1, ledger=ledger):
            keys = idempotency_races(cluster, first, second, token, loaded)
            matches = if_match_races(first, second, token, raced)
        follower.finish()

        acknowledged, found = verify_writes(cluster, ledger)
        check(acknowledged == found, f"{acknowledged - found} acknowledged writes are missing")
        seqs = [event["seq"] for event in follower.events]
        check(seqs == list(range(start_seq + 1, start_seq + 1 + len(seqs))),
              "the feed read on the first instance skipped, repeated or reordered events")
        newest = int(cluster.value("SELECT max(seq) FROM events"))
        check(seqs and seqs[-1] == newest,
              f"the follower stopped at {seqs[-1] if seqs else None}, the feed ends at {newest}")
        created = {event["resource_id"] for event in follower.events
                   if event["resource_type"] == "status_update" and event["action"] == "created"}
        missing = [w for w in ledger.acknowledged() if w.update_id not in created]
        check(not missing, f"{len(missing)} acknowledged writes never appeared in the feed")
        return {
            "writes through both": count(w.status for w in ledger.writes),
            "writes acknowledged / found": f"{acknowledged} / {found}",
            "same Idempotency-Key to both at once": keys,
            "same If-Match to both at once": matches,
            "events followed on the first instance, in order, no gap": len(seqs),
            "follower's polls": follower.polls,
        }
    finally:
        first.stop()
        second.stop()


def idempotency_races(cluster, first, second, token, goals):
    """Sends one status update to both instances at the same moment, RACES times;
    then counts, in the database, how many times each was applied."""
    answers, notes = [], []
    for n in range(RACES):
        key = str(uuid.uuid4())
        body = {"status": "at_risk", "as_of": "2026-02-01", "note": f"race {key}"}
        path = f"/api/v1/goals/{goals[n % len(goals)]}/status-updates"
        replies = race([(first, "POST", path, body, {"Idempotency-Key": key}),
                        (second, "POST", path, body, {"Idempotency-Key": key})], token)
        for index, reply in enumerate(replies):
            # Still running on the other instance: retry as told, as a client does.
            while reply.status == 409 and reply.headers.get("retry-after"):
                time.sleep(float(reply.headers["retry-after"]))
                reply = Client([first, second][index], token).request(
                    "POST", path, body, {"Idempotency-Key": key})
            replies[index] = reply
        check(all(r.status == 201 for r in replies),
              f"key {key} answered {[r.status for r in replies]}")
        ids = {r.json()["id"] for r in replies}
        check(len(ids) == 1, f"key {key} created two status updates: {ids}")
        replayed = sum(1 for r in replies if r.headers.get("idempotent-replayed") == "true")
        check(replayed == 1, f"key {key}: {replayed} answers were marked as replayed, not 1")
        answers.append("first" if not replies[0].headers.get("idempotent-replayed") else "second")
        notes.append(f"race {key}")
    # The answers can agree while the work ran twice (a replay that also applied the
    # request): the database says how many status updates each key made.
    applied = dict(cluster.sql(
        "SELECT note, count(*) FROM status_updates WHERE note LIKE 'race %' GROUP BY note"))
    times = count(int(applied.get(note, 0)) for note in notes)
    check(times == {"1": RACES}, f"of {RACES} keys raced, the times each was applied: {times}")
    return {"races": RACES, "applied once each (counted in the database)":
            sum(1 for note in notes if applied.get(note) == "1"),
            "won by": count(answers)}


def if_match_races(first, second, token, goals):
    """Two editors change one goal with the same entity tag, one on each instance."""
    outcomes = []
    for n in range(RACES):
        path = f"/api/v1/goals/{goals[n % len(goals)]}"
        etag = Client(first, token).request("GET", path).headers["etag"]
        titles = [f"Goal edited on the first instance {n}", f"Goal edited on the second instance {n}"]
        replies = race([(first, "PATCH", path, {"title": titles[0]}, {"If-Match": etag}),
                        (second, "PATCH", path, {"title": titles[1]}, {"If-Match": etag})], token)
        statuses = sorted(r.status for r in replies)
        check(statuses == [200, 412], f"two PATCHes with one If-Match answered {statuses}")
        winner = titles[[r.status for r in replies].index(200)]
        now = Client(second, token).request("GET", path).json()["title"]
        check(now == winner, f"the goal's title is {now!r}, not the winner's {winner!r}")
        outcomes.append(statuses)
    return {"races": RACES, "one 200 and one 412 each": len(outcomes)}


def race(requests, token):
    """Sends the requests at the same moment, each from its own connection."""
    replies = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def send(index, service, method, path, body, headers):
        client = Client(service, token)
        client.request("GET", "/healthz")  # connected before the barrier
        barrier.wait()
        replies[index] = client.request(method, path, body, headers)
        client.close()

    threads = [threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


class Follower(threading.Thread):
    """Follows the change feed with long polls, as the member portal syncs."""

    def __init__(self, service, token, after):
        super().__init__(daemon=True)
        self.client = Client(service, token, timeout=30)
        self.after = after
        self.events = []
        self.polls = 0
        self.stopping = threading.Event()
        self.failure = None

    def run(self):
        while True:
            reply = self.client.request("GET", f"/api/v1/events?after={self.after}&limit=500&wait=2")
            self.polls += 1
            if reply.status != 200:
                self.failure = f"the feed answered {reply.status}: {reply.body[:200]!r}"
                return
            page = reply.json()
            self.events += page["items"]
            self.after = page["next_after"]
            if self.stopping.is_set() and not page["items"]:
                return

    def finish(self):
        """Reads on until the feed has nothing more."""
        self.stopping.set()
        self.join(60)
        check(self.failure is None, self.failure)
