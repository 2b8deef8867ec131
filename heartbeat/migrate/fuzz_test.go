package migrate

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport runs the whole import on two arbitrary files (the second
// included by the first too): it may refuse, never panic, and what it
// produces always parses (ImportKeepalived checks that itself).
func FuzzImport(f *testing.F) {
	for _, fx := range fixtures {
		var data [2]string
		for i, name := range fx.files {
			b, err := os.ReadFile(filepath.Join("testdata", "keepalived", fx.name, name))
			if err != nil {
				f.Fatal(err)
			}
			data[i] = string(b)
		}
		f.Add(data[0], data[1])
	}
	f.Add("include b.conf\nvrrp_instance A { virtual_ipaddress { ::1/200 dev x label y brd z } }", "vrrp_sync_group G { group { A A B } }")
	f.Fuzz(func(t *testing.T, a, b string) {
		fs := mapFS(map[string]string{"/k/a.conf": a, "/k/b.conf": b})
		for _, nodes := range [][]string{nil, {"n1", "n2"}} {
			im, err := ImportKeepalived(ImportOptions{Files: []string{"/k/a.conf", "/k/b.conf"}, Nodes: nodes, Source: fs, Rand: zeroRand{}})
			if err == nil && (im.HACF == "" || im.HaresourcesTOML == "" || im.Authkeys == "") {
				t.Fatal("empty output without an error")
			}
			_, _ = ImportKeepalived(ImportOptions{Files: []string{"/k/a.conf"}, Nodes: nodes, Source: fs, Rand: zeroRand{}})
		}
	})
}
