package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
)

// ErrNoSecretKey means the server has no STOCKROOM_SECRET_KEY, so it cannot seal an
// authenticator app's secret: enrolment is refused with this, and sign-in with an
// app enrolled under a key since removed fails the same way.
var ErrNoSecretKey = errors.New("STOCKROOM_SECRET_KEY is not set: authenticator apps are unavailable")

// sealer seals second-factor secrets at rest with AES-256-GCM. Its key is derived
// from STOCKROOM_SECRET_KEY with HKDF-SHA256 under a label of its own, so the same
// server secret can key other things later without their keys being related. The
// user's id is the additional data: a sealed secret copied into another user's row
// does not open.
type sealer struct {
	aead cipher.AEAD
}

// newSealer returns the sealer for secret, or nil for an empty secret.
func newSealer(secret string) (*sealer, error) {
	if secret == "" {
		return nil, nil
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "stockroom totp secret v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns nonce || ciphertext of plain for user id.
func (s *sealer) seal(plain []byte, userID int64) ([]byte, error) {
	if s == nil {
		return nil, ErrNoSecretKey
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand panics rather)
	return s.aead.Seal(nonce, nonce, plain, additional(userID)), nil
}

// open reverses seal; a wrong key, user or tampered value is an error.
func (s *sealer) open(sealed []byte, userID int64) ([]byte, error) {
	if s == nil {
		return nil, ErrNoSecretKey
	}
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], additional(userID))
	if err != nil {
		return nil, errors.New("sealed secret does not open: wrong STOCKROOM_SECRET_KEY or altered row")
	}
	return plain, nil
}

func additional(userID int64) []byte { return []byte("user_totp:" + strconv.FormatInt(userID, 10)) }
