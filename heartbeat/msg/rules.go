package msg

// Content rules shared by both parsers and Validate. Heartbeat's classic
// text form reuses control bytes as escapes: 0x13 stands for a newline in a
// string value and 20..31,15..18 stand for the newlines of a nested message
// at depth 0..15 (specialSyms). A name or string holding one of those bytes
// cannot survive a trip through the classic form (Heartbeat would silently
// turn it into a newline or refuse the message), and the classic form is
// what the inner auth field signs. So the codec accepts only content that
// round-trips through both forms: it is stricter than Heartbeat, which never
// emits such bytes in v1 traffic anyway.

// specialSyms[d] replaces '\n' inside the classic text of a struct field
// that belongs to a message at depth d (cluster-glue's SPECIAL_SYMS).
var specialSyms = [MaxDepth]byte{20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 15, 16, 17, 18}

// classicNewline replaces '\n' inside a classic string value (SPECIAL_SYM).
const classicNewline = 0x13

// escapeByte reports whether c is NUL or one of the classic escape bytes
// (0x0f..0x1f, which covers 0x13 and every specialSyms entry).
func escapeByte(c byte) bool { return c == 0 || (c >= 0x0f && c <= 0x1f) }

// checkName enforces the field name rules: non-empty; no '=', newline or
// escape byte (they would split or corrupt a classic line); not starting
// with '(' (classic reads that as a type prefix) or ">>>" (Heartbeat
// rejects it as a message start).
func checkName[T string | []byte](name T) error {
	if len(name) == 0 {
		return malformed("empty field name")
	}
	if name[0] == '(' {
		return malformed("field name %q starts with '('", name)
	}
	if len(name) >= 3 && name[0] == '>' && name[1] == '>' && name[2] == '>' {
		return malformed("field name %q starts with >>>", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '=' || c == '\n' || escapeByte(c) {
			return malformed("field name %q contains byte %#02x", name, c)
		}
	}
	return nil
}

// checkString enforces the string value rules: newlines are allowed (the
// classic form escapes them), NUL and escape bytes are not.
func checkString(name string, v []byte) error {
	for _, c := range v {
		if escapeByte(c) {
			return malformed("string field %q contains byte %#02x", name, c)
		}
	}
	return nil
}
