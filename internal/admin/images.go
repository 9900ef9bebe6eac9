package admin

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// mediaPrefix is where image files are served, to signed-in staff only: the media
// directory's layout (catalog.ImagePath) below it.
const mediaPrefix = "/admin/media/"

// maxUploadBytes bounds an upload request: the catalog's image limit and room for
// the form around the file. A bigger request is refused before it is read.
const maxUploadBytes = catalog.MaxImageBytes + 64<<10

// tooLarge is the message for an upload over the limit, the catalog's own words.
const tooLarge = "must be at most 10 MiB"

// uploadImage is POST /admin/products/{id}/images: a multipart form with the alt
// text, then the file. The file is streamed to the catalog, which reads at most one
// byte past its limit and decides the type by decoding (the name and the browser's
// Content-Type decide nothing). Too large: refused from Content-Length before
// anything is read, or by MaxBytesReader when the client did not say.
func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request) error {
	p, err := byPathID(r, s.catalog.Product)
	if err != nil {
		return err
	}
	ctx := r.Context()
	back := safeLocal(r.URL.Query().Get("back"), productsPath, productsPath)
	fail := func(status int, alt string, err error) error {
		fe := fieldErrors(err)
		if fe == nil {
			return err
		}
		pg, lerr := s.productPage(r, p.Name, p)
		if lerr != nil {
			return lerr
		}
		pg.Back, pg.Form, pg.ImageAlt = back, s.formOfProduct(p), alt
		if msg := fe["alt"]; msg != "" {
			pg.ImageError = "The alt text " + msg + "."
		} else {
			pg.ImageError = "The image " + fe["image"] + "."
		}
		return s.render(w, r, status, "products/form", pg)
	}
	if r.ContentLength > maxUploadBytes {
		w.Header().Set("Connection", "close") // the body stays unread
		return fail(http.StatusRequestEntityTooLarge, "", validator.Errors{"image": tooLarge})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
	}
	var alt string
	for {
		part, err := mr.NextPart()
		if errors.As(err, new(*http.MaxBytesError)) {
			return fail(http.StatusRequestEntityTooLarge, alt, validator.Errors{"image": tooLarge})
		}
		if err == io.EOF {
			return fail(http.StatusUnprocessableEntity, alt, validator.Errors{"image": "was not chosen: choose a file to upload"})
		}
		if err != nil {
			return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
		}
		switch part.FormName() {
		case "alt":
			b, err := io.ReadAll(io.LimitReader(part, catalog.MaxAlt*4+1))
			if err != nil {
				return fail(http.StatusRequestEntityTooLarge, alt, validator.Errors{"image": tooLarge})
			}
			alt = strings.TrimSpace(string(b))
			if msg := validator.Storable(alt); msg != "" { // multipart is read here, not by readForm
				return fail(http.StatusUnprocessableEntity, "", validator.Errors{"alt": msg})
			}
		case "image":
			if part.FileName() == "" {
				continue // the browser sends an empty part when no file was chosen
			}
			file := &counter{r: part}
			_, err := s.catalog.AddImage(ctx, auth.FromContext(ctx).Actor(), p.ID, file, alt)
			switch {
			case errors.As(err, new(*http.MaxBytesError)):
				return fail(http.StatusRequestEntityTooLarge, alt, validator.Errors{"image": tooLarge})
			case fieldErrors(err) != nil && file.n > catalog.MaxImageBytes: // the catalog's own size check
				return fail(http.StatusRequestEntityTooLarge, alt, err)
			case fieldErrors(err) != nil:
				return fail(http.StatusUnprocessableEntity, alt, err)
			case err != nil:
				return err
			}
			return s.redirect(w, r, editURL(p.ID, back)+"#images", "The image was added.")
		}
	}
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// editURL is a product's form, keeping the way back to the list.
func editURL(id int64, back string) string {
	u := fmt.Sprintf("%s%d/", productsPath, id)
	if back != productsPath {
		u += "?back=" + url.QueryEscape(back)
	}
	return u
}

// updateImages is POST /admin/products/{id}/images/edit: every image's alt text,
// position and delete box in one form, saved as one change (catalog.EditImages:
// one transaction, one audit row). Only the product's own images are touched; a
// form drawn over other images, or an alt text changed meanwhile, saves nothing.
func (s *Server) updateImages(w http.ResponseWriter, r *http.Request) error {
	p, err := byPathID(r, s.catalog.Product)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	back := safeLocal(r.PostFormValue("back"), productsPath, productsPath)
	again := editURL(p.ID, back) + "#images"
	type placed struct {
		edit catalog.ImageEdit
		pos  int
	}
	var rows []placed
	for i := range p.Images {
		key := func(field string) string { return r.PostFormValue(fmt.Sprintf("images[%d].%s", i, field)) }
		id, _ := strconv.ParseInt(key("id"), 10, 64)
		if id != p.Images[i].ID { // drawn over other images, or another order: draw it again
			return s.redirect(w, r, again, "The images changed meanwhile; nothing was saved. Please try again.")
		}
		v, _ := strconv.ParseInt(key("version"), 10, 32)
		pos, err := strconv.Atoi(key("position"))
		if err != nil {
			pos = i + 1
		}
		rows = append(rows, placed{catalog.ImageEdit{ID: id, Version: int32(v), Alt: strings.TrimSpace(key("alt")),
			Delete: key("delete") == "on"}, pos})
	}
	slices.SortStableFunc(rows, func(a, b placed) int { return a.pos - b.pos })
	edits := make([]catalog.ImageEdit, len(rows))
	for i, row := range rows {
		edits[i] = row.edit
	}
	deleted, err := s.catalog.EditImages(ctx, auth.FromContext(ctx).Actor(), p.ID, edits)
	switch fe := fieldErrors(err); {
	case errors.Is(err, catalog.ErrImagesChanged):
		return s.redirect(w, r, again, "The images changed meanwhile; nothing was saved. Please try again.")
	case errors.Is(err, store.ErrStale):
		return s.redirect(w, r, again, "Someone changed an image's alt text meanwhile; nothing was saved. Please check and try again.")
	case fe != nil:
		var msg string
		for _, f := range fe.Fields() {
			msg = fe[f]
			break
		}
		return s.redirect(w, r, again, "Not saved: the alt text "+msg+".")
	case err != nil:
		return err
	}
	msg := "The images were saved."
	if deleted > 0 {
		msg = fmt.Sprintf("The images were saved; %s deleted.", plural(deleted, "image", "images"))
	}
	return s.redirect(w, r, again, msg)
}

// mediaName matches what catalog.ImagePath writes: two hex digits, then the whole
// SHA-256 and the extension of a type the catalog accepts.
var mediaName = regexp.MustCompile(`^([0-9a-f]{2})/([0-9a-f]{64})\.(png|jpg|gif)$`)

// mediaTypes are the Content-Types of the extensions catalog.ImagePath writes.
var mediaTypes = map[string]string{"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif"}

// serveMedia is GET /admin/media/{path...}: an image file, by content hash. The
// type comes from the name the catalog gave it (after decoding), never from
// sniffing; the URL names the content, so it can be cached for a year (privately:
// it is behind the sign-in).
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("path")
	m := mediaName.FindStringSubmatch(name)
	if m == nil || m[1] != m[2][:2] {
		return store.ErrNotFound
	}
	f, err := s.media.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return store.ErrNotFound
	} else if err != nil {
		return fmt.Errorf("open media %s: %w", name, err)
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return fmt.Errorf("media %s: not seekable", name)
	}
	h := w.Header()
	h.Set("Content-Type", mediaTypes[m[3]])
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, rs)
	return nil
}
