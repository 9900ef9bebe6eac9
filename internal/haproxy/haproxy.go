// Package haproxy writes the configuration of the haproxy that `stockroom dev
// --instances N` (make cluster) and the bench's SCALE scenario put in front of
// several serve copies, so that the bench measures the front the cluster runs.
package haproxy

import (
	"fmt"
	"strings"
)

// Config is haproxy's configuration for a front on bind (host:port) that spreads
// requests round robin over servers (host:port each, named copy1, copy2, ...),
// taking a copy out while its /readyz fails and back once it answers 200 twice.
// maxconn caps haproxy's connections in all.
//
// retry-on conn-failure: a request that never reached a copy (it just died) is sent
// to another; a request a copy received is never sent twice by haproxy (the
// client's Idempotency-Key makes its own retry safe).
func Config(bind string, maxconn int, servers []string) string {
	var lines strings.Builder
	for i, s := range servers {
		fmt.Fprintf(&lines, "    server copy%d %s check\n", i+1, s)
	}
	return fmt.Sprintf(`global
    maxconn %d

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    retry-on conn-failure
    option redispatch

frontend stockroom
    bind %s
    default_backend copies

backend copies
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
%s`, maxconn, bind, lines.String())
}
