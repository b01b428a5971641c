"""Reads pgbench's per-transaction logs into the one-line JSON the wrk scenarios print.

Usage: pgbench_result.py PGBENCH_OUTPUT LOG_FILE...

LOG_FILE: from pgbench --log, one line a transaction: client, transaction number,
latency in microseconds (or "failed" / "skipped"), script number, and the epoch
seconds and microseconds at which it ended. PGBENCH_OUTPUT: what pgbench printed
(stdout and stderr), where clients that lost or never got their connection are
reported; they stand for wrk's socket errors.

The duration is measured from the logs, from the first transaction's start to the
last one's end, not taken from -T: a run whose clients died early, or that ended
late, is then reported at the rate it really held.
"""

import json
import re
import sys


def main():
    output_path, log_paths = sys.argv[1], sys.argv[2:]
    latencies, errors = [], 0
    first_start, last_end = None, None
    for path in log_paths:
        with open(path) as log:
            for line in log:
                fields = line.split()
                if len(fields) < 6:
                    continue
                if not fields[2].isdigit():
                    errors += 1     # "failed" or "skipped"
                    continue
                latency = int(fields[2])
                end = int(fields[4]) * 1_000_000 + int(fields[5])
                latencies.append(latency)
                first_start = end - latency if first_start is None else min(first_start, end - latency)
                last_end = end if last_end is None else max(last_end, end)
    latencies.sort()
    with open(output_path, errors="replace") as output:
        text = output.read()
    # A client that could not connect, or whose connection broke, is aborted; each is
    # reported once ("client 3 aborted ...", "connection to server ... failed").
    socket_errors = len(re.findall(r"client \d+ aborted", text)) + len(
        re.findall(r"connection to server .* failed", text))

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else 0

    print(json.dumps({
        "requests": len(latencies),
        "duration_us": (last_end - first_start) if latencies else 0,
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        "socket_errors": socket_errors,
        "http_errors": errors,
    }))


if __name__ == "__main__":
    main()
