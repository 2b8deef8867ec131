package config

import "sort"

// DirectiveNames returns the name of every ha.cf directive the
// configuration package knows, those that take effect, those accepted
// without effect and those refused, and the old names (aliases) it
// accepts, sorted. The man page ha.cf(5) must describe each of them (a
// test in docs/man checks it), and the suggestions for a misspelt one
// draw from them. It is computed when called, not at package
// initialisation: directives of other files join the table in their
// init functions (notify.go, metrics.go), after the package's variables
// are initialised.
func DirectiveNames() []string {
	names := make([]string, 0, len(directives)+len(aliases))
	for name := range directives {
		names = append(names, name)
	}
	for name := range aliases {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
