package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// secretPrefix starts every signing secret, as the Standard Webhooks specification
// (https://www.standardwebhooks.com) writes them: whsec_ and the key in base64.
const secretPrefix = "whsec_"

// secretBytes is the key length: the specification asks for 24 to 64 bytes.
const secretBytes = 24

// NewSecret returns a new signing secret, whsec_ and 24 random bytes in base64.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey is the HMAC key a secret stands for.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || !strings.HasPrefix(secret, secretPrefix) || len(key) == 0 {
		return nil, errors.New("webhooks: malformed signing secret")
	}
	return key, nil
}

// Signature is the webhook-signature header for a message: "v1,<base64 HMAC-SHA256>"
// of "<msgID>.<timestamp>.<body>" under each secret, separated by spaces (during a
// rotation both the new and the previous secret sign, and a receiver accepts either).
func Signature(msgID string, timestamp int64, body []byte, secrets ...string) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s == "" {
			continue
		}
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	if len(sigs) == 0 {
		return "", errors.New("webhooks: no signing secret")
	}
	return strings.Join(sigs, " "), nil
}
