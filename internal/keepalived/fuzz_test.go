package keepalived

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"vrrp_instance VI_1 {\n state MASTER\n virtual_ipaddress {\n 10.0.0.1/24 dev eth0 label eth0:1\n }\n}\n",
		"include *.conf\n{ } } {\n\"unterminated\n! c\n# c\nx \\\ny\n",
		"a{b{c{d}}}\n{\n{\n",
	} {
		f.Add(s, "include k.conf\nvrrp_sync_group G {\n group {\n A\n }\n}\n")
	}
	f.Fuzz(func(t *testing.T, main, inc string) {
		fs := MapFS{"/k/main.conf": main, "/k/k.conf": inc}
		c, err := ParseFile(fs, "/k/main.conf")
		if err != nil || c == nil {
			t.Fatalf("ParseFile: %v", err)
		}
	})
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"killall -0 haproxy", `/bin/sh -c 'a && b' "c\"d" e\ f`, `"x`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, _, ok := SplitCommand(s)
		if ok && len(argv) > len(s) {
			t.Fatalf("%d words from %d bytes", len(argv), len(s))
		}
	})
}
