"""Follows the change feed with long polls while writes run, and measures how long
after a change each event reaches the follower.

Usage: feed_latency.py URL TOKEN SECONDS
Prints one JSON line: events received, and the p50, p99 and largest delay in µs
from an event's `occurred_at` (the start of its writing transaction, so the delay
is an upper bound of commit-to-answer) to the answer that carried it.
"""

import json
import sys
import time
import urllib.request
from datetime import datetime


def get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.load(reply)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0


def main():
    url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    after = get(f"{url}/api/v1/events?limit=1", token)["newest_seq"]
    delays = []
    end = time.time() + seconds
    while time.time() < end:
        page = get(f"{url}/api/v1/events?after={after}&limit=1000&wait=5", token)
        received = time.time()
        for event in page["items"]:
            occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
            delays.append(received - occurred.timestamp())
        after = page["next_after"]
    print(json.dumps({
        "events": len(delays),
        "p50_us": round(percentile(delays, 0.5) * 1e6),
        "p99_us": round(percentile(delays, 0.99) * 1e6),
        "max_us": round(max(delays, default=0) * 1e6),
    }))


if __name__ == "__main__":
    main()
