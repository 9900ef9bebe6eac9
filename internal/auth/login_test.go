package auth

import (
	"testing"
	"time"
)

func TestThrottleMessage(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want string
	}{
		{15 * time.Minute, "Too many failed sign-ins. Try again in 15 minutes."},
		{14*time.Minute + time.Second, "Too many failed sign-ins. Try again in 15 minutes."},
		{61 * time.Second, "Too many failed sign-ins. Try again in 2 minutes."},
		{60 * time.Second, "Too many failed sign-ins. Try again in 1 minute."},
		{time.Second, "Too many failed sign-ins. Try again in 1 minute."},
		{0, "Too many failed sign-ins. Try again in 1 minute."},
	}
	for _, tt := range tests {
		if got := (&ThrottleError{Wait: tt.wait}).Message(); got != tt.want {
			t.Errorf("Message() for %s = %q, want %q", tt.wait, got, tt.want)
		}
	}
}

func TestLikePattern(t *testing.T) {
	tests := []struct {
		in   string
		want any // nil or the pattern
	}{
		{"", nil},
		{"   ", nil},
		{"ada", "%ada%"},
		{" ada ", "%ada%"},
		{"100%", `%100\%%`},
		{"a_b", `%a\_b%`},
		{`a\b`, `%a\\b%`},
	}
	for _, tt := range tests {
		got := likePattern(tt.in)
		switch {
		case tt.want == nil && got != nil:
			t.Errorf("likePattern(%q) = %q, want nil", tt.in, *got)
		case tt.want != nil && (got == nil || *got != tt.want):
			t.Errorf("likePattern(%q) = %v, want %q", tt.in, got, tt.want)
		}
	}
}
