package stonith

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// realStonith returns cluster-glue's stonith command or skips the test.
func realStonith(t *testing.T) string {
	t.Helper()
	p, err := findStonithCmd("")
	if err != nil {
		testbed.Unavailable(t, "%v", err)
	}
	return p
}

// The real `stonith` command with the null type: parameters through the
// environment, a reset of a listed (fake) host succeeds.
func TestRealStonithNull(t *testing.T) {
	cmd := realStonith(t)
	spec := Spec{Host: "*", Type: "null", Params: "fakehost1 fakehost2"}
	c, err := NewCommand(spec, "node1", Options{StonithCmd: cmd, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Params(); !reflect.DeepEqual(got, []Param{{"hostlist", "fakehost1 fakehost2"}}) {
		t.Errorf("Params = %q", got)
	}
	ctx := context.Background()
	hosts, err := c.Hosts(ctx)
	if err != nil || !reflect.DeepEqual(hosts, []string{"fakehost1", "fakehost2"}) {
		t.Errorf("Hosts = %q, %v", hosts, err)
	}
	if err := c.Status(ctx); err != nil {
		t.Errorf("Status: %v", err)
	}
	if err := c.Reset(ctx, "FakeHost1"); err != nil {
		t.Errorf("Reset: %v", err)
	}
}

func TestRealStonithUnknownType(t *testing.T) {
	cmd := realStonith(t)
	_, err := NewCommand(Spec{Host: "*", Type: "nosuchtype"}, "node1", Options{StonithCmd: cmd, Timeout: 20 * time.Second})
	if ResultOf(err) != BadConfig || !strings.Contains(err.Error(), "unknown STONITH type") {
		t.Errorf("err = %v, want BadConfig unknown type", err)
	}
}

// fakeStonith is a stand-in for the `stonith` command that records its
// arguments and the hostlist/passwd it sees, and exits with the code the
// node name asks for ("exit5" exits 5).
const fakeStonith = `#!/bin/sh
rec='@REC@'
printf '%s|hostlist=%s|passwd=%s\n' "$*" "$hostlist" "$passwd" >>"$rec"
for a; do last=$a; done
case "$*" in
*" -n") echo "hostlist passwd  "; exit 0 ;;
*" -S") exit 0 ;;
*" -l") echo "n1"; echo "n2"; exit 0 ;;
*" -T reset "*) case $last in exit*) exit ${last#exit} ;; esac; exit 0 ;;
esac
exit 1
`

func TestCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "calls")
	path := filepath.Join(dir, "stonith")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(fakeStonith, "@REC@", rec)), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Host: "*", Type: "ipmilan", Params: "n1 pass word"}
	d, err := New(spec, "n1", Options{StonithCmd: path, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*Command); !ok {
		t.Fatalf("New returned %T, want *Command", d)
	}
	tests := []struct {
		node string
		want Result
	}{
		{"exit0", OK}, {"exit1", BadConfig}, {"exit2", Access}, {"exit3", Inval}, {"exit4", BadHost},
		{"exit5", ResetFail}, {"exit6", Timeout}, {"exit7", IsOff}, {"exit8", Oops}, {"exit255", Oops}, {"exit9", Oops},
	}
	for _, tt := range tests {
		if got := ResultOf(d.Reset(context.Background(), tt.node)); got != tt.want {
			t.Errorf("Reset(%s) result %v, want %v", tt.node, got, tt.want)
		}
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != "-t ipmilan -n|hostlist=|passwd=" {
		t.Errorf("names call %q", lines[0])
	}
	if want := "-t ipmilan -E -T reset exit0|hostlist=n1|passwd=pass word"; lines[1] != want {
		t.Errorf("reset call %q, want %q", lines[1], want)
	}
	for _, l := range lines {
		args, _, _ := strings.Cut(l, "|")
		if strings.Contains(args, "pass") {
			t.Errorf("parameter on the command line: %q", l)
		}
	}
	hosts, err := d.Hosts(context.Background())
	if err != nil || !reflect.DeepEqual(hosts, []string{"n1", "n2"}) {
		t.Errorf("Hosts = %q, %v", hosts, err)
	}
	if err := d.Status(context.Background()); err != nil {
		t.Errorf("Status: %v", err)
	}
}

func TestCommandNotInstalled(t *testing.T) {
	_, err := New(Spec{Host: "*", Type: "ipmilan"}, "n1", Options{StonithCmd: "/nonexistent/stonith"})
	if ResultOf(err) != BadConfig {
		t.Errorf("err = %v, want BadConfig", err)
	}
}
