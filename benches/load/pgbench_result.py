"""Reads pgbench's per-transaction logs into the one-line JSON the wrk scenarios print.

Usage: pgbench_result.py DURATION_SECONDS LOG_FILE...   (from pgbench --log; the third
field of each line is the transaction's latency in microseconds, the fourth its script
number and failed transactions are marked in the fifth with "failed" on newer pgbench)
"""

import json
import sys


def main():
    duration = float(sys.argv[1])
    latencies, errors = [], 0
    for path in sys.argv[2:]:
        with open(path) as log:
            for line in log:
                fields = line.split()
                if len(fields) < 3:
                    continue
                if not fields[2].isdigit():
                    errors += 1
                    continue
                latencies.append(int(fields[2]))
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else 0

    print(json.dumps({
        "requests": len(latencies),
        "duration_us": int(duration * 1e6),
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        "socket_errors": 0,
        "http_errors": errors,
    }))


if __name__ == "__main__":
    main()
