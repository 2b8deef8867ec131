package config

import (
	"strings"
	"testing"
)

func TestMetricsDirectives(t *testing.T) {
	c, err := ParseHACF(strings.NewReader(base), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "" || !c.Metrics.Required {
		t.Fatalf("defaults: %+v", c.Metrics)
	}
	if !strings.Contains(c.Effective(), "# metrics_listen not set\nmetrics_required on  # default\n") {
		t.Fatalf("effective:\n%s", c.Effective())
	}
	c, err = ParseHACF(strings.NewReader(base+"metrics_listen 198.18.0.1:9101\nmetrics_required off\n"), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "198.18.0.1:9101" || c.Metrics.Required {
		t.Fatalf("got %+v", c.Metrics)
	}
	eff := c.Effective()
	if !strings.Contains(eff, "metrics_listen 198.18.0.1:9101\nmetrics_required off\n") {
		t.Fatalf("effective:\n%s", eff)
	}
	back, err := ParseHACF(strings.NewReader(eff), "effective")
	if err != nil || back.Metrics != c.Metrics {
		t.Fatalf("effective does not parse back: %v %+v", err, back)
	}
	if v, set := c.Parameter("metrics_listen"); !set || v != "198.18.0.1:9101" {
		t.Fatalf("parameter: %q %v", v, set)
	}
	for _, bad := range []string{"metrics_listen 9101\n", "metrics_listen localhost:9101\n", "metrics_listen :0\n",
		"metrics_listen 1.2.3.4:99999\n", "metrics_required maybe\n", "metrics_listen :9101\nmetrics_listen :9102\n"} {
		if _, err := ParseHACF(strings.NewReader(base+bad), "ha.cf"); err == nil || !strings.Contains(err.Error(), "ha.cf:") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestMetricsTOML(t *testing.T) {
	doc := "nodes = [\"node1\", \"node2\"]\nmetrics_listen = \"[::1]:9101\"\nmetrics_required = false\n" +
		"[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n"
	c, err := ParseTOML(strings.NewReader(doc), "ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "[::1]:9101" || c.Metrics.Required {
		t.Fatalf("got %+v", c.Metrics)
	}
}

func TestParseListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		":9101": ":9101", "127.0.0.1:9101": "127.0.0.1:9101", "[::1]:80": "[::1]:80",
		"[::ffff:198.18.0.1]:1": "[::ffff:198.18.0.1]:1", ":09101": ":9101",
	} {
		if got, err := ParseListenAddr(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ":", "x:1", "[fe80::1%eth0]:1", "1.2.3.4", "1.2.3.4:-1", "1.2.3.4:65536"} {
		if got, err := ParseListenAddr(in); err == nil {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
}

func FuzzParseListenAddr(f *testing.F) {
	for _, s := range []string{":9101", "127.0.0.1:9101", "[::1]:80", "x:1", "[fe80::1%eth0]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseListenAddr(s)
		if err != nil {
			return
		}
		// Normalised output is stable and accepted again.
		again, err := ParseListenAddr(got)
		if err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
