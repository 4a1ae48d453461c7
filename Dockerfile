# hookapply as a container image: built in Swift's image, shipped on a small Debian base.
#   docker build -t hookapply:0.1.0 .        (or: scripts/build-image.sh, with buildah)
# The binary carries the Swift runtime (--static-swift-stdlib); the base adds what it still links
# against (glibc, libstdc++, libcurl for https through FoundationNetworking), CA certificates for TLS,
# and git for `reconcile --git-pull`. Base images are named by version tag; docs/ci.md lists pinning
# them by digest.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG BASE_IMAGE=debian:12-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build needs (see .dockerignore): the manifest, the sources, and Tests/TestSupport, a
# target the manifest names. The test targets' folders are made empty, so the manifest loads.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests/TestSupport ./Tests/TestSupport
RUN for target in $(grep -o '"[A-Za-z0-9]*Tests"' Package.swift | tr -d '"' | sort -u); do mkdir -p "Tests/$target"; done \
    && swift build -c release --static-swift-stdlib --product hookapply \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/hookapply" /out/hookapply \
    && /out/hookapply version

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="hookapply" \
      org.opencontainers.image.description="Keep container-registry webhooks exactly as declared in git" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git libcurl4 libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 65532 --user-group --home-dir /var/lib/hookapply --create-home hookapply \
    && install -d -o 65532 -g 65532 -m 0700 /var/cache/hookapply
COPY --from=build /out/hookapply /usr/local/bin/hookapply
# HOME holds the observation cache's key file (made on first use); the cache itself has its own folder,
# which a read-only root filesystem replaces with a writable volume (as deploy/kubernetes does).
ENV HOME=/var/lib/hookapply \
    HOOKAPPLY_CACHE_DIR=/var/cache/hookapply
WORKDIR /var/lib/hookapply
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/hookapply"]
CMD ["reconcile", "--listen", "0.0.0.0:9090"]
