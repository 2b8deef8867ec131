package daemon

import "time"

// arrivalClock converts the kernel's receive timestamps to the core's
// clock, so that a datagram read late (the daemon was stopped, or not
// scheduled, while the peer's heartbeats queued in the socket) counts from
// when it arrived, not from when it was read.
//
// Linux stamps received datagrams on CLOCK_REALTIME only (SO_TIMESTAMPNS;
// SO_TIMESTAMPING's software stamps are the same clock, and no socket
// option gives CLOCK_MONOTONIC), while the core runs on the monotonic
// clock. A stamp is converted with the offset between the two clocks,
// sampled once per wake-up of the loop, just before it reads its sockets.
// The wall clock can be stepped (NTP, an operator, a VM resumed), and a
// stamp taken before a step converted with an offset sampled after it
// would be wrong by the whole step. So:
//
//   - when the offset moved since the previous wake-up by more than a
//     slew can move it (1 ms plus 1000 ppm of the time between: the
//     kernel slews at most 500 ppm), the wall clock was stepped in
//     between, and the datagrams of this wake-up count as arriving when
//     they are read (what the daemon did before it had stamps: never a
//     false death, at worst a death judged that much later);
//   - otherwise the converted arrival is clamped between the last time the
//     socket was seen empty (the datagram cannot have arrived before) and
//     the moment it was read (nor after). Whatever the wall clock does, a
//     datagram never looks older than the socket's last empty moment nor
//     newer than its read.
type arrivalClock struct {
	start   time.Time     // the core's epoch (Daemon.start)
	offset  time.Duration // wall minus monotonic, at the last sample
	at      time.Duration // monotonic time of the last sample
	sampled bool
	stepped time.Duration // the step seen at the last sample; 0: none
}

// slewTolerance is how far the wall clock may drift against the monotonic
// one in d without having been stepped.
func slewTolerance(d time.Duration) time.Duration {
	return time.Millisecond + d/1000
}

// sample records the offset between the clocks at now (a time.Now() value,
// with its monotonic reading) and reports a step of the wall clock since
// the previous sample (0 if none).
func (a *arrivalClock) sample(now time.Time) time.Duration {
	return a.sampleAt(time.Duration(now.UnixNano()), now.Sub(a.start))
}

// sampleAt is sample with both readings given: wall in nanoseconds since
// the Unix epoch, mono on the core's clock.
func (a *arrivalClock) sampleAt(wall, mono time.Duration) time.Duration {
	off := wall - mono
	a.stepped = 0
	if a.sampled {
		if drift, tol := off-a.offset, slewTolerance(mono-a.at); drift > tol || -drift > tol {
			a.stepped = drift
		}
	}
	a.offset, a.at, a.sampled = off, mono, true
	return a.stepped
}

// arrival converts a kernel stamp to the core's clock. floor is when the
// socket was last seen empty, read when the datagram was read (both on the
// core's clock). A zero stamp, or any stamp after a step, is taken as read.
func (a *arrivalClock) arrival(stamp time.Time, floor, read time.Duration) time.Duration {
	if stamp.IsZero() || !a.sampled || a.stepped != 0 {
		return read
	}
	t := time.Duration(stamp.UnixNano()) - a.offset
	return min(max(t, floor), read)
}
