package bridge

import (
	"testing"

	"github.com/nats-io/nats.go"
)

func TestLoopGuard(t *testing.T) {
	g := loopGuard{host: "h1", maxHops: 2}
	for _, c := range []struct {
		h    nats.Header
		want verdict
	}{
		{nil, accept},
		{nats.Header{}, accept},
		{exportHeader("h2"), accept},
		{exportHeader("h1"), ownOrigin},
		{nats.Header{HeaderOrigin: {"h2"}, HeaderHops: {"2"}}, accept},
		{nats.Header{HeaderOrigin: {"h2"}, HeaderHops: {"3"}}, tooManyHops},
		{nats.Header{HeaderOrigin: {"h2"}, HeaderHops: {"x"}}, tooManyHops},
		{nats.Header{HeaderOrigin: {"h2"}, HeaderHops: {"-1"}}, tooManyHops},
	} {
		if got := g.check(c.h); got != c.want {
			t.Errorf("%v: %v, want %v", c.h, got, c.want)
		}
	}
}
