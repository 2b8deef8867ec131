package script

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/haresources"
)

// hangScript records its pid and a child's pid, then waits for ever;
// with trap it also ignores SIGTERM (and so does its child).
func hangScript(ignoreTerm bool) string {
	s := "#!/bin/sh\n"
	if ignoreTerm {
		s += "trap '' TERM\n"
	}
	return s + `echo $$ > "$0.pid"
sleep 300 &
echo $! > "$0.child"
echo hanging
while :; do wait; done
`
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	tests := []struct {
		name       string
		flavour    string // "rsc", "init", "ocf"
		op         string
		ignoreTerm bool
		opTimeout  time.Duration // Resource.Timeout
		ctxTimeout time.Duration // caller's deadline, 0 = none
		cancel     bool          // cancel the caller's context instead
		killGrace  time.Duration // SIGTERM → SIGKILL, 0 = the test default
		wantIs     []error
		minElapsed time.Duration
	}{
		{name: "heartbeat start", flavour: "rsc", op: "start", opTimeout: time.Second, wantIs: []error{agent.ErrTimeout}},
		{name: "heartbeat status is an error", flavour: "rsc", op: "status", opTimeout: time.Second, wantIs: []error{agent.ErrTimeout}},
		{name: "LSB stop", flavour: "init", op: "stop", opTimeout: time.Second, wantIs: []error{agent.ErrTimeout}},
		{name: "OCF monitor", flavour: "ocf", op: "status", opTimeout: time.Second, wantIs: []error{agent.ErrTimeout}},
		{name: "SIGTERM ignored: SIGKILL after grace", flavour: "rsc", op: "start", ignoreTerm: true,
			opTimeout: time.Second, wantIs: []error{agent.ErrTimeout}, killGrace: time.Second, minElapsed: 2 * time.Second},
		{name: "caller deadline first: no grace", flavour: "rsc", op: "start", ignoreTerm: true,
			killGrace: time.Minute, opTimeout: time.Minute, ctxTimeout: time.Second, wantIs: []error{agent.ErrTimeout, context.DeadlineExceeded}},
		{name: "caller cancels: no grace", flavour: "ocf", op: "start", ignoreTerm: true, killGrace: time.Minute, opTimeout: time.Minute, cancel: true, wantIs: []error{context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDirs(t)
			var res haresources.Resource
			var path string
			switch tt.flavour {
			case "rsc":
				path = writeFile(t, filepath.Join(d.rsc, "hang"), hangScript(tt.ignoreTerm), 0o755)
				res = scriptRes("hang")
			case "init":
				path = writeFile(t, filepath.Join(d.init, "hang"), hangScript(tt.ignoreTerm), 0o755)
				res = scriptRes("hang")
			case "ocf":
				path = writeFile(t, filepath.Join(d.ocf, "resource.d/acme/hang"), hangScript(tt.ignoreTerm), 0o755)
				res = ocfRes("acme", "hang", "h", nil)
			}
			res.Timeout = tt.opTimeout
			log := &recorder{}
			a := mustNew(t, res, d.env(log))
			if tt.killGrace > 0 {
				a.killGrace = tt.killGrace
			}

			ctx := context.Background()
			var cancel context.CancelFunc = func() {}
			if tt.ctxTimeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
			}
			if tt.cancel {
				ctx, cancel = context.WithCancel(ctx)
				go func() {
					// Cancel once the script runs (no t.Fatal off the test goroutine).
					for i := 0; i < 500; i++ {
						if _, err := os.Stat(path + ".child"); err == nil {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					time.Sleep(200 * time.Millisecond) // let it print
					cancel()
				}()
			}
			defer cancel()

			began := time.Now()
			var err error
			switch tt.op {
			case "start":
				err = a.Start(ctx)
			case "stop":
				err = a.Stop(ctx)
			case "status":
				var running bool
				running, err = a.Status(ctx)
				if running {
					t.Error("a timed-out status reported running")
				}
			}
			elapsed := time.Since(began)
			if err == nil {
				t.Fatal("no error from a hanging script")
			}
			for _, want := range tt.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			if tt.cancel && errors.Is(err, agent.ErrTimeout) {
				t.Errorf("a cancellation reported as a timeout: %v", err)
			}
			if !strings.Contains(err.Error(), "process group") || !strings.Contains(err.Error(), "hanging") {
				t.Errorf("error lacks the kill notice or the output: %q", err)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("returned after %v, before the SIGTERM grace (%v) ran out", elapsed, tt.minElapsed)
			}
			// Generous against a loaded machine, yet far below any grace
			// that should not have been granted.
			limit := tt.opTimeout + a.killGrace + 3*time.Second
			if tt.ctxTimeout > 0 {
				limit = tt.ctxTimeout + 3*time.Second
			}
			if tt.cancel {
				limit = 5 * time.Second
			}
			if elapsed > limit {
				t.Errorf("returned after %v, want under %v", elapsed, limit)
			}
			waitDead(t, readPid(t, path+".pid"), "script")
			waitDead(t, readPid(t, path+".child"), "script's child")
		})
	}
}

func TestNotRunWhenContextDone(t *testing.T) {
	d := newDirs(t)
	path := writeFile(t, filepath.Join(d.rsc, "svc"), fakeScript, 0o755)
	a := mustNew(t, scriptRes("svc"), d.env(nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path + ".args"); err == nil {
		t.Error("script ran with a cancelled context")
	}
}

// A daemon that keeps the output pipe open must not hold the operation up,
// and its later output is still logged.
func TestChildHoldingOutput(t *testing.T) {
	d := newDirs(t)
	path := writeFile(t, filepath.Join(d.init, "daemon"), `#!/bin/sh
(sleep 0.5; echo "late line"; exec sleep 30) &
echo $! > "$0.child"
echo started
exit 0
`, 0o755)
	log := &recorder{}
	a := mustNew(t, scriptRes("daemon"), d.env(log))
	began := time.Now()
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	child := readPid(t, path+".child")
	killLater(t, child)
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Errorf("Start took %v", elapsed)
	}
	if !alive(child) {
		t.Error("a successful start killed the daemon it started")
	}
	deadline := time.Now().Add(3 * time.Second)
	for !log.has("start: late line") {
		if time.Now().After(deadline) {
			t.Fatalf("late output not logged: %q", log.all())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !log.has("start: output still held open by a child process") {
		t.Error("detaching from the output was not logged")
	}
}

func TestKilledBySignal(t *testing.T) {
	d := newDirs(t)
	writeFile(t, filepath.Join(d.init, "svc"), "#!/bin/sh\necho dying\nkill -SEGV $$\n", 0o755)
	a := mustNew(t, scriptRes("svc"), d.env(nil))
	err := a.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "killed by signal SIGSEGV") || errors.Is(err, agent.ErrTimeout) {
		t.Errorf("Start = %v, want killed by SIGSEGV", err)
	}
	if _, err := a.Status(context.Background()); err == nil {
		t.Error("LSB status killed by a signal is not an error")
	}
}

// envScript writes its environment, one variable a line, to "$0.env".
const envScript = "#!/bin/sh\nenv > \"$0.env\"\nexit 0\n"

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

func TestOCFEnvironment(t *testing.T) {
	t.Setenv("HASUITE_DAEMON_ONLY", "leak")
	d := newDirs(t)
	path := writeFile(t, filepath.Join(d.ocf, "resource.d/acme/Envy"), envScript, 0o755)
	paramFile := writeFile(t, filepath.Join(d.ocf, "conf/Envy/inst1"), `# instance file
OCF_RESKEY_fromfile="file value"
bare='x y'
OCF_CHECK_LEVEL=10
shared=file
`, 0o644)
	res := haresources.Resource{Raw: "OCF::Envy::inst1", Kind: haresources.KindOCF, Type: "Envy", Timeout: 7 * time.Second,
		OCF: &haresources.OCFSpec{Provider: "acme", Agent: "Envy", Instance: "inst1", ParamFile: paramFile,
			Params: map[string]string{"ip": "10.0.0.1", "weird": `a "b" $c 'd' ;e`, "shared": "params"}}}
	env := d.env(nil)
	env.ExtraEnv = []string{"HA_CURHOST=alpha", "PATH=/custom/bin:/usr/bin:/bin"}
	a := mustNew(t, res, env)
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readEnv(t, path+".env")
	want := map[string]string{
		"OCF_ROOT":                    d.ocf,
		"OCF_FUNCTIONS_DIR":           filepath.Join(d.ocf, "lib/heartbeat"),
		"OCF_RESOURCE_INSTANCE":       "inst1",
		"OCF_RESOURCE_TYPE":           "Envy",
		"OCF_RESOURCE_PROVIDER":       "acme",
		"OCF_RA_VERSION_MAJOR":        "1",
		"OCF_RA_VERSION_MINOR":        "0",
		"OCF_RESKEY_ip":               "10.0.0.1",
		"OCF_RESKEY_weird":            `a "b" $c 'd' ;e`,
		"OCF_RESKEY_fromfile":         "file value",
		"OCF_RESKEY_bare":             "x y",
		"OCF_CHECK_LEVEL":             "10",
		"OCF_RESKEY_shared":           "params",
		"OCF_RESKEY_CRM_meta_timeout": "7000",
		"HA_RSCTMP":                   d.rsctmp,
		"HA_CURHOST":                  "alpha",
		"PATH":                        "/custom/bin:/usr/bin:/bin",
		"LC_ALL":                      "C",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["HASUITE_DAEMON_ONLY"]; ok {
		t.Error("the daemon's own environment leaked to the agent")
	}
	if fi, err := os.Stat(d.rsctmp); err != nil || !fi.IsDir() {
		t.Errorf("HA_RSCTMP not created: %v", err)
	}
}

func TestScriptEnvironment(t *testing.T) {
	t.Setenv("HASUITE_DAEMON_ONLY", "leak")
	d := newDirs(t)
	path := writeFile(t, filepath.Join(d.rsc, "envy"), envScript, 0o755)
	env := d.env(nil)
	env.ExtraEnv = []string{"HA_D=/etc/ha.d", "HA_LOGFACILITY=daemon"}
	a := mustNew(t, scriptRes("envy"), env)
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readEnv(t, path+".env")
	for k, v := range map[string]string{"HA_D": "/etc/ha.d", "HA_LOGFACILITY": "daemon", "PATH": DefaultPath, "LC_ALL": "C"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "OCF_") || k == "HASUITE_DAEMON_ONLY" {
			t.Errorf("unexpected variable %s in a script's environment", k)
		}
	}
}

func TestStdinIsDevNull(t *testing.T) {
	d := newDirs(t)
	// A script reading stdin must see end of file at once, not hang.
	writeFile(t, filepath.Join(d.rsc, "reader"), "#!/bin/sh\ncat\nreadlink /proc/self/fd/0 >&2\n", 0o755)
	log := &recorder{}
	a := mustNew(t, scriptRes("reader"), d.env(log))
	a.timeout = 5 * time.Second
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !log.has("start: stderr: /dev/null") {
		t.Errorf("stdin is not /dev/null: %q", log.all())
	}
}
