//go:build !amd64 && !arm64

package testbed

// sysSetns is unknown here; setns reports ENOSYS and Host.Do fails.
const sysSetns = 0
