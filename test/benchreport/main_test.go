package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() Report {
	return Report{
		Date: "2026-12-07T22:00:00Z", Kernel: "6.18", Go: "go1.26", Quick: true,
		Load: []string{"start: 1"}, Versions: map[string]string{"a": "1.0", "b": "2.0"}, Systems: []string{"a", "b"},
		Results: []Result{
			{Scenario: "power-off", System: "a", Unit: "ms", N: 3, Min: 40, Median: 48.5, Max: 1234},
			{Scenario: "power-off", System: "b", Unit: "ms", N: 2, Min: 1.5, Median: 2, Max: 3, Note: "[1 anomaly]"},
			{Scenario: "NIC down", System: "a", Unit: "ms", Note: "not supported yet"},
			{Scenario: "idle CPU", System: "b", Unit: "% of a CPU", N: 1, Min: 1, Median: 1, Max: 1},
		},
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown(sample())
	for _, want := range []string{
		"| scenario (min / median / max, trials) | a | b |",
		"| power-off (ms) | 40.0 / 48.5 / 1234 (3) | 1.50 / 2.00 / 3.00 (2) [1 anomaly] |",
		"| NIC down (ms) | not supported yet | – |",
		"| idle CPU (% of a CPU) | – | 1.00 / 1.00 / 1.00 (1) |",
		"Versions: a 1.0, b 2.0.",
		"BENCH_QUICK=1",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in\n%s", want, md)
		}
	}
}

func TestChart(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.png")
	if err := Chart(sample(), p); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil || len(data) < 1000 || string(data[1:4]) != "PNG" {
		t.Fatalf("not a PNG: %d bytes, %v", len(data), err)
	}
	r := sample()
	r.Results = r.Results[2:3]
	if err := Chart(r, p); err == nil {
		t.Error("a chart without any millisecond result")
	}
}

func TestWrap(t *testing.T) {
	if got := wrap("links return (partition healed)", 12); got != "links return\n(partition\nhealed)" {
		t.Errorf("wrap = %q", got)
	}
}
