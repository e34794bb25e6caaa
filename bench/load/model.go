package load

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// CostModel predicts the server's CPU time from what a run did:
//
//	cpu-seconds = PerPublished·published + PerDelivered·delivered
//	            + PerDeliveredByte·bytes written to subscribers
//	            + PerReadBatch·read batches + PerBatchWrite·writes
//	            + PerBacklogRetry·backlog retries + Idle·seconds
//
// Each term is a real cost of the daemon: validating and matching a
// publish; handing one delivery to a subscriber; copying its bytes; waking
// up for a read (epoll, the read, the scheduler), which a batch of events
// shares; one write per subscriber a batch reaches; a wakeup to retry
// subscribers whose socket stayed full, every backlog tick while one is
// behind (real traffic has slow readers, the synthetic grid's fixed-rate
// runs only where it adds one); and the ticker when nothing happens. At high rates events share reads and the per-event terms
// dominate; at low rates every event pays a wakeup, which is why a model
// without the batch terms fitted held-out runs badly
// (bench/decisions/load.md). It is fitted by least squares to fixed-rate
// runs on the machine that will be sized (saturated runs all cost about
// one core per second, which hides the terms).
//
// Bytes and writes are the daemon's own counts where the run has them
// (ServerBytesOut, ServerWrites): a replay of real traffic mixes sizes and
// reaches a different set of subscribers from one batch to the next, which
// delivered × size and batches × subscribers do not describe
// (bench/decisions/load.md, "The capacity model counts bytes and writes").
type CostModel struct {
	PerPublished     float64 // CPU-seconds per published event
	PerDelivered     float64 // CPU-seconds per delivered event
	PerDeliveredByte float64 // CPU-seconds per byte written to subscribers
	PerReadBatch     float64 // CPU-seconds per read carrying frames
	PerBatchWrite    float64 // CPU-seconds per write to a subscriber
	PerBacklogRetry  float64 // CPU-seconds per retry of backlogged subscribers
	Idle             float64 // CPU-seconds per second of wall time
}

const modelTerms = 7

func features(r Result) [modelTerms]float64 {
	// Results without the daemon's byte and write counts (older files):
	// every delivery is Size bytes and every batch reaches every
	// subscriber.
	bytes := float64(r.ServerBytesOut)
	if r.ServerBytesOut == 0 {
		bytes = float64(r.Delivered) * float64(r.Size)
	}
	writes := float64(r.ServerWrites)
	if r.ServerWrites == 0 {
		writes = float64(r.ServerReadBatches) * float64(r.Subscribers)
	}
	return [modelTerms]float64{
		float64(r.Published),
		float64(r.Delivered),
		bytes,
		float64(r.ServerReadBatches),
		writes,
		float64(r.ServerBacklogRetries),
		r.Seconds,
	}
}

func (m CostModel) coefficients() [modelTerms]float64 {
	return [modelTerms]float64{m.PerPublished, m.PerDelivered, m.PerDeliveredByte, m.PerReadBatch, m.PerBatchWrite, m.PerBacklogRetry, m.Idle}
}

// Predict returns the modelled server CPU-seconds of run r.
func (m CostModel) Predict(r Result) float64 {
	f, c := features(r), m.coefficients()
	sum := 0.0
	for i := range f {
		sum += f[i] * c[i]
	}
	return sum
}

// Cores is the CPU the daemon needs for rate published events per second,
// each of size bytes reaching fanout subscribers, arriving in reads per
// second socket reads (at most rate; the daemon's busd_read_batches_total
// shows it on a running host).
func (m CostModel) Cores(rate, reads, fanout float64, size int) float64 {
	return rate*(m.PerPublished+fanout*(m.PerDelivered+m.PerDeliveredByte*float64(size))) +
		reads*(m.PerReadBatch+fanout*m.PerBatchWrite) + m.Idle
}

// FitCostModel fits the model to runs whose server CPU and read batches
// were measured, by least squares with every coefficient kept
// non-negative: a term whose best fit is negative (its feature moves with
// another one in these runs, so the data cannot tell them apart) is left
// out and the rest fitted again. It solves the normal equations with the
// terms scaled to comparable magnitudes, which keeps the system well
// conditioned.
func FitCostModel(runs []Result) (CostModel, error) {
	var active [modelTerms]bool
	for i := range active {
		active[i] = true
	}
	for {
		x, err := fitTerms(runs, active)
		if err != nil {
			return CostModel{}, err
		}
		worst := -1
		for i := range x {
			if active[i] && x[i] < 0 && (worst < 0 || x[i] < x[worst]) {
				worst = i
			}
		}
		if worst < 0 {
			return CostModel{PerPublished: x[0], PerDelivered: x[1], PerDeliveredByte: x[2],
				PerReadBatch: x[3], PerBatchWrite: x[4], PerBacklogRetry: x[5], Idle: x[6]}, nil
		}
		active[worst] = false
	}
}

// fitTerms solves the least-squares problem over the active terms; the
// others come back 0.
func fitTerms(runs []Result, active [modelTerms]bool) ([modelTerms]float64, error) {
	var scale [modelTerms]float64
	n := 0
	for _, r := range runs {
		if !r.ServerMeasured {
			continue
		}
		n++
		for i, v := range features(r) {
			scale[i] = max(scale[i], math.Abs(v))
		}
	}
	if n < modelTerms {
		return [modelTerms]float64{}, fmt.Errorf("need at least %d measured runs, have %d", modelTerms, n)
	}
	var a [modelTerms][modelTerms + 1]float64
	for _, r := range runs {
		if !r.ServerMeasured {
			continue
		}
		f := features(r)
		for i := range f {
			if scale[i] > 0 && active[i] { // a term no run has cannot be fitted: it stays 0
				f[i] /= scale[i]
			} else {
				f[i] = 0
			}
		}
		for i := range modelTerms {
			for j := range modelTerms {
				a[i][j] += f[i] * f[j]
			}
			a[i][modelTerms] += f[i] * r.ServerCPUSeconds
		}
	}
	// An inactive term's equation becomes x = 0.
	for i := range modelTerms {
		if !active[i] || scale[i] == 0 {
			a[i][i] = 1
		}
	}
	x, err := solve(a)
	if err != nil {
		return x, err
	}
	for i := range x {
		if scale[i] > 0 {
			x[i] /= scale[i]
		}
	}
	return x, nil
}

// solve solves a linear system given as an augmented matrix, by Gaussian
// elimination with partial pivoting.
func solve(a [modelTerms][modelTerms + 1]float64) ([modelTerms]float64, error) {
	const k = modelTerms
	for col := range k {
		pivot := col
		for r := col + 1; r < k; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[pivot][col]) {
				pivot = r
			}
		}
		if math.Abs(a[pivot][col]) < 1e-12 {
			return [k]float64{}, errors.New("runs do not vary enough to separate the cost terms")
		}
		a[col], a[pivot] = a[pivot], a[col]
		for r := range k {
			if r == col {
				continue
			}
			f := a[r][col] / a[col][col]
			for c := col; c <= k; c++ {
				a[r][c] -= f * a[col][c]
			}
		}
	}
	var x [k]float64
	for i := range k {
		x[i] = a[i][k] / a[i][i]
	}
	return x, nil
}

// HeldOutError fits on every other run and reports the mean and worst
// absolute relative error of the predictions on the runs left out.
func HeldOutError(runs []Result) (mean, worst float64, err error) {
	var train, test []Result
	for i, r := range runs {
		if i%2 == 0 {
			train = append(train, r)
		} else {
			test = append(test, r)
		}
	}
	m, err := FitCostModel(train)
	if err != nil {
		return 0, 0, err
	}
	mean, worst, n := CheckError(m, test)
	if n == 0 {
		return 0, 0, errors.New("no held-out run")
	}
	return mean, worst, nil
}

// PredictionError is |predicted - measured| ÷ measured server CPU of r.
func (m CostModel) PredictionError(r Result) float64 {
	return math.Abs(m.Predict(r)-r.ServerCPUSeconds) / r.ServerCPUSeconds
}

// CheckError is the mean and worst PredictionError of m over the measured
// runs among runs (n of them), which it was not fitted to.
func CheckError(m CostModel, runs []Result) (mean, worst float64, n int) {
	for _, r := range runs {
		if !r.ServerMeasured || r.ServerCPUSeconds <= 0 {
			continue
		}
		e := m.PredictionError(r)
		mean += e
		worst = max(worst, e)
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mean, worst, n
}

// WriteCapacity prints the capacity-planning section of BENCHMARKS.md: the
// fitted model, its held-out error, its error on checks (runs of another
// kind, replays of a capture, that it was not fitted to; none: no such
// line), and worked examples.
func WriteCapacity(w io.Writer, runs, checks []Result, ringBytes, highWater int) error {
	m, err := FitCostModel(runs)
	if err != nil {
		return err
	}
	mean, worst, err := HeldOutError(runs)
	if err != nil {
		return err
	}
	var baseRSS float64
	for _, r := range runs {
		if baseRSS == 0 || (r.ServerRSSStartMB > 0 && r.ServerRSSStartMB < baseRSS) {
			baseRSS = r.ServerRSSStartMB
		}
	}
	fmt.Fprintf(w, "Fitted to %d lossless runs of busd (fixed-rate and closed-loop, over subscribers × event size):\n\n", len(runs))
	fmt.Fprintf(w, "    server CPU-seconds = %.3g × published + %.3g × delivered + %.3g × bytes out\n"+
		"                       + %.3g × read batches + %.3g × writes + %.3g × backlog retries + %.3g × seconds\n\n",
		m.PerPublished, m.PerDelivered, m.PerDeliveredByte, m.PerReadBatch, m.PerBatchWrite, m.PerBacklogRetry, m.Idle)
	fmt.Fprintf(w, "i.e. %.0f ns per publish, %.0f ns per delivery, %.2f ns per byte written to subscribers, %.1f µs per read batch "+
		"(a wakeup: epoll, read, scheduler), %.1f µs per write to a subscriber (a batch writes once to each subscriber it reaches) "+
		"and %.1f µs per backlog retry (a wakeup every few ms while a subscriber's socket stays full). "+
		"Bytes out, read batches, writes and backlog retries are the daemon's own counts "+
		"(`/statsz`; writes: `syscw` in `/proc/<pid>/io`).\n",
		m.PerPublished*1e9, m.PerDelivered*1e9, m.PerDeliveredByte*1e9, m.PerReadBatch*1e6, m.PerBatchWrite*1e6, m.PerBacklogRetry*1e6)
	fmt.Fprintf(w, "Fitted on every other run and checked on the rest, its error is %.0f %% on average, %.0f %% at worst.\n",
		mean*100, worst*100)
	if cmean, cworst, n := CheckError(m, checks); n > 0 {
		fmt.Fprintf(w, "On %d replays of a capture, which it was not fitted to (\"Capacity from a capture\"), its error is %.0f %% on average, %.0f %% at worst.\n",
			n, cmean*100, cworst*100)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Cores needed = rate × (per publish + fan-out × (per delivery + size × per byte)) + reads/s × (per batch + fan-out × per batch write).")
	fmt.Fprintln(w, "Reads per second are at most the publishes per second (every event written on its own, at low rates) and fall as the")
	fmt.Fprintln(w, "daemon gets busy and events share reads; `busd_read_batches_total` on the admin socket gives a host's real figure.")
	fmt.Fprintln(w, "One event loop (the default, fastest on 2 cores) uses at most one core: above 0.7 of a core, add loops and cores.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| publishes/s | reads/s | event size | subscribers per event | cores |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|")
	for _, ex := range []struct {
		rate, reads, fanout float64
		size                int
	}{
		{1_000, 1_000, 1, 300}, {10_000, 10_000, 1, 300}, {10_000, 10_000, 8, 300}, {100_000, 20_000, 1, 220},
		{100_000, 20_000, 4, 400}, {500_000, 10_000, 1, 220}, {200_000, 10_000, 8, 220}, {50_000, 10_000, 2, 16 << 10},
	} {
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %.2f |\n", FormatRate(ex.rate), FormatRate(ex.reads), SizeName(ex.size), ex.fanout,
			m.Cores(ex.rate, ex.reads, ex.fanout, ex.size))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Memory: the daemon starts at about %.0f MiB RSS. However far subscribers fall behind, each one holds at most its queue bound "+
		"(`--ring-bytes`, %s by default, or `--ring-events` events) plus the bytes handed to its socket (`--high-water`, %s), "+
		"so budget %.0f MiB + subscribers × %s at worst; typical events fill the 1024-event bound long before the byte bound "+
		"(1024 × 300 B ≈ 0.3 MiB per subscriber).\n",
		baseRSS, SizeName(ringBytes), SizeName(highWater), baseRSS, SizeName(ringBytes+highWater))
	return nil
}
