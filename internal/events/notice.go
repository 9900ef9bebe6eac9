package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"
)

// notice is the HTML of an object frame: who changed which fields, when.
var notice = template.Must(template.New("notice").Parse(
	`<p class="live-notice" role="status"><strong>{{.Who}}</strong> {{.Did}}{{with .Fields}} ({{.}}){{end}} at {{.At}} UTC. ` +
		`<a href="">Reload</a> to see it{{if not .Deleted}} before you save{{end}}.</p>`))

// maxFields is how many changed fields a notice names before "and N more".
const maxFields = 4

// object returns e's object frame (Request.ObjectEvents), made on first use and then
// shared by every stream.
func (e *Event) object() []byte {
	e.objectOnce.Do(func() {
		var p struct {
			Changes map[string]json.RawMessage `json:"changes"`
		}
		json.Unmarshal(e.Payload, &p) // a payload without changes names no fields
		fields := make([]string, 0, len(p.Changes))
		for f := range p.Changes {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		if n := len(fields); n > maxFields {
			fields = append(fields[:maxFields], fmt.Sprintf("and %d more", n-maxFields))
		}
		verb := e.Type[strings.IndexByte(e.Type, '.')+1:]
		did := map[string]string{"created": "created this", "deleted": "deleted this", "placed": "placed this order",
			"status_changed": "moved this order", "stock_changed": "changed the stock"}[verb]
		if did == "" {
			did = "changed this"
		}
		who := e.Actor.Label
		if who == "" {
			who = "Someone"
		}
		var html bytes.Buffer
		notice.Execute(&html, map[string]any{"Who": who, "Did": did, "Fields": strings.Join(fields, ", "),
			"At": e.CreatedAt.Format("15:04:05"), "Deleted": verb == "deleted"})
		// html/template output has no raw newline here, so one data: line holds it.
		e.objectFrame = fmt.Appendf(nil, "event: %s-%d\ndata: %s\n\n", e.Resource, e.ObjectID,
			strings.ReplaceAll(html.String(), "\n", " "))
	})
	return e.objectFrame
}
