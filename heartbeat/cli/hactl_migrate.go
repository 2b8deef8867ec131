package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// ImportRequest is one hactl import: another product's configuration
// files to ha.cf, haresources.toml and authkeys in OutDir.
type ImportRequest struct {
	Format string   // "keepalived"
	Files  []string // this node's file, optionally the peer's
	Nodes  []string // --node names, in the order of Files ("" = derive)
	OutDir string   // where to write
	Force  bool     // overwrite existing files
}

// ExportRequest is one hactl export: the configuration in ConfigDir as
// another product's.
type ExportRequest struct {
	Format    string // "pacemaker"
	ConfigDir string
	PCS       bool // also print the pcs commands
}

// Migrator imports and exports configurations (heartbeat/migrate
// implements it; hactl's main passes it in the Daemon, as ConfigChecker, so
// that this package does not link the configuration loader). Each method
// writes its results to stdout, problems to stderr, and returns the exit
// code.
type Migrator interface {
	ImportConfig(req ImportRequest, stdout, stderr io.Writer) int
	ExportConfig(req ExportRequest, stdout, stderr io.Writer) int
}

// stringsFlag is a repeatable string option.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// parseMixed parses options before, between and after operands.
func (r *hactlRun) parseMixed(fs *flag.FlagSet, args []string, command string) (operands []string, code int, ok bool) {
	for {
		if code, ok := r.parse(fs, args, command); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return operands, 0, true
		}
		operands = append(operands, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (r *hactlRun) migrator() (Migrator, bool) {
	m, ok := r.h.Daemon.(Migrator)
	if !ok {
		fmt.Fprintln(r.h.Stderr, "hactl: import and export are not available in this build")
	}
	return m, ok
}

func hactlImportCommand() hactlCommand {
	return hactlCommand{"import", "keepalived [-o DIR] [--force] FILE [PEER_FILE]",
		"write ha.cf, haresources.toml and authkeys equivalent to keepalived.conf files",
		`  -o DIR       where to write (default: the current directory); created if needed
  --force      overwrite ha.cf, haresources.toml and authkeys in DIR (else nothing
               is written when one of them exists)
  --node NAME  the node name (its uname -n) of FILE, then of PEER_FILE; default:
               global_defs router_id. With FILE alone, the second --node names the peer
  Give both nodes' files to get both addresses and priorities. Prints the node names,
  what was mapped and what was not, each with file:line (see docs/migration.md);
  authkeys (mode 0600) gets a new random sha256 key, never printed.
  Exit status 0 written, 1 nothing written (unreadable file, no node name, existing
  files), 2 usage error.
`, hactlImport}
}

func hactlImport(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl import")
	out := fs.String("o", ".", "output directory")
	force := fs.Bool("force", false, "overwrite existing files")
	var nodes stringsFlag
	fs.Var(&nodes, "node", "node name of each file, in order")
	ops, code, ok := r.parseMixed(fs, args, "import")
	if !ok {
		return code
	}
	if len(ops) == 0 || ops[0] != "keepalived" {
		what := "nothing"
		if len(ops) > 0 {
			what = fmt.Sprintf("%q", ops[0])
		}
		fmt.Fprintf(r.h.Stderr, "hactl import: can import keepalived, not %s\nRun 'hactl help import' for usage.\n", what)
		return HactlUsage
	}
	if len(ops) < 2 || len(ops) > 3 {
		fmt.Fprintln(r.h.Stderr, "hactl import keepalived: give FILE, or FILE and PEER_FILE\nRun 'hactl help import' for usage.")
		return HactlUsage
	}
	if len(nodes) > 2 {
		fmt.Fprintln(r.h.Stderr, "hactl import keepalived: --node is given at most twice (this node, the peer)")
		return HactlUsage
	}
	m, ok := r.migrator()
	if !ok {
		return HactlFail
	}
	return m.ImportConfig(ImportRequest{Format: ops[0], Files: ops[1:], Nodes: nodes, OutDir: *out, Force: *force}, r.h.Stdout, r.h.Stderr)
}

func hactlExportCommand() hactlCommand {
	return hactlCommand{"export", "pacemaker [-c DIR] [--pcs]",
		"print a Pacemaker CIB (XML) for the haresources groups",
		`  -c DIR  the configuration directory (default ` + DefaultConfigDir + `)
  --pcs   print the equivalent pcs commands instead of the XML
  Groups become Pacemaker groups (ocf:heartbeat:IPaddr2/IPv6addr, lsb:, ocf:
  primitives) with a location preference for the preferred node,
  resource-stickiness from auto_failback, monitor operations for what this suite
  monitors (virtual IPs), and the STONITH devices as stonith: resources (their
  parameters, which often hold passwords, are left out). What is not carried over is
  listed on stderr with file:line. Check the result with crm_verify --xml-file.
  Exit status 0, 1 configuration not loadable, 2 usage error.
`, hactlExport}
}

func hactlExport(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl export")
	dir := fs.String("c", DefaultConfigDir, "configuration directory")
	pcs := fs.Bool("pcs", false, "print pcs commands")
	ops, code, ok := r.parseMixed(fs, args, "export")
	if !ok {
		return code
	}
	if len(ops) != 1 || ops[0] != "pacemaker" {
		fmt.Fprintln(r.h.Stderr, "hactl export: give the format: pacemaker\nRun 'hactl help export' for usage.")
		return HactlUsage
	}
	m, ok := r.migrator()
	if !ok {
		return HactlFail
	}
	return m.ExportConfig(ExportRequest{Format: ops[0], ConfigDir: *dir, PCS: *pcs}, r.h.Stdout, r.h.Stderr)
}
