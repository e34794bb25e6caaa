package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"busd/admin"
)

const statsSynopsis = `busd stats [--admin-socket path | --socket path] [--json]

Reads the daemon's admin socket and prints its global counters, then one
row per client connection. The admin socket is --admin-socket, else
$BUSD_ADMIN_SOCKET, else the bus socket's path with ".admin" appended (the
daemon's default), the bus socket found as pub and sub find it.
--json prints {"stats": ..., "subscriptions": ..., "connections": [...]}.`

func runStats(args []string, env func(string) string, stdout, stderr io.Writer) int {
	env1, helpEnv := adminFlagEnv()
	cl := newCommandLine("busd stats", statsSynopsis, env1, helpEnv)
	var (
		af     adminClientFlags
		asJSON bool
	)
	af.register(cl)
	cl.fs.BoolVar(&asJSON, "json", false, "print the raw documents as one JSON object")
	rest, err := cl.parse(args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "stats")
	}
	if len(rest) > 0 {
		return clientExit(usageErrorf("unexpected argument %q", rest[0]), stderr, "stats")
	}
	ac, err := af.client(env)
	if err != nil {
		return clientExit(err, stderr, "stats")
	}
	defer ac.close()
	path := ac.path
	fetch := func(endpoint string, v any) error {
		_, err := ac.do(http.MethodGet, endpoint, nil, v, http.StatusOK)
		var ae *adminError
		if errors.As(err, &ae) {
			return fmt.Errorf("%s%s: %s", path, endpoint, ae.msg)
		}
		return err
	}
	var doc struct {
		Stats         json.RawMessage `json:"stats"`
		Subscriptions json.RawMessage `json:"subscriptions"`
		Connections   json.RawMessage `json:"connections"`
	}
	var connz struct {
		Connections json.RawMessage `json:"connections"`
	}
	for _, f := range []struct {
		endpoint string
		v        any
	}{{"/statsz", &doc.Stats}, {"/subsz", &doc.Subscriptions}, {"/connz", &connz}} {
		if err := fetch(f.endpoint, f.v); err != nil {
			fmt.Fprintf(stderr, "busd: %v\n", err)
			return exitFailure
		}
	}
	doc.Connections = connz.Connections
	if asJSON {
		b, _ := json.Marshal(doc)
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	var (
		st    admin.Statsz
		subs  admin.Subsz
		conns []connRow
	)
	if err := json.Unmarshal(doc.Stats, &st); err != nil {
		fmt.Fprintf(stderr, "busd: /statsz: %v\n", err)
		return exitFailure
	}
	_ = json.Unmarshal(doc.Subscriptions, &subs)
	_ = json.Unmarshal(doc.Connections, &conns)
	printStats(stdout, path, st, subs, conns)
	return exitOK
}

// findAdminSocket applies the admin socket rules for a client: the
// admin-socket setting (flag, then variable), else the daemon's default
// beside the bus socket.
func findAdminSocket(adminSocket *adminSocketValue, busSocket string, env func(string) string) (string, error) {
	if adminSocket.set {
		path, _ := adminSocket.resolve("")
		if path == "" {
			return "", usageErrorf("no admin socket: --admin-socket or %s says %q; give the daemon's admin socket path", adminSocketEnv, adminSocket.path)
		}
		return path, nil
	}
	bus, err := resolveSocket(systemSocketSources(busSocket, env), false)
	if err != nil {
		return "", err
	}
	path, _ := adminSocket.resolve(bus)
	return path, nil
}

// connRow is the part of a /connz entry the table shows.
type connRow struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	PID       int32     `json:"pid"`
	Patterns  []string  `json:"patterns"`
	Queued    int       `json:"queued"`
	Delivered uint64    `json:"delivered"`
	Dropped   uint64    `json:"dropped"`
	Since     time.Time `json:"since"`
}

func printStats(w io.Writer, path string, st admin.Statsz, subs admin.Subsz, conns []connRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "busd admin socket %s, %s\n", path, st.Now.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "connections\t%d\t(accepted %d, rejected %d)\n", st.Connections, st.Accepted, st.Rejected)
	fmt.Fprintf(tw, "subscriptions\t%d\t(%d distinct patterns)\n", st.Subscriptions, subs.Patterns)
	fmt.Fprintf(tw, "published\t%d\t\n", st.Published)
	fmt.Fprintf(tw, "delivered\t%d\t(%s)\n", st.EventsOut, humanBytes(st.BytesOut))
	fmt.Fprintf(tw, "received\t%d frames\t(%s in %d reads)\n", st.FramesIn, humanBytes(st.BytesIn), st.ReadBatches)
	fmt.Fprintf(tw, "queued\t%d\t\n", st.Queued)
	fmt.Fprintf(tw, "dropped\t%d\t(%d drop notices)\n", st.Dropped, st.DropNotices)
	fmt.Fprintf(tw, "protocol errors\t%d\t\n", st.ProtocolErrors)
	fmt.Fprintf(tw, "heartbeats\t%d\t\n", st.Heartbeats)
	fmt.Fprintf(tw, "limits\t%d SUBs refused\t(%d per connection, %d in total; %s in unfinished frames, %d closed over budget, %d frame timeouts)\n",
		st.SubsRefusedConnLimit+st.SubsRefusedTotalLimit, st.SubsRefusedConnLimit, st.SubsRefusedTotalLimit,
		humanBytes(uint64(max(st.PendingBytes, 0))), st.PendingCloses, st.FrameTimeouts)
	fmt.Fprintf(tw, "match cache\t%.1f%% hits\t(%d hits, %d misses, %d entries)\n",
		100*subs.CacheHitRate, subs.CacheHits, subs.CacheMisses, subs.CacheEntries)
	if st.CapturesStarted > 0 {
		state := "none running"
		if st.Capturing > 0 {
			state = "running"
		}
		fmt.Fprintf(tw, "captures\t%s\t(%d started, %d failed; the latest wrote %d records, lost %d: busd capture status)\n",
			state, st.CapturesStarted, st.CaptureFailures, st.CaptureRecords, st.CaptureRecorderDrops)
	}
	tw.Flush()

	fmt.Fprintln(w)
	if len(conns) == 0 {
		fmt.Fprintln(w, "no client connections")
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPID\tPATTERNS\tQUEUED\tDELIVERED\tDROPPED\tSINCE")
	now := st.Now
	if now.IsZero() {
		now = time.Now()
	}
	for _, c := range conns {
		name := c.Name
		if name == "" {
			name = "-"
		}
		pats := strings.Join(c.Patterns, ",")
		if pats == "" {
			pats = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%d\t%d\t%s\n",
			c.ID, name, c.PID, pats, c.Queued, c.Delivered, c.Dropped, age(now.Sub(c.Since)))
	}
	tw.Flush()
}

// age is d rounded for people: 45s, 12m3s, 5h2m, 3d4h.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// humanBytes is n with a binary unit.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
