package load

import (
	"errors"
	"net/http"
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
	a := newAdminClient(path)
	defer a.close()
	err := a.do(http.MethodGet, "/statsz", nil, &st, http.StatusOK)
	return st, err
}

// ServerReadBatches reads the daemon's read-batch counter through the admin
// socket it was started with (not available for a daemon given by Socket).
func (b *Busd) ServerReadBatches() (uint64, error) {
	if b.srv == nil {
		return 0, errors.New("busd: read batches are counted only for a daemon this generator started")
	}
	st, err := adminStats(b.adminSocket())
	return st.ReadBatches, err
}
