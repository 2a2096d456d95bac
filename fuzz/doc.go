// Package fuzz holds no code: its tests are Go fuzz targets that drive the
// real kernel through the public API of github.com/rawpoll/epoll and check
// what comes back against the kernel's struct epoll_event layout and a small
// model of epoll's semantics.
//
// Plain go test replays the committed seed corpus in testdata/fuzz on
// whatever architecture it runs on; go test -fuzz=^FuzzX$ explores further
// (see scripts/fuzz.sh). The test binary reads testdata/ relative to its
// working directory, so run it from this directory.
package fuzz
