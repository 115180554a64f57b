package exam

import (
	"cmp"
	"context"
	"slices"

	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// AuditSchoolList is the audit action of the list for the school office.
const AuditSchoolList = "school_list"

// SchoolLine is a signed-off child on the list for the school office:
// who, in which school district, and what the school may know (the
// doctor's recommendation and the support needs), nothing of the
// findings, the measurements or the parents' answers.
type SchoolLine struct {
	ID             string
	District       string
	FamilyName     string
	GivenNames     string
	BirthDate      string // YYYY-MM-DD
	Recommendation string // Recommend*
	Support        []string
	Date           string // the sign-off's day, YYYY-MM-DD
}

// SchoolList returns the signed-off exams of the school year year (0:
// every year) in district ("": every district), by district, family
// name, given names and birth date.
func SchoolList(ctx context.Context, q workflow.Querier, year int, district string) ([]SchoolLine, error) {
	rows, err := q.QueryContext(ctx, `SELECT record FROM exams WHERE record IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SchoolLine{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var r Record
		if err := changelog.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		if r.Status != StatusSignedOff || r.SignOff == nil || (year != 0 && r.Year != year) || (district != "" && r.District != district) {
			continue
		}
		out = append(out, SchoolLine{ID: r.ID, District: r.District, FamilyName: r.Person.FamilyName, GivenNames: r.Person.GivenNames,
			BirthDate: r.Person.BirthDate, Recommendation: r.SignOff.Recommendation, Support: slices.Clone(r.SignOff.Support), Date: r.SignOff.Date})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b SchoolLine) int {
		return cmp.Or(cmp.Compare(a.District, b.District), cmp.Compare(a.FamilyName, b.FamilyName),
			cmp.Compare(a.GivenNames, b.GivenNames), cmp.Compare(a.BirthDate, b.BirthDate), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
