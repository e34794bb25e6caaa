package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"busd/capture"
)

// config is what the generated capture depends on: the same config gives
// the same records.
type config struct {
	Seed       uint64
	Duration   time.Duration
	Topologies int
	Deckies    int // per topology
}

func defaultConfig() config {
	return config{Seed: 1, Duration: 90 * time.Second, Topologies: 2, Deckies: 8}
}

// The traffic's rates. Each decky's collector sends bursts (a scan, a
// brute force) at burstRate per second on average, times its topology's
// intensity of the moment (intensities, redrawn every segment); bursts
// hold log-uniformly burstMin to burstMax events, burstGap apart on
// average; a trickle of single events runs beside them.
const (
	burstRate    = 1.1
	burstMin     = 20
	burstMax     = 400
	burstGap     = 150 * time.Microsecond
	trickleRate  = 8.0
	segment      = 5 * time.Second
	observeShare = 0.35 // bursts a correlator reports as attacker.observed
	statusEvery  = 5 * time.Second
	stateMean    = 30 * time.Second // between one decky's state changes
	mutateMean   = 20 * time.Second // between one topology's mutations
	failShare    = 0.1              // mutations that fail
	logRate      = 2.0              // system.log lines per second per service
)

// intensities are a topology's traffic levels, one drawn per segment: quiet
// spells and attack waves.
var intensities = []float64{0.3, 0.6, 1, 1, 1.5, 3}

// client is one connection of the platform.
type client struct {
	id       uint64
	name     string
	patterns []string
	// pace > 0: the subscriber reads this many bytes per second at most
	// (slow.go).
	pace float64
}

// platform is the host's connections.
type platform struct {
	dashboard, api, mutator, monitor client
	archiver, siem                   client // the slow readers
	correlators                      []client
	agents, collectors               []client // one per topology
	cli                              client   // an operator's busd sub, for a while
	deckies                          [][]string
}

func newPlatform(cfg config) *platform {
	var next uint64
	mk := func(name string, pace float64, patterns ...string) client {
		next++
		return client{id: next, name: name, patterns: patterns, pace: pace}
	}
	p := &platform{
		dashboard: mk("dashboard", 0, ">"),
		api:       mk("api", 0, "topology.*.status"),
		mutator:   mk("mutator", 0, "topology.*.mutation.>"),
		monitor:   mk("bus-monitor", 0, "system.bus.health", "system.log"),
		// An archiver of everything and a SIEM forwarder: both write
		// to something slower than the bus.
		archiver: mk("archiver", 3e6, ">"),
		siem:     mk("siem-forwarder", 1.8e6, "decky.*.traffic", "attacker.observed"),
	}
	for i := range 2 {
		p.correlators = append(p.correlators, mk(fmt.Sprintf("correlator-%d", i+1), 0, "decky.*.traffic", "attacker.observed"))
	}
	n := 0
	for t := range cfg.Topologies {
		topo := topologyID(t)
		p.agents = append(p.agents, mk("agent-"+topo, 0, "topology."+topo+".>"))
		p.collectors = append(p.collectors, mk("collector-"+topo, 0))
		var ds []string
		for range cfg.Deckies {
			n++
			ds = append(ds, fmt.Sprintf("d%02d", n))
		}
		p.deckies = append(p.deckies, ds)
	}
	p.cli = mk("busd sub", 0, "decky."+p.deckies[0][0]+".>")
	return p
}

func topologyID(t int) string { return fmt.Sprintf("t%d", t+1) }

// resident is every connection open when the capture starts.
func (p *platform) resident() []client {
	cs := []client{p.dashboard, p.api, p.mutator, p.monitor, p.archiver, p.siem}
	cs = append(cs, p.correlators...)
	cs = append(cs, p.agents...)
	return append(cs, p.collectors...)
}

// services are the connections that write system.log lines.
func (p *platform) services() []client {
	cs := []client{p.api, p.mutator}
	cs = append(cs, p.correlators...)
	return append(cs, p.agents...)
}

// gen accumulates records in the order the processes generate them; the
// caller sorts them by time.
type gen struct {
	rng    *rand.Rand
	end    int64
	recs   []capture.Record
	topics map[string][]byte // one copy of each topic's bytes
}

func (g *gen) pub(at int64, conn uint64, topic string, size int) {
	if at < 0 || at >= g.end {
		return
	}
	b, ok := g.topics[topic]
	if !ok {
		b = []byte(topic)
		g.topics[topic] = b
	}
	g.recs = append(g.recs, capture.Record{Kind: capture.KindPub, Time: at, Conn: conn, Text: b, Size: uint32(size)})
}

// exp is an exponential wait of the given mean.
func (g *gen) exp(mean time.Duration) int64 {
	return int64(g.rng.ExpFloat64() * float64(mean))
}

// between is uniform in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// logUniform is log-uniform in [lo, hi]: many small, a few large.
func (g *gen) logUniform(lo, hi int) int {
	return int(math.Round(float64(lo) * math.Pow(float64(hi)/float64(lo), g.rng.Float64())))
}

// trafficSize is a traffic event's body: mostly a few hundred bytes, a
// quarter up to a kilobyte, a few with a payload excerpt up to 1500.
func (g *gen) trafficSize() int {
	switch x := g.rng.Float64(); {
	case x < 0.70:
		return g.between(200, 500)
	case x < 0.95:
		return g.between(500, 1000)
	}
	return g.between(1000, 1500)
}

func (g *gen) jitter(d time.Duration) int64 { return int64(g.rng.Float64()*2*float64(d)) - int64(d) }

// traffic is topology t's collector: bursts and trickle on each decky, and
// the correlators' reports of some bursts.
func (g *gen) traffic(p *platform, t int) {
	coll, corr := p.collectors[t], p.correlators[t%len(p.correlators)]
	var level []float64
	for range g.end/int64(segment) + 1 {
		level = append(level, intensities[g.rng.IntN(len(intensities))])
	}
	for _, d := range p.deckies[t] {
		topic := "decky." + d + ".traffic"
		for at := int64(g.rng.ExpFloat64() / burstRate * float64(time.Second)); at < g.end; {
			n := g.logUniform(burstMin, burstMax)
			e := at
			for range n {
				g.pub(e, coll.id, topic, g.trafficSize())
				e += g.exp(burstGap)
			}
			if g.rng.Float64() < observeShare {
				g.pub(e+g.exp(20*time.Millisecond), corr.id, "attacker.observed", g.between(600, 1400))
			}
			rate := burstRate * level[at/int64(segment)]
			at += int64(g.rng.ExpFloat64() / rate * float64(time.Second))
		}
		for at := g.exp(time.Second / trickleRate); at < g.end; at += g.exp(time.Second / trickleRate) {
			g.pub(at, coll.id, topic, g.trafficSize())
		}
	}
}

// control is topology t's agent and mutations: status heartbeats, decky
// state changes, and mutations enqueued by the API and carried out by the
// mutator.
func (g *gen) control(p *platform, t int) {
	topo, agent := topologyID(t), p.agents[t]
	for at := int64(g.rng.IntN(int(statusEvery))); at < g.end; at += int64(statusEvery) + g.jitter(50*time.Millisecond) {
		g.pub(at, agent.id, "topology."+topo+".status", g.between(300, 500))
	}
	for _, d := range p.deckies[t] {
		for at := g.exp(stateMean); at < g.end; at += g.exp(stateMean) {
			g.pub(at, agent.id, "decky."+d+".state", g.between(200, 400))
		}
	}
	mutation := "topology." + topo + ".mutation."
	for at := g.exp(mutateMean); at < g.end; at += g.exp(mutateMean) {
		g.pub(at, p.api.id, mutation+"enqueued", g.between(250, 600))
		applying := at + int64(g.between(50, 200))*int64(time.Millisecond)
		g.pub(applying, p.mutator.id, mutation+"applying", g.between(250, 400))
		g.pub(applying+int64(time.Millisecond), p.mutator.id, "system.log", g.between(150, 400))
		done, outcome := applying+int64(g.between(1000, 4000))*int64(time.Millisecond), "applied"
		if g.rng.Float64() < failShare {
			outcome = "failed"
		}
		g.pub(done, p.mutator.id, mutation+outcome, g.between(250, 600))
	}
}

// logs is every service's system.log lines.
func (g *gen) logs(p *platform) {
	for _, c := range p.services() {
		for at := g.exp(time.Second / logRate); at < g.end; at += g.exp(time.Second / logRate) {
			g.pub(at, c.id, "system.log", g.between(150, 400))
		}
	}
}

// operator is a person watching one decky with busd sub for a while in
// the middle of the capture.
func (g *gen) operator(p *platform) {
	c := p.cli
	from, to := g.end*3/10, g.end/2
	g.recs = append(g.recs,
		capture.Record{Kind: capture.KindOpen, Time: from, Conn: c.id, PID: int32(4000 + c.id), UID: 1000},
		capture.Record{Kind: capture.KindHello, Time: from, Conn: c.id, Text: []byte(c.name)},
		capture.Record{Kind: capture.KindSub, Time: from, Conn: c.id, Text: []byte(c.patterns[0])},
		capture.Record{Kind: capture.KindBye, Time: to, Conn: c.id},
		capture.Record{Kind: capture.KindClose, Time: to, Conn: c.id})
}
