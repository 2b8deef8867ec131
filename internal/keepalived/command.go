package keepalived

import "strings"

// SplitCommand splits the text of a script or notify statement into its
// argv as keepalived does (alloc_strvec_quoted_escaped): words separated by
// blanks; single quotes keep everything up to the next single quote,
// double quotes group a word in which '\' escapes the next character, and
// '\' outside quotes escapes the next character. keepalived runs the argv
// directly, without a shell.
//
// shell reports characters a shell would have given a meaning (| & ; < >
// ( ) outside quotes, $ and ` outside single quotes): keepalived 1.3 and
// later pass them to the program as they are, older ones ran the text with
// sh -c. ok is false for an unterminated quote or a trailing '\'.
func SplitCommand(s string) (argv []string, shell, ok bool) {
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			argv = append(argv, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			flush()
		case c == '\\':
			if i+1 >= len(s) {
				return argv, shell, false
			}
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return argv, shell, false
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '\\':
					if i+1 >= len(s) {
						return argv, shell, false
					}
					i++
				case '$', '`':
					shell = true
				}
				w.WriteByte(s[i])
			}
			if i >= len(s) {
				return argv, shell, false
			}
			inWord = true
		default:
			if strings.IndexByte("|&;<>()$`", c) >= 0 {
				shell = true
			}
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return argv, shell, true
}
