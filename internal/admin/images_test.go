package admin

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
)

// upload posts a file to a product's image form as a browser would: the alt text,
// then the file under the name the user's file had. Chunked, the request does not
// say its length up front.
func (c *client) upload(productID int64, filename string, data io.Reader, chunked ...bool) response {
	c.a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("alt", "A photo"); err != nil {
		c.a.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("image", filename)
	if err != nil {
		c.a.t.Fatal(err)
	}
	if _, err := io.Copy(fw, data); err != nil {
		c.a.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		c.a.t.Fatal(err)
	}
	var rd io.Reader = &body
	if len(chunked) > 0 && chunked[0] {
		rd = io.MultiReader(&body) // a reader of unknown length
	}
	req, err := http.NewRequest("POST", fmt.Sprintf("%s/admin/products/%d/images", c.a.srv.URL, productID), rd)
	if err != nil {
		c.a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// mediaFiles lists the files in the media directory.
func (a *testApp) mediaFiles() []string {
	a.t.Helper()
	var files []string
	err := filepath.WalkDir(a.media, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(a.media, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return files
}

// Acceptance 2's uploads: the type is what the content decodes as, whatever the
// file is called; too large is refused before it is read; a refusal writes
// nothing, in the database or the media directory.
func TestImageUploads(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Lamp", 0, "LAMP-1")
	c := a.signedIn(superEmail)
	before := a.counts()
	refused := []struct {
		name     string
		filename string
		data     io.Reader
		status   int
		want     string
		kept     string // the alt text typed, when the form was read that far
		chunked  bool
	}{
		{"20 MiB", "big.png", io.MultiReader(bytes.NewReader(pngBytes(t, 2, 2, colorRed)), bytes.NewReader(make([]byte, 20<<20))),
			http.StatusRequestEntityTooLarge, "The image must be at most 10 MiB.", "", false},
		{"20 MiB without a length", "big.png", io.MultiReader(bytes.NewReader(pngBytes(t, 2, 2, colorRed)), bytes.NewReader(make([]byte, 20<<20))),
			http.StatusRequestEntityTooLarge, "The image must be at most 10 MiB.", `value="A photo"`, true},
		{"a text file called .jpg", "photo.jpg", strings.NewReader("just some text, not a JPEG\n"),
			http.StatusUnprocessableEntity, "The image is not a PNG, JPEG or GIF image.", `value="A photo"`, false},
		{"no file", "", strings.NewReader(""), http.StatusUnprocessableEntity, "The image was not chosen", `value="A photo"`, false},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := c.upload(p.ID, tt.filename, tt.data, tt.chunked)
			must(t, r, tt.status, tt.want, `id="image-error"`, tt.kept)
			if got := a.counts(); got != before {
				t.Errorf("rows after a refused upload: %s, want %s", got, before)
			}
			if files := a.mediaFiles(); len(files) != 0 {
				t.Errorf("files after a refused upload: %v", files)
			}
		})
	}

	// A PNG called .exe is a PNG: stored and served as one.
	png := pngBytes(t, 4, 3, colorBlue)
	r := c.upload(p.ID, "setup.exe", bytes.NewReader(png))
	must(t, r, http.StatusSeeOther)
	stored := a.loadProduct(p.ID).Images
	if len(stored) != 1 || stored[0].ContentType != "image/png" || stored[0].Alt != "A photo" {
		t.Fatalf("images after the upload: %+v", stored)
	}
	edit := c.get(fmt.Sprintf("/admin/products/%d/", p.ID))
	src := "/admin/media/" + catalog.ImagePath(stored[0])
	must(t, edit, http.StatusOK, "The image was added.", `src="`+src+`"`, `alt="A photo"`)
	img := c.get(src)
	must(t, img, http.StatusOK)
	if img.body != string(png) || img.header.Get("Content-Type") != "image/png" || img.header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(img.header.Get("Cache-Control"), "max-age=31536000") {
		t.Errorf("served image: %d bytes, headers %v", len(img.body), img.header)
	}
	// Media is for staff who may see products, and only under its own names.
	must(t, a.client().get(src), http.StatusSeeOther)
	for _, bad := range []string{"/admin/media/../../etc/passwd", "/admin/media/" + strings.Replace(catalog.ImagePath(stored[0]), ".png", ".jpg", 1),
		"/admin/media/zz/" + stored[0].Sha256 + ".png"} {
		if r := c.get(bad); r.status == http.StatusOK {
			t.Errorf("GET %s = %d, want a refusal", bad, r.status)
		}
	}
}

// The images form: alt text, order and delete in one save, only on the product's
// own images.
func TestImagesForm(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Lamp", 0, "LAMP-1")
	red, blue := a.image(p.ID, colorRed), a.image(p.ID, colorBlue)
	other := a.product("Other", 0, "OTHER-1")
	green := a.image(other.ID, colorBlue) // same bytes as blue: one file, two rows
	c := a.signedIn(superEmail)
	form := func(alt0, pos0, alt1, pos1, del1 string) map[string][]string {
		return map[string][]string{
			"images[0].id": {fmt.Sprint(red.ID)}, "images[0].version": {"1"}, "images[0].alt": {alt0}, "images[0].position": {pos0},
			"images[1].id": {fmt.Sprint(blue.ID)}, "images[1].version": {"1"}, "images[1].alt": {alt1}, "images[1].position": {pos1},
			"images[1].delete": {del1},
		}
	}
	path := fmt.Sprintf("/admin/products/%d/images/edit", p.ID)
	must(t, c.post(path, form("Red swatch", "2", "a swatch", "1", "")), http.StatusSeeOther)
	got := a.loadProduct(p.ID).Images
	if len(got) != 2 || got[0].ID != blue.ID || got[1].ID != red.ID || got[1].Alt != "Red swatch" {
		t.Fatalf("after reorder and alt: %+v", got)
	}
	// Stale: the form names the images in their old order.
	r := c.post(path, form("Red", "1", "Blue", "2", ""))
	must(t, r, http.StatusSeeOther)
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "The images changed meanwhile; nothing was saved.")
	// Delete blue: its file stays, the other product still shows it.
	v := map[string][]string{
		"images[0].id": {fmt.Sprint(blue.ID)}, "images[0].alt": {"a swatch"}, "images[0].position": {"1"}, "images[0].delete": {"on"},
		"images[1].id": {fmt.Sprint(red.ID)}, "images[1].alt": {"Red swatch"}, "images[1].position": {"2"},
	}
	r = c.post(path, v)
	must(t, r, http.StatusSeeOther)
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "The images were saved; 1 image deleted.")
	if got := a.loadProduct(p.ID).Images; len(got) != 1 || got[0].ID != red.ID {
		t.Errorf("after delete: %+v", got)
	}
	must(t, c.get("/admin/media/"+catalog.ImagePath(green)), http.StatusOK)
}

// One save of the images form is one change: one transaction and one audit row for
// a delete, an alt text and a new order together; when any part is refused (an alt
// text another editor changed meanwhile), nothing of it is saved, the delete
// included.
func TestImagesFormIsOneChange(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Lamp", 0, "LAMP-1")
	blue := a.image(p.ID, colorBlue) // first: a save deletes it before it reaches red
	red, white := a.image(p.ID, colorRed), a.image(p.ID, color.White)
	c := a.signedIn(superEmail)
	path := fmt.Sprintf("/admin/products/%d/images/edit", p.ID)
	form := func(redVersion int32) map[string][]string {
		return map[string][]string{
			"images[0].id": {fmt.Sprint(blue.ID)}, "images[0].version": {"1"}, "images[0].alt": {"a swatch"}, "images[0].position": {"1"}, "images[0].delete": {"on"},
			"images[1].id": {fmt.Sprint(red.ID)}, "images[1].version": {fmt.Sprint(redVersion)}, "images[1].alt": {"Red"}, "images[1].position": {"2"},
			"images[2].id": {fmt.Sprint(white.ID)}, "images[2].version": {"1"}, "images[2].alt": {"a swatch"}, "images[2].position": {"1"},
		}
	}
	if _, err := a.cat.EditImages(context.Background(), fixture, p.ID, []catalog.ImageEdit{
		{ID: blue.ID, Alt: blue.Alt}, {ID: red.ID, Version: 1, Alt: "Red, as another editor put it"}, {ID: white.ID, Alt: white.Alt}}); err != nil {
		t.Fatal(err)
	}
	before, audits := a.counts(), len(a.auditRows())
	r := c.post(path, form(1)) // red's version 1 is stale now
	must(t, r, http.StatusSeeOther)
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "nothing was saved")
	if got := a.counts(); got != before {
		t.Errorf("rows after a refused save: %s, want %s (the delete must not stand alone)", got, before)
	}
	if n := len(a.auditRows()); n != audits {
		t.Errorf("%d audit rows after a refused save, want %d", n, audits)
	}

	r = c.post(path, form(2))
	must(t, r, http.StatusSeeOther)
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "The images were saved; 1 image deleted.")
	got := a.loadProduct(p.ID).Images
	if len(got) != 2 || got[0].ID != white.ID || got[1].ID != red.ID || got[1].Alt != "Red" {
		t.Fatalf("after the save: %+v", got)
	}
	rows := a.auditRows()
	if len(rows) != audits+1 {
		t.Fatalf("%d audit rows for one save, want 1:\n%s", len(rows)-audits, strings.Join(rows[audits:], "\n"))
	}
	for _, want := range []string{fmt.Sprintf("images[%d]", blue.ID), fmt.Sprintf("images[%d].alt", red.ID), "images.order"} {
		if !strings.Contains(rows[audits], want) {
			t.Errorf("the save's audit row lacks %s: %s", want, rows[audits])
		}
	}
}
