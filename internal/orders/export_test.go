package orders

// SetSelectiveSearch lets tests make every search broad (0) so that both ways of
// matching a search are exercised on a small fixture.
func SetSelectiveSearch(o *Orders, n int) { o.selective = n }
