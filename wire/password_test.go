package wire

import "testing"

func TestVerifyPassword(t *testing.T) {
	v, err := MakeSCRAMVerifier("alice", "s3cret pässword")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, verifier, password string
		want                     bool
	}{
		{"right password", v, "s3cret pässword", true},
		{"wrong password", v, "s3cret password", false},
		{"empty password", v, "", false},
		{"empty verifier", "", "s3cret pässword", false},
		{"malformed verifier", "SCRAM-SHA-256$x:y$z", "s3cret pässword", false},
		{"md5 verifier", "md5abcdef", "s3cret pässword", false},
	} {
		if got := VerifyPassword(tc.verifier, "alice", tc.password); got != tc.want {
			t.Errorf("%s: VerifyPassword = %v, want %v", tc.name, got, tc.want)
		}
	}
}
