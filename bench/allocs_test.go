package bench

import (
	"testing"

	"github.com/rawpoll/epoll"
)

// TestZeroAllocs is the 0 allocs/op target as a check that cannot be noisy:
// the package's hot calls, as the benchmarks make them, allocate nothing.
func TestZeroAllocs(t *testing.T) {
	p, err := epoll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ready := eventfds(t, 1, true)[0]
	idle := eventfds(t, 1, false)[0]
	reg := p.Registry()
	if err := reg.Register(ready, 1, epoll.Readable); err != nil {
		t.Fatal(err)
	}
	w, err := epoll.NewWaker(reg, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	events := make([]epoll.Event, 0, 8)

	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"Wait(0)", func() (err error) { events, err = p.Wait(events, 0); return err }},
		{"Register+Deregister", func() error {
			if err := reg.Register(idle, 3, epoll.Readable); err != nil {
				return err
			}
			return reg.Deregister(idle)
		}},
		{"Wake+Wait(Forever)", func() (err error) {
			if err := w.Wake(); err != nil {
				return err
			}
			events, err = p.Wait(events, epoll.Forever)
			return err
		}},
	} {
		var err error
		allocs := testing.AllocsPerRun(1000, func() {
			if e := c.f(); e != nil && err == nil {
				err = e
			}
		})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocs per call, want 0", c.name, allocs)
		}
	}
}
