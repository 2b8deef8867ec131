package config

// addStonithLine is "stonith <type> <file>": the device parameters are in
// the first non-comment line of <file>, which is read when the device is
// created, not here.
func (b *builder) addStonithLine(pos Pos, name, rest string) {
	typ, file := cutField(rest)
	if typ == "" || file == "" {
		b.errorf(pos, "%s: want stonith <type> <parameter-file>", name)
		return
	}
	if err := checkWord("stonith type", typ); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Stonith = append(b.c.Stonith, StonithSpec{Type: typ, File: file, Pos: pos})
}

// addStonithHostLine is "stonith_host <host|*> <type> [<params>...]".
func (b *builder) addStonithHostLine(pos Pos, name, rest string) {
	host, rest := cutField(rest)
	typ, params := cutField(rest)
	b.addStonithHost(pos, name, host, typ, params)
}

func (b *builder) addStonithHost(pos Pos, name, host, typ, params string) {
	if host == "" || typ == "" {
		b.errorf(pos, "%s: want stonith_host <host|*> <type> <parameters>", name)
		return
	}
	if host != "*" {
		if err := checkNodeName(host); err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
	}
	if err := checkWord("stonith type", typ); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Stonith = append(b.c.Stonith, StonithSpec{Host: asciiLower(host), Type: typ, Params: params, Pos: pos})
}

// appliesTo reports whether the line configures the device of node.
// stonith lines apply everywhere; stonith_host lines to their host or "*".
func (s StonithSpec) appliesTo(node string) bool {
	return s.Host == "" || s.Host == "*" || s.Host == node
}

// StonithDevice returns the STONITH device this node uses. As in Heartbeat
// each applicable line replaces the previous one, so it is the last line
// that applies to LocalNode.
func (c *Config) StonithDevice() (StonithSpec, bool) {
	for i := len(c.Stonith) - 1; i >= 0; i-- {
		if c.Stonith[i].appliesTo(c.LocalNode) {
			return c.Stonith[i], true
		}
	}
	return StonithSpec{}, false
}
