// Package man holds the Markdown sources of the man pages (go-md2man's
// dialect; make man renders them into build/man). Its test checks that
// ha.cf(5) describes every directive the configuration package knows.
package man

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/config"
)

// boldWord is a **word** in a definition term.
var boldWord = regexp.MustCompile(`\*\*([a-z0-9_]+)\*\*`)

// terms returns the bold words of the definition terms of a page: the
// lines that a line starting with ": " (the definition) follows.
func terms(t *testing.T, page string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	words := map[string]bool{}
	for i := 0; i+1 < len(lines); i++ {
		if strings.HasPrefix(lines[i+1], ": ") && !strings.HasPrefix(lines[i], ": ") {
			for _, m := range boldWord.FindAllStringSubmatch(lines[i], -1) {
				words[m[1]] = true
			}
		}
	}
	return words
}

// TestHaCfDescribesEveryDirective: every directive of the configuration
// package's table, and every alias, is a term of ha.cf(5). A new directive
// needs its entry in docs/man/ha.cf.5.md.
func TestHaCfDescribesEveryDirective(t *testing.T) {
	names := config.DirectiveNames()
	if len(names) < 50 {
		t.Fatalf("config.DirectiveNames() has only %d names", len(names))
	}
	have := terms(t, "ha.cf.5.md")
	for _, name := range names {
		if !have[name] {
			t.Errorf("ha.cf(5) (docs/man/ha.cf.5.md) has no entry for the directive %q: add a term line **%s** followed by a \": \" description", name, name)
		}
	}
}

// TestPagesHaveTitles: every page starts with go-md2man's title line,
// "% NAME SECTION ...", whose name and section match the file name.
func TestPagesHaveTitles(t *testing.T) {
	pages, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pages {
		name, ok := strings.CutSuffix(e.Name(), ".md")
		if !ok {
			continue
		}
		dot := strings.LastIndexByte(name, '.')
		if dot < 0 {
			t.Errorf("%s: want <page>.<section>.md", e.Name())
			continue
		}
		b, err := os.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		want := "% " + strings.ToUpper(name[:dot]) + " " + name[dot+1:] + " "
		if !strings.HasPrefix(first, want) {
			t.Errorf("%s: first line %q, want it to start with %q", e.Name(), first, want)
		}
		if !strings.Contains(string(b), "\n# NAME\n") || !strings.Contains(string(b), "\n# SEE ALSO\n") {
			t.Errorf("%s: no NAME or SEE ALSO section", e.Name())
		}
	}
	for _, page := range []string{"heartbeat.8", "ha.cf.5", "ha.toml.5", "haresources.5", "authkeys.5",
		"cl_status.1", "hb_standby.1", "hb_takeover.1", "hactl.8"} {
		if _, err := os.Stat(page + ".md"); err != nil {
			t.Errorf("the page %s: %v", page, err)
		}
	}
}
