// Package pkg tests the Debian package end to end: make deb in a clean
// copy of the sources, dpkg --root into a throw-away root (never the
// machine's own /usr), the installed binaries, lintian, man -l, purge.
package pkg

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// repoRoot is the top of the source tree (this package is test/pkg).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs a command with env added to the test's environment (minus
// VERSION, which make test exports) and returns its stdout; a failure ends
// the test with both streams.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "VERSION=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// cleanCopy copies what a clone of the working tree holds (tracked files
// and new ones not ignored: no bin/, no build/) into a new directory, and
// commits it there, so that make deb runs as on a fresh clone, with a git
// history for its version.
func cleanCopy(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	list := run(t, src, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, rel := range strings.Split(strings.TrimRight(list, "\x00"), "\x00") {
		from := filepath.Join(src, rel)
		st, err := os.Lstat(from)
		if err != nil {
			continue // deleted in the working tree
		}
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.org", "GIT_AUTHOR_DATE=2026-12-07T12:00:00Z", "GIT_COMMITTER_DATE=2026-12-07T12:00:00Z"}
	run(t, dst, env, "git", "init", "-q")
	run(t, dst, env, "git", "add", "-A")
	run(t, dst, env, "git", "commit", "-q", "-m", "clean copy")
	return dst
}

// dpkgRoot makes a throw-away root with an empty dpkg database.
func dpkgRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "run", "var/log", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// dpkg runs dpkg on root. The maintainer scripts run on the host with
// DPKG_ROOT set (--force-script-chrootless; the root has no shell), where
// they only make and remove files under DPKG_ROOT.
func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	return run(t, "", nil, "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--log=/dev/null"}, args...)...)
}

// tree lists every path under root but dpkg's database, with its mode.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "var/lib/dpkg" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		paths = append(paths, rel+" "+info.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return paths
}

// stand-in for Debian's heartbeat package: files at the paths the real
// one has, and conffiles in /etc.
func fakeHeartbeat(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"usr/bin/cl_status":                    "#!/bin/sh\necho old cl_status\n",
		"usr/lib/heartbeat/heartbeat":          "#!/bin/sh\necho old heartbeat\n",
		"etc/init.d/heartbeat":                 "#!/bin/sh\necho old init script\n",
		"etc/ha.d/harc":                        "#!/bin/sh\n",
		"lib/systemd/system/heartbeat.service": "[Service]\nExecStart=/usr/lib/heartbeat/heartbeat -f\n",
		"DEBIAN/control": "Package: heartbeat\nVersion: 1:3.0.6-13\nArchitecture: all\n" +
			"Maintainer: t <t@example.org>\nDescription: stand-in for Debian's heartbeat\n",
		"DEBIAN/conffiles": "/etc/init.d/heartbeat\n/etc/ha.d/harc\n",
	}
	for rel, content := range files {
		p := filepath.Join(dir, "root", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(dir, "heartbeat.deb")
	run(t, "", nil, "dpkg-deb", "--root-owner-group", "--build", filepath.Join(dir, "root"), deb)
	return deb
}

var debName = regexp.MustCompile(`^hasuite_([0-9][0-9A-Za-z.+~]*)_([a-z0-9]+)\.deb$`)

func TestDebianPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		testbed.Unavailable(t, "the package test installs into a throw-away root with dpkg --root: needs root")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "go-md2man", "lintian", "man", "git", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			testbed.Unavailable(t, "%s not found (scripts/install-test-deps.sh installs it)", tool)
		}
	}
	start := time.Now()

	// make deb on a clean copy of the sources.
	src := cleanCopy(t, repoRoot(t))
	// gzip, not xz: the same package, built in a quarter of the time.
	last := strings.TrimSpace(run(t, src, []string{"DEB_COMPRESS=gzip"}, "make", "--no-print-directory", "deb"))
	last = last[strings.LastIndexByte(last, '\n')+1:]
	deb := filepath.Join(src, last)
	m := debName.FindStringSubmatch(filepath.Base(deb))
	if m == nil {
		t.Fatalf("make deb made %q, want build/hasuite_<version>_<arch>.deb", last)
	}
	version := m[1]
	if want := strings.TrimSpace(run(t, src, nil, "sh", "scripts/version.sh")); version != want {
		t.Errorf("package version %q, scripts/version.sh says %q", version, want)
	}
	if !regexp.MustCompile(`^0\.1\.0~git20261207\.[0-9a-f]{7}$`).MatchString(version) {
		t.Errorf("version %q of a tree without tags, committed 2026-12-07: want 0.1.0~git20261207.<hash>", version)
	}
	if v := strings.TrimSpace(run(t, "", nil, "dpkg-deb", "-f", deb, "Version")); v != version {
		t.Errorf("control Version %q, file name says %q", v, version)
	}
	for _, f := range []string{"Conflicts", "Replaces", "Provides"} {
		if v := strings.TrimSpace(run(t, "", nil, "dpkg-deb", "-f", deb, f)); v != "heartbeat" {
			t.Errorf("%s: %q, want heartbeat", f, v)
		}
	}
	t.Logf("make deb: %s in %v", filepath.Base(deb), time.Since(start).Round(time.Second))
	lintStart := time.Now()

	// Nothing in /etc/ha.d: the package never overwrites the user's
	// configuration.
	contents := run(t, "", nil, "dpkg-deb", "-c", deb)
	if strings.Contains(contents, "./etc/ha.d") {
		t.Errorf("the package ships files under /etc/ha.d:\n%s", contents)
	}

	// lintian: no errors.
	lt, lerr, err := runErr("", nil, "lintian", "--tag-display-limit", "0", "-I", deb)
	t.Logf("lintian (%v):\n%s%s", time.Since(lintStart).Round(time.Second), lt, lerr)
	if err != nil && !strings.Contains(lt, "E: ") {
		t.Errorf("lintian failed: %v", err)
	}
	for _, l := range strings.Split(lt, "\n") {
		if strings.HasPrefix(l, "E: ") {
			t.Errorf("lintian error: %s", l)
		}
	}

	// A root where Debian's heartbeat (a stand-in with its paths and
	// conffiles) is installed and configured by the user.
	root := dpkgRoot(t)
	if err := os.MkdirAll(filepath.Join(root, "etc/ha.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	samples := filepath.Join(repoRoot(t), "etc")
	userConf := map[string][]byte{}
	for _, f := range []string{"ha.cf", "haresources", "authkeys"} {
		b, err := os.ReadFile(filepath.Join(samples, f+".sample"))
		if err != nil {
			t.Fatal(err)
		}
		userConf[f] = append([]byte("# the user's\n"), b...)
		if err := os.WriteFile(filepath.Join(root, "etc/ha.d", f), userConf[f], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := tree(t, root)
	dpkg(t, root, "-i", fakeHeartbeat(t))

	out := dpkg(t, root, "-i", deb)
	if !strings.Contains(out, "Removing heartbeat") {
		t.Errorf("installing did not remove the old heartbeat package:\n%s", out)
	}
	status := run(t, "", nil, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Package} ${Status}\n")
	if !strings.Contains(status, "hasuite install ok installed") || strings.Contains(status, "heartbeat install ok installed") {
		t.Errorf("package states after the install:\n%s", status)
	}
	for f, want := range userConf {
		if got, err := os.ReadFile(filepath.Join(root, "etc/ha.d", f)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("/etc/ha.d/%s changed by the install (err %v)", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/heartbeat/heartbeat")); err == nil {
		t.Error("the old package's /usr/lib/heartbeat/heartbeat is still there")
	}
	for p, mode := range map[string]fs.FileMode{
		"usr/sbin/heartbeat": 0o755, "usr/bin/cl_status": 0o755, "usr/bin/hactl": 0o755,
		"usr/bin/hb_standby": 0o755, "usr/bin/hb_takeover": 0o755, "etc/init.d/heartbeat": 0o755,
		"lib/systemd/system/heartbeat.service":        0o644,
		"usr/share/doc/hasuite/examples/ha.cf.sample": 0o644,
		"usr/share/man/man8/heartbeat.8.gz":           0o644,
		"usr/share/man/man5/ha.cf.5.gz":               0o644,
		"var/lib/heartbeat":                           fs.ModeDir | 0o700,
		"run/heartbeat":                               fs.ModeDir | 0o755,
	} {
		st, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Errorf("installed: %v", err)
		} else if st.Mode() != mode {
			t.Errorf("/%s: mode %v, want %v", p, st.Mode(), mode)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "usr/bin/cl_status")); !bytes.HasPrefix(b, []byte("\x7fELF")) {
		t.Error("/usr/bin/cl_status is not ours")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "lib/systemd/system/heartbeat.service")); !bytes.Contains(b, []byte("\nExecStart=/usr/sbin/heartbeat -f\n")) {
		t.Error("the unit does not run /usr/sbin/heartbeat")
	}

	// The installed binary: its version, and the installed samples as a
	// configuration.
	hb := filepath.Join(root, "usr/sbin/heartbeat")
	if got, want := strings.TrimSpace(run(t, "", nil, hb, "-V")), "3.0.6 (hasuite "+version+")"; got != want {
		t.Errorf("heartbeat -V: %q, want %q", got, want)
	}
	conf := filepath.Join(t.TempDir(), "ha.d")
	if err := os.MkdirAll(filepath.Join(conf, "resource.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ha.cf", "haresources", "authkeys"} {
		b, err := os.ReadFile(filepath.Join(root, "usr/share/doc/hasuite/examples", f+".sample"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(conf, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The sample's group runs "httpd", which this root has no script for.
	if err := os.WriteFile(filepath.Join(conf, "resource.d/httpd"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runErr("", nil, hb, "-t", "-c", conf, "-n", "node1")
	if err != nil || !strings.Contains(stderr, "configuration OK") || !strings.Contains(stdout, "# haresources: 1 group(s)") {
		t.Errorf("heartbeat -t on the installed samples: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}

	// Every installed man page renders without a warning.
	pages, _ := filepath.Glob(filepath.Join(root, "usr/share/man/man*/*.gz"))
	if len(pages) != 9 {
		t.Errorf("%d man pages installed, want 9: %v", len(pages), pages)
	}
	for _, p := range pages {
		stdout, stderr, err := runErr("", []string{"MANWIDTH=80", "MAN_KEEP_FORMATTING=", "LC_ALL=C.UTF-8"}, "man", "--warnings", "-l", p)
		if err != nil || stderr != "" || !strings.Contains(stdout, "NAME") || !strings.Contains(stdout, "SEE ALSO") {
			t.Errorf("man -l %s: %v\nstderr:\n%s\nstdout begins:\n%.300s", filepath.Base(p), err, stderr, stdout)
		}
	}

	// What the daemon would have left (it is not run here: the root has no
	// network of its own), then purge: nothing of the package remains,
	// the user's /etc/ha.d is kept.
	for _, f := range []string{"var/lib/heartbeat/hb_generation", "var/lib/heartbeat/hb_uuid", "var/lib/heartbeat/peer_marks.json",
		"run/heartbeat/heartbeat.pid", "var/log/ha-console.log"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dpkg(t, root, "-P", "hasuite", "heartbeat")
	after := tree(t, root)
	if strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("after dpkg -P the root differs from before the install:\nbefore:\n%s\nafter:\n%s",
			strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if status := run(t, "", nil, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Package} ${Status}\n"); strings.TrimSpace(status) != "" {
		t.Errorf("dpkg still knows after the purge:\n%s", status)
	}
	t.Logf("package test: %v", time.Since(start).Round(time.Second))
}
