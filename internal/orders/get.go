package orders

import (
	"context"
	"fmt"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// Order is an order with everything its page shows: the customer, the lines in the
// order they were placed, the timeline oldest first, and the address snapshots
// decoded.
type Order struct {
	db.Order
	Customer db.Customer
	Lines    []db.OrderLine
	Events   []db.OrderEvent
	ShipTo   Address // db.Order.ShippingAddress, decoded
	BillTo   Address // db.Order.BillingAddress, decoded
}

// Order returns order id with its customer, lines and timeline, in three statements
// whatever their number of rows.
func (o *Orders) Order(ctx context.Context, id int64) (*Order, error) {
	var out Order
	err := o.st.Replica(ctx, func(q *db.Queries) error {
		row, err := q.GetOrder(ctx, id)
		if err != nil {
			return err
		}
		out.Order, out.Customer = row.Order, row.Customer
		if out.Lines, err = q.ListOrderLines(ctx, id); err != nil {
			return err
		}
		out.Events, err = q.ListOrderEvents(ctx, id)
		return err
	})
	if err == nil {
		err = out.decode()
	}
	if err != nil {
		return nil, fmt.Errorf("order %d: %w", id, err)
	}
	return &out, nil
}

// decode fills the decoded addresses from the snapshots.
func (o *Order) decode() (err error) {
	if o.ShipTo, err = DecodeAddress(o.ShippingAddress); err != nil {
		return err
	}
	o.BillTo, err = DecodeAddress(o.BillingAddress)
	return err
}
