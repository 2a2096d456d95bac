package epoll

import "syscall"

// waitHook is the package's one test hook, set only by tests (in
// export_test.go's init, before any Poll exists, and never changed after).
// A Wait with a positive timeout calls it after each of its system calls,
// the raw first wait included, with the call's errno: with it tests
// count those calls (a short timeout must not spin) and the EINTRs that
// Wait retried (a signal really arrived). Nothing else shows either as
// surely. In a program it is nil, and costs a Wait one untaken branch per
// system call.
var waitHook func(p *Poll, errno syscall.Errno)
