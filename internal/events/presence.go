package events

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"regexp"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// PresenceChannel is the channel migration 0031's trigger notifies, with the object,
// when a stream starts or stops showing it.
const PresenceChannel = "stockroom_presence"

// presenceEvery is how often a hub refreshes its streams' presence rows and tells its
// viewers again who is there (so someone whose instance died drops out within 30 s).
const presenceEvery = 10 * time.Second

// watchPattern is what Request.Watch looks like: a resource and an id.
var watchPattern = regexp.MustCompile(`^[a-z_]+-[0-9]+$`)

// ValidWatch reports whether w names an object a stream may watch ("products-12").
func ValidWatch(w string) bool { return watchPattern.MatchString(w) }

// Viewer is someone who has an object open.
type Viewer struct {
	UserID int64
	Label  string
}

var presenceHTML = template.Must(template.New("presence").Parse(
	`{{if .}}<p class="live-notice presence" role="status">Also here now: {{range $i, $v := .}}{{if $i}}, {{end}}<strong>{{$v.Label}}</strong>{{end}}.</p>{{else}}<!-- nobody else -->{{end}}`))

// presenceFrame is the frame telling viewer who else has object open.
func presenceFrame(object string, viewer int64, all []Viewer) []byte {
	others := make([]Viewer, 0, len(all))
	for _, v := range all {
		if v.UserID != viewer {
			others = append(others, v)
		}
	}
	var b bytes.Buffer
	b.WriteString("event: presence-" + object + "\ndata: ")
	presenceHTML.Execute(&b, others)
	b.WriteString("\n\n")
	return b.Bytes()
}

// PresenceHandler is the listen.Handler of PresenceChannel.
func (h *Hub) PresenceHandler() listen.Handler {
	return listen.Handler{
		Notify: func(_ context.Context, object string) { h.presenceDue(object) },
		Connected: func(context.Context) {
			h.mu.Lock()
			for o := range h.watchers {
				h.presencePending[o] = true
			}
			h.mu.Unlock()
			h.presencePoke()
		},
	}
}

func (h *Hub) presenceDue(object string) {
	h.mu.Lock()
	if _, ok := h.watchers[object]; ok {
		h.presencePending[object] = true
	}
	h.mu.Unlock()
	h.presencePoke()
}

func (h *Hub) presencePoke() {
	select {
	case h.presenceWake <- struct{}{}:
	default:
	}
}

// runPresence keeps this instance's presence rows fresh and tells its viewers who
// is there whenever that changes, until ctx ends.
func (h *Hub) runPresence(ctx context.Context) {
	t := time.NewTicker(presenceEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.touchPresence(ctx)
		case <-h.presenceWake:
		}
		h.mu.Lock()
		due := make([]string, 0, len(h.presencePending))
		for o := range h.presencePending {
			due = append(due, o)
		}
		clear(h.presencePending)
		h.mu.Unlock()
		for _, o := range due {
			var rows []db.ListPresenceRow
			err := h.st.Primary(ctx, func(q *db.Queries) error {
				var err error
				rows, err = q.ListPresence(ctx, o)
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					h.log.Warn("events: read presence", "object", o, "err", err)
				}
				continue
			}
			all := make([]Viewer, len(rows))
			for i, r := range rows {
				all[i] = Viewer{UserID: r.UserID, Label: r.Label}
			}
			h.mu.Lock()
			for s := range h.watchers[o] {
				select { // only the latest list matters
				case <-s.presence:
				default:
				}
				s.presence <- all
			}
			h.mu.Unlock()
		}
	}
}

// touchPresence refreshes the rows of this instance's watching streams, deletes
// those of instances that stopped, and has every watched object told again.
func (h *Hub) touchPresence(ctx context.Context) {
	h.mu.Lock()
	ids := make([]string, 0, len(h.watchers))
	for o, subs := range h.watchers {
		for s := range subs {
			ids = append(ids, s.streamID)
		}
		h.presencePending[o] = true
	}
	h.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	err := h.st.Primary(ctx, func(q *db.Queries) error {
		if err := q.TouchPresence(ctx, ids); err != nil {
			return err
		}
		return q.DeleteStalePresence(ctx)
	})
	if err != nil && ctx.Err() == nil {
		h.log.Warn("events: refresh presence", "err", err)
	}
}

// join records that s shows its watched object to its user.
func (h *Hub) join(ctx context.Context, s *subscriber, label string) error {
	if s.watch == "" {
		return nil
	}
	var b [12]byte
	rand.Read(b[:])
	s.streamID = hex.EncodeToString(b[:])
	h.mu.Lock()
	if h.watchers[s.watch] == nil {
		h.watchers[s.watch] = map[*subscriber]struct{}{}
	}
	h.watchers[s.watch][s] = struct{}{}
	h.presencePending[s.watch] = true // tell this one who was already there
	h.mu.Unlock()
	h.presencePoke()
	return h.st.Primary(ctx, func(q *db.Queries) error {
		return q.JoinPresence(ctx, db.JoinPresenceParams{StreamID: s.streamID, Object: s.watch, UserID: s.user, Label: label})
	})
}

// leave removes s's presence, on a context of its own: the request's has ended.
func (h *Hub) leave(s *subscriber) {
	if s.streamID == "" {
		return
	}
	h.mu.Lock()
	delete(h.watchers[s.watch], s)
	if len(h.watchers[s.watch]) == 0 {
		delete(h.watchers, s.watch)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := h.st.Primary(ctx, func(q *db.Queries) error { return q.LeavePresence(ctx, s.streamID) })
	if err != nil {
		h.log.Warn("events: leave presence", "err", err) // the row expires in 30 s
	}
}
