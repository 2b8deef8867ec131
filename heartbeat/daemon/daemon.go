package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/auth"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/evloop"
	"github.com/hasuite/hasuite/heartbeat/link"
	"github.com/hasuite/hasuite/heartbeat/link/serial"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/heartbeat/respawn"
	"github.com/hasuite/hasuite/heartbeat/state"
	"github.com/hasuite/hasuite/internal/realtime"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
	"github.com/hasuite/hasuite/stonith"
	"github.com/hasuite/hasuite/watchdog"
	"github.com/hasuite/hasuite/watchdog/sdnotify"
)

// Options are the daemon's command-line settings.
type Options struct {
	ConfigDir string // default /etc/ha.d
	NodeName  string // default: nodeinfo or lower-cased uname -n
	RunDir    string // pid file and control socket
	StateDir  string // generation, uuid, peer marks
	Debug     int
	Stderr    io.Writer
}

// Defaults for the directories.
const (
	DefaultRunDir   = "/run/heartbeat"
	DefaultStateDir = "/var/lib/heartbeat"
)

// ErrConfig marks configuration errors (heartbeat exits 6 for them, as
// Heartbeat's LSB_EXIT_NOTCONFIGED).
var ErrConfig = errors.New("configuration error")

const (
	// packetQueue bounds serial frames waiting for the loop; beyond it
	// they are dropped and counted rather than blocking the serial reader.
	packetQueue = 4096
	// drainMax bounds the datagrams read from one link in one wake-up of
	// the loop. Every socket is normally read until it is empty before a
	// deadline is judged; a link that still has datagrams queued after
	// drainMax (a flood) has its deadlines judged only up to the arrival
	// of the last datagram read (core.TickUpTo), and the loop comes back
	// at once for the rest, sending its own heartbeats in between.
	drainMax = 256
	// marksEvery is how often peer marks are saved while running.
	marksEvery = 5 * time.Second
	// loadEvery is how often the load average sent in heartbeats is read.
	loadEvery = time.Second
)

// Daemon is one running heartbeat node.
type Daemon struct {
	opts Options
	cfg  *config.Config
	keys *auth.Keyring
	logs *logSetup
	// removePid removes the pid file; Run calls it last.
	removePid func()
	log       *zap.Logger
	// node makes every decision; the daemon does the IO around it.
	node  *node.Node
	start time.Time
	// step is the time of the current loop step, read once per step: every
	// input of one step is judged against the same now.
	step  time.Time
	debug int

	links []*linkIO
	loop  *evloop.Loop
	rxBuf []byte // the loop's receive buffer for UDP links
	clock arrivalClock
	// behind: the last wake-up left datagrams queued (drainMax), so the
	// next one is due at once and is not late.
	behind bool
	// serialQueued counts serial frames posted to the loop, not yet run.
	serialQueued atomic.Int64
	ctrl         chan ctrlReq
	dropped      dropCounters
	limiter      *rateLimiter

	res *resourceLayer
	// notify feeds the notify hooks and the mailer (notify.go).
	notify *notifiers
	// moves are the operator commands waiting for their groups to move,
	// by the id given to the node layer.
	moves  map[uint64]chan control.Response
	moveID uint64

	wd          *watchdog.Device
	wdNext      time.Time
	wdAbandoned bool
	statusOut   bool // a heartbeat went out since the last kick
	selfFencing bool
	sdInterval  time.Duration
	sdNext      time.Time

	marksCh chan map[string]state.PeerMark

	fencing    stonith.Chain
	fenced     chan fenceResult
	fenceCheck time.Time

	marksSave time.Time
	loadNext  time.Time

	// obs is the event stream and the metrics (observe.go).
	obs *observer
	// clients are the respawn and failfast programs, started at comm-up.
	clients *respawn.Supervisor
	// ping is the ICMP IO of the ping nodes.
	ping *pingIO
}

type linkIO struct {
	link.Link
	udp *link.UDP // UDP links are read by the loop itself; nil for serial
	// emptyAt is when the loop last found the UDP socket empty (core
	// clock): nothing read later can have arrived before.
	emptyAt   time.Duration
	name      string
	medium    config.Medium
	classic   bool // serial: classic frames with the inner auth field
	txPackets atomic.Uint64
	txErrors  atomic.Uint64
	rxPackets atomic.Uint64
	rxBad     atomic.Uint64
	drops     linkDrops    // by reason, for metrics
	lastErr   atomic.Value // string
}

type dropCounters struct {
	malformed, badAuth, noAuth, tooLarge, queueFull atomic.Uint64
}

type ctrlReq struct {
	req   control.Request
	reply chan control.Response
}

// LoadConfig loads and checks the configuration as the daemon would.
func LoadConfig(o Options) (*config.Config, []config.Diag, error) {
	cfg, err := config.Load(config.Options{Dir: o.ConfigDir, NodeName: o.NodeName})
	if err != nil {
		return nil, nil, fmt.Errorf("%w:\n%w", ErrConfig, err)
	}
	errs, warns := Check(cfg)
	warns = append(append([]config.Diag(nil), cfg.Warnings...), warns...)
	if len(errs) > 0 {
		return nil, warns, fmt.Errorf("%w:\n%w", ErrConfig, config.ErrorList(errs))
	}
	return cfg, warns, nil
}

// Run runs the daemon until ctx is cancelled, SIGTERM arrives or a stop
// command is received, then stops gracefully.
func Run(ctx context.Context, o Options) error {
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.RunDir == "" {
		o.RunDir = DefaultRunDir
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	cfg, warns, err := LoadConfig(o)
	if err != nil {
		for _, w := range warns {
			fmt.Fprintln(o.Stderr, "warning:", w.Error())
		}
		return err
	}
	debug := o.Debug
	if cfg.Debug > debug {
		debug = cfg.Debug
	}
	logs, err := newLogger(cfg, debug, o.Stderr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	var d *Daemon
	defer func() {
		// The log is written out (a stuck destination gets a bounded
		// time) before the pid file goes: "heartbeat -k" returns when it
		// has gone, and promises that the daemon has exited.
		logs.Close()
		if d.removePid != nil {
			d.removePid()
		}
	}()
	d = &Daemon{opts: o, cfg: cfg, keys: cfg.Keys, logs: logs, log: logs.log, debug: debug,
		ctrl: make(chan ctrlReq), fenced: make(chan fenceResult, 4),
		marksCh: make(chan map[string]state.PeerMark, 1),
		limiter: newRateLimiter(10 * time.Second), start: time.Now(), obs: newObserver(cfg.LocalNode)}
	d.clock.start = d.start
	for _, w := range warns {
		d.log.Warn(w.Error())
	}
	err = d.run(ctx)
	if err != nil {
		d.log.Error("heartbeat stopped with an error", zap.Error(err))
	}
	return err
}

func (d *Daemon) run(ctx context.Context) error {
	cleanup, err := d.build()
	defer cleanup()
	if err != nil {
		return err
	}
	return d.runLoop(ctx)
}

// build opens everything the loop needs, in order: configuration-derived
// parts, the control socket and pid file, the event loop, the links, the
// node layer, the resource runner, the watchdog. The returned cleanup
// closes what was opened, in reverse, also after an error.
func (d *Daemon) build() (cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	cfg := d.cfg
	groups, err := loadGroups(cfg.Dir, cfg.Nodes)
	if err != nil {
		return cleanup, err
	}
	if d.fencing, err = d.newFencing(); err != nil {
		return cleanup, err
	}
	if err := d.openNotify(groups); err != nil {
		return cleanup, err
	}
	undo = append(undo, d.closeNotify)
	gen, err := state.NextGeneration(d.opts.StateDir, cfg.GenMethod, time.Now().Unix())
	if err != nil {
		return cleanup, fmt.Errorf("generation: %w", err)
	}
	uuid, err := state.NodeUUID(d.opts.StateDir, cfg.UUIDFrom, cfg.LocalNode)
	if err != nil {
		return cleanup, fmt.Errorf("node uuid: %w", err)
	}
	marks, err := state.LoadMarks(d.opts.StateDir)
	if err != nil {
		return cleanup, err
	}
	srv, err := control.Listen(d.opts.RunDir, d.handle)
	if err != nil {
		return cleanup, fmt.Errorf("control socket: %w", err)
	}
	undo = append(undo, func() { srv.Close() })
	if d.removePid, err = control.WritePidFile(d.opts.RunDir); err != nil {
		return cleanup, fmt.Errorf("pid file: %w", err)
	}
	stopObserver, err := d.startObserver(srv)
	if err != nil {
		return cleanup, err
	}
	undo = append(undo, stopObserver)
	if err := d.notifyMetrics(); err != nil {
		return cleanup, fmt.Errorf("metrics of the notify hooks and mail: %w", err)
	}
	// The loop first: serial links hand their frames to it as soon as
	// they are open.
	if d.loop, err = evloop.New(); err != nil {
		return cleanup, err
	}
	undo = append(undo, func() { d.loop.Close() })
	undo = append(undo, d.closeLinks)
	if err := d.openLinks(); err != nil {
		return cleanup, err
	}
	pc, err := d.pingConfig()
	if err != nil {
		return cleanup, err
	}
	nc := d.nodeConfig(groups, gen, uuid, marks)
	nc.Ping = pc
	if d.node, err = node.New(nc); err != nil {
		return cleanup, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if d.ping, err = d.openPing(pc); err != nil {
		return cleanup, err
	}
	undo = append(undo, d.ping.close)
	if d.res, err = d.newResourceLayer(groups); err != nil {
		return cleanup, err
	}
	undo = append(undo, d.res.close)
	d.removeLeftovers()
	if err := d.openWatchdog(); err != nil {
		return cleanup, err
	}
	undo = append(undo, d.closeWatchdog)
	if iv, err := sdnotify.WatchdogInterval(); err != nil {
		d.log.Warn("systemd watchdog settings unusable", zap.Error(err))
	} else {
		d.sdInterval = iv
	}
	for i, l := range d.links {
		if l.udp != nil {
			if err := d.loop.Add(l.udp.Fd(), i); err != nil {
				return cleanup, fmt.Errorf("link %s: %w", l.name, err)
			}
		}
	}
	d.clients = respawn.New(d.respawnPrograms(), 0, d.clientEvent)
	undo = append(undo, d.clients.Stop)
	d.rxBuf = make([]byte, link.MaxMessage)
	d.log.Info("heartbeat starting",
		zap.String("node", cfg.LocalNode), zap.String("generation", fmt.Sprintf("%x", gen)),
		zap.Strings("nodes", cfg.Nodes), zap.Duration("keepalive", cfg.Keepalive),
		zap.Duration("deadtime", cfg.Deadtime), zap.Duration("initdead", cfg.Initdead),
		zap.String("auth", d.keys.Signer().Method.String()), zap.Int("links", len(d.links)),
		zap.Int("groups", len(groups)), zap.String("auto_failback", cfg.AutoFailback))
	if d.keys.Weak() {
		d.log.Warn("authkeys uses crc: packets are NOT authenticated, anybody on the network can forge them; use sha256")
	}
	return cleanup, nil
}

// runLoop runs the event loop until a graceful stop has finished. Each
// step waits for a packet, posted work or the next deadline, reads the
// clock once, and hands everything to the node layer; flush then carries
// out what the node decided.
func (d *Daemon) runLoop(ctx context.Context) error {
	cfg := d.cfg
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	if err := releaseStartupMemory(); err != nil {
		d.log.Debug("could not release start-up memory", zap.Error(err))
	}
	if cfg.Realtime {
		// After the release: memory is locked as pages are touched, so
		// only what the running daemon uses gets locked.
		if err := realtime.Enable(cfg.RTPrio); err != nil {
			d.log.Warn("realtime scheduling not fully enabled; heartbeats may be late on a busy machine", zap.Error(err))
		} else {
			d.log.Debug("realtime scheduling enabled", zap.Int("rtprio", cfg.RTPrio))
		}
	}
	stopPump := make(chan struct{})
	pumpDone := make(chan struct{})
	go d.pump(ctx.Done(), sigs, stopPump, pumpDone)
	defer func() { close(stopPump); <-pumpDone }()

	marksDone := make(chan struct{})
	go d.writeMarks(marksDone)
	d.step = time.Now()
	d.chores()
	d.node.Start(d.now())
	d.flush()
	d.marksSave = d.step.Add(marksEvery)
	stopMaintain := make(chan struct{})
	maintainDone := make(chan struct{})
	go d.maintainLinks(stopMaintain, maintainDone)
	defer func() { close(stopMaintain); <-maintainDone }() // before closeLinks
	for !d.node.Done() {
		deadline := d.nextDeadline()
		ready, err := d.loop.Wait(deadline)
		if err != nil {
			// Cannot happen with a valid epoll set; never spin on it.
			if ok, muted := d.limiter.allow("epoll", time.Now()); ok {
				d.log.Error("waiting for events failed", zap.Error(err), zap.Int("suppressed", muted))
			}
			time.Sleep(10 * time.Millisecond)
		}
		// The step's one reading of the clock: the step's decisions are
		// judged at woke. Everything that arrived is read before any
		// deadline is judged, and counts from when it arrived: a spell in
		// which this daemon was not scheduled is not the peer's silence.
		d.step = time.Now()
		woke := d.step
		if step := d.clock.sample(woke); step != 0 {
			if ok, muted := d.limiter.allow("clockstep", woke); ok {
				d.log.Info("wall clock stepped: datagrams read now count as arriving when read",
					zap.Duration("step", step), zap.Int("suppressed", muted))
			}
		}
		d.loop.RunPosted()
		wasBehind := d.behind // then this wake-up was due at once, not late
		read, horizon := d.readLinks(ready, woke.Sub(d.start))
		d.loop.RunPosted() // serial frames posted while the sockets were read
		if !wasBehind {
			d.noteLateWake(deadline, woke, read, horizon < d.now().Mono)
		}
		d.chores()
		d.node.TickUpTo(d.now(), horizon)
		d.flush()
		d.kickWatchdogs()
	}
	d.clients.Stop() // after shutdone, in reverse order, as Heartbeat does
	close(d.marksCh)
	<-marksDone
	d.persistMarks(d.markSnapshot()) // the last word, synchronously
	d.log.Info("heartbeat stopped", zap.String("node", cfg.LocalNode))
	return nil
}

// chores runs the loop's periodic IO that is not a decision: STONITH
// device checks, saving the peer marks, reading the load average.
func (d *Daemon) chores() {
	if !d.step.Before(d.fenceCheck) {
		d.checkFencing()
	}
	if !d.marksSave.IsZero() && !d.step.Before(d.marksSave) {
		d.saveMarks()
	}
	if !d.step.Before(d.loadNext) {
		d.loadNext = d.step.Add(loadEvery)
		d.node.SetLoadAvg(loadAvg())
	}
}

// pump hands everything that arrives on a channel (signals, control
// requests, resource results, fencing outcomes) to the loop as posted
// work. It is idle on an idle node: heartbeats never pass through it (UDP
// links are read by the loop, serial links post their frames themselves).
func (d *Daemon) pump(done <-chan struct{}, sigs <-chan os.Signal, stop <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	results, alerts, failures := d.res.run.Results(), d.res.run.Alerts(), d.res.run.Failures()
	checks := d.res.checks.Results()
	for {
		select {
		case <-stop:
			return
		case <-done:
			done = nil
			d.loop.Post(func() { d.beginStop("context cancelled") })
		case r := <-d.ctrl:
			d.loop.Post(func() { d.command(r) })
		case r := <-results:
			d.loop.Post(func() { d.groupResult(r) })
		case a := <-alerts:
			d.loop.Post(func() { d.monitorAlert(a) })
		case f := <-failures:
			d.loop.Post(func() { d.resourceFailed(f) })
		case c := <-checks:
			d.loop.Post(func() { d.checkResult(c) })
		case f := <-d.fenced:
			d.loop.Post(func() { d.fenceDone(f) })
		case s := <-sigs:
			d.loop.Post(func() { d.signal(s) })
		}
	}
}

// readLinks reads every UDP link the loop found readable until its socket
// is empty, each datagram with the time the kernel received it, so that no
// deadline is judged while something that arrived before it waits unread.
// woke is when the loop woke (core clock), before the first read. It
// returns the datagrams read and the horizon for core.TickUpTo: the
// arrival time up to which everything has been read (far in the future
// when every socket was emptied; else the earliest, over the links left
// with datagrams after drainMax, of the last arrival read: their sockets
// are FIFO queues).
func (d *Daemon) readLinks(ready []int, woke time.Duration) (read int, horizon time.Duration) {
	horizon = 1 << 62
	d.behind = false
	for _, i := range ready {
		l := d.links[i]
		n, last, full := d.drainLink(l)
		read += n
		if full {
			d.behind = true
			horizon = min(horizon, last)
		} else {
			l.emptyAt = woke
		}
	}
	return read, horizon
}

// drainLink reads up to drainMax datagrams from a UDP link; full says it
// stopped at drainMax, last is the arrival of the last datagram read.
func (d *Daemon) drainLink(l *linkIO) (n int, last time.Duration, full bool) {
	for n < drainMax {
		p, err := l.udp.Receive(d.rxBuf)
		if errors.Is(err, link.ErrNoPacket) {
			return n, last, false
		}
		n++
		if err == nil || errors.Is(err, link.ErrTruncated) {
			last = d.clock.arrival(p.Stamp, l.emptyAt, time.Since(d.start))
		}
		switch {
		case err == nil:
			l.rxPackets.Add(1)
			p.Link = l.name
			p.Data = bytes.Clone(p.Data) // the core may keep what it decodes
			d.receive(p, last)
		case errors.Is(err, link.ErrTruncated):
			l.rxPackets.Add(1)
			l.rxBad.Add(1)
			l.drops[dropOversized].Add(1)
			d.dropped.tooLarge.Add(1)
			if ok, muted := d.limiter.allow("drop:oversized:"+l.name, d.step); ok {
				d.log.Warn("dropped oversized packet", zap.String("link", l.name), zap.Stringer("from", p.From),
					zap.Error(err), zap.Int("suppressed", muted))
			}
		default:
			if ok, muted := d.limiter.allow("recv:"+l.name, d.step); ok {
				d.log.Warn("receive failed", zap.String("link", l.name), zap.Error(err), zap.Int("suppressed", muted))
			}
			return n, last, false
		}
	}
	return n, last, true
}

// noteLateWake handles a wake-up of the loop that came more than a
// keepalive after the deadline it slept for (the daemon was stopped,
// starved of CPU, or the whole machine paused): the core learns of the
// stall (a peer whose timeout ran out during it gets a keepalive to be
// heard, see core.Stalled), and the log says so. The peers' deadlines are
// judged after reading what arrived meanwhile, by arrival time.
func (d *Daemon) noteLateWake(deadline, woke time.Time, read int, behind bool) {
	if deadline.IsZero() || d.node == nil {
		return
	}
	late := woke.Sub(deadline)
	if late <= d.cfg.Keepalive {
		return
	}
	d.node.Stalled(deadline.Sub(d.start), woke.Sub(d.start))
	ok, muted := d.limiter.allow("latewake", woke)
	if !ok {
		return
	}
	what := "judged deadlines after reading all links"
	if behind {
		what = "judged deadlines up to the last datagram read (links still had datagrams queued)"
	}
	d.log.Warn(fmt.Sprintf("loop woke %dms late; %s", late.Milliseconds(), what),
		zap.Duration("late", late), zap.Int("datagrams_read", read), zap.Int("suppressed", muted))
}

// maintainLinks lets every UDP link re-check its interface every
// link.MaintainEvery until stop is closed. It runs off the event loop:
// rejoining a multicast group and reading a broadcast address take the
// kernel's RTNL lock, which a burst of address changes (our own takeover
// of 100 VIPs, a container runtime creating interfaces) can hold for
// hundreds of milliseconds, and the loop must not wait for it.
func (d *Daemon) maintainLinks(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(link.MaintainEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for _, l := range d.links {
			if l.udp != nil {
				l.udp.Maintain()
			}
		}
	}
}

// now is the node layer's clock at this loop step: monotonic since start,
// plus wall seconds.
func (d *Daemon) now() node.Time {
	return node.Time{Mono: d.step.Sub(d.start), Wall: d.step.Unix()}
}

// nextDeadline is when the loop must next run even if nothing arrives:
// the earliest of the core's and the resource manager's timers and the
// loop's own chores. It is an absolute time, so that an unchanged
// deadline is recognised as such and the loop's timer left alone.
func (d *Daemon) nextDeadline() time.Time {
	next := d.start.Add(d.node.Next())
	next = earliest(next, d.marksSave)
	next = earliest(next, d.loadNext)
	next = earliest(next, d.fenceCheck)
	return earliest(next, d.nextKick())
}

// earliest returns the earlier of two deadlines; the zero time is none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (d *Daemon) nodeConfig(groups []haresources.Group, gen uint64, uuid [16]byte, marks map[string]state.PeerMark) node.Config {
	cfg := d.cfg
	cm := map[string]core.Mark{}
	for n, m := range marks {
		cm[n] = core.Mark{Gen: m.Gen, Seq: m.Seq}
	}
	var names []string
	for _, l := range d.links {
		if !slices.Contains(names, l.name) {
			names = append(names, l.name)
		}
	}
	return node.Config{
		Core: core.Config{
			LocalNode: cfg.LocalNode, Nodes: cfg.Nodes, PingNodes: len(cfg.Ping), Links: names,
			Keepalive: cfg.Keepalive, Deadtime: cfg.Deadtime, Warntime: cfg.Warntime, Initdead: cfg.Initdead,
			MaxRexmitDelay: cfg.MaxRexmitDelay, Hopfudge: cfg.Hopfudge, UUID: uuid[:], Generation: gen,
			FlowControl: true, Seed: time.Now().UnixNano(), PeerMarks: cm,
		},
		Resources: manager.Config{Groups: groups, AutoFailback: cfg.AutoFailback,
			FenceEnabled: len(d.fencing) > 0, FenceDelay: cfg.FenceDelay, FenceFallback: cfg.StonithFallback},
	}
}

// loadAvg returns the "ld" field's text: the first line of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

// openLinks opens every medium. Media on the same interface share its name,
// as in Heartbeat (a shared ha.cf lists "ucast eth0 <addr>" for both
// nodes): status is per interface. A ucast line to one of our own
// addresses is skipped; Heartbeat sends to itself there, for nothing.
func (d *Daemon) openLinks() error {
	own := localAddrs()
	for _, m := range d.cfg.Media {
		if (m.Kind == link.KindUcast || m.Kind == link.KindUcast6) && own[m.Peer] {
			d.log.Info("skipping the ucast line to our own address", zap.String("line", m.Pos.String()),
				zap.String("address", m.Peer))
			continue
		}
		lio := &linkIO{medium: m, name: m.Dev, classic: m.Kind == "serial"}
		var err error
		if m.Kind == "serial" {
			name := lio.name
			deliver := func(p link.Packet) {
				at := time.Since(d.start) // a tty has no timestamps: read time is arrival
				p.Link = name
				lio.rxPackets.Add(1)
				if d.serialQueued.Add(1) > packetQueue {
					d.serialQueued.Add(-1)
					d.dropped.queueFull.Add(1)
					lio.drops[dropQueueFull].Add(1)
					return
				}
				d.loop.Post(func() {
					d.serialQueued.Add(-1)
					d.receive(p, at)
				})
			}
			lio.Link, err = serial.Open(serial.Config{Path: m.Dev, Baud: m.Baud, FlowControl: d.cfg.RTSCTS,
				MaxDelay: d.cfg.Deadtime / 2}, deliver)
		} else {
			lio.udp, err = link.OpenUDP(link.UDPConfig{Kind: m.Kind, Dev: m.Dev, Peer: m.Peer, Group: m.Group,
				Port: m.Port, TTL: m.TTL, Loop: m.Loop})
			if err == nil {
				lio.Link = lio.udp
				d.logRecvBuffer(lio)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %s link on %s: %w", m.Pos, m.Kind, m.Dev, err)
		}
		d.links = append(d.links, lio)
	}
	if len(d.links) == 0 {
		return fmt.Errorf("%w: no link left to the other nodes (every ucast line points at this host)", ErrConfig)
	}
	return nil
}

// logRecvBuffer says at debug level what receive buffer a UDP link got.
// A smaller one than asked for is no error: the link works, with less
// room for bursts (a flood of junk, a spell without CPU).
func (d *Daemon) logRecvBuffer(l *linkIO) {
	b := l.udp.RecvBuffer()
	fields := []zap.Field{zap.String("link", l.name), zap.Int("bytes", b.Got), zap.Int("wanted", b.Want)}
	if b.Capped() {
		d.log.Debug("receive buffer capped by net.core.rmem_max (SO_RCVBUFFORCE not permitted); "+
			"raise net.core.rmem_max to give the link its full buffer", fields...)
		return
	}
	d.log.Debug("receive buffer set", append(fields, zap.Bool("forced", b.Forced))...)
}

// localAddrs returns this host's addresses as strings.
func localAddrs() map[string]bool {
	out := map[string]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			out[ipn.IP.String()] = true
		}
	}
	return out
}

func (d *Daemon) closeLinks() {
	for _, l := range d.links {
		if l.Link != nil {
			_ = l.Close()
		}
	}
}

// receive decodes and authenticates one packet and hands it to the core,
// as arrived at "at" (core clock).
func (d *Daemon) receive(p link.Packet, at time.Duration) {
	m, err := msg.Decode(p.Data, d.keys)
	if err != nil {
		var why string
		var reason int
		switch {
		case errors.Is(err, msg.ErrAuth):
			d.dropped.badAuth.Add(1)
			why, reason = "bad signature", dropBadAuth
		case errors.Is(err, msg.ErrNoAuth):
			d.dropped.noAuth.Add(1)
			why, reason = "unsigned", dropUnsigned
		case errors.Is(err, msg.ErrTooLarge):
			d.dropped.tooLarge.Add(1)
			why, reason = "oversized", dropOversized
		default:
			d.dropped.malformed.Add(1)
			why, reason = "malformed", dropMalformed
		}
		for _, l := range d.links {
			if l.name == p.Link {
				l.rxBad.Add(1)
				l.drops[reason].Add(1)
				break
			}
		}
		if ok, muted := d.limiter.allow("drop:"+why+":"+p.Link, d.step); ok {
			d.log.Warn("dropped "+why+" packet", zap.String("link", p.Link),
				zap.Stringer("from", p.From), zap.Error(err), zap.Int("suppressed", muted))
		}
		return
	}
	now := d.now()
	now.Mono = at
	d.node.Receive(now, p.Link, m)
}

// flush carries out what the node layer decided, until it has nothing
// left: messages out on every link, group actions to the runner, fencing,
// self-fencing, log lines, and answers to waiting operator commands.
func (d *Daemon) flush() {
	for d.node.HasReady() {
		r := d.node.Ready()
		for _, m := range r.Messages {
			d.send(m)
		}
		for _, e := range r.Events {
			d.observe(e)
			d.event(e)
			d.publish(e)
		}
		for _, a := range r.Actions {
			d.log.Info(a.Kind.String()+" group "+a.Group, zap.String("group", a.Group))
			d.res.run.Submit(a)
		}
		for _, n := range r.Fence {
			d.fence(n)
		}
		if r.FenceSelf {
			d.stopFailed()
		}
		for _, a := range r.Answers {
			d.answerMove(a)
		}
		for _, p := range r.Probes {
			d.sendProbe(p)
		}
	}
	d.publishMetrics()
}

// send puts one message on every link.
func (d *Daemon) send(m *msg.Message) {
	if m.Type() == "status" {
		d.statusOut = true // kick the watchdog after it
	}
	b := msg.EncodeNetstring(m, d.keys, d.cfg.MsgFmt != "netstring")
	var classic []byte // serial links speak classic text; encoded once, when needed
	for _, l := range d.links {
		frame := b
		if l.classic {
			if classic == nil {
				classic = msg.EncodeClassic(m, d.keys)
			}
			frame = classic
		}
		if err := l.Send(frame); err != nil {
			l.txErrors.Add(1)
			l.lastErr.Store(err.Error())
			if ok, muted := d.limiter.allow("send:"+l.name, d.step); ok {
				d.log.Warn("send failed", zap.String("link", l.name), zap.Error(err), zap.Int("suppressed", muted))
			}
			continue
		}
		l.txPackets.Add(1)
		if e, _ := l.lastErr.Load().(string); e != "" {
			l.lastErr.Store("") // recovered: the last error is history
		}
	}
}

// saveMarks hands the current peer marks to the writer goroutine: two
// fsyncs on a slow disk must not delay a takeover or a heartbeat. A newer
// snapshot replaces one still waiting.
func (d *Daemon) saveMarks() {
	d.marksSave = d.step.Add(marksEvery)
	snap := d.markSnapshot()
	for {
		select {
		case d.marksCh <- snap:
			return
		default:
		}
		select {
		case <-d.marksCh: // drop the stale one
		default:
		}
	}
}

func (d *Daemon) markSnapshot() map[string]state.PeerMark {
	out := map[string]state.PeerMark{}
	for n, m := range d.node.Marks() {
		out[n] = state.PeerMark{Gen: m.Gen, Seq: m.Seq}
	}
	return out
}

// writeMarks persists snapshots until marksCh is closed.
func (d *Daemon) writeMarks(done chan<- struct{}) {
	defer close(done)
	for snap := range d.marksCh {
		d.persistMarks(snap)
	}
}

func (d *Daemon) persistMarks(snap map[string]state.PeerMark) {
	if err := state.SaveMarks(d.opts.StateDir, snap); err != nil {
		d.log.Warn("cannot save peer marks", zap.Error(err))
	}
}

// beginStop releases every resource; shutdone follows once they are
// released (the node layer decides). A second stop retries failed stops.
func (d *Daemon) beginStop(why string) {
	_ = sdnotify.Stopping()
	d.log.Info("graceful stop: releasing resources", zap.String("reason", why))
	d.node.Stop(d.now())
}

func (d *Daemon) signal(s os.Signal) {
	switch s {
	case syscall.SIGTERM, syscall.SIGINT:
		d.beginStop(s.String())
	case syscall.SIGHUP:
		d.reload()
	case syscall.SIGUSR1:
		d.setDebug(d.debug + 1)
	case syscall.SIGUSR2:
		d.setDebug(d.debug - 1)
	}
}

func (d *Daemon) setDebug(level int) {
	if level < 0 {
		level = 0
	}
	if level > 255 {
		level = 255
	}
	d.debug = level
	d.logs.level.SetLevel(levelFor(level))
	d.log.Info("debug level changed", zap.Int("level", level))
}
