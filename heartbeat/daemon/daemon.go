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
	"github.com/hasuite/hasuite/heartbeat/state"
	"github.com/hasuite/hasuite/internal/realtime"
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
	// stopGrace bounds a graceful stop after shutdone was first sent.
	stopGrace = 3 * time.Second
	// marksEvery is how often peer marks are saved while running.
	marksEvery = 5 * time.Second
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
	core      *core.Core
	start     time.Time
	debug     int

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

	res     *resourceLayer
	waiters []*waiter

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

	stopping     bool // resources are being released
	coreStopping bool // shutdone announced
	stopBy       time.Time
	marksSave    time.Time
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
		return nil, nil, fmt.Errorf("%w:\n%v", ErrConfig, err)
	}
	errs, warns := Check(cfg)
	warns = append(append([]config.Diag(nil), cfg.Warnings...), warns...)
	if len(errs) > 0 {
		return nil, warns, fmt.Errorf("%w:\n%v", ErrConfig, config.ErrorList(errs))
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
		limiter: newRateLimiter(10 * time.Second), start: time.Now()}
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
	cfg := d.cfg
	groups, err := loadGroups(cfg.Dir, cfg.Nodes)
	if err != nil {
		return err
	}
	if d.fencing, err = d.newFencing(); err != nil {
		return err
	}
	gen, err := state.NextGeneration(d.opts.StateDir, cfg.GenMethod, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	uuid, err := state.NodeUUID(d.opts.StateDir, cfg.UUIDFrom, cfg.LocalNode)
	if err != nil {
		return fmt.Errorf("node uuid: %w", err)
	}
	marks, err := state.LoadMarks(d.opts.StateDir)
	if err != nil {
		return err
	}
	srv, err := control.Listen(d.opts.RunDir, d.handle)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer srv.Close()
	if d.removePid, err = control.WritePidFile(d.opts.RunDir); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	// The loop first: serial links hand their frames to it as soon as
	// they are open.
	if d.loop, err = evloop.New(); err != nil {
		return err
	}
	defer d.loop.Close()
	if err := d.openLinks(); err != nil {
		d.closeLinks()
		return err
	}
	defer d.closeLinks()

	c, err := core.New(d.coreConfig(gen, uuid, marks))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	d.core = c
	if d.res, err = d.newResourceLayer(groups); err != nil {
		return err
	}
	defer d.res.close()
	d.removeLeftovers()
	if err := d.openWatchdog(); err != nil {
		return err
	}
	defer d.closeWatchdog()
	if iv, err := sdnotify.WatchdogInterval(); err != nil {
		d.log.Warn("systemd watchdog settings unusable", zap.Error(err))
	} else {
		d.sdInterval = iv
	}
	d.log.Info("heartbeat starting",
		zap.String("node", cfg.LocalNode), zap.String("generation", fmt.Sprintf("%x", gen)),
		zap.Strings("nodes", cfg.Nodes), zap.Duration("keepalive", cfg.Keepalive),
		zap.Duration("deadtime", cfg.Deadtime), zap.Duration("initdead", cfg.Initdead),
		zap.String("auth", d.keys.Signer().Method.String()), zap.Int("links", len(d.links)),
		zap.Int("groups", len(groups)), zap.String("auto_failback", cfg.AutoFailback))
	if d.keys.Weak() {
		d.log.Warn("authkeys uses crc: packets are NOT authenticated, anybody on the network can forge them; use sha256")
	}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	for i, l := range d.links {
		if l.udp != nil {
			if err := d.loop.Add(l.udp.Fd(), i); err != nil {
				return fmt.Errorf("link %s: %w", l.name, err)
			}
		}
	}
	d.rxBuf = make([]byte, link.MaxMessage)
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
	c.Start(d.now())
	d.flush()
	d.marksSave = time.Now().Add(marksEvery)
	stopMaintain := make(chan struct{})
	maintainDone := make(chan struct{})
	go d.maintainLinks(stopMaintain, maintainDone)
	defer func() { close(stopMaintain); <-maintainDone }() // before closeLinks
	for {
		deadline := d.nextDeadline()
		ready, err := d.loop.Wait(deadline)
		if err != nil {
			// Cannot happen with a valid epoll set; never spin on it.
			if ok, muted := d.limiter.allow("epoll", time.Now()); ok {
				d.log.Error("waiting for events failed", zap.Error(err), zap.Int("suppressed", muted))
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Everything that arrived is read before any deadline is judged,
		// and counts from when it arrived: a spell in which this daemon
		// was not scheduled is not the peer's silence.
		woke := time.Now()
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
		now := d.now()
		if !wasBehind {
			d.noteLateWake(deadline, woke, read, horizon < now.Mono)
		}
		if c.Next() <= now.Mono {
			c.TickUpTo(now, horizon)
		}
		d.flush()
		if d.stopping && !d.coreStopping && d.res.mgr.Done() {
			d.coreStopping = true
			d.stopBy = time.Now().Add(stopGrace)
			d.log.Info("resources released: announcing shutdone to the peers")
			c.Stop(d.now())
			d.flush()
		}
		d.answerWaiters()
		d.kickWatchdogs()
		if time.Now().After(d.fenceCheck) {
			d.checkFencing()
		}
		if time.Now().After(d.marksSave) {
			d.saveMarks()
		}
		if d.coreStopping && (c.Done() || time.Now().After(d.stopBy)) {
			break
		}
	}
	close(d.marksCh)
	<-marksDone
	d.persistMarks(d.markSnapshot()) // the last word, synchronously
	d.log.Info("heartbeat stopped", zap.String("node", cfg.LocalNode))
	return nil
}

// pump hands everything that arrives on a channel (signals, control
// requests, resource results, fencing outcomes) to the loop as posted
// work. It is idle on an idle node: heartbeats never pass through it (UDP
// links are read by the loop, serial links post their frames themselves).
func (d *Daemon) pump(done <-chan struct{}, sigs <-chan os.Signal, stop <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	results, alerts := d.res.run.Results(), d.res.run.Alerts()
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
			d.dropped.tooLarge.Add(1)
			if ok, muted := d.limiter.allow("drop:oversized:"+l.name, time.Now()); ok {
				d.log.Warn("dropped oversized packet", zap.String("link", l.name), zap.Stringer("from", p.From),
					zap.Error(err), zap.Int("suppressed", muted))
			}
		default:
			if ok, muted := d.limiter.allow("recv:"+l.name, time.Now()); ok {
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
	if deadline.IsZero() || d.core == nil {
		return
	}
	late := woke.Sub(deadline)
	if late <= d.cfg.Keepalive {
		return
	}
	d.core.Stalled(deadline.Sub(d.start), woke.Sub(d.start))
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

// now is the core's clock: monotonic since start, plus wall seconds.
func (d *Daemon) now() core.Time {
	return core.Time{Mono: time.Since(d.start), Wall: time.Now().Unix()}
}

// nextDeadline is when the loop must next run even if nothing arrives:
// the earliest of the core's and the resource manager's timers and the
// loop's own chores. It is an absolute time, so that an unchanged
// deadline is recognised as such and the loop's timer left alone.
func (d *Daemon) nextDeadline() time.Time {
	next := d.start.Add(d.core.Next())
	next = earliest(next, d.start.Add(d.res.mgr.Next()))
	if d.coreStopping {
		next = earliest(next, d.stopBy)
	}
	next = earliest(next, d.nextWaiterDeadline())
	next = earliest(next, d.marksSave)
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

func (d *Daemon) coreConfig(gen uint64, uuid [16]byte, marks map[string]state.PeerMark) core.Config {
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
	return core.Config{
		LocalNode: cfg.LocalNode, Nodes: cfg.Nodes, PingNodes: len(cfg.Ping), Links: names,
		Keepalive: cfg.Keepalive, Deadtime: cfg.Deadtime, Warntime: cfg.Warntime, Initdead: cfg.Initdead,
		MaxRexmitDelay: cfg.MaxRexmitDelay, Hopfudge: cfg.Hopfudge, UUID: uuid[:], Generation: gen,
		FlowControl: true, LoadAvg: loadAvg(), Seed: time.Now().UnixNano(), PeerMarks: cm,
	}
}

// loadAvg returns the "ld" field source: the first line of /proc/loadavg,
// re-read at most once a second.
func loadAvg() func() string {
	var last time.Time
	var val = "n/a"
	return func() string {
		if time.Since(last) < time.Second {
			return val
		}
		last = time.Now()
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			val = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		}
		return val
	}
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
		switch {
		case errors.Is(err, msg.ErrAuth):
			d.dropped.badAuth.Add(1)
			why = "bad signature"
		case errors.Is(err, msg.ErrNoAuth):
			d.dropped.noAuth.Add(1)
			why = "unsigned"
		case errors.Is(err, msg.ErrTooLarge):
			d.dropped.tooLarge.Add(1)
			why = "oversized"
		default:
			d.dropped.malformed.Add(1)
			why = "malformed"
		}
		for _, l := range d.links {
			if l.name == p.Link {
				l.rxBad.Add(1)
				break
			}
		}
		if ok, muted := d.limiter.allow("drop:"+why+":"+p.Link, time.Now()); ok {
			d.log.Warn("dropped "+why+" packet", zap.String("link", p.Link),
				zap.Stringer("from", p.From), zap.Error(err), zap.Int("suppressed", muted))
		}
		return
	}
	now := d.now()
	now.Mono = at
	d.core.Receive(now, p.Link, m)
}

// flush sends what the core and the resource manager produced and acts on
// their events, until neither has anything left.
func (d *Daemon) flush() {
	for {
		d.flushResources()
		if !d.core.HasReady() {
			return
		}
		out, events := d.core.Ready()
		for _, m := range out {
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
					if ok, muted := d.limiter.allow("send:"+l.name, time.Now()); ok {
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
		for _, e := range events {
			d.event(e)
		}
	}
}

// saveMarks hands the current peer marks to the writer goroutine: two
// fsyncs on a slow disk must not delay a takeover or a heartbeat. A newer
// snapshot replaces one still waiting.
func (d *Daemon) saveMarks() {
	d.marksSave = time.Now().Add(marksEvery)
	if d.core == nil {
		return
	}
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
	for n, m := range d.core.Marks() {
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
// released (see the loop). A second stop retries failed stops.
func (d *Daemon) beginStop(why string) {
	if d.coreStopping {
		return
	}
	d.stopping = true
	_ = sdnotify.Stopping()
	d.log.Info("graceful stop: releasing resources", zap.String("reason", why))
	d.res.mgr.Stop(time.Since(d.start))
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
