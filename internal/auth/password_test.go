package auth

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
)

// testParams are cheap enough to hash many times under -race.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// knownHash is "correct horse battery staple" hashed with testParams and the salt
// "stockroom-salt16", so a change in encoding or key derivation fails loudly.
const (
	knownPassword = "correct horse battery staple"
	knownHash     = "$argon2id$v=19$m=64,t=1,p=1$c3RvY2tyb29tLXNhbHQxNg$Zvq9WNHvPSNV0MboP8teNSxw3q1+zpFChT5lqI8Mp94"
	knownSalt     = "c3RvY2tyb29tLXNhbHQxNg"
	knownKey      = "Zvq9WNHvPSNV0MboP8teNSxw3q1+zpFChT5lqI8Mp94"
)

func TestVerify(t *testing.T) {
	// phc builds a variant of knownHash with one field replaced.
	phc := func(alg, version, params, salt, key string) string {
		return "$" + alg + "$" + version + "$" + params + "$" + salt + "$" + key
	}
	tests := []struct {
		name      string
		password  string
		encoded   string
		wantOK    bool
		malformed bool
	}{
		{"right password", knownPassword, knownHash, true, false},
		{"wrong password", "correct horse battery stapler", knownHash, false, false},
		{"password in other case", strings.ToUpper(knownPassword), knownHash, false, false},
		{"empty password", "", knownHash, false, false},

		{"empty string", knownPassword, "", false, true},
		{"no leading dollar", knownPassword, strings.TrimPrefix(knownHash, "$"), false, true},
		{"missing key", knownPassword, strings.TrimSuffix(knownHash, "$"+knownKey), false, true},
		{"missing version", knownPassword, "$argon2id$m=64,t=1,p=1$" + knownSalt + "$" + knownKey, false, true},
		{"extra field", knownPassword, knownHash + "$AAAA", false, true},
		{"bcrypt", knownPassword, "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", false, true},
		{"argon2i", knownPassword, phc("argon2i", "v=19", "m=64,t=1,p=1", knownSalt, knownKey), false, true},
		{"argon2id in capitals", knownPassword, phc("ARGON2ID", "v=19", "m=64,t=1,p=1", knownSalt, knownKey), false, true},
		{"version 16", knownPassword, phc("argon2id", "v=16", "m=64,t=1,p=1", knownSalt, knownKey), false, true},
		{"version without key", knownPassword, phc("argon2id", "19", "m=64,t=1,p=1", knownSalt, knownKey), false, true},
		{"params missing t", knownPassword, phc("argon2id", "v=19", "m=64,p=1", knownSalt, knownKey), false, true},
		{"params out of order", knownPassword, phc("argon2id", "v=19", "t=1,m=64,p=1", knownSalt, knownKey), false, true},
		{"params with extra", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1,k=1", knownSalt, knownKey), false, true},
		{"params empty", knownPassword, phc("argon2id", "v=19", "", knownSalt, knownKey), false, true},
		{"m empty", knownPassword, phc("argon2id", "v=19", "m=,t=1,p=1", knownSalt, knownKey), false, true},
		{"m not a number", knownPassword, phc("argon2id", "v=19", "m=abc,t=1,p=1", knownSalt, knownKey), false, true},
		{"m with sign", knownPassword, phc("argon2id", "v=19", "m=+64,t=1,p=1", knownSalt, knownKey), false, true},
		{"m with leading zero", knownPassword, phc("argon2id", "v=19", "m=064,t=1,p=1", knownSalt, knownKey), false, true},
		{"m overflows uint32", knownPassword, phc("argon2id", "v=19", "m=4294967296,t=1,p=1", knownSalt, knownKey), false, true},
		{"m above 4 GiB", knownPassword, phc("argon2id", "v=19", "m=4194305,t=1,p=1", knownSalt, knownKey), false, true},
		{"m below 8p", knownPassword, phc("argon2id", "v=19", "m=15,t=1,p=2", knownSalt, knownKey), false, true},
		{"t zero", knownPassword, phc("argon2id", "v=19", "m=64,t=0,p=1", knownSalt, knownKey), false, true},
		{"t absurd", knownPassword, phc("argon2id", "v=19", "m=64,t=1025,p=1", knownSalt, knownKey), false, true},
		{"p zero", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=0", knownSalt, knownKey), false, true},
		{"p above 255", knownPassword, phc("argon2id", "v=19", "m=4096,t=1,p=256", knownSalt, knownKey), false, true},
		{"salt not base64", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", knownSalt+"!", knownKey), false, true},
		{"salt padded", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", knownSalt+"==", knownKey), false, true},
		{"salt empty", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", "", knownKey), false, true},
		{"salt too short", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", "AAAAAA", knownKey), false, true},
		{"key in URL alphabet", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", knownSalt, strings.ReplaceAll(knownKey, "+", "-")), false, true},
		{"key with stray bits", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", knownSalt, strings.TrimSuffix(knownKey, "4")+"5"), false, true},
		{"key too short", knownPassword, phc("argon2id", "v=19", "m=64,t=1,p=1", knownSalt, "AAAAAAAAAAA"), false, true},
	}
	h := NewHasher(testParams, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(t.Context(), tt.password, tt.encoded)
			if tt.malformed {
				if !errors.Is(err, ErrMalformedHash) {
					t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", tt.encoded, err)
				}
			} else if err != nil {
				t.Errorf("Verify(%q) error = %v, want nil", tt.encoded, err)
			}
			if ok != tt.wantOK || rehash {
				t.Errorf("Verify(%q) = ok %t, rehash %t; want ok %t, rehash false", tt.encoded, ok, rehash, tt.wantOK)
			}
		})
	}
}

func TestHashRoundTrip(t *testing.T) {
	h := NewHasher(testParams, 0)
	encoded, err := h.Hash(t.Context(), knownPassword)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if want := "$argon2id$v=19$m=64,t=1,p=1$"; !strings.HasPrefix(encoded, want) {
		t.Errorf("Hash = %q, want prefix %q", encoded, want)
	}
	if p, _, _, err := decode(encoded); err != nil || p != testParams {
		t.Errorf("decode(Hash) = %+v, %v; want %+v, nil", p, err, testParams)
	}
	if ok, rehash, err := h.Verify(t.Context(), knownPassword, encoded); !ok || rehash || err != nil {
		t.Errorf("Verify(right password) = %t, %t, %v; want true, false, nil", ok, rehash, err)
	}
	again, err := h.Hash(t.Context(), knownPassword)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if again == encoded {
		t.Errorf("two hashes of one password are both %q, want different salts", encoded)
	}
}

func TestHashDefaultParams(t *testing.T) {
	h := NewHasher(DefaultParams, 0)
	encoded, err := h.Hash(t.Context(), knownPassword)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(encoded, want) {
		t.Errorf("Hash = %q, want prefix %q", encoded, want)
	}
	if ok, rehash, err := h.Verify(t.Context(), knownPassword, encoded); !ok || rehash || err != nil {
		t.Errorf("Verify(right password) = %t, %t, %v; want true, false, nil", ok, rehash, err)
	}
	if ok, rehash, err := h.Verify(t.Context(), "wrong horse battery staple", encoded); ok || rehash || err != nil {
		t.Errorf("Verify(wrong password) = %t, %t, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestVerifyRehash(t *testing.T) {
	strong := Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name   string
		stored Params // what the hash was made with
		now    Params // what the verifying Hasher uses
		want   bool
	}{
		{"cheap hash, OWASP hasher", Params{Memory: 8192, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, DefaultParams, true},
		{"same params", strong, strong, false},
		{"less memory", Params{Memory: 64, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, strong, true},
		{"fewer passes", Params{Memory: 128, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, strong, true},
		{"fewer threads", Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, strong, true},
		{"shorter key", Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 16}, strong, true},
		{"shorter salt is no cost", Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 32}, strong, false},
		{"stronger in every way", Params{Memory: 256, Time: 3, Threads: 4, SaltLen: 32, KeyLen: 64}, strong, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := NewHasher(tt.stored, 1).Hash(t.Context(), knownPassword)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			h := NewHasher(tt.now, 1)
			ok, rehash, err := h.Verify(t.Context(), knownPassword, encoded)
			if !ok || rehash != tt.want || err != nil {
				t.Errorf("Verify(right password) = %t, %t, %v; want true, %t, nil", ok, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash: that would store the wrong one.
			if ok, rehash, err := h.Verify(t.Context(), "not the password", encoded); ok || rehash || err != nil {
				t.Errorf("Verify(wrong password) = %t, %t, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestNewHasher(t *testing.T) {
	for _, n := range []int{-1, 0} {
		if got, want := cap(NewHasher(testParams, n).sem), runtime.GOMAXPROCS(0); got != want {
			t.Errorf("NewHasher(p, %d) allows %d hashes at once, want GOMAXPROCS = %d", n, got, want)
		}
	}
	if got := cap(NewHasher(testParams, 3).sem); got != 3 {
		t.Errorf("NewHasher(p, 3) allows %d hashes at once, want 3", got)
	}
}

func TestNewHasherInvalidParams(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"zero value", Params{}},
		{"no threads", Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}},
		{"no passes", Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"memory below 8p", Params{Memory: 31, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}},
		{"memory above 4 GiB", Params{Memory: 4<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"short salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		{"short key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", tt.p)
				}
			}()
			NewHasher(tt.p, 1)
		})
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHasher(testParams, 2)
		h.sem <- struct{}{} // two hashes running
		h.sem <- struct{}{}

		done := make(chan error)
		go func() {
			_, err := h.Hash(context.Background(), knownPassword)
			done <- err
		}()
		synctest.Wait() // the third Hash is now blocked or finished
		select {
		case err := <-done:
			t.Fatalf("Hash ran while both slots were taken (err %v)", err)
		default:
		}

		<-h.sem // one running hash finishes
		if err := <-done; err != nil {
			t.Fatalf("Hash once a slot was free: %v", err)
		}
		if got := len(h.sem); got != 1 {
			t.Errorf("%d slots taken after Hash returned, want 1 (Hash must release its own)", got)
		}
	})
}

func TestHasherContextCancelled(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, *Hasher) error
	}{
		{"Hash", func(ctx context.Context, h *Hasher) error {
			_, err := h.Hash(ctx, knownPassword)
			return err
		}},
		{"Verify", func(ctx context.Context, h *Hasher) error {
			_, _, err := h.Verify(ctx, knownPassword, knownHash)
			return err
		}},
		{"VerifyDummy", func(ctx context.Context, h *Hasher) error {
			h.VerifyDummy(ctx, knownPassword)
			return context.Canceled // it reports nothing; returning at all is the test
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" waiting for the slot", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := NewHasher(testParams, 1)
				h.sem <- struct{}{} // the only slot is held
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error)
				go func() { done <- tt.call(ctx, h) }()
				synctest.Wait()
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want context.Canceled", err)
				}
				if got := len(h.sem); got != 1 {
					t.Errorf("%d slots taken, want 1 (only the one the test holds)", got)
				}
			})
		})
		t.Run(tt.name+" already cancelled", func(t *testing.T) {
			h := NewHasher(testParams, 1)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := tt.call(ctx, h); !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
			if got := len(h.sem); got != 0 {
				t.Errorf("%d slots taken, want 0: a cancelled call must not hash", got)
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(testParams, 1)
	h.VerifyDummy(t.Context(), knownPassword)
	first := h.dummy
	// The dummy must cost what a real hash from h costs, or timing tells them apart.
	if p, _, _, err := decode(first); err != nil || p != testParams {
		t.Errorf("dummy hash decodes to %+v, %v; want %+v, nil", p, err, testParams)
	}
	h.VerifyDummy(t.Context(), "another password")
	if h.dummy != first {
		t.Errorf("dummy hash changed between calls: %q, then %q", first, h.dummy)
	}
	if got := len(h.sem); got != 0 {
		t.Errorf("%d slots taken after VerifyDummy, want 0", got)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := b.Context()
	for b.Loop() {
		if _, err := h.Hash(ctx, knownPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := b.Context()
	encoded, err := h.Hash(ctx, knownPassword)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := h.Verify(ctx, knownPassword, encoded); err != nil {
			b.Fatal(err)
		}
	}
}
