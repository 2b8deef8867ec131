package migrate

import (
	"fmt"
	"io"

	"github.com/hasuite/hasuite/heartbeat/cli"
)

// Migrator implements cli.Migrator: hactl import and hactl export.
type Migrator struct{}

var _ cli.Migrator = Migrator{}

// ImportConfig implements cli.Migrator.
func (Migrator) ImportConfig(req cli.ImportRequest, stdout, stderr io.Writer) int {
	if req.Format != "keepalived" {
		fmt.Fprintf(stderr, "hactl import: unknown format %q\n", req.Format)
		return cli.HactlUsage
	}
	im, err := ImportKeepalived(ImportOptions{Files: req.Files, Nodes: req.Nodes})
	if err != nil {
		fmt.Fprintf(stderr, "hactl import keepalived: %v\n", err)
		return cli.HactlFail
	}
	written, warns, err := im.Write(req.OutDir, req.Force)
	if err != nil {
		fmt.Fprintf(stderr, "hactl import keepalived: %v\n", err)
		return cli.HactlFail
	}
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	im.Report(stdout)
	for _, w := range warns {
		fmt.Fprintf(stderr, "hactl import keepalived: warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "next: check with heartbeat -t -c %s -n NODE for each node, then copy the three files to /etc/ha.d on both nodes\n", req.OutDir)
	return cli.HactlOK
}

// ExportConfig implements cli.Migrator.
func (Migrator) ExportConfig(req cli.ExportRequest, stdout, stderr io.Writer) int {
	if req.Format != "pacemaker" {
		fmt.Fprintf(stderr, "hactl export: unknown format %q\n", req.Format)
		return cli.HactlUsage
	}
	cfg, groups, err := LoadForExport(req.ConfigDir)
	if err != nil {
		fmt.Fprintf(stderr, "hactl export pacemaker: %v\n", err)
		return cli.HactlFail
	}
	ex, err := ExportPacemaker(cfg, groups)
	if err != nil {
		fmt.Fprintf(stderr, "hactl export pacemaker: %v\n", err)
		return cli.HactlFail
	}
	for _, w := range ex.Warnings {
		fmt.Fprintf(stderr, "hactl export pacemaker: warning: %s\n", w)
	}
	if req.PCS {
		ex.WritePCS(stdout)
	} else if _, err := stdout.Write(ex.CIB); err != nil {
		return cli.HactlFail
	}
	return cli.HactlOK
}
