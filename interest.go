package epoll

// Token identifies a registered file descriptor in the events it produces.
// All 64 bits are returned unchanged by the kernel on every architecture.
type Token uint64

// Interest is the set of readiness kinds and the trigger mode of a
// registration. Combine values with |. Level-triggered is the default, as in
// epoll.
type Interest uint32

const (
	// Readable asks for events when the fd has data to read. It also asks
	// for a peer's half-close (EPOLLRDHUP), as mio does: a reader wants to
	// know, and a shut-down peer's EOF makes the fd readable anyway, so the
	// extra bit costs no wake-ups. Together with Exclusive it does not, as
	// the kernel refuses to combine the two.
	Readable Interest = Interest(EPOLLIN)
	// Writable asks for events when the fd can be written without blocking.
	Writable Interest = Interest(EPOLLOUT)
	// Priority asks for urgent data events, such as TCP out-of-band data.
	Priority Interest = Interest(EPOLLPRI)
	// ReadClosed asks for a peer's half-close (EPOLLRDHUP) explicitly. It
	// is for registrations without Readable, such as Writable|ReadClosed
	// for a socket the program only writes to: it learns that the peer has
	// stopped sending without being woken for every byte it sends. With
	// Readable it changes nothing. The kernel refuses it with Exclusive
	// (EINVAL); Readable|Exclusive simply goes without it.
	ReadClosed Interest = Interest(EPOLLRDHUP)

	// EdgeTriggered reports a readiness change once, instead of on every
	// Wait while the fd stays ready. Drain the fd until EAGAIN after each
	// event, or the next one may never come.
	EdgeTriggered Interest = Interest(EPOLLET)
	// Oneshot disables the registration after its first event; Reregister
	// arms it again.
	Oneshot Interest = Interest(EPOLLONESHOT)
	// Exclusive wakes only one of several Polls waiting on the same fd, to
	// avoid a thundering herd. It cannot be used with Reregister, Oneshot,
	// Priority or an epoll fd; the kernel answers EINVAL.
	Exclusive Interest = Interest(EPOLLEXCLUSIVE)
)

const interestMask = Readable | Writable | Priority | ReadClosed | EdgeTriggered | Oneshot | Exclusive

// String names the interest flags, such as "Readable|EdgeTriggered".
func (i Interest) String() string { return flagNames(uint32(i), interestNames) }

var interestNames = []flagName{
	{uint32(Readable), "Readable"}, {uint32(Writable), "Writable"},
	{uint32(Priority), "Priority"}, {uint32(ReadClosed), "ReadClosed"},
	{uint32(EdgeTriggered), "EdgeTriggered"}, {uint32(Oneshot), "Oneshot"},
	{uint32(Exclusive), "Exclusive"},
}
