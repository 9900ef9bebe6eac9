package auth

import (
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// What put keeps, for tokens and users alike: nothing before the listener has
// connected, nothing a flush overtook, and a full map is emptied to make room.
func TestPrincipalCachePut(t *testing.T) {
	c := NewPrincipalCache(time.Hour, 2)
	alice := db.GetSessionUserRow{ID: 1, Email: "alice@example.com"}

	gen, _ := c.generation()
	c.putUser(gen, alice)
	c.putToken(gen, [32]byte{1}, &Principal{UserID: 1}, nil)
	if _, ok := c.user(1); ok {
		t.Error("a user was kept before the listener connected")
	}
	if _, _, ok := c.token([32]byte{1}); ok {
		t.Error("a token was kept before the listener connected")
	}

	c.flush(true) // the listener connects
	gen, _ = c.generation()
	c.flush(false) // a change is heard while the load that began in gen runs
	c.putUser(gen, alice)
	c.putToken(gen, [32]byte{1}, &Principal{UserID: 1}, nil)
	if _, ok := c.user(1); ok {
		t.Error("a user loaded before a flush was kept")
	}
	if _, _, ok := c.token([32]byte{1}); ok {
		t.Error("a token loaded before a flush was kept")
	}

	gen, _ = c.generation()
	for id := range int64(3) { // one more than the cache holds
		c.putUser(gen, db.GetSessionUserRow{ID: id + 1})
		c.putToken(gen, [32]byte{byte(id + 1)}, &Principal{UserID: id + 1}, nil)
	}
	if got, ok := c.user(3); !ok || got.ID != 3 {
		t.Errorf("user(3) = %v, %v; want the last user put", got.ID, ok)
	}
	if _, ok := c.user(1); ok {
		t.Error("user 1 outlived the emptying of the full map")
	}
	if p, _, ok := c.token([32]byte{3}); !ok || p.UserID != 3 {
		t.Errorf("token 3 = %v, %v; want the last token put", p, ok)
	}
	if _, _, ok := c.token([32]byte{1}); ok {
		t.Error("token 1 outlived the emptying of the full map")
	}
}
