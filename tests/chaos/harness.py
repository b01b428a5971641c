"""The parts every fault scenario is built from: a PostgreSQL cluster of its own (so
that stopping or freezing it harms nothing else), the service as a real process,
an HTTP client that never waits past a deadline, a load of recorded writes, and the
checks that the database holds every acknowledged write and nothing half written.
"""

import contextlib
import http.client
import json
import os
import pwd
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# CHAOS_BINARY runs the suite against another build: a deliberately broken one, to
# see a check fail.
BINARY = Path(os.environ.get("CHAOS_BINARY", REPO / "target" / "debug" / "strategy-tracker"))
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))

# How long the service waits for a database connection, and how long it lets any
# request take, before answering 503, in seconds. A request that takes longer than
# REQUEST_TIMEOUT plus CLIENT_MARGIN is a hang.
DATABASE_TIMEOUT = 2
REQUEST_TIMEOUT = 4
CLIENT_MARGIN = 2


class Failure(AssertionError):
    """A broken promise: the scenario fails with this message."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, what):
    """Polls `predicate` every 50 ms; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.05)
    raise Failure(f"{what} did not happen within {timeout} s")


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on a free port. initdb refuses
    to run as root, so as root the cluster belongs to the `postgres` user."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="strategy-tracker-chaos-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = self.dir / "postgres.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.dir}'",
            "max_connections": 100,
            "shared_buffers": "'64MB'",
            # Durability as in production: every commit waits for the disk.
            "fsync": "on",
            "synchronous_commit": "on",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")
        self.start()

    def _run(self, program, *args, check_status=True):
        command = [str(PG_BIN / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if check_status and result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.strip()}")
        return result

    def url(self, database="strategy_tracker"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self):
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self, mode="fast"):
        """`fast` ends every session at once, as a restart by an operator does;
        `immediate` is a crash of the server."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def _processes(self):
        """The postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                        pids.append(int(entry))
        return pids

    def freeze(self):
        """Stops every server process where it stands, as a network partition or a
        stalled disk would: connections stay open and nothing answers."""
        self.frozen = self._processes()
        for pid in self.frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self.frozen:
            os.kill(pid, signal.SIGCONT)

    def sql(self, query, database="strategy_tracker"):
        """Rows of `query` as lists of text, through psql."""
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-AtX", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
            capture_output=True, text=True, check=True)
        return [line.split("\t") for line in result.stdout.splitlines()]

    def value(self, query, database="strategy_tracker"):
        return self.sql(query, database)[0][0]

    def reset(self):
        """A fresh database for the next scenario."""
        self.sql("DROP DATABASE IF EXISTS strategy_tracker WITH (FORCE)", "postgres")

    def destroy(self):
        with contextlib.suppress(Exception):
            self.stop("immediate")
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)


class Service:
    """The service binary, started as an operator would start it."""

    def __init__(self, cluster, name="service", **settings):
        self.cluster = cluster
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cluster.dir / f"{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": cluster.url(),
            "LISTEN_ADDR": f"127.0.0.1:{self.port}",
            "DATABASE_TIMEOUT_SECONDS": str(DATABASE_TIMEOUT),
            "REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT),
            "RATE_LIMIT_PER_TOKEN": "0",
            "RATE_LIMIT_PER_ADDRESS": "0",
            "RUST_LOG": "warn",
            **{key.upper(): str(value) for key, value in settings.items()},
        }
        self.process = None

    def cli(self, *args):
        """Runs a command of the binary (tokens create, ...) and returns its stdout."""
        result = subprocess.run([str(BINARY), *args], env=self.env, capture_output=True,
                                text=True, check=True)
        return result.stdout.strip()

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen([str(BINARY), "serve"], env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: self.process.poll() is None and status_of(self, "GET", "/healthz") == 200,
                       30, f"{self.base}/healthz answering")
        except Failure as failure:
            self.stop()
            raise Failure(f"{failure}; the service's log ends: {self.log_tail()}") from None
        return self

    def log_tail(self, lines=5):
        return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self):
        """kill -9: no chance to finish anything."""
        self.process.kill()
        self.process.wait()

    def terminate(self):
        self.process.send_signal(signal.SIGTERM)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def open_files(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


@dataclass
class Reply:
    status: object  # an HTTP status, or the name of what went wrong instead
    headers: dict
    body: bytes
    seconds: float
    started: float = 0.0

    def json(self):
        return json.loads(self.body)

    @property
    def ok(self):
        return isinstance(self.status, int) and 200 <= self.status < 300


class Client:
    """One keep-alive connection to the service, reopened after any failure. Every
    request has a deadline; one that passes it is recorded as a hang."""

    def __init__(self, service, token=None, timeout=REQUEST_TIMEOUT + CLIENT_MARGIN):
        self.service = service
        self.token = token
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        started = time.monotonic()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.service.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                          time.monotonic() - started, started)
            if response.will_close:
                self.close()
            return reply
        except (TimeoutError, socket.timeout):
            self.close()
            return Reply("hang", {}, b"", time.monotonic() - started, started)
        except ConnectionRefusedError:
            self.close()
            return Reply("refused", {}, b"", time.monotonic() - started, started)
        except (ConnectionError, http.client.HTTPException, OSError):
            self.close()
            return Reply("connection lost", {}, b"", time.monotonic() - started, started)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def status_of(service, method, path):
    client = Client(service, timeout=5)
    try:
        return client.request(method, path).status
    finally:
        client.close()


def make_token(service, name="chaos"):
    return service.cli("tokens", "create", "--name", name, "--scope", "write,admin")


def plan_document(title, areas=4, goals=5, sub_goals=3, updates=1):
    """An active plan to import: `areas` x `goals` goals with `sub_goals` sub-goals each."""
    def goal(code):
        return {
            "title": f"Goal {code}: widen the reach of continuing education",
            "owner": "Education committee",
            "status_updates": [
                {"status": "on_track", "progress_percent": 10 * n, "as_of": f"2025-0{n + 1}-15",
                 "note": f"Report {n + 1}"}
                for n in range(updates)
            ],
        }
    return {
        "title": title,
        "period_start": "2025-01-01",
        "period_end": "2027-12-31",
        "status": "active",
        "areas": [
            {"title": f"Strategic Area {a}",
             "goals": [dict(goal(f"{g}"), sub_goals=[goal(f"{g}.{s}") for s in range(1, sub_goals + 1)])
                       for g in range(1, goals + 1)]}
            for a in range(1, areas + 1)
        ],
    }


def goals_per_plan(areas, goals, sub_goals):
    return areas * goals * (1 + sub_goals)


def import_plan(client, document):
    reply = client.request("POST", "/api/v1/plans/import", document)
    check(reply.status == 201, f"import answered {reply.status}: {reply.body[:300]!r}")
    return reply.json()["plan_id"]


def goal_ids(cluster, plan_id):
    return [row[0] for row in cluster.sql(f"SELECT id FROM goals WHERE plan_id = '{plan_id}'")]


STATUSES = ["on_track", "at_risk", "off_track", "completed", "not_started"]


@dataclass
class Write:
    """One status update sent, and what came back."""
    key: str
    goal_id: str
    body: dict
    status: object = None
    update_id: str = None
    reply: Reply = None


@dataclass
class Ledger:
    """Every write a load sent and every answer it got, shared by its threads."""
    writes: list = field(default_factory=list)
    reads: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind, item):
        with self.lock:
            (self.writes if kind == "write" else self.reads).append(item)

    def acknowledged(self):
        return [write for write in self.writes if isinstance(write.status, int)
                and 200 <= write.status < 300]

    def unacknowledged(self):
        return [write for write in self.writes if not (isinstance(write.status, int)
                                                       and 200 <= write.status < 300)]


def send_status_update(client, ledger, goal_id, as_of="2026-01-15"):
    """POSTs a status update under a fresh Idempotency-Key and records the answer."""
    key = str(uuid.uuid4())
    write = Write(key, goal_id, {"status": random.choice(STATUSES),
                                 "progress_percent": random.randint(0, 100),
                                 "as_of": as_of, "note": f"chaos {key}"})
    reply = client.request("POST", f"/api/v1/goals/{goal_id}/status-updates", write.body,
                           {"Idempotency-Key": key})
    write.status = reply.status
    write.reply = reply
    if reply.ok:
        write.update_id = reply.json()["id"]
    ledger.record("write", write)
    return reply


class Load:
    """Writer and reader threads running until stopped: writers POST status updates
    to the given goals, readers GET goals, the document and `/readyz`."""

    def __init__(self, service, token, goals, plan_id, writers=2, readers=2, pause=0.0,
                 ledger=None):
        self.ledger = ledger or Ledger()
        self.stopping = threading.Event()
        self.threads = []
        for n in range(writers):
            self.threads.append(threading.Thread(
                target=self._write, args=(Client(service, token), goals, pause), daemon=True))
        for n in range(readers):
            self.threads.append(threading.Thread(
                target=self._read, args=(Client(service, token), goals, plan_id, pause),
                daemon=True))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + CLIENT_MARGIN + 5)

    def _write(self, client, goals, pause):
        while not self.stopping.is_set():
            reply = send_status_update(client, self.ledger, random.choice(goals))
            # A client backs off a little after an error, as any sane one does.
            time.sleep(pause if reply.ok else max(pause, 0.05))
        client.close()

    def _read(self, client, goals, plan_id, pause):
        paths = [lambda: f"/api/v1/goals/{random.choice(goals)}",
                 lambda: f"/api/v1/plans/{plan_id}/document?updates=latest",
                 lambda: f"/api/v1/plans/{plan_id}/tracking-sheet"]
        while not self.stopping.is_set():
            reply = client.request("GET", random.choice(paths)())
            self.ledger.record("read", reply)
            time.sleep(pause if reply.ok else max(pause, 0.05))
        client.close()


def problems_with(replies):
    """What is wrong with the error answers among `replies`: each must be a problem
    document, and a 503 must say when to retry."""
    found = []
    for reply in replies:
        if not isinstance(reply.status, int):
            if reply.status == "hang":
                found.append(f"a request hung for {reply.seconds:.1f} s")
            continue
        if reply.status >= 400 and reply.headers.get("content-type") != "application/problem+json":
            found.append(f"a {reply.status} was {reply.headers.get('content-type')}")
        if reply.status == 503 and "retry-after" not in reply.headers:
            found.append("a 503 without Retry-After")
    return found


def verify_writes(cluster, ledger):
    """The database against the ledger: every acknowledged write is there, once, with
    its change-feed event; no unacknowledged write is there twice or without its
    event; the feed is gapless; every goal's status is that of its latest update.
    Returns (acknowledged, found) counts."""
    number_queued_events(cluster)
    rows = cluster.sql(
        "SELECT substr(s.note, 7), s.id, count(e.seq) FROM status_updates s "
        "LEFT JOIN events e ON e.resource_id = s.id AND e.action = 'created' "
        "WHERE s.note LIKE 'chaos %' GROUP BY s.note, s.id")
    by_key = {}
    for key, update_id, events in rows:
        by_key.setdefault(key, []).append((update_id, int(events)))
    acknowledged = ledger.acknowledged()
    for write in acknowledged:
        found = by_key.get(write.key, [])
        check(len(found) == 1, f"acknowledged write {write.key} is in the database {len(found)} times")
        check(found[0][0] == write.update_id,
              f"acknowledged write {write.key} has id {found[0][0]}, not {write.update_id}")
    for key, found in by_key.items():
        check(len(found) == 1, f"write {key} is in the database {len(found)} times")
        check(found[0][1] == 1, f"status update {found[0][0]} has {found[0][1]} creation events")
    verify_consistency(cluster)
    return len(acknowledged), sum(1 for write in acknowledged if write.key in by_key)


# The service's transactions that have written and are still open, in
# pg_stat_activity: not the sequencer's passes, which number events on their own.
OPEN_WRITES = ("FROM pg_stat_activity WHERE datname = 'strategy_tracker' "
               "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid() "
               "AND query NOT ILIKE '%sequence_events()%'")


def number_queued_events(cluster):
    """Numbers the events still queued, as any reader of the feed does first: a
    service killed between a commit and its sequencer's pass leaves them there."""
    cluster.value("SELECT sequence_events()")


def verify_consistency(cluster):
    """Invariants of the whole database that no crash may break."""
    number_queued_events(cluster)
    # One statement, one snapshot: a commit landing between two reads would look
    # like a mismatch.
    count, low, high, counter = map(int, cluster.sql(
        "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0), "
        "(SELECT last_seq FROM event_counter) FROM events")[0])
    check(low >= 0 and (count == 0 or low == 1) and count == high,
          f"the change feed is not gapless from 1: {count} events numbered {low} to {high}")
    check(counter == high, f"the event counter says {counter}, the last event is {high}")
    stale = cluster.value(
        "SELECT count(*) FROM goals g WHERE g.status <> COALESCE((SELECT s.status FROM status_updates s "
        "WHERE s.goal_id = g.id ORDER BY s.as_of DESC, s.created_at DESC, s.id DESC LIMIT 1), 'not_started')")
    check(stale == "0", f"{stale} goals show a status other than their latest update's")
    orphans = cluster.value(
        "SELECT count(*) FROM status_updates s WHERE NOT EXISTS "
        "(SELECT 1 FROM events e WHERE e.resource_id = s.id)")
    check(orphans == "0", f"{orphans} status updates have no change-feed event")


def retry_unacknowledged(client, ledger):
    """Sends every write that got no 2xx again, with its body and Idempotency-Key, as
    a careful client would; each must now succeed, created or replayed. Returns how
    many were retried."""
    retried = ledger.unacknowledged()
    for write in retried:
        for _ in range(20):
            reply = client.request("POST", f"/api/v1/goals/{write.goal_id}/status-updates",
                                   write.body, {"Idempotency-Key": write.key})
            if reply.status not in (409, 503, "connection lost"):
                break
            time.sleep(0.5)
        check(reply.ok, f"retrying write {write.key} answered {reply.status}: {reply.body[:200]!r}")
        write.status = reply.status
        write.update_id = reply.json()["id"]
    return len(retried)


def count(statuses):
    """How many of each status, as a table for the report."""
    counts = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return dict(sorted(counts.items()))


def latency_percentile(replies, fraction):
    times = sorted(reply.seconds for reply in replies if isinstance(reply.status, int))
    if not times:
        return 0.0
    return times[min(len(times) - 1, int(len(times) * fraction))]
