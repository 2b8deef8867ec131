package testbed

import "time"

// WaitFor polls cond every interval until it holds or timeout passes, and
// returns how long that took: end-to-end tests measure with it what they
// wait for.
func WaitFor(timeout, interval time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(interval)
	}
}
