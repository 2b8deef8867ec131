package stonith

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// The test plugin follows the cluster-glue external contract and records
// every call (op, host and the environment it sees) in a file. Its reset
// is one of the resets below. It never touches this machine.
const pluginTemplate = `#!/bin/sh
rec='@REC@'
printf 'op=%s host=%s ipaddr=%s userid=%s hostlist=%s tag=%s path=%s\n' "$1" "$2" "$ipaddr" "$userid" "$hostlist" "$HA_LOGTAG" "${PATH%%:*}" >>"$rec"
case "$1" in
getconfignames) echo "ipaddr userid"; echo "hostlist"; exit 0 ;;
gethosts) for h in $hostlist; do echo "$h"; done; exit 0 ;;
status) [ -n "$ipaddr" ] || exit 2; exit 0 ;;
reset|on|off) @RESET@ ;;
*) exit 1 ;;
esac
`

const (
	resetOK   = `for h in $hostlist; do [ "$h" = "$2" ] && exit 0; done; echo "unknown host $2" >&2; exit 1`
	resetFail = `echo "device said no" >&2; exit 1`
	// resetHang starts a child in the plugin's process group and waits:
	// a timeout must kill both.
	resetHang = `sleep 30 & echo $! >'@REC@.child'; wait; exit 0`
)

type pluginFixture struct {
	dir  string // plugin directory
	rec  string // record file
	name string // plugin file name
}

func newPlugin(t *testing.T, reset string, perm os.FileMode) pluginFixture {
	t.Helper()
	dir := t.TempDir()
	f := pluginFixture{dir: dir, rec: filepath.Join(dir, "calls.log"), name: "testdev"}
	script := strings.ReplaceAll(strings.ReplaceAll(pluginTemplate, "@RESET@", reset), "@REC@", f.rec)
	path := filepath.Join(dir, f.name)
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // bypass the umask
		t.Fatal(err)
	}
	return f
}

func (f pluginFixture) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(f.rec)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (f pluginFixture) spec(params string) Spec {
	return Spec{Host: "*", Type: "external/" + f.name, Params: params, Where: "ha.cf:7"}
}

func (f pluginFixture) opts(timeout time.Duration) Options {
	return Options{PluginDir: f.dir, Timeout: timeout}
}

func TestExternalContract(t *testing.T) {
	f := newPlugin(t, resetOK, 0o755)
	var logs []string
	o := f.opts(10 * time.Second)
	o.Log = func(s string) { logs = append(logs, s) }
	d, err := New(f.spec("198.18.0.9 admin node1  NODE2 "), "node1", o)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := d.(*External)
	if !ok {
		t.Fatalf("New returned %T, want *External", d)
	}
	if d.Name() != "external/testdev" {
		t.Errorf("Name = %q", d.Name())
	}
	wantParams := []Param{{"ipaddr", "198.18.0.9"}, {"userid", "admin"}, {"hostlist", "node1  NODE2"}}
	if got := e.Params(); !reflect.DeepEqual(got, wantParams) {
		t.Errorf("Params = %q, want %q", got, wantParams)
	}
	ctx := context.Background()
	if err := d.Status(ctx); err != nil {
		t.Errorf("Status: %v", err)
	}
	hosts, err := d.Hosts(ctx)
	if err != nil || !reflect.DeepEqual(hosts, []string{"node1", "NODE2"}) {
		t.Errorf("Hosts = %q, %v", hosts, err)
	}
	if err := d.Reset(ctx, "NoDe1"); err != nil {
		t.Errorf("Reset(NoDe1): %v", err)
	}
	err = d.Reset(ctx, "node9")
	if ResultOf(err) != ResetFail || !errors.Is(err, ResetFail) || !strings.Contains(err.Error(), "unknown host node9") {
		t.Errorf("Reset(node9) = %v, want ResetFail with the plugin's message", err)
	}
	const env = " ipaddr=198.18.0.9 userid=admin hostlist=node1  NODE2 tag=external/testdev path=" + glueShareDir
	want := []string{
		"op=getconfignames host= ipaddr= userid= hostlist= tag=external/testdev path=" + glueShareDir,
		"op=status host=" + env,
		"op=gethosts host=" + env,
		"op=reset host=node1" + env,
		"op=reset host=node9" + env,
	}
	if got := f.calls(t); !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(logs) == 0 {
		t.Error("nothing logged")
	}
}

func TestExternalParamFile(t *testing.T) {
	f := newPlugin(t, resetOK, 0o700)
	cfg := filepath.Join(f.dir, "testdev.cfg")
	if err := os.WriteFile(cfg, []byte("# device\n198.18.0.9 root alpha beta\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Type: "external/testdev", File: "testdev.cfg", Where: filepath.Join(f.dir, "ha.cf") + ":1", Dir: f.dir}
	d, err := New(spec, "alpha", f.opts(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{{"ipaddr", "198.18.0.9"}, {"userid", "root"}, {"hostlist", "alpha beta"}}
	if got := d.(*External).Params(); !reflect.DeepEqual(got, want) {
		t.Errorf("Params = %q, want %q", got, want)
	}
}

func TestExternalRefused(t *testing.T) {
	tests := []struct {
		name  string
		perm  os.FileMode
		setup func(t *testing.T, f pluginFixture) string // returns the type
		want  string
	}{
		{name: "group-writable", perm: 0o775, want: "writable by group/others"},
		{name: "world-writable", perm: 0o757, want: "writable by group/others"},
		{name: "not executable", perm: 0o644, want: "not executable"},
		{name: "missing", perm: 0o755, setup: func(*testing.T, pluginFixture) string { return "external/nosuch" }, want: "no such file"},
		{name: "directory", perm: 0o755, setup: func(t *testing.T, f pluginFixture) string {
			if err := os.Mkdir(filepath.Join(f.dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			return "external/sub"
		}, want: "not a regular file"},
		{name: "path traversal", perm: 0o755, setup: func(*testing.T, pluginFixture) string { return "external/../testdev" }, want: "invalid external plugin name"},
		{name: "empty name", perm: 0o755, setup: func(*testing.T, pluginFixture) string { return "external/" }, want: "invalid external plugin name"},
		{name: "foreign owner", perm: 0o755, setup: func(t *testing.T, f pluginFixture) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			if err := os.Chown(filepath.Join(f.dir, f.name), 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return "external/testdev"
		}, want: "neither root nor the running user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPlugin(t, resetOK, tt.perm)
			spec := f.spec("198.18.0.9 admin node1")
			if tt.setup != nil {
				spec.Type = tt.setup(t, f)
			}
			d, err := New(spec, "node1", f.opts(5*time.Second))
			if err == nil {
				t.Fatalf("New accepted the plugin: %v", d)
			}
			if ResultOf(err) != BadConfig || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "ha.cf:7: ") {
				t.Errorf("err = %v, want BadConfig at ha.cf:7 mentioning %q", err, tt.want)
			}
			if calls := f.calls(t); calls[0] != "" {
				t.Errorf("refused plugin was run: %q", calls)
			}
		})
	}
}

// A plugin that becomes group-writable after New is refused at the next
// run, as cluster-glue checks before every run.
func TestExternalRecheckedBeforeRun(t *testing.T) {
	f := newPlugin(t, resetOK, 0o755)
	d, err := New(f.spec("198.18.0.9 admin node1"), "node1", f.opts(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(f.dir, f.name), 0o775); err != nil {
		t.Fatal(err)
	}
	if err := d.Reset(context.Background(), "node1"); ResultOf(err) != BadConfig {
		t.Errorf("Reset = %v, want BadConfig", err)
	}
	if n := len(f.calls(t)); n != 1 {
		t.Errorf("%d calls, want only getconfignames", n)
	}
}

func TestExternalBadParams(t *testing.T) {
	f := newPlugin(t, resetOK, 0o755)
	_, err := New(f.spec("198.18.0.9 admin"), "node1", f.opts(5*time.Second))
	if ResultOf(err) != BadConfig || !strings.Contains(err.Error(), "2 parameter(s) given, 3 expected (ipaddr userid hostlist)") {
		t.Errorf("err = %v", err)
	}
}

func TestExternalFailingReset(t *testing.T) {
	f := newPlugin(t, resetFail, 0o755)
	d, err := New(f.spec("198.18.0.9 admin node2"), "node1", f.opts(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Reset(context.Background(), "node2")
	var se *Error
	if !errors.As(err, &se) || se.Result != ResetFail || se.Node != "node2" || se.Op != "reset" ||
		!strings.Contains(err.Error(), "exit status 1: device said no") {
		t.Errorf("Reset = %v, want ResetFail with stderr", err)
	}
}

func TestExternalStatusFailure(t *testing.T) {
	f := newPlugin(t, resetOK, 0o755)
	d, err := New(f.spec("198.18.0.9 admin node2"), "node1", f.opts(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	d.(*External).params[0].Value = "" // status exits 2 without ipaddr
	if err := d.Status(context.Background()); ResultOf(err) != Access {
		t.Errorf("Status = %v, want the exit status 2 as S_ACCESS", err)
	}
}

func TestExternalHangingPluginKilled(t *testing.T) {
	f := newPlugin(t, resetHang, 0o755)
	d, err := New(f.spec("198.18.0.9 admin node2"), "node1", f.opts(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = d.Reset(context.Background(), "node2")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Reset took %v with a 300ms timeout", took)
	}
	if ResultOf(err) != Timeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Reset = %v, want Timeout", err)
	}
	// The plugin's child was in its process group: it must be gone too.
	data, err := os.ReadFile(f.rec + ".child")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the hanging plugin still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone reports whether pid no longer runs (absent or a zombie).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestExternalContextCancelled(t *testing.T) {
	f := newPlugin(t, resetHang, 0o755)
	d, err := New(f.spec("198.18.0.9 admin node2"), "node1", f.opts(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err = d.Reset(ctx, "node2")
	if ResultOf(err) != Timeout || !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("Reset = %v after %v, want Timeout wrapping context.Canceled", err, time.Since(start))
	}
}

func TestExternalInvalidNode(t *testing.T) {
	f := newPlugin(t, resetOK, 0o755)
	d, err := New(f.spec("198.18.0.9 admin node2"), "node1", f.opts(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"", "-rf", "a b", "a\nb", "../x", "a\x00"} {
		if err := d.Reset(context.Background(), n); ResultOf(err) != Inval {
			t.Errorf("Reset(%q) = %v, want Inval", n, err)
		}
	}
	if n := len(f.calls(t)); n != 1 {
		t.Errorf("%d calls, want only getconfignames", n)
	}
}

// The real external/ssh plugin of cluster-glue: configuration names and
// host list only; it is never asked to reset anything.
func TestRealExternalSSH(t *testing.T) {
	o := Options{Timeout: 10 * time.Second}.withDefaults()
	if _, err := os.Stat(filepath.Join(o.PluginDir, "ssh")); err != nil {
		testbed.Unavailable(t, "cluster-glue's external/ssh plugin is not installed (Debian package cluster-glue): %v", err)
	}
	d, err := New(Spec{Host: "*", Type: "external/ssh", Params: "a b"}, "node1", o)
	if err != nil {
		t.Fatal(err)
	}
	e := d.(*External)
	ctx := context.Background()
	names, err := e.ConfigNames(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"hostlist"}) {
		t.Errorf("ConfigNames = %q, %v", names, err)
	}
	if got := e.Params(); !reflect.DeepEqual(got, []Param{{"hostlist", "a b"}}) {
		t.Errorf("Params = %q", got)
	}
	hosts, err := d.Hosts(ctx)
	if err != nil || !reflect.DeepEqual(hosts, []string{"a", "b"}) {
		t.Errorf("Hosts = %q, %v; want [a b] like `stonith -t external/ssh -p \"a b\" -l`", hosts, err)
	}
}
