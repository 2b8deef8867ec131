package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/childproc"
	"github.com/hasuite/hasuite/stonith"
)

// fenceTimeout bounds one fencing attempt (a meatware device waits for the
// operator this long); the manager retries after it.
const fenceTimeout = 10 * time.Minute

// selfFenceOutput is how much of the self_fence program's stdout and of
// its stderr the error of a failed self-fence quotes.
const selfFenceOutput = 4 << 10

// statusEvery is how often the STONITH devices are checked (Heartbeat
// checks hourly; a broken device should be found before it is needed).
const statusEvery = 5 * time.Minute

type fenceResult struct {
	node string
	err  error
}

// newFencing builds the STONITH chain from ha.cf. No device: nil.
func (d *Daemon) newFencing() (stonith.Chain, error) {
	if len(d.cfg.Stonith) == 0 {
		return nil, nil
	}
	chain, err := stonith.NewChain(stonithSpecs(d.cfg.Stonith), d.cfg.LocalNode, stonith.Options{
		PluginDir: d.cfg.StonithPluginDir,
		Log:       func(s string) { d.log.Info(s) },
		SelfFence: d.selfFence,
	})
	if err != nil {
		return nil, fmt.Errorf("%w:\n%v", ErrConfig, err)
	}
	return chain, nil
}

// stonithSpecs turns the configured stonith lines into device specs.
func stonithSpecs(lines []config.StonithSpec) []stonith.Spec {
	var out []stonith.Spec
	for _, l := range lines {
		s := stonith.Spec{Host: l.Host, Type: l.Type, File: l.File, Params: l.Params}
		if l.Pos.File != "" {
			s.Where, s.Dir = l.Pos.String(), filepath.Dir(l.Pos.File)
		}
		out = append(out, s)
	}
	return out
}

// selfFence runs the configured self_fence program (a reboot in
// production, a stand-in in tests). Without one there is nothing to run:
// the caller stays in a clear fatal state instead.
//
// It runs as every child does (internal/childproc): in a process group of
// its own, killed with the group when ctx ends, with stdin on /dev/null and
// in "/". It gets the daemon's environment, as it always has: it is the
// operator's own program and may rely on it.
func (d *Daemon) selfFence(ctx context.Context) error {
	argv := d.cfg.SelfFence
	if len(argv) == 0 {
		return errors.New("no self_fence program configured")
	}
	d.log.Error("fencing this node", zap.Strings("self_fence", argv))
	d.logs.flush() // a reboot keeps only what is on disk
	res, err := childproc.Run(ctx, childproc.Spec{
		Path:      argv[0],
		Args:      argv[1:],
		Env:       os.Environ(),
		MaxOutput: selfFenceOutput,
	})
	switch {
	case err != nil:
	case res.Signal != 0:
		err = errors.New("killed by signal " + unix.SignalName(res.Signal))
	case res.ExitCode != 0:
		err = fmt.Errorf("exit status %d", res.ExitCode)
	default:
		return nil
	}
	out := strings.TrimSpace(res.Stdout.String() + res.Stderr.String())
	return fmt.Errorf("self_fence %s: %w: %s", argv[0], err, out)
}

// fence runs the chain for node in the background; the result comes back to
// the loop through d.fenced.
func (d *Daemon) fence(node string) {
	if len(d.fencing) == 0 {
		d.fenced <- fenceResult{node: node, err: errors.New("no STONITH device configured")}
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), fenceTimeout)
		defer cancel()
		err := d.fencing.Reset(ctx, node)
		d.fenced <- fenceResult{node: node, err: err}
	}()
}

func (d *Daemon) fenceDone(r fenceResult) {
	d.node.FenceDone(d.now(), r.node, r.err)
}

// fenceResultOf names a fencing error's outcome for the log.
func fenceResultOf(err error) string { return stonith.ResultOf(err).String() }

// checkFencing asks every device whether it works: at start and then every
// statusEvery, so a broken device raises an alert before it is needed.
func (d *Daemon) checkFencing() {
	d.fenceCheck = d.step.Add(statusEvery)
	if len(d.fencing) == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := d.fencing.Status(ctx); err != nil {
			d.log.Error("STONITH device not operational: fencing would fail", zap.Error(err))
		}
	}()
}

// confirmFence is hactl fence-confirm NODE: an operator reset NODE by hand
// for a meatware device.
func (d *Daemon) confirmFence(node string) error {
	for _, dev := range d.fencing {
		if m, ok := dev.(*stonith.Meatware); ok {
			return m.Confirm(node)
		}
	}
	return errors.New("no meatware STONITH device is configured")
}
