#!/usr/bin/env bash
# The Docker tier: builds trent's image as CI can (a static musl binary built here, then
# `docker build --target runtime-host`: the image users build, with the binary from the
# host instead of the rust:1-bookworm stage), then checks it:
# - the image: under 10 MB, a numeric non-root user, /data a volume, the HEALTHCHECK,
#   KMS_SEED_PATH (loaded only if present) and no TRENT_SEED;
# - a plain `docker run` with no seed and no named volume starts, serves and is empty; a
#   seed mount whose host file is missing (Docker mounts a directory) stops the start;
# - docker/compose.yaml: the seed loads (alias/app, also found by AWS_ENDPOINT_URL_KMS; a
#   ciphertext committed as a fixture decrypts; the signing key's public key is the
#   seed's); a key and a ciphertext survive a restart in the volume; `docker stop` is
#   graceful (exit 0, under 2 s, the key created just before it is there after the next
#   start); the container turns healthy;
# - how long trent takes to answer after start, and the image's size.
#
#   tests/docker/run.sh
#
# Installs nothing. Needs: docker (CLI; when no engine answers, dockerd is started here and
# stopped at the end), docker-compose 1.29+ or `docker compose`, cargo with the
# x86_64-unknown-linux-musl target, musl-tools, python3, openssl, and the AWS CLI
# (tests/clients/.venv, which tests/clients/run.sh makes, or `aws` on PATH). Everything
# it creates (containers, volumes, the image, docker/bin/trent) is removed at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

say() { printf 'docker tier: %s\n' "$*"; }
fail() {
  printf 'docker tier: FAIL: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is missing: $2"; }

# --- Tools ---------------------------------------------------------------------------
need docker "apt-get install docker.io"
need cargo "install Rust with rustup (https://rustup.rs)"
need musl-gcc "apt-get install musl-tools (SQLite's C code is compiled for musl with it)"
need python3 "apt-get install python3"
need openssl "apt-get install openssl"
musl_std="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-musl"
[ -d "$musl_std" ] || fail "Rust's musl target is missing: rustup target add x86_64-unknown-linux-musl"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  fail "Docker Compose is missing: apt-get install docker-compose (or the Compose v2 plugin)"
fi
aws="$root/tests/clients/.venv/bin/aws"
if [ ! -x "$aws" ]; then
  aws="$(command -v aws)" ||
    fail "the AWS CLI is missing: tests/clients/run.sh makes tests/clients/.venv with it (or put aws on PATH)"
fi
# The interpreter itself, not a wrapper (pyenv's shim takes 100 ms to start).
python=$(python3 -c 'import sys; print(sys.executable)')
probe() { "$python" "$here/probe.py" "$@"; }

image=trent:docker-tier
project=trent-docker-tier
plain=trent-docker-tier-plain
label=org.trent.test=docker-tier
tmp="$(mktemp -d)"
dockerd_pid=""
dockerd_log=""
cid=""
dc() { "${compose[@]}" -p "$project" -f "$root/docker/compose.yaml" "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ]; then
    for c in $cid $plain; do
      docker logs --tail 30 "$c" >/dev/null 2>&1 || continue
      echo "the last lines of $c's log:" >&2
      docker logs --tail 30 "$c" >&2 2>&1
    done
  fi
  docker rm -f -v "$plain" >/dev/null 2>&1
  if [ -n "${compose_up:-}" ]; then
    dc down -v --remove-orphans >/dev/null 2>&1
  fi
  docker image rm "$image" >/dev/null 2>&1
  rm -f "$root/docker/bin/trent"
  rm -rf "$tmp"
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null
    for _ in $(seq 40); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    [ "$rc" -eq 0 ] && rm -f "$dockerd_log"
  fi
  exit "$rc"
}
trap cleanup EXIT

# --- The engine ------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  need dockerd "no Docker engine answers and dockerd is missing: apt-get install docker.io"
  dockerd_log="$(mktemp /tmp/trent-dockerd.XXXXXX.log)"
  say "no Docker engine answers; starting dockerd (log: $dockerd_log)"
  dockerd </dev/null >"$dockerd_log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 20 "$dockerd_log" >&2
    if kill -0 "$dockerd_pid" 2>/dev/null; then
      fail "dockerd started but no engine answered within 30 s (its log: $dockerd_log)"
    fi
    dockerd_pid=""
    fail "dockerd could not start (its log, above: $dockerd_log)"
  fi
fi
say "engine: Docker $(docker version --format '{{.Server.Version}}'), compose: ${compose[*]}"
# Left over by a run that was killed.
dc down -v --remove-orphans >/dev/null 2>&1 || true
docker rm -f -v "$plain" >/dev/null 2>&1 || true

# --- The binary and the image -----------------------------------------------------------
say "building the static musl binary"
set -a
# shellcheck source=SCRIPTDIR/../../docker/build.env
. "$root/docker/build.env" # the Dockerfile's build settings: the same binary
set +a
cargo build --release --locked --target x86_64-unknown-linux-musl --bin trent
target_dir="$(cargo metadata --format-version 1 --no-deps |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/x86_64-unknown-linux-musl/release/trent"
if command -v readelf >/dev/null && grep -q 'program interpreter' <<<"$(readelf -l "$bin")"; then
  fail "$bin is dynamically linked; scratch needs a static binary"
fi
mkdir -p docker/bin
cp "$bin" docker/bin/trent

say "building the image ($image, --target runtime-host)"
t0=$(date +%s%N)
if ! docker build --target runtime-host --label "$label" -t "$image" . >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log" >&2
  fail "docker build failed"
fi
build_ms=$((($(date +%s%N) - t0) / 1000000))
if grep -q '^#[0-9]' "$tmp/build.log"; then builder=BuildKit; else builder="the legacy builder"; fi
grep -Eq 'rust:|\[build ' "$tmp/build.log" && fail "the host path touched the rust: build stage"

size=$(docker image inspect --format '{{.Size}}' "$image")
bin_size=$(stat -c %s "$bin")
say "image: $size bytes ($("$python" -c "print(f'{$size / 1e6:.2f}')") MB; the binary $bin_size bytes), built in $build_ms ms with $builder"
[ "$size" -lt 10000000 ] || fail "the image is $size bytes, not under 10 MB"
config() { docker image inspect --format "$1" "$image"; }
[ "$(config '{{.Config.User}}')" = "65532:65532" ] || fail "the image's user is $(config '{{.Config.User}}')"
[ "$(config '{{json .Config.Entrypoint}}')" = '["/trent"]' ] || fail "entrypoint: $(config '{{json .Config.Entrypoint}}')"
[ "$(config '{{json .Config.Healthcheck.Test}}')" = '["CMD","/trent","healthcheck"]' ] ||
  fail "HEALTHCHECK: $(config '{{json .Config.Healthcheck.Test}}')"
[ "$(config '{{json .Config.Volumes}}')" = '{"/data":{}}' ] || fail "volumes: $(config '{{json .Config.Volumes}}')"
[ "$(config '{{json .Config.ExposedPorts}}')" = '{"8080/tcp":{}}' ] || fail "ports: $(config '{{json .Config.ExposedPorts}}')"
env="$(config '{{range .Config.Env}}{{println .}}{{end}}')"
# Defaults through local-kms's names, so that both TRENT_* and local-kms's override them.
grep -qx 'PORT=8080' <<<"$env" || fail "PORT is not 8080"
grep -qx 'KMS_DATA_PATH=/data' <<<"$env" || fail "KMS_DATA_PATH is not /data"
grep -qx 'KMS_SEED_PATH=/init/seed.yaml' <<<"$env" || fail "KMS_SEED_PATH is not /init/seed.yaml"
# trent refuses to start when TRENT_SEED names a missing file: the image must not set it.
grep -q '^TRENT_\(SEED\|LISTEN\|DATA_DIR\)=' <<<"$env" &&
  fail "the image sets a TRENT_ variable that would hide local-kms's"
docker run --rm -v "$root/docker/seed.yaml:/init/seed.yaml:ro" "$image" seed --check /init/seed.yaml ||
  fail "trent seed --check rejects docker/seed.yaml"

# --- The AWS CLI, against a trent ------------------------------------------------------
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
endpoint=""
kms() { "$aws" kms --endpoint-url "$endpoint" --output text "$@"; }
# encrypt KEY PLAINTEXT FILE [CONTEXT]: the ciphertext, binary, to FILE.
encrypt() {
  printf '%s' "$2" >"$tmp/plain"
  kms encrypt --key-id "$1" --plaintext "fileb://$tmp/plain" ${4:+--encryption-context "$4"} \
    --query CiphertextBlob | base64 -d >"$3"
}
# decrypt FILE [CONTEXT]: the plaintext.
decrypt() {
  kms decrypt --ciphertext-blob "fileb://$1" ${2:+--encryption-context "$2"} --query Plaintext |
    base64 -d
}
times=()
slowest=0
# started: checks and records how long trent took from its process's start to serving.
# Fails past 1 s: ten times the target, so that a busy machine passes but a regression
# (an RSA key generated before serving, say) does not.
started() {
  read -r ready_ms returned_ms answer_ms < <(probe ready "$1" "$returned" "$at") ||
    fail "timing the start of $1"
  times+=("  process start -> 'serving' log line: $ready_ms ms; -> first answer: $answer_ms ms (polled from $returned_ms ms)")
  awk -v ms="$ready_ms" 'BEGIN { exit !(ms < 1000) }' ||
    fail "trent took $ready_ms ms from its start to serving"
  slowest=$(awk -v a="$slowest" -v b="$ready_ms" 'BEGIN { print (b > a ? b : a) }')
}

# --- A plain docker run: no seed, no named volume -----------------------------------------
say "docker run with no seed and an anonymous volume"
port=$(probe free-port)
endpoint="http://127.0.0.1:$port"
read -r ms healthy_ms returned at < <(probe start "$endpoint/_trent/health" "name=^$plain\$" \
  docker run -d --name "$plain" --label "$label" -p "127.0.0.1:$port:8080" "$image") ||
  fail "docker run: no answer, or not healthy"
times+=("docker run (new container and volume) -> first answer: $ms ms; -> healthy: $healthy_ms ms")
started "$plain"
key=$(kms create-key --query KeyMetadata.KeyId)
[ -n "$key" ] || fail "CreateKey in a plain docker run"
if kms describe-key --key-id alias/app >/dev/null 2>&1; then
  fail "alias/app exists with no seed mounted"
fi
docker rm -f -v "$plain" >/dev/null

say "a seed mounted from a missing host file (Docker makes it a directory) stops the start"
rc=0
timeout 30 docker run --rm --name "$plain" --label "$label" \
  -v "$tmp/no-such-seed.yaml:/init/seed.yaml:ro" "$image" >"$tmp/no-seed.log" 2>&1 || rc=$?
docker rm -f -v "$plain" >/dev/null 2>&1 || true
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
  fail "trent started with a directory as its seed (exit $rc)"
fi
say "  $(tail -n 1 "$tmp/no-seed.log")"

# --- docker/compose.yaml ---------------------------------------------------------------------
port=$(probe free-port)
export TRENT_IMAGE="$image" TRENT_PORT="$port"
endpoint="http://127.0.0.1:$port"
say "${compose[*]} -f docker/compose.yaml up -d trent (port $port)"
compose_up=1
read -r ms healthy_ms returned at < <(probe start "$endpoint/_trent/health" \
  "label=com.docker.compose.project=$project" "${compose[@]}" -p "$project" \
  -f "$root/docker/compose.yaml" up -d --no-build trent) ||
  fail "compose up: no answer, or not healthy"
cid=$(dc ps -q trent)
[ -n "$cid" ] || fail "no trent container in the compose project"
times+=("compose up (new volume, seed loaded) -> first answer: $ms ms; -> healthy: $healthy_ms ms")
started "$cid"
say "healthy: $(docker inspect --format '{{.State.Health.Status}}' "$cid")"

say "the seed: alias/app, a committed ciphertext, the signing key"
seeded=d38a4519-6895-4061-a079-a390899a8aa9
[ "$(kms describe-key --key-id alias/app --query KeyMetadata.KeyId)" = "$seeded" ] ||
  fail "alias/app does not name the seeded key"
base64 -d "$here/app-ciphertext.b64" >"$tmp/fixture.bin"
got=$(decrypt "$tmp/fixture.bin" purpose=docker-fixture)
[ "$got" = "made once from docker/seed.yaml" ] || fail "the fixture decrypts to '$got'"
encrypt alias/app "sealed with alias/app" "$tmp/app.bin"
[ "$(decrypt "$tmp/app.bin")" = "sealed with alias/app" ] || fail "alias/app round trip"
# The way docker/compose.yaml's client finds trent: AWS_ENDPOINT_URL_KMS, no flag.
aliases=$(AWS_ENDPOINT_URL_KMS="$endpoint" "$aws" kms list-aliases --output text \
  --query "Aliases[?TargetKeyId=='$seeded'].AliasName")
[ "$aliases" = alias/app ] || fail "AWS_ENDPOINT_URL_KMS: list-aliases answers '$aliases'"
want=$(sed -n '/BEGIN PRIVATE KEY/,/END PRIVATE KEY/p' docker/seed.yaml | sed 's/^ *//' |
  openssl pkey -pubout -outform DER | base64 -w 0)
[ "$(kms get-public-key --key-id alias/app-signing --query PublicKey)" = "$want" ] ||
  fail "alias/app-signing's public key is not the seed's"

say "a key and a ciphertext survive a restart"
k1=$(kms create-key --description "survives a restart" --query KeyMetadata.KeyId)
encrypt "$k1" "kept in the volume" "$tmp/k1.bin"
docker restart "$cid" >/dev/null
probe wait-answer "$endpoint/_trent/health"
[ "$(decrypt "$tmp/k1.bin")" = "kept in the volume" ] || fail "the ciphertext made before the restart"

say "docker stop is graceful"
k2=$(kms create-key --description "created just before docker stop" --query KeyMetadata.KeyId)
stop_ms=$(probe timed docker stop "$cid")
code=$(docker inspect --format '{{.State.ExitCode}}' "$cid")
times+=("docker stop: $stop_ms ms, exit code $code")
[ "$code" = 0 ] || fail "trent exited with $code on docker stop"
[ "$stop_ms" -lt 2000 ] || fail "docker stop took $stop_ms ms (SIGTERM not handled in time?)"
logs=$(docker logs "$cid" 2>&1)
grep -q 'shutting down' <<<"$logs" || fail "no 'shutting down' in the log"

say "docker start"
read -r ms healthy_ms returned at < <(probe start "$endpoint/_trent/health" "id=$cid" docker start "$cid") ||
  fail "docker start: no answer, or not healthy"
times+=("docker start (existing volume) -> first answer: $ms ms; -> healthy: $healthy_ms ms")
started "$cid"
[ "$(kms describe-key --key-id "$k2" --query KeyMetadata.KeyState)" = Enabled ] ||
  fail "the key created before docker stop is gone"
[ "$(decrypt "$tmp/k1.bin")" = "kept in the volume" ] || fail "the ciphertext after stop and start"
[ "$(decrypt "$tmp/fixture.bin" purpose=docker-fixture)" = "made once from docker/seed.yaml" ] ||
  fail "the fixture after stop and start"

say "times (a HEALTHCHECK runs every 2 s, the first 2 s after the start):"
for t in "${times[@]}"; do say "  $t"; done
if awk -v ms="$slowest" 'BEGIN { exit !(ms < 100) }'; then verdict=met; else verdict=MISSED; fi
say "process start -> serving: at most $slowest ms (target under 100 ms: $verdict)"
say "image size: $size bytes (target under 10 MB: met)"
say "passed"
