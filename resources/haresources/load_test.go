package haresources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	hr := filepath.Join(dir, "haresources")

	// Neither file: no groups, no error.
	if gs, err := Load(hr, twoNodes); err != nil || gs != nil {
		t.Fatalf("missing files: %v, %v", gs, err)
	}

	// Only the plain form.
	write(t, hr, plainForm)
	plain, err := Load(hr, twoNodes)
	if err != nil || len(plain) != 3 || plain[0].Pos.File != hr {
		t.Fatalf("plain: %d groups, %v", len(plain), err)
	}

	// Both: an error naming both.
	write(t, hr+".toml", tomlForm)
	for _, p := range []string{hr, hr + ".toml"} {
		if _, err := Load(p, twoNodes); err == nil || !strings.Contains(err.Error(), "both "+hr+" and "+hr+".toml exist") {
			t.Errorf("Load(%s) with both files: %v", p, err)
		}
	}

	// Only the TOML form, found from either name.
	if err := os.Remove(hr); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{hr, hr + ".toml"} {
		tm, err := Load(p, twoNodes)
		if err != nil || !sameGroups(plain, tm, false) || tm[0].Pos.File != hr+".toml" {
			t.Errorf("Load(%s) TOML: %v\n%s", p, err, dumpGroups(tm))
		}
	}

	// Errors name the file and line.
	write(t, hr+".toml", "[[group]]\nnode = \"node7\"\nresources = [\"a\"]\n")
	if _, err := Load(hr, twoNodes); err == nil || !strings.HasPrefix(err.Error(), hr+".toml:2: unknown node") {
		t.Errorf("TOML error: %v", err)
	}
	if err := os.Remove(hr + ".toml"); err != nil {
		t.Fatal(err)
	}
	write(t, hr, "node1 httpd\nnode7 smb\n")
	if _, err := Load(hr, twoNodes); err == nil || !strings.HasPrefix(err.Error(), hr+":2: unknown node") {
		t.Errorf("plain error: %v", err)
	}
}

func TestLoadBadPaths(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be.
	sub := filepath.Join(dir, "haresources")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(sub, nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	// A path through a regular file: not "missing".
	f := filepath.Join(dir, "file")
	write(t, f, "")
	if _, err := Load(filepath.Join(f, "haresources"), nil); err == nil {
		t.Errorf("path through a file: no error")
	}
	// Unreadable (skipped as root, who reads everything).
	if os.Geteuid() != 0 {
		p := filepath.Join(dir, "locked")
		write(t, p, "node1 httpd\n")
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p, nil); err == nil || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("unreadable: %v", err)
		}
	}
}

func TestSample(t *testing.T) {
	const path = "../../etc/haresources.sample"
	gs, err := Load(path, twoNodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].String() != "node1 198.18.0.100/24/eth0 httpd" {
		t.Fatalf("sample groups:\n%s", dumpGroups(gs))
	}
	// Every commented example is valid too.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	examples, cont := 0, false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "#node") || cont && strings.HasPrefix(l, "#\t") {
			if !cont {
				examples++
			}
			l = l[1:]
			cont = strings.HasSuffix(l, `\`)
		} else {
			cont = false
		}
		sb.WriteString(l + "\n")
	}
	all, err := Parse(strings.NewReader(sb.String()), path, twoNodes)
	if err != nil {
		t.Fatalf("examples: %v", err)
	}
	if examples != 3 || len(all) != 1+examples {
		t.Errorf("%d examples, %d groups", examples, len(all))
	}
}
