package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func pngBytes(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload writes data to a file called name and adds it from there, as a form upload
// would: the name is whatever the client sent and decides nothing.
func upload(t *testing.T, e *env, productID int64, name string, data []byte) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = e.cat.AddImage(context.Background(), editor, productID, f, "alt for "+name)
	return err
}

// mediaFiles lists the files under the media directory.
func mediaFiles(t *testing.T, e *env) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(e.media, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(e.media, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestAddImageRefusesWhatIsNotAnImage(t *testing.T) {
	e := newEnv(t)
	p := e.create(t, product("Mirror", "MIRROR-1"))
	before := e.rows(t)
	tests := []struct {
		name     string
		filename string
		data     []byte
		want     string
	}{
		{"text renamed .jpg", "photo.jpg", []byte("just some notes, not a picture\n"), "is not a PNG, JPEG or GIF image"},
		{"truncated png", "cut.png", pngBytes(t, 40, 40, color.White)[:60], "is not a PNG, JPEG or GIF image"},
		{"empty file", "empty.png", nil, "is not a PNG, JPEG or GIF image"},
		{"20 MiB", "huge.png", append(pngBytes(t, 2, 2, color.White), make([]byte, 20<<20)...), "must be at most 10 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFields(t, upload(t, e, p.ID, tt.filename, tt.data), validator.Errors{"image": tt.want})
		})
	}
	if after := e.rows(t); after != before {
		t.Errorf("rows = %v after refusals, want %v", after, before)
	}
	if files := mediaFiles(t, e); len(files) != 0 {
		t.Errorf("media files after refusals: %v, want none", files)
	}
}

// A PNG called .exe is a PNG: the type comes from the content. The same picture
// twice is stored once, and its file goes with the last row that names it.
func TestAddImageByContent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.create(t, product("Frame", "FRAME-1"))
	b := e.create(t, product("Other frame", "FRAME-2"))
	data := pngBytes(t, 30, 20, color.RGBA{200, 100, 50, 255})
	if err := upload(t, e, a.ID, "setup.exe", data); err != nil {
		t.Fatal(err)
	}
	if err := upload(t, e, b.ID, "copy.png", data); err != nil {
		t.Fatal(err)
	}
	if err := upload(t, e, a.ID, "second.png", pngBytes(t, 5, 5, color.Black)); err != nil {
		t.Fatal(err)
	}
	got, err := e.cat.Product(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	img := got.Images[0]
	if img.ContentType != "image/png" || img.Width != 30 || img.Height != 20 || img.Bytes != int64(len(data)) || img.Alt != "alt for setup.exe" {
		t.Errorf("image = %+v, want a 30×20 PNG of %d bytes", img, len(data))
	}
	path := catalog.ImagePath(img)
	if !strings.HasSuffix(path, ".png") || !strings.HasPrefix(path, img.Sha256[:2]+"/") {
		t.Errorf("ImagePath = %q, want <aa>/<sha256>.png", path)
	}
	if files := mediaFiles(t, e); len(files) != 2 {
		t.Errorf("media files = %v, want 2 (one per distinct picture)", files)
	}
	stored, err := os.ReadFile(filepath.Join(e.media, path))
	if err != nil || !bytes.Equal(stored, data) {
		t.Errorf("stored file differs from the upload (%v)", err)
	}

	// Reorder, alt text, then delete: the shared file stays until both rows are gone.
	second := got.Images[1]
	reorder := []catalog.ImageEdit{{ID: second.ID, Alt: second.Alt}, {ID: img.ID, Alt: img.Alt}}
	if _, err := e.cat.EditImages(ctx, editor, a.ID, reorder); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.EditImages(ctx, editor, a.ID, reorder[:1]); !errors.Is(err, catalog.ErrImagesChanged) {
		t.Errorf("edits naming one of two images: err = %v, want ErrImagesChanged", err)
	}
	stale := []catalog.ImageEdit{{ID: second.ID, Alt: second.Alt}, {ID: img.ID, Version: img.Version, Alt: "stale"}}
	if _, err := e.cat.EditImages(ctx, editor, a.ID, stale); !errors.Is(err, store.ErrStale) {
		t.Errorf("alt from before the reorder: err = %v, want ErrStale", err)
	}
	wantFields(t, func() error {
		_, err := e.cat.EditImages(ctx, editor, a.ID, []catalog.ImageEdit{{ID: second.ID}, {ID: img.ID, Alt: strings.Repeat("a", catalog.MaxAlt+1)}})
		return err
	}(), validator.Errors{"images[1].alt": fmt.Sprintf("must be at most %d characters", catalog.MaxAlt)})
	if _, err := e.cat.EditImages(ctx, editor, a.ID, []catalog.ImageEdit{{ID: second.ID, Alt: second.Alt}, {ID: img.ID, Alt: "a warm orange frame"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.cat.Product(ctx, a.ID)
	if got.Images[0].ID != second.ID || got.Images[1].Alt != "a warm orange frame" {
		t.Errorf("after reorder and alt: %+v", got.Images)
	}
	if _, err := e.cat.EditImages(ctx, editor, a.ID, []catalog.ImageEdit{{ID: second.ID, Alt: second.Alt}, {ID: img.ID, Delete: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.media, path)); err != nil {
		t.Errorf("the file another product uses was removed: %v", err)
	}
	if _, err := e.cat.DeleteProduct(ctx, editor, b.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.media, path)); !os.IsNotExist(err) {
		t.Errorf("the file no row names is still there (%v)", err)
	}
	if files := mediaFiles(t, e); len(files) != 1 {
		t.Errorf("media files = %v, want the second picture's only", files)
	}
}

// An upload is read only to just past the limit.
func TestAddImageReadsNoMoreThanTheLimit(t *testing.T) {
	e := newEnv(t)
	p := e.create(t, product("Clock", "CLOCK-1"))
	r := &countingReader{}
	_, err := e.cat.AddImage(context.Background(), editor, p.ID, r, "")
	wantFields(t, err, validator.Errors{"image": "must be at most 10 MiB"})
	if r.n != catalog.MaxImageBytes+1 {
		t.Errorf("read %d bytes, want %d", r.n, catalog.MaxImageBytes+1)
	}
}

// countingReader is an endless stream of zeros that counts what was read.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += len(p)
	return len(p), nil
}
