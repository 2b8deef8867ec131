package script

import (
	"fmt"
	"sort"
	"strings"
)

// baseEnv is the environment every child starts from: a fixed PATH and the
// C locale (status words are matched in English), then extra.
func baseEnv(extra []string) ([]string, error) {
	env := []string{"PATH=" + DefaultPath, "LC_ALL=C", "LANG=C"}
	for _, kv := range extra {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !validName(name) {
			return nil, fmt.Errorf("extra environment entry %q is not NAME=value", kv)
		}
		if strings.IndexByte(value, 0) >= 0 {
			return nil, fmt.Errorf("extra environment variable %s contains a NUL byte", name)
		}
		env = setEnv(env, name, value)
	}
	return env, nil
}

// setEnv sets name=value in env, replacing an earlier value in place.
func setEnv(env []string, name, value string) []string {
	prefix := name + "="
	for i, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			out := append([]string(nil), env...)
			out[i] = prefix + value
			return out
		}
	}
	return append(env[:len(env):len(env)], prefix+value)
}

// validName reports whether s is a shell variable name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
