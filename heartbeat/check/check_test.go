package check

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/cli"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/resources/haresources"
)

// machine is a fake config.Machine.
type machine []config.Interface

func (m machine) Interfaces() ([]config.Interface, error) { return m, nil }

func iface(name string, addrs ...string) config.Interface {
	x := config.Interface{Name: name}
	for _, a := range addrs {
		x.Addrs = append(x.Addrs, netip.MustParseAddr(a))
	}
	return x
}

// node1 is the machine the samples describe: node1 with eth0 198.18.0.1
// and eth1 198.19.0.1 (the samples' peer addresses are node2's .2).
var node1 = machine{iface("lo", "127.0.0.1", "::1"), iface("eth0", "198.18.0.1"), iface("eth1", "198.19.0.1")}

// etcDir is the repository's etc/.
func etcDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "etc")
}

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(etcDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, dir, name, text string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// confDir builds a configuration directory: main is "ha.cf" or "ha.toml"
// with its text, plus authkeys (0600), haresources and a resource.d/httpd
// script for the sample's group.
func confDir(t *testing.T, main, text, authkeys, haresources string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, main, text, 0o644)
	write(t, dir, "authkeys", authkeys, 0o600)
	if haresources != "" {
		write(t, dir, "haresources", haresources, 0o644)
	}
	write(t, dir, "resource.d/httpd", "#!/bin/sh\nexit 0\n", 0o755)
	return dir
}

// TestSamplesPassTheCheck: every sample in etc/ passes the check, as
// shipped, with either ha.cf or ha.toml: no error, and on the machine the
// samples describe no warning either; on this machine (other interfaces)
// the check still exits 0.
func TestSamplesPassTheCheck(t *testing.T) {
	for _, main := range []string{"ha.cf", "ha.toml"} {
		t.Run(main, func(t *testing.T) {
			dir := confDir(t, main, sample(t, main+".sample"), sample(t, "authkeys.sample"), sample(t, "haresources.sample"))
			r := Run(cli.CheckRequest{ConfigDir: dir, NodeName: "node1"}, node1)
			if r.Err != nil {
				t.Fatalf("the samples fail the check:\n%v", r.Err)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("warnings for the samples:\n%v", config.ErrorList(r.Warnings))
			}
			if len(r.Groups) != 1 || r.Groups[0].String() != "node1 198.18.0.100/24/eth0 httpd" {
				t.Errorf("groups %v", r.Groups)
			}
			var out, errOut bytes.Buffer
			if code := (Checker{}).CheckConfig(cli.CheckRequest{ConfigDir: dir, NodeName: "node2"}, &out, &errOut); code != 0 {
				t.Errorf("on this machine, as node2: exit %d\n%s", code, errOut.String())
			}
		})
	}
}

// uncomment turns the commented-out example lines of a sample (those that
// start with '#' and a letter or '[') into lines.
func uncomment(s string) string {
	return regexp.MustCompile(`(?m)^#([a-zA-Z\[])`).ReplaceAllString(s, "$1")
}

// TestSampleExamplesParse: the examples the samples show commented out
// are valid too.
func TestSampleExamplesParse(t *testing.T) {
	if _, err := config.ParseHACF(strings.NewReader(uncomment(sample(t, "ha.cf.sample"))), "ha.cf.sample"); err != nil {
		t.Errorf("ha.cf.sample's examples:\n%v", err)
	}
	if _, err := config.ParseTOML(strings.NewReader(uncomment(sample(t, "ha.toml.sample"))), "ha.toml.sample"); err != nil {
		t.Errorf("ha.toml.sample's examples:\n%v", err)
	}
	if _, _, err := config.ParseAuthkeys(strings.NewReader(uncomment(sample(t, "authkeys.sample"))), "authkeys.sample"); err != nil {
		t.Errorf("authkeys.sample's examples:\n%v", err)
	}
	// OCF::apache::www reads its parameter file from OCFConfDir.
	ocf := t.TempDir()
	write(t, ocf, "apache/www", "configfile=/etc/apache2/apache2.conf\n", 0o644)
	old := haresources.OCFConfDir
	haresources.OCFConfDir = ocf
	defer func() { haresources.OCFConfDir = old }()
	gs, err := haresources.Parse(strings.NewReader(uncomment(sample(t, "haresources.sample"))), "haresources.sample", []string{"node1", "node2"})
	if err != nil {
		t.Errorf("haresources.sample's examples:\n%v", err)
	}
	if len(gs) != 4 {
		t.Errorf("haresources.sample's examples make %d groups, want 4", len(gs))
	}
}

const keys = "auth 1\n1 sha256 a-test-key-of-some-length\n"

// TestCheckOutput: warnings with file:line on stderr and exit 0; the
// firewall openings at debug level 1; errors with file:line and exit 6;
// the same as JSON.
func TestCheckOutput(t *testing.T) {
	onePath := "node node1 node2\nauto_failback on\nucast eth0 198.18.0.2\nping 198.18.0.254\n"
	dir := confDir(t, "ha.cf", onePath, keys, "")
	cf := filepath.Join(dir, "ha.cf")
	run := func(req cli.CheckRequest) (string, string, int) {
		var out, errOut bytes.Buffer
		req.ConfigDir, req.NodeName = dir, "node1"
		code := Checker{Machine: node1}.CheckConfig(req, &out, &errOut)
		return out.String(), errOut.String(), code
	}

	out, errOut, code := run(cli.CheckRequest{})
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	for _, w := range []string{
		"warning: " + cf + ":3: eth0 is the only heartbeat path and there is neither STONITH nor a watchdog: if this one path fails, both nodes take over the resources (split brain); add a second medium over an independent network or a serial cable, and configure stonith or a watchdog\n",
		"configuration OK\n",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if !strings.Contains(out, "ucast eth0 198.18.0.2\n") || strings.Contains(out, "firewall") {
		t.Errorf("stdout without -d:\n%s", out)
	}

	out, _, _ = run(cli.CheckRequest{Debug: 1})
	for _, w := range []string{
		"# firewall: let through (see \"Firewall\" in docs/operations.md):\n",
		"#   udp port 694 in on eth0 from 198.18.0.2               (ucast, " + cf + ":3)\n",
		"#   icmp echo-request out to 198.18.0.254, echo-reply in  (ping, " + cf + ":4)\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout with -d lacks %q:\n%s", w, out)
		}
	}

	out, errOut, code = run(cli.CheckRequest{JSON: true})
	var j struct {
		OK        bool
		Node      string
		Effective []config.Setting
		Firewall  []struct {
			Text, Proto, Iface, Medium, File string
			Port, Line                       int
		}
		Warnings []struct {
			File, Message string
			Line          int
		}
		Errors []struct {
			File, Message string
			Line          int
		}
		Groups []string
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if code != 0 || errOut != "" || !j.OK || j.Node != "node1" || len(j.Errors) != 0 || len(j.Groups) != 0 {
		t.Errorf("JSON check: exit %d, stderr %q, %+v", code, errOut, j)
	}
	if len(j.Warnings) != 1 || j.Warnings[0].File != cf || j.Warnings[0].Line != 3 ||
		!strings.HasPrefix(j.Warnings[0].Message, "eth0 is the only heartbeat path") {
		t.Errorf("JSON warnings %+v", j.Warnings)
	}
	if len(j.Firewall) != 2 || j.Firewall[0].Proto != "udp" || j.Firewall[0].Port != 694 || j.Firewall[0].Iface != "eth0" || j.Firewall[0].Line != 3 {
		t.Errorf("JSON firewall %+v", j.Firewall)
	}
	found := false
	for _, s := range j.Effective {
		if s.Name == "auto_failback" && s.Value == "on" && !s.Default {
			found = true
		}
	}
	if !found {
		t.Errorf("JSON effective lacks auto_failback on: %+v", j.Effective)
	}

	// Errors: exit 6, each with file and line.
	write(t, dir, "ha.cf", onePath+"keeplive 2\n", 0o644)
	_, errOut, code = run(cli.CheckRequest{})
	if code != 6 || !strings.Contains(errOut, cf+":5: unknown directive \"keeplive\" (did you mean keepalive?)") {
		t.Errorf("error: exit %d:\n%s", code, errOut)
	}
	out, _, code = run(cli.CheckRequest{JSON: true})
	j.Errors = nil
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if code != 6 || j.OK || len(j.Errors) != 1 || j.Errors[0].File != cf || j.Errors[0].Line != 5 || !strings.Contains(j.Errors[0].Message, "did you mean keepalive?") {
		t.Errorf("JSON error: exit %d: %+v", code, j.Errors)
	}

	// A resource error names the haresources line.
	write(t, dir, "ha.cf", onePath, 0o644)
	write(t, dir, "haresources", "node1 198.18.0.100/24/eth0\nnode2 no-such-script\n", 0o644)
	out, _, code = run(cli.CheckRequest{JSON: true})
	j.Errors = nil
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if code != 6 || len(j.Errors) != 1 || j.Errors[0].File != filepath.Join(dir, "haresources") || j.Errors[0].Line != 2 {
		t.Errorf("JSON resource error: exit %d: %+v", code, j.Errors)
	}
}

// TestDefaultDir: hactl check's default directory is the daemon's.
func TestDefaultDir(t *testing.T) {
	if cli.DefaultConfigDir != config.DefaultDir {
		t.Errorf("cli.DefaultConfigDir %q, config.DefaultDir %q", cli.DefaultConfigDir, config.DefaultDir)
	}
}
