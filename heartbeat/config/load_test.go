package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const okKeys = "auth 1\n1 sha256 k\n"

func TestLoad(t *testing.T) {
	dir := configDir(t, map[string]file{"ha.cf": {base + "auto_failback on\n", 0o644}, "authkeys": {okKeys, 0o600}})
	c := load(t, dir)
	if c.Dir != dir || c.Source != filepath.Join(dir, "ha.cf") || c.LocalNode != "node1" {
		t.Errorf("Dir %q Source %q LocalNode %q", c.Dir, c.Source, c.LocalNode)
	}
	if c.Keys == nil || c.Keys.Current != 1 {
		t.Errorf("Keys = %+v", c.Keys)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings %v", c.Warnings)
	}
}

func TestLoadFileChoice(t *testing.T) {
	dir := configDir(t, map[string]file{"ha.cf": {base, 0o644}, "ha.toml": {"", 0o644}, "authkeys": {okKeys, 0o600}})
	_, err := Load(Options{Dir: dir, NodeName: "node1"})
	wantDiag(t, err, dir, 0, "both ha.cf and ha.toml exist: ha.toml replaces ha.cf, so remove ha.cf")

	dir = configDir(t, map[string]file{"authkeys": {okKeys, 0o600}})
	_, err = Load(Options{Dir: dir, NodeName: "node1"})
	wantDiag(t, err, dir, 0, "no ha.cf or ha.toml found")
}

func TestLoadLocalNode(t *testing.T) {
	files := map[string]file{"ha.cf": {base, 0o644}, "authkeys": {okKeys, 0o600}}
	t.Run("not declared", func(t *testing.T) {
		dir := configDir(t, files)
		_, err := Load(Options{Dir: dir, NodeName: "Other"})
		wantDiag(t, err, filepath.Join(dir, "ha.cf"), 1, "local node other (the given node name) is not declared in "+filepath.Join(dir, "ha.cf"))
	})
	t.Run("nodeinfo", func(t *testing.T) {
		dir := configDir(t, map[string]file{"ha.cf": {base, 0o644}, "authkeys": {okKeys, 0o600}, "nodeinfo": {"NODE2\nignored\n", 0o644}})
		c, err := Load(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if c.LocalNode != "node2" {
			t.Errorf("LocalNode = %q", c.LocalNode)
		}
	})
	t.Run("hostname", func(t *testing.T) {
		host, err := os.Hostname()
		if err != nil {
			t.Skip("no host name:", err)
		}
		dir := configDir(t, map[string]file{"ha.cf": {"node " + host + "\nbcast eth0\n", 0o644}, "authkeys": {okKeys, 0o600}})
		c, err := Load(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if c.LocalNode != asciiLower(host) {
			t.Errorf("LocalNode = %q, want %q", c.LocalNode, host)
		}
	})
}

func TestLoadServicesPort(t *testing.T) {
	services := writeFile(t, t.TempDir(), "services", "# test\nha-cluster-x 1/udp\nfoo 700/udp ha-cluster # alias\nha-cluster 800/tcp\n", 0o644)
	tests := []struct {
		name, cf string
		port     int
	}{
		{"from services", base, 700},
		{"udpport wins", base + "udpport 900\n", 900},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := configDir(t, map[string]file{"ha.cf": {tc.cf, 0o644}, "authkeys": {okKeys, 0o600}})
			c, err := Load(Options{Dir: dir, NodeName: "node1", ServicesFile: services})
			if err != nil {
				t.Fatal(err)
			}
			if c.UDPPort != tc.port || c.Media[0].Port != tc.port {
				t.Errorf("UDPPort %d, medium port %d, want %d", c.UDPPort, c.Media[0].Port, tc.port)
			}
		})
	}
	if p, ok := lookupService(strings.NewReader("ha-cluster 694/udp\n"), "ha-cluster", "udp"); !ok || p != 694 {
		t.Errorf("lookupService = %d, %v", p, ok)
	}
	if _, ok := lookupService(strings.NewReader("ha-cluster 99999/udp\nha-cluster x/udp\n"), "ha-cluster", "udp"); ok {
		t.Error("invalid ports accepted")
	}
}

// TestLoadAllFilesErrors: problems in ha.cf and authkeys come back together.
func TestLoadAllFilesErrors(t *testing.T) {
	dir := configDir(t, map[string]file{"ha.cf": {"keepalive x\n" + base, 0o644}, "authkeys": {"auth 1\n1 md5\n", 0o600}})
	_, err := Load(Options{Dir: dir, NodeName: "node1"})
	wantDiag(t, err, filepath.Join(dir, "ha.cf"), 1, "invalid time")
	wantDiag(t, err, filepath.Join(dir, "authkeys"), 2, "md5 needs a key")

	dir = configDir(t, map[string]file{"ha.cf": {base, 0o644}})
	_, err = Load(Options{Dir: dir, NodeName: "node1"})
	wantDiag(t, err, filepath.Join(dir, "authkeys"), 0, "cannot read the keys")
	var el ErrorList
	if !errors.As(err, &el) || len(el) != 1 {
		t.Errorf("want exactly one error, got %v", err)
	}
}

func TestLoadStonith(t *testing.T) {
	cf := base + "stonith_host node1 external/a p1\nstonith_host * external/b p2\nstonith_host node2 external/c p3\nstonith_host node9 external/d p4\n"
	dir := configDir(t, map[string]file{"ha.cf": {cf, 0o644}, "authkeys": {okKeys, 0o600}})
	c := load(t, dir)
	dev, ok := c.StonithDevice()
	if !ok || dev.Type != "external/b" || dev.Params != "p2" {
		t.Errorf("StonithDevice = %+v, %v", dev, ok)
	}
	if !hasDiag(c.Warnings, "2 STONITH lines apply to node node1; only one device is used, the last one (external/b)") {
		t.Errorf("no warning about several devices: %v", c.Warnings)
	}
	if !hasDiag(c.Warnings, "stonith_host node9 names no declared node") {
		t.Errorf("no warning about an unknown host: %v", c.Warnings)
	}
	if _, ok := (&Config{LocalNode: "node1"}).StonithDevice(); ok {
		t.Error("device found without stonith lines")
	}
}
