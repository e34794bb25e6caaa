package fuzz

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"busd/bridge"
	"busd/client"
	"busd/engine"
	"busd/internal/natstest"
)

// bridgeEnv is one fuzzing process's NATS server, daemon, bridge (import
// fz.> as in.>), NATS publisher and local subscriber.
type bridgeEnv struct {
	srv    *engine.Server
	bridge *bridge.Bridge
	nc     *nats.Conn
	sub    *client.Subscription
	connID uint64 // the bridge's connection to the daemon
}

func startBridgeEnv(f *testing.F) *bridgeEnv {
	ns := natstest.RunServer(f)
	dir, err := os.MkdirTemp("", "brfz")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	cfg := engine.DefaultConfig()
	cfg.Socket, cfg.Group, cfg.Heartbeat = filepath.Join(dir, "bus.sock"), "", 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &bridgeEnv{}
	if e.srv, err = engine.New(cfg); err != nil {
		f.Fatal(err)
	}
	ready := make(chan struct{})
	go e.srv.Run(func() { close(ready) })
	<-ready
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
	})

	bc := bridge.DefaultConfig()
	bc.Socket, bc.NATS, bc.HostID = cfg.Socket, []string{ns.URL()}, "fz"
	bc.Rules = []bridge.Rule{{Pattern: ">", Direction: bridge.Import, RemotePrefix: "fz", LocalPrefix: "in"}}
	bc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if e.bridge, err = bridge.New(bc); err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bridged := make(chan struct{})
	stopped := make(chan struct{})
	go func() { defer close(stopped); e.bridge.Run(ctx, func() { close(bridged) }) }()
	f.Cleanup(func() { cancel(); <-stopped })
	<-bridged

	local, err := client.Dial(context.Background(), cfg.Socket, client.WithName("fz-sub"), client.WithQueueSize(1<<14))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { local.Close() })
	if e.sub, err = local.Subscribe("in.>"); err != nil {
		f.Fatal(err)
	}
	if e.nc, err = nats.Connect(ns.URL(), nats.SkipSubjectValidation()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(e.nc.Close)
	ns.WaitInterest(f, "fz.x")
	deadline := time.Now().Add(10 * time.Second)
	for e.connID == 0 {
		for _, c := range e.srv.Connections() {
			if c.Name == "busd-bridge fz" {
				e.connID = c.ID
			}
		}
		if time.Now().After(deadline) {
			f.Fatal("the bridge never connected to the daemon")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The subscriber's SUB is in place once a sentinel crosses.
	e.sentinel(f)
	return e
}

// accounted is every import the bridge has counted, imported or dropped.
func (e *bridgeEnv) accounted() uint64 {
	st := e.bridge.Stats()
	d := st.ImportDropped
	return st.Imported + d.Loop + d.Hops + d.TooLarge + d.InvalidTopic + d.InvalidBody + d.BusUnavailable + d.SlowConsumer
}

// The two waits of one call share callBudget.
const (
	sentinelWait = callBudget / 2
	accountWait  = callBudget / 2
)

// maxSubject bounds the fuzzed subject: NATS closes a connection whose
// control line (the subject and the sizes) passes 4096 bytes, so longer
// subjects never reach the bridge, and the publisher would be cut off.
const maxSubject = 2048 // after cleanSubject, which may add a few bytes to a cut subject

// sentinel publishes a valid message and waits for it on the bus, after
// every event before it.
func (e *bridgeEnv) sentinel(tb testing.TB) []client.Event {
	tb.Helper()
	if err := e.nc.Publish("fz.sentinel", []byte(`{}`)); err != nil {
		tb.Fatal(err)
	}
	var before []client.Event
	timeout := time.After(sentinelWait)
	for {
		select {
		case ev := <-e.sub.C():
			if ev.Topic == "in.sentinel" {
				return before
			}
			before = append(before, ev)
		case <-timeout:
			tb.Fatalf("the sentinel did not cross in %v (got %d events first; publisher %v, last error %v)",
				sentinelWait, len(before), e.nc.Status(), e.nc.LastError())
		}
	}
}

// clean makes s a header value NATS can carry (no CR or LF): other
// inputs are not the bridge's to judge.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return '_'
		}
		return r
	}, s)
}

// cleanSubject makes s a subject NATS delivers: no whitespace or control
// bytes, no empty or wildcard token (NATS itself refuses or never routes
// those, so the bridge never sees them).
func cleanSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
	toks := strings.Split(s, ".")
	for i, t := range toks {
		if t == "" || t == "*" || t == ">" {
			toks[i] = "_"
		}
	}
	return strings.Join(toks, ".")
}

// FuzzBridgeImport: arbitrary NATS messages (subject, origin and hop
// headers, body) arriving on a bridge's import subjects. The bridge never
// forwards what the daemon would refuse (its bus connection is never
// closed for a protocol error), every message is accounted for (imported,
// or dropped with a cause), and an imported one reaches the local
// subscriber once, under the mapped topic, with its body verbatim (an
// empty body the daemon wraps in an envelope, as for any publisher).
func FuzzBridgeImport(f *testing.F) {
	f.Add("a.b", "", "", []byte(`{"v": 1, "payload": {}}`))
	f.Add("a", "fz", "1", []byte(`{}`))
	f.Add("a", "other", "9", []byte(`{}`))
	f.Add("a", "other", "x", []byte(`{}`))
	f.Add("caf\xc3\xa9", "", "", []byte(`{}`))
	f.Add("a", "", "", []byte(`not json`))
	f.Add("a", "", "", []byte(`{"a": "\xff"}`))
	f.Add("a", "", "", []byte(``))
	f.Add("a..b", "", "", []byte(`[]`))
	env := startBridgeEnv(f)
	f.Fuzz(func(t *testing.T, suffix, origin, hops string, body []byte) {
		if len(body) > 1<<20+16 {
			body = body[:1<<20+16] // NATS's own payload limit is 1 MiB
		}
		subject := cleanSubject("fz.x" + suffix)
		if len(subject) > maxSubject {
			// Cleaning can triple a subject (an invalid byte becomes
			// U+FFFD); a cut can leave a broken rune or an empty token.
			subject = cleanSubject(subject[:maxSubject])
		}
		var hdr nats.Header
		if origin != "" || hops != "" {
			hdr = nats.Header{}
			if origin != "" {
				hdr.Set(bridge.HeaderOrigin, clean(origin))
			}
			if hops != "" {
				hdr.Set(bridge.HeaderHops, clean(hops))
			}
		}
		before, imported := env.accounted(), env.bridge.Stats().Imported
		if err := env.nc.PublishMsg(&nats.Msg{Subject: subject, Header: hdr, Data: body}); err != nil {
			if err == nats.ErrMaxPayload {
				return
			}
			t.Fatalf("publish: %v", err)
		}
		got := env.sentinel(t)
		// The bridge counts an import once its write to the daemon has
		// returned, which may be after the subscriber has the event.
		deadline := time.Now().Add(accountWait)
		for env.accounted()-before < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		if n := env.accounted() - before; n != 2 {
			t.Fatalf("%d messages accounted for after one input and the sentinel, want 2: %+v", n, env.bridge.Stats())
		}
		wasImported := env.bridge.Stats().Imported - imported - 1 // less the sentinel
		switch {
		case wasImported == 0 && len(got) != 0:
			t.Fatalf("a refused message reached the bus: %q", got[0].Topic)
		case wasImported == 1 && len(got) != 1:
			t.Fatalf("an imported message arrived %d times", len(got))
		case wasImported == 1:
			// The daemon wraps an empty body in an envelope of its own.
			want := "in.x" + subject[len("fz.x"):]
			if got[0].Topic != want || (len(body) > 0 && !bytes.Equal(got[0].Body, body)) {
				t.Fatalf("imported as %q %q, want %q %q", got[0].Topic, got[0].Body, want, body)
			}
		}
		if st := env.srv.Stats(); st.ProtocolErrors != 0 {
			t.Fatalf("the daemon closed %d connections for protocol errors", st.ProtocolErrors)
		}
		found := false
		for _, c := range env.srv.Connections() {
			found = found || c.ID == env.connID
		}
		if !found {
			t.Fatal("the bridge's bus connection was closed")
		}
	})
}
