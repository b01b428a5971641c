# Builds the strategy-tracker binary and runs it on a slim Debian image.
# It talks to PostgreSQL through tokio-postgres, so no libpq is needed at run time.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --no-create-home strategy-tracker
COPY --from=build /src/target/release/strategy-tracker /usr/local/bin/strategy-tracker
USER strategy-tracker
ENV LISTEN_ADDR=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["strategy-tracker"]
CMD ["serve"]
