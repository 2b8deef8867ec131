// Package manager decides which resource groups this node runs: Heartbeat
// 3.0.6's release-1 ownership protocol (starting/resource negotiation,
// auto_failback on/off, legacy ip-request, the ask_resources standby
// handshake, takeover of a dead peer's groups, release on shutdown) as a
// pure, tick-driven state machine like the membership core.
//
// The daemon feeds it membership events, the peer's resource messages,
// operator commands and the results of group starts and stops; it returns
// messages to send, group actions for the runner, and events to log.
//
// The manager builds its protocol messages (starting, resource,
// ask_resources, hb_takeover, ip-request) as heartbeat/msg values itself:
// an import upward from resources/ into heartbeat/, accepted because those
// messages are Heartbeat's wire protocol and a second message type would
// only be copied field by field into the first.
//
// Vocabulary is Heartbeat's and always relative to the speaker: "local"
// groups are those whose haresources line names the speaker, "foreign" the
// others, "all" both. A two-node cluster is assumed, as in Heartbeat.
package manager
