package auth

import (
	"bytes"
	"errors"
	"testing"
)

// A sealed secret opens with the same key for the same user only, and never shows
// the secret in the sealed bytes.
func TestSealer(t *testing.T) {
	key := "a-test-secret-key-of-32-characters-or-more"
	s, err := newSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	sealed, err := s.seal(secret, 7)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed bytes contain the secret")
	}
	if again, _ := s.seal(secret, 7); bytes.Equal(again, sealed) {
		t.Error("two seals are equal: the nonce is not fresh")
	}
	other, _ := newSealer(key + "x")
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	tests := []struct {
		name   string
		s      *sealer
		sealed []byte
		user   int64
		ok     bool
	}{
		{"same key and user", s, sealed, 7, true},
		{"another user's row", s, sealed, 8, false},
		{"another key", other, sealed, 7, false},
		{"altered", s, altered, 7, false},
		{"too short", s, sealed[:10], 7, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.open(tt.sealed, tt.user)
			if tt.ok != (err == nil) || tt.ok && !bytes.Equal(got, secret) {
				t.Errorf("open = %q, %v; want ok %v", got, err, tt.ok)
			}
		})
	}
	var none *sealer
	if _, err := none.seal(secret, 7); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("no key: seal error %v, want ErrNoSecretKey", err)
	}
	if s, err := newSealer(""); s != nil || err != nil {
		t.Errorf("empty key: %v, %v; want no sealer", s, err)
	}
}
