package central

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

// The school-entry cohort (issue 12): the health office imports the
// year's children from the register (cohort_csv.go); each is assigned to
// a school-health site by school district, sealed to that site's box key
// and sent down as exam.child_assigned in the same transaction that
// records it. Central keeps no personal data of a child at rest: only its
// pseudonym (an HMAC of the normalised name and birth date under
// central's secret, so that a re-import finds it again), the school year,
// district, site, sex, import time, the hash of its booking code and a
// keyed MAC of what was sent (so that an unchanged re-import sends
// nothing). The names, birth dates and addresses exist in clear only in
// the request that imports them (and the letters made from it).
//
// Moving children to another site: change the district's site on the
// admin page and import the register again; the children of the district
// are sent to the new site, and the old site is sent
// exam.child_unassigned in the same transaction: it drops the child's
// record, unless the child was examined there already, which it tells
// central (exam.kept: the admin page lists those children).

// ExamStore keeps the cohort and the district→site table. Every LogStore
// is one.
type ExamStore interface {
	// ExamDistricts returns the district→site table, ordered by district.
	ExamDistricts(ctx context.Context) ([]ExamDistrict, error)
	// SetExamDistrict assigns a district to a site; site "" takes the
	// district out of the table (back to the default).
	SetExamDistrict(ctx context.Context, district, site string, at time.Time) error
	// ImportCohort records the children in one transaction: a child new
	// for its year is inserted ("imported"), one whose site or sent data
	// changed is updated ("updated"); for both, Assigned is appended to
	// the child's site's outbound log in the same transaction. A child
	// with the same site and DataMAC is left as it is ("unchanged"). It
	// returns the outcome of each child, in order.
	ImportCohort(ctx context.Context, children []CohortChild, at time.Time, clock func() changelog.HLC) ([]string, error)
	// Cohort returns the children of a school year, ordered by pseudonym.
	Cohort(ctx context.Context, year int) ([]CohortChild, error)
	// CohortByCode returns the child whose booking code hashes to
	// codeHash (the newest school year's, should a code repeat);
	// ENOTFOUND when there is none.
	CohortByCode(ctx context.Context, codeHash []byte) (CohortChild, error)
}

// Outcomes of ImportCohort.
const (
	CohortImported  = "imported"
	CohortUpdated   = "updated"
	CohortUnchanged = "unchanged"
)

// ExamDistrict is a row of the district→site table.
type ExamDistrict struct {
	District  string    `json:"district"`
	Site      string    `json:"site"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CohortChild is a child of the cohort as central keeps it: no personal
// data in clear.
type CohortChild struct {
	Child    string // the pseudonym
	Year     int
	District string
	Site     string
	Sex      string
	// DataMAC is the keyed MAC of the record and site sent, CodeHash the
	// SHA-256 of the booking code.
	DataMAC, CodeHash     []byte
	ImportedAt, UpdatedAt time.Time
	Assigned              *Outgoing // the exam.child_assigned to send (not stored)
}

// cohortSecret is the name of central's secret behind the pseudonyms and
// booking codes.
const cohortSecret = "exam.cohort"

// cohortKey returns central's secret of the cohort.
func (c *Central) cohortKey(ctx context.Context) ([]byte, error) {
	return c.store.Secret(ctx, cohortSecret, 32, c.now())
}

// NormalName is a name as the pseudonym sees it: Unicode NFKC, lower
// case with the Turkish dotted and dotless i as i (a register writes
// "YILDIRIM" for "Yıldırım"), runs of white space as one space, trimmed.
func NormalName(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = strings.NewReplacer("ı", "i", "i\u0307", "i").Replace(s)
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// ChildPseudonym is the stable pseudonym of a child: the HMAC-SHA-256
// under key of the normalised family and given names and the birth date
// (YYYY-MM-DD), 128 bits in hex.
func ChildPseudonym(key []byte, family, given, birth string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "exam.child\n%s\n%s\n%s", NormalName(family), NormalName(given), birth)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// bookingAlphabet is the booking codes' (registration, appointment): no
// 0/O, 1/I/L.
const bookingAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// InvitationCode is the booking code of a child's invitation: "E" and 9
// characters of the kiosk's code alphabet, derived from the pseudonym and
// year under central's secret, so that a letter printed again carries the
// same code and central needs to keep only its hash.
func InvitationCode(key []byte, child string, year int) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "exam.code\n%d\n%s", year, child)
	sum := m.Sum(nil)
	out := []byte{'E'}
	for _, x := range sum[:9] {
		out = append(out, bookingAlphabet[int(x)%len(bookingAlphabet)])
	}
	return string(out)
}

// SchoolYear is the school year whose cohort is imported by default on
// day now: the one starting on 1 August of this year, or of next year
// once this year's has begun.
func SchoolYear(now time.Time) int {
	if now.Month() >= time.August {
		return now.Year() + 1
	}
	return now.Year()
}

// CohortBirthRange is the birth dates of a school year's cohort: children
// who turn six by 30 September of the year it starts. The earliest date
// takes in the children deferred a year (zurückgestellt), who are
// examined again.
func CohortBirthRange(year int) (earliest, latest time.Time) {
	return time.Date(year-8, time.October, 1, 0, 0, 0, 0, time.UTC), time.Date(year-6, time.September, 30, 0, 0, 0, 0, time.UTC)
}

// ExamDistricts returns the district→site table.
func (c *Central) ExamDistricts(ctx context.Context) ([]ExamDistrict, error) {
	return c.store.ExamDistricts(ctx)
}

// SetExamDistrict assigns district to site (a school-health site of the
// directory); site "" takes the district out of the table.
func (c *Central) SetExamDistrict(ctx context.Context, district, site string) error {
	district = strings.TrimSpace(district)
	f := veedel.FieldErrors{}
	if district == "" || len(district) > 100 {
		f.Add("district", "Bitte den Schulbezirk angeben (höchstens 100 Zeichen) / please give the school district (at most 100 characters)")
	}
	if site != "" {
		if d, ok := c.directorySite(site); !ok {
			if err := c.reloadDirectory(ctx); err != nil {
				return err
			}
			if d, ok = c.directorySite(site); !ok {
				f.Add("site", "Unbekannter Standort / unknown site")
			}
		} else if d.Kind != KindSchoolHealth {
			f.Add("site", "Der Standort ist kein Standort des Schulgesundheitsdienstes / the site is not a school-health site")
		}
	}
	if err := f.Err("Bitte die markierten Angaben prüfen / please check the fields marked"); err != nil {
		return err
	}
	return c.store.SetExamDistrict(ctx, district, site, c.now())
}

// SchoolHealthSites returns the directory's school-health sites, by ID.
func (c *Central) SchoolHealthSites(ctx context.Context) ([]Site, error) {
	all, err := c.Directory(ctx)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(s Site) bool { return s.Kind != KindSchoolHealth })
	slices.SortFunc(out, func(a, b Site) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// districtSites returns the site of each district (keys lower case) and
// the default site for districts not in the table: the school-health
// site when the directory has exactly one, else "".
func (c *Central) districtSites(ctx context.Context) (map[string]string, string, error) {
	rows, err := c.store.ExamDistricts(ctx)
	if err != nil {
		return nil, "", err
	}
	m := map[string]string{}
	for _, r := range rows {
		m[strings.ToLower(r.District)] = r.Site
	}
	sites, err := c.SchoolHealthSites(ctx)
	if err != nil {
		return nil, "", err
	}
	def := ""
	if len(sites) == 1 {
		def = sites[0].ID
	}
	return m, def, nil
}

// CohortRow is a row of the register as read (cohort_csv.go).
type CohortRow struct {
	Row int // the file's row, the header being row 1
	exam.Child
	Lang string // the parents' language, "" when not known
}

// RejectedRow is a row not imported and why.
type RejectedRow struct {
	Row   int    `json:"row"`
	Error string `json:"error"`
}

// CohortResult is what an import did.
type CohortResult struct {
	Year      int           `json:"year"`
	Imported  int           `json:"imported"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Rejected  []RejectedRow `json:"rejected"`
}

// Invitation is what a child's invitation letter needs: made in the
// import's request, never stored.
type Invitation struct {
	exam.Child
	Lang string
	Year int
	Code string
	Site Site
}

// ImportCohort validates the rows read from the register for school year
// year, assigns each child to its district's site, seals it to the site
// and records and sends the children in one transaction. rejected are
// the rows the reader refused already; the result lists them with the
// rows refused here, by row. The invitations are those of the children
// recorded (imported, updated or unchanged).
func (c *Central) ImportCohort(ctx context.Context, year int, rows []CohortRow, rejected []RejectedRow) (CohortResult, []Invitation, error) {
	res := CohortResult{Year: year, Rejected: append([]RejectedRow{}, rejected...)}
	key, err := c.cohortKey(ctx)
	if err != nil {
		return res, nil, err
	}
	districts, def, err := c.districtSites(ctx)
	if err != nil {
		return res, nil, err
	}
	earliest, latest := CohortBirthRange(year)
	now := c.now()
	seen := map[string]int{}
	var children []CohortChild
	var invites []Invitation
	reject := func(row int, format string, args ...any) {
		res.Rejected = append(res.Rejected, RejectedRow{Row: row, Error: fmt.Sprintf(format, args...)})
	}
	for _, r := range rows {
		birth, _ := time.Parse(time.DateOnly, r.BirthDate)
		if birth.After(latest) {
			reject(r.Row, "Das Kind wird erst nach dem 30.09.%d sechs Jahre alt und gehört nicht zum Jahrgang %d/%02d / the child turns six after 30 Sept %d and is not in the %d/%02d cohort",
				year, year, (year+1)%100, year, year, (year+1)%100)
			continue
		}
		if birth.Before(earliest) {
			reject(r.Row, "Das Kind ist am 30.09.%d schon acht Jahre alt: bitte das Geburtsdatum prüfen / the child is eight by 30 Sept %d already: please check the birth date", year, year)
			continue
		}
		child := ChildPseudonym(key, r.FamilyName, r.GivenNames, r.BirthDate)
		if first, dup := seen[child]; dup {
			reject(r.Row, "Dasselbe Kind wie in Zeile %d (Name und Geburtsdatum) / the same child as in row %d (name and birth date)", first, first)
			continue
		}
		site, ok := districts[strings.ToLower(r.SchoolDistrict)]
		if !ok {
			site = def
		}
		if site == "" {
			reject(r.Row, "Dem Schulbezirk %q ist kein Standort des Schulgesundheitsdienstes zugeordnet: bitte auf der Admin-Seite „Schuleingangsuntersuchung“ zuordnen / school district %q has no school-health site: please assign one on the admin page", r.SchoolDistrict, r.SchoolDistrict)
			continue
		}
		box, err := c.BoxKey(ctx, site)
		if veedel.ErrorCode(err) == veedel.EUNAVAILABLE {
			reject(r.Row, "Standort %q noch nicht verbunden (noch kein Schlüssel): erst nach der ersten Verbindung des Standorts importieren / site %q not yet connected (no key yet): import once the site has connected", site, site)
			continue
		} else if err != nil {
			return res, nil, err
		}
		plain, err := changelog.Marshal(&r.Child)
		if err != nil {
			return res, nil, err
		}
		sealed, err := changelog.Seal(box, exam.SealInfo(site, child), plain)
		if err != nil {
			reject(r.Row, "Standort %q hat einen ungültigen Schlüssel / site %q has an invalid key", site, site)
			continue
		}
		code := InvitationCode(key, child, year)
		codeHash := sha256.Sum256([]byte(code))
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "exam.data\n%s\n%s\n%d\n", site, r.Lang, year)
		mac.Write(plain)
		p := &exam.ChildAssigned{Child: child, Year: year, District: r.SchoolDistrict, Sealed: sealed, Lang: r.Lang, CodeHash: codeHash[:]}
		seen[child] = r.Row
		children = append(children, CohortChild{Child: child, Year: year, District: r.SchoolDistrict, Site: site, Sex: r.Sex,
			DataMAC: mac.Sum(nil), CodeHash: codeHash[:], ImportedAt: now, UpdatedAt: now,
			Assigned: &Outgoing{Type: exam.TypeChildAssigned, Entity: "exam.child/" + child, Payload: p}})
		d, _ := c.directorySite(site)
		if d.ID == "" {
			d = Site{ID: site, Name: site}
		}
		invites = append(invites, Invitation{Child: r.Child, Lang: r.Lang, Year: year, Code: code, Site: d})
	}
	slices.SortFunc(res.Rejected, func(a, b RejectedRow) int { return cmp.Compare(a.Row, b.Row) })
	if len(children) == 0 {
		return res, invites, nil
	}
	clock, err := c.outboundClock(ctx)
	if err != nil {
		return res, nil, err
	}
	outcomes, err := c.store.ImportCohort(ctx, children, now, clock)
	if err != nil {
		return res, nil, err
	}
	grew := map[string]bool{}
	for i, o := range outcomes {
		switch o {
		case CohortImported:
			res.Imported++
		case CohortUpdated:
			res.Updated++
		default:
			res.Unchanged++
			continue
		}
		grew[children[i].Site] = true
	}
	for site := range grew {
		c.outboundGrew(site)
	}
	c.log.Info("cohort imported", "year", year, "imported", res.Imported, "updated", res.Updated,
		"unchanged", res.Unchanged, "rejected", len(res.Rejected))
	return res, invites, nil
}

// Cohort returns the children of a school year (pseudonyms only).
func (c *Central) Cohort(ctx context.Context, year int) ([]CohortChild, error) {
	return c.store.Cohort(ctx, year)
}

// CohortSummary counts a year's cohort per site and district.
type CohortSummary struct {
	Site, District string
	Children       int
}

// CohortSummaries counts the cohort of year by site and district.
func (c *Central) CohortSummaries(ctx context.Context, year int) ([]CohortSummary, error) {
	kids, err := c.store.Cohort(ctx, year)
	if err != nil {
		return nil, err
	}
	n := map[[2]string]int{}
	for _, k := range kids {
		n[[2]string{k.Site, k.District}]++
	}
	out := make([]CohortSummary, 0, len(n))
	for k, v := range n {
		out = append(out, CohortSummary{Site: k[0], District: k[1], Children: v})
	}
	slices.SortFunc(out, func(a, b CohortSummary) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.District, b.District))
	})
	return out, nil
}

// ExamReport returns the statistics tables of a school year, small cells
// suppressed.
func (c *Central) ExamReport(year int) exam.StatsReport {
	if wf, ok := c.Workflow(exam.Prefix).(*exam.Central); ok {
		return wf.Report(year)
	}
	return exam.BuildStatsReport(year, nil)
}

// ExamKept returns the children of year moved to another site whose old
// site kept them, examined there already (exam.TypeKept).
func (c *Central) ExamKept(year int) []exam.KeptChild {
	if wf, ok := c.Workflow(exam.Prefix).(*exam.Central); ok {
		return wf.Kept(year)
	}
	return nil
}

// ExamYears returns the school years with statistics, newest first.
func (c *Central) ExamYears() []int {
	if wf, ok := c.Workflow(exam.Prefix).(*exam.Central); ok {
		return wf.Years()
	}
	return nil
}

// Unassigned is what the site a child leaves is sent when the child is
// assigned to c.Site (the stores' ImportCohort, in the transaction that
// records the move).
func Unassigned(c CohortChild) Outgoing {
	return Outgoing{Type: exam.TypeChildUnassigned, Entity: "exam.child/" + c.Child,
		Payload: &exam.ChildUnassigned{Child: c.Child, Year: c.Year, To: c.Site}}
}

// SameCohortData reports whether a stored child was sent the same data
// to the same site (the stores' ImportCohort).
func SameCohortData(old, nu CohortChild) bool {
	return old.Site == nu.Site && bytes.Equal(old.DataMAC, nu.DataMAC)
}

// ParseSchoolYear reads a school year ("2027"): EINVALID unless it is a
// year from 2000 to 2100.
func ParseSchoolYear(s string) (int, error) {
	y, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || y < 2000 || y > 2100 {
		return 0, veedel.Errorf(veedel.EINVALID, "Schuljahr %q ungültig: das Jahr, in dem es beginnt, z. B. 2027 für 2027/28 / school year %q invalid: the year it starts, e.g. 2027 for 2027/28", s, s)
	}
	return y, nil
}

// codePattern is an invitation code as InvitationCode makes it.
var codePattern = regexp.MustCompile(`^E[` + bookingAlphabet + `]{9}$`)

// Invitation finds the child of an invitation code as the parents type
// it (case, spaces and dashes do not matter): the start of their booking
// at the portal. ENOTFOUND for a code that is not one of the cohort's,
// with the same message whether it is malformed or unknown.
func (c *Central) Invitation(ctx context.Context, code string) (CohortChild, error) {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(code)))
	notFound := veedel.Errorf(veedel.ENOTFOUND, "Diesen Buchungscode gibt es nicht: bitte mit dem Einladungsschreiben vergleichen / there is no such booking code: please compare it with the invitation letter")
	if !codePattern.MatchString(code) {
		return CohortChild{}, notFound
	}
	h := sha256.Sum256([]byte(code))
	child, err := c.store.CohortByCode(ctx, h[:])
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		return CohortChild{}, notFound
	}
	return child, err
}

// SubmitQuestionnaire takes the parents' answers for the child of an
// invitation code: validated, sealed to the child's site at once and sent
// down in one step; central keeps nothing of them.
func (c *Central) SubmitQuestionnaire(ctx context.Context, code, lang string, a exam.ParentsAnswers) (CohortChild, error) {
	child, err := c.Invitation(ctx, code)
	if err != nil {
		return child, err
	}
	if err := a.Validate(); err != nil {
		return child, err
	}
	box, err := c.BoxKey(ctx, child.Site)
	if err != nil {
		return child, err
	}
	plain, err := changelog.Marshal(&a)
	if err != nil {
		return child, err
	}
	sealed, err := changelog.Seal(box, exam.QuestionnaireInfo(child.Site, child.Child), plain)
	if err != nil {
		return child, veedel.Errorf(veedel.EUNAVAILABLE, "Der Standort nimmt gerade nichts an / the site takes nothing right now")
	}
	now := c.now()
	p := &exam.ParentsQuestionnaire{Child: child.Child, Year: child.Year, Sealed: sealed, Submitted: now.UnixMilli(), Lang: lang}
	if err := c.SendToSite(ctx, child.Site, queue.Event{Type: exam.TypeParentsQuestionnaire, Entity: "exam.child/" + child.Child, At: now, Payload: p}); err != nil {
		return child, err
	}
	c.log.Info("parents' questionnaire sent", "site", child.Site, "year", child.Year)
	return child, nil
}
