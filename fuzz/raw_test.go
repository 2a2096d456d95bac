package fuzz_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/rawpoll/epoll"
	"github.com/rawpoll/epoll/internal/arch"
)

// layout is struct epoll_event as the kernel writes it for one
// architecture: the record size, where data starts, and its byte order.
type layout struct {
	size, dataOffset int
	order            binary.ByteOrder
}

func (l layout) String() string {
	return fmt.Sprintf("%d bytes, data at %d, %v", l.size, l.dataOffset, l.order)
}

// thisLayout is internal/arch's entry for this GOARCH, which is written down
// from the kernel headers and C ABIs, not computed from epoll.Event, so that
// the kernel's bytes can be checked against it.
func thisLayout(t testing.TB) layout {
	t.Helper()
	a, ok := arch.Lookup(runtime.GOARCH)
	if !ok {
		t.Fatalf("no struct epoll_event layout for GOARCH=%s: add it to internal/arch", runtime.GOARCH)
	}
	return layout{a.Size, a.DataOffset, a.Order()}
}

// The table's byte order must be the machine's.
func TestLayoutByteOrder(t *testing.T) {
	l := thisLayout(t)
	probe := []byte{1, 2, 3, 4}
	if l.order.Uint32(probe) != binary.NativeEndian.Uint32(probe) {
		t.Errorf("internal/arch says %s is %v, but this machine is not", runtime.GOARCH, l.order)
	}
}

// FuzzRawBytes looks at the events the kernel wrote as bytes, not through
// the accessors. The []Event buffer is first filled with an arbitrary byte;
// after Wait, each of the n records must be documented-size bytes long,
// with the event bits at offset 0 and the registered token at the documented
// data offset, both in the documented byte order; the padding between them
// and everything after the n records must be untouched. Only then are the
// accessors of each Event compared with those bytes.
func FuzzRawBytes(f *testing.F) {
	f.Add(uint64(0x0807060504030201), uint8(3), uint8(4), uint8(0xee))
	f.Fuzz(func(t *testing.T, token uint64, count, capacity, fill uint8) {
		lay := thisLayout(t)
		n := 1 + int(count)%16
		c := 1 + int(capacity)%20
		k := newKit(t)
		p := k.poll()
		// The first token is the fuzzed one, as is; the others derive from it.
		toks := uniqueTokens(n, binary.LittleEndian.AppendUint64(nil, token), token)
		want := make(map[uint64]uint32, n) // token -> event bits
		for i, tok := range toks {
			fd := k.eventfd()
			k.write(fd, true)
			interest, bits := epoll.Readable, uint32(epollIn)
			if i%2 == 1 {
				interest, bits = epoll.Readable|epoll.Writable, epollIn|epollOut
			}
			k.register(p, fd, tok, interest)
			want[uint64(tok)] = bits
		}

		buf := make([]epoll.Event, c)
		raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), c*int(unsafe.Sizeof(buf[0])))
		for i := range raw {
			raw[i] = fill
		}
		events, err := p.Wait(buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != min(n, c) {
			t.Fatalf("Wait with capacity %d and %d ready fds returned %d events", c, n, len(events))
		}
		written := len(events) * lay.size
		if written > len(raw) {
			t.Fatalf("the kernel wrote %d records of %d bytes (documented for %s) = %d bytes into a %d-byte buffer of %d Events of %d bytes",
				len(events), lay.size, runtime.GOARCH, written, len(raw), c, unsafe.Sizeof(buf[0]))
		}
		for i := range events {
			rec := raw[i*lay.size : (i+1)*lay.size]
			bits := lay.order.Uint32(rec[0:4])
			data := lay.order.Uint64(rec[lay.dataOffset:])
			wantBits, ok := want[data]
			if !ok {
				t.Fatalf("record %d (% x): the %d bytes at offset %d, read %v, are %#x: not a registered token",
					i, rec, 8, lay.dataOffset, lay.order, data)
			}
			delete(want, data) // each token once
			if bits != wantBits {
				t.Errorf("record %d (% x): event bits %#x at offset 0, want %#x", i, rec, bits, wantBits)
			}
			if pad := rec[4:lay.dataOffset]; !allBytes(pad, fill) {
				t.Errorf("record %d (% x): the kernel wrote the padding at offset 4: % x", i, rec, pad)
			}
			if got, exp := see(events[i]), seeBits(epoll.Token(data), bits); got != exp {
				t.Errorf("events[%d] reads %+v, but the kernel wrote token %#x and bits %#x in record %d (% x): epoll.Event is %d bytes, the kernel's records are %d bytes with data at offset %d",
					i, got, data, bits, i, rec, unsafe.Sizeof(buf[0]), lay.size, lay.dataOffset)
			}
		}
		if rest := raw[written:]; !allBytes(rest, fill) {
			t.Errorf("the kernel wrote beyond its %d records of %d bytes: buffer bytes %d.. are % x", len(events), lay.size, written, rest)
		}
	})
}

func allBytes(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}
