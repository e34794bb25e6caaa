package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"busd/engine/sockfile"
)

// AdminServer serves the bridge's operator endpoints on a private UNIX
// socket (mode 0600), like the daemon's:
//
//	/metrics   Prometheus text: the bridge's state and counters, process metrics
//	/statsz    JSON: Stats
//	/debug/pprof/
type AdminServer struct {
	sock *sockfile.Socket
	http *http.Server
}

// ListenAdmin claims the admin socket at path (a stale one is replaced, a
// live one refused).
func ListenAdmin(path string, b *Bridge, version string, log *slog.Logger) (*AdminServer, error) {
	sock, err := sockfile.Claim(path, sockfile.Options{Mode: 0o600, Lock: true})
	if err != nil {
		return nil, fmt.Errorf("bridge admin socket: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AdminServer{sock: sock, http: &http.Server{
		Handler:           AdminHandler(b, version),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}

// Path is the socket path.
func (s *AdminServer) Path() string { return s.sock.Path() }

// Serve answers requests until Shutdown; it then returns nil.
func (s *AdminServer) Serve() error {
	if err := s.http.Serve(s.sock.Listener()); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops serving and removes the socket file.
func (s *AdminServer) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	s.sock.Release()
	return err
}

// AdminHandler is the endpoints' mux.
func AdminHandler(b *Bridge, version string) http.Handler {
	mux := http.NewServeMux()
	set := metrics.NewSet()
	set.RegisterMetricsWriter(func(w io.Writer) { writeMetrics(w, b.Stats(), version) })
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		set.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
	})
	mux.HandleFunc("GET /statsz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		if r.URL.Query().Has("pretty") {
			enc.SetIndent("", "  ")
		}
		_ = enc.Encode(b.Stats())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "busd bridge admin endpoints:\n  /metrics\n  /statsz\n  /debug/pprof/\n")
	})
	return mux
}

// writeMetrics writes one snapshot of the bridge, each metric with HELP
// and TYPE. Nothing secret is in a Stats: server URLs are redacted.
func writeMetrics(w io.Writer, st Stats, version string) {
	var b []byte
	meta := func(name, help, typ string) {
		b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	up := func(s string) int {
		if s == "connected" {
			return 1
		}
		return 0
	}
	meta("busd_bridge_info", "The bridge's build and host id.", "gauge")
	b = fmt.Appendf(b, "busd_bridge_info{version=%q,host_id=%q} 1\n", version, st.HostID)
	meta("busd_bridge_nats_up", "1 while the NATS connection is up.", "gauge")
	b = fmt.Appendf(b, "busd_bridge_nats_up %d\n", up(st.NATS))
	meta("busd_bridge_bus_up", "1 while the bus connection is up.", "gauge")
	b = fmt.Appendf(b, "busd_bridge_bus_up %d\n", up(st.Bus))
	meta("busd_bridge_reconnects_total", "NATS reconnections.", "counter")
	b = fmt.Appendf(b, "busd_bridge_reconnects_total %d\n", st.Reconnects)
	meta("busd_bridge_exported_total", "Events published to NATS.", "counter")
	b = fmt.Appendf(b, "busd_bridge_exported_total %d\n", st.Exported)
	meta("busd_bridge_imported_total", "Messages published on the bus.", "counter")
	b = fmt.Appendf(b, "busd_bridge_imported_total %d\n", st.Imported)
	meta("busd_bridge_buffered_events", "Exported events waiting in the outbox.", "gauge")
	b = fmt.Appendf(b, "busd_bridge_buffered_events %d\n", st.BufferedEvents)
	meta("busd_bridge_buffered_bytes", "Bytes of exported events waiting in the outbox.", "gauge")
	b = fmt.Appendf(b, "busd_bridge_buffered_bytes %d\n", st.BufferedBytes)
	meta("busd_bridge_dropped_total", "Events dropped, by direction and cause.", "counter")
	drop := func(dir, cause string, n uint64) {
		b = fmt.Appendf(b, "busd_bridge_dropped_total{direction=%q,cause=%q} %d\n", dir, cause, n)
	}
	e, i := st.ExportDropped, st.ImportDropped
	drop("export", "buffer_full", e.Full)
	drop("export", "too_old", e.TooOld)
	drop("export", "too_large", e.TooLarge)
	drop("export", "invalid_subject", e.InvalidSubject)
	drop("import", "loop", i.Loop)
	drop("import", "hops", i.Hops)
	drop("import", "too_large", i.TooLarge)
	drop("import", "invalid_topic", i.InvalidTopic)
	drop("import", "invalid_body", i.InvalidBody)
	drop("import", "bus_unavailable", i.BusUnavailable)
	drop("import", "slow_consumer", i.SlowConsumer)
	_, _ = w.Write(b)
}
