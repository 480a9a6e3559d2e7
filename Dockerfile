# The smith frontend image: one static binary on scratch, with the labels
# BuildKit reads before it runs a gateway frontend.
#
#   docker buildx build -t smith .                  # builds the binary in golang:$GO_VERSION (needs that image)
#   docker buildx build --target prebuilt -t smith <dir with bin/smith-frontend>
#                                                   # offline: packages a binary built on the host (hack/build-frontend)
ARG GO_VERSION=1.26

FROM scratch AS base
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ENTRYPOINT ["/smith-frontend"]

FROM base AS prebuilt
COPY bin/smith-frontend /smith-frontend

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/smith-frontend ./cmd/smith-frontend

FROM base AS frontend
COPY --from=build /out/smith-frontend /smith-frontend
