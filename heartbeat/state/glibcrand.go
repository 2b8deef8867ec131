package state

// glibcRand reproduces glibc's srand/rand (the default TYPE_3 additive
// feedback generator, x[i] = x[i-3] + x[i-31]). Heartbeat derives
// name-based UUIDs from it (gen_uuid_from_name), so we need the same
// sequence to give a node the UUID the real Heartbeat would give it.
type glibcRand struct {
	r    [31]int32
	f, b int // front and rear indexes into r
}

const (
	glibcDeg = 31
	glibcSep = 3
)

// newGlibcRand mirrors srandom_r with glibc's TYPE_3 defaults.
func newGlibcRand(seed uint32) *glibcRand {
	g := &glibcRand{}
	if seed == 0 {
		seed = 1 // glibc: a zero seed is replaced by 1
	}
	g.r[0] = int32(seed)
	word := int32(seed)
	for i := 1; i < glibcDeg; i++ {
		// Park-Miller "minimal standard" step via Schrage's method,
		// in glibc's int32 arithmetic.
		hi := word / 127773
		lo := word % 127773
		word = 16807*lo - 2836*hi
		if word < 0 {
			word += 2147483647
		}
		g.r[i] = word
	}
	g.f, g.b = glibcSep, 0
	for i := 0; i < 10*glibcDeg; i++ {
		g.next()
	}
	return g
}

// next mirrors random_r: a value in [0, 2^31).
func (g *glibcRand) next() int32 {
	g.r[g.f] += g.r[g.b] // wraps like glibc's uint32 addition
	v := int32(uint32(g.r[g.f]) >> 1)
	g.f++
	if g.f >= glibcDeg {
		g.f = 0
		g.b++
	} else {
		g.b++
		if g.b >= glibcDeg {
			g.b = 0
		}
	}
	return v
}

// heartbeatStringHash is hb_uuid.c's string_hash (h = h*31 + c, first
// character as the start value), with C's signed char for bytes >= 0x80.
func heartbeatStringHash(s string) uint32 {
	if s == "" {
		return 0
	}
	h := uint32(int32(int8(s[0])))
	for i := 1; i < len(s); i++ {
		h = (h << 5) - h + uint32(int32(int8(s[i])))
	}
	return h
}

// uuidFromName is gen_uuid_from_name: 32 hex digits, each rand()%16, in
// the order the text form of a UUID lists its bytes.
func uuidFromName(name string) [16]byte {
	g := newGlibcRand(heartbeatStringHash(name))
	var u [16]byte
	for i := range u {
		hi := byte(g.next() % 16)
		lo := byte(g.next() % 16)
		u[i] = hi<<4 | lo
	}
	return u
}
