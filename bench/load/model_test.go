package load

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The fit recovers known costs from synthetic runs with 2 % noise, and the
// held-out error reflects that noise.
func TestFitCostModel(t *testing.T) {
	truth := CostModel{PerPublished: 150e-9, PerDelivered: 90e-9, PerDeliveredByte: 0.2e-9,
		PerReadBatch: 30e-6, PerBatchWrite: 5e-6, Idle: 0.01}
	rng := rand.New(rand.NewPCG(1, 2))
	var runs []Result
	for _, pubs := range []int{1, 2, 4} {
		for _, subs := range []int{1, 2, 4, 8} {
			for _, size := range []int{64, 220, 1024, 4096} {
				r := Result{Size: size, Seconds: 3, ServerMeasured: true, Subscribers: subs}
				r.Published = uint64(3e6 / float64(pubs*subs) * (1 + rng.Float64()))
				r.Delivered = r.Published * uint64(subs)
				// From one read per event down to a few hundred per read.
				r.ServerReadBatches = uint64(float64(r.Published) / (1 + 300*rng.Float64()))
				r.ServerCPUSeconds = truth.Predict(r) * (1 + 0.02*(2*rng.Float64()-1))
				runs = append(runs, r)
			}
		}
	}
	m, err := FitCostModel(runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"per published", m.PerPublished, truth.PerPublished},
		{"per delivered", m.PerDelivered, truth.PerDelivered},
		{"per byte", m.PerDeliveredByte, truth.PerDeliveredByte},
		{"per read batch", m.PerReadBatch, truth.PerReadBatch},
		{"per batch write", m.PerBatchWrite, truth.PerBatchWrite},
	} {
		if math.Abs(c.got-c.want)/c.want > 0.1 {
			t.Errorf("%s = %.3g, want %.3g", c.name, c.got, c.want)
		}
	}
	mean, worst, err := HeldOutError(runs)
	if err != nil || mean > 0.03 || worst > 0.06 {
		t.Fatalf("held-out error mean %.3f worst %.3f err %v", mean, worst, err)
	}
	var out bytes.Buffer
	if err := WriteCapacity(&out, runs, nil, 4<<20, 256<<10); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| cores |") {
		t.Fatalf("capacity section:\n%s", out.String())
	}
}

func TestFitNeedsVariedRuns(t *testing.T) {
	r := Result{Published: 100, Delivered: 100, Size: 100, Seconds: 1, ServerMeasured: true, ServerCPUSeconds: 1,
		Subscribers: 1, ServerReadBatches: 10}
	if _, err := FitCostModel([]Result{r, r, r, r, r}); err == nil {
		t.Fatal("identical runs cannot separate the terms")
	}
}
