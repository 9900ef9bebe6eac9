package seed

import "context"

// pipeline generates chunks 0 to chunks-1 with gen in a goroutine of its own, one
// chunk ahead of put, which loads them in order: generating the next chunk overlaps
// the COPY of this one. It stops at put's first error, or when ctx ends.
func pipeline[B any](ctx context.Context, chunks int, gen func(c int) B, put func(B) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the generator when put fails
	batches := make(chan B, 1)
	go func() {
		defer close(batches)
		for c := range chunks {
			select {
			case batches <- gen(c):
			case <-ctx.Done():
				return
			}
		}
	}()
	for b := range batches {
		if err := put(b); err != nil {
			return err
		}
	}
	return ctx.Err()
}
