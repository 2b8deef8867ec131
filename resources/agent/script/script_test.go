package script

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/haresources"
)

func TestNewResolve(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, d testDirs)
		res     haresources.Resource
		flavour flavour
		path    func(d testDirs) string
		wantErr []string // substrings of the error; nil = success
	}{
		{
			name:    "resource.d script",
			setup:   func(t *testing.T, d testDirs) { writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755) },
			res:     scriptRes("svc"),
			flavour: flavourHeartbeat,
			path:    func(d testDirs) string { return filepath.Join(d.rsc, "svc") },
		},
		{
			name:    "init.d script",
			setup:   func(t *testing.T, d testDirs) { writeFile(t, filepath.Join(d.init, "svc"), fakeScript, 0o755) },
			res:     scriptRes("svc"),
			flavour: flavourLSB,
			path:    func(d testDirs) string { return filepath.Join(d.init, "svc") },
		},
		{
			name: "resource.d wins over init.d",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755)
				writeFile(t, filepath.Join(d.init, "svc"), fakeScript, 0o755)
			},
			res:     scriptRes("svc"),
			flavour: flavourHeartbeat,
			path:    func(d testDirs) string { return filepath.Join(d.rsc, "svc") },
		},
		{
			name: "directory in resource.d falls back to init.d",
			setup: func(t *testing.T, d testDirs) {
				mkdir(t, filepath.Join(d.rsc, "svc"))
				writeFile(t, filepath.Join(d.init, "svc"), fakeScript, 0o755)
			},
			res:     scriptRes("svc"),
			flavour: flavourLSB,
			path:    func(d testDirs) string { return filepath.Join(d.init, "svc") },
		},
		{
			name: "symbolic link to an executable",
			setup: func(t *testing.T, d testDirs) {
				target := writeFile(t, filepath.Join(d.rsc, "real"), fakeScript, 0o755)
				if err := os.Symlink(target, filepath.Join(d.rsc, "svc")); err != nil {
					t.Fatal(err)
				}
			},
			res:     scriptRes("svc"),
			flavour: flavourHeartbeat,
			path:    func(d testDirs) string { return filepath.Join(d.rsc, "svc") },
		},
		{
			name:    "missing",
			res:     scriptRes("svc"),
			wantErr: []string{`cannot locate resource script "svc"`, "resource.d/svc: not found", "init.d/svc: not found"},
		},
		{
			name: "not executable",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o644)
			},
			res:     scriptRes("svc"),
			wantErr: []string{"resource.d/svc: not executable", "init.d/svc: not found"},
		},
		{
			name: "directories only",
			setup: func(t *testing.T, d testDirs) {
				mkdir(t, filepath.Join(d.rsc, "svc"))
				mkdir(t, filepath.Join(d.init, "svc"))
			},
			res:     scriptRes("svc"),
			wantErr: []string{"resource.d/svc: is a directory", "init.d/svc: is a directory"},
		},
		{
			name: "fifo",
			setup: func(t *testing.T, d testDirs) {
				if err := syscall.Mkfifo(filepath.Join(d.init, "svc"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			res:     scriptRes("svc"),
			wantErr: []string{"init.d/svc: not a regular file"},
		},
		{name: "name with a slash", res: scriptRes("../bin/sh"), wantErr: []string{`invalid script name "../bin/sh"`}},
		{name: "dot-dot name", res: scriptRes(".."), wantErr: []string{"invalid script name"}},
		{name: "empty name", res: haresources.Resource{Kind: haresources.KindScript}, wantErr: []string{"empty script name"}},
		{name: "IP kind", res: haresources.Resource{Raw: "10.0.0.1", Kind: haresources.KindIP}, wantErr: []string{`"ip" is not run by a script agent`}},
		{
			name: "OCF agent",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.ocf, "resource.d/acme/Thing"), fakeScript, 0o755)
			},
			res:     ocfRes("acme", "Thing", "t1", nil),
			flavour: flavourOCF,
			path:    func(d testDirs) string { return filepath.Join(d.ocf, "resource.d/acme/Thing") },
		},
		{
			name: "OCF provider defaults to heartbeat",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.ocf, "resource.d/heartbeat/Thing"), fakeScript, 0o755)
			},
			res:     ocfRes("", "Thing", "t1", nil),
			flavour: flavourOCF,
			path:    func(d testDirs) string { return filepath.Join(d.ocf, "resource.d/heartbeat/Thing") },
		},
		{name: "OCF agent missing", res: ocfRes("acme", "Thing", "t1", nil), wantErr: []string{"cannot locate OCF agent acme/Thing", "resource.d/acme/Thing: not found"}},
		{
			name: "OCF agent not executable",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.ocf, "resource.d/acme/Thing"), fakeScript, 0o600)
			},
			res:     ocfRes("acme", "Thing", "t1", nil),
			wantErr: []string{"resource.d/acme/Thing: not executable"},
		},
		{name: "OCF without spec", res: haresources.Resource{Raw: "x", Kind: haresources.KindOCF}, wantErr: []string{"without an OCF specification"}},
		{name: "OCF provider with slash", res: ocfRes("../x", "Thing", "t1", nil), wantErr: []string{"invalid OCF provider name"}},
		{
			name: "OCF bad parameter name",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.ocf, "resource.d/acme/Thing"), fakeScript, 0o755)
			},
			res:     ocfRes("acme", "Thing", "t1", map[string]string{"bad-name": "1"}),
			wantErr: []string{`OCF parameter name "bad-name"`},
		},
		{
			name: "OCF missing param file",
			setup: func(t *testing.T, d testDirs) {
				writeFile(t, filepath.Join(d.ocf, "resource.d/heartbeat/Thing"), fakeScript, 0o755)
			},
			res: haresources.Resource{Raw: "OCF::Thing::t1", Kind: haresources.KindOCF, Type: "Thing",
				OCF: &haresources.OCFSpec{Provider: "heartbeat", Agent: "Thing", Instance: "t1", ParamFile: "/nonexistent/conf/OCF/Thing/t1"}},
			wantErr: []string{"OCF instance file", "/nonexistent/conf/OCF/Thing/t1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirs(t)
			if tt.setup != nil {
				tt.setup(t, d)
			}
			ag, err := New(tt.res, d.env(nil))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("New succeeded, want error containing %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := ag.(*scriptAgent)
			if a.flavour != tt.flavour {
				t.Errorf("flavour = %v, want %v", a.flavour, tt.flavour)
			}
			if want := tt.path(d); a.path != want {
				t.Errorf("path = %s, want %s", a.path, want)
			}
		})
	}
}

func TestNewBadExtraEnv(t *testing.T) {
	d := newDirs(t)
	writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755)
	for _, kv := range []string{"NOEQUALS", "=x", "1A=x", "A B=x", "A=x\x00y"} {
		env := d.env(nil)
		env.ExtraEnv = []string{kv}
		if _, err := New(scriptRes("svc"), env); err == nil {
			t.Errorf("ExtraEnv %q accepted", kv)
		}
	}
}

func TestString(t *testing.T) {
	d := newDirs(t)
	writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755)
	writeFile(t, filepath.Join(d.ocf, "resource.d/heartbeat/Thing"), fakeScript, 0o755)
	tests := []struct {
		res  haresources.Resource
		want string
	}{
		{scriptRes("svc", "a", "b"), "svc::a::b"},
		{haresources.Resource{Kind: haresources.KindScript, Type: "svc", Args: []string{"x"}}, "svc::x"},
		{ocfRes("heartbeat", "Thing", "t1", nil), "OCF::Thing::t1"},
		{ocfRes("heartbeat", "Thing", "", nil), "ocf:heartbeat:Thing"},
	}
	for _, tt := range tests {
		ag, err := New(tt.res, d.env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := ag.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// outcome is one run of a fake script and what the agent must make of it.
type outcome struct {
	name    string
	op      string // start, stop, status
	stdout  string
	stderr  string
	rc      int
	running bool
	wantErr string // substring; "" = success
}

func runOutcomes(t *testing.T, dir func(testDirs) string, res func() haresources.Resource, wantOp func(string) string, tests []outcome) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirs(t)
			r := res()
			name := r.Type
			path := writeFile(t, filepath.Join(dir(d), name), fakeScript, 0o755)
			answer(t, path, tt.stdout, tt.stderr, tt.rc)
			a := mustNew(t, r, d.env(nil))
			var err error
			var running bool
			switch tt.op {
			case "start":
				err = a.Start(context.Background())
			case "stop":
				err = a.Stop(context.Background())
			case "status":
				running, err = a.Status(context.Background())
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("%s: %v", tt.op, err)
				}
			} else {
				if err == nil {
					t.Fatalf("%s succeeded, want error %q", tt.op, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				var oe *OpError
				if !errors.As(err, &oe) {
					t.Fatalf("error %T is not an *OpError", err)
				}
				if oe.Code != tt.rc {
					t.Errorf("OpError.Code = %d, want %d", oe.Code, tt.rc)
				}
				if errors.Is(err, agent.ErrTimeout) {
					t.Errorf("exit-code failure wraps ErrTimeout")
				}
			}
			if running != tt.running {
				t.Errorf("running = %v, want %v", running, tt.running)
			}
			args, _ := os.ReadFile(path + ".args")
			if got, want := strings.TrimSpace(string(args)), wantOp(tt.op); got != want {
				t.Errorf("action argument = %q, want %q", got, want)
			}
		})
	}
}

func same(op string) string { return op }

func TestHeartbeatScript(t *testing.T) {
	runOutcomes(t, func(d testDirs) string { return d.rsc }, func() haresources.Resource { return scriptRes("svc") }, same, []outcome{
		{name: "start ok", op: "start", rc: 0},
		{name: "start fails", op: "start", stdout: "out line\n", stderr: "cannot bind\n", rc: 1, wantErr: "exit code 1 from "},
		{name: "start fail quotes output", op: "start", stderr: "cannot bind port 80\n", rc: 2, wantErr: "last output: stderr: cannot bind port 80"},
		{name: "stop ok", op: "stop", rc: 0},
		{name: "stop 7 is a failure", op: "stop", rc: 7, wantErr: "exit code 7"},
		{name: "status running", op: "status", stdout: "svc is running\n", running: true},
		{name: "status Running OK (hto-mapfuncs)", op: "status", stdout: "INFO:  Running OK\n", running: true},
		{name: "status OK", op: "status", stdout: "OK\n", running: true},
		{name: "status exit code ignored when running", op: "status", stdout: "running\n", rc: 3, running: true},
		{name: "status exit code ignored when stopped", op: "status", stdout: "stopped\n", rc: 0},
		{name: "status not running", op: "status", stdout: "svc is not running\n"},
		{name: "status NOT Running", op: "status", stdout: "NOT Running\n"},
		{name: "status not across lines", op: "status", stdout: "svc is not \nrunning\n"},
		{name: "status not without blank", op: "status", stdout: "notrunning\n", running: true},
		{name: "status running then not running", op: "status", stdout: "was running\nis not running now\n"},
		{name: "status not ... OK is running", op: "status", stdout: "NOT OK\n", running: true},
		{name: "status capital RUNNING", op: "status", stdout: "RUNNING\n"},
		{name: "status is active", op: "status", stdout: "svc is active\n"},
		{name: "status ok lower case", op: "status", stdout: "ok\n"},
		{name: "status empty", op: "status"},
		{name: "status words on stderr only", op: "status", stderr: "running\n"},
		{name: "status without final newline", op: "status", stdout: "Running", running: true},
	})
}

func TestLSBScript(t *testing.T) {
	runOutcomes(t, func(d testDirs) string { return d.init }, func() haresources.Resource { return scriptRes("svc") }, same, []outcome{
		{name: "start ok", op: "start", rc: 0},
		{name: "start generic error", op: "start", rc: 1, wantErr: "exit code 1 (generic or unspecified error)"},
		{name: "start not installed", op: "start", rc: 5, wantErr: "program is not installed"},
		{name: "start 7 is a failure", op: "start", rc: 7, wantErr: "program is not running"},
		{name: "stop ok", op: "stop", rc: 0},
		{name: "stop not running is success", op: "stop", rc: 7},
		{name: "stop fails", op: "stop", rc: 1, wantErr: "exit code 1"},
		{name: "status 0 running", op: "status", stdout: "is stopped\n", rc: 0, running: true},
		{name: "status 3 stopped", op: "status", stdout: "is running\n", rc: 3},
		{name: "status 1 dead pid file", op: "status", rc: 1},
		{name: "status 2 dead lock file", op: "status", rc: 2},
		{name: "status 4 unknown", op: "status", rc: 4, wantErr: "status is unknown"},
		{name: "status 150 unknown", op: "status", rc: 150, wantErr: "exit code 150"},
		{name: "status 127", op: "status", rc: 127, wantErr: "a command was not found"},
	})
}

func TestOCFAgent(t *testing.T) {
	res := func() haresources.Resource { return ocfRes("acme", "svc", "i1", nil) }
	dir := func(d testDirs) string { return filepath.Join(d.ocf, "resource.d", "acme") }
	mon := func(op string) string {
		if op == "status" {
			return "monitor"
		}
		return op
	}
	runOutcomes(t, dir, res, mon, []outcome{
		{name: "start ok", op: "start", rc: 0},
		{name: "start not configured", op: "start", rc: 6, wantErr: "exit code 6 (OCF_ERR_CONFIGURED: not configured)"},
		{name: "stop ok", op: "stop", rc: 0},
		{name: "stop not running is success", op: "stop", rc: 7},
		{name: "stop generic", op: "stop", rc: 1, wantErr: "OCF_ERR_GENERIC"},
		{name: "monitor running", op: "status", rc: 0, running: true},
		{name: "monitor not running", op: "status", stdout: "running\n", rc: 7},
		{name: "monitor 1", op: "status", rc: 1, wantErr: "OCF_ERR_GENERIC: generic error"},
		{name: "monitor 2", op: "status", rc: 2, wantErr: "OCF_ERR_ARGS"},
		{name: "monitor 3", op: "status", rc: 3, wantErr: "OCF_ERR_UNIMPLEMENTED"},
		{name: "monitor 4", op: "status", rc: 4, wantErr: "OCF_ERR_PERM"},
		{name: "monitor 5", op: "status", rc: 5, wantErr: "OCF_ERR_INSTALLED: not installed"},
		{name: "monitor 6", op: "status", rc: 6, wantErr: "OCF_ERR_CONFIGURED"},
		{name: "monitor 8", op: "status", rc: 8, wantErr: "OCF_RUNNING_MASTER"},
		{name: "monitor 9", op: "status", rc: 9, wantErr: "OCF_FAILED_MASTER"},
		{name: "monitor 42", op: "status", rc: 42, wantErr: "exit code 42 from"},
	})
}

func TestArgumentOrder(t *testing.T) {
	d := newDirs(t)
	path := writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755)
	// Arguments reach the script verbatim: no shell ever sees them.
	args := []string{"10.0.0.1/24", "a b", "$(touch /tmp/hasuite-pwned)", "*", `"q"`}
	a := mustNew(t, scriptRes("svc", args...), d.env(nil))
	for _, op := range []string{"start", "status", "stop"} {
		switch op {
		case "start":
			_ = a.Start(context.Background())
		case "stop":
			_ = a.Stop(context.Background())
		default:
			_, _ = a.Status(context.Background())
		}
		b, err := os.ReadFile(path + ".args")
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if want := append(slices.Clone(args), op); !slices.Equal(got, want) {
			t.Errorf("%s: argv = %q, want %q", op, got, want)
		}
	}
	if _, err := os.Stat("/tmp/hasuite-pwned"); err == nil {
		t.Error("an argument was run by a shell")
	}
}

func TestLogging(t *testing.T) {
	d := newDirs(t)
	path := writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755)
	answer(t, path, "hello\nworld\n", "oops\n", 0)
	log := &recorder{}
	a := mustNew(t, scriptRes("svc", "x"), d.env(log))
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"svc::x| start: running " + path + " x start (pid ",
		"svc::x| start: hello",
		"svc::x| start: world",
		"svc::x| start: stderr: oops",
		"svc::x| start: exit code 0 after ",
	} {
		if !log.has(want) {
			t.Errorf("log lacks %q; got %q", want, log.all())
		}
	}
}

func TestOutputBounded(t *testing.T) {
	d := newDirs(t)
	writeFile(t, filepath.Join(d.rsc, "svc"), `#!/bin/sh
i=1
while [ $i -le 1000 ]; do echo "line $i"; i=$((i+1)); done
head -c 10000 /dev/zero | tr '\0' x
echo
echo last
exit 1
`, 0o755)
	log := &recorder{}
	a := mustNew(t, scriptRes("svc"), d.env(log))
	err := a.Start(context.Background())
	var oe *OpError
	if !errors.As(err, &oe) {
		t.Fatalf("Start: %v, want *OpError", err)
	}
	if len(oe.Output) != maxTailLines {
		t.Errorf("kept %d lines, want %d", len(oe.Output), maxTailLines)
	}
	if oe.Output[len(oe.Output)-1] != "last" {
		t.Errorf("last kept line = %q", oe.Output[len(oe.Output)-1])
	}
	long := oe.Output[len(oe.Output)-2]
	if !strings.HasSuffix(long, "[line truncated]") || len(long) > maxLineLen+30 {
		t.Errorf("long line not truncated: %d bytes", len(long))
	}
	if !log.has("start: line 1") {
		t.Error("first line not logged")
	}
	if strings.Count(err.Error(), " | ") != errorTailLines-1 {
		t.Errorf("error quotes other than %d lines: %q", errorTailLines, err)
	}
}

func TestExecFailure(t *testing.T) {
	d := newDirs(t)
	// Executable but no shebang and not ELF: exec fails with ENOEXEC.
	writeFile(t, filepath.Join(d.rsc, "svc"), "echo hi\n", 0o755)
	a := mustNew(t, scriptRes("svc"), d.env(nil))
	err := a.Start(context.Background())
	var oe *OpError
	if !errors.As(err, &oe) || oe.Err == nil || !strings.Contains(err.Error(), "cannot run") {
		t.Fatalf("Start: %v, want a cannot-run OpError", err)
	}
	if running, err := a.Status(context.Background()); err == nil || running {
		t.Errorf("Status = %v, %v; want an error (state unknown), not stopped", running, err)
	}
}
