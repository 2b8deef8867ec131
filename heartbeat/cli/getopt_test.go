package cli

import (
	"reflect"
	"testing"
)

func TestGetopt(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		optstr   string
		opts     []option
		operands []string
	}{
		{"empty", nil, "m", nil, nil},
		{"operands only", []string{"a", "b"}, "m", nil, []string{"a", "b"}},
		{"permuted", []string{"a", "-m", "b"}, "m", []option{{c: 'm'}}, []string{"a", "b"}},
		{"cluster", []string{"-mv", "x"}, "mv", []option{{c: 'm'}, {c: 'v'}}, []string{"x"}},
		{"double dash ends options", []string{"-m", "--", "-v", "x"}, "mv", []option{{c: 'm'}}, []string{"-v", "x"}},
		{"lone dash is an operand", []string{"-", "-m"}, "m", []option{{c: 'm'}}, []string{"-"}},
		{"arg in next word", []string{"-p", "deadtime"}, "mp:", []option{{c: 'p', arg: "deadtime"}}, nil},
		{"arg glued", []string{"-pdeadtime"}, "mp:", []option{{c: 'p', arg: "deadtime"}}, nil},
		{"arg after cluster", []string{"-mpdeadtime"}, "mp:", []option{{c: 'm'}, {c: 'p', arg: "deadtime"}}, nil},
		{"arg may look like an option", []string{"-p", "-m"}, "mp:", []option{{c: 'p', arg: "-m"}}, nil},
		{"missing arg", []string{"-p"}, "mp:",
			[]option{{c: '?', msg: "cmd: option requires an argument -- 'p'"}}, nil},
		{"unknown option, parsing goes on", []string{"-x", "-m"}, "m",
			[]option{{c: '?', msg: "cmd: invalid option -- 'x'"}, {c: 'm'}}, nil},
		{"colon is never an option", []string{"-:"}, "p:", []option{{c: '?', msg: "cmd: invalid option -- ':'"}}, nil},
		{"long option is a cluster of shorts", []string{"--mm"}, "m",
			[]option{{c: '?', msg: "cmd: invalid option -- '-'"}, {c: 'm'}, {c: 'm'}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, operands := getopt("cmd", tc.args, tc.optstr)
			if !reflect.DeepEqual(opts, tc.opts) {
				t.Errorf("opts %+v, want %+v", opts, tc.opts)
			}
			if !reflect.DeepEqual(operands, tc.operands) {
				t.Errorf("operands %q, want %q", operands, tc.operands)
			}
		})
	}
}
