"""Starts trent binaries on port 0 with fresh data directories, for the client tests."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("TRENT_BIN", str(ROOT / "target" / "debug" / "trent"))

# Clients must never reach real AWS or read a developer's own settings.
CLIENT_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(CLIENT_ENV)


class Trent:
    """One trent process serving from `data_dir`."""

    def __init__(self, data_dir: Path, extra_args=()):
        self.data_dir = data_dir
        self.log = open(data_dir.parent / f"{data_dir.name}.log", "w+")
        self.proc = subprocess.Popen(
            # No RSA key pool: many short-lived servers filling pools would starve the
            # tests of CPU; RSA keys are generated when asked for instead.
            [BIN, "--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
             "--rsa-key-pool", "0", *(extra_args or ("--log", "info"))],
            stderr=self.log,
            stdout=subprocess.DEVNULL,
        )
        self.endpoint = self._wait_for_address()

    def _wait_for_address(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.log.seek(0)
            match = re.search(r"serving the AWS KMS API on (http://\S+)", self.log.read())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"trent exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError("trent did not report its address")

    def client(self, region: str = "us-east-1"):
        return boto3.client("kms", endpoint_url=self.endpoint, region_name=region)

    def kill(self):
        """SIGKILL: no shutdown, no flush."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()


@pytest.fixture
def start(tmp_path):
    """Returns a function that starts trent on a data dir (fresh by default)."""
    started = []

    def _start(data_dir: Path | None = None, *extra_args: str) -> Trent:
        server = Trent(data_dir or tmp_path / f"data{len(started)}", extra_args)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture
def trent(start):
    return start()


@pytest.fixture
def kms(trent):
    return trent.client()
