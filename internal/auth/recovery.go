package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// Recovery codes: recoveryCodes per set, each recoveryCodeLen characters of
// crypto/rand's base32 text (80 bits), shown in groups of four.
const (
	recoveryCodes   = 10
	recoveryCodeLen = 16
)

// newRecoveryCodes returns a fresh set of codes, as shown ("ABCD-EFGH-IJKL-MNOP"),
// and their hashes, as stored.
func newRecoveryCodes() (codes []string, hashes [][]byte) {
	for range recoveryCodes {
		c := rand.Text()[:recoveryCodeLen]
		codes = append(codes, strings.Join([]string{c[0:4], c[4:8], c[8:12], c[12:16]}, "-"))
		hashes = append(hashes, hashRecoveryCode(c))
	}
	return codes, hashes
}

// hashRecoveryCode is what the database keeps of a normalised code: SHA-256, as for
// API tokens: at 80 random bits a slow hash adds nothing.
func hashRecoveryCode(normalized string) []byte {
	h := sha256.Sum256([]byte(normalized))
	return h[:]
}
