package config

import (
	"fmt"
	"io"

	"github.com/BurntSushi/toml"

	"github.com/hasuite/hasuite/internal/tomlpos"
)

// maxTOML bounds the size of ha.toml.
const maxTOML = 1 << 20

// tomlValue holds one raw TOML value. Types are checked after decoding,
// so that every mistake is reported instead of only the first.
type tomlValue struct {
	v   any
	set bool
}

// UnmarshalTOML implements toml.Unmarshaler.
func (t *tomlValue) UnmarshalTOML(v any) error {
	t.v, t.set = v, true
	return nil
}

// tomlDoc is the schema of ha.toml (see the package documentation).
type tomlDoc struct {
	Nodes          tomlValue     `toml:"nodes"`
	Keepalive      tomlValue     `toml:"keepalive"`
	Deadtime       tomlValue     `toml:"deadtime"`
	Warntime       tomlValue     `toml:"warntime"`
	Initdead       tomlValue     `toml:"initdead"`
	Deadping       tomlValue     `toml:"deadping"`
	PingInterval   tomlValue     `toml:"ping_interval"`
	UDPPort        tomlValue     `toml:"udpport"`
	Baud           tomlValue     `toml:"baud"`
	AutoFailback   tomlValue     `toml:"auto_failback"`
	Hopfudge       tomlValue     `toml:"hopfudge"`
	MsgFmt         tomlValue     `toml:"msgfmt"`
	MaxRexmitDelay tomlValue     `toml:"max_rexmit_delay"`
	GenMethod      tomlValue     `toml:"hbgenmethod"`
	UUIDFrom       tomlValue     `toml:"uuidfrom"`
	LogFile        tomlValue     `toml:"logfile"`
	DebugFile      tomlValue     `toml:"debugfile"`
	LogFacility    tomlValue     `toml:"logfacility"`
	Debug          tomlValue     `toml:"debug"`
	Realtime       tomlValue     `toml:"realtime"`
	RTSCTS         tomlValue     `toml:"rtscts"`
	StonithFB      tomlValue     `toml:"stonith_fallback"`
	FenceDelay     tomlValue     `toml:"fence_delay"`
	MonInterval    tomlValue     `toml:"monitor_interval"`
	PluginDir      tomlValue     `toml:"stonith_plugin_dir"`
	RTPrio         tomlValue     `toml:"rtprio"`
	Watchdog       tomlValue     `toml:"watchdog"`
	MetricsListen  tomlValue     `toml:"metrics_listen"`
	MetricsReq     tomlValue     `toml:"metrics_required"`
	Media          []tomlMedium  `toml:"media"`
	Ping           []tomlPing    `toml:"ping"`
	Stonith        []tomlStonith `toml:"stonith"`
	Respawn        []tomlRespawn `toml:"respawn"`
	Env            tomlValue     `toml:"env"`
	Auth           *tomlAuth     `toml:"auth"`
	tomlNotify                   // notify hooks and mail (notify.go)
}

type tomlMedium struct {
	Kind  tomlValue `toml:"kind"`
	Dev   tomlValue `toml:"dev"`
	Peer  tomlValue `toml:"peer"`
	Group tomlValue `toml:"group"`
	Port  tomlValue `toml:"port"`
	TTL   tomlValue `toml:"ttl"`
	Loop  tomlValue `toml:"loop"`
}

type tomlPing struct {
	Hosts tomlValue `toml:"hosts"`
	Group tomlValue `toml:"group"`
}

type tomlStonith struct {
	Host   tomlValue `toml:"host"`
	Type   tomlValue `toml:"type"`
	File   tomlValue `toml:"file"`
	Params tomlValue `toml:"params"`
}

type tomlRespawn struct {
	User     tomlValue `toml:"user"`
	Argv     tomlValue `toml:"argv"`
	FailFast tomlValue `toml:"failfast"`
}

type tomlAuth struct {
	Current tomlValue `toml:"current"`
	Keys    []tomlKey `toml:"keys"`
}

type tomlKey struct {
	Index  tomlValue `toml:"index"`
	Method tomlValue `toml:"method"`
	Secret tomlValue `toml:"secret"`
}

// ParseTOML parses an ha.toml file; see ParseHACF for what is and is not
// resolved. Keys come from its [auth] table when there is one.
func ParseTOML(r io.Reader, file string) (*Config, error) {
	return parseTOML(r, file, env{defaultPort: DefaultUDPPort})
}

func parseTOML(r io.Reader, file string, e env) (*Config, error) {
	b, _, err := buildTOML(r, file)
	if err != nil {
		return nil, err
	}
	return b.finish(e)
}

// buildTOML decodes ha.toml into a builder. hasAuth reports an [auth]
// table, which makes the file secret (Load checks its mode).
func buildTOML(r io.Reader, file string) (b *builder, hasAuth bool, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxTOML+1))
	if err != nil {
		return nil, false, ErrorList{{Pos: Pos{File: file}, Msg: fmt.Sprintf("read: %v", err)}}
	}
	if len(data) > maxTOML {
		return nil, false, ErrorList{{Pos: Pos{File: file}, Msg: fmt.Sprintf("larger than %d bytes", maxTOML)}}
	}
	var doc tomlDoc
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		return nil, false, ErrorList{tomlpos.DecodeError(file, err)}
	}
	b = newBuilder(file)
	b.c.Source = file
	t := tomlApply{b: b, lines: tomlpos.Scan(string(data))}
	for _, k := range md.Undecoded() {
		t.unknownKey(k)
	}
	t.options(&doc)
	t.notify(&doc.tomlNotify)
	for i, m := range doc.Media {
		t.medium(i, m)
	}
	for i, p := range doc.Ping {
		t.ping(i, p)
	}
	for i, s := range doc.Stonith {
		t.stonith(i, s)
	}
	for i, r := range doc.Respawn {
		t.respawn(i, r)
	}
	if doc.Env.set {
		if list, ok := t.wordList("env", doc.Env); ok {
			t.b.option("env", t.pos("env"), list)
		}
	}
	if doc.Auth != nil {
		t.auth(doc.Auth)
	}
	return b, doc.Auth != nil, nil
}
