package admin

import (
	"encoding/csv"
	"errors"
	"net/http"
	"time"

	"github.com/stockroom-dev/stockroom/internal/web"
)

// streamCSV answers with a CSV download named filename: header, then the rows each
// writes, flushed to the client after every batch, so memory stays flat whatever
// the count. each calls write once per batch (an export's keyset batch). The write
// deadline is lifted: a million rows take longer than a page.
//
// Until the first batch nothing is sent, so an early failure is still a clean error
// page. After it, half a file has gone out with status 200: the only honest end is
// to cut the connection, so the download fails instead of looking complete.
func (s *Server) streamCSV(w http.ResponseWriter, r *http.Request, filename string, header []string,
	each func(write func(rows ...[]string) error) error) error {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	cw := csv.NewWriter(w)
	started := false
	start := func() error {
		if started {
			return nil
		}
		started = true
		// Not every writer has deadlines (a test recorder); the server's does.
		if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
		h.Set("Cache-Control", "no-store")
		return cw.Write(header)
	}
	err := each(func(rows ...[]string) error {
		if err := start(); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil { // WriteAll flushes
			return err
		}
		return rc.Flush()
	})
	if err == nil && !started {
		err = start() // no rows: the header alone
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil && started {
		if !web.ClientGone(err) {
			s.log.ErrorContext(ctx, "export failed", "err", err, "request_id", web.RequestID(ctx))
		}
		panic(http.ErrAbortHandler)
	}
	return err
}
