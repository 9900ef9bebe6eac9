package admin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/orders"
)

// The revenue chart is drawn here as SVG geometry and written by the dashboard
// template: no chart library, no script, no inline style (its colours come from
// app.css through classes). Coordinates are display geometry only; the amounts in
// its labels come from integer cents through money.format.

// The chart's box, in SVG user units (it scales to its container).
const (
	chartWidth  = 960
	chartHeight = 240
	chartLeft   = 72 // room for the amount labels
	chartRight  = 8
	chartTop    = 12
	chartBottom = 28 // room for the day labels
	chartLines  = 4  // grid lines above zero
)

// chartView is the 30-day revenue chart, ready to draw.
type chartView struct {
	Width, Height int
	Title, Desc   string
	Bars          []chartBar
	Grid          []chartLine
	Days          []chartLabel
	Left, Right   int // the plot's x extent, for the grid lines
	Baseline      int
}

// chartBar is one day's bar; Label is its tooltip and what a screen reader reads.
type chartBar struct {
	X, Y, W, H string
	Label      string
}

// chartLine is a horizontal grid line with its amount.
type chartLine struct {
	Y     int
	Label string
}

// chartLabel is a day written under the bars.
type chartLabel struct {
	X     string
	Label string
}

// revenueChart lays out d's daily revenue as bars over a scale of round amounts.
func (s *Server) revenueChart(d orders.Dashboard) chartView {
	c := chartView{Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartWidth - chartRight,
		Baseline: chartHeight - chartBottom}
	step := niceStep(d.MaxRevenue(), s.money.decimals)
	top := step * chartLines
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	for i := 0; i <= chartLines; i++ {
		c.Grid = append(c.Grid, chartLine{Y: c.Baseline - int(float64(i)*plotH/chartLines+0.5),
			Label: s.wholeAmount(step * int64(i))})
	}
	slot := plotW / float64(len(d.Days))
	var total int64
	best := 0
	for i, day := range d.Days {
		h := float64(day.RevenueCents) / float64(top) * plotH
		x := float64(chartLeft) + float64(i)*slot + slot*0.15
		c.Bars = append(c.Bars, chartBar{X: coord(x), Y: coord(float64(c.Baseline) - h), W: coord(slot * 0.7), H: coord(h),
			Label: fmt.Sprintf("%s: %s %s, %s", day.Day.Format("Mon 2 Jan"), s.money.format(day.RevenueCents), s.money.code,
				plural(int(day.Orders), "order", "orders"))})
		if (len(d.Days)-1-i)%7 == 0 {
			c.Days = append(c.Days, chartLabel{X: coord(x + slot*0.35), Label: day.Day.Format("2 Jan")})
		}
		total += day.RevenueCents
		if day.RevenueCents > d.Days[best].RevenueCents {
			best = i
		}
	}
	first, last := d.Days[0].Day, d.Days[len(d.Days)-1].Day
	c.Title = fmt.Sprintf("Revenue per day, last %d days", len(d.Days))
	c.Desc = fmt.Sprintf("Daily revenue of paid, fulfilled and delivered orders from %s to %s: %s %s in all",
		first.Format("2 January"), last.Format("2 January 2006"), s.money.format(total), s.money.code)
	if total > 0 {
		c.Desc += fmt.Sprintf("; the best day was %s with %s %s", d.Days[best].Day.Format("2 January"),
			s.money.format(d.Days[best].RevenueCents), s.money.code)
	}
	c.Desc += ". The same figures are in the table below."
	return c
}

// niceStep is the grid step, in cents, for a chart whose highest bar is max: a
// round number of major units (1, 2 or 5 times a power of ten), so that four steps
// reach at least max.
func niceStep(max int64, decimals int) int64 {
	unit := int64(1)
	for range decimals {
		unit *= 10
	}
	raw := (max + chartLines - 1) / chartLines
	mag := unit
	for mag*10 <= raw {
		mag *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// wholeAmount writes a grid amount in major units without the decimals: the steps
// are whole units.
func (s *Server) wholeAmount(cents int64) string {
	whole, _, _ := strings.Cut(s.money.format(cents), ".")
	return whole
}

// coord writes an SVG coordinate with one decimal.
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
