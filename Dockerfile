# trent on an empty base: one static (musl) binary with SQLite compiled in, run as a
# non-root user, state in the volume /data.
#
#   docker build -t trent .
#   docker run -p 8080:8080 -v trent-data:/data trent
#   docker run -p 8080:8080 -v trent-data:/data -v "$PWD/seed.yaml:/init/seed.yaml:ro" trent
#
# Settings are trent's variables (TRENT_LOG_FORMAT=json, TRENT_REGION, TRENT_RSA_KEY_POOL,
# ...; `docker run --rm trent --help` lists them) or local-kms's (PORT, KMS_REGION, ...).
# Change the port with PORT or TRENT_LISTEN, not --listen: the health check reads the
# same variables. trent runs as uid:gid 65532:65532:
# a mounted seed must be readable by it, and a host directory bind-mounted at /data
# writable (or pass --user).
#
# Two ways to the same image. Both start FROM `runtime-base`, which holds everything but
# the binary, and add only /trent:
# - the default (last) stage, `runtime`, compiles trent in `build` (rust:1-bookworm);
# - `runtime-host` takes a static binary built outside Docker from docker/bin/trent in
#   the context, for machines that can't pull rust:1-bookworm (tests/docker/run.sh):
#     (set -a; . docker/build.env; cargo build --release --locked \
#       --target x86_64-unknown-linux-musl --bin trent)
#     cp target/x86_64-unknown-linux-musl/release/trent docker/bin/trent
#     docker build --target runtime-host -t trent .
# `runtime-host` comes before `build` because the legacy builder (no BuildKit) builds
# every stage up to --target; BuildKit builds only the stages the target needs.

# Everything but the binary.
FROM scratch AS runtime-base
# An empty /data owned by the user trent runs as (docker/data is empty in the context:
# .dockerignore leaves out its .gitkeep). A new named volume mounted there takes that
# owner, so trent can create its database in it.
COPY --chown=65532:65532 docker/data /data
USER 65532:65532
# The defaults are set with local-kms's variables, which trent reads only where its own
# TRENT_* are unset: so TRENT_* and local-kms's names both override them. PORT listens on
# 0.0.0.0. A seed mounted at /init/seed.yaml is loaded at start; without one trent starts
# empty (KMS_SEED_PATH, like TRENT_DEFAULT_SEED, is loaded only if the file exists).
ENV PORT=8080 \
    KMS_DATA_PATH=/data \
    KMS_SEED_PATH=/init/seed.yaml
VOLUME /data
EXPOSE 8080
# Exec form: there is no shell. `trent healthcheck` asks GET /_trent/health at the
# address trent listens on (127.0.0.1 when that is 0.0.0.0).
HEALTHCHECK --interval=2s --timeout=2s --start-period=10s --retries=3 \
    CMD ["/trent", "healthcheck"]
ENTRYPOINT ["/trent"]

# The binary built on the host. docker/bin holds only it in the context; without it this
# stage is the base alone, so that the legacy builder can still pass it on the way to
# `runtime`.
FROM runtime-base AS runtime-host
COPY docker/bin/ /

FROM rust:1-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl \
 && apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migrations migrations
COPY src src
COPY docker/build.env docker/build.env
RUN set -a && . docker/build.env && set +a \
 && cargo build --release --locked --target x86_64-unknown-linux-musl --bin trent

FROM runtime-base AS runtime
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/trent /trent
