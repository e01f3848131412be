# mqbridge container image (for docker-compose.yml; not used by CI).
#   docker build -t mqbridge .
#   docker run --rm -p 5672:5672 -v mqbridge-data:/var/lib/mqbridge mqbridge

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p mqbridge \
 && install -D target/release/mqbridge /out/mqbridge

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/mqbridge --create-home mqbridge
COPY --from=build /out/mqbridge /usr/local/bin/mqbridge
COPY config/mqbridge.yaml /etc/mqbridge/mqbridge.yaml
USER mqbridge
WORKDIR /var/lib/mqbridge
VOLUME ["/var/lib/mqbridge"]
# AMQP 0-9-1, STOMP, OpenWire, HTTP, and their TLS ports when `tls:` is configured
# (AMQPS, STOMP+TLS, OpenWire SSL, HTTPS; see the port table in README.md)
EXPOSE 5672 61613 61616 15672 5671 61614 61617 15671
ENTRYPOINT ["/usr/bin/tini", "--", "mqbridge"]
CMD ["run", "--config", "/etc/mqbridge/mqbridge.yaml"]
