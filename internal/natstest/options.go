package natstest

import (
	"crypto/tls"

	"github.com/nats-io/nats-server/v2/server"
)

// Option configures a server before each of its starts. It is applied
// afresh every time, so files it reads (certificates) are read again on a
// Restart. Tests may write their own for settings not covered here; the
// listening addresses and cluster settings are this package's and are set
// after the options, whatever they did.
type Option func(*server.Options) error

// WithTLS makes the server require TLS from clients, presenting the
// certificate certs issued for 127.0.0.1 and localhost. With
// requireClientCert the server also demands a client certificate signed by
// certs' CA, and refuses a client that offers none or one from another CA.
// Routes between cluster nodes stay plaintext: they never leave loopback,
// and what is under test is the client side.
func WithTLS(certs *Certs, requireClientCert bool) Option {
	return func(o *server.Options) error {
		cfg, err := server.GenTLSConfig(&server.TLSConfigOpts{
			CertFile:   certs.ServerCert,
			KeyFile:    certs.ServerKey,
			CaFile:     certs.CAFile,
			Verify:     requireClientCert,
			MinVersion: tls.VersionTLS12,
		})
		if err != nil {
			return err
		}
		o.TLS = true
		o.TLSVerify = requireClientCert
		o.TLSConfig = cfg
		return nil
	}
}

// WithUser admits a client that gives this user name and password; once a
// server has users (or nkey users), a client that gives none of them is
// refused with an authorization violation. May be given several times.
func WithUser(name, password string) Option {
	return func(o *server.Options) error {
		o.Users = append(o.Users, &server.User{Username: name, Password: password})
		return nil
	}
}

// WithNKeyUser admits a client that proves it holds the seed of this
// public user nkey (see NewUserNKey). May be given several times.
func WithNKeyUser(publicKey string) Option {
	return func(o *server.Options) error {
		o.Nkeys = append(o.Nkeys, &server.NkeyUser{Nkey: publicKey})
		return nil
	}
}
