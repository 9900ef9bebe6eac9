package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers the decoders image.Decode tries
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Image limits.
const (
	MaxImageBytes  = 10 << 20   // 10 MiB
	MaxImagePixels = 50_000_000 // decoding more would take gigabytes of memory
	MaxAlt         = 500
)

// imageTypes maps what image.DecodeConfig found to the stored content type and the
// file's extension. webp is not here: its decoder is not in the standard library.
var imageTypes = map[string][2]string{
	"png":  {"image/png", ".png"},
	"jpeg": {"image/jpeg", ".jpg"},
	"gif":  {"image/gif", ".gif"},
}

// ImagePath is where img's file lies under the media directory, with slashes:
// "ab/abcdef….png". The admin serves the media directory, so it is also the URL path
// below the media prefix.
func ImagePath(img db.ProductImage) string {
	ext := ".bin"
	for _, t := range imageTypes {
		if t[0] == img.ContentType {
			ext = t[1]
		}
	}
	return img.Sha256[:2] + "/" + img.Sha256 + ext
}

// AddImage stores the image r holds as product productID's last image. The type is
// what the content decodes as, whatever the upload was called: PNG, JPEG and GIF
// are taken, anything else is a field error on "image", as is more than 10 MiB.
// The file is named by its SHA-256, so the same image uploaded twice is stored
// once. r is read to its end or to just past the limit, whichever comes first.
func (c *Catalog) AddImage(ctx context.Context, actor audit.Actor, productID int64, r io.Reader, alt string) (db.ProductImage, error) {
	if !validator.MaxLen(alt, MaxAlt) {
		return db.ProductImage{}, validator.Errors{"alt": fmt.Sprintf("must be at most %d characters", MaxAlt)}
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return db.ProductImage{}, fmt.Errorf("read image: %w", err)
	}
	if len(data) > MaxImageBytes {
		return db.ProductImage{}, validator.Errors{"image": "must be at most 10 MiB"}
	}
	cfg, kind, err := decodeImage(data)
	if err != nil {
		return db.ProductImage{}, err
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	rel := ImagePath(db.ProductImage{Sha256: hash, ContentType: kind[0]})
	final := filepath.Join(c.cfg.MediaDir, filepath.FromSlash(rel))
	// Write and sync the bytes outside the transaction; inside it only a rename
	// remains, under the hash's lock.
	tmp, err := writeTemp(filepath.Dir(final), data)
	if err != nil {
		return db.ProductImage{}, err
	}
	defer os.Remove(tmp) // gone already once renamed

	var img db.ProductImage
	err = c.st.InTx(ctx, func(q *db.Queries) error {
		p, err := q.LockProduct(ctx, productID)
		if err != nil {
			return err
		}
		// A clean-up that finds no row for this hash removes the file under the same
		// lock, so it cannot remove it between the rename and the insert below. The
		// rename is the one file operation inside a transaction: it is what the lock
		// orders.
		if err := q.LockImageHash(ctx, hash); err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("store image: %w", err)
		}
		img, err = q.CreateImage(ctx, db.CreateImageParams{
			ProductID: productID, Sha256: hash, ContentType: kind[0], Width: int32(cfg.Width),
			Height: int32(cfg.Height), Bytes: int64(len(data)), Alt: alt,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionUpdate, ResourceProducts, p.ID, p.Name,
			audit.Changes{imageField(img.ID, ""): {nil, rel}})
	})
	if err != nil {
		c.removeUnusedFiles(ctx, []string{hash}) // the file may be in place without its row
		return db.ProductImage{}, fmt.Errorf("add image to product %d: %w", productID, err)
	}
	return img, nil
}

// decodeImage checks that data is a whole PNG, JPEG or GIF image of a sane size and
// returns its dimensions and [content type, extension].
func decodeImage(data []byte) (image.Config, [2]string, error) {
	notImage := validator.Errors{"image": "is not a PNG, JPEG or GIF image"}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	kind, ok := imageTypes[format]
	if err != nil || !ok || cfg.Width <= 0 || cfg.Height <= 0 {
		return image.Config{}, kind, notImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return image.Config{}, kind, validator.Errors{"image": "has too many pixels: at most 50 megapixels"}
	}
	// The header can be right and the rest broken: decode it all.
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return image.Config{}, kind, notImage
	}
	return cfg, kind, nil
}

// writeTemp writes data to a new file in dir (made if need be) and syncs it, so a
// rename publishes the whole file or nothing.
func writeTemp(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("store image: %w", err)
	}
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("store image: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) // CreateTemp makes it 0600; the web server reads it
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("store image: %w", err)
	}
	return f.Name(), nil
}

// ImageEdit is what one save of a product's images form asks of one image: its
// alt text, or its deletion. Version is the image's version as the form showed it.
type ImageEdit struct {
	ID      int64
	Version int32 // 0: whatever its version
	Alt     string
	Delete  bool
}

// ErrImagesChanged: the images a save names are not the product's images now (one
// was added or deleted since the form was drawn). Nothing was saved.
var ErrImagesChanged = fmt.Errorf("the product's images changed meanwhile: %w", store.ErrStale)

// EditImages applies one save of product productID's images form in one
// transaction with one audit row: edits name each of its images once, in the new
// display order; deleted ones go, changed alt texts are set, the rest take their
// place in that order. An image whose alt text changes must still be at its
// Version (store.ErrStale otherwise); edits that do not name exactly the product's
// images are ErrImagesChanged. Either way nothing is saved. It returns how many
// images it deleted; their files go once no other row names them.
func (c *Catalog) EditImages(ctx context.Context, actor audit.Actor, productID int64, edits []ImageEdit) (int, error) {
	errs := validator.Errors{}
	for i, e := range edits {
		errs.Check(validator.MaxLen(e.Alt, MaxAlt), fmt.Sprintf("images[%d].alt", i), fmt.Sprintf("must be at most %d characters", MaxAlt))
	}
	if err := errs.Err(); err != nil {
		return 0, err
	}
	var hashes []string
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		p, err := q.LockProduct(ctx, productID)
		if err != nil {
			return err
		}
		images, err := q.ListProductImages(ctx, productID)
		if err != nil {
			return err
		}
		stored := make(map[int64]db.ProductImage, len(images))
		order := make([]int64, len(images))
		for i, img := range images {
			stored[img.ID], order[i] = img, img.ID
		}
		named := make([]int64, len(edits))
		for i, e := range edits {
			named[i] = e.ID
		}
		slices.Sort(named)
		if current := slices.Sorted(maps.Keys(stored)); !slices.Equal(named, current) {
			return ErrImagesChanged
		}
		changes := audit.Changes{}
		var kept []int64
		for _, e := range edits {
			img := stored[e.ID]
			switch {
			case e.Delete:
				if _, err := q.DeleteImage(ctx, e.ID); err != nil {
					return err
				}
				hashes = append(hashes, img.Sha256)
				changes[imageField(e.ID, "")] = [2]any{ImagePath(img), nil}
				continue
			case e.Alt != img.Alt:
				if e.Version != 0 && e.Version != img.Version {
					return fmt.Errorf("image %d: %w", e.ID, store.ErrStale)
				}
				if _, err := q.UpdateImageAlt(ctx, db.UpdateImageAltParams{ID: e.ID, Alt: e.Alt, Version: &img.Version}); err != nil {
					return err
				}
				changes[imageField(e.ID, "alt")] = [2]any{img.Alt, e.Alt}
			}
			kept = append(kept, e.ID)
		}
		if before := slices.DeleteFunc(slices.Clone(order), func(id int64) bool { return !slices.Contains(kept, id) }); !slices.Equal(before, kept) {
			if _, err := q.ReorderImages(ctx, db.ReorderImagesParams{ProductID: productID, Ids: kept}); err != nil {
				return err
			}
			changes["images.order"] = [2]any{before, kept}
		}
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, q, actor, audit.ActionUpdate, ResourceProducts, p.ID, p.Name, changes)
	})
	if err != nil {
		return 0, fmt.Errorf("edit images of product %d: %w", productID, err)
	}
	c.removeUnusedFiles(ctx, hashes)
	return len(hashes), nil
}

// removeUnusedFiles removes the files of the hashes no image row names any more,
// each under its hash's lock (see AddImage). It runs after the deleting transaction
// has committed, so a rollback never leaves a row without its file. A failure here
// leaves an unused file behind, which harms nothing: it is not reported.
func (c *Catalog) removeUnusedFiles(ctx context.Context, hashes []string) {
	slices.Sort(hashes)
	for _, hash := range slices.Compact(hashes) {
		_ = c.st.InTx(ctx, func(q *db.Queries) error {
			if err := q.LockImageHash(ctx, hash); err != nil {
				return err
			}
			n, err := q.CountImagesWithHash(ctx, hash)
			if err != nil || n > 0 {
				return err
			}
			for _, t := range imageTypes {
				rel := ImagePath(db.ProductImage{Sha256: hash, ContentType: t[0]})
				err := os.Remove(filepath.Join(c.cfg.MediaDir, filepath.FromSlash(rel)))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			return nil
		})
	}
}

// imageField names an image, or one of its fields, in an audit row: "images[12].alt".
func imageField(id int64, field string) string {
	name := "images[" + strconv.FormatInt(id, 10) + "]"
	if field != "" {
		name += "." + field
	}
	return name
}
