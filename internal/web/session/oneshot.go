package session

import (
	"context"
	"slices"
)

// keyUsedForms is the session key of the one-shot forms the session has sent, by
// their form keys, newest last; maxUsedForms bounds the list.
const (
	keyUsedForms = "used_forms"
	maxUsedForms = 20
)

// MarkFormUsed records that the session sent the one-shot form with key: a form
// whose result cannot be redirected to (the API token form, whose response is the
// only place its secret ever appears), so that the browser re-posting it (Reload or
// Back on the result, confirmed) is recognised instead of creating a second token.
func (s *Manager) MarkFormUsed(ctx context.Context, key string) {
	used, _ := s.sm.Get(ctx, keyUsedForms).([]string)
	used = append(used, key)
	if len(used) > maxUsedForms {
		used = slices.Clone(used[len(used)-maxUsedForms:])
	}
	s.sm.Put(ctx, keyUsedForms, used)
}

// FormUsed reports whether MarkFormUsed recorded key in this session.
func (s *Manager) FormUsed(ctx context.Context, key string) bool {
	used, _ := s.sm.Get(ctx, keyUsedForms).([]string)
	return slices.Contains(used, key)
}
