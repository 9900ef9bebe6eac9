package orders

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/validator"
)

// MaxAddressField is the longest any line of an address may be.
const MaxAddressField = 200

// countryCode is an ISO 3166-1 alpha-2 code, as addresses store it.
var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Address is a postal address. Customers keep a default shipping and billing
// address and orders a snapshot of the ones they shipped to and billed, both as
// jsonb in this shape (the json names are the stored keys and the API's fields).
type Address struct {
	Name       string `json:"name,omitempty"`
	Company    string `json:"company,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"` // ISO 3166-1 alpha-2, upper case: "DE"
	Phone      string `json:"phone,omitempty"`
}

// IsZero reports whether the address is empty.
func (a Address) IsZero() bool { return a == Address{} }

// normalize trims every field and upper-cases the country.
func (a Address) normalize() Address {
	for _, f := range a.fields() {
		*f.value = strings.TrimSpace(*f.value)
	}
	a.Country = strings.ToUpper(a.Country)
	return a
}

type addressField struct {
	name  string
	value *string
}

func (a *Address) fields() []addressField {
	return []addressField{
		{"name", &a.Name}, {"company", &a.Company}, {"line1", &a.Line1}, {"line2", &a.Line2},
		{"city", &a.City}, {"region", &a.Region}, {"postal_code", &a.PostalCode},
		{"country", &a.Country}, {"phone", &a.Phone},
	}
}

// validate adds a message per bad field under prefix ("shipping_address.").
func (a Address) validate(errs validator.Errors, prefix string) {
	for _, f := range a.fields() {
		errs.Check(validator.MaxLen(*f.value, MaxAddressField), prefix+f.name,
			fmt.Sprintf("must be at most %d characters", MaxAddressField))
	}
	errs.Check(a.Country == "" || countryCode.MatchString(a.Country), prefix+"country",
		"must be a two-letter ISO 3166 code such as DE")
}

// encode is the jsonb the database stores.
func (a Address) encode() json.RawMessage {
	b, _ := json.Marshal(a) // a struct of strings always encodes
	return b
}

// DecodeAddress reads an address the database stored. Unknown keys are ignored, so
// an address written by a later version still reads.
func DecodeAddress(raw json.RawMessage) (Address, error) {
	var a Address
	if len(raw) == 0 {
		return a, nil
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return Address{}, fmt.Errorf("decode address: %w", err)
	}
	return a, nil
}
