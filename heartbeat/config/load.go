package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Load reads the configuration in o.Dir: ha.toml if present, else ha.cf,
// plus authkeys unless ha.toml has an [auth] table. It resolves the local
// node and the default UDP port, and checks everything. The error, if any,
// is an ErrorList holding every problem found in all the files, each with
// file and line.
func Load(o Options) (*Config, error) {
	dir := o.Dir
	if dir == "" {
		dir = DefaultDir
	}
	cfPath, tomlPath := filepath.Join(dir, "ha.cf"), filepath.Join(dir, "ha.toml")
	haveCF, haveTOML := exists(cfPath), exists(tomlPath)
	switch {
	case haveCF && haveTOML:
		return nil, ErrorList{{Pos: Pos{File: dir}, Msg: "both ha.cf and ha.toml exist: ha.toml replaces ha.cf, so remove ha.cf (or remove ha.toml to keep using ha.cf)"}}
	case !haveCF && !haveTOML:
		return nil, ErrorList{{Pos: Pos{File: dir}, Msg: "no ha.cf or ha.toml found"}}
	}
	e := env{defaultPort: servicesPort(o.ServicesFile)}
	e.localNode, e.localFrom = localNode(o.NodeName, dir)

	var b *builder
	var hasAuth bool
	var err error
	if haveTOML {
		b, hasAuth, err = loadTOML(tomlPath)
	} else {
		b, err = loadHACF(cfPath)
	}
	if err != nil {
		return nil, err
	}
	b.c.Dir = dir
	keysPath := filepath.Join(dir, "authkeys")
	if hasAuth {
		if exists(keysPath) {
			b.warnf(Pos{File: keysPath}, "ignored: ha.toml has an [auth] table")
		}
	} else {
		kr, warnings, err := LoadAuthkeys(keysPath)
		var el ErrorList
		if errors.As(err, &el) {
			b.errs = append(b.errs, el...)
		}
		b.c.Keys = kr
		b.c.Warnings = append(b.c.Warnings, warnings...)
	}
	return b.finish(e)
}

func loadHACF(path string) (*builder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read: %v", cause(err))}}
	}
	defer f.Close()
	b := newBuilder(path)
	b.c.Source = path
	readHACF(b, f)
	return b, nil
}

// loadTOML reads ha.toml; when it holds keys it must be as private as
// authkeys.
func loadTOML(path string) (*builder, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read: %v", cause(err))}}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("stat: %v", err)}}
	}
	b, hasAuth, err := buildTOML(f, path)
	if err != nil {
		return nil, false, err
	}
	if hasAuth {
		if perm := fi.Mode().Perm(); perm&0o044 != 0 {
			b.errorf(Pos{File: path}, "bad permissions %04o: the file holds keys ([auth]) that group or others can read; run chmod 600 %s or move the keys to authkeys", perm, path)
		}
	}
	return b, hasAuth, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cause strips the path from a *fs.PathError, which messages name anyway.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// localNode finds the local node name as Heartbeat does: the first line of
// <dir>/nodeinfo if present, else uname -n; lower case. from says which.
func localNode(given, dir string) (name, from string) {
	if given != "" {
		return asciiLower(given), "the given node name"
	}
	path := filepath.Join(dir, "nodeinfo")
	if data, err := os.ReadFile(path); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		if n := strings.TrimSpace(line); n != "" {
			return asciiLower(n), "from " + path
		}
	}
	host, err := os.Hostname()
	if err != nil {
		return "", ""
	}
	return asciiLower(host), "uname -n"
}

// servicesPort returns the ha-cluster/udp port from a services(5) file,
// else 694, as Heartbeat's getservbyname lookup does.
func servicesPort(path string) int {
	if path == "" {
		path = "/etc/services"
	}
	f, err := os.Open(path)
	if err != nil {
		return DefaultUDPPort
	}
	defer f.Close()
	if p, ok := lookupService(f, "ha-cluster", "udp"); ok {
		return p
	}
	return DefaultUDPPort
}

// lookupService finds name (or an alias) with proto in services(5) text.
func lookupService(r io.Reader, name, proto string) (int, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		port, pr, ok := strings.Cut(f[1], "/")
		if !ok || pr != proto || (f[0] != name && !slices.Contains(f[2:], name)) {
			continue
		}
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
			return n, true
		}
	}
	return 0, false
}
