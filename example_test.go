package epoll_test

import (
	"embed"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/rawpoll/epoll"
)

// pipe returns a non-blocking pipe; the examples use pipes because a write
// makes the read end ready at once.
func pipe() (r, w int) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		log.Fatal(err)
	}
	return fds[0], fds[1]
}

// write writes s to fd, which has room for it.
func write(fd int, s string) {
	if _, err := syscall.Write(fd, []byte(s)); err != nil {
		log.Fatal(err)
	}
}

// The basic loop: create a Poll, register a file descriptor with a token,
// Wait for events, which carry the token back, and read the fd until EAGAIN.
// README.md's API section is this function's body, word for word
// (TestReadmeSnippetIsExample checks it).
func Example() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close() // also ends a Wait blocked in another goroutine

	// Any non-blocking fd will do. This one is a pipe's read end; the
	// writer sends "hello" and closes its end.
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		log.Fatal(err)
	}
	fd := pipe[0]
	if _, err := syscall.Write(pipe[1], []byte("hello")); err != nil {
		log.Fatal(err)
	}
	syscall.Close(pipe[1])

	const token epoll.Token = 1
	if err := p.Registry().Register(fd, token, epoll.Readable|epoll.EdgeTriggered); err != nil {
		log.Fatal(err)
	}
	events := make([]epoll.Event, 0, 128) // the kernel fills up to cap(events)
	buf := make([]byte, 4096)
	for fd >= 0 {
		events, err = p.Wait(events, epoll.Forever) // or 0 to poll, or a time.Duration
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range events {
			if ev.Token() != token {
				continue
			}
			// Readable, read-closed or error: read in every case. Data can
			// come with a hang-up, a read reports the error, and an
			// edge-triggered fd has no new event until it is read to EAGAIN.
			for drained := false; !drained; {
				n, err := syscall.Read(fd, buf)
				switch {
				case err == syscall.EINTR: // a signal: read again
				case err == syscall.EAGAIN:
					drained = true // wait for the next event
				case err != nil || n == 0: // an error, or EOF: done with fd
					fmt.Println("read:", err, "n:", n)
					// Deregister before close: see Registry.Deregister.
					if err := p.Registry().Deregister(fd); err != nil {
						log.Fatal(err)
					}
					syscall.Close(fd)
					fd, drained = -1, true
				default:
					fmt.Printf("read %q\n", buf[:n])
				}
			}
		}
	}
	// Output:
	// read "hello"
	// read: <nil> n: 0
}

// A Waker lets other goroutines hand work to the event loop: queue the work,
// then Wake. Wakes before a Wait coalesce into one event, so on each
// wake-up the loop takes everything queued.
func ExampleNewWaker() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	const wakeToken epoll.Token = 1
	waker, err := epoll.NewWaker(p.Registry(), wakeToken)
	if err != nil {
		log.Fatal(err)
	}
	defer waker.Close()

	jobs := make(chan string, 10)
	go func() {
		jobs <- "reload"
		jobs <- "shutdown"
		if err := waker.Wake(); err != nil {
			log.Fatal(err)
		}
	}()

	events := make([]epoll.Event, 0, 64)
	for job := ""; job != "shutdown"; {
		events, err = p.Wait(events, epoll.Forever) // blocks until the Wake
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range events {
			if ev.Token() == wakeToken {
				for len(jobs) > 0 { // this loop is the only receiver
					job = <-jobs
					fmt.Println("job:", job)
				}
			}
		}
	}
	// Output:
	// job: reload
	// job: shutdown
}

// Oneshot disables a registration after its first event, so a goroutine
// handling it is not told again until it re-arms the fd with Reregister.
func ExampleRegistry_Reregister() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	r, w := pipe()
	defer syscall.Close(r)
	defer syscall.Close(w)
	const token epoll.Token = 3
	if err := p.Registry().Register(r, token, epoll.Readable|epoll.Oneshot); err != nil {
		log.Fatal(err)
	}
	events := make([]epoll.Event, 0, 8)
	wait := func(what string) {
		events, err = p.Wait(events, 0) // 0: only what is ready now
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d event(s)\n", what, len(events))
	}

	write(w, "a")
	wait("first write")
	write(w, "b")
	wait("second write, not re-armed")
	if err := p.Registry().Reregister(r, token, epoll.Readable|epoll.Oneshot); err != nil {
		log.Fatal(err)
	}
	wait("re-armed") // the unread data is reported at once
	// Output:
	// first write: 1 event(s)
	// second write, not re-armed: 0 event(s)
	// re-armed: 1 event(s)
}

// Edge-triggered registrations report data arriving, not data being there:
// after an event, read until EAGAIN, or what is left waits, unreported,
// until more arrives.
func Example_edgeTriggered() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	r, w := pipe()
	defer syscall.Close(r)
	defer syscall.Close(w)
	if err := p.Registry().Register(r, 1, epoll.Readable|epoll.EdgeTriggered); err != nil {
		log.Fatal(err)
	}
	events := make([]epoll.Event, 0, 8)
	wait := func(what string) {
		events, err = p.Wait(events, 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d event(s)\n", what, len(events))
	}
	buf := make([]byte, 5) // small, to need several reads

	write(w, "hello, world")
	wait("after the write")
	n, _ := syscall.Read(r, buf)
	fmt.Printf("read %q\n", buf[:n])
	wait("7 bytes still unread")

	// Drain: read until EAGAIN, retrying reads a signal interrupted.
	var rest []byte
	for {
		n, err := syscall.Read(r, buf)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil || n == 0 { // an error, or the writer closed the pipe
			break
		}
		rest = append(rest, buf[:n]...)
	}
	fmt.Printf("drained %q\n", rest)

	write(w, "more")
	wait("after new data")
	// Output:
	// after the write: 1 event(s)
	// read "hello"
	// 7 bytes still unread: 0 event(s)
	// drained ", world"
	// after new data: 1 event(s)
}

// Fd lets a goroutine wait for a Poll in Go's netpoller, parked like any
// goroutine reading a socket, instead of holding an OS thread in
// epoll_pwait. The netpoller gets its own dup of the fd, set non-blocking
// (epoll_pwait ignores the flag, which the dup shares with the Poll's fd),
// for os.NewFile to take and close; the Poll keeps its own.
func ExamplePoll_Fd() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	r, w := pipe()
	defer syscall.Close(r)
	defer syscall.Close(w)
	if err := p.Registry().Register(r, 1, epoll.Readable); err != nil {
		log.Fatal(err)
	}

	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p.Fd()), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		log.Fatal(errno)
	}
	if err := syscall.SetNonblock(int(dup), true); err != nil {
		log.Fatal(err)
	}
	f := os.NewFile(dup, "epoll") // non-blocking, so the netpoller takes it
	defer f.Close()               // the dup only; runs before p.Close
	rc, err := f.SyscallConn()
	if err != nil {
		log.Fatal(err)
	}

	go write(w, "x")
	events := make([]epoll.Event, 0, 8)
	var waitErr error
	// Read calls the function, and while it returns false parks the
	// goroutine until the netpoller sees the epoll fd readable.
	if err := rc.Read(func(uintptr) bool {
		events, waitErr = p.Wait(events, 0)
		return waitErr != nil || len(events) > 0
	}); err != nil {
		log.Fatal(err)
	}
	if waitErr != nil {
		log.Fatal(waitErr)
	}
	fmt.Println(len(events), "event, token", events[0].Token())
	// Output: 1 event, token 1
}

// A net.Listener's or net.Conn's fd, registered without the traps: Fd()
// would switch the socket, the listener's own included, to blocking mode,
// and a number borrowed inside Control is closed by the listener's Close or
// its finalizer. So register DupFd's dup (an owned F_DUPFD_CLOEXEC dup,
// taken inside Control, of a socket that net made non-blocking), and keep the listener
// as its owner until the dup is deregistered and closed. Go's netpoller still watches the original fd: leave Accept,
// Read and Write on the listener or conn itself unused while the dup is in
// your loop, or the two compete for the same connections and bytes.
func ExampleRegistry_Register_net() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()                          // the owner: closed after the dup, below
	fd, err := epoll.DupFd(ln.(syscall.Conn)) // owned, non-blocking, close-on-exec
	if err != nil {
		log.Fatal(err)
	}
	const listener epoll.Token = 1
	if err := p.Registry().Register(fd, listener, epoll.Readable); err != nil {
		log.Fatal(err)
	}

	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	events, err := p.Wait(make([]epoll.Event, 0, 8), epoll.Forever)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events {
		if ev.Token() == listener {
			conn, _, err := syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("accepted a connection on the dup")
			syscall.Close(conn) // a real loop would register it
		}
	}

	// Deregister before close, and close the dup before its owner.
	if err := p.Registry().Deregister(fd); err != nil {
		log.Fatal(err)
	}
	syscall.Close(fd)
	// Output: accepted a connection on the dup
}

// An *os.File, here a pipe from os.Pipe, takes the same route as a socket:
// DupFd's owned dup, never Fd().
func ExampleRegistry_Register_osFile() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	r, w, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd, err := epoll.DupFd(r) // owned, non-blocking, close-on-exec
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Registry().Register(fd, 1, epoll.Readable); err != nil {
		log.Fatal(err)
	}

	if _, err := w.Write([]byte("through os.File")); err != nil {
		log.Fatal(err)
	}
	events, err := p.Wait(make([]epoll.Event, 0, 8), epoll.Forever)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := syscall.Read(fd, buf) // one small write: one read gets it
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("token %d: %q\n", events[0].Token(), buf[:n])

	if err := p.Registry().Deregister(fd); err != nil {
		log.Fatal(err)
	}
	syscall.Close(fd)
	// Output: token 1: "through os.File"
}

//go:embed README.md
var readme string

//go:embed example_test.go
var exampleSource string

// README's API snippet is Example's body, so the snippet compiles, runs and
// prints what Example's Output says.
func TestReadmeSnippetIsExample(t *testing.T) {
	_, api, ok := strings.Cut(readme, "\n## The API\n\n```go\n")
	snippet, _, ok2 := strings.Cut(api, "```\n")
	_, body, ok3 := strings.Cut(exampleSource, "\nfunc Example() {\n")
	body, _, ok4 := strings.Cut(body, "\t// Output:")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatal("README.md has no ```go block right after \"## The API\", or example_test.go no Example with an Output")
	}
	var lines []string
	for _, line := range strings.SplitAfter(body, "\n") {
		lines = append(lines, strings.TrimPrefix(line, "\t"))
	}
	if want := strings.Join(lines, ""); snippet != want {
		t.Errorf("README's API snippet differs from Example's body.\nREADME:\n%s\nExample, one tab less:\n%s", snippet, want)
	}
}

//go:embed *.go
var rootFiles embed.FS

// README's list of the files to copy for vendoring by hand is the package's
// non-test files: each one it names exists, and none is missing.
func TestReadmeListsFilesToCopy(t *testing.T) {
	_, list, ok := strings.Cut(readme, "\n- Or copy the package's files")
	list, _, _ = strings.Cut(list, "\n- ")
	list, _, _ = strings.Cut(list, "\n\n")
	if !ok {
		t.Fatal(`README.md has no "- Or copy the package's files" item`)
	}
	var named []string
	for _, m := range regexp.MustCompile("`([a-z0-9_*]+\\.go)`").FindAllStringSubmatch(list, -1) {
		named = append(named, m[1])
	}
	entries, err := fs.ReadDir(rootFiles, ".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), "_test.go") {
			files = append(files, e.Name())
		}
	}
	for _, f := range files {
		if !slices.ContainsFunc(named, func(pattern string) bool { ok, _ := path.Match(pattern, f); return ok }) {
			t.Errorf("README's files to copy miss %s", f)
		}
	}
	for _, pattern := range named {
		if !slices.ContainsFunc(files, func(f string) bool { ok, _ := path.Match(pattern, f); return ok }) {
			t.Errorf("README's files to copy name %s, which is not a file of the package", pattern)
		}
	}
}
