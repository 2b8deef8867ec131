package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
)

// FormatAge renders how long ago something was heard: "never" for the
// snapshot's -1, milliseconds below a second (heartbeats are that close
// together), tenths of a second below a minute, whole seconds above.
func FormatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d < time.Second:
		return fmt.Sprintf("%dms ago", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs ago", d.Seconds())
	}
	return d.Round(time.Second).String() + " ago"
}

// formatTimer writes a timing the way ha.cf takes it: whole seconds as
// "60s" (Go would say "1m0s"), anything else in milliseconds.
func formatTimer(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// WriteStatusJSON writes st as indented JSON with api.Status's field names,
// which are the stable machine interface of "hactl status --json".
func WriteStatusJSON(w io.Writer, st *api.Status) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteStatus writes the human-readable summary of "hactl status".
func WriteStatus(w io.Writer, st *api.Status) error {
	c := &st.Core
	var b strings.Builder
	state := c.State
	var notes []string
	if !c.CommUp {
		notes = append(notes, "cluster communication not up yet")
	}
	if c.Stopping {
		notes = append(notes, "stopping")
	}
	if c.FlowControl {
		notes = append(notes, "flow control")
	}
	if len(notes) > 0 {
		state += " (" + strings.Join(notes, ", ") + ")"
	}
	managed := st.Managed
	if managed == "" {
		managed = "unknown"
	}
	resources := st.Resources
	if resources == "" {
		resources = "unknown"
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Local node:\t%s\n", c.Node)
	fmt.Fprintf(tw, "State:\t%s\n", state)
	fmt.Fprintf(tw, "Generation:\t%d\n", c.Generation)
	fmt.Fprintf(tw, "Uptime:\t%s\n", c.Uptime.Round(time.Second))
	if managed == "none" {
		fmt.Fprintf(tw, "Resources:\tnot managed by heartbeat\n")
	} else {
		fmt.Fprintf(tw, "Resources:\t%s (managed by %s)\n", resources, managed)
	}
	fmt.Fprintf(tw, "Timers:\tkeepalive %s, warntime %s, deadtime %s, initdead %s\n",
		formatTimer(c.Keepalive), formatTimer(c.Warntime), formatTimer(c.Deadtime), formatTimer(c.Initdead))
	fmt.Fprintf(tw, "Daemon:\tpid %d, version %s, debug %d\n", st.Pid, st.Version, st.Debug)
	if err := tw.Flush(); err != nil {
		return err
	}

	// One table for nodes and their links so that the columns line up;
	// link rows are indented under their node.
	b.WriteString("\nNodes:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE/LINK\tSTATE\tLAST HEARD\tGENERATION\tPACKETS")
	for i := range c.Nodes {
		n := &c.Nodes[i]
		heard := FormatAge(n.LastHeard)
		name := n.Name
		if n.Local {
			// We do not hear ourselves; our links are up because we
			// send on them.
			heard, name = "-", name+" (local)"
		}
		if n.Type != "" && n.Type != "normal" {
			name += " [" + n.Type + "]"
		}
		// "-" rather than an empty last cell, which tabwriter would pad
		// into trailing blanks.
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t-\n", name, n.State, heard, n.Generation)
		for _, l := range n.Links {
			lheard, packets := FormatAge(l.LastHeard), fmt.Sprint(l.Packets)
			if n.Local {
				lheard, packets = "-", "-"
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t\t%s\n", l.Name, l.State, lheard, packets)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if st.Reach != nil {
		fmt.Fprintf(&b, "  (ping nodes answering: %d of %d)\n", st.Reach.Alive, st.Reach.Total)
	}

	if len(st.Groups) > 0 {
		b.WriteString("\nResource groups:\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  GROUP\tPREFERRED\tHERE")
		for _, g := range st.Groups {
			state := g.State
			switch {
			case g.FailedForGood:
				state += " (FAILED here: restarts used up; hactl cleanup " + g.Key + ")"
			case g.Failed:
				state += " (last start failed here)"
			}
			if g.Failures > 0 {
				state += fmt.Sprintf(", failures: %d (last at %s: %s)", g.Failures, g.LastFailureAt, g.LastFailure)
			}
			if h := g.Health; h != nil {
				state += fmt.Sprintf(", health: %s (peer: %s)", healthWords(h.Eligible, h.Score), healthWords(h.PeerEligible, h.PeerScore))
				for _, c := range h.Checks {
					word := "failing"
					if c.Passing {
						word = "passing"
					}
					state += fmt.Sprintf(", check %s %s", c.Name, word)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", g.Key, g.PreferredNode, state)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	b.WriteString("\nLinks:\n")
	if len(st.Links) == 0 {
		b.WriteString("  none\n")
	} else {
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tKIND\tTARGET\tTX\tTX ERRORS\tRX\tRX BAD\tLAST ERROR")
		for _, l := range st.Links {
			lastErr := l.LastError
			if lastErr == "" {
				lastErr = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n",
				l.Name, l.Kind, l.Target, l.TxPackets, l.TxErrors, l.RxPackets, l.RxBad, lastErr)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	d := st.Dropped
	fmt.Fprintf(&b, "\nDropped packets: malformed %d, bad auth %d, no auth %d, too large %d, queue full %d, from ourself %d\n",
		d.Malformed, d.BadAuth, d.NoAuth, d.TooLarge, d.QueueFull, d.FromOurself)
	k := c.Counters
	fmt.Fprintf(&b, "Messages: sent %d, accepted %d, duplicate %d, replay %d, bad fields %d, unknown node %d, "+
		"retransmit requested %d, retransmitted %d, nak sent %d, lost %d\n",
		k.TxMessages, k.RxAccepted, k.RxDuplicate, k.RxReplay, k.RxBadFields, k.RxUnknownNode,
		k.RexmitRequested, k.RexmitSent, k.NakSent, k.LostMessages)
	_, err := io.WriteString(w, b.String())
	return err
}

// healthWords is a node's health for a group in hactl status.
func healthWords(eligible bool, score int) string {
	if !eligible {
		return fmt.Sprintf("INELIGIBLE, score %d", score)
	}
	return fmt.Sprintf("eligible, score %d", score)
}
