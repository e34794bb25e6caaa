// Package admin serves busd's operator endpoints over HTTP on a private
// UNIX socket, separate from the bus socket:
//
//	/metrics        Prometheus text: the daemon's counters, Go runtime and process metrics
//	/statsz         JSON: the global counters
//	/connz          JSON: one object per client connection
//	/subsz          JSON: the subscription index, its match cache, subscribers per pattern
//	/capture        start, watch and stop a capture of the daemon's traffic (capture.go)
//	/debug/pprof/   the Go profiler
//
// The socket file follows the bus socket's rules (engine/sockfile): it has
// its final mode (0600 by default) before it appears at its path, so no
// other user can connect in between; "<path>.lock" is held while it
// serves; a stale socket is replaced and a live one refused.
package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"slices"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"busd/engine"
	"busd/engine/sockfile"
	"busd/trie"
)

// Source is what the endpoints read; *engine.Server implements it.
type Source interface {
	Stats() engine.Stats
	Connections() []engine.ConnInfo
	IndexStats() trie.Stats
}

var _ Source = (*engine.Server)(nil)

// DefaultMode is the admin socket's default file mode: the daemon's user
// only.
const DefaultMode fs.FileMode = 0o600

// ErrInUse is returned by Listen when a live server answers on the path.
var ErrInUse = errors.New("a server already answers on the admin socket")

// Options configure Listen.
type Options struct {
	// Path of the admin socket.
	Path string
	// Mode of the socket file; 0 means DefaultMode.
	Mode fs.FileMode
	// Logger for server errors; nil discards them.
	Logger *slog.Logger
	// Version is reported as busd_build_info{version="..."}.
	Version string
}

// Server is a listening admin endpoint.
type Server struct {
	sock *sockfile.Socket
	http *http.Server
}

// Listen creates the admin socket at opts.Path. A stale socket file left by
// a crash is removed; a live server there (or one holding its lock) is
// ErrInUse; a path that exists and is not a socket is an error (it is never
// removed).
func Listen(src Source, opts Options) (*Server, error) {
	if opts.Path == "" {
		return nil, errors.New("admin socket path is empty")
	}
	if opts.Mode == 0 {
		opts.Mode = DefaultMode
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sock, err := sockfile.Claim(opts.Path, sockfile.Options{Mode: opts.Mode, Lock: true})
	if errors.Is(err, sockfile.ErrInUse) {
		return nil, fmt.Errorf("%w: %w", ErrInUse, err)
	}
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	s := &Server{
		sock: sock,
		http: &http.Server{
			Handler:           Handler(src, opts.Version),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	return s, nil
}

// Path is the socket path.
func (s *Server) Path() string { return s.sock.Path() }

// Serve answers requests until Shutdown; it then returns nil.
func (s *Server) Serve() error {
	err := s.http.Serve(s.sock.Listener())
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server, waits (up to ctx) for requests in flight, and
// removes the socket file if it is still the one Listen created.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	s.sock.Release()
	return err
}

// Handler is the admin endpoints' mux (what Listen serves).
func Handler(src Source, version string) http.Handler {
	mux := http.NewServeMux()
	set := metrics.NewSet()
	set.RegisterMetricsWriter(func(w io.Writer) { writeBusMetrics(w, src, version) })
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		set.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
	})
	mux.HandleFunc("GET /statsz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, statsOf(src.Stats()))
	})
	mux.HandleFunc("GET /connz", func(w http.ResponseWriter, r *http.Request) {
		conns := src.Connections()
		if conns == nil {
			conns = []engine.ConnInfo{}
		}
		for i := range conns {
			if conns[i].Patterns == nil {
				conns[i].Patterns = []string{}
			}
		}
		writeJSON(w, r, Connz{Now: time.Now(), NumConnections: len(conns), Connections: conns})
	})
	mux.HandleFunc("GET /subsz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, subszOf(src.IndexStats(), src.Connections()))
	})
	if c, ok := src.(Capturer); ok {
		captureHandlers(mux, c, version)
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "busd admin endpoints:\n  /metrics\n  /statsz\n  /connz\n  /subsz\n  /capture\n  /debug/pprof/\n")
	})
	return mux
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	if r.URL.Query().Has("pretty") {
		enc.SetIndent("", "  ")
	}
	_ = enc.Encode(v)
}

// Statsz is the /statsz document: engine.Stats with JSON names.
type Statsz struct {
	Now            time.Time `json:"now"`
	Connections    int       `json:"connections"`
	Accepted       uint64    `json:"accepted"`
	Rejected       uint64    `json:"rejected"`
	ReadBatches    uint64    `json:"read_batches"`
	FramesIn       uint64    `json:"frames_in"`
	BytesIn        uint64    `json:"bytes_in"`
	Published      uint64    `json:"published"`
	EventsOut      uint64    `json:"events_out"`
	BytesOut       uint64    `json:"bytes_out"`
	Dropped        uint64    `json:"dropped"`
	ProtocolErrors uint64    `json:"protocol_errors"`
	Heartbeats     uint64    `json:"heartbeats"`
	DropNotices    uint64    `json:"drop_notices"`
	Subscriptions  int       `json:"subscriptions"`
	Queued         int       `json:"queued"`
	BacklogRetries uint64    `json:"backlog_retries"`

	SubsRefusedConnLimit  uint64 `json:"subs_refused_conn_limit"`
	SubsRefusedTotalLimit uint64 `json:"subs_refused_total_limit"`
	PendingBytes          int64  `json:"pending_bytes"`
	PendingCloses         uint64 `json:"pending_closes"`
	FrameTimeouts         uint64 `json:"frame_timeouts"`
	MemoryReleases        uint64 `json:"memory_releases"`

	CapturesStarted      uint64 `json:"captures_started"`
	CaptureFailures      uint64 `json:"capture_failures"`
	Capturing            int    `json:"capturing"`
	CaptureRecords       uint64 `json:"capture_records"`
	CaptureRecorderDrops uint64 `json:"capture_recorder_drops"`
}

func statsOf(st engine.Stats) Statsz {
	return Statsz{
		Now:            time.Now(),
		Connections:    st.Connections,
		Accepted:       st.Accepted,
		Rejected:       st.Rejected,
		ReadBatches:    st.ReadBatches,
		FramesIn:       st.FramesIn,
		BytesIn:        st.BytesIn,
		Published:      st.Published,
		EventsOut:      st.EventsOut,
		BytesOut:       st.BytesOut,
		Dropped:        st.Dropped,
		ProtocolErrors: st.ProtocolErrors,
		Heartbeats:     st.Heartbeats,
		DropNotices:    st.DropNotices,
		Subscriptions:  st.Subscriptions,
		Queued:         st.Queued,
		BacklogRetries: st.BacklogRetries,

		SubsRefusedConnLimit:  st.SubsRefusedConnLimit,
		SubsRefusedTotalLimit: st.SubsRefusedTotalLimit,
		PendingBytes:          st.PendingBytes,
		PendingCloses:         st.PendingCloses,
		FrameTimeouts:         st.FrameTimeouts,
		MemoryReleases:        st.MemoryReleases,

		CapturesStarted:      st.CapturesStarted,
		CaptureFailures:      st.CaptureFailures,
		Capturing:            st.Capturing,
		CaptureRecords:       st.CaptureRecords,
		CaptureRecorderDrops: st.CaptureRecorderDrops,
	}
}

// Connz is the /connz document.
type Connz struct {
	Now            time.Time         `json:"now"`
	NumConnections int               `json:"num_connections"`
	Connections    []engine.ConnInfo `json:"connections"`
}

// Subsz is the /subsz document.
type Subsz struct {
	// Patterns is the number of distinct (normalized) patterns in the
	// index; Pairs the number of (pattern, connection) pairs.
	Patterns     int     `json:"patterns"`
	Pairs        int     `json:"pairs"`
	CacheEntries int     `json:"cache_entries"`
	CacheHits    uint64  `json:"cache_hits"`
	CacheMisses  uint64  `json:"cache_misses"`
	CacheHitRate float64 `json:"cache_hit_ratio"`
	// Subscribers counts the connections subscribed to each pattern, as
	// the clients spelled it, most subscribed first.
	Subscribers []PatternCount `json:"subscribers"`
}

// PatternCount is one pattern and how many connections subscribe to it.
type PatternCount struct {
	Pattern     string `json:"pattern"`
	Subscribers int    `json:"subscribers"`
}

func subszOf(st trie.Stats, conns []engine.ConnInfo) Subsz {
	counts := map[string]int{}
	for _, c := range conns {
		for _, p := range c.Patterns {
			counts[p]++
		}
	}
	subs := make([]PatternCount, 0, len(counts))
	for p, n := range counts {
		subs = append(subs, PatternCount{p, n})
	}
	slices.SortFunc(subs, func(a, b PatternCount) int {
		if c := cmp.Compare(b.Subscribers, a.Subscribers); c != 0 {
			return c
		}
		return cmp.Compare(a.Pattern, b.Pattern)
	})
	return Subsz{
		Patterns:     st.Patterns,
		Pairs:        st.Pairs,
		CacheEntries: st.CacheEntries,
		CacheHits:    st.Hits,
		CacheMisses:  st.Misses,
		CacheHitRate: hitRatio(st),
		Subscribers:  subs,
	}
}

func hitRatio(st trie.Stats) float64 {
	if total := st.Hits + st.Misses; total > 0 {
		return float64(st.Hits) / float64(total)
	}
	return 0
}
