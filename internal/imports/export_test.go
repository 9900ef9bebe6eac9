package imports

import "context"

// ApplyOneBatch starts applying import id and writes its first batch only, then
// stops as a killed process would: what a resumed or cancelled apply starts from.
func (s *Service) ApplyOneBatch(ctx context.Context, id int64) (int, error) {
	a, _, err := s.startApply(ctx, id)
	if a == nil || err != nil {
		return 0, err
	}
	return a.batch(ctx, ApplyBatch)
}
