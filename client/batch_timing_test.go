package client

import "testing"

func BenchmarkRawDispatch(b *testing.B) {
	c := &Client{}
	n := 0
	s := newRawSubscription([]string{"decky.*.traffic"}, func(topic, body []byte) { n += len(body) }, nil)
	c.snapshot.Store(&[]*Subscription{s})
	topic, body := []byte("decky.d1.traffic"), []byte(`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "payload": {"bytes": 1234}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c.dispatch(topic, body)
	}
}

func BenchmarkBatchAdd(b *testing.B) {
	topic, body := []byte("decky.d1.traffic"), []byte(`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "payload": {"bytes": 1234}}`)
	var batch Batch
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if batch.Len() == 256 {
			batch.Reset()
		}
		if err := batch.Add(topic, body); err != nil {
			b.Fatal(err)
		}
	}
}
