package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// ChartDays is how many days the dashboard's revenue series covers, today included.
const ChartDays = 30

// DayFigures is one day of the dashboard's series.
type DayFigures struct {
	Day          time.Time // midnight starting the day, in the shop's time zone
	Orders       int64     // orders placed that day, whatever their status now
	RevenueCents int64     // the totals of those paid, fulfilled or delivered
}

// Dashboard is the figures at the top of the admin's home page. Revenue counts the
// orders whose money the shop has: paid, fulfilled or delivered (not pending,
// cancelled or refunded), by the day they were placed.
type Dashboard struct {
	Currency     string
	OrdersToday  int64
	RevenueToday int64
	Orders7Days  int64 // today and the six days before
	Revenue7Days int64
	// Days is the last ChartDays days, oldest first and today last, with every day
	// present (zero when nothing was sold): the revenue chart.
	Days []DayFigures
	// AwaitingFulfilment is the number of orders paid and not yet fulfilled.
	AwaitingFulfilment int64
}

// MaxRevenue is the largest daily revenue in the series: the chart's scale.
func (d Dashboard) MaxRevenue() int64 {
	var m int64
	for _, f := range d.Days {
		m = max(m, f.RevenueCents)
	}
	return m
}

// Dashboard returns the dashboard's figures in two statements, each an index scan
// whatever the number of orders: the per-day sums over ChartDays days (from which the
// today and 7-day figures are added up) and the count of paid orders.
func (o *Orders) Dashboard(ctx context.Context) (Dashboard, error) {
	loc := o.cfg.Location
	today := startOfDay(o.cfg.Now(), loc)
	since := today.AddDate(0, 0, 1-ChartDays)
	d := Dashboard{Currency: o.cfg.Currency, Days: make([]DayFigures, ChartDays)}
	index := make(map[string]int, ChartDays)
	for i := range d.Days {
		day := since.AddDate(0, 0, i)
		d.Days[i].Day = day
		index[day.Format(dateLayout)] = i
	}
	var rows []db.DailyOrderFiguresRow
	err := o.st.Replica(ctx, func(q *db.Queries) (err error) {
		rows, err = q.DailyOrderFigures(ctx, db.DailyOrderFiguresParams{
			Tz: loc.String(), Since: since, Until: today.AddDate(0, 0, 1),
		})
		if err != nil {
			return err
		}
		d.AwaitingFulfilment, err = q.CountOrdersWithStatus(ctx, StatusPaid)
		return err
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	for _, r := range rows {
		i, ok := index[r.Day.In(loc).Format(dateLayout)]
		if !ok {
			continue
		}
		d.Days[i].Orders, d.Days[i].RevenueCents = r.Orders, r.RevenueCents
	}
	for i, f := range d.Days {
		if i >= ChartDays-7 {
			d.Orders7Days += f.Orders
			d.Revenue7Days += f.RevenueCents
		}
	}
	last := d.Days[ChartDays-1]
	d.OrdersToday, d.RevenueToday = last.Orders, last.RevenueCents
	return d, nil
}
