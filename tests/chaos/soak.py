"""A steady mixed load at half the capacity measured in the same run, for a bounded
time (60 s in the suite; `--soak-seconds` for longer). The service's memory, its
open files and its database connections stay flat, the p99 latency does not creep,
and no request fails.
"""

import random
import threading
import time

from harness import (
    Client, Ledger, Load, Service, check, count, goal_ids, import_plan, latency_percentile,
    make_token, plan_document, send_status_update, verify_writes)

SECONDS = 60
WINDOW = 5
CALIBRATION = 5
THREADS = 8
POOL_SIZE = 8
# The bounds of "steady": the rate sent is the rate asked, within RATE_TOLERANCE;
# memory stays flat, the last third's largest RSS within RSS_GROWTH and RSS_SLACK_MIB
# of the first's (a leak of 2 KiB a request, 20 MiB a minute, fails it); the p99 does
# not creep, the last third's largest window p99 within P99_GROWTH and P99_SLACK_MS of
# the first's (a 10-minute soak's moved by a quarter, from noise alone).
RATE_TOLERANCE = 0.10
RSS_GROWTH, RSS_SLACK_MIB = 1.05, 2
# Twice: on a shared two-core machine, a build running beside the soak took a clean
# service from 62 to 154 ms; a leak or a queue that grows goes far past that.
P99_GROWTH, P99_SLACK_MS = 2.0, 10


def run(cluster):
    cluster.reset()
    service = Service(cluster, database_pool_size=POOL_SIZE).start()
    try:
        token = make_token(service)
        plan_id = import_plan(Client(service, token), plan_document("Soak drill"))
        goals = goal_ids(cluster, plan_id)
        with Load(service, token, goals, plan_id, writers=2, readers=6) as load:
            time.sleep(CALIBRATION)
        capacity = (len(load.ledger.writes) + len(load.ledger.reads)) / CALIBRATION
        rate = capacity / 2
        ledger = Ledger()
        stop = threading.Event()
        # What became of each paced thread: a thread that dies stops sending, and
        # "no request failed" would then hold for requests never sent.
        fates = [{"sent": 0, "error": None} for _ in range(THREADS)]
        threads = [threading.Thread(target=paced, daemon=True,
                                    args=(Client(service, token), ledger, goals, plan_id,
                                          rate / THREADS, stop, fates[n]))
                   for n in range(THREADS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        windows = []
        while time.monotonic() < started + SECONDS:
            time.sleep(WINDOW)
            windows.append(sample(cluster, service, ledger, time.monotonic()))
        alive = sum(1 for thread in threads if thread.is_alive())
        stop.set()
        ended = time.monotonic()
        for thread in threads:
            thread.join(10)

        replies = [w.reply for w in ledger.writes] + ledger.reads
        held = len(replies) / (ended - started)
        problems = []
        if not all(r.ok for r in replies):
            problems.append(f"answers: {count(r.status for r in replies)}")
        died = [fate["error"] for fate in fates if fate["error"]]
        if died or alive < THREADS:
            problems.append(f"{THREADS - alive} of {THREADS} paced threads died before the end: {died[:3]}")
        if abs(held - rate) > RATE_TOLERANCE * rate:
            problems.append(f"the soak held {held:.0f} requests/s, not the {rate:.0f} asked "
                            f"(within {RATE_TOLERANCE:.0%})")
        acknowledged, found = verify_writes(cluster, ledger)
        third = max(1, len(windows) // 3)
        early, late = windows[1:1 + third] or windows[:1], windows[-third:]
        rss_early = max(w["rss MiB"] for w in early)
        rss_late = max(w["rss MiB"] for w in late)
        if rss_late > rss_early * RSS_GROWTH + RSS_SLACK_MIB:
            problems.append(f"memory grew from {rss_early} MiB to {rss_late} MiB")
        files_early = max(w["open files"] for w in early)
        # The pool may open its connections (up to POOL_SIZE files) as the load asks.
        if max(w["open files"] for w in late) > files_early + POOL_SIZE:
            problems.append("open files grew")
        if max(w["database connections"] for w in windows) > POOL_SIZE + 2:
            problems.append("the service held more database connections than its pool, its listener and its sequencer")
        p99_early = max(w["p99 ms"] for w in early)
        p99_late = max(w["p99 ms"] for w in late)
        if p99_late > p99_early * P99_GROWTH + P99_SLACK_MS:
            problems.append(f"the p99 crept from {p99_early} ms to {p99_late} ms")
        check(not problems, "; ".join(problems))
        return {
            "capacity measured (requests/s, 8 closed-loop clients)": round(capacity),
            "rate asked (requests/s)": round(rate),
            "rate held (requests/s)": round(held),
            "paced threads alive at the end": f"{alive} of {THREADS}",
            "seconds": SECONDS,
            "requests": len(replies),
            "answers": count(r.status for r in replies),
            "writes acknowledged / found": f"{acknowledged} / {found}",
            "rss MiB first third / last third": f"{rss_early} / {rss_late}",
            "p99 ms first third / last third": f"{p99_early} / {p99_late}",
            "database connections, most": max(w["database connections"] for w in windows),
            "windows": {f"{w['t']:.0f} s": {k: v for k, v in w.items() if k != "t"} for w in windows},
        }
    finally:
        service.stop()


def paced(client, ledger, goals, plan_id, rate, stop, fate):
    """Sends requests at `rate` a second, a quarter of them writes, without bursting
    to catch up: a slow answer delays the next instead of piling requests up. What
    kills it (an answer it cannot read, say) is kept in `fate`."""
    try:
        send_paced(client, ledger, goals, plan_id, rate, stop, fate)
    except Exception as error:
        fate["error"] = repr(error)[:200]


def send_paced(client, ledger, goals, plan_id, rate, stop, fate):
    interval = 1 / rate
    next_at = time.monotonic() + random.uniform(0, interval)
    while not stop.is_set():
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at = max(next_at + interval, time.monotonic())
        fate["sent"] += 1
        if random.random() < 0.25:
            send_status_update(client, ledger, random.choice(goals))
        else:
            path = random.choice([f"/api/v1/goals/{random.choice(goals)}",
                                  f"/api/v1/plans/{plan_id}/document?updates=latest",
                                  f"/api/v1/plans/{plan_id}/tracking-sheet"])
            ledger.record("read", client.request("GET", path))
    client.close()


def sample(cluster, service, ledger, now):
    """The last window's figures."""
    with ledger.lock:
        replies = [w.reply for w in ledger.writes] + list(ledger.reads)
    recent = [r for r in replies if r.started >= now - WINDOW]
    return {
        "t": now - min((r.started for r in replies), default=now),
        "requests/s": round(len(recent) / WINDOW),
        "p50 ms": round(latency_percentile(recent, 0.50) * 1000, 1),
        "p99 ms": round(latency_percentile(recent, 0.99) * 1000, 1),
        "rss MiB": round(service.rss_kib() / 1024, 1),
        "open files": service.open_files(),
        "database connections": int(cluster.value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'strategy_tracker' "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")),
    }
