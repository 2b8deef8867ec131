package serial

import "bytes"

// Frame markers of Heartbeat's classic text form.
const (
	frameStart = ">>>\n"
	frameEnd   = "<<<\n"
)

// framer cuts the byte stream read from a tty into classic frames, the way
// Heartbeat's serial reader does (read lines; skip lines until ">>>"; collect
// until "<<<"), made robust against what a serial line does to a stream:
//
//   - Garbage (line noise, a peer's BREAK read as NUL, a half frame sent
//     before we opened the port) is skipped while hunting for a start.
//     Hunting accepts a line that ends in ">>>", not only one that is exactly
//     ">>>", so a frame glued to the remains of a line of garbage is found.
//   - A line that is exactly ">>>" inside a frame restarts the frame: the
//     peer was cut off in the middle of the previous one (counted bad).
//   - A line inside a frame that only ends in ">>>" is ambiguous: either a
//     string value that really ends in ">>>", or the start of a new frame
//     glued to a line cut in the middle (the usual case after a cut cable).
//     Both readings are kept: at "<<<" the whole frame is delivered and then
//     also the frame that begins after that line. The reading that is wrong
//     fails authentication in the daemon; none is ever lost.
//   - A frame that grows beyond max bytes is given up (counted bad); if it
//     holds a glued start, collection continues from there.
//
// Every frame delivered starts with ">>>\n", ends with "<<<\n" and is at
// most max bytes. The framer does not look inside lines otherwise: bytes
// are passed through unchanged (8-bit clean, CR kept), and authentication
// decides. A framer is not safe for concurrent use.
type framer struct {
	max int // largest frame delivered, including its markers

	in   bool   // collecting a frame into buf
	buf  []byte // the frame so far, starting with ">>>\n"
	line int    // offset in buf where the current line starts
	alt  int    // offset in buf after the last line that ended in ">>>" (0: none)

	// While hunting, the last (up to 3) bytes of the current line.
	tail  [3]byte
	tailN int
}

// bufKeep is the largest buffer capacity kept between frames; a buffer
// grown by an unusually big frame is released.
const bufKeep = 64 << 10

func newFramer(max int) *framer {
	if max < len(frameStart)+len(frameEnd) {
		max = len(frameStart) + len(frameEnd)
	}
	return &framer{max: max}
}

// feed consumes p and calls emit for every complete frame, in order. emit
// owns the slice it receives. feed returns the number of frames given up.
func (f *framer) feed(p []byte, emit func([]byte)) (bad int) {
	for len(p) > 0 {
		if !f.in {
			p = f.hunt(p)
			continue
		}
		// Copy the rest of the line (or of p) in one go.
		n := bytes.IndexByte(p, '\n') + 1
		if n == 0 {
			n = len(p)
		}
		if len(f.buf)+n > f.max {
			bad++
			if f.alt > 0 {
				f.promoteAlt()
				continue
			}
			// Give up; the rest of the current line is hunted through,
			// remembering its last bytes so a glued ">>>" is still seen.
			last := f.lastOfLine()
			f.reset()
			for _, c := range last {
				f.push(c)
			}
			f.buf = f.buf[:0]
			continue
		}
		f.buf = append(f.buf, p[:n]...)
		p = p[n:]
		if f.buf[len(f.buf)-1] != '\n' {
			continue
		}
		line := f.buf[f.line : len(f.buf)-1]
		switch {
		case string(line) == "<<<":
			emit(bytes.Clone(f.buf))
			if f.alt > 0 {
				alt := make([]byte, 0, len(frameStart)+len(f.buf)-f.alt)
				alt = append(append(alt, frameStart...), f.buf[f.alt:]...)
				emit(alt)
			}
			f.reset()
			f.buf = f.buf[:0]
			if cap(f.buf) > bufKeep {
				f.buf = nil
			}
		case string(line) == ">>>":
			bad++
			f.start()
		case bytes.HasSuffix(line, []byte(">>>")):
			f.alt = len(f.buf)
			f.line = len(f.buf)
		default:
			f.line = len(f.buf)
		}
	}
	return bad
}

// hunt skips bytes until a line ending in ">>>" is complete, then starts a
// frame. It returns the unconsumed rest of p.
func (f *framer) hunt(p []byte) []byte {
	for i, c := range p {
		if c != '\n' {
			f.push(c)
			continue
		}
		if f.tailN == 3 && f.tail == [3]byte{'>', '>', '>'} {
			f.start()
			return p[i+1:]
		}
		f.tailN = 0
	}
	return nil
}

// push remembers c as the newest byte of the line being hunted through.
func (f *framer) push(c byte) {
	f.tail[0], f.tail[1], f.tail[2] = f.tail[1], f.tail[2], c
	if f.tailN < 3 {
		f.tailN++
	}
}

// lastOfLine returns the last (up to 3) bytes of the current line in buf.
func (f *framer) lastOfLine() []byte {
	l := f.buf[f.line:]
	if len(l) > 3 {
		l = l[len(l)-3:]
	}
	return l
}

// start begins a new frame.
func (f *framer) start() {
	f.in = true
	f.buf = append(f.buf[:0], frameStart...)
	f.line = len(f.buf)
	f.alt = 0
	f.tailN = 0
}

// promoteAlt drops the frame collected before the last glued start and
// continues with the frame that begins there.
func (f *framer) promoteAlt() {
	n := copy(f.buf[len(frameStart):], f.buf[f.alt:])
	f.line -= f.alt - len(frameStart)
	f.buf = f.buf[:len(frameStart)+n]
	f.alt = 0
}

// reset returns to hunting, with no partial line remembered. The reader
// calls it when the tty is reopened: a frame half read from the old device
// must not be completed by bytes from the new one.
func (f *framer) reset() {
	f.in = false
	f.line = 0
	f.alt = 0
	f.tailN = 0
}

// abandon forgets any partial frame (the tty was closed) and reports
// whether one was given up.
func (f *framer) abandon() (bad int) {
	if f.in {
		bad = 1
	}
	f.reset()
	f.buf = f.buf[:0]
	return bad
}
