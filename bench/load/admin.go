package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// adminTimeout bounds one request to a daemon's admin socket. Stopping a
// capture waits for its files to be complete, a final chunk compressed and
// written: seconds at most.
const adminTimeout = 10 * time.Second

// adminClient talks HTTP to a busd admin socket (see package admin for the
// endpoints; cmd/busd has the operator's client, which this package may
// not import).
type adminClient struct {
	path string
	hc   *http.Client
}

func newAdminClient(path string) *adminClient {
	return &adminClient{path: path, hc: &http.Client{
		Timeout: adminTimeout,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}}
}

func (a *adminClient) close() { a.hc.CloseIdleConnections() }

// do sends method endpoint with body (JSON, if not nil) and decodes the
// answer into v (if not nil) when its status is want; any other status is
// an error carrying the daemon's reason.
func (a *adminClient) do(method, endpoint string, body, v any, want int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://busd"+endpoint, rd)
	if err != nil {
		return err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", a.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		reason := strings.TrimSpace(string(msg))
		if reason == "" {
			reason = resp.Status
		}
		return fmt.Errorf("admin %s %s: %s", method, endpoint, reason)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			return fmt.Errorf("admin %s %s: %w", method, endpoint, err)
		}
	}
	return nil
}
