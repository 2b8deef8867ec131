// Package cli holds the logic and output formats of the operator commands
// cl_status, hb_standby, hb_takeover, hactl and "heartbeat -s", so that
// cmd/* mains only wire os.Args, the standard streams and the real daemon
// client, and tests can drive every command with a fake daemon.
package cli
