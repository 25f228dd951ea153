package tests

import (
	"context"
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
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPasswordAuth: with --auth password the superuser's password comes
// from HOPSQL_PASSWORD on first start, is kept only as a SCRAM verifier,
// and clients authenticate with SCRAM-SHA-256.
func TestPasswordAuth(t *testing.T) {
	dir := t.TempDir()
	srv := startServerIn(t, dir, []string{"HOPSQL_PASSWORD=s3cret pässword"}, "--auth", "password")
	ctx := context.Background()
	good := "postgres://hopsql:s3cret%20p%C3%A4ssword@" + srv.Addr + "/hopsql?sslmode=disable"
	c := connectURL(t, good)
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"postgres://hopsql:wrong@" + srv.Addr + "/hopsql?sslmode=disable",
		"postgres://nobody:s3cret@" + srv.Addr + "/hopsql?sslmode=disable",
	} {
		_, err := pgx.Connect(ctx, bad)
		if sqlstate(err) != "28P01" {
			t.Errorf("%s: want 28P01, got %v", bad, err)
		}
	}
	// psql with PGPASSWORD, the way people log in.
	cmd := []string{"-c", "SELECT current_user"}
	os.Setenv("PGPASSWORD", "s3cret pässword")
	out, err := psqlRun(t, srv.Host, srv.Port, "hopsql", "hopsql", cmd...)
	os.Unsetenv("PGPASSWORD")
	if err != nil || !strings.Contains(out, "hopsql") {
		t.Errorf("psql with password: %v\n%s", err, out)
	}
	// The password itself is never stored: the catalog (its Raft log and
	// snapshots) holds only the SCRAM verifier.
	var all []byte
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
		}
		return nil
	})
	if strings.Contains(string(all), "s3cret") || !strings.Contains(string(all), "SCRAM-SHA-256$4096:") {
		t.Errorf("the data directory holds the password, or no SCRAM verifier")
	}
	// The verifier persists: a restart without HOPSQL_PASSWORD still authenticates.
	srv.Stop()
	srv2 := startServerIn(t, dir, nil, "--auth", "password")
	connectURL(t, "postgres://hopsql:s3cret%20p%C3%A4ssword@"+srv2.Addr+"/hopsql?sslmode=disable")
}

func writeSelfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestTLS: SSLRequest gets TLS when a certificate is configured and 'N'
// otherwise; password authentication works over it.
func TestTLS(t *testing.T) {
	certFile, keyFile := writeSelfSignedCert(t, t.TempDir())
	srv := startServerIn(t, t.TempDir(), []string{"HOPSQL_PASSWORD=pw"}, "--auth", "password", "--tls-cert", certFile, "--tls-key", keyFile)
	ctx := context.Background()
	c := connectURL(t, "postgres://hopsql:pw@"+srv.Addr+"/hopsql?sslmode=require")
	var ssl string
	if err := c.QueryRow(ctx, "SELECT 'ok'").Scan(&ssl); err != nil || ssl != "ok" {
		t.Fatalf("query over TLS: %v", err)
	}
	if !isTLS(c) {
		t.Error("connection with sslmode=require is not TLS")
	}
	os.Setenv("PGPASSWORD", "pw")
	out, err := psqlRun(t, srv.Host, srv.Port, "hopsql", "hopsql", "-c", `\conninfo`)
	os.Unsetenv("PGPASSWORD")
	if err != nil || !strings.Contains(out, "SSL connection") {
		t.Errorf("psql over TLS: %v\n%s", err, out)
	}
	// Without a certificate the server answers 'N': require fails, prefer falls back.
	plain := startServer(t)
	if _, err := pgx.Connect(ctx, "postgres://hopsql@"+plain.Addr+"/hopsql?sslmode=require"); err == nil {
		t.Error("sslmode=require succeeded against a server without TLS")
	}
	connectURL(t, "postgres://hopsql@"+plain.Addr+"/hopsql?sslmode=prefer")
}

// isTLS reports whether pgx's connection is a *tls.Conn (the only net.Conn with a Handshake method).
func isTLS(c *pgx.Conn) bool {
	_, ok := c.PgConn().Conn().(interface {
		Handshake() error
	})
	return ok
}
