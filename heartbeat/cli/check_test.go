package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// checkingDaemon is a fake daemon that also checks configurations, as
// hactl's main wires heartbeat/check in.
type checkingDaemon struct {
	*fakeDaemon
	got  []CheckRequest
	code int
}

func (c *checkingDaemon) CheckConfig(req CheckRequest, stdout, stderr io.Writer) int {
	c.got = append(c.got, req)
	fmt.Fprintf(stdout, "checked %s\n", req.ConfigDir)
	fmt.Fprintln(stderr, "warning: ha.cf:3: something")
	return c.code
}

func TestHactlCheck(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int // the checker's answer
		want      CheckRequest
		wantCode  int
		out, err  string
		noRequest bool
	}{
		{name: "defaults", args: []string{"check"}, want: CheckRequest{ConfigDir: "/etc/ha.d"},
			out: "checked /etc/ha.d\n", err: "warning: ha.cf:3: something\n"},
		{name: "every option", args: []string{"check", "-c", "/srv/ha.d", "-n", "node1", "-d", "-d", "--json"},
			want: CheckRequest{ConfigDir: "/srv/ha.d", NodeName: "node1", Debug: 2, JSON: true},
			out:  "checked /srv/ha.d\n", err: "warning: ha.cf:3: something\n"},
		{name: "errors exit 6", args: []string{"check", "-c", "/x"}, code: HactlConfig, want: CheckRequest{ConfigDir: "/x"},
			wantCode: 6, out: "checked /x\n", err: "warning: ha.cf:3: something\n"},
		{name: "operand", args: []string{"check", "/etc/ha.d"}, wantCode: 2, noRequest: true,
			err: "hactl check: unexpected argument \"/etc/ha.d\"\nRun 'hactl help' for usage.\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &checkingDaemon{fakeDaemon: newFake(t, twoNodes()), code: tc.code}
			var out, errw bytes.Buffer
			code := Hactl(context.Background(), tc.args, &out, &errw, d)
			if code != tc.wantCode || out.String() != tc.out || errw.String() != tc.err {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), errw.String(), tc.wantCode, tc.out, tc.err)
			}
			switch {
			case tc.noRequest && len(d.got) != 0:
				t.Errorf("checked %+v, want no check", d.got)
			case !tc.noRequest && (len(d.got) != 1 || d.got[0] != tc.want):
				t.Errorf("checked %+v, want %+v", d.got, tc.want)
			}
		})
	}

	// A Daemon without the checker (cl_status's kind) says so.
	_, errOut, code := runHactl(t, newFake(t, twoNodes()), "check")
	if code != HactlFail || !strings.Contains(errOut, "check is not available") {
		t.Errorf("without a checker: exit %d, stderr %q", code, errOut)
	}
	// help check lists the options.
	out, _, code := runHactl(t, newFake(t, twoNodes()), "help", "check")
	if code != 0 || !strings.Contains(out, "Usage: hactl check [--json]") || !strings.Contains(out, "-c DIR") {
		t.Errorf("help check: exit %d:\n%s", code, out)
	}
}
