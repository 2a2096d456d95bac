# Runs this package's tests for the platform the image is built for:
#
#   docker buildx build --platform linux/amd64,linux/arm64 --target test .
#   docker build --platform linux/arm64 --target test .
#
# The test binaries are cross-compiled on the build platform and run in a
# minimal image of the target platform (under QEMU, through binfmt_misc, when
# that differs from the machine's), so the build fails if a test fails.
# Where Docker Hub cannot be reached, point GO_IMAGE and RUN_IMAGE at local
# images: scripts/docker-test.sh shows how.

# A Go toolchain image; only its build-platform variant is used.
ARG GO_IMAGE=golang:1.26-bookworm
# The image the tests run in, for the target platform. It needs a shell and
# /bin/cat (a test execs it), so busybox and not scratch.
ARG RUN_IMAGE=busybox:1.37

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETARCH
ARG TARGETVARIANT
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOCACHE=/root/.cache/go-build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The root package's tests, and fuzz/'s with its committed seed corpus. They
# run in a copy of the source tree, from their package's directory as under
# go test, because tests read files there (testdata/, docs). The cache mount
# keeps compiled packages between builds; it is not part of any image.
RUN --mount=type=cache,target=/root/.cache/go-build \
	set -e; \
	export GOARCH="$TARGETARCH"; \
	if [ "$TARGETARCH" = arm ] && [ -n "$TARGETVARIANT" ]; then export GOARM="${TARGETVARIANT#v}"; fi; \
	go test -c -o epoll.test .; \
	go test -c -o fuzz/fuzz.test ./fuzz

FROM ${RUN_IMAGE} AS test
COPY --from=build /src /src
WORKDIR /src
# A hang fails the build too, after -test.timeout.
RUN echo "running the tests on $(uname -m)" && \
	./epoll.test -test.count=1 -test.timeout=10m && \
	cd fuzz && ./fuzz.test -test.count=1 -test.timeout=10m
