package epoll

import "sync/atomic"

// eintrRetries counts waits interrupted by a signal and retried; tests use it
// to show that a signal really arrived.
var eintrRetries atomic.Uint64

// testHookWaitCall, when a test sets it, is called before each system call
// of a Wait with a positive timeout (the non-blocking looks included), so
// tests can count them.
var testHookWaitCall func(*Poll)
