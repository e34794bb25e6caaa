package natstest

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nkeys"
)

// NewUserNKey creates a user nkey, writes its seed to a file of its own in
// dir (mode 0600, as a real seed file must be kept) and returns that file,
// for the client, and the public key, for WithNKeyUser.
func NewUserNKey(t testing.TB, dir string) (seedFile, publicKey string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatalf("natstest: create user nkey: %v", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatalf("natstest: user nkey seed: %v", err)
	}
	publicKey, err = kp.PublicKey()
	if err != nil {
		t.Fatalf("natstest: user nkey public key: %v", err)
	}
	seedFile = filepath.Join(dir, publicKey+".nk")
	if err := writeFileAtomic(seedFile, seed, 0o600); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return seedFile, publicKey
}
