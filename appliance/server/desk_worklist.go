package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/veedel/veedel/ui"
)

// A worklist is a desk page's list of a workflow's cases (/desk/orders,
// /desk/vehicle): a GET form of filters, each a choice among fixed
// options (a value not offered is marked at its field and answered with
// 400), and the cases the filters select, the oldest first, at most
// Limit of them with a note when there are more. The partial "worklist"
// (ui/templates/_worklist.html) shows it; the page defines
// "worklist_head" (the table's column headers) and "worklist_rows" (its
// rows, from .Data.List.Rows). A new workflow's worklist is a worklist
// value, a find function and those two templates.
type worklist[R any] struct {
	// ID prefixes the ids of the form ("-filter"), the count ("-count")
	// and the note of an empty list ("-none"); Table is the table's id.
	ID, Table string
	Action    string // the page's path, the form's action
	// Caption, Count and None are locale keys: the table's caption, the
	// count line (with the number of rows), the empty list's note.
	Caption, Count, None string
	Filters              []worklistFilter
	// FilterError is the first filter's fault, shown at the select
	// FilterField names.
	FilterError, FilterField string
	Rows                     []R
	Limited                  bool
	Limit                    int
}

// worklistFilter is one select of a worklist's form.
type worklistFilter struct {
	Name    string // the query parameter; the select's id is "filter-"+Name
	Label   string // locale key
	Default string // the value when the parameter is absent, and after a fault
	Value   string
	Options []worklistOption
}

// worklistOption is one choice of a filter; Label is a locale key.
type worklistOption struct{ Value, Label string }

// filterOptions returns the fixed choices first, then one per value,
// labelled prefix+value.
func filterOptions(prefix string, values []string, first ...worklistOption) []worklistOption {
	out := slices.Clone(first)
	for _, v := range values {
		out = append(out, worklistOption{Value: v, Label: prefix + v})
	}
	return out
}

// Value returns the chosen value of the filter name ("" for none such).
func (l *worklist[R]) Value(name string) string {
	for _, f := range l.Filters {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// readFilters sets each filter's value from q. The first value that is
// not one of its filter's options is the fault (in lang), and that filter
// falls back to its default; readFilters reports whether all were good.
func (l *worklist[R]) readFilters(lang string, q url.Values) bool {
	for i := range l.Filters {
		f := &l.Filters[i]
		f.Value = f.Default
		if _, ok := q[f.Name]; ok {
			f.Value = q.Get(f.Name)
		}
		offered := slices.ContainsFunc(f.Options, func(o worklistOption) bool { return o.Value == f.Value })
		if !offered && l.FilterError == "" {
			l.FilterError, l.FilterField, f.Value = ui.Translate(lang, "orders.filter.bad"), f.Name, f.Default
		}
	}
	return l.FilterError == ""
}

// loadWorklist fills l for request r: the filters from the query, then
// (when they are good) the first l.Limit cases find returns when asked
// for one more than that, each made a row. It returns the page's HTTP
// status: 400 for a filter at fault.
func loadWorklist[T, R any](r *http.Request, lang string, l *worklist[R], find func(ctx context.Context, limit int) ([]T, error), row func(T) R) (int, error) {
	if !l.readFilters(lang, r.URL.Query()) {
		return http.StatusBadRequest, nil
	}
	items, err := find(r.Context(), l.Limit+1)
	if err != nil {
		return 0, err
	}
	if len(items) > l.Limit {
		items, l.Limited = items[:l.Limit], true
	}
	for _, it := range items {
		l.Rows = append(l.Rows, row(it))
	}
	return http.StatusOK, nil
}
