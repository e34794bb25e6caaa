package bridge_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"busd/bridge"
	"busd/internal/natstest"
)

// logBuffer keeps what a bridge logged, to check what it says (and never
// says).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func bufferedLogger(t *testing.T, name string) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	w := io.MultiWriter(lb, testWriter{t})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("host", name), lb
}

// exportRule is the one rule of the security tests.
var exportRule = []bridge.Rule{{Pattern: "a.>", Direction: bridge.Export}}

// stillRefused checks, for a while, that a bridge stays unconnected and
// keeps trying.
func stillRefused(t *testing.T, b *bridge.Bridge, why string) {
	t.Helper()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if st := b.Stats(); st.NATS == "connected" {
			t.Fatalf("%s: the bridge connected", why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Mutual TLS: a bridge with the CA and a client certificate connects and
// its events cross; one without a certificate, or with one from another
// CA, is refused and keeps retrying. Replacing the certificate files on
// disk lets the refused bridge in with no restart: they are read again on
// every connection.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certs := natstest.NewCerts(t, dir)
	s := natstest.RunServer(t, natstest.WithTLS(certs, true))
	_, got, _ := observer(t, s.URL(), "a.>", nats.RootCAs(certs.CAFile), nats.ClientCert(certs.ClientCert, certs.ClientKey))
	s.WaitInterest(t, "a.x")

	good := newHost(t, "good")
	runBridge(t, good, bridge.Config{NATS: []string{s.URL()}, Rules: exportRule,
		CAFile: certs.CAFile, CertFile: certs.ClientCert, KeyFile: certs.ClientKey}, true)
	good.waitConn("busd-bridge good", "a.>")
	if err := good.dial("pub").PublishRaw(context.Background(), "a.x", numbered("a.x", 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the event over mutual TLS", 10*time.Second, func() bool { return got.Load() == 1 })

	noCert := newHost(t, "nocert")
	log, logs := bufferedLogger(t, "nocert")
	b := runBridge(t, noCert, bridge.Config{NATS: []string{s.URL()}, Rules: exportRule, CAFile: certs.CAFile, Logger: log}, false)
	stillRefused(t, b, "without a client certificate")
	if !strings.Contains(logs.String(), "nats") {
		t.Errorf("the refused bridge logged nothing about NATS:\n%s", logs.String())
	}

	// A certificate from another CA, in files that are then replaced.
	other := natstest.NewCA(t, t.TempDir(), "other")
	wrongCert, wrongKey := other.NewClientCert(t, "intruder")
	certFile, keyFile := dir+"/rotating.pem", dir+"/rotating-key.pem"
	copyFile(t, wrongCert, certFile)
	copyFile(t, wrongKey, keyFile)
	rot := newHost(t, "rot")
	b = runBridge(t, rot, bridge.Config{NATS: []string{s.URL()}, Rules: exportRule,
		CAFile: certs.CAFile, CertFile: certFile, KeyFile: keyFile}, false)
	stillRefused(t, b, "with a certificate from another CA")
	goodCert, goodKey := certs.NewClientCert(t, "rotated")
	copyFile(t, goodCert, certFile)
	copyFile(t, goodKey, keyFile)
	waitFor(t, "the bridge to connect with the rotated certificate", 15*time.Second, func() bool { return b.Stats().NATS == "connected" })
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to+".tmp", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".tmp", to); err != nil {
		t.Fatal(err)
	}
}

// Credentials NATS rejects: the bridge keeps running and retrying, and
// neither its logs nor its metrics show the password.
func TestRejectedCredentialsNeverLogged(t *testing.T) {
	s := natstest.RunServer(t, natstest.WithUser("bridge", "right-secret"))
	h := newHost(t, "h1")
	log, logs := bufferedLogger(t, "h1")
	wrong := strings.Replace(s.URL(), "nats://", "nats://bridge:wrong-secret@", 1)
	b := runBridge(t, h, bridge.Config{NATS: []string{wrong}, Rules: exportRule, Logger: log}, false)
	stillRefused(t, b, "with a wrong password")
	rec := httptest.NewRecorder()
	bridge.AdminHandler(b, "test").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	stats := httptest.NewRecorder()
	bridge.AdminHandler(b, "test").ServeHTTP(stats, httptest.NewRequest("GET", "/statsz", nil))
	for what, text := range map[string]string{"logs": logs.String(), "metrics": rec.Body.String(), "statsz": stats.Body.String()} {
		if strings.Contains(text, "wrong-secret") {
			t.Errorf("the password is in the %s", what)
		}
	}
	if !strings.Contains(rec.Body.String(), "busd_bridge_nats_up 0") {
		t.Errorf("metrics do not say NATS is down:\n%s", rec.Body.String())
	}

	// The right password: the same bridge configuration connects.
	h2 := newHost(t, "h2")
	right := strings.Replace(s.URL(), "nats://", "nats://bridge:right-secret@", 1)
	log2, logs2 := bufferedLogger(t, "h2")
	b2 := runBridge(t, h2, bridge.Config{NATS: []string{right}, Rules: exportRule, Logger: log2}, true)
	if strings.Contains(logs2.String(), "right-secret") || strings.Contains(b2.Stats().NATSServer, "right-secret") {
		t.Error("the password is in the logs or the stats")
	}
}

// An nkey seed file authenticates the bridge.
func TestNKeyAuth(t *testing.T) {
	seed, pub := natstest.NewUserNKey(t, t.TempDir())
	s := natstest.RunServer(t, natstest.WithNKeyUser(pub))
	h := newHost(t, "h1")
	runBridge(t, h, bridge.Config{NATS: []string{s.URL()}, Rules: exportRule, NKeyFile: seed}, true)
	other, _ := natstest.NewUserNKey(t, t.TempDir())
	h2 := newHost(t, "h2")
	b := runBridge(t, h2, bridge.Config{NATS: []string{s.URL()}, Rules: exportRule, NKeyFile: other}, false)
	stillRefused(t, b, "with an unknown nkey")
}
