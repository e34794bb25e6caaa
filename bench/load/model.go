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
//	            + PerDeliveredByte·delivered bytes + Idle·seconds
//
// Each term is a real cost of the daemon: reading, validating and matching
// a publish; queueing and writing one delivery; copying its bytes; and the
// ticker and event loop when nothing happens. It is fitted by least squares
// to fixed-rate runs of busd on the machine that will be sized (saturated
// runs all cost about one core per second, which hides the terms).
type CostModel struct {
	PerPublished     float64 // CPU-seconds per published event
	PerDelivered     float64 // CPU-seconds per delivered event
	PerDeliveredByte float64 // CPU-seconds per delivered body byte
	Idle             float64 // CPU-seconds per second of wall time
}

func features(r Result) [4]float64 {
	return [4]float64{
		float64(r.Published),
		float64(r.Delivered),
		float64(r.Delivered) * float64(r.Size),
		r.Seconds,
	}
}

// Predict returns the modelled server CPU-seconds of run r.
func (m CostModel) Predict(r Result) float64 {
	f := features(r)
	return m.PerPublished*f[0] + m.PerDelivered*f[1] + m.PerDeliveredByte*f[2] + m.Idle*f[3]
}

// Cores is the CPU the daemon needs for rate published events per second,
// each of size bytes reaching fanout subscribers.
func (m CostModel) Cores(rate, fanout float64, size int) float64 {
	return rate*(m.PerPublished+fanout*(m.PerDelivered+m.PerDeliveredByte*float64(size))) + m.Idle
}

// FitCostModel fits the model to runs whose server CPU was measured. It
// solves the normal equations with the terms scaled to comparable
// magnitudes, which keeps the 4x4 system well conditioned.
func FitCostModel(runs []Result) (CostModel, error) {
	var scale [4]float64
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
	if n < 4 {
		return CostModel{}, fmt.Errorf("need at least 4 measured runs, have %d", n)
	}
	var a [4][5]float64
	for _, r := range runs {
		if !r.ServerMeasured {
			continue
		}
		f := features(r)
		for i := range f {
			if scale[i] > 0 {
				f[i] /= scale[i]
			}
		}
		for i := range 4 {
			for j := range 4 {
				a[i][j] += f[i] * f[j]
			}
			a[i][4] += f[i] * r.ServerCPUSeconds
		}
	}
	x, err := solve4(a)
	if err != nil {
		return CostModel{}, err
	}
	for i := range x {
		if scale[i] > 0 {
			x[i] /= scale[i]
		}
	}
	return CostModel{PerPublished: x[0], PerDelivered: x[1], PerDeliveredByte: x[2], Idle: x[3]}, nil
}

// solve4 solves a 4x4 linear system given as an augmented matrix, by
// Gaussian elimination with partial pivoting.
func solve4(a [4][5]float64) ([4]float64, error) {
	for col := range 4 {
		pivot := col
		for r := col + 1; r < 4; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[pivot][col]) {
				pivot = r
			}
		}
		if math.Abs(a[pivot][col]) < 1e-12 {
			return [4]float64{}, errors.New("runs do not vary enough to separate the cost terms")
		}
		a[col], a[pivot] = a[pivot], a[col]
		for r := range 4 {
			if r == col {
				continue
			}
			k := a[r][col] / a[col][col]
			for c := col; c < 5; c++ {
				a[r][c] -= k * a[col][c]
			}
		}
	}
	var x [4]float64
	for i := range 4 {
		x[i] = a[i][4] / a[i][i]
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
	n := 0
	for _, r := range test {
		if !r.ServerMeasured || r.ServerCPUSeconds <= 0 {
			continue
		}
		e := math.Abs(m.Predict(r)-r.ServerCPUSeconds) / r.ServerCPUSeconds
		mean += e
		worst = max(worst, e)
		n++
	}
	if n == 0 {
		return 0, 0, errors.New("no held-out run")
	}
	return mean / float64(n), worst, nil
}

// WriteCapacity prints the capacity-planning section of BENCHMARKS.md: the
// fitted model, its held-out error, and worked examples.
func WriteCapacity(w io.Writer, runs []Result, ringBytes, highWater int) error {
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
	fmt.Fprintf(w, "Fitted to %d fixed-rate runs of busd (rate × subscribers × event size), each lossless:\n\n", len(runs))
	fmt.Fprintf(w, "    server CPU-seconds = %.3g × published + %.3g × delivered + %.3g × delivered bytes + %.3g × seconds\n\n",
		m.PerPublished, m.PerDelivered, m.PerDeliveredByte, m.Idle)
	fmt.Fprintf(w, "i.e. %.0f ns per publish, %.0f ns per delivery, %.2f ns per delivered byte.\n",
		m.PerPublished*1e9, m.PerDelivered*1e9, m.PerDeliveredByte*1e9)
	fmt.Fprintf(w, "Fitted on every other run and checked on the rest, its error is %.0f %% on average, %.0f %% at worst.\n\n",
		mean*100, worst*100)
	fmt.Fprintln(w, "Cores needed = rate × (per publish + fan-out × (per delivery + size × per byte)).")
	fmt.Fprintln(w, "One event loop (the default, fastest on 2 cores) uses at most one core: above 0.7 of a core, add loops and cores.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| publishes/s | event size | subscribers per event | cores |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|")
	for _, ex := range []struct {
		rate, fanout float64
		size         int
	}{
		{10_000, 1, 300}, {10_000, 8, 300}, {100_000, 1, 220}, {100_000, 4, 400},
		{500_000, 1, 220}, {200_000, 8, 220}, {50_000, 2, 16 << 10},
	} {
		fmt.Fprintf(w, "| %s | %s | %.0f | %.2f |\n", si(ex.rate), SizeName(ex.size), ex.fanout, m.Cores(ex.rate, ex.fanout, ex.size))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Memory: the daemon starts at about %.0f MiB RSS. However far subscribers fall behind, each one holds at most its queue bound "+
		"(`--ring-bytes`, %s by default, or `--ring-events` events) plus the bytes handed to its socket (`--high-water`, %s), "+
		"so budget %.0f MiB + subscribers × %s at worst; typical events fill the 1024-event bound long before the byte bound "+
		"(1024 × 300 B ≈ 0.3 MiB per subscriber).\n",
		baseRSS, SizeName(ringBytes), SizeName(highWater), baseRSS, SizeName(ringBytes+highWater))
	return nil
}
