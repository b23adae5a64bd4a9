#!/usr/bin/env python3
"""The scale run: how trent's costs move as the store grows from 0 to 100,000 keys.

trent (release binary, on a database file) runs pinned to one core and wrk to the other.
At each checkpoint the run measures:

- CreateKey/s for a window, 16 connections, and the server's CPU time per CreateKey
  (user + system from /proc, over the same window);
- Encrypt 1 KiB req/s against a bare axum handler (`bare_axum`, on the same core) in
  five pairs of windows, the bare handler's just before trent's: this machine's speed
  moves by a third from one window to the next, so each trent window is compared with
  its neighbour, and the row shows the medians;
- RSS before a `kill -9`, the time from exec to the first answer of the restarted
  process (the median of three kills and restarts), and RSS after the restart once it
  has served an Encrypt window.

Between checkpoints CreateKey requests fill the store. Every answer must be a 2xx.

    tests/bench/scale.py                         # builds both release binaries
    tests/bench/scale.py --keys 20000 --step 5000
    TRENT_BIN=... BARE_BIN=... tests/bench/scale.py

Needs wrk (Debian package `wrk`) and taskset (util-linux); Python standard library only.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TICKS = os.sysconf("SC_CLK_TCK")
KIB = "A" * 1368  # base64 of 1 KiB


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, op, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/", json.dumps(body), {
        "X-Amz-Target": f"TrentService.{op}",
        "Content-Type": "application/x-amz-json-1.1",
    })
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    if answer.status != 200:
        raise RuntimeError(f"{op}: {answer.status} {data[:300]!r}")
    return json.loads(data)


def wrk(port, op, body, seconds, connections):
    """Runs wrk on the second core; returns (requests, requests/s, p50 ms)."""
    env = dict(os.environ, OP=op, BODY=json.dumps(body))
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", os.path.join(HERE, "kms.lua"), f"http://127.0.0.1:{port}/"],
        env=env, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk {op} saw errors:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    return requests, rate, float(p50.group(1)) * scale


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        kb = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
    return kb / 1024


def wait_answer(port, path, deadline=60.0):
    """Polls until the server answers a GET of `path` (any HTTP answer counts)."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.002)
        finally:
            conn.close()
    raise RuntimeError(f"no answer on port {port} within {deadline} s")


class Server:
    """A process pinned to core 0."""

    def __init__(self, argv, port, probe):
        self.argv, self.port, self.probe, self.proc = argv, port, probe, None

    def start(self):
        """Starts the process; returns seconds from exec to its first answer."""
        started = time.monotonic()
        self.proc = subprocess.Popen(["taskset", "-c", "0", *self.argv],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_answer(self.port, self.probe)
        return time.monotonic() - started

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def bare_rate(bare_bin, seconds, connections):
    port = free_port()
    server = Server([bare_bin, f"127.0.0.1:{port}"], port, "/")
    server.start()
    try:
        return wrk(port, "Encrypt", {"KeyId": "x", "Plaintext": KIB}, seconds, connections)[1]
    finally:
        server.stop()


def encrypt_against_bare(port, encrypt, bare_bin, window, connections, count=5):
    """`count` pairs of windows, bare then trent: the medians of trent's req/s, its p50
    and trent's share of the bare handler's rate, and the bare handler's rates."""
    pairs = []
    for _ in range(count):
        bare = bare_rate(bare_bin, window, connections)
        _, rate, p50 = wrk(port, "Encrypt", encrypt, window, connections)
        pairs.append((rate, p50, rate / bare, bare))
    median = [sorted(column)[count // 2] for column in zip(*pairs)]
    return median[0], median[1], median[2], [pair[3] for pair in pairs]


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "trent",
                    "--example", "bare_axum"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return (os.path.join(target, "release", "trent"),
            os.path.join(target, "release", "examples", "bare_axum"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="keys at the last checkpoint")
    parser.add_argument("--step", type=int, default=25_000, help="keys between checkpoints")
    parser.add_argument("--window", type=int, default=5, help="seconds of each measurement")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (apt-get install wrk util-linux)")
    trent_bin, bare_bin = os.environ.get("TRENT_BIN"), os.environ.get("BARE_BIN")
    if not trent_bin or not bare_bin:
        built = build()
        trent_bin, bare_bin = trent_bin or built[0], bare_bin or built[1]

    window, conns = args.window, args.connections
    bare = []
    data = tempfile.mkdtemp(prefix="trent-scale-")
    port = free_port()
    trent = Server([trent_bin, "--listen", f"127.0.0.1:{port}", "--data-dir", data,
                    "--rsa-key-pool", "0", "--log", "warn"], port, "/_trent/health")
    rows = []
    try:
        trent.start()
        key = call(port, "CreateKey", {})["KeyMetadata"]["KeyId"]
        encrypt = {"KeyId": key, "Plaintext": KIB}
        keys = 1
        checkpoints = [0, *range(args.step, args.keys + 1, args.step)]
        for checkpoint in checkpoints:
            while keys < checkpoint:  # fill, in windows of about 10 s
                per_window = max(1000, int(rows[-1]["create"] * 10)) if rows else 10_000
                count = min(checkpoint - keys, per_window)
                seconds = max(1, round(count / (rows[-1]["create"] if rows else 1000)))
                keys += wrk(port, "CreateKey", {}, seconds, conns)[0]
            before = cpu_seconds(trent.proc.pid)
            created, create_rate, create_p50 = wrk(port, "CreateKey", {}, window, conns)
            cpu_us = (cpu_seconds(trent.proc.pid) - before) / created * 1e6
            keys += created
            encrypt_rate, encrypt_p50, of_bare, bare_rates = encrypt_against_bare(
                port, encrypt, bare_bin, window, conns)
            bare += bare_rates
            rss_before = rss_mb(trent.proc.pid)
            # The median of three restarts: one start can fall in a slow moment of the
            # machine.
            restarts = []
            for _ in range(3):
                trent.kill9()
                restarts.append(trent.start())
            restart = sorted(restarts)[1]
            wrk(port, "Encrypt", encrypt, window, conns)
            rss_after = rss_mb(trent.proc.pid)
            rows.append(dict(keys=keys, create=create_rate, create_p50=create_p50, cpu=cpu_us,
                             encrypt=encrypt_rate, encrypt_p50=encrypt_p50, of_bare=of_bare,
                             restart=restart * 1000, rss_before=rss_before, rss_after=rss_after))
            print(f"  {keys:>7} keys: CreateKey {create_rate:,.0f}/s, Encrypt {encrypt_rate:,.0f}/s,"
                  f" restart {restart * 1000:.0f} ms", file=sys.stderr, flush=True)
        listed = 0
        marker = None
        while True:  # every acknowledged key is there after the restarts
            page = call(port, "ListKeys", {"Limit": 1000, **({"Marker": marker} if marker else {})})
            listed += len(page["Keys"])
            if not page.get("Truncated"):
                break
            marker = page["NextMarker"]
        if listed < keys:
            raise RuntimeError(f"{keys} keys acknowledged, {listed} listed after the restarts")
    finally:
        trent.stop()
        shutil.rmtree(data, ignore_errors=True)

    empty = rows[0]
    print(f"trent {os.path.basename(trent_bin)}: one core for the server, one for wrk "
          f"(-c{conns}); bare axum handler: {min(bare):,.0f} to {max(bare):,.0f} req/s\n")
    print("| keys | CreateKey/s (p50) | of the first | CPU per CreateKey | Encrypt 1 KiB/s (p50) "
          "| of bare axum | restart after kill -9 (median of 3) | RSS before / after restart |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['keys']:,} | {row['create']:,.0f} ({row['create_p50']:.1f} ms) "
              f"| {row['create'] / empty['create']:.0%} | {row['cpu']:.0f} µs "
              f"| {row['encrypt']:,.0f} ({row['encrypt_p50']:.2f} ms) "
              f"| {row['of_bare']:.0%} | {row['restart']:.0f} ms "
              f"| {row['rss_before']:.0f} / {row['rss_after']:.0f} MB |")


if __name__ == "__main__":
    main()
