package haresources

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseResourceValid(t *testing.T) {
	ip := func(typ, arg string, spec IPSpec) Resource {
		return Resource{Kind: KindIP, Type: typ, Args: []string{arg}, IP: &spec}
	}
	tests := []struct {
		tok  string
		want Resource
	}{
		// Heartbeat's bare IPv4 shorthand.
		{"198.18.0.100", ip("IPaddr", "198.18.0.100", IPSpec{Addr: "198.18.0.100"})},
		{"198.18.0.100/24", ip("IPaddr", "198.18.0.100/24", IPSpec{Addr: "198.18.0.100", Bits: 24})},
		{"198.18.0.100/24/eth0", ip("IPaddr", "198.18.0.100/24/eth0", IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0"})},
		{"198.18.0.100/24/eth0:0", ip("IPaddr", "198.18.0.100/24/eth0:0", IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0", Label: "eth0:0"})},
		{"198.18.0.100/24/198.18.0.255", ip("IPaddr", "198.18.0.100/24/198.18.0.255", IPSpec{Addr: "198.18.0.100", Bits: 24, Broadcast: "198.18.0.255"})},
		{"198.18.0.100/24/eth0/198.18.0.255", ip("IPaddr", "198.18.0.100/24/eth0/198.18.0.255", IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0", Broadcast: "198.18.0.255"})},
		{"10.1.2.3/255.255.0.0/bond0.100", ip("IPaddr", "10.1.2.3/255.255.0.0/bond0.100", IPSpec{Addr: "10.1.2.3", Bits: 16, Iface: "bond0.100"})},
		{"10.1.2.3/32", ip("IPaddr", "10.1.2.3/32", IPSpec{Addr: "10.1.2.3", Bits: 32})},
		{"10.1.2.3/1", ip("IPaddr", "10.1.2.3/1", IPSpec{Addr: "10.1.2.3", Bits: 1})},
		{"10.1.2.3/24/abcdefghijklmno", ip("IPaddr", "10.1.2.3/24/abcdefghijklmno", IPSpec{Addr: "10.1.2.3", Bits: 24, Iface: "abcdefghijklmno"})},
		{"10.1.2.3/24/eth0:vip1234567", ip("IPaddr", "10.1.2.3/24/eth0:vip1234567", IPSpec{Addr: "10.1.2.3", Bits: 24, Iface: "eth0", Label: "eth0:vip1234567"})},
		// IPaddr:: and IPaddr2::.
		{"IPaddr::198.18.0.100", ip("IPaddr", "198.18.0.100", IPSpec{Addr: "198.18.0.100"})},
		{"IPaddr2::198.18.0.100/24/eth0:1/198.18.0.255", ip("IPaddr2", "198.18.0.100/24/eth0:1/198.18.0.255", IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0", Label: "eth0:1", Broadcast: "198.18.0.255"})},
		{"IPaddr2::198.18.0.100/24/198.18.0.255", ip("IPaddr2", "198.18.0.100/24/198.18.0.255", IPSpec{Addr: "198.18.0.100", Bits: 24, Broadcast: "198.18.0.255"})},
		// IPv6.
		{"2001:db8::10", ip("IPv6addr", "2001:db8::10", IPSpec{Addr: "2001:db8::10"})},
		{"2001:DB8::10/64", ip("IPv6addr", "2001:DB8::10/64", IPSpec{Addr: "2001:db8::10", Bits: 64})},
		{"fe80::1/64/eth1", ip("IPv6addr", "fe80::1/64/eth1", IPSpec{Addr: "fe80::1", Bits: 64, Iface: "eth1"})},
		{"64:ff9b::1.2.3.4/96", ip("IPv6addr", "64:ff9b::1.2.3.4/96", IPSpec{Addr: "64:ff9b::102:304", Bits: 96})},
		{"IPv6addr::2001:db8::10/64/eth0", ip("IPv6addr", "2001:db8::10/64/eth0", IPSpec{Addr: "2001:db8::10", Bits: 64, Iface: "eth0"})},
		{"IPv6addr::2001:db8::10/128", ip("IPv6addr", "2001:db8::10/128", IPSpec{Addr: "2001:db8::10", Bits: 128})},
		// OCF, Heartbeat's form.
		{"OCF::Dummy::web", Resource{Kind: KindOCF, Type: "Dummy", Args: []string{"Dummy", "web"},
			OCF: &OCFSpec{Provider: "heartbeat", Agent: "Dummy", Instance: "web", ParamFile: "/etc/ha.d/conf/OCF/Dummy/web"}}},
		// OCF, provider:agent with parameters.
		{"ocf:heartbeat:Dummy", Resource{Kind: KindOCF, Type: "Dummy", OCF: &OCFSpec{Provider: "heartbeat", Agent: "Dummy", Instance: "Dummy"}}},
		{"ocf:pacemaker:Stateful::state=/run/x::empty=::eq=a=b", Resource{Kind: KindOCF, Type: "Stateful", OCF: &OCFSpec{
			Provider: "pacemaker", Agent: "Stateful", Instance: "Stateful", Params: map[string]string{"state": "/run/x", "empty": "", "eq": "a=b"}}}},
		{"ocf:heartbeat:IPaddr2::ip=10.0.0.5::_x9=1", Resource{Kind: KindOCF, Type: "IPaddr2", OCF: &OCFSpec{
			Provider: "heartbeat", Agent: "IPaddr2", Instance: "IPaddr2", Params: map[string]string{"ip": "10.0.0.5", "_x9": "1"}}}},
		// Scripts.
		{"httpd", Resource{Kind: KindScript, Type: "httpd"}},
		{"apache2", Resource{Kind: KindScript, Type: "apache2"}},
		{"Filesystem::/dev/sda1::/data1::ext2", Resource{Kind: KindScript, Type: "Filesystem", Args: []string{"/dev/sda1", "/data1", "ext2"}}},
		{"MailTo::root@example.com::Failover", Resource{Kind: KindScript, Type: "MailTo", Args: []string{"root@example.com", "Failover"}}},
		{"IPsrcaddr::198.18.0.100", Resource{Kind: KindScript, Type: "IPsrcaddr", Args: []string{"198.18.0.100"}}},
		{"drbddisk::r0", Resource{Kind: KindScript, Type: "drbddisk", Args: []string{"r0"}}},
		{"x::a:::b", Resource{Kind: KindScript, Type: "x", Args: []string{"a", ":b"}}},
		{"foo:bar", Resource{Kind: KindScript, Type: "foo:bar"}},
		{"...", Resource{Kind: KindScript, Type: "..."}},
		{"ipaddr::10.0.0.1", Resource{Kind: KindScript, Type: "ipaddr", Args: []string{"10.0.0.1"}}},
		{"mysql-5.7", Resource{Kind: KindScript, Type: "mysql-5.7"}},
		{"ünïcode::ärg", Resource{Kind: KindScript, Type: "ünïcode", Args: []string{"ärg"}}},
	}
	for _, tt := range tests {
		t.Run(tt.tok, func(t *testing.T) {
			pos := Pos{File: "f", Line: 7}
			got, err := ParseResource(tt.tok, pos)
			if err != nil {
				t.Fatalf("ParseResource(%q): %v", tt.tok, err)
			}
			tt.want.Raw, tt.want.Pos = tt.tok, pos
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseResource(%q)\n got %s\nwant %s", tt.tok, dump(got), dump(tt.want))
			}
		})
	}
}

func TestParseResourceInvalid(t *testing.T) {
	tests := []struct{ tok, err string }{
		{"", "empty"},
		{"a b", "blank"},
		{"a\tb", "blank"},
		{"a#b", "'#'"},
		{`a\b`, "backslash"},
		{"a\x00b", "control character"},
		{"a\x7f", "control character"},
		{"a\xffb", "UTF-8"},
		{"a\u00a0b", "blank"},
		// IPv4 shorthand that is no address.
		{"1.2.3.4.5", "looks like an IPv4 address"},
		{"256.1.1.1", "not an IP address"},
		{"010.0.0.1", "not an IP address"},
		{"1abc.2.3.4", "looks like an IPv4"},
		{"10.0.0.1::x", "looks like an IPv4"},
		{"0.0.0.0", "cannot be a virtual IP"},
		{"127.0.0.2", "cannot be a virtual IP"},
		{"224.0.0.1", "cannot be a virtual IP"},
		{"255.255.255.255", "cannot be a virtual IP"},
		{"10.0.0.1/", "empty prefix length"},
		{"10.0.0.1/0", "out of range 1-32"},
		{"10.0.0.1/33", "out of range 1-32"},
		{"10.0.0.1/+8", "not a number"},
		{"10.0.0.1/1000", "not a number"},
		{"10.0.0.1/255.0.255.0", "not a contiguous netmask"},
		{"10.0.0.1/0.0.0.0", "not a contiguous netmask"},
		{"10.0.0.1/255.255.255.256", "not a dotted IPv4 netmask"},
		{"10.0.0.1/24/", "empty interface name"},
		{"10.0.0.1/24/abcdefghijklmnop", "longer than 15"},
		{"10.0.0.1/24/..", "not an interface name"},
		{"10.0.0.1/24/eth0:", "empty label"},
		{"10.0.0.1/24/eth0:a:b", "contains ':'"},
		{"10.0.0.1/24/eth0:abcdefghijk", "longer than 15"},
		{"10.0.0.1/24/:0", "empty interface name"},
		{"10.0.0.1/24/10.0.0.255/eth0", "nothing may follow"},
		{"10.0.0.1/24/10.0.0.256", "broadcast"},
		{"10.0.0.1/24/eth0/eth1", "broadcast \"eth1\""},
		{"10.0.0.1/24/eth0/10.0.0.255/x", "too many '/' parts"},
		// IPaddr::, IPaddr2::.
		{"IPaddr", "needs an address"},
		{"IPaddr2", "needs an address"},
		{"IPaddr::", "not an IP address"},
		{"IPaddr::web", "not an IP address"},
		{"IPaddr2::2001:db8::1", "not an IPv4 address"},
		{"IPaddr2::::ffff:10.0.0.1", "IPv4-mapped"},
		{"IPaddr2::10.0.0.1%eth0", "not an IP address"},
		// IPv6.
		{"IPv6addr", "needs an address"},
		{"IPv6addr::10.0.0.1/24", "not an IPv6 address"},
		{"IPv6addr::::ffff:10.0.0.1", "IPv4-mapped"},
		{"::ffff:10.0.0.1", "IPv4-mapped"},
		{"fe80::1%eth0/64", "zone"},
		{"::1", "cannot be a virtual IP"},
		{"::", "cannot be a virtual IP"},
		{"ff02::1/64", "cannot be a virtual IP"},
		{"2001:db8::1/0", "out of range 1-128"},
		{"2001:db8::1/129", "out of range 1-128"},
		{"2001:db8::1/64/eth0:1", "contains ':'"},
		{"2001:db8::1/64/eth0/x", "too many '/' parts"},
		{"2001:db8::1/ffff::", "not a number"},
		// OCF::
		{"OCF", "needs an agent and an instance"},
		{"OCF::Dummy", "have 1 arguments"},
		{"OCF::Dummy::a::b", "have 3 arguments"},
		{"OCF::::a", "agent name is empty"},
		{"OCF::Dummy::", "instance name is empty"},
		{"OCF::../x::a", "contains '/'"},
		{"OCF::Dummy::..", "not a file name"},
		// ocf:
		{"ocf:", "want ocf:<provider>:<agent>"},
		{"ocf:heartbeat", "want ocf:<provider>:<agent>"},
		{"ocf:a:b:c", "want ocf:<provider>:<agent>"},
		{"ocf::Dummy", "want ocf:<provider>:<agent>"},
		{"ocf:.:Dummy", "provider name \".\" is not a file name"},
		{"ocf:heartbeat:", "agent name is empty"},
		{"ocf:x/y:Dummy", "contains '/'"},
		{"ocf:heartbeat:..", "not a file name"},
		{"OCF:heartbeat:Dummy", "must be written \"ocf\""},
		{"Ocf::Dummy::x", "want ocf:<provider>:<agent>"},
		{"ocf::Dummy::x", "want ocf:<provider>:<agent>"},
		{"ocf:heartbeat:Dummy::", "want name=value"},
		{"ocf:heartbeat:Dummy::state", "want name=value"},
		{"ocf:heartbeat:Dummy::=x", "not a shell identifier"},
		{"ocf:heartbeat:Dummy::9a=x", "not a shell identifier"},
		{"ocf:heartbeat:Dummy::a-b=x", "not a shell identifier"},
		{"ocf:heartbeat:Dummy::a=1::b=2::a=3", "given twice"},
		{"ocf:heartbeat:Dummy::a=1::::b=2", "want name=value"},
		// Scripts.
		{"::x", "script name is empty"},
		{".", "not a file name"},
		{"..", "not a file name"},
		{"..::x", "not a file name"},
		{"/etc/init.d/httpd", "contains '/'"},
		{"sub/dir", "contains '/'"},
		{"httpd::", "argument 1 is empty"},
		{"Filesystem::/dev/sda1::::ext2", "argument 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.tok, func(t *testing.T) {
			_, err := ParseResource(tt.tok, Pos{File: "haresources", Line: 12})
			if err == nil {
				t.Fatalf("ParseResource(%q) succeeded, want error containing %q", tt.tok, tt.err)
			}
			if !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "haresources:12: ") {
				t.Errorf("ParseResource(%q) = %q, want haresources:12: ...%s...", tt.tok, err, tt.err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Pos.Line != 12 {
				t.Errorf("error %v is not an *Error at line 12", err)
			}
		})
	}
}

func TestParseResourceConfDir(t *testing.T) {
	old := OCFConfDir
	OCFConfDir = "/tmp/conf/OCF"
	defer func() { OCFConfDir = old }()
	r, err := ParseResource("OCF::Dummy::web", Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if r.OCF.ParamFile != "/tmp/conf/OCF/Dummy/web" {
		t.Errorf("ParamFile = %q", r.OCF.ParamFile)
	}
}

func TestErrorWithoutPos(t *testing.T) {
	_, err := ParseResource("IPaddr", Pos{})
	if err == nil || strings.HasPrefix(err.Error(), ":") || !strings.HasPrefix(err.Error(), "resource ") {
		t.Errorf("error = %v, want it to start with the message", err)
	}
}
