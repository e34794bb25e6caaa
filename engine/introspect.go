package engine

import (
	"cmp"
	"slices"
	"time"

	"busd/trie"
)

// ConnInfo describes one client connection, for operators.
type ConnInfo struct {
	ID       uint64    `json:"id"`
	Name     string    `json:"name"`
	PID      int32     `json:"pid"`
	UID      uint32    `json:"uid"`
	GID      uint32    `json:"gid"`
	Since    time.Time `json:"since"`
	Patterns []string  `json:"patterns"`
	// Queued events wait in the queue; Delivered were handed to the socket;
	// Dropped were evicted by the drop-oldest bound.
	Queued    int    `json:"queued"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	FramesIn  uint64 `json:"frames_in"`
	BytesIn   uint64 `json:"bytes_in"`
	BytesOut  uint64 `json:"bytes_out"`
	// PendingBytes is held in a frame the client has not finished
	// sending; RefusedSubs counts its SUBs refused at a pattern limit.
	PendingBytes int64  `json:"pending_bytes"`
	RefusedSubs  uint64 `json:"refused_subs"`
}

// Connections snapshots every open connection, ordered by ID. Safe from
// any goroutine.
func (s *Server) Connections() []ConnInfo {
	var out []ConnInfo
	s.clients.Range(func(_ uint64, cl *peer) bool {
		cl.infoMu.Lock()
		info := ConnInfo{ID: cl.id, Name: cl.name, PID: cl.pid, UID: cl.uid, GID: cl.gid, Since: cl.since}
		for p := range cl.patterns {
			info.Patterns = append(info.Patterns, p)
		}
		cl.infoMu.Unlock()
		slices.Sort(info.Patterns)
		info.Queued = cl.out.queued()
		info.Delivered, info.BytesOut = cl.out.delivered()
		info.Dropped = cl.out.drops()
		info.FramesIn = cl.framesIn.Load()
		info.BytesIn = cl.bytesIn.Load()
		info.PendingBytes = cl.limits.unfinished.held.Load()
		info.RefusedSubs = cl.limits.refused.Load()
		out = append(out, info)
		return true
	})
	slices.SortFunc(out, func(a, b ConnInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// IndexStats reports the subscription index and its match cache.
func (s *Server) IndexStats() trie.Stats { return s.index.Stats() }
