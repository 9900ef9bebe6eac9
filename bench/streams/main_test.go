package main

import (
	"testing"
	"time"
)

// createdAt reads the event's own created_at, the last member of its data line,
// not one a payload carries, and refuses a line without one.
func TestCreatedAt(t *testing.T) {
	want := time.Date(2026, 12, 5, 7, 35, 15, 123456000, time.UTC)
	line := []byte(`data: {"id":7,"type":"order.placed","payload":{"created_at":"2020-01-01T00:00:00Z"},"created_at":"2026-12-05T07:35:15.123456Z"}`)
	if got, ok := createdAt(line); !ok || !got.Equal(want) {
		t.Errorf("createdAt = %v, %v; want %v", got, ok, want)
	}
	for _, bad := range []string{
		`data: {"reason":"the server is shutting down"}`,
		`data: {"created_at":"not a time"}`,
		`data: {"created_at":"2026-12-05T07:35:15Z`,
	} {
		if got, ok := createdAt([]byte(bad)); ok {
			t.Errorf("createdAt(%s) = %v, want none", bad, got)
		}
	}
}
