package seed

import "strings"

// Word lists for generated names. A product is "<style> <material> <thing>", so a
// search for any one word (say "oak", or "lamp") matches a predictable share of the
// catalog: about 1/len(materials) of it for a material.
var (
	styles = []string{
		"Classic", "Modern", "Rustic", "Compact", "Deluxe", "Vintage", "Nordic", "Urban",
		"Coastal", "Minimal", "Heritage", "Studio", "Alpine", "Garden", "Royal", "Everyday",
		"Premium", "Travel", "Family", "Signature", "Essential", "Artisan", "Bold", "Soft",
	}
	materials = []string{
		"Oak", "Walnut", "Bamboo", "Linen", "Cotton", "Wool", "Leather", "Ceramic",
		"Glass", "Copper", "Brass", "Steel", "Marble", "Cedar", "Velvet", "Stoneware",
		"Porcelain", "Rattan", "Jute", "Silk", "Pine", "Birch", "Slate", "Cork",
		"Felt", "Canvas", "Enamel", "Teak", "Maple", "Iron",
	}
	things = []string{
		"Chair", "Table", "Lamp", "Mug", "Bowl", "Vase", "Blanket", "Cushion",
		"Shelf", "Basket", "Tray", "Clock", "Mirror", "Rug", "Stool", "Bench",
		"Planter", "Candle Holder", "Teapot", "Cutting Board", "Desk Organizer", "Coat Hook",
		"Throw", "Lantern", "Jar", "Pitcher", "Plate", "Frame", "Bookend", "Coaster Set",
		"Wall Hook", "Bread Bin", "Side Table", "Napkin Set", "Serving Board", "Doormat",
		"Pendant Light", "Floor Lamp", "Storage Box", "Towel",
	}
	sizes  = []string{"Small", "Medium", "Large"}
	colors = []string{"Natural", "Black", "White", "Sage", "Terracotta", "Navy", "Ochre", "Grey"}

	departments = []string{
		"Furniture", "Lighting", "Kitchen", "Dining", "Textiles", "Decor",
		"Storage", "Garden", "Bath", "Office", "Kids", "Outdoor",
	}
	sections = []string{
		"Essentials", "New In", "Bestsellers", "Classics", "Sets", "Small Spaces",
		"Gifts", "Accessories", "Seasonal", "Outlet", "Handmade", "Eco",
	}
	subsections = []string{"Under 20", "Bundles", "Limited"}

	blurbs = []string{
		"Made to last and easy to care for.",
		"A quiet piece that fits any room.",
		"Designed in small batches by independent makers.",
		"Sturdy, honest materials with a hand-finished look.",
		"Pairs well with the rest of the collection.",
		"Light enough to move, solid enough to keep.",
	}
)

// SearchWords returns the one-word entries of the lists generated names are made of
// (styles, materials, things), for searches that must find something: each matches a
// predictable share of the catalog. The bench's S4 picks its q from them.
func SearchWords() []string {
	var out []string
	for _, list := range [][]string{styles, materials, things} {
		for _, w := range list {
			if !strings.Contains(w, " ") {
				out = append(out, w)
			}
		}
	}
	return out
}
