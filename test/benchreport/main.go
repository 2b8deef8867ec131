// Command benchreport renders the side-by-side benchmark's results (the
// JSON file BenchmarkSideBySide in test/benchres writes) as a Markdown
// table and a PNG chart (gonum.org/v1/plot). It is a module of its own so
// that the plotting library stays out of the product's dependencies:
//
//	cd test/benchreport && go run . -in /tmp/sidebyside.json -md ../../docs/bench-compare.md -png ../../docs/bench-compare.png
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log"
	"math"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Report is the file the benchmark writes.
type Report struct {
	Date     string            `json:"date"`     // RFC 3339, start of the run
	Kernel   string            `json:"kernel"`   // uname -r
	Go       string            `json:"go"`       // runtime.Version()
	Quick    bool              `json:"quick"`    // BENCH_QUICK=1
	Load     []string          `json:"load"`     // /proc/loadavg and CPU pressure at the start and end
	Versions map[string]string `json:"versions"` // system -> version
	Systems  []string          `json:"systems"`  // column order
	Results  []Result          `json:"results"`
}

// Result is one scenario of one system: min / median / max of n trials,
// or a note (not supported, skipped) when there are none.
type Result struct {
	Scenario string  `json:"scenario"`
	System   string  `json:"system"`
	Unit     string  `json:"unit"` // "ms", "% CPU", "MiB"
	N        int     `json:"n"`
	Min      float64 `json:"min"`
	Median   float64 `json:"median"`
	Max      float64 `json:"max"`
	Note     string  `json:"note,omitempty"`
}

func main() {
	in := flag.String("in", "", "results JSON written by the benchmark")
	md := flag.String("md", "", "Markdown table to write (- = stdout)")
	png := flag.String("png", "", "PNG chart to write (the millisecond scenarios)")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		log.Fatalf("%s: %v", *in, err)
	}
	if *md != "" {
		s := Markdown(r)
		if *md == "-" {
			fmt.Print(s)
		} else if err := os.WriteFile(*md, []byte(s), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *png != "" {
		if err := Chart(r, *png); err != nil {
			log.Fatal(err)
		}
	}
}

// scenarios lists the scenarios in the order of first appearance.
func scenarios(r Report) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range r.Results {
		if !seen[x.Scenario] {
			seen[x.Scenario] = true
			out = append(out, x.Scenario)
		}
	}
	return out
}

func find(r Report, scenario, system string) (Result, bool) {
	for _, x := range r.Results {
		if x.Scenario == scenario && x.System == system {
			return x, true
		}
	}
	return Result{}, false
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Markdown is the run's header and one row per scenario, one column per
// system: "min / median / max (n)".
func Markdown(r Report) string {
	var b strings.Builder
	mode := "full run"
	if r.Quick {
		mode = "BENCH_QUICK=1 (few trials: a check of the harness, not a measurement to quote)"
	}
	fmt.Fprintf(&b, "Run of %s, %s; kernel %s, %s.\n", r.Date, mode, r.Kernel, r.Go)
	var vs []string
	for _, s := range r.Systems {
		if v := r.Versions[s]; v != "" {
			vs = append(vs, s+" "+v)
		}
	}
	fmt.Fprintf(&b, "Versions: %s.\nLoad: %s.\n\n", strings.Join(vs, ", "), strings.Join(r.Load, "; "))
	b.WriteString("| scenario (min / median / max, trials) |")
	for _, s := range r.Systems {
		b.WriteString(" " + s + " |")
	}
	b.WriteString("\n|---|")
	for range r.Systems {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, sc := range scenarios(r) {
		unit := ""
		for _, s := range r.Systems {
			if x, ok := find(r, sc, s); ok && x.Unit != "" {
				unit = x.Unit
			}
		}
		fmt.Fprintf(&b, "| %s (%s) |", sc, unit)
		for _, s := range r.Systems {
			x, ok := find(r, sc, s)
			switch {
			case !ok:
				b.WriteString(" – |")
			case x.N == 0:
				fmt.Fprintf(&b, " %s |", x.Note)
			default:
				fmt.Fprintf(&b, " %s / %s / %s (%d)", num(x.Min), num(x.Median), num(x.Max), x.N)
				if x.Note != "" {
					fmt.Fprintf(&b, " %s", x.Note)
				}
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// palette is one colour per system.
var palette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff},
}

// errPoints is the medians with min and max as error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// Chart draws the millisecond scenarios: per scenario one point per system
// at the median with a bar from min to max, on a logarithmic axis (the
// systems differ by orders of magnitude).
func Chart(r Report, path string) error {
	p := plot.New()
	p.Title.Text = "Client's outage: median, bar from min to max"
	if r.Quick {
		p.Title.Text += " (BENCH_QUICK run)"
	}
	p.Y.Label.Text = "ms (log scale)"
	p.X.Label.Text = fmt.Sprintf("run of %s, kernel %s (see the table for versions and load)", r.Date, r.Kernel)
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var scs []string
	for _, sc := range scenarios(r) {
		for _, s := range r.Systems {
			if x, ok := find(r, sc, s); ok && x.Unit == "ms" && x.N > 0 {
				scs = append(scs, sc)
				break
			}
		}
	}
	if len(scs) == 0 {
		return fmt.Errorf("no millisecond results to draw")
	}
	width, top := 0.7, 0.0
	for i, s := range r.Systems {
		var pts errPoints
		for j, sc := range scs {
			x, ok := find(r, sc, s)
			if !ok || x.Unit != "ms" || x.N == 0 {
				continue
			}
			off := -width/2 + width*(float64(i)+0.5)/float64(len(r.Systems))
			lo, med, hi := math.Max(x.Min, 0.1), math.Max(x.Median, 0.1), math.Max(x.Max, 0.1)
			top = math.Max(top, hi)
			pts.XYs = append(pts.XYs, plotter.XY{X: float64(j) + off, Y: med})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{med - lo, hi - med})
		}
		if len(pts.XYs) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts.XYs)
		if err != nil {
			return err
		}
		c := palette[i%len(palette)]
		sc.GlyphStyle.Color = c
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(3.5)
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return err
		}
		eb.LineStyle.Color = c
		eb.LineStyle.Width = vg.Points(1.5)
		eb.CapWidth = vg.Points(5)
		p.Add(eb, sc)
		p.Legend.Add(s, sc)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Y.Max = top * 20 // room for the legend above the points
	p.Add(plotter.NewGrid())
	labels := make([]string, len(scs))
	for i, sc := range scs {
		labels[i] = wrap(sc, 12)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(scs))-0.4
	return p.Save(vg.Length(max(160, 38*len(scs)))*vg.Millimeter, 110*vg.Millimeter, path)
}

// wrap breaks a label into lines of about n characters at spaces.
func wrap(s string, n int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > n {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
