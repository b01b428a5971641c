# The production image: strategy-tracker built with Rust's image, run on a slim Debian.
# It talks to PostgreSQL through tokio-postgres and rustls, so no libpq is needed at
# run time; only the system's CA roots are, for TLS to a managed PostgreSQL.
FROM rust:1.95-bookworm AS build
WORKDIR /src

# The dependencies first, in a layer of their own, so that a change to the sources
# rebuilds only the crate (minutes saved per build). Cargo needs every target the
# manifest names to exist, so the library, the binary and each [[bench]] get stubs;
# the bench stubs stay (only the binary is built). Then the stub crate's
# fingerprints go: COPY keeps the sources' modification times, which may be older
# than the stubs', and Cargo would take the stubs as up to date.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src benches \
 && touch src/lib.rs \
 && echo 'fn main() {}' > src/main.rs \
 && for bench in $(awk '/^\[\[bench\]\]/ { wanted = 1; next } wanted && /^name/ { gsub(/"/, "", $3); print $3; wanted = 0 }' Cargo.toml); do \
      echo 'fn main() {}' > "benches/$bench.rs"; \
    done \
 && cargo build --release --locked --bin strategy-tracker \
 && rm -rf src target/release/.fingerprint/strategy-tracker-*

# The migrations are embedded in the binary (build.rs rebuilds it when they change).
# The stub says nothing to --version: this fails if it were shipped.
COPY migrations ./migrations
COPY src ./src
RUN cargo build --release --locked --bin strategy-tracker \
 && ./target/release/strategy-tracker --version | grep '^strategy-tracker '

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/strategy-tracker /usr/local/bin/strategy-tracker
# A numeric user and group that exist nowhere else: Kubernetes' runAsNonRoot can
# check a number, and the process owns no file in the image.
USER 10001:10001
ENV LISTEN_ADDR=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
# `healthcheck` asks /readyz at LISTEN_ADDR (so, the database answers too) and
# needs no curl in the image. The start period covers migrations on first start.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["strategy-tracker", "healthcheck"]
ENTRYPOINT ["strategy-tracker"]
CMD ["serve"]
