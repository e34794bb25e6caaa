package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/panjf2000/gnet/v2/pkg/logging"
)

// gnetLogger routes gnet's printf-style logs into slog (by default gnet
// writes to stdout through its own zap logger).
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) log(level slog.Level, format string, args []any) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, fmt.Sprintf(format, args...), "component", "gnet")
	}
}

func (g gnetLogger) Debugf(format string, args ...any) { g.log(slog.LevelDebug, format, args) }
func (g gnetLogger) Infof(format string, args ...any)  { g.log(slog.LevelInfo, format, args) }
func (g gnetLogger) Warnf(format string, args ...any)  { g.log(slog.LevelWarn, format, args) }
func (g gnetLogger) Errorf(format string, args ...any) { g.log(slog.LevelError, format, args) }
func (g gnetLogger) Fatalf(format string, args ...any) { g.log(slog.LevelError, format, args) }

var routeOnce sync.Once

// routeGnetLogs replaces gnet's package-level logger, which it uses outside
// any engine (listener set-up and teardown). It is process-wide, so the
// first server's logger wins.
func routeGnetLogs(l *slog.Logger) {
	routeOnce.Do(func() {
		logging.SetDefaultLoggerAndFlusher(gnetLogger{l}, nil)
	})
}
