package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// certLifetime is how long issued certificates are valid: far longer than
// any test, and short enough that none is worth anything once leaked.
const certLifetime = 24 * time.Hour

// CA is a certificate authority made for one test. Its certificate is in
// CAFile (PEM); its key stays in memory, so only this test can issue more.
// Files it writes are named after the names given, inside its directory:
// the same name again replaces them.
type CA struct {
	CAFile string

	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// Certs is the set a TLS test needs: a CA, a server certificate for
// 127.0.0.1 and localhost, and a client certificate, all as PEM files.
// Further client certificates come from the embedded CA's NewClientCert.
type Certs struct {
	*CA
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// NewCerts creates a CA in dir and issues a server certificate ("server")
// and a client certificate ("client") from it.
func NewCerts(t testing.TB, dir string) *Certs {
	t.Helper()
	c := &Certs{CA: NewCA(t, dir, "ca")}
	c.ServerCert, c.ServerKey = c.NewServerCert(t, "server")
	c.ClientCert, c.ClientKey = c.NewClientCert(t, "client")
	return c
}

// NewCA creates a CA whose certificate is written to dir/name.pem. A second
// CA, unrelated to the first, is what "wrong CA" tests trust, or have their
// client certificates issued by.
func NewCA(t testing.TB, dir, name string) *CA {
	t.Helper()
	key := newKey(t)
	template := certTemplate(t, name)
	template.IsCA = true
	template.BasicConstraintsValid = true
	template.MaxPathLenZero = true // it signs leaves, never other CAs
	template.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("natstest: create CA %s: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("natstest: parse CA %s: %v", name, err)
	}
	ca := &CA{CAFile: filepath.Join(dir, name+".pem"), dir: dir, cert: cert, key: key}
	writePEM(t, ca.CAFile, "CERTIFICATE", der, 0o644)
	return ca
}

// NewServerCert issues a server certificate valid for 127.0.0.1, ::1 and
// localhost, written to dir/name.pem and its key to dir/name-key.pem.
func (ca *CA) NewServerCert(t testing.TB, name string) (certFile, keyFile string) {
	t.Helper()
	template := certTemplate(t, name)
	template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	template.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	template.DNSNames = []string{"localhost"}
	return ca.issue(t, name, template)
}

// NewClientCert issues a client certificate, written to dir/name.pem and
// its key to dir/name-key.pem. Issuing again under the same name replaces
// both files, each through a rename, which is how a test rotates the
// certificate of a running client: the key is replaced first, so a reader
// between the two renames finds a key that does not match the old
// certificate; a test rotates when no connection is being made, or
// expects one failed attempt.
func (ca *CA) NewClientCert(t testing.TB, name string) (certFile, keyFile string) {
	t.Helper()
	template := certTemplate(t, name)
	template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return ca.issue(t, name, template)
}

// issue signs template with the CA for a fresh key and writes both.
func (ca *CA) issue(t testing.TB, name string, template *x509.Certificate) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	template.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("natstest: issue %s: %v", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("natstest: marshal key of %s: %v", name, err)
	}
	certFile = filepath.Join(ca.dir, name+".pem")
	keyFile = filepath.Join(ca.dir, name+"-key.pem")
	writePEM(t, keyFile, "PRIVATE KEY", keyDER, 0o600)
	writePEM(t, certFile, "CERTIFICATE", der, 0o644)
	return certFile, keyFile
}

// newKey makes an ECDSA P-256 key: what TLS 1.2 and 1.3 both accept, and
// fast to generate.
func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("natstest: generate key: %v", err)
	}
	return key
}

// certTemplate is what every certificate shares: a random serial (two
// certificates of one CA must not share one), the name as common name, a
// validity that starts a minute back so that a verifier reading a clock a
// little behind the issuer's does not find it not yet valid.
func certTemplate(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("natstest: serial number: %v", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"busd natstest"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(certLifetime),
	}
}

func writePEM(t testing.TB, path, blockType string, der []byte, mode os.FileMode) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := writeFileAtomic(path, data, mode); err != nil {
		t.Fatalf("natstest: %v", err)
	}
}
