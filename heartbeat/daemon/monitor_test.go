package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/resources/haresources"
)

func TestMonitorSpecsAndSummary(t *testing.T) {
	groups := []haresources.Group{{Key: "vip", Resources: []haresources.Resource{
		{Raw: "vip"},
		{Raw: "httpd", MonitorInterval: 5 * time.Second, MonitorTimeout: 2 * time.Second},
		{Raw: "db", Timeout: 40 * time.Second},
	}}}
	specs := monitorSpecs(groups, 0)["vip"]
	if specs[0].Interval != 0 || specs[1].Interval != 5*time.Second || specs[1].Timeout != 2*time.Second || specs[2].Interval != 0 {
		t.Errorf("without ha.cf's monitor_interval only httpd is monitored: %+v", specs)
	}
	specs = monitorSpecs(groups, 10*time.Second)["vip"]
	if specs[0].Interval != 10*time.Second || specs[0].Timeout != 20*time.Second || specs[1].Interval != 5*time.Second ||
		specs[2].Timeout != 40*time.Second {
		t.Errorf("with monitor_interval 10s: %+v (timeouts: monitor_timeout, else the resource's timeout, else 20s)", specs)
	}
	got := strings.Join(MonitorSummary(&config.Config{}, groups), "\n")
	if !strings.Contains(got, "monitored in vip: httpd every 5s (timeout 2s); 3 restarts in place within 10m0s") {
		t.Errorf("summary %q", got)
	}
	plain := []haresources.Group{{Key: "vip", Resources: []haresources.Resource{{Raw: "vip"}}}}
	if got := strings.Join(MonitorSummary(&config.Config{}, plain), "\n"); !strings.Contains(got, "not monitored") {
		t.Errorf("heartbeat -t should suggest monitoring: %q", got)
	}
	if got := MonitorSummary(&config.Config{}, nil); len(got) != 0 {
		t.Errorf("no groups, no suggestion: %q", got)
	}
}
