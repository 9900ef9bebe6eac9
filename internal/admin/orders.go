package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

type orderRow = db.OrderListing

// ordersPath is where the order list lives; every order page's way back.
const ordersPath = "/admin/orders/"

// The order list's range parameters: the custom placed dates and the total bounds,
// typed into the list's own form (Filter.Accept), and the customer a customer page
// links to. They are the JSON API's names.
const (
	paramFrom     = "placed_from"
	paramTo       = "placed_to"
	paramMin      = "total_min"
	paramMax      = "total_max"
	paramCustomer = "customer"
)

// dateValue is what a date input sends.
var dateValue = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// orderListSpec declares the order list over orders.ListOrders, which pages with
// cursors of its own (the JSON API's), including the jump to the last page.
func (s *Server) orderListSpec() *ListSpec[orderRow] {
	amount := func(v string) bool { c, ok := s.money.parse(v); return ok && c >= 0 }
	return &ListSpec[orderRow]{
		Path: ordersPath, Singular: "order", Plural: "orders",
		Columns: []Column{{Label: "Select", Class: "select"}, {Label: "Order"}, {Label: "Customer"}, {Label: "Status"},
			{Key: string(orders.SortPlaced), Label: "Placed"}, {Key: string(orders.SortTotal), Label: "Total (" + s.money.code + ")", Class: "num"}},
		Filters: []Filter{
			{Name: "status", Label: "Status", Options: orderStatusOptions()},
			{Name: "placed", Label: "Placed", Options: []Option{{orders.PlacedToday, "Today"},
				{orders.Placed7Days, "Last 7 days"}, {orders.Placed30Days, "Last 30 days"}, {orders.PlacedCustom, "Between dates"}}},
			{Name: paramFrom, Accept: dateValue.MatchString},
			{Name: paramTo, Accept: dateValue.MatchString},
			{Name: paramMin, Accept: amount},
			{Name: paramMax, Accept: amount},
			{Name: paramCustomer, Accept: func(v string) bool { id, err := strconv.ParseInt(v, 10, 64); return err == nil && id > 0 }},
		},
		Search:      "Search number, email or name",
		DefaultSort: string(orders.DefaultSort.Key),
		DefaultDesc: orders.DefaultSort.Desc,
		HasLast:     true,
		Pager: func(ctx context.Context, req PageRequest) (Paged[orderRow], error) {
			f, _ := s.orderFilter(req.Search, req.Filters) // the handler dropped what did not read
			p, err := s.orders.ListOrders(ctx, orders.ListParams{Filter: f,
				Sort: orders.Sort{Key: orders.SortKey(req.Sort), Desc: req.Desc}, Limit: req.Limit, Cursor: req.Token, Last: req.Last})
			return Paged[orderRow]{Rows: p.Items, Prev: p.Prev, Next: p.Next}, err
		},
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			f, _ := s.orderFilter(q.Search, q.Filters)
			return s.orders.CountOrders(ctx, f)
		},
	}
}

func orderStatusOptions() []Option {
	opts := make([]Option, len(orders.Statuses))
	for i, st := range orders.Statuses {
		opts[i] = Option{st, capitalize(st)}
	}
	return opts
}

// orderFilter turns the list's search and filters into the orders' filter. The
// placed dates apply with placed=custom only. What does not read (a date range that
// ends before it starts, a minimum above the maximum) comes back as field errors
// under the parameter names, and is left out of the filter.
func (s *Server) orderFilter(search string, filters map[string]string) (orders.Filter, validator.Errors) {
	f := orders.Filter{Q: search, Status: filters["status"]}
	errs := validator.Errors{}
	f.CustomerID, _ = strconv.ParseInt(filters[paramCustomer], 10, 64)
	if preset := filters["placed"]; preset != "" {
		from, to, err := s.orders.PlacedRange(preset, filters[paramFrom], filters[paramTo])
		if fe := fieldErrors(err); fe != nil {
			for k, v := range fe {
				errs.Add(k, v)
			}
		} else {
			f.PlacedFrom, f.PlacedTo = from, to
		}
	}
	lo, hasLo := s.money.parse(filters[paramMin])
	hi, hasHi := s.money.parse(filters[paramMax])
	if hasLo && hasHi && hi < lo {
		errs.Add(paramMax, "must not be below the minimum")
	} else {
		if hasLo {
			f.TotalMin = &lo
		}
		if hasHi {
			f.TotalMax = &hi
		}
	}
	return f, errs
}

// ordersPage is the order list.
type ordersPage struct {
	Layout
	List       *List[orderRow]
	Export     string // the CSV of exactly this list
	CanFulfil  bool   // the bulk action "mark fulfilled"
	CanAdd     bool
	Range      orderRange
	RangeError string
	Customer   string // the customer the list is narrowed to, when it is
	ClearRange string // the list without the range filters
	// InsertNew: the live page puts a new order's row at its top (the default
	// ordering, newest first, on the first page), asking the list's own URL with
	// newer=Newest on order.placed; elsewhere it shows the placed-notice instead.
	InsertNew bool
	Newest    int64 // the highest order id on the page
}

func (p *ordersPage) list() framed { return p.List }

// orderRowView is what the order-row template reads: one order and the list around it.
type orderRowView struct {
	O               orderRow
	Self            string // the list's URL, whose page the row is fetched from again
	Live, CanFulfil bool
	New             bool // inserted live: highlighted
}

// Row is the order-row template's data for o on this page.
func (pg *ordersPage) Row(o orderRow, isNew bool) orderRowView {
	return orderRowView{O: o, Self: pg.List.Self, Live: pg.Live, CanFulfil: pg.CanFulfil, New: isNew}
}

// newRows is the order-rows-new template's data.
type newRows struct {
	Rows   []orderRowView
	Newest int64
}

// insertsNew tells whether a new order belongs at the top of the list q shows: the
// default ordering (newest first) on its first page. Elsewhere a row put at the top
// would be in the wrong place.
func (s *Server) insertsNew(q ListQuery) bool {
	return q.Sort == s.orderList.DefaultSort && q.Desc == s.orderList.DefaultDesc &&
		q.Token == "" && !q.Last && q.After == nil && q.Before == nil
}

// orderRange is the list's own form for the custom dates and the total bounds, with
// the rest of the query in hidden fields.
type orderRange struct {
	From, To, Min, Max string
	Custom             bool // placed=custom is in effect
	Hidden             []Hidden
}

// rangeParams are the parameters the range form sets; the rest it carries hidden.
var rangeParams = []string{"placed", paramFrom, paramTo, paramMin, paramMax}

// listOrders is GET /admin/orders/.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := s.orderList.Parse(r.URL.Query())
	_, errs := s.orderFilter(q.Search, q.Filters)
	for field := range errs { // show the message; list as if the bad bound were absent
		delete(q.Filters, field)
		if field == paramFrom || field == paramTo || field == "placed" {
			delete(q.Filters, "placed")
		}
	}
	l, err := s.orderList.Load(ctx, q)
	if err != nil {
		return err
	}
	p := auth.FromContext(ctx)
	pg := &ordersPage{Layout: Layout{Title: "Orders"}, List: l, Export: ordersPath + "export.csv",
		CanFulfil: p.Can("orders.fulfil"), CanAdd: p.Can("orders.add")}
	values := s.orderList.values(l.Query)
	if len(values) > 0 {
		pg.Export += "?" + values.Encode()
	}
	// The form shows what was typed, the bad values too, so they can be corrected.
	raw := r.URL.Query()
	pg.Range = orderRange{From: raw.Get(paramFrom), To: raw.Get(paramTo), Min: raw.Get(paramMin), Max: raw.Get(paramMax),
		Custom: l.Query.Filters["placed"] == orders.PlacedCustom}
	rest := cloneValues(values)
	for _, name := range rangeParams {
		rest.Del(name)
	}
	pg.Range.Hidden = hiddenOf(rest, "")
	pg.ClearRange = s.orderList.href(rest)
	for _, field := range errs.Fields() {
		pg.RangeError = rangeLabels[field] + " " + errs[field] + "."
		break
	}
	pg.InsertNew = s.live(p) && s.insertsNew(l.Query)
	for _, o := range l.Rows {
		pg.Newest = max(pg.Newest, o.ID)
	}
	if newer, ok := liveNewer(r); ok {
		return s.renderNewRows(w, r, pg, newer)
	}
	if id, ok := l.Query.Filters[paramCustomer]; ok && len(l.Rows) > 0 {
		pg.Customer = l.Rows[0].CustomerEmail
	} else if ok {
		pg.Customer = "customer " + id
	}
	return s.render(w, r, http.StatusOK, "orders/list", pg)
}

// liveNewer reads the newer parameter the order list's tbody sends on order.placed:
// the highest order id the page already shows.
func liveNewer(r *http.Request) (int64, bool) {
	v := r.URL.Query().Get("newer")
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// renderNewRows answers the tbody's request on order.placed with the rows of pg (the
// list as a reload would show it: same filters, same row template) above the newest
// order the page had, highlighted, and the page's marker moved on: nothing at all
// when no new order passes the filters, or when the list is not one a row is
// inserted into.
func (s *Server) renderNewRows(w http.ResponseWriter, r *http.Request, pg *ordersPage, newer int64) error {
	pg.Live = s.live(auth.FromContext(r.Context())) // render sets it for whole pages
	data := newRows{}
	if pg.InsertNew {
		for _, o := range pg.List.Rows { // newest first
			if o.ID > newer {
				data.Rows = append(data.Rows, pg.Row(o, true))
				data.Newest = max(data.Newest, o.ID)
			}
		}
	}
	return s.renderFragment(w, "orders/list", "order-rows-new", data)
}

// rangeLabels name the range parameters in messages.
var rangeLabels = map[string]string{
	"placed": "The date range", paramFrom: "The start date", paramTo: "The end date",
	paramMin: "The minimum total", paramMax: "The maximum total",
}

// exportOrders is GET /admin/orders/export.csv: exactly the filtered, ordered list,
// streamed a batch at a time (orders.ExportOrders).
func (s *Server) exportOrders(w http.ResponseWriter, r *http.Request) error {
	q := s.orderList.Parse(r.URL.Query())
	f, errs := s.orderFilter(q.Search, q.Filters)
	if len(errs) > 0 {
		return errs // a hand-made URL: the list itself says what is wrong
	}
	cur := s.money.code
	header := []string{"number", "status", "customer_email", "customer_name", "placed_at",
		"subtotal (" + cur + ")", "shipping (" + cur + ")", "tax (" + cur + ")", "total (" + cur + ")", "currency"}
	return s.streamCSV(w, r, "orders.csv", header, func(write func(...[]string) error) error {
		return s.orders.ExportOrders(r.Context(), orders.ListParams{Filter: f,
			Sort: orders.Sort{Key: orders.SortKey(q.Sort), Desc: q.Desc}}, func(rows []db.OrderListing) error {
			out := make([][]string, len(rows))
			for i, o := range rows {
				out[i] = safeCells(o.Number, o.Status, o.CustomerEmail, o.CustomerName, o.PlacedAt.UTC().Format(time.RFC3339),
					s.money.plain(o.SubtotalCents), s.money.plain(o.ShippingCents), s.money.plain(o.TaxCents),
					s.money.plain(o.TotalCents), o.Currency)
			}
			return write(out...)
		})
	})
}

// orderBulkPage confirms marking orders fulfilled: the orders, and which of them
// cannot be (not paid).
type orderBulkPage struct {
	Layout
	Orders  []bulkOrder
	Ready   int // how many will be fulfilled
	Missing int // selected ids that no longer exist
	Back    string
}

// bulkOrder is one selected order and whether it can be fulfilled.
type bulkOrder struct {
	db.OrderListing
	Ready bool
}

// orderActions is POST /admin/orders/actions, the bulk action "mark fulfilled":
// without confirm, the confirmation page listing the orders (nothing written); with
// it, each order moved in a transaction of its own, then back to the list as it
// was, with what happened in the flash.
func (s *Server) orderActions(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	back := safeLocal(r.PostFormValue("back"), ordersPath, ordersPath)
	if r.PostFormValue("action") != "fulfil" {
		return s.redirect(w, r, back, "Choose an action first.")
	}
	ids := formIDs(r, "ids")
	if len(ids) == 0 {
		return s.redirect(w, r, back, "Select one or more orders first.")
	}
	rows, err := s.orders.OrdersByID(ctx, ids)
	if fe := fieldErrors(err); fe != nil {
		return s.redirect(w, r, back, "Not done: "+fe["ids"]+".")
	} else if err != nil {
		return err
	}
	if r.PostFormValue("confirm") == "" {
		pg := &orderBulkPage{Layout: Layout{Title: "Mark orders fulfilled"}, Back: back, Missing: len(ids) - len(rows)}
		for _, o := range rows {
			ready := orders.CanTransition(o.Status, orders.StatusFulfilled)
			pg.Orders = append(pg.Orders, bulkOrder{OrderListing: o, Ready: ready})
			if ready {
				pg.Ready++
			}
		}
		return s.render(w, r, http.StatusOK, "orders/bulk", pg)
	}
	numbers := make(map[int64]string, len(rows))
	for _, o := range rows {
		numbers[o.ID] = o.Number
	}
	var done int
	var refused []string
	for _, res := range s.orders.TransitionMany(ctx, auth.FromContext(ctx), ids, orders.StatusFulfilled) {
		var te *orders.TransitionError
		switch {
		case res.Err == nil:
			done++
		case errors.As(res.Err, &te):
			refused = append(refused, fmt.Sprintf("%s is %s", numbers[res.ID], te.From))
		case errors.Is(res.Err, store.ErrNotFound):
		default:
			return res.Err
		}
	}
	msg := plural(done, "order", "orders") + " marked fulfilled."
	if len(refused) > 0 {
		msg += " Not fulfilled (only paid orders can be): " + strings.Join(refused, ", ") + "."
	}
	return s.redirect(w, r, back, msg)
}

// orderPage is one order: its lines, totals, addresses and timeline, the moves the
// viewer may make from its status, and the note form.
type orderPage struct {
	Layout
	Order     *orders.Order
	Moves     []orderMove
	CanNote   bool
	Note      string // a note as typed, when it was refused
	NoteError string
	Alert     string // why a move was not made
	Back      string // the list as it was left
}

// orderMove is one transition button.
type orderMove struct {
	To, Label string
	Danger    bool
}

// moveLabels are the transition buttons' words.
var moveLabels = map[string]string{
	orders.StatusPaid: "Mark paid", orders.StatusFulfilled: "Fulfil", orders.StatusDelivered: "Mark delivered",
	orders.StatusCancelled: "Cancel order", orders.StatusRefunded: "Refund",
}

// eventLabels are the timeline's words for its entry kinds.
var eventLabels = map[string]string{
	orders.EventCreated: "Placed", orders.EventNote: "Note", orders.StatusPaid: "Paid",
	orders.StatusFulfilled: "Fulfilled", orders.StatusDelivered: "Delivered",
	orders.StatusCancelled: "Cancelled", orders.StatusRefunded: "Refunded",
}

// EventLabel is the timeline's word for an entry kind.
func (p *orderPage) EventLabel(kind string) string {
	if l, ok := eventLabels[kind]; ok {
		return l
	}
	return capitalize(kind)
}

// orderPageFor loads order id for its page, with the moves the viewer may make.
func (s *Server) orderPageFor(r *http.Request, id int64) (*orderPage, error) {
	o, err := s.orders.Order(r.Context(), id)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(r.Context())
	pg := &orderPage{Layout: Layout{Title: "Order " + o.Number}, Order: o, CanNote: p.Can("orders.change"),
		Back: safeLocal(r.URL.Query().Get("back"), ordersPath, ordersPath)}
	for _, to := range orders.AllowedFor(o.Status, p.Can) {
		pg.Moves = append(pg.Moves, orderMove{To: to, Label: moveLabels[to],
			Danger: to == orders.StatusCancelled || to == orders.StatusRefunded})
	}
	return pg, nil
}

// showOrder is GET /admin/orders/{id}/.
func (s *Server) showOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pg, err := s.orderPageFor(r, id)
	if err != nil {
		return err
	}
	pg.Watch = fmt.Sprintf("orders-%d", id) // presence: who else has it open
	return s.render(w, r, http.StatusOK, "orders/view", pg)
}

// transitionOrder is POST /admin/orders/{id}/transitions: a transition button. The
// route needs orders.view; the move needs its own permission (orders.Permission),
// which Transition checks (403 without it). A move the status no longer allows
// (someone else moved the order meanwhile) shows the page again with why (409).
func (s *Server) transitionOrder(w http.ResponseWriter, r *http.Request) error {
	id, version, err := parseEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	to := r.PostFormValue("to")
	if !validStatus(to) {
		return s.orderAgain(w, r, id, http.StatusUnprocessableEntity, func(pg *orderPage) {
			pg.Alert = "Choose one of the buttons below."
		})
	}
	o, err := s.orders.Transition(ctx, auth.FromContext(ctx), id, to, version)
	var te *orders.TransitionError
	switch {
	case errors.As(err, &te):
		return s.orderAgain(w, r, id, http.StatusConflict, func(pg *orderPage) {
			pg.Alert = fmt.Sprintf("Not done: the order is %s, and %s.", te.From, allowedText(te))
		})
	case errors.Is(err, store.ErrStale):
		return s.orderAgain(w, r, id, http.StatusConflict, func(pg *orderPage) {
			pg.Alert = "Not done: someone else changed this order while you were looking at it. It is shown as it is now; check it and try again."
		})
	case err != nil:
		return err
	}
	return s.redirect(w, r, orderURL(id, r.PostFormValue("back")), fmt.Sprintf("Order %s is now %s.", o.Number, o.Status))
}

// allowedText says what an order may still do after a refused move.
func allowedText(te *orders.TransitionError) string {
	if len(te.Allowed) == 0 {
		return te.From + " is final"
	}
	return "from there it can only become " + strings.Join(te.Allowed, " or ")
}

func validStatus(s string) bool {
	for _, st := range orders.Statuses {
		if s == st {
			return true
		}
	}
	return false
}

// orderURL is an order's page, carrying the list to go back to.
func orderURL(id int64, back string) string {
	u := fmt.Sprintf("%s%d/", ordersPath, id)
	if back = safeLocal(back, ordersPath, ""); back != "" && back != ordersPath {
		u += "?back=" + url.QueryEscape(back)
	}
	return u
}

// orderAgain shows the order page again with status, after adjust says why.
func (s *Server) orderAgain(w http.ResponseWriter, r *http.Request, id int64, status int, adjust func(*orderPage)) error {
	pg, err := s.orderPageFor(r, id)
	if err != nil {
		return err
	}
	if back := r.PostFormValue("back"); back != "" {
		pg.Back = safeLocal(back, ordersPath, ordersPath)
	}
	adjust(pg)
	return s.render(w, r, status, "orders/view", pg)
}

// addOrderNote is POST /admin/orders/{id}/notes: a note on the timeline.
func (s *Server) addOrderNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	if len(bad) > 0 && bad["note"] == "" {
		return bad // a hidden field: the error page names it
	}
	note := r.PostFormValue("note")
	_, err = saveUnless(bad, func() (db.OrderEvent, error) {
		return s.orders.AddNote(r.Context(), auth.FromContext(r.Context()).Actor(), id, note)
	})
	if fe := fieldErrors(err); fe != nil {
		return s.orderAgain(w, r, id, http.StatusUnprocessableEntity, func(pg *orderPage) {
			pg.Note, pg.NoteError = note, fe["note"]
		})
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, orderURL(id, r.PostFormValue("back"))+"#timeline", "Note added.")
}

// orderTitle names an order for its history tab.
func (s *Server) orderTitle(ctx context.Context, id int64) (string, error) {
	o, err := s.orders.Order(ctx, id)
	if err != nil {
		return "", err
	}
	return "Order " + o.Number, nil
}

// Tab is which tab of the order's page is open.
func (p *orderPage) Tab() string { return "edit" }

// EditHref is the order's page.
func (p *orderPage) EditHref() string { return fmt.Sprintf("%s%d/", ordersPath, p.Order.ID) }

// HistoryHref is the order's history tab (its audit entries).
func (p *orderPage) HistoryHref() string { return p.EditHref() + "history" }
