package msg

// Validate reports whether m can be sent: every field has a known type,
// names and values obey the rules the classic form needs (no '=', newline,
// NUL or classic escape byte 0x0f..0x1f in names; no NUL or escape byte in
// string values; list values well packed), nesting is at most MaxDepth and
// there are at most MaxFields fields. A message that passes encodes in
// both wire forms and decodes back to the same fields; every message Decode
// or Parse returns passes. Errors wrap ErrMalformed or ErrTooLarge.
//
// The encoders do not call it (they cannot fail); call it where a message
// is built from outside data such as configured node or resource names.
func (m *Message) Validate() error {
	n := 0
	return validate(m, 0, &n)
}

func validate(m *Message, depth int, n *int) error {
	if m == nil {
		return nil
	}
	for i := range m.Fields {
		f := &m.Fields[i]
		if *n++; *n > MaxFields {
			return tooLarge("more than %d fields", MaxFields)
		}
		if err := checkName(f.Name); err != nil {
			return err
		}
		switch f.Type {
		case String:
			if err := checkString(f.Name, f.Value); err != nil {
				return err
			}
		case Binary, Compressed:
		case List:
			if err := checkList(f.Name, f.Value); err != nil {
				return err
			}
		case Struct:
			if depth+1 > MaxDepth {
				return malformed("struct field %q nested deeper than %d", f.Name, MaxDepth)
			}
			if err := validate(f.Sub, depth+1, n); err != nil {
				return within(err, "struct field %q", f.Name)
			}
		default:
			return malformed("field %q has unknown type %d", f.Name, f.Type)
		}
	}
	return nil
}
