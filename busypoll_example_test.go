package epoll_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rawpoll/epoll"
)

// Busy polling for one Poll, where the kernel has it (Linux 6.9+): a Wait
// that finds nothing polls the NIC's queue for up to 50µs before it sleeps.
// Elsewhere the program goes on without it.
func ExamplePoll_SetBusyPoll() {
	p, err := epoll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	err = p.SetBusyPoll(epoll.BusyPoll{Timeout: 50 * time.Microsecond, Budget: 16, Prefer: true})
	switch {
	case errors.Is(err, epoll.ErrBusyPollUnsupported):
		fmt.Println("no busy polling here:", err)
	case err != nil:
		log.Fatal(err) // a value out of range, or a Budget above 64 without CAP_NET_ADMIN
	default:
		b, err := p.BusyPoll()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("busy polling for %v, %d packets a pass\n", b.Timeout, b.Budget)
	}
}
