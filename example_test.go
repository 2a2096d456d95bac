package epoll_test

import (
	"fmt"
	"log"
	"syscall"

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

// The basic loop: create a Poll, register a file descriptor with a token,
// and Wait for events, which carry the token back.
func Example() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	r, w := pipe()
	defer syscall.Close(r)
	defer syscall.Close(w)
	const pipeToken epoll.Token = 7
	if err := p.Registry().Register(r, pipeToken, epoll.Readable); err != nil {
		log.Fatal(err)
	}

	syscall.Write(w, []byte("hello"))

	// The kernel fills up to cap(events); reuse the slice on every Wait.
	events := make([]epoll.Event, 0, 64)
	events, err = p.Wait(events, epoll.Forever)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events {
		if ev.Token() == pipeToken && ev.IsReadable() {
			buf := make([]byte, 64)
			n, _ := syscall.Read(r, buf)
			fmt.Printf("token %d is readable: %q\n", ev.Token(), buf[:n])
		}
	}
	// Output: token 7 is readable: "hello"
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
		waker.Wake()
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

	syscall.Write(w, []byte("a"))
	wait("first write")
	syscall.Write(w, []byte("b"))
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

	syscall.Write(w, []byte("hello, world"))
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

	syscall.Write(w, []byte("more"))
	wait("after new data")
	// Output:
	// after the write: 1 event(s)
	// read "hello"
	// 7 bytes still unread: 0 event(s)
	// drained ", world"
	// after new data: 1 event(s)
}
