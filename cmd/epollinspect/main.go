// Command epollinspect shows struct epoll_event as the kernel lays it out
// for the architecture it runs on. It registers two fds with tokens whose
// every byte differs, lets the kernel write their events into an
// []epoll.Event buffer pre-filled with 0xee, and prints a hex dump of that
// buffer annotated field by field. The layout is worked out from where the
// token bytes landed, not assumed, and then compared with epoll.Event and
// with the Go structs one might be tempted to write instead.
//
// The output is the same on every run (no fd numbers, no addresses), so
// LAYOUT.md's appendix (doc/layout/quotes.md) can quote it; cross-compile
// to see other architectures:
//
//	CGO_ENABLED=0 GOARCH=s390x go build -o /tmp/inspect ./cmd/epollinspect
//	qemu-s390x-static /tmp/inspect
//
// With -svg layout it draws the same buffer as an SVG picture instead, one
// box per byte (-svg wrong adds the plain Go struct's reading of it, where
// that struct is wrong); -pictures lists the ones LAYOUT.md embeds.
//
// It exits with status 1 if epoll.Event does not match what the kernel
// wrote, or internal/arch's table does not.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"unsafe"

	"github.com/rawpoll/epoll"
	"github.com/rawpoll/epoll/internal/arch"
)

func main() {
	svgMode := flag.String("svg", "", "instead of the text, write an SVG picture of the kernel's bytes: layout, or wrong (the plain Go struct's reading beside epoll.Event's); or ioc, the busy-poll ioctl numbers")
	list := flag.Bool("pictures", false, "list LAYOUT.md's pictures, one \"GOARCH MODE FILE COLOURS\" line each, for scripts/pictures.sh")
	flag.Parse()
	var err error
	switch {
	case *list:
		for _, p := range pictures {
			fmt.Printf("%s %s %s %s\n", p.arch, p.mode, p.file, p.colours)
		}
	case *svgMode != "":
		err = drawPicture(os.Stdout, *svgMode)
	default:
		err = run(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "epollinspect:", err)
		os.Exit(1)
	}
}

const (
	fill          = 0xee // what the buffer holds where the kernel did not write
	tokenA uint64 = 0x0807060504030201
	tokenB uint64 = 0x1817161514131211
	slots         = 3
)

// The kernel's event bits that this program produces.
const (
	epollIn  = 0x1
	epollOut = 0x4
)

// The structs a Go programmer might write for struct epoll_event.
type (
	naive struct {
		events uint32
		data   uint64
	}
	bytesData struct {
		events uint32
		data   [8]byte
	}
	padded struct {
		events uint32
		_      uint32
		data   uint64
	}
)

// Each puts events first, at offset 0, as the kernel's struct does; this
// fails to compile otherwise.
var _ = [1]struct{}{}[unsafe.Offsetof(naive{}.events)+unsafe.Offsetof(bytesData{}.events)+unsafe.Offsetof(padded{}.events)]

func run(w io.Writer) error {
	raw, events, err := kernelEvents()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "struct epoll_event on linux/%s\n\n", runtime.GOARCH)
	fmt.Fprintf(w, "Go on this arch\n")
	row(w, "binary.NativeEndian", endian(binary.NativeEndian.Uint16([]byte{1, 0}) == 1))
	row(w, "unsafe.Alignof(uint64(0))", fmt.Sprint(unsafe.Alignof(uint64(0))))
	row(w, "unsafe.Sizeof(epoll.Event{})", fmt.Sprint(unsafe.Sizeof(epoll.Event{})))
	row(w, "syscall.EpollEvent", describeStruct(reflect.TypeOf(syscall.EpollEvent{})))
	et := int64(syscall.EPOLLET)
	sign := "positive"
	if et < 0 {
		sign = "negative: uint32(syscall.EPOLLET) does not compile here"
	}
	row(w, "syscall.EPOLLET", fmt.Sprintf("%#x (%s)", et, sign))

	size, dataOff, dataOrder, err := kernelLayout(raw)
	if err != nil {
		return err
	}
	native := binary.NativeEndian
	fmt.Fprintf(w, "\nThe kernel's bytes: epoll_pwait wrote 2 events into a %d-slot []epoll.Event\n", slots)
	fmt.Fprintf(w, "(%d bytes, every byte %#x before the call). Event 0 is an eventfd registered\n", len(raw), fill)
	fmt.Fprintf(w, "Readable|Writable with token %#016x, event 1 a pipe registered\n", tokenA)
	fmt.Fprintf(w, "Readable with token %#016x.\n\n", tokenB)
	fmt.Fprintf(w, "  offset  %-23s  field\n", "bytes")
	for i, tok := range []uint64{tokenA, tokenB} {
		rec := raw[i*size:]
		bits := native.Uint32(rec)
		dump(w, i*size, rec[:4], fmt.Sprintf("[%d].events  %#08x %s", i, bits, bitNames(bits)))
		if pad := rec[4:dataOff]; len(pad) > 0 {
			dump(w, i*size+4, pad, fmt.Sprintf("[%d] padding, %s", i, written(pad)))
		}
		dump(w, i*size+dataOff, rec[dataOff:dataOff+8], fmt.Sprintf("[%d].data    %#016x", i, tok))
	}
	for off := 2 * size; off < len(raw); off += 8 {
		chunk := raw[off:min(off+8, len(raw))]
		dump(w, off, chunk, written(chunk))
	}

	littleData := dataOrder == binary.ByteOrder(binary.LittleEndian)
	fmt.Fprintf(w, "\nSo: records of %d bytes, data at offset %d, %s.\n", size, dataOff, endian(littleData))
	if littleData != (native.Uint16([]byte{1, 0}) == 1) {
		// The kernel copies data as 8 opaque bytes, so this order is the
		// one epoll.Event wrote: C code, or syscall.EpollEvent, reading the
		// same epoll fd would see the token byte-swapped.
		return fmt.Errorf("data is stored %s, but this machine is %s", endian(littleData), endian(!littleData))
	}
	// The bytes must also agree with the table the tests check against.
	a, ok := arch.Lookup(runtime.GOARCH)
	if !ok {
		return fmt.Errorf("linux/%s is not in internal/arch's table", runtime.GOARCH)
	}
	if found := (arch.Layout{Size: size, DataOffset: dataOff, BigEndian: !littleData}); a.Layout() != found {
		return fmt.Errorf("internal/arch's table says %+v for linux/%s, the kernel wrote %+v", a.Layout(), runtime.GOARCH, found)
	}
	fd, _ := reflect.TypeOf(syscall.EpollEvent{}).FieldByName("Fd")
	if int(fd.Offset) == dataOff {
		half := "low"
		if dataOrder == binary.ByteOrder(binary.BigEndian) {
			half = "high"
		}
		fmt.Fprintf(w, "syscall.EpollEvent.Fd overlays the first 4 bytes of data, the %s half\n", half)
		fmt.Fprintf(w, "of the uint64 here: for event 0 it reads %#08x.\n", dataOrder.Uint32(raw[dataOff:]))
	}

	fmt.Fprintf(w, "\nGo structs against the kernel's %d bytes, data at %d\n", size, dataOff)
	candidates := []struct {
		decl         string
		size, offset uintptr
	}{
		{"struct{ events uint32; data uint64 }", unsafe.Sizeof(naive{}), unsafe.Offsetof(naive{}.data)},
		{"struct{ events uint32; data [8]byte }", unsafe.Sizeof(bytesData{}), unsafe.Offsetof(bytesData{}.data)},
		{"struct{ events uint32; _ uint32; data uint64 }", unsafe.Sizeof(padded{}), unsafe.Offsetof(padded{}.data)},
	}
	for _, c := range candidates {
		fmt.Fprintf(w, "  %-47s %2d bytes, data at %d  %s\n", c.decl, c.size, c.offset, verdict(int(c.size) == size && int(c.offset) == dataOff))
	}
	goSize := int(unsafe.Sizeof(epoll.Event{}))
	readBack := len(events) == 2 && uint64(events[0].Token()) == tokenA && uint64(events[1].Token()) == tokenB &&
		events[0].IsReadable() && events[0].IsWritable() && events[1].IsReadable() && !events[1].IsWritable()
	fmt.Fprintf(w, "  %-47s %2d bytes            %s\n", "epoll.Event", goSize, verdict(goSize == size && readBack))
	switch {
	case goSize != size:
		return fmt.Errorf("epoll.Event is %d bytes, but the kernel writes %d-byte records", goSize, size)
	case !readBack:
		return fmt.Errorf("epoll.Event's accessors read %v, want tokens %#x and %#x", events, tokenA, tokenB)
	}
	fmt.Fprintf(w, "  epoll.Event's Token() and Is*() read both events back as registered.\n")
	return nil
}

// kernelEvents registers an eventfd (token A, ready to read and write) and
// then a pipe (token B, ready to read), lets the kernel write their events
// into a buffer filled with fill, and returns the buffer's bytes and the
// events Wait returned. Both are ready before they are registered, so the
// kernel queues them in registration order.
func kernelEvents() ([]byte, []epoll.Event, error) {
	p, err := epoll.New()
	if err != nil {
		return nil, nil, err
	}
	defer p.Close()
	efd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 1, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, nil, fmt.Errorf("eventfd2: %w", errno)
	}
	defer syscall.Close(int(efd))
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("pipe2: %w", err)
	}
	defer syscall.Close(pipe[0])
	defer syscall.Close(pipe[1])
	if _, err := syscall.Write(pipe[1], []byte{'x'}); err != nil {
		return nil, nil, fmt.Errorf("write: %w", err)
	}
	if err := p.Registry().Register(int(efd), epoll.Token(tokenA), epoll.Readable|epoll.Writable); err != nil {
		return nil, nil, err
	}
	if err := p.Registry().Register(pipe[0], epoll.Token(tokenB), epoll.Readable); err != nil {
		return nil, nil, err
	}

	buf := make([]epoll.Event, slots)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf)*int(unsafe.Sizeof(buf[0])))
	for i := range raw {
		raw[i] = fill
	}
	events, err := p.Wait(buf, 0)
	if err != nil {
		return nil, nil, err
	}
	if len(events) != 2 {
		return nil, nil, errors.New("the kernel did not report both fds")
	}
	return slices.Clone(raw), events, nil
}

// kernelLayout works out the record size, the data offset and the byte
// order from where the kernel put the tokens, without assuming any of them.
func kernelLayout(raw []byte) (size, dataOff int, order binary.ByteOrder, err error) {
	dataOff, order, okA := find(raw, tokenA)
	offB, orderB, okB := find(raw, tokenB)
	if !okA || !okB || orderB != order || offB <= dataOff {
		return 0, 0, nil, fmt.Errorf("tokens %#x and %#x did not come back whole from the kernel, so Register and Wait disagree with it about the layout (epoll.Event is %d bytes). The buffer after Wait:\n% x",
			tokenA, tokenB, unsafe.Sizeof(epoll.Event{}), raw)
	}
	size = offB - dataOff
	native := binary.NativeEndian
	if native.Uint32(raw[0:4]) != epollIn|epollOut || native.Uint32(raw[size:size+4]) != epollIn {
		return 0, 0, nil, fmt.Errorf("no event bits at the start of each %d-byte record:\n% x", size, raw)
	}
	return size, dataOff, order, nil
}

// find looks for tok's 8 bytes in either byte order.
func find(raw []byte, tok uint64) (int, binary.ByteOrder, bool) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		var b [8]byte
		order.PutUint64(b[:], tok)
		if i := strings.Index(string(raw), string(b[:])); i >= 0 {
			return i, order, true
		}
	}
	return 0, nil, false
}

func row(w io.Writer, name, value string) { fmt.Fprintf(w, "  %-30s %s\n", name, value) }

func dump(w io.Writer, off int, b []byte, note string) {
	fmt.Fprintf(w, "  0x%02x    %-23s  %s\n", off, fmt.Sprintf("% x", b), note)
}

func written(b []byte) string {
	for _, x := range b {
		if x != fill {
			return "WRITTEN by the kernel"
		}
	}
	return "not written"
}

func bitNames(bits uint32) string {
	var names []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{epollIn, "EPOLLIN"}, {epollOut, "EPOLLOUT"}} {
		if bits&f.bit != 0 {
			names = append(names, f.name)
			bits &^= f.bit
		}
	}
	if bits != 0 {
		names = append(names, fmt.Sprintf("%#x", bits))
	}
	return strings.Join(names, "|")
}

func endian(little bool) string {
	if little {
		return "little-endian (least significant byte first)"
	}
	return "big-endian (most significant byte first)"
}

func describeStruct(t reflect.Type) string {
	var fields []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fields = append(fields, fmt.Sprintf("%s %s @%d", f.Name, f.Type, f.Offset))
	}
	return fmt.Sprintf("%d bytes: %s", t.Size(), strings.Join(fields, ", "))
}

func verdict(ok bool) string {
	if ok {
		return "matches"
	}
	return "WRONG"
}
