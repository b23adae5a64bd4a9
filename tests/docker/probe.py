"""Timing helpers for tests/docker/run.sh (standard library only). The clock starts in
here, right before the command, so that this interpreter's own start-up is not counted.

    probe.py free-port          a free TCP port on 127.0.0.1
    probe.py timed CMD...       runs CMD; prints the ms it took
    probe.py start URL FILTER CMD...
                                runs CMD (which starts trent), then polls URL every 2 ms
                                until it answers {"status": "ok"}, then the health status
                                of the container `docker ps --filter FILTER` finds until
                                healthy; prints "<ms to answer> <ms to healthy>
                                <epoch CMD returned> <epoch of answer>"
    probe.py wait-answer URL    polls URL until it answers
    probe.py ready CONTAINER RETURNED_AT ANSWERED_AT
                                from the container's last start (State.StartedAt) to
                                trent's "serving" log line, to RETURNED_AT and to
                                ANSWERED_AT (epoch s); prints "<ms> <ms> <ms>"

Polling starts when CMD has returned, not before: a connection that Docker's port proxy
passes on before the container's network is up leaves the host a stale neighbour entry
for the container, and every connection then waits about a second for it.
"""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone

TIMEOUT = 30.0


def fail(why):
    print(f"probe.py: {why}", file=sys.stderr)
    sys.exit(1)


def run(cmd):
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        fail(f"{' '.join(cmd)} exited with {done.returncode}")


def epoch(stamp):
    """An RFC 3339 UTC time (Docker's nanoseconds, or trent's microseconds) as epoch s."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(?:Z|\+00:00)", stamp)
    if not m:
        fail(f"not a UTC time: {stamp!r}")
    whole = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return whole.timestamp() + float("0." + (m.group(2) or "0"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def timed(*cmd):
    t0 = time.time()
    run(list(cmd))
    print(f"{(time.time() - t0) * 1000:.0f}")


def answer(url):
    """Polls until trent answers; the time of the answer."""
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200 and json.load(r).get("status") == "ok":
                    return time.time()
        except (OSError, ValueError):
            pass
        time.sleep(0.002)
    fail(f"no answer from {url} within {TIMEOUT} s")


def inspect(container, template):
    return subprocess.run(
        ["docker", "inspect", "--format", template, container],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def start(url, ps_filter, *cmd):
    t0 = time.time()
    run(list(cmd))
    returned = time.time()
    answered = answer(url)
    container = subprocess.run(
        ["docker", "ps", "-q", "--filter", ps_filter], check=True, capture_output=True,
        text=True,
    ).stdout.split()
    if len(container) != 1:
        fail(f"docker ps --filter {ps_filter} finds {container}")
    deadline = time.time() + TIMEOUT
    status = ""
    while time.time() < deadline:
        status = inspect(container[0], "{{.State.Health.Status}}")
        if status == "healthy":
            healthy = time.time()
            print(
                f"{(answered - t0) * 1000:.0f} {(healthy - t0) * 1000:.0f} "
                f"{returned:.6f} {answered:.6f}"
            )
            return
        time.sleep(0.02)
    fail(f"{container[0]} is {status!r}, not healthy, after {TIMEOUT} s")


START_SLACK_S = 0.25


def ready(container, returned_at, answered_at):
    started = epoch(inspect(container, "{{.State.StartedAt}}"))
    logs = subprocess.run(
        ["docker", "logs", container], check=True, capture_output=True, text=True
    )
    for line in (logs.stdout + logs.stderr).splitlines():
        if "serving the AWS KMS API" not in line:
            continue
        # Pretty lines start with the time; JSON lines carry it as "timestamp".
        m = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|\+00:00)", line)
        # Docker stamps StartedAt a little after the process starts, and a fast start
        # logs before that: allow a moment of slack (an earlier run's line is seconds
        # older).
        if m and epoch(m.group(0)) >= started - START_SLACK_S:
            serving = max(epoch(m.group(0)), started)
            print(
                " ".join(
                    f"{(t - started) * 1000:.1f}"
                    for t in (serving, float(returned_at), float(answered_at))
                )
            )
            return
    fail(f"no 'serving' log line of {container} after its start")


def main(argv):
    commands = {
        "free-port": free_port,
        "timed": timed,
        "start": start,
        "wait-answer": lambda url: answer(url) and None,
        "ready": ready,
    }
    if not argv or argv[0] not in commands:
        fail(__doc__)
    commands[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
