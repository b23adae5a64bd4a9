"""Durability and concurrency: what trent acknowledged is on disk, and stays so.

- Sixteen clients using `alias/aws/s3` for the first time at the same moment get one
  AWS managed key and one alias, and a kill -9 keeps both.
- Sixteen clients writing for a while (CreateKey with tags, TagResource, CreateAlias,
  Encrypt/Decrypt, ScheduleKeyDeletion/CancelKeyDeletion, DisableKey/EnableKey), then a
  kill -9 in the middle of it: after a restart on the same data directory every write
  that was answered with a 200 is there, and every ciphertext trent handed out decrypts.
  A write in flight at the kill may or may not have landed; each client has at most one,
  and nothing else may have appeared. TRENT_DURABILITY_SECONDS sets how long the load
  runs (10 s by default; 60 for a longer manual run).
- A key purged after its deletion window (the clock moved past it) stays gone after a
  graceful restart and after a kill -9: the clock control's offset is not persisted, so a
  key that was only hidden would come back as PendingDeletion.
- At `--log trace` the log holds no plaintext, no data key and no key material (raw,
  base64, hex or as a list of bytes), while it does log the requests.
- A commit that fails (the data directory's file system is full) answers 500
  KMSInternalException and changes nothing a client can see; once there is room again,
  writes work and a restart shows exactly what was acknowledged.
"""

import base64
import collections
import json
import os
import random
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

THREADS = 16
LOAD_SECONDS = float(os.environ.get("TRENT_DURABILITY_SECONDS", "10"))

# No retries: a retried request would hide a failure before the kill, and a client whose
# server is gone must give up at once instead of backing off.
NO_RETRIES = Config(
    retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60
)


def own_client(endpoint: str, session=None):
    """A client without retries. Clients may be shared between threads but sessions may
    not: each thread makes its own session, or all clients come from one thread."""
    return (session or boto3.session.Session()).client(
        "kms", endpoint_url=endpoint, region_name="us-east-1", config=NO_RETRIES
    )


def clients(endpoint: str, n: int = 16) -> list:
    """`n` clients made in this thread from one session (its loaded model is reused)."""
    session = boto3.session.Session()
    return [own_client(endpoint, session) for _ in range(n)]


def all_keys(kms) -> list[str]:
    pages = kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1000})
    return [k["KeyId"] for page in pages for k in page["Keys"]]


def all_aliases(kms) -> list[dict]:
    pages = kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 100})
    return [a for page in pages for a in page["Aliases"]]


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def wait_until(condition, timeout: float = 15, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.load(resp)


# --- 1. concurrent first use of an AWS managed alias -----------------------------------


def test_concurrent_first_use_of_an_aws_managed_alias_makes_one_key(start):
    server = start()
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def first_use(i: int):
        try:
            kms = own_client(server.endpoint)
            barrier.wait(timeout=60)
            out = kms.encrypt(KeyId="alias/aws/s3", Plaintext=f"first use {i}".encode())
            results[i] = out["KeyId"], out["CiphertextBlob"]
        except Exception as e:  # reported below with the thread's number
            results[i] = e

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failures = {i: r for i, r in enumerate(results) if not isinstance(r, tuple)}
    assert not failures, f"Encrypt with alias/aws/s3 failed: {failures}"
    arns = {arn for arn, _ in results}
    assert len(arns) == 1, f"{THREADS} concurrent first uses made {len(arns)} keys: {arns}"
    arn = arns.pop()
    key_id = arn.rsplit("/", 1)[1]

    def check_one_managed_key(kms):
        s3 = [a for a in all_aliases(kms) if a["AliasName"] == "alias/aws/s3"]
        assert len(s3) == 1, s3
        assert s3[0]["TargetKeyId"] == key_id, s3
        assert all_keys(kms) == [key_id]
        meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
        assert meta["Arn"] == arn and meta["KeyManager"] == "AWS"
        assert meta["KeyState"] == "Enabled"

    check_one_managed_key(server.client())

    server.kill()
    again = start(server.data_dir)
    kms = again.client()
    check_one_managed_key(kms)
    for i, (_, blob) in enumerate(results):
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == f"first use {i}".encode()
    # Using the alias again after the restart makes no second key.
    assert kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")["KeyId"] == arn
    assert all_keys(kms) == [key_id]


# --- 2. acknowledged writes survive kill -9 under load ---------------------------------

ENABLED, DISABLED, PENDING = "Enabled", "Disabled", "PendingDeletion"


@dataclass
class Expected:
    """What one client knows of one of its keys from the answers it got."""

    tags: dict = field(default_factory=dict)
    state: str = ENABLED
    aliases: list = field(default_factory=list)


@dataclass
class InFlight:
    """The write a client had sent when the server died: it may or may not have landed.
    `key_id` is None for CreateKey; `state`, `tag` or `alias` is what it would have made."""

    op: str
    key_id: str | None = None
    state: str | None = None
    tag: tuple | None = None
    alias: str | None = None


class Writer(threading.Thread):
    """One client writing to its own keys, recording each acknowledged write."""

    # Relative weights of the operations.
    MIX = {
        "create": 15,
        "tag": 20,
        "alias": 8,
        "crypt": 27,
        "deletion": 10,
        "toggle": 20,
    }

    def __init__(self, n: int, kms, stop: threading.Event, killed: threading.Event):
        super().__init__(name=f"writer-{n}", daemon=True)
        self.n = n
        self.kms = kms
        self.stop_event = stop
        self.killed = killed
        self.rng = random.Random(n)
        self.counter = 0
        self.keys: dict[str, Expected] = {}
        self.aliases: dict[str, str] = {}
        self.ciphertexts: list[tuple[str, bytes, bytes]] = []  # key id, plaintext, blob
        self.acked = collections.Counter()
        self.in_flight: InFlight | None = None
        self.error: str | None = None
        self.died_by_kill = False

    def run(self):
        kms = self.kms
        ops = list(self.MIX)
        weights = list(self.MIX.values())
        while not self.stop_event.is_set():
            op = self.rng.choices(ops, weights)[0]
            self.counter += 1
            try:
                getattr(self, f"do_{op}")(kms)
            except ClientError as e:
                # The server answered: never expected, before or after the kill.
                meta = e.response.get("ResponseMetadata", {})
                self.error = f"{op}: {e.response['Error']} (request {meta.get('RequestId')})"
                self.stop_event.set()
                return
            except BotoCoreError as e:
                if self.killed.is_set():
                    self.died_by_kill = True  # the expected end: the server is gone
                else:
                    self.error = f"{op} before the kill: {e!r}"
                    self.stop_event.set()
                return
            except AssertionError as e:
                self.error = f"{op}: {e}"
                self.stop_event.set()
                return

    def _write(self, in_flight: InFlight, call):
        """Sends one write; on its 200 the caller records the result."""
        self.in_flight = in_flight
        out = call()
        self.in_flight = None
        return out

    def _pick(self, *states: str, max_tags: int = 1000) -> str | None:
        candidates = [
            k for k, e in self.keys.items() if e.state in states and len(e.tags) < max_tags
        ]
        return self.rng.choice(candidates) if candidates else None

    def do_create(self, kms):
        tags = {"thread": f"t{self.n}", "counter": str(self.counter)}
        out = self._write(
            InFlight("CreateKey"),
            lambda: kms.create_key(
                Description=f"durability t{self.n} #{self.counter}",
                Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()],
            ),
        )
        meta = out["KeyMetadata"]
        self.keys[meta["KeyId"]] = Expected(tags=dict(tags))
        self.acked["CreateKey"] += 1

    def do_tag(self, kms):
        # TagResource is refused on a key pending deletion; a key holds at most 50 tags.
        key_id = self._pick(ENABLED, DISABLED, max_tags=45)
        if key_id is None:
            return self.do_create(kms)
        tag = (f"w{self.counter}", f"t{self.n}-{self.counter}")
        self._write(
            InFlight("TagResource", key_id, tag=tag),
            lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": tag[0], "TagValue": tag[1]}]),
        )
        self.keys[key_id].tags[tag[0]] = tag[1]
        self.acked["TagResource"] += 1

    def do_alias(self, kms):
        key_id = self._pick(ENABLED, DISABLED)
        if key_id is None:
            return self.do_create(kms)
        name = f"alias/durability/t{self.n}-{self.counter}"
        self._write(
            InFlight("CreateAlias", key_id, alias=name),
            lambda: kms.create_alias(AliasName=name, TargetKeyId=key_id),
        )
        self.aliases[name] = key_id
        self.keys[key_id].aliases.append(name)
        self.acked["CreateAlias"] += 1

    def do_crypt(self, kms):
        key_id = self._pick(ENABLED)
        if key_id is None:
            return self.do_create(kms)
        # Sometimes by alias: the alias must lead to the same key.
        names = self.keys[key_id].aliases
        target = self.rng.choice(names) if names and self.rng.random() < 0.3 else key_id
        plaintext = f"t{self.n}-{self.counter}-".encode() + os.urandom(16)
        out = kms.encrypt(KeyId=target, Plaintext=plaintext)
        assert out["KeyId"].endswith("/" + key_id), (target, out["KeyId"])
        self.ciphertexts.append((key_id, plaintext, out["CiphertextBlob"]))
        self.acked["Encrypt"] += 1
        back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"])
        assert back["Plaintext"] == plaintext and back["KeyId"] == out["KeyId"]
        self.acked["Decrypt"] += 1

    def do_deletion(self, kms):
        key_id = self._pick(ENABLED, DISABLED)
        if key_id is None:
            return self.do_create(kms)
        expected = self.keys[key_id]
        out = self._write(
            InFlight("ScheduleKeyDeletion", key_id, state=PENDING),
            lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7),
        )
        assert out["KeyState"] == PENDING, out
        expected.state = PENDING
        self.acked["ScheduleKeyDeletion"] += 1
        if self.rng.random() < 0.2:
            return  # left pending deletion; a later toggle cancels it
        self._cancel(kms, key_id)
        if self.rng.random() < 0.5:
            self._set_enabled(kms, key_id, True)

    def do_toggle(self, kms):
        key_id = self._pick(ENABLED, DISABLED, PENDING)
        if key_id is None:
            return self.do_create(kms)
        state = self.keys[key_id].state
        if state == PENDING:
            self._cancel(kms, key_id)
        else:
            self._set_enabled(kms, key_id, state == DISABLED)

    def _cancel(self, kms, key_id):
        self._write(
            InFlight("CancelKeyDeletion", key_id, state=DISABLED),
            lambda: kms.cancel_key_deletion(KeyId=key_id),
        )
        # AWS leaves a key whose deletion was cancelled disabled.
        self.keys[key_id].state = DISABLED
        self.acked["CancelKeyDeletion"] += 1

    def _set_enabled(self, kms, key_id, enabled: bool):
        if enabled:
            self._write(InFlight("EnableKey", key_id, state=ENABLED),
                        lambda: kms.enable_key(KeyId=key_id))
            self.acked["EnableKey"] += 1
        else:
            self._write(InFlight("DisableKey", key_id, state=DISABLED),
                        lambda: kms.disable_key(KeyId=key_id))
            self.acked["DisableKey"] += 1
        self.keys[key_id].state = ENABLED if enabled else DISABLED


def test_acknowledged_writes_survive_kill_9_under_load(start):
    server = start()
    stop, killed = threading.Event(), threading.Event()
    writers = [
        Writer(n, kms, stop, killed) for n, kms in enumerate(clients(server.endpoint, THREADS))
    ]
    for w in writers:
        w.start()

    # The load runs for its duration (or until a writer fails), then the server dies
    # under it: every writer is still sending.
    stop.wait(LOAD_SECONDS)
    errors = {w.name: w.error for w in writers if w.error}
    assert not errors, f"writes failed before the kill: {errors}"
    alive = [w for w in writers if w.is_alive()]
    assert len(alive) == THREADS, f"only {len(alive)} writers were running at the kill"
    killed.set()
    server.kill()
    for w in writers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in writers), "a writer did not notice the kill"
    errors = {w.name: w.error for w in writers if w.error}
    assert not errors, f"writes failed: {errors}"
    assert all(w.died_by_kill for w in writers)

    acked = sum((w.acked for w in writers), collections.Counter())
    in_flight = collections.Counter(w.in_flight.op for w in writers if w.in_flight)
    summary = (
        f"{LOAD_SECONDS:g} s x {THREADS} clients; acknowledged: {dict(sorted(acked.items()))}; "
        f"in flight at the kill: {dict(in_flight)}"
    )
    print(summary)
    for kind in ("CreateKey", "TagResource", "CreateAlias", "Encrypt", "DisableKey"):
        assert acked[kind] > 0, f"no {kind} was acknowledged: {summary}"

    checking = time.monotonic()
    again = start(server.data_dir)
    kms = again.client()
    owner = {k: w for w in writers for k in w.keys}

    # Keys: every acknowledged one, and at most one more per CreateKey in flight.
    listed = set(all_keys(kms))
    missing = set(owner) - listed
    assert not missing, (
        f"{len(missing)} acknowledged keys are gone: {sorted(missing)[:5]}; {summary}"
    )
    extra = listed - set(owner)
    assert len(extra) <= in_flight["CreateKey"], (
        f"{len(extra)} keys nobody was told about, {in_flight['CreateKey']} CreateKey in flight"
    )

    spare_clients = clients(again.endpoint, THREADS)
    local = threading.local()

    def client():
        if not hasattr(local, "kms"):
            local.kms = spare_clients.pop()  # atomic: one per pool thread
        return local.kms

    def check_key(key_id: str) -> list[str]:
        """The differences between a key and its acknowledged writes (excused only by the
        one write its client had in flight), then makes it usable for the decrypt check."""
        kms = client()
        w, expected = owner[key_id], owner[key_id].keys[key_id]
        pending = w.in_flight if w.in_flight and w.in_flight.key_id == key_id else None
        problems = []
        state = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
        if state != expected.state and not (pending and pending.state == state):
            problems.append(
                f"{key_id}: {state}, acknowledged {expected.state} (in flight: {pending})"
            )
        tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}
        lost = {k: v for k, v in expected.tags.items() if tags.get(k) != v}
        if lost:
            problems.append(f"{key_id}: acknowledged tags lost {lost}; has {tags}")
        unknown = {k: v for k, v in tags.items() if k not in expected.tags}
        if unknown and not (pending and pending.tag and unknown == dict([pending.tag])):
            problems.append(
                f"{key_id}: tags nobody was told about {unknown} (in flight: {pending})"
            )
        if state == PENDING:
            kms.cancel_key_deletion(KeyId=key_id)
            state = DISABLED
        if state == DISABLED:
            kms.enable_key(KeyId=key_id)
        return problems

    pool = ThreadPoolExecutor(THREADS)
    try:
        problems = [p for ps in pool.map(check_key, sorted(owner)) for p in ps]
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise
    assert not problems, f"{len(problems)} differences: {problems[:10]}; {summary}"

    # Aliases: every acknowledged one leads to its key; others only from a write in flight.
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in all_aliases(kms)}
    expected_aliases = {name: key for w in writers for name, key in w.aliases.items()}
    wrong = {n: (aliases.get(n), k) for n, k in expected_aliases.items() if aliases.get(n) != k}
    assert not wrong, (
        f"{len(wrong)} acknowledged aliases lost or retargeted: {list(wrong.items())[:5]}"
    )
    possible = {w.in_flight.alias: w.in_flight.key_id for w in writers
                if w.in_flight and w.in_flight.alias}
    unknown = {n: k for n, k in aliases.items() if n not in expected_aliases}
    assert all(possible.get(n) == k for n, k in unknown.items()), (
        f"aliases nobody was told about: {unknown}; in flight: {possible}"
    )

    # Every ciphertext handed out decrypts to its plaintext under its key.
    def check_ciphertext(item) -> str | None:
        key_id, plaintext, blob = item
        try:
            out = client().decrypt(CiphertextBlob=blob)
        except ClientError as e:
            return f"{key_id}: {e.response['Error']}"
        if out["Plaintext"] != plaintext or not out["KeyId"].endswith("/" + key_id):
            return f"{key_id}: decrypted to {out['Plaintext']!r} under {out['KeyId']}"
        return None

    ciphertexts = [c for w in writers for c in w.ciphertexts]
    with pool:
        failed = [f for f in pool.map(check_ciphertext, ciphertexts) if f]
    assert not failed, (
        f"{len(failed)} of {len(ciphertexts)} ciphertexts don't decrypt: {failed[:5]}"
    )
    print(
        f"after the restart: {len(owner)} keys (+{len(extra)} from a CreateKey in flight), "
        f"{len(expected_aliases)} aliases (+{len(unknown)}), {len(ciphertexts)} ciphertexts "
        f"decrypt; restart and checks took {time.monotonic() - checking:.1f} s"
    )


# --- 3. a purged key stays gone --------------------------------------------------------


@pytest.mark.parametrize("restart", ["stop", "kill"])
def test_a_purged_key_stays_gone_after_a_restart(start, restart):
    server = start()
    kms = server.client()
    kept = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]
    doomed = kms.create_key(Description="doomed")["KeyMetadata"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=doomed["KeyId"])
    out = kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion"

    clock = post_json(f"{server.endpoint}/_trent/clock", {"advanceSeconds": 8 * 86400})
    assert clock["offsetSeconds"] >= 8 * 86400, clock
    wait_until(lambda: doomed["KeyId"] not in all_keys(kms), what="the purge")
    assert all_keys(kms) == [kept]

    if restart == "stop":
        server.stop()
    else:
        server.kill()
    again = start(server.data_dir)
    kms = again.client()
    # The clock is back to real time: a key that was only hidden would be pending
    # deletion again, with its window still to run.
    for key_ref in (doomed["KeyId"], doomed["Arn"]):
        with pytest.raises(ClientError) as e:
            kms.describe_key(KeyId=key_ref)
        assert error_code(e) == "NotFoundException", e.value.response
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="alias/doomed")
    assert error_code(e) == "NotFoundException", e.value.response
    assert all_keys(kms) == [kept]
    assert "alias/doomed" not in {a["AliasName"] for a in all_aliases(kms)}


# --- 4. nothing secret in a trace log --------------------------------------------------


def renderings(secret: bytes) -> dict[str, str]:
    """The ways a secret could show up in a log line."""
    out = {
        "base64": base64.b64encode(secret).decode(),
        "base64url": base64.urlsafe_b64encode(secret).decode().rstrip("="),
        "hex": secret.hex(),
        "HEX": secret.hex().upper(),
        "bytes": ", ".join(str(b) for b in secret),  # a Rust Debug of a Vec<u8> or [u8]
    }
    try:
        out["text"] = secret.decode()
    except UnicodeDecodeError:
        pass
    return out


def test_the_log_never_holds_key_material_or_plaintext_at_trace(start):
    server = start(None, "--log", "trace")
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]

    plaintext = b"TRACE-SECRET-PLAINTEXT-1234"
    blob = kms.encrypt(KeyId=key_id, Plaintext=plaintext, EncryptionContext={"p": "q"})[
        "CiphertextBlob"
    ]
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"p": "q"})["Plaintext"] == plaintext
    unwrapped = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]
    assert unwrapped == data_key["Plaintext"]
    message = b"TRACE-SECRET-MAC-MESSAGE-5678"
    mac = kms.generate_mac(KeyId=mac_key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=message)
    assert kms.verify_mac(
        KeyId=mac_key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=message, Mac=mac["Mac"]
    )["MacValid"]
    random_bytes = kms.generate_random(NumberOfBytes=32)["Plaintext"]

    # The keys' own material, from the seed export (which is not logged either).
    with urllib.request.urlopen(f"{server.endpoint}/_trent/seed", timeout=30) as resp:
        seed = yaml.safe_load(resp.read())
    materials = {
        k["id"]: base64.b64decode(m["bytes"]) for k in seed["keys"] for m in k["material"]
    }
    assert set(materials) == {key_id, mac_key["KeyId"]} and all(
        len(m) == 32 for m in materials.values()
    ), seed

    secrets = {
        "plaintext": plaintext,
        "data key": data_key["Plaintext"],
        "MAC message": message,
        "GenerateRandom output": random_bytes,
        **{f"material of {k}": m for k, m in materials.items()},
    }
    log = server.log_text()
    # The log is at trace and covers the requests, so a leak would be seen.
    for op in ("CreateKey", "Encrypt", "GenerateDataKey", "Decrypt", "GenerateMac",
               "VerifyMac", "GenerateRandom"):
        assert f'operation="{op}"' in log, f"no request line for {op}"
    assert " DEBUG " in log, "the log is not at debug/trace level"
    leaks = [
        f"{name} as {form}: {line.strip()[:300]}"
        for name, secret in secrets.items()
        for form, text in renderings(secret).items()
        for line in log.splitlines()
        if text in line
    ]
    assert not leaks, "secrets in the trace log:\n" + "\n".join(leaks)


# --- 5. a failed commit -----------------------------------------------------------------


def test_a_failed_commit_changes_nothing_and_answers_500(start, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)], capture_output=True
    ).returncode == 0
    if not mounted:
        pytest.skip("needs root to mount a 2 MiB tmpfs (a file system that fills up)")
    servers = []
    try:
        data = small / "data"
        servers.append(start(data))
        kms = own_client(servers[-1].endpoint)
        key = kms.create_key(Description="before")["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"kept")["CiphertextBlob"]
        filler = small / "filler"
        # Unbuffered: a buffered file would hold what did not fit and fail again on close.
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        internal = (
            "The request was rejected because an internal exception occurred. "
            "The request can be retried."
        )

        def failed(e: ClientError) -> bool:
            response = e.response
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 500, response
            assert response["Error"]["Code"] == "KMSInternalException", response
            assert response["Error"]["Message"] == internal, response
            return True

        # The database's files may still have room in pages they already hold: write
        # until a commit needs a page the file system cannot give.
        acknowledged = [key]
        for _ in range(500):
            try:
                meta = kms.create_key(Description="d" * 8192)["KeyMetadata"]
            except ClientError as e:
                assert failed(e)
                break
            acknowledged.append(meta["KeyId"])
        else:
            pytest.fail("500 CreateKey requests of 8 KiB each fitted in a full 2 MiB file system")
        # Small writes may still fit where a failed one left room: each either answers
        # 200 and is there, or answers 500 and left nothing behind.
        done = {}

        def attempt(what, call):
            try:
                call()
                done[what] = True
            except ClientError as e:
                done[what] = not failed(e)

        attempt("CreateKey", lambda: acknowledged.append(
            kms.create_key(Description="small")["KeyMetadata"]["KeyId"]))
        attempt("TagResource", lambda: kms.tag_resource(
            KeyId=key, Tags=[{"TagKey": "during", "TagValue": "x"}]))
        attempt("DisableKey", lambda: kms.disable_key(KeyId=key))
        attempt("CreateAlias", lambda: kms.create_alias(AliasName="alias/during", TargetKeyId=key))
        attempt("alias/aws/s3", lambda: kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x"))

        def as_answered(kms):
            assert sorted(all_keys(kms)) == sorted(
                acknowledged + ([] if not done["alias/aws/s3"] else [s3_key(kms)])
            )
            state = kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"]
            assert state == ("Disabled" if done["DisableKey"] else "Enabled"), (state, done)
            tags = kms.list_resource_tags(KeyId=key)["Tags"]
            assert tags == ([{"TagKey": "during", "TagValue": "x"}] if done["TagResource"] else [])
            names = {a["AliasName"]: a for a in all_aliases(kms)}
            assert ("alias/during" in names) == done["CreateAlias"], (names, done)
            assert ("TargetKeyId" in names["alias/aws/s3"]) == done["alias/aws/s3"], done
            if not done["DisableKey"]:
                assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"

        def s3_key(kms):
            return kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"]

        as_answered(kms)
        # Room again: what was answered is what a restart after kill -9 finds, and
        # writes work again.
        filler.unlink()
        servers[-1].kill()
        servers.append(start(data))
        kms = own_client(servers[-1].endpoint)
        as_answered(kms)
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "after", "TagValue": "1"}])
        assert {"TagKey": "after", "TagValue": "1"} in kms.list_resource_tags(KeyId=key)["Tags"]
    finally:
        for server in servers:
            server.stop()
        subprocess.run(["umount", "-l", str(small)], check=False)
