package bridge

import (
	"fmt"
	"testing"
)

func drain(o *outbox) []string {
	var b outBatch
	o.take(&b)
	var out []string
	for _, e := range b.ents[b.head:] {
		out = append(out, string(b.subject(e))+"="+string(b.body(e)))
	}
	return out
}

func TestOutboxDropsOldestByCount(t *testing.T) {
	o := newOutbox(3, 1<<20)
	dropped := 0
	for i := range 5 {
		d, _ := o.push([]byte(fmt.Sprint("s", i)), []byte("{}"), int64(i))
		dropped += d
	}
	if dropped != 2 {
		t.Errorf("dropped %d, want 2", dropped)
	}
	if got := fmt.Sprint(drain(o)); got != "[s2={} s3={} s4={}]" {
		t.Errorf("kept %s", got)
	}
}

func TestOutboxDropsOldestByBytes(t *testing.T) {
	o := newOutbox(1000, 100)
	body := make([]byte, 30)
	for i := range 10 {
		o.push([]byte{'a' + byte(i)}, body, 0)
	}
	ev, by := o.len()
	if by > 100 || ev != 3 {
		t.Errorf("holds %d events, %d bytes; want 3 within 100", ev, by)
	}
	got := drain(o)
	if len(got) != 3 || got[0][0] != 'h' || got[2][0] != 'j' {
		t.Errorf("kept %q, want the newest three", got)
	}
	if _, tooLarge := o.push([]byte("x"), make([]byte, 100), 0); !tooLarge {
		t.Error("an event over the byte bound was queued")
	}
}

// The arena is compacted as the oldest entries are dropped: its size stays
// within twice the bound however long the drops go on.
func TestOutboxArenaStaysBounded(t *testing.T) {
	o := newOutbox(1<<20, 1000)
	body := make([]byte, 90)
	for i := range 100_000 {
		o.push([]byte(fmt.Sprint(i%10)), body, 0)
		if n := len(o.pending.arena); n > 2*1000+100 {
			t.Fatalf("after %d pushes the arena holds %d bytes", i, n)
		}
	}
}

// Entries the sender could not send go back in front of newer ones, in
// order, within the bounds.
func TestOutboxRequeue(t *testing.T) {
	o := newOutbox(4, 1<<20)
	for i := range 3 {
		o.push([]byte(fmt.Sprint("old", i)), nil, 0)
	}
	var b outBatch
	o.take(&b)
	o.push([]byte("new0"), nil, 0)
	o.push([]byte("new1"), nil, 0)
	if d := o.requeue(&b, 1); d != 0 {
		t.Errorf("requeue dropped %d", d)
	}
	if got := fmt.Sprint(drain(o)); got != "[old1= old2= new0= new1=]" {
		t.Errorf("after requeue: %s", got)
	}
	o.push([]byte("a"), nil, 0)
	o.take(&b)
	for i := range 4 {
		o.push([]byte(fmt.Sprint("n", i)), nil, 0)
	}
	if d := o.requeue(&b, 0); d != 1 {
		t.Errorf("requeue over the bound dropped %d, want 1 (the oldest)", d)
	}
	if got := fmt.Sprint(drain(o)); got != "[n0= n1= n2= n3=]" {
		t.Errorf("after requeue over the bound: %s", got)
	}
}
