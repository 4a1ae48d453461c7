# hookapply as a container image: built in Swift's image, shipped on a small Debian base.
#   docker build -t hookapply:0.1.0 .        (or: scripts/build-image.sh, with buildah)
# The binary carries the Swift runtime (--static-swift-stdlib); the base adds what it still links
# against (glibc, libstdc++, libcurl for https through FoundationNetworking), CA certificates for TLS,
# and git for `reconcile --git-pull`.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product hookapply \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/hookapply" /out/hookapply \
    && /out/hookapply version

FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git libcurl4 libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 65532 --user-group --no-create-home --home-dir /nonexistent hookapply
COPY --from=build /out/hookapply /usr/local/bin/hookapply
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/hookapply"]
CMD ["reconcile", "--listen", "0.0.0.0:9090"]
