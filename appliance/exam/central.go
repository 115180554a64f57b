package exam

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/workflow"
)

// Central's side of the exam workflow: the read model of the signed-off
// exams' pseudonymised records (exam.statistics, from the sites' logs),
// folded into the yearly tables of the school-entry report. It holds no
// personal data: Statistics has none by construction. What central sent
// down (exam.child_assigned) is known to the cohort (central/cohort.go),
// not here.

// Central is the statistics read model; safe for concurrent use.
type Central struct {
	mu    sync.RWMutex
	exams map[string]centralExam // by Statistics.Exam
	kept  map[string]KeptChild   // by child: moved away, examined already
}

// KeptChild is a child the cohort moved to another site whose old site
// kept it, because the child was examined there already (TypeKept).
type KeptChild struct {
	Child  string    // the pseudonym
	Year   int       // the school year
	Site   string    // the site that kept it
	To     string    // the site the cohort moved it to
	Status string    // how far the exam got (Status*)
	At     time.Time // when the site answered
}

type centralExam struct {
	site string
	at   time.Time
	Statistics
}

// NewCentral returns an empty read model. workflows.Central registers it.
func NewCentral() *Central {
	return &Central{exams: map[string]centralExam{}, kept: map[string]KeptChild{}}
}

// Prefix is the workflow's prefix.
func (c *Central) Prefix() string { return Prefix }

// NewPayload is the workflow's NewPayload: central decodes the site's
// sealed types as Sealed and reads only ChildAssigned, Statistics and
// ParentsQuestionnaire.
func (c *Central) NewPayload(t string) (any, bool) { return NewPayload(t) }

// Sent folds what central sent down: nothing to count (the cohort's table
// at central keeps the assignment).
func (c *Central) Sent(string, workflow.Event) {}

// FromSite folds a site's statistics record; one signed off again (the
// same Exam id) replaces the earlier one, so that a child is counted once.
func (c *Central) FromSite(site string, e workflow.Event) {
	if l, ok := e.Payload.(*ChildLeft); ok {
		c.left(site, e, l)
		return
	}
	p, ok := e.Payload.(*Statistics)
	if !ok || p.Exam == "" || p.Year == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exams[p.Exam] = centralExam{site: site, at: e.At, Statistics: *p}
}

// left folds a site's answer to a move: a kept child is listed until the
// site drops it after all (or it is moved back there).
func (c *Central) left(site string, e workflow.Event, l *ChildLeft) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Type {
	case TypeKept:
		c.kept[l.Child] = KeptChild{Child: l.Child, Year: l.Year, Site: site, To: l.To, Status: l.Status, At: e.At}
	case TypeDropped:
		if k, ok := c.kept[l.Child]; ok && k.Site == site {
			delete(c.kept, l.Child)
		}
	}
}

// Kept returns the children of year that stayed at their old site,
// examined there already, by pseudonym.
func (c *Central) Kept(year int) []KeptChild {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []KeptChild
	for _, k := range c.kept {
		if k.Year == year {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b KeptChild) int { return strings.Compare(a.Child, b.Child) })
	return out
}

// Years returns the school years with at least one record, newest first.
func (c *Central) Years() []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []int
	for _, e := range c.exams {
		if !slices.Contains(out, e.Year) {
			out = append(out, e.Year)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// Records returns the records of year (tests, and the report below).
func (c *Central) Records(year int) []Statistics {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Statistics
	for _, e := range c.exams {
		if e.Year == year {
			out = append(out, e.Statistics)
		}
	}
	slices.SortFunc(out, func(a, b Statistics) int {
		if a.Exam < b.Exam {
			return -1
		} else if a.Exam > b.Exam {
			return 1
		}
		return 0
	})
	return out
}

// Report returns year's tables with small cells suppressed.
func (c *Central) Report(year int) StatsReport { return BuildStatsReport(year, c.Records(year)) }
