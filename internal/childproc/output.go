package childproc

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Output is what was kept of one stream: its first and last bytes, and a
// count of those dropped in between, so a flood costs bounded memory.
type Output struct {
	// Head is the beginning of the stream, Tail its end; Tail is empty
	// unless the stream outgrew Head.
	Head, Tail []byte
	// Dropped is how many bytes were written between Head and Tail and
	// not kept.
	Dropped int64
}

// Bytes returns Head and Tail together, without a mark where bytes were
// dropped; see Dropped.
func (o Output) Bytes() []byte {
	return append(append(make([]byte, 0, len(o.Head)+len(o.Tail)), o.Head...), o.Tail...)
}

// String returns the output, with a line "[N bytes dropped]" where the
// middle was dropped.
func (o Output) String() string {
	if o.Dropped == 0 {
		return string(o.Head) + string(o.Tail)
	}
	var b strings.Builder
	b.Write(o.Head)
	if len(o.Head) > 0 && o.Head[len(o.Head)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("[" + strconv.FormatInt(o.Dropped, 10) + " bytes dropped]\n")
	b.Write(o.Tail)
	return b.String()
}

// Size is how many bytes the stream held in all.
func (o Output) Size() int64 { return int64(len(o.Head)+len(o.Tail)) + o.Dropped }

// keeper bounds one stream: the first half of max in head, the last half
// in a ring.
type keeper struct {
	head    []byte
	headMax int
	ring    []byte // fixed size once in use
	ringMax int
	next    int  // where the ring's next byte goes
	full    bool // the ring has wrapped: ring[next:] is older than ring[:next]
	dropped int64
}

func newKeeper(limit int) *keeper {
	limit = max(limit, 0)
	h := limit - limit/2
	return &keeper{headMax: h, ringMax: limit - h}
}

func (k *keeper) write(p []byte) {
	if room := k.headMax - len(k.head); room > 0 {
		n := min(room, len(p))
		k.head = append(k.head, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 || k.ringMax == 0 {
		k.dropped += int64(len(p))
		return
	}
	if k.ring == nil {
		k.ring = make([]byte, k.ringMax)
	}
	if len(p) > k.ringMax { // only its end can stay
		k.dropped += int64(len(p) - k.ringMax)
		p = p[len(p)-k.ringMax:]
	}
	for len(p) > 0 {
		n := copy(k.ring[k.next:], p)
		if k.full {
			k.dropped += int64(n) // overwritten
		}
		p = p[n:]
		k.next += n
		if k.next == k.ringMax {
			k.next, k.full = 0, true
		}
	}
}

func (k *keeper) output() Output {
	o := Output{Head: bytes.Clone(k.head), Dropped: k.dropped}
	if k.full {
		o.Tail = append(bytes.Clone(k.ring[k.next:]), k.ring[:k.next]...)
	} else if k.next > 0 {
		o.Tail = bytes.Clone(k.ring[:k.next])
	}
	return o
}

// outputs is shared by the two pipe readers of one run; mu serialises
// them, and so OnLine and StdoutTee.
type outputs struct {
	mu       sync.Mutex
	kept     [3]*keeper // by Stream
	onLine   func(Line)
	tee      io.Writer
	maxLine  int
	detached bool // Run has returned: only OnLine is still served
}

func newOutputs(spec Spec) *outputs {
	return &outputs{
		kept:    [3]*keeper{nil, newKeeper(spec.MaxOutput), newKeeper(spec.MaxOutput)},
		onLine:  spec.OnLine,
		tee:     spec.StdoutTee,
		maxLine: spec.MaxLine,
	}
}

// read consumes r to end of file, then closes it.
func (o *outputs) read(r io.ReadCloser, s Stream) {
	defer r.Close()
	buf := make([]byte, 8<<10)
	var line []byte
	truncated := false
	for {
		n, err := r.Read(buf)
		if n > 0 {
			o.mu.Lock()
			if !o.detached {
				o.kept[s].write(buf[:n])
				if s == Stdout && o.tee != nil {
					_, _ = o.tee.Write(buf[:n])
				}
			}
			o.mu.Unlock()
			if o.onLine != nil {
				rest := buf[:n]
				for len(rest) > 0 {
					i := bytes.IndexByte(rest, '\n')
					seg := rest
					if i >= 0 {
						seg = rest[:i]
					}
					if room := o.maxLine - len(line); len(seg) > room {
						line = append(line, seg[:room]...)
						truncated = true
					} else {
						line = append(line, seg...)
					}
					if i < 0 {
						break
					}
					o.emit(s, line, truncated)
					line, truncated = line[:0], false
					rest = rest[i+1:]
				}
			}
		}
		if err != nil { // io.EOF once every writer has closed the pipe
			if o.onLine != nil && (len(line) > 0 || truncated) {
				o.emit(s, line, truncated)
			}
			return
		}
	}
}

func (o *outputs) emit(s Stream, line []byte, truncated bool) {
	text := strings.ToValidUTF8(strings.TrimRight(string(line), "\r"), "\uFFFD")
	o.mu.Lock()
	defer o.mu.Unlock()
	o.onLine(Line{Stream: s, Text: text, Truncated: truncated})
}

// detach returns what was kept, and stops keeping: from now on, output
// that still arrives only goes to OnLine.
func (o *outputs) detach() (stdout, stderr Output) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.detached = true
	return o.kept[Stdout].output(), o.kept[Stderr].output()
}
