// Command quickstart shows the whole API in a few lines: it registers a pipe
// and a Waker, makes both ready from another goroutine, and prints the events
// epoll reports.
package main

import (
	"fmt"
	"log"
	"syscall"
	"time"

	"github.com/rawpoll/epoll"
)

const (
	pipeToken  epoll.Token = 1
	wakerToken epoll.Token = 2
)

func main() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		log.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	if err := p.Registry().Register(fds[0], pipeToken, epoll.Readable); err != nil {
		log.Fatal(err)
	}
	waker, err := epoll.NewWaker(p.Registry(), wakerToken)
	if err != nil {
		log.Fatal(err)
	}
	defer waker.Close()

	go func() {
		time.Sleep(10 * time.Millisecond)
		syscall.Write(fds[1], []byte("hello"))
		time.Sleep(10 * time.Millisecond)
		waker.Wake()
	}()

	events := make([]epoll.Event, 0, 16)
	for seen := 0; seen < 2; {
		events, err = p.Wait(events, epoll.Forever)
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range events {
			switch ev.Token() {
			case pipeToken:
				buf := make([]byte, 16)
				n, _ := syscall.Read(fds[0], buf)
				fmt.Printf("pipe readable: %q\n", buf[:n])
			case wakerToken:
				fmt.Println("woken")
			}
			seen++
		}
	}
}
