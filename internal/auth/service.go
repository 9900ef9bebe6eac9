package auth

import (
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// Service is staff authentication and administration: sign-in with throttling, and
// the rules for changing users and groups. Both transports and the CLI call it.
type Service struct {
	st     *store.Store
	hasher *Hasher
	log    *slog.Logger
	opts   Options
	sealer *sealer // nil without STOCKROOM_SECRET_KEY
	// webauthn checks passkeys; nil without an origin for them.
	webauthn *webauthn.WebAuthn
}

// Options tune the sign-in throttle.
type Options struct {
	FailureLimit int           // failed sign-ins for one email within Window before refusal (default 5)
	AddressLimit int           // failed sign-ins from one client address within Window (default 50)
	Window       time.Duration // how far back failures count (default 15 minutes)
	// Cache keeps session users' principals for a few seconds (nil: none); give the
	// API's Tokens the same one (Tokens.WithCache).
	Cache *PrincipalCache
	// SecretKey is STOCKROOM_SECRET_KEY, which seals authenticator apps' secrets
	// ("": enrolling one is refused with ErrNoSecretKey).
	SecretKey string
	// Issuer names the site in authenticator apps (default "stockroom").
	Issuer string
	// Now is the clock of TOTP codes (default time.Now); tests step it.
	Now func() time.Time
	// PasskeyOrigin is the site's origin as browsers see it ("https://shop.example"):
	// passkeys are bound to its host name ("": passkeys are unavailable).
	PasskeyOrigin string
}

// New returns the service. Zero options take their defaults.
func New(st *store.Store, hasher *Hasher, log *slog.Logger, opts Options) *Service {
	if opts.FailureLimit <= 0 {
		opts.FailureLimit = 5
	}
	if opts.AddressLimit <= 0 {
		opts.AddressLimit = 50
	}
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	if opts.Issuer == "" {
		opts.Issuer = "stockroom"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// A 32-byte HKDF output and an AES-256 key cannot fail: an error here is a bug.
	sl, err := newSealer(opts.SecretKey)
	if err != nil {
		panic("auth: " + err.Error())
	}
	wa, err := newWebAuthn(opts.PasskeyOrigin)
	if err != nil {
		log.Warn("passkeys unavailable", "err", err)
	}
	return &Service{st: st, hasher: hasher, log: log, opts: opts, sealer: sl, webauthn: wa}
}
