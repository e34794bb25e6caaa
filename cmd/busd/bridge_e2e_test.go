package main

// "busd bridge" end to end: two hosts, each a busd daemon process with a
// busd bridge process beside it, share one embedded NATS server on
// 127.0.0.1 (plain, then mutual TLS with certificate files given on the
// command line, as the README shows it).

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"busd/internal/natstest"
)

// bridgedHost is one host of a bridge test: its daemon, its bridge and a
// subscriber to everything bridged.
type bridgedHost struct {
	id     string
	sock   string
	daemon *proc
	bridge *proc
	sub    *proc
	notify <-chan string // the bridge's sd_notify messages
}

// startBridgedHost starts the daemon, the subscriber and the bridge of host
// id in dir, the bridge exporting and importing a.> through natsURL, and
// waits for the bridge to tell systemd it is ready.
func startBridgedHost(t *testing.T, id, natsURL string, bridgeArgs ...string) *bridgedHost {
	t.Helper()
	dir := shortTempDir(t)
	h := &bridgedHost{id: id, sock: filepath.Join(dir, "bus.sock")}
	h.daemon = start(t, cleanEnv(t), "--socket", h.sock)
	waitSocket(t, h.daemon, h.sock)
	h.sub = start(t, cleanEnv(t), "sub", "--socket", h.sock, "--name", "watcher-"+id, "a.>")

	notifyPath, msgs := notifySocket(t, dir)
	h.notify = msgs
	args := append([]string{"bridge", "--socket", h.sock, "--nats", natsURL,
		"--export", "a.>", "--import", "a.>", "--host-id", id, "--admin-socket", "off"}, bridgeArgs...)
	began := time.Now()
	h.bridge = start(t, cleanEnv(t, "NOTIFY_SOCKET="+notifyPath), args...)
	h.waitNotify(t, "READY=1")
	t.Logf("%s: bridge ready %v after its start", id, time.Since(began).Round(time.Millisecond))
	return h
}

// readyTimeout bounds the wait for the bridge's READY=1 and for an event to
// cross: an upper bound for -race binaries on a loaded machine, not what a
// test waits when all goes well.
const readyTimeout = 30 * time.Second

// waitNotify waits for an sd_notify message holding want.
func (h *bridgedHost) waitNotify(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(readyTimeout)
	exited := h.bridge.done
	var afterExit <-chan time.Time
	for {
		select {
		case m, ok := <-h.notify:
			if !ok {
				t.Fatalf("%s: notify socket closed before %q", h.id, want)
			}
			if strings.Contains(m, want) {
				return
			}
		case <-exited:
			// A message sent just before the exit may still be in the
			// socket, not yet read: give the reader a moment.
			exited, afterExit = nil, time.After(2*time.Second)
		case <-afterExit:
			t.Fatalf("%s: bridge exited (%v) before %q; stderr:\n%s", h.id, h.bridge.err, want, h.bridge.stderr.String())
		case <-deadline:
			t.Fatalf("%s: no %q from the bridge within %v; stderr:\n%s", h.id, want, readyTimeout, h.bridge.stderr.String())
		}
	}
}

// printed counts the subscriber's lines for topic and body.
func (h *bridgedHost) printed(topic, body string) int {
	return strings.Count(h.sub.stdout.String(), "] "+topic+" "+body+"\n")
}

// startPub starts "busd pub" of one event; pubDone waits for its success.
func (h *bridgedHost) startPub(t *testing.T, topic, body string) *proc {
	t.Helper()
	return start(t, cleanEnv(t), "pub", "--raw", "--socket", h.sock, topic, body)
}

func pubDone(t *testing.T, pub *proc) {
	t.Helper()
	if code := pub.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("pub: exit %d, stderr %s", code, pub.stderr.String())
	}
}

// waitPrintedOnce waits until each host's subscriber printed topic/body.
func waitPrintedOnce(t *testing.T, topic, body string, hosts ...*bridgedHost) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for _, h := range hosts {
		for h.printed(topic, body) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s %s not printed within %v; sub printed:\n%s\nbridge stderr:\n%s",
					h.id, topic, body, readyTimeout, h.sub.stdout.String(), h.bridge.stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// testTwoBridgedHosts runs the scenario both end-to-end tests share: an
// event published on h1 reaches h2's subscriber once and h1's once, the
// bridge is a named connection of its daemon, and SIGTERM stops both
// bridges promptly with exit 0.
func testTwoBridgedHosts(t *testing.T, natsURL string, bridgeArgs ...string) {
	h1 := startBridgedHost(t, "h1", natsURL, bridgeArgs...)
	h2 := startBridgedHost(t, "h2", natsURL, bridgeArgs...)

	// Until one event has crossed each way, a subscription on the path
	// (a subscriber's SUB, a bridge's NATS subscription) may not be in
	// place yet: send warm-up events until one arrives.
	waitPrinted(t, h2.sub, h1.sock, "a.warmup.h1", `{"warm":1}`)
	waitPrinted(t, h1.sub, h2.sock, "a.warmup.h2", `{"warm":2}`)

	const topic, body = "a.once", `{"n":1}`
	// Timed from the pub process's start to the line on h2, not to the
	// pub's exit: a binary built with -race sleeps a second as it exits.
	began := time.Now()
	pub := h1.startPub(t, topic, body)
	waitPrintedOnce(t, topic, body, h2)
	t.Logf("h1 → NATS → h2: printed %v after busd pub started", time.Since(began).Round(time.Millisecond))
	pubDone(t, pub)

	// A duplicate, if a loop made one, would take the path a later event
	// takes, and reach a subscriber before it: a sentinel sent from each
	// host afterwards bounds the wait for one.
	s1, s2 := h1.startPub(t, "a.sentinel.h1", body), h2.startPub(t, "a.sentinel.h2", body)
	pubDone(t, s1)
	pubDone(t, s2)
	waitPrintedOnce(t, "a.sentinel.h1", body, h1, h2)
	waitPrintedOnce(t, "a.sentinel.h2", body, h1, h2)
	for _, h := range []*bridgedHost{h1, h2} {
		for _, topic := range []string{"a.once", "a.sentinel.h1", "a.sentinel.h2"} {
			if n := h.printed(topic, body); n != 1 {
				t.Errorf("%s's subscriber printed %s %d times, want once:\n%s", h.id, topic, n, h.sub.stdout.String())
			}
		}
	}

	// The bridge is a client of its daemon like any other, by name.
	code, stdout, stderr := runCmd(t, nil, "stats", "--socket", h1.sock)
	if code != 0 || !strings.Contains(stdout, "busd-bridge h1") || !strings.Contains(stdout, "watcher-h1") {
		t.Errorf("stats --socket %s: exit %d, stderr %q, no busd-bridge h1 connection:\n%s", h1.sock, code, stderr, stdout)
	}
	code, stdout, _ = runCmd(t, nil, "stats", "--json", "--socket", h1.sock)
	var doc struct {
		Connections []struct {
			Name     string   `json:"name"`
			PID      int      `json:"pid"`
			Patterns []string `json:"patterns"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != 0 || err != nil {
		t.Fatalf("stats --json: exit %d, %v", code, err)
	}
	found := false
	for _, c := range doc.Connections {
		if c.Name == "busd-bridge h1" {
			found = true
			if c.PID != h1.bridge.cmd.Process.Pid || len(c.Patterns) != 1 || c.Patterns[0] != "a.>" {
				t.Errorf("bridge connection %+v, want pid %d and patterns [a.>]", c, h1.bridge.cmd.Process.Pid)
			}
		}
	}
	if !found {
		t.Errorf("no busd-bridge h1 in %+v", doc.Connections)
	}

	began = time.Now()
	for _, h := range []*bridgedHost{h1, h2} {
		h.bridge.signal(t, syscall.SIGTERM)
	}
	for _, h := range []*bridgedHost{h1, h2} {
		h.waitNotify(t, "STOPPING=1")
		stopping := time.Since(began)
		// 5s: the bridge's own bound is its 2s final flush to NATS, and a
		// -race binary sleeps 1s as it exits.
		if code := h.bridge.wait(t, 5*time.Second); code != 0 {
			t.Errorf("%s: bridge exit %d after SIGTERM, want 0; stderr:\n%s", h.id, code, h.bridge.stderr.String())
		}
		t.Logf("%s: STOPPING=1 received by %v, bridge exited by %v after SIGTERM (both bridges signalled at once)", h.id,
			stopping.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
		if s := h.bridge.stderr.String(); !strings.Contains(s, "bridge stopped") {
			t.Errorf("%s: no \"bridge stopped\" in the bridge's log:\n%s", h.id, s)
		}
	}
	for _, h := range []*bridgedHost{h1, h2} {
		h.sub.signal(t, syscall.SIGTERM)
		h.daemon.signal(t, syscall.SIGTERM)
	}
	for _, h := range []*bridgedHost{h1, h2} {
		h.sub.wait(t, 10*time.Second)
		if code := h.daemon.wait(t, 10*time.Second); code != 0 {
			t.Errorf("%s: daemon exit %d", h.id, code)
		}
	}
}

func TestE2EBridgeTwoHosts(t *testing.T) {
	srv := natstest.RunServer(t)
	testTwoBridgedHosts(t, srv.URL())
}

// Mutual TLS from the command line: the server requires a client
// certificate from the CA the bridges trust.
func TestE2EBridgeMutualTLS(t *testing.T) {
	certs := natstest.NewCerts(t, t.TempDir())
	srv := natstest.RunServer(t, natstest.WithTLS(certs, true))
	if !strings.HasPrefix(srv.URL(), "tls://") {
		t.Fatalf("server URL %q is not tls://", srv.URL())
	}
	testTwoBridgedHosts(t, srv.URL(), "--tls-ca", certs.CAFile, "--tls-cert", certs.ClientCert, "--tls-key", certs.ClientKey)
}
