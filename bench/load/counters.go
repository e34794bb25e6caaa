package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ReadBatchCounter is a System that reports how many socket reads carrying
// frames its server has handled so far (busd's read_batches): each is a
// wakeup, a read and a flush, the cost a per-event model misses at low
// rates. Run samples it with the server's CPU time.
type ReadBatchCounter interface {
	ServerReadBatches() (uint64, error)
}

// adminStats fetches /statsz from a busd admin socket.
func adminStats(path string) (struct {
	ReadBatches uint64 `json:"read_batches"`
}, error) {
	var st struct {
		ReadBatches uint64 `json:"read_batches"`
	}
	c := http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://busd/statsz")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("admin /statsz: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("admin /statsz: %w", err)
	}
	return st, nil
}

// ServerReadBatches reads the daemon's read-batch counter through the admin
// socket it was started with (not available for a daemon given by Socket).
func (b *Busd) ServerReadBatches() (uint64, error) {
	if b.srv == nil {
		return 0, errors.New("busd: read batches are counted only for a daemon this generator started")
	}
	st, err := adminStats(b.srv.dir + "/a")
	return st.ReadBatches, err
}
