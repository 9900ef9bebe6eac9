package catalog

import (
	"regexp"
	"strings"
)

// MaxSlug is the longest slug; the database checks it too.
const MaxSlug = 200

// slugBase is the longest generated slug before a collision suffix (-2, -10000):
// suffixed, it still fits MaxSlug.
const slugBase = MaxSlug - 6

// slugPattern is what a slug may look like: lowercase ASCII words joined by single
// hyphens. The database's *_slug_check constraints say the same.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// transliterations spells common non-ASCII letters in ASCII for slugs. Letters it
// does not know become word breaks.
var transliterations = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "ae", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ğ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'į': "i", 'ı': "i",
	'ł': "l", 'ľ': "l", 'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "oe", 'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe",
	'ř': "r", 'ś': "s", 'š': "s", 'ş': "s", 'ș': "s", 'ß': "ss", 'ť': "t", 'ţ': "t", 'ț': "t", 'þ': "th",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "ue", 'ū': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}

// Slugify makes a URL slug of s: lowercase ASCII letters and digits, words joined
// by single hyphens, common accented letters spelled out ("Crème brûlée" →
// "creme-brulee"), at most slugBase long. It returns "" when s has no letter or digit
// it can spell; callers fall back to a default.
func Slugify(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		var part string
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			part = string(r)
		case transliterations[r] != "":
			part = transliterations[r]
		default:
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte('-')
			gap = false
		}
		b.WriteString(part)
	}
	slug := b.String()
	if len(slug) > slugBase {
		// Cut at the last word break that fits, unless one word is that long.
		cut := slug[:slugBase]
		if slug[slugBase] != '-' {
			if i := strings.LastIndexByte(cut, '-'); i > 0 {
				cut = cut[:i]
			}
		}
		slug = strings.TrimSuffix(cut, "-")
	}
	return slug
}

// validSlug reports whether s is a well-formed slug.
func validSlug(s string) bool { return len(s) <= MaxSlug && slugPattern.MatchString(s) }
