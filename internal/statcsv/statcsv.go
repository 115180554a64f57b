// Package statcsv formats a site's day statistics (queue.DayStats) for the
// desk and admin tables and writes them as CSV,
// the same format on the appliance and at central, made for a German
// spreadsheet: UTF-8 with a byte-order mark (so Excel shows ä ö ü ß right),
// semicolons between fields (Excel's list separator in German locales,
// where the comma is the decimal mark), decimal commas, CRLF line ends,
// and fields quoted per RFC 4180 when they hold a semicolon, a quote or a
// line break.
package statcsv

import (
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/veedel/veedel/appliance/queue"
)

// BOM is the UTF-8 byte-order mark every file starts with.
const BOM = "\uFEFF"

// Header is the first line's fields.
var Header = []string{"Standort", "Tag", "Stunde", "Ankünfte", "Aufgerufen",
	"Wartezeit Mittel (Min.)", "Wartezeit P90 (Min.)", "Bedient",
	"Bearbeitungszeit Mittel (Min.)", "Bearbeitungszeit P90 (Min.)", "Nicht erschienen",
	"Mit Schätzung", "Schätzfehler Mittel (Min.)", "Über P90"}

// Site is one site's day for the file.
type Site struct {
	Name string
	queue.DayStats
}

// Write writes the header and, per site, its hours and a "Gesamt" line.
func Write(w io.Writer, sites []Site) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, s := range sites {
		for _, f := range s.Hours {
			if err := cw.Write(record(s.Name, s.Day, f)); err != nil {
				return err
			}
		}
		if err := cw.Write(record(s.Name, s.Day, s.Total)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Serve writes the file as an attachment named filename.
func Serve(w http.ResponseWriter, filename string, sites []Site) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.Header().Set("Cache-Control", "no-store")
	return Write(w, sites)
}

func record(site, day string, f queue.StatFigures) []string {
	return []string{site, day, HourLabel(f.Hour), strconv.Itoa(f.Arrivals), strconv.Itoa(f.Waited),
		Decimal(f.WaitMean, ","), Decimal(f.WaitP90, ","), strconv.Itoa(f.Served),
		Decimal(f.ServiceMean, ","), Decimal(f.ServiceP90, ","), strconv.Itoa(f.NoShows),
		strconv.Itoa(f.Estimated), Decimal(f.EstimateMAE, ","), strconv.Itoa(f.OverP90)}
}

// HourLabel is "08:00–09:00" for hour 8 and "Gesamt" for the totals (-1).
func HourLabel(h int) string {
	if h < 0 {
		return "Gesamt"
	}
	return fmt.Sprintf("%02d:00–%02d:00", h, (h+1)%24)
}

// Decimal formats minutes with one decimal and the given decimal mark.
func Decimal(x float64, mark string) string {
	return strings.Replace(strconv.FormatFloat(x, 'f', 1, 64), ".", mark, 1)
}

// Row is one line of figures formatted for a page's table, with the
// page language's decimal mark.
type Row struct {
	Hour                           string
	Arrivals, Waited, Served       int
	WaitMean, WaitP90              string
	ServiceMean, ServiceP90        string
	NoShows, Estimated, OverP90    int
	EstimateMAE                    string
	HasWaits, HasServed, HasErrors bool
}

// RowOf formats figures; the totals' hour reads total.
func RowOf(f queue.StatFigures, mark, total string) Row {
	r := Row{Hour: HourLabel(f.Hour), Arrivals: f.Arrivals, Waited: f.Waited, Served: f.Served,
		WaitMean: Decimal(f.WaitMean, mark), WaitP90: Decimal(f.WaitP90, mark),
		ServiceMean: Decimal(f.ServiceMean, mark), ServiceP90: Decimal(f.ServiceP90, mark),
		NoShows: f.NoShows, Estimated: f.Estimated, OverP90: f.OverP90, EstimateMAE: Decimal(f.EstimateMAE, mark),
		HasWaits: f.Waited > 0, HasServed: f.Served > 0, HasErrors: f.Estimated > 0}
	if f.Hour < 0 {
		r.Hour = total
	}
	return r
}
