package msg

import (
	"fmt"
	"strconv"
)

// PackList returns the packed value of a List field: "<len>:<item>," for
// each item, the form cluster-glue uses in both wire formats. Items must be
// non-empty and free of newlines and escape bytes (see Validate).
func PackList(items ...string) []byte {
	n := 0
	for _, it := range items {
		n += len(it) + 12
	}
	b := make([]byte, 0, n)
	for _, it := range items {
		b = strconv.AppendInt(b, int64(len(it)), 10)
		b = append(b, ':')
		b = append(b, it...)
		b = append(b, ',')
	}
	return b
}

// UnpackList splits a packed List value into its items.
func UnpackList(v []byte) ([]string, error) {
	var items []string
	if err := walkList(v, func(item []byte) { items = append(items, string(item)) }); err != nil {
		return nil, malformed("list: %v", err)
	}
	return items, nil
}

// checkList validates a packed List value without allocating.
func checkList(name string, v []byte) error {
	if err := walkList(v, func([]byte) {}); err != nil {
		return malformed("list field %q: %v", name, err)
	}
	return nil
}

// walkList calls fn for each item of a packed list. cluster-glue refuses
// empty lists and empty items, so they are errors here too; a length must
// be plain decimal without leading zeros so that re-packing reproduces the
// bytes exactly.
func walkList(v []byte, fn func(item []byte)) error {
	if len(v) == 0 {
		return fmt.Errorf("empty list")
	}
	for i := 0; i < len(v); {
		n, next, err := parseLength(v, i)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("empty list item at offset %d", i)
		}
		if next >= len(v) || v[next] != ':' {
			return fmt.Errorf("list item at offset %d: missing ':'", i)
		}
		start := next + 1
		end := start + n
		if n > len(v)-start || end >= len(v) || v[end] != ',' {
			return fmt.Errorf("list item at offset %d: length %d overruns or lacks ','", i, n)
		}
		for _, c := range v[start:end] {
			if c == '\n' || escapeByte(c) {
				return fmt.Errorf("list item at offset %d contains byte %#02x", i, c)
			}
		}
		fn(v[start:end])
		i = end + 1
	}
	return nil
}
