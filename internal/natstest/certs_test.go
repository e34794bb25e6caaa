package natstest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certs := NewCerts(t, dir)
	other := NewCA(t, dir, "other-ca")
	strangerCert, strangerKey := other.NewClientCert(t, "stranger")
	s := RunServer(t, WithTLS(certs, true))
	if !strings.HasPrefix(s.URL(), "tls://") {
		t.Fatalf("URL %q, want tls://", s.URL())
	}

	nc := connect(t, s.URL(), nats.RootCAs(certs.CAFile), nats.ClientCert(certs.ClientCert, certs.ClientKey))
	roundTrip(t, s.WaitInterest, nc, nc, "bridge.tls")

	// Go's TLS client offers a certificate only if the server's request
	// names its CA, so a client certificate of another CA given as such is
	// never sent; presenting it regardless is what makes the server's own
	// verification refuse it.
	stranger, err := tls.LoadX509KeyPair(strangerCert, strangerKey)
	if err != nil {
		t.Fatal(err)
	}
	presentStranger := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &stranger, nil
		},
	}

	// A server the client does not trust fails the client's verification;
	// a client certificate the server cannot verify fails the handshake on
	// the server's side, which the client may learn as a "certificate
	// required" alert or as the connection closed under it (TLS 1.3
	// finishes the client's handshake first), so those cases only assert
	// the refusal.
	for _, tc := range []struct {
		name        string
		opts        []nats.Option
		untrustedCA bool
	}{
		{"no client certificate", []nats.Option{nats.RootCAs(certs.CAFile)}, false},
		{"client certificate of another CA, withheld", []nats.Option{nats.RootCAs(certs.CAFile), nats.ClientCert(strangerCert, strangerKey)}, false},
		{"client certificate of another CA, presented", []nats.Option{nats.Secure(presentStranger), nats.RootCAs(certs.CAFile)}, false},
		{"trusting another CA", []nats.Option{nats.RootCAs(other.CAFile), nats.ClientCert(certs.ClientCert, certs.ClientKey)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refused(t, s.URL(), tc.opts...)
			t.Logf("refused: %v", err)
			var unknownCA x509.UnknownAuthorityError
			if tc.untrustedCA != errors.As(err, &unknownCA) {
				t.Fatalf("refused with %v; want an unknown-authority error: %v", err, tc.untrustedCA)
			}
		})
	}
}

func TestServerOnlyTLS(t *testing.T) {
	certs := NewCerts(t, t.TempDir())
	s := RunServer(t, WithTLS(certs, false))
	connect(t, s.URL(), nats.RootCAs(certs.CAFile))
	other := NewCA(t, t.TempDir(), "other-ca")
	var unknownCA x509.UnknownAuthorityError
	if err := refused(t, s.URL(), nats.RootCAs(other.CAFile)); !errors.As(err, &unknownCA) {
		t.Fatalf("refused with %v, want an unknown-authority error", err)
	}
}

func TestWithTLSConfig(t *testing.T) {
	certs := NewCerts(t, t.TempDir())
	for _, require := range []bool{false, true} {
		var o server.Options
		if err := WithTLS(certs, require)(&o); err != nil {
			t.Fatal(err)
		}
		if !o.TLS || o.TLSConfig == nil || o.TLSVerify != require {
			t.Fatalf("require %v: TLS %v, config %v, verify %v", require, o.TLS, o.TLSConfig != nil, o.TLSVerify)
		}
		if o.TLSConfig.MinVersion < tls.VersionTLS12 {
			t.Fatalf("MinVersion %s, want TLS 1.2 or later", tls.VersionName(o.TLSConfig.MinVersion))
		}
		want := tls.NoClientCert
		if require {
			want = tls.RequireAndVerifyClientCert
		}
		if o.TLSConfig.ClientAuth != want {
			t.Fatalf("require %v: ClientAuth %v, want %v", require, o.TLSConfig.ClientAuth, want)
		}
	}
	var o server.Options
	broken := *certs
	broken.ServerKey = certs.ClientKey // a key that does not match the certificate
	if err := WithTLS(&broken, true)(&o); err == nil {
		t.Fatal("a mismatched server key was accepted")
	}
}

func TestCertificates(t *testing.T) {
	dir := t.TempDir()
	certs := NewCerts(t, dir)
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, certs.CAFile))
	other := x509.NewCertPool()
	other.AddCert(readCert(t, NewCA(t, dir, "other-ca").CAFile))

	server := readCert(t, certs.ServerCert)
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := server.Verify(x509.VerifyOptions{DNSName: host, Roots: roots}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: roots}); err == nil {
		t.Error("server certificate valid for example.com")
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: other}); err == nil {
		t.Error("server certificate verified by an unrelated CA")
	}

	client := readCert(t, certs.ClientCert)
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: clientAuth}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots}); err == nil { // the default usage is server auth
		t.Error("client certificate valid for server authentication")
	}

	for _, key := range []string{certs.ServerKey, certs.ClientKey} {
		info, err := os.Stat(key)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", key, info.Mode().Perm())
		}
	}
	for _, pair := range [][2]string{{certs.ServerCert, certs.ServerKey}, {certs.ClientCert, certs.ClientKey}} {
		if _, err := tls.LoadX509KeyPair(pair[0], pair[1]); err != nil {
			t.Errorf("%s with %s: %v", pair[0], pair[1], err)
		}
	}
}

// Issuing under the same name replaces the files in place: what a
// rotation test does to a running client's certificate.
func TestNewClientCertRotates(t *testing.T) {
	certs := NewCerts(t, t.TempDir())
	s := RunServer(t, WithTLS(certs, true))
	certFile, keyFile := certs.NewClientCert(t, "rotating")
	connect(t, s.URL(), nats.RootCAs(certs.CAFile), nats.ClientCert(certFile, keyFile))
	oldCert, oldKey := readFile(t, certFile), readFile(t, keyFile)

	newCertFile, newKeyFile := certs.NewClientCert(t, "rotating")
	if newCertFile != certFile || newKeyFile != keyFile {
		t.Fatalf("reissued to %s, %s; want the same files %s, %s", newCertFile, newKeyFile, certFile, keyFile)
	}
	if bytes.Equal(readFile(t, certFile), oldCert) || bytes.Equal(readFile(t, keyFile), oldKey) {
		t.Fatal("reissuing left the certificate or key unchanged")
	}
	connect(t, s.URL(), nats.RootCAs(certs.CAFile), nats.ClientCert(certFile, keyFile))
	entries, err := os.ReadDir(certs.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(readFile(t, path))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}
