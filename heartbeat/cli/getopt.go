package cli

import (
	"fmt"
	"strings"
)

// option is one short option found by getopt. A bad option has c == '?'
// and msg holds the diagnostic glibc would print.
type option struct {
	c   byte
	arg string
	msg string
}

// getopt parses args the way glibc's getopt(3) does with its default
// permutation, because cl_status calls getopt on the words after the
// sub-command and scripts rely on what that accepts: options may come before,
// between or after the operands ("nodestatus -m alpha" and "nodestatus alpha
// -m" both work), "--" ends the options, a lone "-" is an operand, options
// may be clustered ("-mv"), and an option declared with ':' in optstr takes
// the rest of its word or else the next word ("-pdeadtime", "-p deadtime").
// prog prefixes diagnostics; cl_status passes the sub-command name because
// it hands argv+1 to getopt.
func getopt(prog string, args []string, optstr string) (opts []option, operands []string) {
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(w) < 2 || w[0] != '-' {
			operands = append(operands, w)
			continue
		}
		// A cluster of short options. "--long" lands here too: getopt(3)
		// without long options reads it as the options '-', 'l', 'o' ...
		for j := 1; j < len(w); j++ {
			c := w[j]
			k := strings.IndexByte(optstr, c)
			if k < 0 || c == ':' {
				opts = append(opts, option{c: '?', msg: fmt.Sprintf("%s: invalid option -- '%c'", prog, c)})
				continue
			}
			if k+1 >= len(optstr) || optstr[k+1] != ':' {
				opts = append(opts, option{c: c})
				continue
			}
			switch {
			case j+1 < len(w):
				opts = append(opts, option{c: c, arg: w[j+1:]})
			case i+1 < len(args):
				i++
				opts = append(opts, option{c: c, arg: args[i]})
			default:
				opts = append(opts, option{c: '?', msg: fmt.Sprintf("%s: option requires an argument -- '%c'", prog, c)})
			}
			break
		}
	}
	return opts, operands
}
