package admin

import (
	"fmt"
	"io"
	"strconv"
)

// writeBusMetrics writes the daemon's metrics, from one snapshot of its
// counters taken at scrape time, each with HELP and TYPE.
func writeBusMetrics(w io.Writer, src Source, version string) {
	st := src.Stats()
	ix := src.IndexStats()
	b := make([]byte, 0, 4096)
	counter := func(name, help string, v uint64) {
		b = appendMeta(b, name, help, "counter")
		b = fmt.Appendf(b, "%s %d\n", name, v)
	}
	gauge := func(name, help string, v float64) {
		b = appendMeta(b, name, help, "gauge")
		b = append(b, name...)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
		b = append(b, '\n')
	}
	gauge("busd_connections", "Open client connections.", float64(st.Connections))
	counter("busd_connections_accepted_total", "Client connections accepted.", st.Accepted)
	counter("busd_connections_rejected_total", "Client connections refused at the connection cap.", st.Rejected)
	counter("busd_read_batches_total", "Socket reads that carried at least one whole frame (frames_in / read_batches is the mean batch).", st.ReadBatches)
	counter("busd_frames_in_total", "Frames received from clients.", st.FramesIn)
	counter("busd_bytes_in_total", "Bytes received from clients.", st.BytesIn)
	counter("busd_published_total", "PUB frames accepted for fan-out.", st.Published)
	counter("busd_events_out_total", "Events handed to subscriber sockets.", st.EventsOut)
	counter("busd_bytes_out_total", "Bytes handed to subscriber sockets.", st.BytesOut)
	counter("busd_dropped_total", "Events evicted from full subscriber queues (drop-oldest).", st.Dropped)
	counter("busd_protocol_errors_total", "Connections closed for a protocol error.", st.ProtocolErrors)
	counter("busd_heartbeats_total", "system.bus.health events published by the daemon.", st.Heartbeats)
	counter("busd_backlog_retries_total", "Retries of subscribers whose socket was full (each a loop wakeup while the backlog lasts).", st.BacklogRetries)
	counter("busd_drop_notices_total", "system.bus.dropped notices sent to subscribers that lost events.", st.DropNotices)
	b = appendMeta(b, "busd_subscriptions_refused_total", "SUBs refused at the per-connection (conn_limit) or total (total_limit) pattern limit.", "counter")
	b = fmt.Appendf(b, "busd_subscriptions_refused_total{reason=\"conn_limit\"} %d\n", st.SubsRefusedConnLimit)
	b = fmt.Appendf(b, "busd_subscriptions_refused_total{reason=\"total_limit\"} %d\n", st.SubsRefusedTotalLimit)
	gauge("busd_pending_bytes", "Bytes held in frames that clients have not finished sending.", float64(st.PendingBytes))
	counter("busd_pending_closes_total", "Connections closed because the bytes held in unfinished frames exceeded the budget.", st.PendingCloses)
	counter("busd_frame_timeouts_total", "Connections closed for a frame not completed within the frame timeout (also protocol errors).", st.FrameTimeouts)
	counter("busd_memory_releases_total", "Times freed memory was handed back to the operating system after a burst.", st.MemoryReleases)
	counter("busd_captures_started_total", "Captures started (busd capture record, POST /capture).", st.CapturesStarted)
	counter("busd_capture_failures_total", "Captures ended by an error, such as a full disk.", st.CaptureFailures)
	gauge("busd_capture_running", "1 while a capture runs.", float64(st.Capturing))
	gauge("busd_capture_records", "Records written by the running or latest capture.", float64(st.CaptureRecords))
	gauge("busd_capture_recorder_dropped", "Records the running or latest capture could not keep (its writer fell behind; marked as gaps in the file).", float64(st.CaptureRecorderDrops))
	gauge("busd_subscriptions", "(pattern, connection) subscription pairs.", float64(st.Subscriptions))
	gauge("busd_queued_events", "Events waiting in subscriber queues.", float64(st.Queued))
	gauge("busd_subscription_patterns", "Distinct patterns in the subscription index.", float64(ix.Patterns))
	gauge("busd_match_cache_entries", "Topics in the match cache.", float64(ix.CacheEntries))
	counter("busd_match_cache_hits_total", "Topic matches answered from the cache.", ix.Hits)
	counter("busd_match_cache_misses_total", "Topic matches computed by walking the index.", ix.Misses)
	gauge("busd_match_cache_hit_ratio", "Match cache hits over all matches since start (0 before the first).", hitRatio(ix))
	b = appendMeta(b, "busd_build_info", "The running busd version.", "gauge")
	b = fmt.Appendf(b, "busd_build_info{version=%s} 1\n", strconv.Quote(version))
	w.Write(b)
}

func appendMeta(b []byte, name, help, typ string) []byte {
	b = fmt.Appendf(b, "# HELP %s %s\n", name, help)
	return fmt.Appendf(b, "# TYPE %s %s\n", name, typ)
}
