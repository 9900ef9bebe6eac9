package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash means a stored password hash is not a PHC argon2id string this
// package can verify. The wrap says which part is wrong, never the hash itself.
var ErrMalformedHash = errors.New("malformed password hash")

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // parallelism (the PHC "p")
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's minimum for argon2id: 19 MiB, two passes, one thread,
// a 16-byte salt and a 32-byte key (about 25 ms a hash on our machines).
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds a Params must respect, whether it configures a Hasher or comes out of a stored
// hash. The upper ones reject corrupt rows before they make us allocate gigabytes or
// spin for minutes; the lower ones are argon2's own minimums (m ≥ 8·p, salt ≥ 8 bytes)
// and a key no shorter than 128 bits.
const (
	maxMemory = 4 << 20 // KiB, 4 GiB
	maxTime   = 1024
	minSalt   = 8
	maxSalt   = 1024
	minKey    = 16
	maxKey    = 1024
)

// check reports the first bound p breaks.
func (p Params) check() error {
	switch {
	case p.Threads == 0:
		return errors.New("p must be at least 1")
	case p.Time == 0 || p.Time > maxTime:
		return fmt.Errorf("t must be between 1 and %d", maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// argon2.IDKey silently raises m below 8·p, so such a string would lie about its cost.
		return fmt.Errorf("m must be between 8·p and %d KiB", maxMemory)
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("salt must be %d to %d bytes", minSalt, maxSalt)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("key must be %d to %d bytes", minKey, maxKey)
	}
	return nil
}

// weakerThan reports whether any cost in p is below the same cost in q.
func (p Params) weakerThan(q Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.Threads < q.Threads || p.KeyLen < q.KeyLen
}

// Hasher hashes and verifies passwords with argon2id, at most N at once: each hash
// holds Params.Memory KiB while it runs, so a burst of logins waits for a slot instead
// of exhausting memory. A Hasher is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{} // one token per running hash

	dummyOnce sync.Once
	dummy     string // what VerifyDummy verifies against; see there
}

// NewHasher returns a Hasher that hashes with p and runs at most concurrency hashes at
// once; concurrency <= 0 means runtime.GOMAXPROCS(0). It panics if p is out of bounds
// (zero threads or passes, m below 8·p, a short salt or key, absurd sizes), because
// such a Hasher would write hashes it cannot verify.
func NewHasher(p Params, concurrency int) *Hasher {
	if err := p.check(); err != nil {
		panic(fmt.Sprintf("auth.NewHasher: invalid params: %v", err))
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: p, sem: make(chan struct{}, concurrency)}
}

// Hash returns password's argon2id hash with a fresh random salt, as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, base64 without padding.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never returns an error: it crashes the program instead
	key, err := h.key(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, a string from Hash, and whether
// encoded should be replaced by a new Hash because any of its costs (m, t, p, key
// length) is below h's; rehash is only ever true when ok is, since replacing the hash
// needs the right password. A malformed encoded is an error wrapping ErrMalformedHash.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.key(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p.weakerThan(h.params), nil
}

// VerifyDummy spends as long as a Verify against a hash made by h, and learns nothing.
// Call it when a sign-in names an unknown email, so the response time does not tell
// which emails have accounts.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	// The dummy is a random salt and key encoded with h's params: verifying against it
	// runs the same parsing, argon2 work and comparison as a real hash, and building it
	// costs no argon2 run, so the first call is no slower than the rest.
	h.dummyOnce.Do(func() {
		salt := make([]byte, h.params.SaltLen)
		key := make([]byte, h.params.KeyLen)
		rand.Read(salt)
		rand.Read(key)
		h.dummy = encode(h.params, salt, key)
	})
	_, _, _ = h.Verify(ctx, password, h.dummy) // the answer means nothing by design
}

// key derives password's argon2id key under p, once a hashing slot is free.
func (h *Hasher) key(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	// Checked first because a select with a free slot and a done ctx picks at random,
	// and a request that has gone away should not spend a hash.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for hashing slot: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.sem }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// encode formats a PHC string; salt and key lengths come from the slices, not p.
func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC argon2id string strictly: exactly the shape encode writes, with
// m, t and p in that order, canonical decimals and canonical unpadded base64, so one
// hash has one spelling and anything else is ErrMalformedHash.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return Params{}, nil, nil, fmt.Errorf("%w: want 5 $-separated fields, got %d", ErrMalformedHash, len(parts)-1)
	}
	if parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: version is not v=%d", ErrMalformedHash, argon2.Version)
	}

	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return Params{}, nil, nil, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
	}
	var nums [3]uint32
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return Params{}, nil, nil, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
		}
		if nums[i], err = parseDecimal(v); err != nil {
			return Params{}, nil, nil, fmt.Errorf("%w: parameter %s: %w", ErrMalformedHash, name, err)
		}
	}
	if nums[2] > 255 {
		return Params{}, nil, nil, fmt.Errorf("%w: parameter p above 255", ErrMalformedHash)
	}

	// Strict rejects non-zero padding bits, which would give one salt several spellings.
	b64 := base64.RawStdEncoding.Strict()
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: salt: %w", ErrMalformedHash, err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: key: %w", ErrMalformedHash, err)
	}

	p = Params{
		Memory:  nums[0],
		Time:    nums[1],
		Threads: uint8(nums[2]),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err = p.check(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseDecimal parses a canonical unsigned decimal: digits only, no sign, no leading zero.
func parseDecimal(s string) (uint32, error) {
	if s == "" || (s[0] == '0' && len(s) > 1) || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a canonical decimal")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("out of range")
	}
	return uint32(n), nil
}
