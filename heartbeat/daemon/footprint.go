package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseStartupMemory gives back what only starting up needed, once,
// before the loop starts (and before realtime locks memory, so that only
// pages in use are locked):
//
//   - the garbage of parsing the configuration and setting up, collected
//     and returned to the system (debug.FreeOSMemory);
//   - this process's mappings of the executable's read-only pages: start-up
//     code (flag and configuration parsing, TOML, logger set-up) touched
//     megabytes of text and tables the loop never runs again. MADV_DONTNEED
//     on a read-only private file mapping only drops our page-table
//     entries: the pages stay in the page cache, and those the loop needs
//     come back on first use as minor faults. Writable mappings (the
//     binary's data) are never touched: DONTNEED would reset them.
//
// On an idle node at keepalive 10ms this takes the resident set from about
// 12 MiB to well under 10 (docs/benchmarks.md).
func releaseStartupMemory() error {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("find the executable: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	var errs []error
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, ok := readOnlyMappingOf(sc.Text(), exe)
		if !ok {
			continue
		}
		// The raw call takes the address as a number: the range is a
		// mapping of the executable, not Go memory.
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED); e != 0 {
			errs = append(errs, fmt.Errorf("madvise %x-%x: %w", start, end, e))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// readOnlyMappingOf parses one /proc/self/maps line and reports the range
// of a private, non-writable mapping of file path.
func readOnlyMappingOf(line, path string) (start, end uintptr, ok bool) {
	// address perms offset dev inode path; the path may hold spaces and
	// ends in " (deleted)" once the binary was replaced (so does the
	// /proc/self/exe link then: they still match).
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return 0, 0, false
	}
	rest := line
	for i := 0; i < 5; i++ {
		rest = strings.TrimLeft(rest, " ")
		rest = rest[strings.IndexByte(rest, ' ')+1:]
	}
	if strings.TrimSpace(rest) != path {
		return 0, 0, false
	}
	perms := fields[1]
	if len(perms) != 4 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p' {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(fields[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
