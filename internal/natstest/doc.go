// Package natstest runs real embedded NATS servers for tests of the NATS
// bridge: a single server or a routed cluster, optionally with TLS (and the
// certificates for it) or with user credentials, every listener on
// 127.0.0.1 at a port the OS picks.
//
// A real nats-server rather than a fake, because what the bridge must
// survive is the server's own behaviour: routes forming and breaking,
// refused credentials and certificates, a node killed and brought back on
// the same address.
//
// Files: server.go (one server, its pinned ports and restarts), cluster.go
// (n routed servers), options.go (TLS, users, nkeys as server options),
// certs.go (a CA and the certificates it issues), nkey.go (nkey users),
// files.go (atomic file replacement, shared by both).
package natstest
