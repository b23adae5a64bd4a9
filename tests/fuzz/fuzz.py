#!/usr/bin/env python3
"""A mutation fuzzer for trent's wire protocol: the KMS API (AWS JSON 1.1 on `POST /`) and
the test controls under `/_trent/`.

For each of the 54 operations in the AWS model that trent embeds
(`src/protocol/service-2.json`, read from the repository) it builds valid requests from the
operation's input shape. They name real resources, created first: a symmetric key, RSA
(encryption and signing), ECC (signing and key agreement), HMAC, imported and multi-Region
keys, aliases, grants, custom key stores, a ciphertext, a signature, a MAC, imported key
material and paging markers; resources that requests create (keys, aliases, grants, stores)
are reused by the operations that disable, delete, retire or revoke. Most requests are
then mutated, one to three mutation classes each (`--skip` leaves classes out):

- in the JSON body: wrong-type, drop-required, null-member, numbers (huge, negative,
  overflowing, out of JSON's range), long-string (10k to 300k characters), bad-base64,
  bad-enum, unknown-member, marker (garbage and altered paging markers), list-size,
  deep-nesting (up to 100,000 levels), duplicate-keys;
- in its bytes: bad-utf8, truncated, empty-body, non-object, trailing-garbage;
- in the headers: target (unknown, missing, doubled, other services' X-Amz-Target),
  content-type, auth-scope (SigV4 credential scopes naming other accounts and Regions, and
  garbage), http-misc (Connection: close, HTTP/1.0, chunked bodies, Expect, gzip);
- requests of their own: control (health, clock moves within the run's budget, seed
  export, a rare reset, after which the resources are created again), control-odd (clock
  bodies that must be refused, other methods, a body over the controls' limit),
  other-path (other paths and methods), framing (Content-Length over or under the body,
  bodies over the 1 MiB limit, pipelined pairs, a declared length over the limit with the
  connection left open) and http-framing (requests that break HTTP/1.1 itself, which the
  HTTP layer answers before trent sees them).

Every answer is checked:

- its status is 200 or 4xx: any 5xx (KMSInternalException included) is a finding;
- a KMS error (not 200, on `POST /`) has a JSON object body with a string `__type`, and a
  KMS success is a JSON object;
- every answer of the test controls is JSON, but the YAML of `GET /_trent/seed` (other
  paths and methods get the status check only);
- the server answers: a connection closed or reset before the answer, or no answer within
  the timeout, is a finding. A request that fails on a kept-alive connection is sent again
  on a new one; if it is answered there, the finding is the request before it, after
  which the server closed the connection without saying `Connection: close`.

At the end a fresh key must round-trip Encrypt and Decrypt, and the server started by the
fuzzer must still run with no panic in its log. The summary gives the requests per
operation and per mutation class with their status codes and error types, the findings
with their requests and answers (bodies cut at 2 KiB), the time taken and the rate. The
exit status is 1 on any finding, 2 if the fuzzer could not run or failed itself.

Requests are numbered and each is built from its own random generator, seeded with the run's
seed and its number, so `--replay N` rebuilds request N of a run (naming the resources of
the new run) and shows it and its answer in full.

    tests/fuzz/run.sh                                # builds target/debug/trent, 20,000 requests
    tests/fuzz/run.sh --requests 2000 --seed 7
    TRENT_BIN=target/release/trent tests/fuzz/run.sh --requests 1000000
    tests/fuzz/run.sh --seed 7 --replay 1234         # one request of that run, in full
    tests/fuzz/fuzz.py --endpoint http://127.0.0.1:8080   # a running trent, controls on
    tests/fuzz/run.sh --skip http-framing,control-odd     # leave mutation classes out

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import base64
import collections
import copy
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE.parent.parent / "src" / "protocol" / "service-2.json"

# trent's defaults: requests without a SigV4 credential act in this account and Region.
ACCOUNT = "111122223333"
REGION = "us-east-1"
OTHER_REGIONS = ["us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"]
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/fuzz"
CONTENT_TYPE = b"application/x-amz-json-1.1"
TARGET_PREFIX = "TrentService."
MAX_BODY = 1024 * 1024  # trent's limit on a KMS request body
REPORT_BYTES = 2048  # request and response bodies are cut here in the report
# Forward clock moves allowed in a run: less than the shortest deletion window (7 days), so
# that keys scheduled for deletion are never deleted mid-run.
CLOCK_BUDGET_SECONDS = 2 * 86400
ALIAS = "alias/fuzz-fixture"
ALIAS2 = "alias/fuzz-fixture-2"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Id": "fuzz",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
)
TRUST_ANCHOR = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUFuzzFuzzFuzzFuzzFuzzFuzzFuzzMAoGCCqGSM49BAMC\n"
    "-----END CERTIFICATE-----\n"
)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hexs(rng: random.Random, n: int) -> str:
    return "%0*x" % (n, rng.getrandbits(4 * n))


def word(rng: random.Random, n: int = 8, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def json_or_none(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


# --- RSAES-OAEP-SHA-256, to wrap key material for ImportKeyMaterial --------------------------


def _der(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """One DER element at `pos`: its tag, its contents and the position after it."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    return tag, data[pos : pos + length], pos + length


def _mgf1(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def oaep_sha256_encrypt(spki: bytes, message: bytes) -> bytes:
    """Encrypts `message` to an RSA SubjectPublicKeyInfo with RSAES-OAEP, SHA-256 and MGF1."""
    _, info, _ = _der(spki)
    _, _, pos = _der(info)  # AlgorithmIdentifier
    _, bits, _ = _der(info, pos)  # BIT STRING: 0 unused bits, then RSAPublicKey
    _, rsa, _ = _der(bits[1:])
    _, n, pos = _der(rsa)
    _, e, _ = _der(rsa, pos)
    n, e = int.from_bytes(n, "big"), int.from_bytes(e, "big")
    k = (n.bit_length() + 7) // 8
    label_hash = hashlib.sha256(b"").digest()
    db = label_hash + b"\0" * (k - len(message) - 2 * len(label_hash) - 2) + b"\1" + message
    seed = os.urandom(len(label_hash))
    masked_db = bytes(a ^ b for a, b in zip(db, _mgf1(seed, len(db))))
    masked_seed = bytes(a ^ b for a, b in zip(seed, _mgf1(masked_db, len(seed))))
    em = b"\0" + masked_seed + masked_db
    return pow(int.from_bytes(em, "big"), e, n).to_bytes(k, "big")


# --- HTTP ------------------------------------------------------------------------------------


MISSING_DOC = object()


class Dropped(Exception):
    """The connection was closed or reset before the server answered."""

    def __init__(self, error: BaseException, reused: bool):
        super().__init__(f"{type(error).__name__}: {error}")
        self.reused = reused


class Hang(Exception):
    """No answer within the timeout."""


class Refused(Exception):
    """No connection: the server is not listening (any more)."""


@dataclass
class Response:
    status: int
    reason: str
    version: int
    headers: list[tuple[str, str]]
    body: bytes
    _doc: object = field(default=MISSING_DOC, repr=False)

    @property
    def doc(self):
        """The body as JSON, or None."""
        if self._doc is MISSING_DOC:
            self._doc = json_or_none(self.body)
        return self._doc

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def closes(self) -> bool:
        """Whether the answer announces the end of the connection: a `close` option in
        its Connection header (RFC 9112 9.6), whatever else the header lists."""
        options = (self.header("connection") or "").split(",")
        return any(o.strip().lower() == "close" for o in options)

    def error_type(self) -> str | None:
        """The `__type` of a KMS error body, if it has one."""
        if self.status == 200:
            return None
        doc = self.doc
        if isinstance(doc, dict) and isinstance(doc.get("__type"), str):
            return doc["__type"]
        return None

    def describe(self) -> dict:
        return {
            "status": f"HTTP/{self.version / 10:.1f} {self.status} {self.reason}",
            "headers": [f"{k}: {v}" for k, v in self.headers],
            "body": show_bytes(self.body),
        }


class _Reader:
    """The buffered reading side of one connection, shared by the successive answers on it,
    so that a read-ahead buffer (pipelined answers) is never lost. http.client parses each
    answer from it; closing an answer leaves it open."""

    def __init__(self, sock: socket.socket):
        self.fp = sock.makefile("rb")

    def makefile(self, *args, **kwargs):
        return self

    def readline(self, *args):
        return self.fp.readline(*args)

    def read(self, *args):
        return self.fp.read(*args)

    def read1(self, *args):
        return self.fp.read1(*args)

    def readinto(self, b):
        return self.fp.readinto(b)

    def peek(self, *args):
        return self.fp.peek(*args)

    def flush(self):
        pass

    def close(self):
        pass


class Connection:
    """One HTTP/1.1 connection, kept alive across requests until the server closes it (after an
    answer that says `Connection: close`) or a request fails. Requests are written as raw
    bytes so that headers and framing can be anything; http.client reads the answers."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.reader: _Reader | None = None
        self.last: Request | None = None  # the previous request answered on this connection
        self.last_answer: Response | None = None

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = self.reader = None
        self.last = self.last_answer = None

    def exchange(
        self,
        data: bytes,
        *,
        method: str = "POST",
        half_close: bool = False,
        timeout: float | None = None,
        answers: int = 1,
    ) -> list[Response]:
        reused = self.sock is not None
        if not reused:
            try:
                self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            except ConnectionRefusedError as e:
                raise Refused(str(e)) from e
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.reader = _Reader(self.sock)
        self.sock.settimeout(timeout or self.timeout)
        send_error = None
        try:
            self.sock.sendall(data)
            if half_close:
                self.sock.shutdown(socket.SHUT_WR)
        except TimeoutError:
            self.close()
            raise Hang("the server stopped reading the request") from None
        except OSError as e:
            # The server may answer before it reads the whole body (one over its limit) and
            # close: the answer can still be read.
            send_error = e
        out: list[Response] = []
        try:
            for _ in range(answers):
                r = http.client.HTTPResponse(self.reader, method=method)
                r.begin()
                body = r.read()
                out.append(Response(r.status, r.reason, r.version, r.getheaders(), body))
                if r.will_close or out[-1].closes():
                    break
        except TimeoutError:
            self.close()
            raise Hang(f"no answer within {timeout or self.timeout:g} s") from None
        except (http.client.HTTPException, OSError) as e:
            self.close()
            raise Dropped(send_error or e, reused) from None
        if send_error is not None or half_close or r.will_close or (out and out[-1].closes()):
            self.close()
        return out


def shape_of(text: str) -> str:
    """`text` with its numbers blanked: findings that differ in numbers only are one."""
    return re.sub(r"\d+", "N", text)


def show_bytes(data: bytes, limit: int = REPORT_BYTES) -> str:
    """A body for the report: text as is (invalid UTF-8 escaped), cut at `limit` bytes."""
    text = data[:limit].decode("utf-8", "backslashreplace")
    if len(data) > limit:
        text += f"... ({len(data)} bytes in all)"
    return text


@dataclass
class Request:
    """One request as it goes on the wire, with what it was built from."""

    label: str  # the operation, or the control or path requested
    classes: list[str]  # the mutation classes applied ("valid" or "generic" for none)
    kind: str = "kms"  # which checks apply: kms | control | seed | other
    method: str = "POST"
    path: str = "/"
    version: str = "HTTP/1.1"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    content_length: bytes | None = None  # None: the body's length
    chunked: bool = False  # the body is already chunk-encoded
    transport: str = "keepalive"  # keepalive | oneshot | halfclose | pipelined
    timeout: float | None = None
    then: Request | None = None  # the second request of a pipelined pair
    target_ok: bool = True  # X-Amz-Target names `label`, unchanged, with the usual scope
    obj: object = None  # the JSON body before mutation, to learn created resources from
    index: int = -1  # its number in the run (-1: the fuzzer's own set-up requests)
    note: str = ""  # what a framing mutation did, for the report

    def wire(self, host: bytes) -> bytes:
        lines = [f"{self.method} {self.path} {self.version}".encode()]
        names = {k.lower() for k, _ in self.headers}
        if b"host" not in names:
            lines.append(b"Host: " + host)
        lines.extend(k + b": " + v for k, v in self.headers)
        if self.content_length is not None:
            lines.append(b"Content-Length: " + self.content_length)
        elif not self.chunked and b"content-length" not in names:
            lines.append(b"Content-Length: %d" % len(self.body))
        data = b"\r\n".join(lines) + b"\r\n\r\n" + self.body
        if self.then is not None:
            data += self.then.wire(host)
        return data

    def describe(self) -> dict:
        out = {
            "request": show_bytes(f"{self.method} {self.path} {self.version}".encode(), 300),
            "headers": [show_bytes(k + b": " + v, 300) for k, v in self.headers[:40]]
            + ([f"... {len(self.headers) - 40} more header lines"] if len(self.headers) > 40 else []),
            "body": show_bytes(self.body),
            "mutations": self.classes,
        }
        if self.content_length is not None:
            out["content_length"] = self.content_length.decode("latin-1")
        if self.transport != "keepalive":
            out["transport"] = self.transport
        if self.note:
            out["note"] = self.note
        if self.then is not None:
            out["then"] = self.then.describe()
        return out


def kms_request(op: str, body: bytes, classes: list[str], obj=None) -> Request:
    return Request(
        label=op,
        classes=classes,
        headers=[
            (b"Content-Type", CONTENT_TYPE),
            (b"X-Amz-Target", (TARGET_PREFIX + op).encode()),
        ],
        body=body,
        obj=obj,
    )


# --- The model -------------------------------------------------------------------------------


@dataclass
class Member:
    path: tuple  # keys and list indices from the body's root
    shape: str
    required: bool
    present: bool = True


class Model:
    """The AWS model trent embeds: operations, their input shapes and constraints."""

    def __init__(self, path: Path):
        raw = json.loads(path.read_text())
        self.shapes: dict = raw["shapes"]
        self.inputs: dict[str, str | None] = {
            name: op.get("input", {}).get("shape") for name, op in raw["operations"].items()
        }
        self.operations = sorted(self.inputs)

    def type(self, shape: str) -> str:
        return self.shapes[shape]["type"]

    def members(self, value, shape: str, path: tuple = (), required: bool = False, out=None):
        """Every member present in `value`, at any depth, with its shape."""
        out = [] if out is None else out
        s = self.shapes[shape]
        if path:
            out.append(Member(path, shape, required))
        t = s["type"]
        if t == "structure" and isinstance(value, dict):
            req = set(s.get("required", ()))
            for name, ref in s["members"].items():
                if name in value:
                    self.members(value[name], ref["shape"], path + (name,), name in req, out)
        elif t == "list" and isinstance(value, list):
            for i, x in enumerate(value[:20]):
                self.members(x, s["member"]["shape"], path + (i,), False, out)
        elif t == "map" and isinstance(value, dict):
            for k, x in list(value.items())[:20]:
                self.members(x, s["value"]["shape"], path + (k,), False, out)
        return out

    def absent(self, value, shape: str) -> list[Member]:
        """The top-level members of an input shape that `value` lacks."""
        s = self.shapes[shape]
        req = set(s.get("required", ()))
        have = value if isinstance(value, dict) else {}
        return [
            Member((name,), ref["shape"], name in req, present=False)
            for name, ref in s["members"].items()
            if name not in have
        ]


# --- Resources on the server -----------------------------------------------------------------

KINDS = ["sym", "rsa", "rsa_sign", "ecc", "hmac", "agree", "ext", "mrk"]
# Operations that take a key out of use: they act on keys requests created, rarely on the
# shared ones (which the repair then puts back).
DESTRUCTIVE = {"DisableKey", "ScheduleKeyDeletion", "DeleteImportedKeyMaterial", "DisableKeyRotation",
               "CancelKeyDeletion", "EnableKey", "PutKeyPolicy", "TagResource", "UntagResource",
               "UpdateKeyDescription", "RotateKeyOnDemand"}


class Fixtures:
    """The resources requests name: created at start, repaired when requests have disabled,
    scheduled or deleted them, created again after a reset. `fx` is replaced, never
    changed, so that a worker reads a consistent set. Resources that requests create are
    kept as victims for the operations that destroy."""

    def __init__(self, fuzzer: Fuzzer):
        self.fuzzer = fuzzer
        self.fx = SimpleNamespace()
        self.lock = threading.Lock()
        self.victim_keys: collections.deque[str] = collections.deque(maxlen=300)
        self.victim_aliases: collections.deque[str] = collections.deque(maxlen=100)
        self.victim_grants: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=100)
        self.victim_stores: collections.deque[str] = collections.deque(maxlen=20)
        self.setups = 0
        self.repairs = 0

    def forget_victims(self):
        for pool in (self.victim_keys, self.victim_aliases, self.victim_grants, self.victim_stores):
            pool.clear()

    def setup(self):
        """Creates every resource anew."""
        kms = Kms(self.fuzzer)
        try:
            fx = SimpleNamespace(keys={}, arns={})

            def key(kind, body):
                md = kms.call("CreateKey", dict(body, Description=f"fuzz fixture: {kind}"))
                fx.keys[kind] = md["KeyMetadata"]["KeyId"]
                fx.arns[kind] = md["KeyMetadata"]["Arn"]

            key("sym", {})
            key("rsa", {"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"})
            key("rsa_sign", {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"})
            key("ecc", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"})
            key("hmac", {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"})
            key("agree", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
            key("ext", {"Origin": "EXTERNAL"})
            key("mrk", {"MultiRegion": True})
            fx.sym = fx.keys["sym"]
            kms.call("CreateAlias", {"AliasName": ALIAS, "TargetKeyId": fx.sym})
            kms.call("CreateAlias", {"AliasName": ALIAS2, "TargetKeyId": fx.keys["ecc"]})
            fx.alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:{ALIAS}"
            self._grant(kms, fx)
            kms.call("CreateGrant", self._grant_body(fx, "fuzz-fixture-2"))
            kms.call(
                "TagResource",
                {
                    "KeyId": fx.sym,
                    "Tags": [{"TagKey": "fixture", "TagValue": "1"}, {"TagKey": "other", "TagValue": ""}],
                },
            )
            fx.context = {"purpose": "fuzz"}
            fx.plaintext = b"fuzz fixture plaintext"
            fx.ciphertext = kms.call(
                "Encrypt", {"KeyId": fx.sym, "Plaintext": b64(fx.plaintext), "EncryptionContext": fx.context}
            )["CiphertextBlob"]
            fx.rsa_ciphertext = kms.call(
                "Encrypt",
                {"KeyId": fx.keys["rsa"], "Plaintext": b64(fx.plaintext), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
            )["CiphertextBlob"]
            fx.message = b64(b"fuzz fixture message")
            fx.signature = kms.call(
                "Sign", {"KeyId": fx.keys["ecc"], "Message": fx.message, "SigningAlgorithm": "ECDSA_SHA_256"}
            )["Signature"]
            fx.rsa_signature = kms.call(
                "Sign",
                {"KeyId": fx.keys["rsa_sign"], "Message": fx.message, "SigningAlgorithm": "RSASSA_PSS_SHA_256"},
            )["Signature"]
            fx.mac = kms.call(
                "GenerateMac", {"KeyId": fx.keys["hmac"], "Message": fx.message, "MacAlgorithm": "HMAC_SHA_256"}
            )["Mac"]
            fx.agree_public = kms.call("GetPublicKey", {"KeyId": fx.keys["agree"]})["PublicKey"]
            self._import(kms, fx)
            fx.stores = {
                "cloudhsm": self._store(kms, cloudhsm_store_body(random.Random())),
                "xks": self._store(kms, xks_store_body(random.Random())),
            }
            fx.markers = {}
            for op, body in [
                ("ListKeys", {}),
                ("ListAliases", {}),
                ("ListGrants", {"KeyId": fx.sym}),
                ("ListResourceTags", {"KeyId": fx.sym}),
                ("ListRetirableGrants", {"RetiringPrincipal": PRINCIPAL}),
            ]:
                page = kms.call(op, dict(body, Limit=1))
                if page.get("NextMarker"):
                    fx.markers[op] = page["NextMarker"]
            self.fx = fx
            self.setups += 1
        finally:
            kms.close()

    @staticmethod
    def _grant_body(fx, name: str) -> dict:
        return {
            "KeyId": fx.sym,
            "GranteePrincipal": PRINCIPAL,
            "RetiringPrincipal": PRINCIPAL,
            "Operations": ["Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"],
            "Name": name,
        }

    def _grant(self, kms: Kms, fx):
        grant = kms.call("CreateGrant", self._grant_body(fx, "fuzz-fixture"))
        fx.grant_id, fx.grant_token = grant["GrantId"], grant["GrantToken"]

    def _import(self, kms: Kms, fx):
        params = kms.call(
            "GetParametersForImport",
            {"KeyId": fx.keys["ext"], "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
        )
        # A key takes back only the material it had: the same 32 bytes every time.
        if not hasattr(fx, "key_material"):
            fx.key_material = os.urandom(32)
        material = oaep_sha256_encrypt(base64.b64decode(params["PublicKey"]), fx.key_material)
        fx.import_token = params["ImportToken"]
        fx.import_material = b64(material)
        kms.call(
            "ImportKeyMaterial",
            {
                "KeyId": fx.keys["ext"],
                "ImportToken": fx.import_token,
                "EncryptedKeyMaterial": fx.import_material,
                "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
            },
        )

    @staticmethod
    def _store(kms: Kms, body: dict) -> str | None:
        try:
            store = kms.call("CreateCustomKeyStore", body)["CustomKeyStoreId"]
        except SetupError:
            return None  # e.g. the account's 10 stores exist already (a running server)
        try:
            kms.call("ConnectCustomKeyStore", {"CustomKeyStoreId": store})
        except SetupError:
            pass
        return store

    def repair(self):
        """Puts the resources back in their usable state, or creates them all again."""
        kms = Kms(self.fuzzer)
        try:
            fx = copy.copy(self.fx)
            for kind in KINDS:
                try:
                    md = kms.call("DescribeKey", {"KeyId": fx.keys[kind]})["KeyMetadata"]
                except SetupError as e:
                    if e.error_type == "NotFoundException":
                        kms.close()
                        self.setup()
                        return
                    raise
                state = md["KeyState"]
                if state == "PendingDeletion":
                    kms.call("CancelKeyDeletion", {"KeyId": fx.keys[kind]})
                    state = "Disabled"
                if state == "Disabled":
                    kms.call("EnableKey", {"KeyId": fx.keys[kind]})
                expires = md.get("ExpirationModel") != "KEY_MATERIAL_DOES_NOT_EXPIRE"
                if state == "PendingImport" or (kind == "ext" and expires):
                    self._import(kms, fx)
                mr = md.get("MultiRegionConfiguration") or {}
                if kind == "mrk" and mr.get("MultiRegionKeyType") != "PRIMARY":
                    # UpdatePrimaryRegion moved the primary away: a new multi-Region key.
                    md = kms.call("CreateKey", {"MultiRegion": True, "Description": "fuzz fixture: mrk"})["KeyMetadata"]
                    fx.keys = dict(fx.keys, mrk=md["KeyId"])
                    fx.arns = dict(fx.arns, mrk=md["Arn"])
            for alias, kind in ((ALIAS, "sym"), (ALIAS2, "ecc")):
                try:
                    target = kms.call("DescribeKey", {"KeyId": alias})["KeyMetadata"]["KeyId"]
                    if target != fx.keys[kind]:
                        kms.call("UpdateAlias", {"AliasName": alias, "TargetKeyId": fx.keys[kind]})
                except SetupError as e:
                    if e.error_type != "NotFoundException":
                        raise
                    kms.call("CreateAlias", {"AliasName": alias, "TargetKeyId": fx.keys[kind]})
            grants = kms.call("ListGrants", {"KeyId": fx.sym, "GrantId": fx.grant_id})["Grants"]
            if not grants:
                self._grant(kms, fx)
            stores = dict(fx.stores)
            for name, store in fx.stores.items():
                try:
                    if store:
                        kms.call("DescribeCustomKeyStores", {"CustomKeyStoreId": store})
                        continue
                except SetupError as e:
                    if e.error_type != "CustomKeyStoreNotFoundException":
                        raise
                body = cloudhsm_store_body if name == "cloudhsm" else xks_store_body
                stores[name] = self._store(kms, body(random.Random()))
            fx.stores = stores
            self.fx = fx
            self.repairs += 1
        except SetupError as e:
            self.fuzzer.note(f"repair: {e}")
        finally:
            kms.close()


class SetupError(Exception):
    def __init__(self, op: str, response: Response | None, why: str = ""):
        self.error_type = response.error_type() if response else None
        detail = why or (f"{response.status} {show_bytes(response.body, 300)}" if response else "no answer")
        super().__init__(f"{op}: {detail}")


class Kms:
    """The fuzzer's own KMS calls (set-up, repair, the final round trip): checked like
    fuzzed requests, but not counted in the statistics."""

    def __init__(self, fuzzer: Fuzzer):
        self.fuzzer = fuzzer
        self.conn = Connection(fuzzer.host, fuzzer.port, fuzzer.timeout)

    def call(self, op: str, body: dict) -> dict:
        req = kms_request(op, json.dumps(body).encode(), ["setup"], body)
        answers = self.fuzzer.send(self.conn, req, count=False)
        if not answers:
            raise SetupError(op, None)
        resp = answers[0]
        if resp.status != 200:
            raise SetupError(op, resp)
        doc = json_or_none(resp.body)
        if not isinstance(doc, dict):
            raise SetupError(op, resp, "the answer is not a JSON object")
        return doc

    def close(self):
        self.conn.close()


def cloudhsm_store_body(rng: random.Random) -> dict:
    return {
        "CustomKeyStoreName": f"fuzz-cloudhsm-{hexs(rng, 8)}",
        "CloudHsmClusterId": "cluster-" + word(rng, rng.randint(11, 16), "234567abcdefghijkmnopqrstuvwxyz"),
        "TrustAnchorCertificate": TRUST_ANCHOR,
        "KeyStorePassword": "fuzz-password",
    }


def xks_store_body(rng: random.Random) -> dict:
    return {
        "CustomKeyStoreName": f"fuzz-xks-{hexs(rng, 8)}",
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "XksProxyConnectivity": "PUBLIC_ENDPOINT",
        "XksProxyUriEndpoint": f"https://xks-{hexs(rng, 8)}.example.com",
        "XksProxyUriPath": rng.choice(["/kms/xks/v1", "/fuzz/prefix/kms/xks/v1"]),
        "XksProxyAuthenticationCredential": {
            "AccessKeyId": word(rng, 20, BASE32),
            "RawSecretAccessKey": word(rng, 43, ALNUM + "+/"),
        },
    }


# --- Valid requests --------------------------------------------------------------------------

MISSING = object()


class Generator:
    """Builds a valid request for an operation: in "valid" mode from a recipe that uses the
    resources coherently (the right key for the operation, its ciphertext, signature...),
    in "generic" mode from the model alone (required members, and optional ones at random),
    naming resources where the model says a key, an alias, a grant..."""

    def __init__(self, model: Model, fixtures: Fixtures):
        self.model = model
        self.fixtures = fixtures

    # Resources -----------------------------------------------------------------------------

    def key(self, rng, fx, kinds=("sym",)) -> str:
        """A key of one of `kinds`: mostly its id, else its ARN (or an alias of it)."""
        kind = rng.choice(kinds)
        r = rng.random()
        if r < 0.7:
            return fx.keys[kind]
        if r < 0.9 or kind not in ("sym", "ecc"):
            return fx.arns[kind]
        if kind == "ecc":
            return ALIAS2
        return rng.choice([ALIAS, fx.alias_arn])

    def any_key(self, rng, fx) -> str:
        r = rng.random()
        if r < 0.8:
            return self.key(rng, fx, KINDS)
        if r < 0.92 and self.fixtures.victim_keys:
            return rng.choice(self.fixtures.victim_keys)
        return garbage_key(rng)

    def victim_key(self, rng, fx, kinds=KINDS) -> str:
        if self.fixtures.victim_keys and rng.random() < 0.93:
            return rng.choice(self.fixtures.victim_keys)
        return self.key(rng, fx, kinds)

    def victim_alias(self, rng) -> str:
        if self.fixtures.victim_aliases and rng.random() < 0.93:
            return rng.choice(self.fixtures.victim_aliases)
        return rng.choice([ALIAS, ALIAS2, f"alias/fuzz-{hexs(rng, 8)}"])

    def victim_grant(self, rng, fx) -> tuple[str, str, str]:
        if self.fixtures.victim_grants and rng.random() < 0.93:
            return rng.choice(self.fixtures.victim_grants)
        return fx.sym, fx.grant_id, fx.grant_token

    def store(self, rng, fx, victim: bool = False) -> str:
        if victim and self.fixtures.victim_stores and rng.random() < 0.9:
            return rng.choice(self.fixtures.victim_stores)
        stores = [s for s in fx.stores.values() if s]
        return rng.choice(stores) if stores else "cks-" + hexs(rng, 17)

    def marker(self, rng, fx, op) -> str | object:
        return fx.markers.get(op, MISSING)

    # Generic ------------------------------------------------------------------------------

    def generic(self, op: str, rng, fx) -> dict:
        shape = self.model.inputs[op]
        return self.value(shape, rng, fx, op, None, 0) if shape else {}

    def value(self, shape: str, rng, fx, op: str, member: str | None, depth: int):
        special = self.special(shape, rng, fx, op, member)
        if special is not MISSING:
            return special
        s = self.model.shapes[shape]
        t = s["type"]
        if t == "structure":
            req = set(s.get("required", ()))
            return {
                name: self.value(ref["shape"], rng, fx, op, name, depth + 1)
                for name, ref in s["members"].items()
                if name in req or (depth < 3 and rng.random() < 0.35)
            }
        if t == "list":
            item = s["member"]["shape"]
            return [self.value(item, rng, fx, op, member, depth + 1) for _ in range(max(1, s.get("min", 1)))]
        if t == "map":
            k = self.value(s["key"]["shape"], rng, fx, op, None, depth + 1)
            return {k: self.value(s["value"]["shape"], rng, fx, op, None, depth + 1)}
        if t == "string":
            if "enum" in s:
                return rng.choice(s["enum"])
            return self.string(shape, s, rng)
        if t == "blob":
            lo, hi = max(1, s.get("min", 1)), min(s.get("max", 256), 256)
            return b64(rng.randbytes(rng.randint(lo, hi)))
        if t == "integer":
            lo, hi = s.get("min", 0), s.get("max", 1000)
            return rng.randint(lo, min(hi, lo + 100))
        if t == "boolean":
            return rng.random() < 0.5
        if t == "timestamp":
            return int(time.time()) + 30 * 86400
        return None

    def special(self, shape: str, rng, fx, op: str, member: str | None):
        """Values of members that name resources, or that the model says too little about."""
        if shape == "KeyIdType":
            if op == "ReplicateKey" or op == "UpdatePrimaryRegion":
                return self.key(rng, fx, ("mrk",))
            if op in DESTRUCTIVE:
                return self.victim_key(rng, fx)
            return self.any_key(rng, fx)
        table = {
            "CiphertextBlob": lambda: fx.ciphertext,
            "Signature": lambda: rng.choice([fx.signature, fx.rsa_signature]),
            "Mac": lambda: fx.mac,
            "ImportToken": lambda: fx.import_token,
            "EncryptedKeyMaterial": lambda: fx.import_material,
            "PublicKey": lambda: fx.agree_public,
            "GrantToken": lambda: fx.grant_token,
            "GrantId": lambda: fx.grant_id,
            "CustomKeyStoreId": lambda: self.store(rng, fx),
            "Marker": lambda: self.marker(rng, fx, op),
            "PendingWindowInDays": lambda: rng.randint(7, 30),
        }
        if member in table:
            return table[member]()
        if shape == "AliasNameType":
            if op == "CreateAlias":
                return f"alias/fuzz-{hexs(rng, 8)}"
            return rng.choice([ALIAS, ALIAS2, self.victim_alias(rng)])
        if shape == "GrantTokenType":
            return fx.grant_token
        if shape == "EncryptionContextKey":
            return rng.choice(["purpose", "app", "tenant"])
        return MISSING

    @staticmethod
    def string(name: str, s: dict, rng) -> str:
        known = {
            "CustomKeyStoreNameType": lambda: f"fuzz-store-{hexs(rng, 8)}",
            "CloudHsmClusterIdType": lambda: "cluster-" + word(rng, 12, "234567abcdefghijkmnopqrstuvwxyz"),
            "TrustAnchorCertificateType": lambda: TRUST_ANCHOR,
            "KeyStorePasswordType": lambda: "fuzz-password",
            "XksProxyUriEndpointType": lambda: f"https://xks-{hexs(rng, 8)}.example.com",
            "XksProxyUriPathType": lambda: "/kms/xks/v1",
            "XksProxyVpcEndpointServiceNameType": lambda: "com.amazonaws.vpce.us-east-1.vpce-svc-" + hexs(rng, 17),
            "AccountIdType": lambda: ACCOUNT,
            "XksProxyAuthenticationAccessKeyIdType": lambda: word(rng, 20, BASE32),
            "XksProxyAuthenticationRawSecretAccessKeyType": lambda: word(rng, 43, ALNUM + "+/"),
            "PrincipalIdType": lambda: PRINCIPAL,
            "GrantNameType": lambda: f"fuzz-{hexs(rng, 6)}",
            "PolicyType": lambda: POLICY,
            "DescriptionType": lambda: f"fuzz description {hexs(rng, 6)}",
            "TagKeyType": lambda: f"tag{rng.randrange(20)}",
            "TagValueType": lambda: word(rng, rng.randint(0, 12)),
            "XksKeyIdType": lambda: f"xks-key-{hexs(rng, 8)}",
            "BackingKeyIdType": lambda: hexs(rng, 64),
            "MarkerType": lambda: word(rng, 12),
            "PolicyNameType": lambda: "default",
            "KeyMaterialDescriptionType": lambda: "fuzz material",
            "RegionType": lambda: rng.choice(OTHER_REGIONS),
        }
        if name in known:
            return known[name]()
        lo, hi = max(1, s.get("min", 1)), min(s.get("max", 16), 16)
        return word(rng, rng.randint(lo, max(lo, hi)))

    # Valid ---------------------------------------------------------------------------------

    def valid(self, op: str, rng, fx) -> dict:
        body = {k: v for k, v in self.generic(op, rng, fx).items() if self.required(op, k)}
        recipe = RECIPES.get(op)
        if recipe:
            body.update(recipe(self, rng, fx))
        return {k: v for k, v in body.items() if v is not None}

    def required(self, op: str, member: str) -> bool:
        shape = self.model.inputs[op]
        return bool(shape) and member in self.model.shapes[shape].get("required", ())


def garbage_key(rng) -> str:
    return rng.choice(
        [
            str(uuid.UUID(int=rng.getrandbits(128))),
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{uuid.UUID(int=rng.getrandbits(128))}",
            f"arn:aws:kms:eu-west-1:444455556666:key/{uuid.UUID(int=rng.getrandbits(128))}",
            f"alias/fuzz-none-{hexs(rng, 6)}",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/none",
            "mrk-" + hexs(rng, 32),
            "alias/aws/s3",
            "key/1234",
            "arn:aws:kms:::key/",
            "arn:aws:kms:us-east-1:111122223333:key",
            "arn:aws:iam::111122223333:user/x",
            "alias/",
            "alias",
            "arn",
            ":",
            "*",
            "../../etc/passwd",
            "%00",
            "\u00e9t\u00e9",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ]
    )


def context(rng) -> dict | None:
    return rng.choice([None, {"purpose": "fuzz"}, {"app": "trent", "n": str(rng.randrange(100))}, {}])


# One coherent request per operation: the right kind of key and matching algorithms, real
# ciphertexts, signatures and tokens. Members absent here come from the model (required
# ones only); a member set to None is left out.
RECIPES = {
    "CancelKeyDeletion": lambda g, rng, fx: {"KeyId": g.victim_key(rng, fx)},
    "ConnectCustomKeyStore": lambda g, rng, fx: {"CustomKeyStoreId": g.store(rng, fx, victim=rng.random() < 0.5)},
    "CreateAlias": lambda g, rng, fx: {
        "AliasName": f"alias/fuzz-{hexs(rng, 8)}",
        "TargetKeyId": g.key(rng, fx, ("sym", "mrk", "hmac", "ecc")) if rng.random() < 0.6 else g.victim_key(rng, fx),
    },
    "CreateCustomKeyStore": lambda g, rng, fx: rng.choice([cloudhsm_store_body, xks_store_body])(rng),
    "CreateGrant": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("sym", "mrk")),
        "GranteePrincipal": PRINCIPAL,
        "RetiringPrincipal": rng.choice([PRINCIPAL, None]),
        "Operations": rng.sample(
            ["Encrypt", "Decrypt", "GenerateDataKey", "ReEncryptFrom", "ReEncryptTo", "DescribeKey", "RetireGrant"],
            rng.randint(1, 4),
        ),
        "Constraints": rng.choice(
            [None, None, {"EncryptionContextSubset": {"purpose": "fuzz"}}, {"EncryptionContextEquals": {"a": "b"}}]
        ),
        "Name": rng.choice([None, f"fuzz-{hexs(rng, 6)}"]),
        "GrantTokens": rng.choice([None, [fx.grant_token]]),
    },
    "CreateKey": lambda g, rng, fx: create_key_body(rng, g, fx),
    "Decrypt": lambda g, rng, fx: rng.choice(
        [
            {
                "CiphertextBlob": fx.ciphertext,
                "EncryptionContext": fx.context,
                "KeyId": rng.choice([None, g.key(rng, fx)]),
            },
            {"CiphertextBlob": fx.ciphertext, "EncryptionContext": fx.context, "GrantTokens": [fx.grant_token]},
            {"CiphertextBlob": fx.ciphertext, "EncryptionContext": fx.context, "DryRun": True},
            {
                "CiphertextBlob": fx.rsa_ciphertext,
                "KeyId": g.key(rng, fx, ("rsa",)),
                "EncryptionAlgorithm": "RSAES_OAEP_SHA_256",
            },
        ]
    ),
    "DeleteAlias": lambda g, rng, fx: {"AliasName": g.victim_alias(rng)},
    "DeleteCustomKeyStore": lambda g, rng, fx: {"CustomKeyStoreId": g.store(rng, fx, victim=True)},
    "DeleteImportedKeyMaterial": lambda g, rng, fx: {
        "KeyId": g.victim_key(rng, fx, ("ext",)) if rng.random() < 0.85 else fx.keys["ext"]
    },
    "DeriveSharedSecret": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("agree",)),
        "KeyAgreementAlgorithm": "ECDH",
        "PublicKey": fx.agree_public,
    },
    "DescribeCustomKeyStores": lambda g, rng, fx: rng.choice(
        [{}, {"CustomKeyStoreId": g.store(rng, fx)}, {"Limit": rng.randint(1, 5)}, {"CustomKeyStoreName": "nope"}]
    ),
    "DescribeKey": lambda g, rng, fx: {"KeyId": g.any_key(rng, fx)},
    "DisableKey": lambda g, rng, fx: {"KeyId": g.victim_key(rng, fx)},
    "DisableKeyRotation": lambda g, rng, fx: {"KeyId": g.victim_key(rng, fx, ("sym",))},
    "DisconnectCustomKeyStore": lambda g, rng, fx: {"CustomKeyStoreId": g.store(rng, fx, victim=rng.random() < 0.7)},
    "EnableKey": lambda g, rng, fx: {"KeyId": g.victim_key(rng, fx)},
    "EnableKeyRotation": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("sym", "mrk")),
        "RotationPeriodInDays": rng.choice([None, 90, 365, 2560]),
    },
    "Encrypt": lambda g, rng, fx: rng.choice(
        [
            {
                "KeyId": g.key(rng, fx, ("sym", "mrk")),
                "Plaintext": b64(rng.randbytes(rng.randint(1, 4096))),
                "EncryptionContext": context(rng),
            },
            {
                "KeyId": g.key(rng, fx, ("rsa",)),
                "Plaintext": b64(rng.randbytes(rng.randint(1, 190))),
                "EncryptionAlgorithm": rng.choice(["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"]),
            },
        ]
    ),
    "GenerateDataKey": lambda g, rng, fx: data_key_body(g, rng, fx),
    "GenerateDataKeyWithoutPlaintext": lambda g, rng, fx: data_key_body(g, rng, fx),
    "GenerateDataKeyPair": lambda g, rng, fx: key_pair_body(g, rng, fx),
    "GenerateDataKeyPairWithoutPlaintext": lambda g, rng, fx: key_pair_body(g, rng, fx),
    "GenerateMac": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("hmac",)),
        "Message": b64(rng.randbytes(rng.randint(1, 4096))),
        "MacAlgorithm": "HMAC_SHA_256",
    },
    "GenerateRandom": lambda g, rng, fx: {"NumberOfBytes": rng.randint(1, 1024)},
    "GetKeyLastUsage": lambda g, rng, fx: {"KeyId": g.any_key(rng, fx)},
    "GetKeyPolicy": lambda g, rng, fx: {"KeyId": g.any_key(rng, fx), "PolicyName": rng.choice([None, "default"])},
    "GetKeyRotationStatus": lambda g, rng, fx: {"KeyId": g.any_key(rng, fx)},
    "GetParametersForImport": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("ext",)) if rng.random() < 0.7 else g.victim_key(rng, fx),
        "WrappingAlgorithm": rng.choice(["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"]),
        "WrappingKeySpec": "RSA_2048" if rng.random() < 0.95 else rng.choice(["RSA_3072", "RSA_4096"]),
    },
    "GetPublicKey": lambda g, rng, fx: {"KeyId": g.key(rng, fx, ("ecc", "rsa", "rsa_sign", "agree"))},
    "ImportKeyMaterial": lambda g, rng, fx: {
        "KeyId": fx.keys["ext"],
        "ImportToken": fx.import_token,
        "EncryptedKeyMaterial": fx.import_material,
        "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
    },
    "ListAliases": lambda g, rng, fx: list_body(g, rng, fx, "ListAliases", {"KeyId": rng.choice([None, fx.sym])}),
    "ListGrants": lambda g, rng, fx: list_body(g, rng, fx, "ListGrants", {"KeyId": g.key(rng, fx)}),
    "ListKeyPolicies": lambda g, rng, fx: {"KeyId": g.any_key(rng, fx)},
    "ListKeyRotations": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("sym", "ext")),
        "IncludeKeyMaterial": rng.choice([None, "ALL_KEY_MATERIAL", "ROTATIONS_ONLY"]),
    },
    "ListKeys": lambda g, rng, fx: list_body(g, rng, fx, "ListKeys", {}),
    "ListResourceTags": lambda g, rng, fx: list_body(g, rng, fx, "ListResourceTags", {"KeyId": g.key(rng, fx)}),
    "ListRetirableGrants": lambda g, rng, fx: list_body(
        g, rng, fx, "ListRetirableGrants", {"RetiringPrincipal": PRINCIPAL}
    ),
    "PutKeyPolicy": lambda g, rng, fx: {
        "KeyId": g.victim_key(rng, fx),
        "Policy": POLICY,
        "PolicyName": rng.choice([None, "default"]),
    },
    "ReEncrypt": lambda g, rng, fx: rng.choice(
        [
            {
                "CiphertextBlob": fx.ciphertext,
                "SourceEncryptionContext": fx.context,
                "DestinationKeyId": g.key(rng, fx, ("sym", "mrk")),
                "DestinationEncryptionContext": context(rng),
            },
            {
                "CiphertextBlob": fx.ciphertext,
                "SourceEncryptionContext": fx.context,
                "DestinationKeyId": g.key(rng, fx, ("rsa",)),
                "DestinationEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
            },
        ]
    ),
    "ReplicateKey": lambda g, rng, fx: {"KeyId": fx.arns["mrk"], "ReplicaRegion": rng.choice(OTHER_REGIONS)},
    "RetireGrant": lambda g, rng, fx: retire_body(g, rng, fx),
    "RevokeGrant": lambda g, rng, fx: dict(zip(("KeyId", "GrantId"), g.victim_grant(rng, fx)[:2])),
    "RotateKeyOnDemand": lambda g, rng, fx: {"KeyId": g.victim_key(rng, fx, ("sym",))},
    "ScheduleKeyDeletion": lambda g, rng, fx: {
        "KeyId": g.victim_key(rng, fx),
        "PendingWindowInDays": rng.choice([None, 7, 30]),
    },
    "Sign": lambda g, rng, fx: sign_body(g, rng, fx),
    "TagResource": lambda g, rng, fx: {
        "KeyId": g.victim_key(rng, fx),
        "Tags": [{"TagKey": f"tag{rng.randrange(20)}", "TagValue": word(rng, 6)}],
    },
    "UntagResource": lambda g, rng, fx: {"KeyId": g.victim_key(rng, fx), "TagKeys": [f"tag{rng.randrange(20)}"]},
    "UpdateAlias": lambda g, rng, fx: {
        "AliasName": g.victim_alias(rng),
        "TargetKeyId": g.key(rng, fx, ("sym", "mrk")),
    },
    "UpdateCustomKeyStore": lambda g, rng, fx: {
        "CustomKeyStoreId": g.store(rng, fx, victim=True),
        "NewCustomKeyStoreName": f"fuzz-renamed-{hexs(rng, 8)}",
    },
    "UpdateKeyDescription": lambda g, rng, fx: {
        "KeyId": g.victim_key(rng, fx),
        "Description": f"fuzz description {hexs(rng, 8)}",
    },
    "UpdatePrimaryRegion": lambda g, rng, fx: {"KeyId": fx.arns["mrk"], "PrimaryRegion": rng.choice(OTHER_REGIONS)},
    "Verify": lambda g, rng, fx: rng.choice(
        [
            {
                "KeyId": g.key(rng, fx, ("ecc",)),
                "Message": fx.message,
                "Signature": fx.signature,
                "SigningAlgorithm": "ECDSA_SHA_256",
            },
            {
                "KeyId": g.key(rng, fx, ("rsa_sign",)),
                "Message": fx.message,
                "Signature": fx.rsa_signature,
                "SigningAlgorithm": "RSASSA_PSS_SHA_256",
            },
            {
                "KeyId": g.key(rng, fx, ("ecc",)),
                "Message": b64(b"another message"),
                "Signature": fx.signature,
                "SigningAlgorithm": "ECDSA_SHA_256",
            },
        ]
    ),
    "VerifyMac": lambda g, rng, fx: {
        "KeyId": g.key(rng, fx, ("hmac",)),
        "Message": fx.message,
        "Mac": fx.mac,
        "MacAlgorithm": "HMAC_SHA_256",
    },
}

# KeySpec and KeyUsage pairs for CreateKey, with weights: RSA keys are generated on the spot
# (seconds for 4096 bits), so they are rarer.
KEY_SPECS = [
    ({}, 20),
    ({"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}, 5),
    ({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}, 5),
    ({"KeySpec": "ECC_NIST_P384", "KeyUsage": "SIGN_VERIFY"}, 3),
    ({"KeySpec": "ECC_NIST_P521", "KeyUsage": "SIGN_VERIFY"}, 2),
    ({"KeySpec": "ECC_SECG_P256K1", "KeyUsage": "SIGN_VERIFY"}, 2),
    ({"KeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": "SIGN_VERIFY"}, 2),
    ({"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}, 2),
    ({"KeySpec": "ML_DSA_44", "KeyUsage": "SIGN_VERIFY"}, 1),
    ({"KeySpec": "SM2", "KeyUsage": "SIGN_VERIFY"}, 1),
    ({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}, 4),
    ({"KeySpec": "HMAC_512", "KeyUsage": "GENERATE_VERIFY_MAC"}, 2),
    ({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"}, 1),
    ({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}, 1),
    ({"Origin": "EXTERNAL"}, 4),
    ({"MultiRegion": True}, 3),
    ({"Origin": "AWS_CLOUDHSM"}, 1),
    ({"Origin": "EXTERNAL_KEY_STORE", "XksKeyId": "fuzz-xks-key"}, 1),
]


def create_key_body(rng, g: Generator, fx) -> dict:
    specs, weights = zip(*KEY_SPECS)
    body = dict(rng.choices(specs, weights)[0])
    if body.get("Origin") == "AWS_CLOUDHSM":
        body["CustomKeyStoreId"] = fx.stores.get("cloudhsm")
    elif body.get("Origin") == "EXTERNAL_KEY_STORE":
        body["CustomKeyStoreId"] = fx.stores.get("xks")
    if rng.random() < 0.3:
        body["Description"] = f"fuzz key {hexs(rng, 6)}"
    if rng.random() < 0.2:
        body["Tags"] = [{"TagKey": f"tag{i}", "TagValue": word(rng, 4)} for i in range(rng.randint(1, 3))]
    if rng.random() < 0.1:
        body["Policy"] = POLICY
    return body


def data_key_body(g: Generator, rng, fx) -> dict:
    body = {"KeyId": g.key(rng, fx, ("sym", "mrk")), "EncryptionContext": context(rng)}
    if rng.random() < 0.7:
        body["KeySpec"] = rng.choice(["AES_256", "AES_128"])
    else:
        body["NumberOfBytes"] = rng.randint(1, 1024)
    return body


def key_pair_body(g: Generator, rng, fx) -> dict:
    specs = {
        "ECC_NIST_P256": 30,
        "ECC_NIST_P384": 10,
        "ECC_NIST_P521": 5,
        "ECC_SECG_P256K1": 5,
        "ECC_NIST_EDWARDS25519": 5,
        "RSA_2048": 5,
        "RSA_3072": 1,
        "RSA_4096": 1,
    }
    spec = rng.choices(list(specs), list(specs.values()))[0]
    return {"KeyId": g.key(rng, fx, ("sym", "mrk")), "KeyPairSpec": spec, "EncryptionContext": context(rng)}


def list_body(g: Generator, rng, fx, op: str, base: dict) -> dict:
    body = dict(base)
    if rng.random() < 0.5:
        body["Limit"] = rng.choice([1, 2, 10, 100, 1000])
    marker = g.marker(rng, fx, op)
    if marker is not MISSING and rng.random() < 0.5:
        body["Marker"] = marker
    return body


def retire_body(g: Generator, rng, fx) -> dict:
    key, grant, token = g.victim_grant(rng, fx)
    return rng.choice([{"GrantToken": token}, {"KeyId": key, "GrantId": grant}])


def sign_body(g: Generator, rng, fx) -> dict:
    if rng.random() < 0.7:
        if rng.random() < 0.7:
            return {
                "KeyId": g.key(rng, fx, ("ecc",)),
                "Message": b64(rng.randbytes(rng.randint(1, 4096))),
                "MessageType": rng.choice([None, "RAW"]),
                "SigningAlgorithm": "ECDSA_SHA_256",
            }
        return {
            "KeyId": g.key(rng, fx, ("ecc",)),
            "Message": b64(rng.randbytes(32)),
            "MessageType": "DIGEST",
            "SigningAlgorithm": "ECDSA_SHA_256",
        }
    return {
        "KeyId": g.key(rng, fx, ("rsa_sign",)),
        "Message": b64(rng.randbytes(rng.randint(1, 4096))),
        "SigningAlgorithm": rng.choice(
            ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384"]
        ),
    }


# --- Mutations -------------------------------------------------------------------------------


class Draft:
    """A KMS request being mutated: its JSON value, then its bytes, then its headers. Values
    with no Python form (a number out of range, 100,000 nested arrays, invalid UTF-8) are
    placeholders in the value, replaced in the bytes."""

    def __init__(self, model: Model, op: str, obj):
        self.model = model
        self.op = op
        self.obj = obj
        self.subs: list[tuple[bytes, bytes]] = []
        self.dup: tuple | None = None  # (the dict, key, value, before the original)
        self.ensure_ascii = True
        self.after: list[tuple[str, object]] = []  # byte-level changes, made after serializing

    def raw(self, data: bytes) -> str:
        """A placeholder for a JSON value written as `data`."""
        tag = f"@@fuzz{len(self.subs)}@@"
        self.subs.append((json.dumps(tag).encode(), data))
        return tag

    def raw_in_string(self, data: bytes) -> str:
        """A placeholder for bytes inside a JSON string."""
        tag = f"@@fuzz{len(self.subs)}@@"
        self.subs.append((tag.encode(), data))
        return tag

    def members(self) -> list[Member]:
        shape = self.model.inputs[self.op]
        if not shape or not isinstance(self.obj, dict):
            return []
        return self.model.members(self.obj, shape)

    def absent(self) -> list[Member]:
        shape = self.model.inputs[self.op]
        return self.model.absent(self.obj, shape) if shape else []

    def pick(self, rng, want=lambda m: True, absent: bool = True) -> Member | None:
        """A member to mutate: one present (at any depth) or, sometimes, one the body lacks."""
        if not isinstance(self.obj, dict):
            return None
        present = [m for m in self.members() if want(m)]
        missing = [m for m in self.absent() if want(m)] if absent else []
        if present and (not missing or rng.random() < 0.75):
            return rng.choice(present)
        return rng.choice(missing) if missing else None

    def shape(self, m: Member) -> dict:
        return self.model.shapes[m.shape]

    def get(self, path):
        v = self.obj
        for p in path:
            v = v[p]
        return v

    def set(self, path, value):
        if not path:
            self.obj = value
            return
        parent = self.get(path[:-1])
        parent[path[-1]] = value

    def delete(self, path):
        parent = self.get(path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent.pop(path[-1])

    def serialize(self) -> bytes:
        ea = self.ensure_ascii

        def dumps(v) -> str:
            if isinstance(v, dict):
                items = list(v.items())
                if self.dup is not None and self.dup[0] is v:
                    _, k, val, before = self.dup
                    items.insert(0 if before else len(items), (k, val))
                return "{" + ",".join(json.dumps(k, ensure_ascii=ea) + ":" + dumps(x) for k, x in items) + "}"
            if isinstance(v, list):
                return "[" + ",".join(dumps(x) for x in v) + "]"
            return json.dumps(v, ensure_ascii=ea)

        data = dumps(self.obj).encode("utf-8", "surrogatepass")
        for needle, raw in self.subs:
            data = data.replace(needle, raw)
        return data


WRONG_TYPES = ["text", "", 0, 1, -1, 3.5, True, False, None, {}, [], {"a": 1}, [1, 2], ["x"], [{}], {"KeyId": "x"}]


def json_type(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return type(v).__name__


def m_wrong_type(d: Draft, rng) -> bool:
    m = d.pick(rng)
    if m is None:
        return False
    current = d.get(m.path) if m.present else None
    expected = {"string": "str", "blob": "str", "integer": "number", "timestamp": "number", "boolean": "bool",
                "structure": "dict", "map": "dict", "list": "list"}[d.model.type(m.shape)]
    choices = [v for v in WRONG_TYPES if json_type(v) not in (json_type(current), expected)]
    value = copy.deepcopy(rng.choice(choices))
    if isinstance(value, str) and rng.random() < 0.3 and d.model.type(m.shape) in ("integer", "timestamp"):
        value = str(rng.choice([1, 7, 100, 2**63]))  # a number as a string
    d.set(m.path, value)
    return True


def m_drop_required(d: Draft, rng) -> bool:
    required = [m for m in d.members() if m.required]
    if required:
        d.delete(rng.choice(required).path)
        return True
    present = d.members()
    if present:
        d.delete(rng.choice(present).path)
        return True
    return False


def m_null_member(d: Draft, rng) -> bool:
    m = d.pick(rng)
    if m is None:
        return False
    d.set(m.path, None)
    return True


NUMBERS = [2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 2**64, 18446744073709551615, 2**31, 2**31 - 1, -(2**31) - 1,
           2**53 + 1, -1, 0, 1e308, -1e308, 1.5, 0.0, -0.0, 1e-300, 10**30, 5e-324]
RAW_NUMBERS = [b"1e400", b"-1e400", b"1E3", b"1e2", b"00", b"-0", b"1.0", b"0.1e1", b"123456789012345678901234567890",
               b"9" * 5000, b"NaN", b"Infinity", b"-Infinity", b"0x10", b"+1", b".5", b"1.", b"1e", b"--1", b"1_000"]


def m_numbers(d: Draft, rng) -> bool:
    numeric = lambda m: d.model.type(m.shape) in ("integer", "timestamp")  # noqa: E731
    m = d.pick(rng, numeric) if rng.random() < 0.8 else None
    m = m or d.pick(rng)
    if m is None:
        return False
    if rng.random() < 0.6:
        d.set(m.path, rng.choice(NUMBERS))
    else:
        d.set(m.path, d.raw(rng.choice(RAW_NUMBERS)))
    return True


def m_long_string(d: Draft, rng) -> bool:
    textual = lambda m: d.model.type(m.shape) in ("string", "blob")  # noqa: E731
    m = d.pick(rng, textual) or d.pick(rng)
    if m is None:
        return False
    n = rng.choice([10_000, 65_536, 100_000, 131_073, 262_144, 300_000, rng.randint(10_000, 300_000)])
    kind = d.model.type(m.shape)
    r = rng.random()
    if kind == "blob" and r < 0.5:
        value = b64(rng.randbytes(n * 3 // 4))
    elif r < 0.6:
        value = rng.choice(["a", "A", "0", "-", "/", " "]) * n
    elif r < 0.7:
        prefix = rng.choice(["alias/", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/", "arn:aws:kms:", "mrk-"])
        value = prefix + "a" * n
    else:
        value = rng.choice(["\u00e9", "\u65e5", "\U0001F600", "\\", '"', "\u0000", "\u2028", "\ufeff"]) * (n // 2)
        d.ensure_ascii = rng.random() < 0.5
    d.set(m.path, value)
    return True


BAD_BASE64 = ["!!!!", "a", "ab", "abc", "abcd=", "ab=c", "a===", "====", "=", "YWJj\n", " YWJj", "YW Jj", "YWJj ",
              "-_-_", "YWJjZA", "YWJjZA=", "YWJjZA===", "YW\u00e9j", "\u0000\u0000\u0000\u0000", "data:;base64,YWJj",
              "%59%57%4A%6A", "YWJj\r\nYWJj", "Y", "+/+/+/+/", "AAAA" * 3000, ""]


def m_bad_base64(d: Draft, rng) -> bool:
    m = d.pick(rng, lambda m: d.model.type(m.shape) == "blob")
    if m is None:
        return False
    current = d.get(m.path) if m.present else ""
    if isinstance(current, str) and len(current) > 4 and rng.random() < 0.4:
        i = rng.randrange(len(current))
        value = rng.choice(
            [
                current[:-1],
                current + "=",
                current[:i] + "!" + current[i + 1 :],
                current.replace("+", "-").replace("/", "_"),
                current[:i] + "\n" + current[i:],
                current[:i] + " " + current[i:],
                current.rstrip("=") + "===",
            ]
        )
    else:
        value = rng.choice(BAD_BASE64)
    d.set(m.path, value)
    return True


def m_bad_enum(d: Draft, rng) -> bool:
    m = d.pick(rng, lambda m: "enum" in d.shape(m))
    if m is None:
        return False
    good = rng.choice(d.shape(m)["enum"])
    bad = [good.lower(), " " + good, good + " ", good + "\u0000", good * 2, "", "X", good.replace("_", "-"),
           "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256", "\u00e9" + good, good[:-1]]
    d.set(m.path, rng.choice(bad))
    return True


UNKNOWN_NAMES = ["Foo", "keyId", "KEYID", "keyid", "__type", "", " ", "KeyId ", "\u00e9", "a" * 1000, "Plaintext\u0000",
                 "$ref", "__proto__", "constructor", "Action", "Version", "x-amz-target", "KeyIds", "DryRun2"]


def m_unknown_member(d: Draft, rng) -> bool:
    if not isinstance(d.obj, dict):
        return False
    dicts = [d.obj] + [d.get(m.path) for m in d.members() if isinstance(d.get(m.path), dict)]
    target = rng.choice(dicts)
    for _ in range(rng.randint(1, 3)):
        target[rng.choice(UNKNOWN_NAMES)] = copy.deepcopy(rng.choice(WRONG_TYPES + ["x" * rng.randint(1, 5000)]))
    return True


def m_marker(d: Draft, rng, fx) -> bool:
    if not isinstance(d.obj, dict):
        return False
    real = list(fx.markers.values()) or ["abc"]
    m = rng.choice(real)
    i = rng.randrange(len(m))
    d.obj["Marker"] = rng.choice(
        [
            "",
            " ",
            "x",
            m[:i],
            m[:i] + chr(ord(m[i]) ^ 1) + m[i + 1 :],
            m + "A",
            m + "==",
            m[::-1],
            "\u00ff" * 10,
            "\u65e5\u672c",
            "\u0000",
            "a" * 1024,
            "a" * 1025,
            "~" * 1024,
            "../../",
            str(uuid.UUID(int=rng.getrandbits(128))),
            f"alias/{hexs(rng, 4)}",
            b64(rng.randbytes(rng.randint(1, 300))),
            rng.choice(real),  # another listing's marker
            "\uffff",
            "\ud800",
        ]
    )
    if rng.random() < 0.5:
        d.obj["Limit"] = rng.choice([0, 1, 1000, 1001, -1, 2**31])
    return True


def m_list_size(d: Draft, rng) -> bool:
    m = d.pick(rng, lambda m: d.model.type(m.shape) in ("list", "map"))
    if m is None:
        return False
    current = d.get(m.path) if m.present else None
    if d.model.type(m.shape) == "list":
        item = current[0] if current else "x"
        n = rng.choice([0, 11, 51, 101, 1000, 20000])
        d.set(m.path, [copy.deepcopy(item) for _ in range(n)])
    else:
        n = rng.choice([0, 1, 65, 1000, 10000])
        value = {f"k{i}": "v" for i in range(n)}
        if rng.random() < 0.3:
            value = rng.choice([{"": ""}, {"k": ""}, {"a" * 10000: "b"}, {"k": "v" * 100000}, {"k": 1}, {"k": None},
                                {"k": ["v"]}, {"k": {"n": "v"}}])
        d.set(m.path, value)
    return True


def nested(rng, depth: int) -> bytes:
    r = rng.random()
    if r < 0.5:
        return b"[" * depth + b"]" * depth
    if r < 0.8:
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'[{"a":' * (depth // 2) + b"0" + b"}]" * (depth // 2)


def m_deep_nesting(d: Draft, rng) -> bool:
    depth = rng.choice([16, 127, 128, 129, 256, 1000, 10_000, 100_000])
    m = d.pick(rng) if rng.random() < 0.6 else None
    if m is None:
        d.obj = d.raw(nested(rng, depth))
    else:
        d.set(m.path, d.raw(nested(rng, depth)))
    return True


def m_duplicate_keys(d: Draft, rng) -> bool:
    if not isinstance(d.obj, dict):
        return False
    dicts = [d.obj] + [d.get(m.path) for m in d.members() if isinstance(d.get(m.path), dict)]
    target = rng.choice(dicts)
    if target:
        key = rng.choice(list(target))
        value = rng.choice([copy.deepcopy(target[key]), copy.deepcopy(rng.choice(WRONG_TYPES)), "other"])
    else:
        key, value = "KeyId", "x"
    d.dup = (target, key, value, rng.random() < 0.5)
    return True


# Stray and truncated continuation bytes, overlong forms, surrogates, beyond U+10FFFF.
BAD_UTF8 = [b"\xff", b"\xfe", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc", b"\xc0\xaf",
            b"\xc0\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\x80", b"\xf8\x88\x80\x80\x80",
            b"\xe2\x82", b"\xf0\x9f\x98"]


def m_bad_utf8(d: Draft, rng) -> bool:
    seq = rng.choice(BAD_UTF8) * rng.choice([1, 1, 2, 100])
    if rng.random() < 0.6:
        m = d.pick(rng, lambda m: d.model.type(m.shape) == "string", absent=False) or d.pick(rng, absent=False)
        if m is not None:
            current = d.get(m.path)
            text = current if isinstance(current, str) else "x"
            i = rng.randrange(len(text) + 1)
            d.set(m.path, text[:i] + d.raw_in_string(seq) + text[i:])
            return True
    if isinstance(d.obj, dict) and rng.random() < 0.3:
        d.obj[d.raw_in_string(seq)] = "x"  # in a member's name
        return True
    d.after += [("insert", seq)]
    return True


def m_truncated(d: Draft, rng) -> bool:
    d.after += [("truncate", rng.random())]
    return True


def m_empty_body(d: Draft, rng) -> bool:
    d.after += [("replace", rng.choice([b"", b" ", b"\r\n\t ", b"\x00", b"\n"]))]
    return True


def m_non_object(d: Draft, rng) -> bool:
    value = rng.choice([[], None, True, False, 1, -1.5e3, 0, "KeyId", "", [d.obj], [{}], json.dumps(d.obj)])
    d.obj = value
    return True


def m_trailing_garbage(d: Draft, rng) -> bool:
    d.after += [
        rng.choice(
            [
                ("append", rng.choice([b"x", b"}", b"{}", b",", b"\x00", b"]", b"//c", b"{", b"null", b" 1"])),
                ("prepend", rng.choice([b"\xef\xbb\xbf", b"/*c*/", b"\x00", b"x", b")]}'\n"])),
            ]
        )
    ]
    return True


def apply_after(d: Draft, rng, body: bytes) -> bytes:
    for action, arg in d.after:
        if action == "insert":
            i = rng.randrange(len(body) + 1)
            body = body[:i] + arg + body[i:]
        elif action == "truncate":
            body = body[: int(len(body) * arg)]
        elif action == "replace":
            body = arg
        elif action == "append":
            body = body + arg
        elif action == "prepend":
            body = arg + body
    return body


# Header mutations work on the request.


def set_header(req: Request, name: bytes, value: bytes | None):
    req.headers = [(k, v) for k, v in req.headers if k.lower() != name.lower()]
    if value is not None:
        req.headers.append((name, value))


def h_target(req: Request, rng, ops: list[str]) -> bool:
    op = req.label
    variants = [
        (TARGET_PREFIX + rng.choice(ops)).encode(),  # another operation, this one's body
        b"TrentService.Nope",
        b"TrentService.",
        b"TrentService",
        b"",
        op.encode(),
        b"trentservice." + op.encode(),
        (TARGET_PREFIX + op.lower()).encode(),
        (TARGET_PREFIX + op.upper()).encode(),
        (TARGET_PREFIX + op + " x").encode(),
        (TARGET_PREFIX + op + ".Extra").encode(),
        b"DynamoDB_20120810.GetItem",
        b"AmazonSSM.GetParameter",
        b"Kms." + op.encode(),
        b"TrentService.__proto__",
        b"TrentService." + b"A" * rng.choice([100, 8000, 60000]),
        b"TrentService.\xff\xfe",
        b"TrentService." + op.encode() + b"\xc3\xa9",
        (TARGET_PREFIX + op + "," + TARGET_PREFIX + op).encode(),
        b"TrentService.operations",
    ]
    r = rng.random()
    if r < 0.1:
        set_header(req, b"X-Amz-Target", None)
    elif r < 0.2:
        req.headers.append((b"X-Amz-Target", (TARGET_PREFIX + rng.choice(ops)).encode()))  # twice
    elif r < 0.25:
        set_header(req, b"X-Amz-Target", None)
        req.headers.append((rng.choice([b"x-amz-target", b"X-AMZ-TARGET"]), (TARGET_PREFIX + op).encode()))
        return True  # the same header, spelled differently: still this operation
    else:
        set_header(req, b"X-Amz-Target", rng.choice(variants))
    req.target_ok = False
    return True


CONTENT_TYPES = [None, b"application/json", b"text/plain", b"application/x-amz-json-1.0", b"",
                 b"application/x-amz-json-1.1; charset=utf-8", b"application/x-www-form-urlencoded",
                 b"multipart/form-data; boundary=x", b"application/cbor", b"application/x-amz-cbor-1.1",
                 b"\xff\xfe", b"*/*", b"application/x-amz-json-1.1, application/json"]


def h_content_type(req: Request, rng, ops) -> bool:
    value = rng.choice(CONTENT_TYPES)
    set_header(req, b"Content-Type", value)
    if value is not None and rng.random() < 0.2:
        req.headers.append((b"Content-Type", rng.choice(CONTENT_TYPES[1:])))
    return True


def h_auth_scope(req: Request, rng, ops) -> bool:
    akid = rng.choice([b"AKIDEXAMPLE", b"444455556666", ACCOUNT.encode(), b"12345678901", b"1234567890123", b"",
                       b"000000000000", b"\xff" * 12])
    region = rng.choice([b"eu-west-2", REGION.encode(), b"", b"..", b"us-east-1/extra", b"x" * 300, b"\xc3\xa9",
                         b"cn-north-1", b"us-gov-west-1", b"a" * rng.choice([64, 5000]), b"US-EAST-1", b" "])
    credential = akid + b"/20260101/" + region + b"/kms/aws4_request"
    value = rng.choice(
        [
            b"AWS4-HMAC-SHA256 Credential=" + credential + b", SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64,
            b"AWS4-HMAC-SHA256 Credential=" + credential,
            b"AWS4-HMAC-SHA256 Credential=" + akid,
            b"AWS4-HMAC-SHA256 Credential=",
            b"AWS4-HMAC-SHA256 Credential=" + akid + b"/",
            b"Credential=" + akid + b"//" + region,
            b"Bearer x",
            b"",
            b"Credential=Credential=Credential=",
            b"AWS4-HMAC-SHA256 Credential=" + credential * 2,
        ]
    )
    set_header(req, b"Authorization", value)
    if rng.random() < 0.3:
        req.headers.append((b"X-Amz-Date", rng.choice([b"20260101T000000Z", b"garbage", b""])))
    if rng.random() < 0.2:
        req.headers.append((b"X-Amz-Security-Token", rng.choice([b"x", b"y" * 4000])))
    req.target_ok = False  # acts in another account or Region: resources are not found there
    return True


def h_http_misc(req: Request, rng, ops) -> bool:
    r = rng.random()
    if r < 0.2:
        req.headers.append((b"Connection", b"close"))
    elif r < 0.3:
        req.version = "HTTP/1.0"
    elif r < 0.35:
        req.version = "HTTP/1.0"
        req.headers.append((b"Connection", b"keep-alive"))
    elif r < 0.55:
        # A valid chunked body, in chunks of random sizes, sometimes with extensions.
        body, out = req.body, b""
        while body:
            n = rng.randint(1, max(1, len(body)))
            ext = b";x=1" if rng.random() < 0.2 else b""
            out += b"%x%s\r\n%s\r\n" % (n, ext, body[:n])
            body = body[n:]
        req.body = out + b"0\r\n\r\n"
        req.chunked = True
        req.headers.append((b"Transfer-Encoding", b"chunked"))
    elif r < 0.65:
        req.headers.append((b"Expect", b"100-continue"))
    elif r < 0.75:
        req.headers.append((b"Content-Encoding", rng.choice([b"gzip", b"br", b"identity", b"x"])))
        if rng.random() < 0.5:
            req.body = gzip.compress(req.body)
    elif r < 0.85:
        for i in range(rng.randint(1, 30)):
            req.headers.append((b"X-Fuzz-%d" % i, rng.choice([b"", b"x", b"y" * 1000, b"\xff"])))
    else:
        req.headers.append((b"Accept-Encoding", rng.choice([b"gzip", b"*", b"identity;q=0"])))
        req.headers.append((b"User-Agent", b"fuzz/" + b"x" * rng.randint(0, 2000)))
    return True


BODY_MUTATIONS = {
    "wrong-type": (m_wrong_type, 10),
    "drop-required": (m_drop_required, 6),
    "null-member": (m_null_member, 3),
    "numbers": (m_numbers, 6),
    "long-string": (m_long_string, 4),
    "bad-base64": (m_bad_base64, 5),
    "bad-enum": (m_bad_enum, 4),
    "unknown-member": (m_unknown_member, 4),
    "marker": (m_marker, 4),
    "list-size": (m_list_size, 3),
    "deep-nesting": (m_deep_nesting, 2),
    "duplicate-keys": (m_duplicate_keys, 4),
    "bad-utf8": (m_bad_utf8, 4),
    "truncated": (m_truncated, 4),
    "empty-body": (m_empty_body, 1),
    "non-object": (m_non_object, 2),
    "trailing-garbage": (m_trailing_garbage, 2),
}
HEADER_MUTATIONS = {
    "target": (h_target, 4),
    "content-type": (h_content_type, 2),
    "auth-scope": (h_auth_scope, 3),
    "http-misc": (h_http_misc, 3),
}
# Requests of their own: the test controls, other paths and methods, and HTTP framing (each
# framing request on a new connection).
OWN_CLASSES = ["control", "control-odd", "other-path", "framing", "http-framing"]
# The share of requests of each kind; the rest are KMS requests, mutated or not.
OWN_SHARES = {"control": 0.03, "control-odd": 0.02, "other-path": 0.01, "framing": 0.025, "http-framing": 0.005}
UNMUTATED_SHARE = 0.2  # of KMS requests: valid (recipe) or generic (model) as built
MUTATIONS = sorted([*BODY_MUTATIONS, *HEADER_MUTATIONS, *OWN_CLASSES])


# --- Requests of their own -------------------------------------------------------------------

# Bodies for POST /_trent/clock that must be refused, or move the clock by nothing: never
# forward (the run's clock budget).
ODD_CLOCK_BODIES = [
    *(
        b'{"advanceSeconds": %s}' % v
        for v in (b"-1", b"-9223372036854775808", b"9223372036854775807", b"9223372036854775808",
                  b"18446744073709551616", b"1e308", b"1.5", b"1e400", b'"60"', b"true", b"null", b"[]", b"{}",
                  b"100000000000", b"31622400001", b"-0", b"0", b'"\xff"', b"9" * 300_000)
    ),
    *(
        b'{"offsetSeconds": %s}' % v
        for v in (b"100000000000", b"-1", b"-9223372036854775808", b"9223372036854775807", b"1e308")
    ),
    b'{"advanceSeconds": 1, "offsetSeconds": 1}', b"{}", b"[]", b"null", b'""', b"", b"{", b"1",
    b'{"advanceSeconds": 0, "extra": 1}', b'{"advanceSeconds": 0, "advanceSeconds": -1}', b"\xff\xfe",
    b'{"AdvanceSeconds": 1}', b'{"advance_seconds": 1}',
]


class OwnRequests:
    """Requests that are not mutated KMS requests: the test controls (with odd bodies and
    methods), other paths and methods, and broken HTTP framing."""

    def __init__(self, fuzzer: Fuzzer):
        self.fuzzer = fuzzer

    def control(self, rng) -> Request:
        r = rng.random()
        if r < 0.3:
            return Request("GET /_trent/health", ["control"], "control", "GET", "/_trent/health")
        if r < 0.6:
            return Request("GET /_trent/clock", ["control"], "control", "GET", "/_trent/clock")
        if r < 0.975:
            step = self.fuzzer.reserve_clock(rng.randint(1, 3600))
            if rng.random() < 0.7:
                body = {"advanceSeconds": step}
            else:
                body = {"offsetSeconds": int(self.fuzzer.clock_offset) + step}
            return Request("POST /_trent/clock", ["control"], "control", "POST", "/_trent/clock",
                           body=json.dumps(body).encode())
        if r < 0.99:
            return Request("GET /_trent/seed", ["control"], "seed", "GET", "/_trent/seed")
        path = "/_trent/reset" if r < 0.997 else "/moto-api/reset"
        return Request(f"POST {path}", ["control"], "control", "POST", path)

    def control_odd(self, rng) -> Request:
        r = rng.random()
        if r < 0.7:
            body = rng.choice(ODD_CLOCK_BODIES)
            if rng.random() < 0.1:
                body = nested(rng, rng.choice([128, 100_000]))
            req = Request("POST /_trent/clock", ["control-odd"], "control", "POST", "/_trent/clock", body=body)
            if rng.random() < 0.3:
                req.headers.append((b"Content-Type", rng.choice([b"application/json", b"text/plain", b"\xff"])))
            return req
        if r < 0.9:
            path, method = rng.choice(
                [("/_trent/health", m) for m in ("POST", "PUT", "DELETE", "PATCH")]
                + [("/_trent/clock", m) for m in ("PUT", "DELETE", "PATCH")]
                + [("/_trent/reset", m) for m in ("GET", "PUT", "DELETE")]
                + [("/_trent/seed", m) for m in ("POST", "PUT", "DELETE")]
                + [("/moto-api/reset", "GET")]
            )
            body = b"{}" if method != "GET" else b""
            return Request(f"{method} {path}", ["control-odd"], "control", method, path, body=body)
        if r < 0.97:
            path = rng.choice(
                ["/_trent/health?x=1", "/_trent/clock?advanceSeconds=999999999", "/_trent/health?" + "a" * 5000]
            )
            return Request(f"GET {path.split('?')[0]}?...", ["control-odd"], "control", "GET", path)
        # A body over axum's default limit for a control (2 MB).
        body = b'{"advanceSeconds": 0, "x": "' + b"a" * rng.choice([2_100_000, 3_000_000]) + b'"}'
        return Request("POST /_trent/clock", ["control-odd"], "control", "POST", "/_trent/clock",
                       body=body, transport="oneshot")

    def other_path(self, rng) -> Request:
        method, path = rng.choice(
            [("GET", "/"), ("PUT", "/"), ("DELETE", "/"), ("PATCH", "/"), ("OPTIONS", "/"), ("HEAD", "/"),
             ("GET", "/foo"), ("POST", "/foo"), ("POST", "/_trent"), ("POST", "/_trent/"), ("GET", "/_trent/clock/"),
             ("POST", "//"), ("POST", "/%2F"), ("POST", "/" + "a" * 8000), ("GET", "/moto-api/"), ("POST", "/kms"),
             ("POST", "/?Action=ListKeys"), ("CONNECT", "/"), ("TRACE", "/")]
        )
        req = Request(f"{method} {path[:40]}", ["other-path"], "other", method, path, body=b"{}")
        req.headers = [(b"Content-Type", CONTENT_TYPE), (b"X-Amz-Target", b"TrentService.ListKeys")]
        if path.startswith("/?"):
            req.kind = "kms"  # the KMS endpoint; the query is ignored
        return req

    def framing(self, rng, base: Request) -> Request:
        """A valid KMS request with broken framing, on a connection of its own."""
        req = base
        req.classes = ["framing"]
        r = rng.random()
        if r < 0.3:
            extra = rng.choice([1, 10, 1000, 100_000])
            req.content_length = b"%d" % (len(req.body) + extra)
            req.transport = "halfclose"
            req.note = f"Content-Length {extra} bytes over the body, then the client shuts down its sending side"
        elif r < 0.55:
            cut = rng.randint(0, max(0, len(req.body) - 1))
            req.content_length = b"%d" % cut
            req.transport = "oneshot"
            req.note = ("Content-Length shorter than the body: the rest is read as the next request; "
                        "only the first answer is checked")
        elif r < 0.7:
            req.body = b'{"Pad": "' + b"a" * rng.randint(MAX_BODY, 3 * MAX_BODY) + b'"}'
            req.transport = "oneshot"
            req.note = "a body over the 1 MiB limit (the answer may come before the client has sent it all)"
        elif r < 0.99:
            req.transport = "pipelined"
            req.then = copy.deepcopy(base)
            req.then.then = None
            req.note = "two requests in one write: two answers expected"
        else:
            size = rng.choice([MAX_BODY + 1, 10 * MAX_BODY, 10**12, 2**63 - 1])
            req.content_length = b"%d" % size
            req.transport = "oneshot"
            req.timeout = min(5.0, self.fuzzer.timeout)
            req.note = f"Content-Length {size}, over the 1 MiB limit, a short body, the connection left open"
        return req

    def http_framing(self, rng, base: Request) -> Request:
        """Requests that break HTTP itself, answered by the HTTP layer, on a connection of their own."""
        req = base
        req.classes = ["http-framing"]
        req.transport = "oneshot"
        r = rng.randrange(12)
        if r == 0:
            req.content_length = rng.choice(
                [b"abc", b"-1", b"18446744073709551616", b"1, 2", b"+5", b"0x10", b"", b"1.0"]
            )
            req.note = "an invalid Content-Length"
        elif r == 1:
            req.content_length = b"%d" % len(req.body)
            req.headers.append((b"Content-Length", b"%d" % (len(req.body) + 1)))
            req.note = "two different Content-Length headers"
        elif r == 2:
            req.headers.append((b"Transfer-Encoding", b"chunked"))
            req.note = "Content-Length and Transfer-Encoding: chunked"
        elif r == 3:
            req.chunked = True
            req.headers.append((b"Transfer-Encoding", b"chunked"))
            req.body = rng.choice(
                [
                    b"zz\r\n" + req.body + b"\r\n0\r\n\r\n",  # not a hex size
                    b"%x\r\n%s0\r\n\r\n" % (len(req.body), req.body),  # no CRLF after the data
                    b"ffffffffffffffffff\r\n" + req.body,  # a size over 64 bits
                ]
            )
            req.note = "a broken chunked body"
        elif r == 4:
            req.headers.append((b"X-Fuzz", rng.choice([b"a\x00b", b"a\x01b", b"a\rb", b"a\x7fb"])))
            req.note = "a control character in a header value"
        elif r == 5:
            req.headers.append((rng.choice([b"X Fuzz", b"X-Fuzz ", b"", b"X\xffFuzz", b"(x)"]), b"1"))
            req.note = "an invalid header name"
        elif r == 6:
            req.headers.append((b"X-Fuzz", b"1\r\n continued"))
            req.note = "an obsolete folded header line"
        elif r == 7:
            req.version = rng.choice(["HTTP/9.9", "HTTP/1", "http/1.1", "HTTP/1.1 x", "HTTP/2.0"])
            req.note = "an invalid HTTP version"
        elif r == 8:
            req.method = rng.choice(["post", "P OST", "POST\x00", "\xffPOST"])
            req.kind = "other"  # not POST /
            req.note = "an invalid method"
        elif r == 9:
            req.headers.extend((b"X-Fuzz-%d" % i, b"1") for i in range(rng.choice([101, 200, 1000])))
            req.note = "too many header lines"
        elif r == 10:
            name = rng.choice([b"X-Fuzz", b"Authorization", b"X-Amz-Target"])
            req.headers.append((name, b"y" * rng.choice([500_000, 1_100_000])))
            req.note = "a header longer than the HTTP layer reads"
        else:
            req.path = rng.choice(["/ /", "/\x00", "*", "http://[::1", "/" + "a" * 70_000])
            req.kind = "other"  # not POST /
            req.note = "an invalid request target"
        return req


# --- The run ---------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = collections.Counter()
        self.status = collections.Counter()
        self.by_label: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.errors_by_label: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.by_class: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.errors_by_class: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.findings: dict[tuple, dict] = {}
        self.finding_count = 0
        self.notes = collections.Counter()

    def record(self, req: Request, resp: Response | None):
        status = resp.status if resp is not None else "none"
        err = resp.error_type() if resp is not None else None
        with self.lock:
            self.sent[req.label] += 1
            self.status[status] += 1
            self.by_label[req.label][status] += 1
            for cls in req.classes:
                self.by_class[cls][status] += 1
            if err:
                self.errors_by_label[req.label][err] += 1
                for cls in req.classes:
                    self.errors_by_class[cls][err] += 1


class Fuzzer:
    def __init__(self, args, model: Model, endpoint: str):
        self.args = args
        self.model = model
        url = endpoint.rstrip("/")
        hostport = url.split("://", 1)[-1]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.hostb = hostport.encode()
        self.endpoint = url
        self.timeout = args.timeout
        self.stats = Stats()
        self.fixtures = Fixtures(self)
        self.gen = Generator(model, self.fixtures)
        self.own = OwnRequests(self)
        self.skip = set(args.skip)
        self.clock_lock = threading.Lock()
        self.clock_spent = 0  # seconds the clock was moved forward this run (reserved or done)
        self.clock_offset = 0.0  # the server's offset, as last seen
        self.next_index = 0
        self.index_lock = threading.Lock()
        self.repair_lock = threading.Lock()
        self.done = 0
        self.fuzzer_errors = 0
        self.stop = threading.Event()
        self.server: Server | None = None
        self.body_classes = {k: v for k, v in BODY_MUTATIONS.items() if k not in self.skip}
        self.header_classes = {k: v for k, v in HEADER_MUTATIONS.items() if k not in self.skip}

    # Findings -----------------------------------------------------------------------------

    def note(self, text: str):
        with self.stats.lock:
            self.stats.notes[text[:200]] += 1

    def finding(self, kind: str, req: Request, resp: Response | None, detail: str, signature: tuple):
        with self.stats.lock:
            self.stats.finding_count += 1
            entry = self.stats.findings.setdefault(
                (kind, *signature), {"kind": kind, "detail": detail, "count": 0, "examples": []}
            )
            entry["count"] += 1
            if len(entry["examples"]) < 3:
                example = {"index": req.index, "label": req.label, "request": req.describe()}
                if resp is not None:
                    example["response"] = resp.describe()
                example["detail"] = detail
                entry["examples"].append(example)

    def check(self, req: Request, resp: Response):
        """The rules every answer must follow."""
        classes = tuple(sorted(req.classes))
        if not (resp.status == 200 or 400 <= resp.status < 500):
            err = resp.error_type()
            self.finding(
                "server error" if resp.status >= 500 else "unexpected status",
                req, resp,
                f"status {resp.status} ({err or 'no __type'})",
                (req.label if resp.status >= 500 else classes, resp.status, err),
            )
        doc = resp.doc
        if req.kind == "kms":
            if resp.status != 200 and not (isinstance(doc, dict) and isinstance(doc.get("__type"), str)):
                self.finding("non-JSON error", req, resp,
                             f"{resp.status} to POST / without a JSON body with a string __type"
                             + (f" ({req.note})" if req.note else f" (mutations: {', '.join(classes)})"),
                             (classes, resp.status, shape_of(req.note)))
            elif resp.status == 200 and not isinstance(doc, dict):
                self.finding("non-JSON success", req, resp, "a 200 whose body is not a JSON object", (req.label,))
        elif req.kind == "control" or (req.kind == "seed" and resp.status != 200):
            if doc is None:
                self.finding("non-JSON control answer", req, resp,
                             f"{resp.status} {resp.reason} to {req.label}, not JSON "
                             f"(content-type {resp.header('content-type') or 'none'})",
                             (resp.status, resp.header("content-type")))
        elif req.kind == "seed":
            if "yaml" not in (resp.header("content-type") or "") or not resp.body:
                self.finding("bad seed export", req, resp, "GET /_trent/seed did not answer YAML", ())
        elif req.kind == "other" and doc is None and resp.status != 200:
            self.note(f"non-JSON {resp.status} to {req.label} (no rule for other paths)")

    # Sending ------------------------------------------------------------------------------

    def send(self, conn: Connection, req: Request, count: bool = True) -> list[Response] | None:
        """Sends one request and checks its answers; None when it got none."""
        transport = req.transport
        c = conn if transport == "keepalive" else Connection(self.host, self.port, self.timeout)
        prev, prev_answer = c.last, c.last_answer
        data = req.wire(self.hostb)
        kwargs = dict(method=req.method, half_close=transport == "halfclose", timeout=req.timeout,
                      answers=2 if transport == "pipelined" else 1)
        answers: list[Response] | None = None
        try:
            try:
                answers = c.exchange(data, **kwargs)
            except Dropped as e:
                if not (e.reused and prev is not None):
                    raise
                # The kept-alive connection failed: send again on a new one. If that is
                # answered, the server had closed the connection after the previous request.
                answers = c.exchange(data, **kwargs)
                err = prev_answer.error_type() if prev_answer else None
                self.finding(
                    "dropped connection", prev, prev_answer,
                    f"the server closed the kept-alive connection after answering this request "
                    f"({prev_answer.status if prev_answer else '?'} {err}), without 'Connection: close': "
                    f"the next request on it failed ({e}) and was answered on a new connection",
                    ("after answer", err, "body over 1 MiB" if len(prev.body) > MAX_BODY else "body within 1 MiB"),
                )
        except Hang as e:
            self.finding("no answer", req, None, f"{e}" + (f" ({req.note})" if req.note else ""),
                         (tuple(sorted(req.classes)), shape_of(req.note)))
        except Dropped as e:
            self.finding("dropped connection", req, None, f"no answer: {e}",
                         (tuple(sorted(req.classes)), shape_of(req.note)))
        except Refused as e:
            self.finding("connection refused", req, None, str(e), ())
            if self.server is not None and not self.server.alive():
                self.stop.set()
        finally:
            if c is not conn:
                c.close()
        if answers is not None and transport == "keepalive":
            c.last, c.last_answer = req, answers[0]
        if count:
            self.stats.record(req, answers[0] if answers else None)
        for resp in answers or []:
            self.check(req if resp is answers[0] else req.then, resp)
        if answers and transport == "pipelined" and len(answers) < 2 and not any(
            a.closes() for a in answers
        ):
            self.finding("dropped connection", req, answers[0],
                         "two pipelined requests got one answer, without 'Connection: close'",
                         (tuple(sorted(req.classes)),))
        return answers

    # Building -----------------------------------------------------------------------------

    def build(self, index: int) -> Request:
        rng = random.Random(f"{self.args.seed}/{index}")
        fx = self.fixtures.fx
        r = rng.random()
        acc = 0.0
        own = None
        for cls in OWN_CLASSES:
            acc += OWN_SHARES[cls]
            if r < acc:
                own = cls
                break
        if own in self.skip:
            own = None
        if own == "control":
            req = self.own.control(rng)
        elif own == "control-odd":
            req = self.own.control_odd(rng)
        elif own == "other-path":
            req = self.own.other_path(rng)
        else:
            op = rng.choice(self.model.operations)
            valid = rng.random() < 0.6
            obj = self.gen.valid(op, rng, fx) if valid else self.gen.generic(op, rng, fx)
            if own == "framing":
                req = self.own.framing(rng, kms_request(op, json.dumps(obj).encode(), [], copy.deepcopy(obj)))
            elif own == "http-framing":
                req = self.own.http_framing(rng, kms_request(op, json.dumps(obj).encode(), [], copy.deepcopy(obj)))
            else:
                req = self.mutate(op, obj, valid, rng, fx)
        req.index = index
        return req

    def mutate(self, op: str, obj: dict, valid: bool, rng, fx) -> Request:
        original = obj
        classes: list[str] = []
        # A copy: the body shares values with the resources (their encryption context).
        d = Draft(self.model, op, copy.deepcopy(obj))
        header_picks: list[str] = []
        if rng.random() >= UNMUTATED_SHARE:
            n = rng.choice([1, 1, 1, 2, 2, 3])
            pool = {**self.body_classes, **self.header_classes}
            names, weights = list(pool), [w for _, w in pool.values()]
            picks = set()
            while len(picks) < n and names:
                picks.add(rng.choices(names, weights)[0])
            for name in sorted(picks):
                if name in self.header_classes:
                    header_picks.append(name)
                    continue
                fn = BODY_MUTATIONS[name][0]
                done = fn(d, rng, fx) if name == "marker" else fn(d, rng)
                if done:
                    classes.append(name)
        body = apply_after(d, rng, d.serialize())
        req = kms_request(op, body, classes, original)
        for name in header_picks:
            if HEADER_MUTATIONS[name][0](req, rng, self.model.operations):
                classes.append(name)
        if not classes:
            classes.append("valid" if valid else "generic")
        req.classes = classes
        return req

    # Clock --------------------------------------------------------------------------------

    def reserve_clock(self, seconds: int) -> int:
        """Seconds the clock may move forward now: `seconds`, or 0 once the budget is spent."""
        with self.clock_lock:
            if self.clock_spent + seconds > CLOCK_BUDGET_SECONDS:
                return 0
            self.clock_spent += seconds
            return seconds

    # After an answer ----------------------------------------------------------------------

    def learn(self, req: Request, resp: Response):
        """Keeps the resources a request created, follows the clock, re-creates after a reset."""
        if resp.status != 200:
            return
        if req.kind == "control":
            doc = json_or_none(resp.body)
            if req.path == "/_trent/clock" and isinstance(doc, dict):
                with self.clock_lock:
                    self.clock_offset = doc.get("offsetSeconds", self.clock_offset)
                    self.clock_spent = max(self.clock_spent, int(self.clock_offset))
            elif req.path in ("/_trent/reset", "/moto-api/reset"):
                with self.clock_lock:
                    self.clock_spent, self.clock_offset = 0, 0.0
                self.fixtures.forget_victims()
                with self.repair_lock:
                    self.setup_fixtures()
            return
        if req.kind != "kms" or not req.target_ok or not isinstance(req.obj, dict):
            return
        doc = json_or_none(resp.body)
        if not isinstance(doc, dict):
            return
        fx = self.fixtures
        if req.label == "CreateKey" and "KeyMetadata" in doc:
            fx.victim_keys.append(doc["KeyMetadata"].get("KeyId"))
        elif req.label == "CreateAlias":
            sent = json_or_none(req.body)
            if isinstance(sent, dict) and isinstance(sent.get("AliasName"), str):
                fx.victim_aliases.append(sent["AliasName"])
        elif req.label == "CreateGrant" and "GrantId" in doc:
            sent = json_or_none(req.body)
            key = sent.get("KeyId") if isinstance(sent, dict) else None
            if isinstance(key, str):
                fx.victim_grants.append((key, doc["GrantId"], doc.get("GrantToken")))
        elif req.label == "CreateCustomKeyStore" and "CustomKeyStoreId" in doc:
            fx.victim_stores.append(doc["CustomKeyStoreId"])

    def setup_fixtures(self):
        try:
            self.fixtures.setup()
        except SetupError as e:
            self.note(f"set-up after a reset: {e}")

    # Workers ------------------------------------------------------------------------------

    def take(self) -> int | None:
        with self.index_lock:
            if self.next_index >= self.args.requests or self.stop.is_set():
                return None
            i = self.next_index
            self.next_index += 1
            return i

    def worker(self):
        conn = Connection(self.host, self.port, self.timeout)
        try:
            while (i := self.take()) is not None:
                try:
                    req = self.build(i)
                    answers = self.send(conn, req)
                    if answers:
                        self.learn(req, answers[0])
                except Exception as e:  # a bug of the fuzzer's: counted, shown, not fatal
                    with self.stats.lock:
                        self.fuzzer_errors += 1
                        first = self.fuzzer_errors <= 3
                    if first:
                        print(f"fuzz: request {i}: fuzzer error", file=sys.stderr)
                        traceback.print_exc()
                    self.note(f"fuzzer error: {type(e).__name__}: {e}")
                    conn.close()
                with self.index_lock:
                    self.done += 1
                    repair = self.done % self.args.repair_every == 0
                if repair and self.repair_lock.acquire(blocking=False):
                    try:
                        self.fixtures.repair()
                    finally:
                        self.repair_lock.release()
        finally:
            conn.close()

    def progress(self, started: float):
        last = 0
        while not self.stop.wait(10):
            done = self.done
            if done == last:
                continue
            last = done
            rate = done / max(time.monotonic() - started, 1e-9)
            print(f"  {done} requests, {rate:.0f}/s, {self.stats.finding_count} findings", file=sys.stderr, flush=True)

    def round_trip(self) -> bool:
        """Encrypt then Decrypt with a new key must give back the plaintext."""
        kms = Kms(self)
        try:
            key = kms.call("CreateKey", {"Description": "fuzz round trip"})["KeyMetadata"]
            plaintext = os.urandom(64)
            ctx = {"fuzz": "round trip"}
            ct = kms.call("Encrypt", {"KeyId": key["KeyId"], "Plaintext": b64(plaintext), "EncryptionContext": ctx})
            out = kms.call("Decrypt", {"CiphertextBlob": ct["CiphertextBlob"], "EncryptionContext": ctx})
            if base64.b64decode(out["Plaintext"]) != plaintext or out["KeyId"] != key["Arn"]:
                raise SetupError("Decrypt", None, "the plaintext or key did not round-trip")
            return True
        except (SetupError, KeyError, ValueError) as e:
            req = kms_request("Encrypt", b"", ["round-trip"])
            self.finding("round trip failed", req, None, str(e), ())
            return False
        finally:
            kms.close()


# --- The server ------------------------------------------------------------------------------


class Server:
    """A trent started on a free port, in memory, its log in a temporary file."""

    def __init__(self, binary: str):
        self.log = tempfile.NamedTemporaryFile(prefix="trent-fuzz-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--in-memory", "--rsa-key-pool", "0", "--log", "warn,trent=info"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"serving the AWS KMS API on (http://\S+)", self.log_text())
            if match:
                self.endpoint = match.group(1)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"trent exited with {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("trent did not report its address")

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- Report ----------------------------------------------------------------------------------


def top(counter: collections.Counter, n: int = 3) -> str:
    return ", ".join(f"{k.removesuffix('Exception')} {v}" for k, v in counter.most_common(n))


def row(name: str, counts: collections.Counter, errors: collections.Counter, width: int) -> str:
    sent = sum(counts.values())
    ok = counts.get(200, 0)
    c4 = sum(v for k, v in counts.items() if isinstance(k, int) and 400 <= k < 500)
    other = sent - ok - c4
    return f"  {name:<{width}} {sent:>7} {ok:>7} {c4:>7} {other:>6}  {top(errors)}"


def report(fz: Fuzzer, elapsed: float, round_trip_ok: bool) -> None:
    s = fz.stats
    total = sum(s.sent.values())
    print()
    print(f"trent fuzz: {total} requests in {elapsed:.1f} s ({total / max(elapsed, 1e-9):.0f} requests/s), "
          f"seed {fz.args.seed}, {fz.args.concurrency} connections, {fz.endpoint}")
    print(f"resources: set up {fz.fixtures.setups} time(s), repaired {fz.fixtures.repairs} time(s); "
          f"clock moved {fz.clock_spent} s at most")
    for title, counts, errors in (
        ("by operation", s.by_label, s.errors_by_label),
        ("by mutation class", s.by_class, s.errors_by_class),
    ):
        width = max([len(title), *map(len, counts)])
        print(f"\n  {title:<{width}}    sent     200     4xx  other  top errors")
        for name in sorted(counts):
            print(row(name, counts[name], errors[name], width))
    print("\nstatus codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(s.status.items(), key=lambda kv: str(kv[0]))))
    if s.notes:
        print("\nnotes:")
        for text, n in s.notes.most_common(20):
            print(f"  {n:>6} x {text}")
    print(f"\nround trip (Encrypt then Decrypt with a new key): {'ok' if round_trip_ok else 'FAILED'}")
    print(f"findings: {s.finding_count} ({len(s.findings)} distinct)")
    for entry in sorted(s.findings.values(), key=lambda e: -e["count"]):
        print(f"\n== {entry['kind']}: {entry['count']} x; {entry['detail']}")
        for ex in entry["examples"][:1]:
            if ex["index"] >= 0:
                print(f"   request {ex['index']} (replay: --seed {fz.args.seed} --replay {ex['index']})")
            print("   " + json.dumps(ex, indent=2, ensure_ascii=False).replace("\n", "\n   "))


def replay(fz: Fuzzer, index: int) -> int:
    req = fz.build(index)
    print(f"request {index} (seed {fz.args.seed}):")
    desc = req.describe()
    desc["body"] = show_bytes(req.body, 65536)
    print(json.dumps(desc, indent=2, ensure_ascii=False))
    conn = Connection(fz.host, fz.port, fz.timeout)
    answers = fz.send(conn, req, count=False)
    for resp in answers or []:
        print("answer:")
        print(json.dumps(resp.describe(), indent=2, ensure_ascii=False))
    if conn.sock is not None:
        # A second request on the same connection: is it still usable?
        follow = kms_request("ListKeys", b"{}", ["replay follow-up"])
        print("a follow-up ListKeys on the same connection:")
        answers = fz.send(conn, follow, count=False)
        print(f"  {answers[0].status} {answers[0].reason}" if answers else "  no answer")
    conn.close()
    for entry in fz.stats.findings.values():
        print(f"FINDING: {entry['kind']}: {entry['detail']}")
    return 1 if fz.stats.findings else 0


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--requests", type=int, default=20_000, help="requests to send (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    p.add_argument("--concurrency", type=int, default=8, help="connections, one thread each (default 8)")
    p.add_argument("--endpoint", help="a running trent (test controls on) instead of starting --bin")
    p.add_argument("--bin", help="the trent binary to start (on a free port, in memory)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer (default 30)")
    p.add_argument("--skip", type=lambda s: [x for x in s.split(",") if x], default=[],
                   help=f"mutation classes to leave out, comma-separated: {', '.join(MUTATIONS)}")
    p.add_argument("--repair-every", type=int, default=250, help="requests between repairs of the resources")
    p.add_argument("--replay", type=int, metavar="N", help="send request N of the run alone and show it in full")
    p.add_argument("--report", help="also write the findings and statistics to this JSON file")
    args = p.parse_args()
    unknown = set(args.skip) - set(MUTATIONS)
    if unknown:
        p.error(f"unknown mutation classes: {', '.join(sorted(unknown))}")
    if not args.endpoint and not args.bin:
        p.error("give --endpoint or --bin (tests/fuzz/run.sh gives --bin)")

    model = Model(MODEL_FILE)
    server = None
    if args.endpoint:
        endpoint = args.endpoint
    else:
        try:
            server = Server(args.bin)
        except (RuntimeError, OSError) as e:
            print(f"fuzz: {e}", file=sys.stderr)
            return 2
        endpoint = server.endpoint
    fz = Fuzzer(args, model, endpoint)
    fz.server = server
    keep_log = False
    try:
        try:
            fz.fixtures.setup()
        except SetupError as e:
            print(f"fuzz: could not create the resources: {e}", file=sys.stderr)
            return 2
        if args.replay is not None:
            return replay(fz, args.replay)
        print(f"fuzz: {args.requests} requests, seed {args.seed}, {args.concurrency} connections, {endpoint}",
              file=sys.stderr, flush=True)
        started = time.monotonic()
        threads = [threading.Thread(target=fz.worker, daemon=True) for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        ticker = threading.Thread(target=fz.progress, args=(started,), daemon=True)
        ticker.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        fz.stop.set()
        ok = fz.round_trip()
        if server is not None:
            if not server.alive():
                fz.finding("server exited", Request("server", ["run"]), None,
                           f"trent exited with {server.proc.returncode}", ())
            panics = re.findall(r"panicked at .*", server.log_text())
            for line in panics[:5]:
                fz.finding("panic", Request("server", ["run"]), None, line, (line,))
        report(fz, elapsed, ok)
        if args.report:
            Path(args.report).write_text(json.dumps({
                "requests": sum(fz.stats.sent.values()),
                "elapsed_seconds": elapsed,
                "seed": args.seed,
                "sent": fz.stats.sent,
                "status": {str(k): v for k, v in fz.stats.status.items()},
                "by_operation": {k: {str(s): n for s, n in v.items()} for k, v in fz.stats.by_label.items()},
                "errors_by_operation": fz.stats.errors_by_label,
                "by_mutation": {k: {str(s): n for s, n in v.items()} for k, v in fz.stats.by_class.items()},
                "errors_by_mutation": fz.stats.errors_by_class,
                "findings": list(fz.stats.findings.values()),
            }, indent=2, ensure_ascii=False))
        keep_log = bool(fz.stats.findings)
        if fz.stats.findings:
            return 1
        if fz.fuzzer_errors:
            print(f"fuzz: {fz.fuzzer_errors} requests failed inside the fuzzer (see notes)", file=sys.stderr)
            return 2
        return 0
    finally:
        if server is not None:
            server.stop()
            if keep_log:
                print(f"\ntrent's log: {server.log.name}")
            else:
                os.unlink(server.log.name)


if __name__ == "__main__":
    sys.exit(main())
