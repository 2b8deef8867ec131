package script

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
)

// fakeScript answers from files next to it: "$0.out" on stdout, "$0.err" on
// stderr, exit code from "$0.rc"; it records its arguments in "$0.args".
const fakeScript = `#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done > "$0.args"
[ -f "$0.out" ] && cat "$0.out"
[ -f "$0.err" ] && cat "$0.err" >&2
exit "$(cat "$0.rc" 2>/dev/null || echo 0)"
`

// writeFile writes content at path with mode, creating directories.
func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// answer sets what a fakeScript at path prints and returns.
func answer(t *testing.T, path, stdout, stderr string, rc int) {
	t.Helper()
	writeFile(t, path+".out", stdout, 0o644)
	writeFile(t, path+".err", stderr, 0o644)
	writeFile(t, path+".rc", strconv.Itoa(rc), 0o644)
}

// recorder is a Logger keeping every line.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) log(resource, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, resource+"| "+line)
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func (r *recorder) has(sub string) bool {
	for _, l := range r.all() {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// testDirs is a resource.d, an init.d and an OCF root under one temp dir.
type testDirs struct {
	rsc, init, ocf, rsctmp string
}

func newDirs(t *testing.T) testDirs {
	t.Helper()
	base := t.TempDir()
	d := testDirs{
		rsc:    filepath.Join(base, "resource.d"),
		init:   filepath.Join(base, "init.d"),
		ocf:    filepath.Join(base, "ocf"),
		rsctmp: filepath.Join(base, "rsctmp"),
	}
	for _, dir := range []string{d.rsc, d.init, d.ocf} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d testDirs) env(log *recorder) Env {
	e := Env{ResourceDirs: []string{d.rsc}, InitDir: d.init, OCFRoot: d.ocf, RscTmp: d.rsctmp, Timeout: 10 * time.Second}
	if log != nil {
		e.Log = log.log
	}
	return e
}

func scriptRes(name string, args ...string) haresources.Resource {
	return haresources.Resource{Raw: strings.Join(append([]string{name}, args...), "::"), Kind: haresources.KindScript, Type: name, Args: args}
}

func ocfRes(provider, agentName, instance string, params map[string]string) haresources.Resource {
	return haresources.Resource{Kind: haresources.KindOCF, Type: agentName,
		OCF: &haresources.OCFSpec{Provider: provider, Agent: agentName, Instance: instance, Params: params}}
}

// mustNew builds an agent with short internal waits.
func mustNew(t *testing.T, res haresources.Resource, env Env) *scriptAgent {
	t.Helper()
	ag, err := New(res, env)
	if err != nil {
		t.Fatalf("New(%s): %v", res.Raw, err)
	}
	a := ag.(*scriptAgent)
	a.killGrace = 300 * time.Millisecond
	a.reapWait = 2 * time.Second
	a.drainWait = 200 * time.Millisecond
	return a
}

// readPid reads a pid a test script wrote, waiting for it to appear.
func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a live process (zombies count as dead: in a
// container nobody may reap re-parented children).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// waitDead fails unless pid is gone within a short while.
func waitDead(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Errorf("%s (pid %d) still alive", what, pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killLater makes sure a test's stray process does not outlive it.
func killLater(t *testing.T, pid int) {
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil && alive(pid) {
			_ = p.Kill()
		}
	})
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}
