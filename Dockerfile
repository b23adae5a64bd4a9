# A small image: a static (musl) trent on an empty base. SQLite is compiled in.
#   docker build -t trent .
#   docker run -p 8080:8080 -v trent-data:/data trent
FROM rust:1-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl && apt-get update && apt-get install -y musl-tools
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bin trent

FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/trent /trent
ENV TRENT_LISTEN=0.0.0.0:8080 TRENT_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/trent"]
