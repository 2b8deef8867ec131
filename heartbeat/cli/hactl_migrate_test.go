package cli

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
)

// fakeMigrator records the requests of hactl import and export.
type fakeMigrator struct {
	*fakeDaemon
	imp *ImportRequest
	exp *ExportRequest
}

func (m *fakeMigrator) ImportConfig(req ImportRequest, stdout, _ io.Writer) int {
	m.imp = &req
	io.WriteString(stdout, "imported\n")
	return HactlOK
}

func (m *fakeMigrator) ExportConfig(req ExportRequest, stdout, _ io.Writer) int {
	m.exp = &req
	io.WriteString(stdout, "<cib/>\n")
	return HactlOK
}

func TestHactlImportExport(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		imp    *ImportRequest
		exp    *ExportRequest
		errHas string
		code   int
	}{
		{name: "import one file", args: []string{"import", "keepalived", "/etc/keepalived/keepalived.conf"},
			imp: &ImportRequest{Format: "keepalived", Files: []string{"/etc/keepalived/keepalived.conf"}, OutDir: "."}},
		{name: "import options anywhere", args: []string{"import", "keepalived", "-o", "out", "a.conf", "--node", "n1", "b.conf", "--force", "--node=n2"},
			imp: &ImportRequest{Format: "keepalived", Files: []string{"a.conf", "b.conf"}, Nodes: []string{"n1", "n2"}, OutDir: "out", Force: true}},
		{name: "import no format", args: []string{"import"}, errHas: "can import keepalived, not nothing", code: 2},
		{name: "import other format", args: []string{"import", "ucarp", "x"}, errHas: `can import keepalived, not "ucarp"`, code: 2},
		{name: "import no file", args: []string{"import", "keepalived"}, errHas: "give FILE, or FILE and PEER_FILE", code: 2},
		{name: "import three files", args: []string{"import", "keepalived", "a", "b", "c"}, errHas: "give FILE, or FILE and PEER_FILE", code: 2},
		{name: "import three nodes", args: []string{"import", "keepalived", "--node", "a", "--node", "b", "--node", "c", "f"}, errHas: "at most twice", code: 2},
		{name: "import bad flag", args: []string{"import", "keepalived", "--forse", "f"}, errHas: "flag provided but not defined: -forse", code: 2},
		{name: "export", args: []string{"export", "pacemaker"}, exp: &ExportRequest{Format: "pacemaker", ConfigDir: DefaultConfigDir}},
		{name: "export pcs", args: []string{"export", "--pcs", "pacemaker", "-c", "/x"}, exp: &ExportRequest{Format: "pacemaker", ConfigDir: "/x", PCS: true}},
		{name: "export no format", args: []string{"export"}, errHas: "give the format: pacemaker", code: 2},
		{name: "export other", args: []string{"export", "crm"}, errHas: "give the format: pacemaker", code: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeMigrator{fakeDaemon: newFake(t, twoNodes())}
			var out, errOut bytes.Buffer
			code := Hactl(context.Background(), tc.args, &out, &errOut, m)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !reflect.DeepEqual(m.imp, tc.imp) || !reflect.DeepEqual(m.exp, tc.exp) {
				t.Errorf("requests %+v %+v, want %+v %+v", m.imp, m.exp, tc.imp, tc.exp)
			}
			if tc.errHas != "" && !strings.Contains(errOut.String(), tc.errHas) {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.errHas)
			}
		})
	}
	// Without a Migrator the commands say so.
	f := newFake(t, twoNodes())
	if _, errOut, code := runHactl(t, f, "export", "pacemaker"); code != HactlFail || !strings.Contains(errOut, "not available in this build") {
		t.Errorf("no migrator: %d %q", code, errOut)
	}
}
