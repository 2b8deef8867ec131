package cli

import (
	"fmt"
	"io"
	"strconv"
)

// HactlConfig is the exit code of hactl check for a configuration with
// errors: 6, as heartbeat -t (LSB's "not configured").
const HactlConfig = 6

// DefaultConfigDir is where hactl check looks without -c: config.DefaultDir,
// written here because this package does not link the configuration
// loader (cl_status uses it too).
const DefaultConfigDir = "/etc/ha.d"

// CheckRequest is one configuration check: hactl check or heartbeat -t.
type CheckRequest struct {
	ConfigDir string // the configuration directory
	NodeName  string // "" = nodeinfo, else lower-cased uname -n
	Debug     int    // at 1 or more the text output also lists the firewall openings
	JSON      bool   // print one JSON document instead of text
}

// ConfigChecker checks a configuration directory as the daemon would load
// it, writes the result to stdout (warnings and errors to stderr in text
// mode) and returns the exit code: 0 (also with warnings) or 6 for
// errors. The check runs here, not in the daemon; heartbeat/check
// implements it, and hactl's main passes a Daemon that has it too, so that
// hactl's other commands (and cl_status) do not carry the loader.
type ConfigChecker interface {
	CheckConfig(req CheckRequest, stdout, stderr io.Writer) int
}

// counterFlag is a flag that counts its occurrences (-d -d).
type counterFlag int

func (c *counterFlag) String() string   { return strconv.Itoa(int(*c)) }
func (c *counterFlag) Set(string) error { *c++; return nil }
func (c *counterFlag) IsBoolFlag() bool { return true }

// hactlCheckCommand is the command table entry of hactl check (a function,
// as the table is).
func hactlCheckCommand() hactlCommand {
	return hactlCommand{"check", "[--json]",
		"check the configuration as heartbeat -t does",
		`  -c DIR   the configuration directory (default ` + DefaultConfigDir + `)
  -n NAME  the local node name (default: DIR/nodeinfo, else lower-cased uname -n)
  -d       also list what a firewall must let through (repeatable, as heartbeat -d)
  --json   print the effective configuration, groups, firewall openings,
           warnings and errors (each with file and line) as one JSON document
  Prints the effective configuration, or every error with file:line; warnings go
  to stderr. Exit status 0 (also with warnings), 6 for errors, 2 usage error.
`, hactlCheck}
}

func hactlCheck(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl check")
	dir := fs.String("c", DefaultConfigDir, "configuration directory")
	node := fs.String("n", "", "local node name")
	var debug counterFlag
	fs.Var(&debug, "d", "also list the firewall openings")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if code, ok := r.parse(fs, args, "check"); !ok {
		return code
	}
	if !r.noArgs(fs) {
		return HactlUsage
	}
	ck, ok := r.h.Daemon.(ConfigChecker)
	if !ok {
		fmt.Fprintln(r.h.Stderr, "hactl: check is not available in this build")
		return HactlFail
	}
	return ck.CheckConfig(CheckRequest{ConfigDir: *dir, NodeName: *node, Debug: int(debug), JSON: *jsonOut}, r.h.Stdout, r.h.Stderr)
}
