// Package haresources parses Heartbeat's haresources file (and its TOML
// form, haresources.toml) into resource groups.
//
// # haresources
//
// The grammar is Heartbeat 3.0.6's (ResourceManager's ipres):
//
//	<node> <resource> [<resource> ...]     # one group per logical line
//
// '#' starts a comment that runs to the end of the physical line. A line
// ending in '\' (blanks after it are ignored) continues on the next line:
// the backslash and the line break are removed and nothing is put in their
// place, as ResourceManager does, so indent continuation lines. Runs of
// blanks (spaces, tabs, and here also carriage returns) separate words.
// The node name is lower-cased and must be one of the cluster's nodes. The
// first resource is the group key (ip-request, takegroup); no resource may
// appear twice in the file: neither the same token, nor the same address,
// script with the same arguments, or OCF instance under another spelling.
// A word may not contain '\' anywhere but at the end of a line.
//
// Errors name "file:line"; every error is reported (up to 50).
//
// # Resources
//
// Tokens are tried in this order:
//
//   - ocf:<provider>:<agent>[::name=value...]: an OCF agent (KindOCF) with
//     OCF_RESKEY_ parameters; names are shell identifiers, given once.
//     Its OCF_RESOURCE_INSTANCE is "<agent>_<g>", g the group's number in
//     the file counting from 1 ("Dummy_2"); a second resource of the same
//     agent in one group is "<agent>_<g>_2", and so on. Both nodes read
//     the same file, so both agree on the names; reordering groups renames.
//   - a bare IPv6 address (the part before the first '/' contains ':' and
//     is an IPv6 address): addr[/bits[/iface]], KindIP of type IPv6addr.
//     A script whose name is all hex digits with an argument that makes an
//     IPv6 address (e.g. "cafe::1") is read as an address.
//   - Heartbeat's IPv4 shorthand, anything matching the shell glob
//     [0-9]*.[0-9]*.[0-9]*.[0-9]*: it must be a valid IPaddr spec,
//     KindIP of type IPaddr.
//   - IPaddr::<spec>, IPaddr2::<spec>: KindIP, IPv4. <spec> is ip,
//     ip/bits, ip/bits/iface, ip/bits/bcast (a dotted number as third part
//     is the broadcast address) or ip/bits/iface/bcast; bits is 1-32 or a
//     contiguous dotted netmask; iface may be "eth0:label", whose Label is
//     the whole "eth0:label" (at most 15 characters, as are interface
//     names). Unspecified, loopback, multicast and broadcast addresses are
//     refused.
//   - IPv6addr::<addr>[/bits[/iface]]: KindIP, IPv6, bits 1-128.
//   - OCF::<agent>::<instance>: Heartbeat's OCF wrapper (KindOCF, provider
//     "heartbeat"), parameters read from OCFConfDir/<agent>/<instance>.
//   - anything else, Name[::a1::a2...]: a resource.d or init.d script
//     (KindScript) with arguments; Name is a file name (no '/', not "." or
//     ".."), arguments are not empty. Filesystem::/dev/sda1::/data::ext4
//     and MailTo::root are scripts.
//
// # haresources.toml
//
// The TOML form lives next to haresources as haresources.toml (having both
// is an error). It holds the same groups, in the same order, with the
// same resource tokens, plus options the one-line form has no room for.
// Unknown keys are errors.
//
//	[[group]]
//	node = "node1"
//	resources = ["198.18.0.100/24/eth0", "httpd"]
//	timeout = "60s"            # optional: every resource's timeout
//	restarts = 3               # optional: restarts in place of a failed resource
//	restart_window = "10m"     # within this window before the group moves (0-1000, at least 1s)
//
//	[[group.resource_options]] # optional, one table per resource
//	resource = "httpd"         # the token as written, or its index from 0
//	timeout = "30s"            # each operation's limit (Resource.Timeout)
//	monitor_interval = "10s"   # check its status this often while it runs here (at least 100ms)
//	monitor_timeout = "5s"     # one check's limit (default: timeout); a timeout is a failure
//
//	[[group.resource_options]]
//	resource = 0               # a virtual IP: how it is announced
//	garp_count = 5             # gratuitous ARP / NA rounds when taken (1-100)
//	garp_interval = "200ms"    # between rounds (at least 1ms)
//	garp_refresh = "10s"       # re-announce while held (at least 100ms; unset = never)
//
//	[[group.check]]            # optional, any number: keepalived's vrrp_script
//	name = "httpd"             # default: base name of command[0]; unique in the group
//	command = ["/usr/bin/killall", "-0", "httpd"]  # argv, no shell (write ["sh", "-c", "..."])
//	interval = "1s"            # default 1s, at least 10ms
//	timeout = "1s"             # default: interval
//	fall = 2                   # consecutive failures: failed (1-1000, default 1)
//	rise = 2                   # consecutive successes: passing (1-1000, default 1)
//	weight = -2                # -253..253, default 0 (0: a failed check makes the node ineligible)
//	user = "nobody"            # optional, "user" or "user:group"
//
// Timeouts are Go durations ("30s", "1m30s", "500ms") or numbers of
// seconds, more than 0 and at most 24h; unset means the manager's default.
// An unset monitor_interval means ha.cf's monitor_interval (off unless
// set). A failed resource and the ones after it are restarted in place;
// a failure while restarts failures within restart_window have already
// been restarted moves the group (defaults 3 and 10m; restarts = 0 moves
// it at the first failure).
// Per-resource settings added later go into resource_options. Checks
// are parsed here; whether the program exists and is executable and the
// user exists is checked when the daemon loads them (heartbeat -t too).
package haresources
