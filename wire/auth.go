package wire

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"

	"github.com/hopsql/hopsql/engine/pgerr"
)

const scramIterations = 4096

// MakeSCRAMVerifier computes the SCRAM-SHA-256 verifier stored for a
// password, in PostgreSQL's format, so the password itself is never kept.
func MakeSCRAMVerifier(user, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		return "", fmt.Errorf("scram client: %w", err)
	}
	creds := client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: scramIterations})
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", creds.Iters, b64(salt), b64(creds.StoredKey), b64(creds.ServerKey)), nil
}

func parseSCRAMVerifier(v string) (scram.StoredCredentials, error) {
	var sc scram.StoredCredentials
	rest, ok := strings.CutPrefix(v, "SCRAM-SHA-256$")
	if !ok {
		return sc, errors.New("not a SCRAM-SHA-256 verifier")
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	iter, salt, ok2 := strings.Cut(iterSalt, ":")
	stored, server, ok3 := strings.Cut(keys, ":")
	if !ok || !ok2 || !ok3 {
		return sc, errors.New("malformed SCRAM verifier")
	}
	n, err := strconv.Atoi(iter)
	if err != nil {
		return sc, fmt.Errorf("malformed SCRAM iteration count: %w", err)
	}
	dec := base64.StdEncoding.DecodeString
	s, err1 := dec(salt)
	st, err2 := dec(stored)
	sv, err3 := dec(server)
	if err := errors.Join(err1, err2, err3); err != nil {
		return sc, fmt.Errorf("malformed SCRAM verifier: %w", err)
	}
	sc.KeyFactors = scram.KeyFactors{Salt: string(s), Iters: n}
	sc.StoredKey, sc.ServerKey = st, sv
	return sc, nil
}

// authenticate checks the client's credentials; on failure it has already
// sent the FATAL error.
func (c *conn) authenticate(user string) (bool, error) {
	u, exists := c.srv.eng.User(user)
	if c.srv.cfg.Auth == AuthTrust {
		if !exists {
			c.fatal(pgerr.New(pgerr.InvalidAuthorizationSpec, "role %q does not exist", user))
			return false, nil
		}
		return true, nil
	}
	failed := func() (bool, error) {
		c.fatal(pgerr.New(pgerr.InvalidPassword, "password authentication failed for user %q", user))
		return false, nil
	}
	// An unknown user or one without a password still goes through the
	// exchange against a dummy verifier, so the reply does not reveal which.
	creds, err := parseSCRAMVerifier(u.SCRAM)
	known := exists && err == nil
	if !known {
		dummy, _ := MakeSCRAMVerifier(user, string(randomBytes(24)))
		creds, _ = parseSCRAMVerifier(dummy)
	}
	server, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		return false, fmt.Errorf("scram server: %w", err)
	}
	conv := server.NewConversation()
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := c.flush(); err != nil {
		return false, err
	}
	c.be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := c.be.Receive()
	if err != nil {
		return false, err
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != "SCRAM-SHA-256" {
		c.fatal(pgerr.New(pgerr.ProtocolViolation, "expected SASL response with mechanism SCRAM-SHA-256"))
		return false, nil
	}
	serverFirst, err := conv.Step(string(first.Data))
	if err != nil {
		return failed()
	}
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := c.flush(); err != nil {
		return false, err
	}
	c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	msg, err = c.be.Receive()
	if err != nil {
		return false, err
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		c.fatal(pgerr.New(pgerr.ProtocolViolation, "expected SASL response"))
		return false, nil
	}
	serverFinal, err := conv.Step(string(final.Data))
	if err != nil || !conv.Valid() || !known {
		return failed()
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
	c.be.SetAuthType(pgproto3.AuthTypeOk)
	return true, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return b
}
