// Command poll is the demo's client: it asks a URL every few milliseconds
// and prints every change of answer with the outage before it, measured
// from the last good answer to the first good answer of the new server.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	url := flag.String("url", "http://198.18.0.100/", "what to poll")
	every := flag.Duration("every", 5*time.Millisecond, "poll interval")
	timeout := flag.Duration("timeout", 50*time.Millisecond, "per-request timeout")
	flag.Parse()
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{Timeout: *timeout}).DialContext,
	}}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	var last string
	var lastOK time.Time
	failing := false
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		body, err := get(client, *url)
		now := time.Now()
		if err != nil {
			if !failing && last != "" {
				fmt.Printf("%s  no answer (%v)\n", now.Format("15:04:05.000"), short(err))
			}
			failing = true
			continue
		}
		if body != last || failing {
			switch {
			case last == "":
				fmt.Printf("%s  %s\n", now.Format("15:04:05.000"), body)
			case body != last:
				fmt.Printf("%s  %s   (outage %d ms)\n", now.Format("15:04:05.000"), body, now.Sub(lastOK).Milliseconds())
			default:
				fmt.Printf("%s  %s again   (outage %d ms)\n", now.Format("15:04:05.000"), body, now.Sub(lastOK).Milliseconds())
			}
		}
		last, lastOK, failing = body, now, false
	}
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func short(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
