# The smith frontend image: one static binary on scratch, with the labels
# BuildKit reads before it runs a gateway frontend, and the rpm that locked
# builds install with (hack/rpm-runtime: Debian 12's rpm and its libraries,
# traced by smith itself). Every platform's binary is cross-compiled
# (GOARCH) and its rpm only unpacked and traced: no stage runs under
# emulation.
#
#   docker buildx build --platform linux/amd64,linux/arm64,linux/ppc64le,linux/s390x -t smith .
#                                   # builds the binaries and the rpm in golang:$GO_VERSION (needs that
#                                   # image, the Go proxy and a Debian mirror)
#   docker buildx build --target prebuilt --platform … -t smith <dir with bin/<arch>/smith-frontend and rpm/<arch>/>
#                                   # offline: packages what hack/build-frontend made on the host
ARG GO_VERSION=1.26

FROM scratch AS base
ARG VERSION=dev
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
LABEL org.opencontainers.image.title="smith" \
      org.opencontainers.image.description="BuildKit frontend that builds microcontainers from smith.yaml" \
      org.opencontainers.image.source="https://github.com/smithbuild/smith" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENTRYPOINT ["/smith-frontend"]

FROM base AS prebuilt
ARG TARGETARCH
COPY rpm/${TARGETARCH}/ /
COPY bin/${TARGETARCH}/smith-frontend /smith-frontend

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION}" -o /out/smith-frontend ./cmd/smith-frontend

# The rpm of TARGETARCH, traced by a smith-frontend for the build platform.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS rpm
RUN apt-get update && apt-get install -y --no-install-recommends debootstrap
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /usr/local/bin/smith-frontend ./cmd/smith-frontend
ARG TARGETARCH
RUN hack/rpm-runtime "$TARGETARCH" /out/rpm /usr/local/bin/smith-frontend

FROM base AS frontend
COPY --from=rpm /out/rpm/ /
COPY --from=build /out/smith-frontend /smith-frontend
