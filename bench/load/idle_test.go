package load

import (
	"context"
	"testing"
	"time"
)

// Idle measures a real daemon holding idle subscribers: the figures are
// the server's, over about the time asked for.
func TestIdleMeasuresTheServer(t *testing.T) {
	res, err := Idle(context.Background(), &Busd{}, 5, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.System != "busd" || res.Subscribers != 5 || res.Seconds < 0.3 || res.Seconds > 5 {
		t.Errorf("result %+v", res)
	}
	if res.CPUPercent < 0 || res.CPUPercent > 100 || res.WakeupsPerSec < 0 {
		t.Errorf("implausible figures %+v", res)
	}
}
