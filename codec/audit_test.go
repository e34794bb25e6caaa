package codec

import (
	"bytes"
	"testing"
)

// TestLiveMessagesAudit: with the invariants tag, LiveMessages counts every
// message handed out and not yet back in its pool (how the engine and fuzz
// tests prove that closed connections leave no reference behind), and a
// released frame is cleared, so a use after release reads zeros.
func TestLiveMessagesAudit(t *testing.T) {
	if !Invariants {
		t.Skip("needs -tags invariants: the audit compiles away without it")
	}
	base := LiveMessages()
	shared := NewMessageRefs(100, 2)
	single := NewMessage(10)
	if got := LiveMessages() - base; got != 2 {
		t.Fatalf("two messages out: LiveMessages rose by %d", got)
	}
	shared.Release()
	if got := LiveMessages() - base; got != 2 {
		t.Fatalf("one of two references released: LiveMessages rose by %d, want 2", got)
	}
	shared.Release()
	single.Release()
	if got := LiveMessages() - base; got != 0 {
		t.Fatalf("everything released: LiveMessages off by %d", got)
	}

	m := NewMessage(4)
	frame := m.Frame()
	copy(frame, "EVT ")
	m.Release()
	if !bytes.Equal(frame, make([]byte, 4)) {
		t.Fatalf("a released frame still reads %q", frame)
	}
}
