package exam

import (
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// The screening rules: what a measurement means. They live here, in one
// place, and the commands store their result with the measurement, so
// that the record and its statistics say what the rules said that day.

// AgeMonths returns the completed months between birth (YYYY-MM-DD) and
// day (YYYY-MM-DD), or false when either does not parse or day is before
// birth.
func AgeMonths(birth, day string) (int, bool) {
	b, err1 := time.Parse(time.DateOnly, birth)
	d, err2 := time.Parse(time.DateOnly, day)
	if err1 != nil || err2 != nil || d.Before(b) {
		return 0, false
	}
	m := (d.Year()-b.Year())*12 + int(d.Month()) - int(b.Month())
	if d.Day() < b.Day() {
		m--
	}
	return m, true
}

// Vision limits (decimal acuity): the school-entry exam refers a child
// whose weaker eye sees less than VisionBorderline, and notes one below
// VisionNormal.
const (
	VisionNormal     = 0.8
	VisionBorderline = 0.63
)

// VisionFinding judges the vision screening: the weaker eye's acuity with
// glasses when worn, otherwise without.
func VisionFinding(v Vision) string {
	acuity := func(e Eye) *float64 {
		if v.Glasses && e.With != nil {
			return e.With
		}
		return e.Without
	}
	r, l := acuity(v.Right), acuity(v.Left)
	if r == nil || l == nil {
		return FindingNotTested
	}
	worst := min(*r, *l)
	switch {
	case worst < VisionBorderline:
		return FindingAbnormal
	case worst < VisionNormal:
		return FindingBorderline
	case v.Glasses:
		return FindingTreated
	}
	return FindingNormal
}

// HearingFrequencies are the frequencies of the screening audiometry (Hz).
var HearingFrequencies = []int{500, 1000, 2000, 4000, 6000}

// Hearing limits (dB HL): heard at HearingPass at every frequency is
// normal; one frequency up to HearingBorderline is borderline; anything
// more is abnormal.
const (
	HearingPass       = 20
	HearingBorderline = 30
)

// HearingFinding judges the screening audiometry.
func HearingFinding(h Hearing) string {
	if len(h.Right) == 0 || len(h.Left) == 0 {
		return FindingNotTested
	}
	over, worst := 0, 0
	for _, ear := range []map[int]int{h.Right, h.Left} {
		for _, db := range ear {
			if db > HearingPass {
				over++
			}
			worst = max(worst, db)
		}
	}
	switch {
	case worst > HearingBorderline || over > 1:
		if h.Aid {
			return FindingTreated
		}
		return FindingAbnormal
	case over == 1:
		return FindingBorderline
	case h.Aid:
		return FindingTreated
	}
	return FindingNormal
}

// SOPESSDomain is how a domain is scored: Items items, each 0 to MaxItem
// points; a sum of at least Normal is unauffällig, at least Borderline
// grenzwertig, less auffällig.
type SOPESSDomain struct {
	Items, MaxItem     int
	Normal, Borderline int
}

// DefaultSOPESS are the items and limits per domain. The item counts
// follow the SOPESS manual's tasks (LIGA.NRW, 2009); the limits are the
// health office's to set from the manual's norm tables for the cohort
// (appliance -sopess-limits, ReadSOPESSLimits): the values here are the
// demo's and must be replaced by the manual's before the first exam day.
var DefaultSOPESS = map[string]SOPESSDomain{
	DomainAttention:    {Items: 1, MaxItem: 20, Normal: 12, Borderline: 9},
	DomainNumbers:      {Items: 6, MaxItem: 1, Normal: 5, Borderline: 4},
	DomainVisuomotor:   {Items: 6, MaxItem: 2, Normal: 8, Borderline: 6},
	DomainVisualReason: {Items: 6, MaxItem: 1, Normal: 4, Borderline: 3},
	DomainCoordination: {Items: 2, MaxItem: 30, Normal: 30, Borderline: 22},
	DomainLanguage:     {Items: 10, MaxItem: 1, Normal: 7, Borderline: 5},
	DomainArticulation: {Items: 1, MaxItem: 2, Normal: 2, Borderline: 1},
}

// sopess holds the health office's limits once UseSOPESSLimits set them.
var sopess atomic.Pointer[map[string]SOPESSDomain]

// SOPESSDomains returns the domains' items and limits in use: the health
// office's (UseSOPESSLimits), else DefaultSOPESS.
func SOPESSDomains() map[string]SOPESSDomain {
	if m := sopess.Load(); m != nil {
		return *m
	}
	return DefaultSOPESS
}

// UseSOPESSLimits makes the site score SOPESS by m (ReadSOPESSLimits).
func UseSOPESSLimits(m map[string]SOPESSDomain) { sopess.Store(&m) }

// ReadSOPESSLimits reads the health office's SOPESS limits from the
// manual's norm tables, as JSON: every domain by name with its "normal"
// (the least sum that is unauffällig) and "borderline" (the least that is
// grenzwertig), {"zahlen_mengen": {"normal": 5, "borderline": 4}, …}.
// The item counts stay the manual's. An error names what is wrong.
func ReadSOPESSLimits(r io.Reader) (map[string]SOPESSDomain, error) {
	var in map[string]struct {
		Normal     *int `json:"normal"`
		Borderline *int `json:"borderline"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("SOPESS limits: not the expected JSON: %v", err)
	}
	out := make(map[string]SOPESSDomain, len(DefaultSOPESS))
	for _, name := range Domains {
		l, ok := in[name]
		if !ok {
			return nil, fmt.Errorf("SOPESS limits: domain %q missing", name)
		}
		d := DefaultSOPESS[name]
		if l.Normal == nil || l.Borderline == nil {
			return nil, fmt.Errorf("SOPESS limits: %s needs normal and borderline", name)
		}
		d.Normal, d.Borderline = *l.Normal, *l.Borderline
		if max := d.Items * d.MaxItem; d.Borderline < 0 || d.Borderline > d.Normal || d.Normal > max {
			return nil, fmt.Errorf("SOPESS limits: %s wants 0 ≤ borderline (%d) ≤ normal (%d) ≤ %d points", name, d.Borderline, d.Normal, max)
		}
		out[name] = d
	}
	for name := range in {
		if _, ok := DefaultSOPESS[name]; !ok {
			return nil, fmt.Errorf("SOPESS limits: unknown domain %q", name)
		}
	}
	return out, nil
}

// ScoreDomain sums a domain's items and judges them.
func ScoreDomain(domain string, items []int) (DomainScore, error) {
	d, ok := SOPESSDomains()[domain]
	if !ok {
		return DomainScore{}, fmt.Errorf("unbekannter Bereich / unknown domain")
	}
	if len(items) != d.Items {
		return DomainScore{}, fmt.Errorf("%d Aufgaben erwartet / %d items expected", d.Items, d.Items)
	}
	sum := 0
	for _, p := range items {
		if p < 0 || p > d.MaxItem {
			return DomainScore{}, fmt.Errorf("je Aufgabe 0–%d Punkte / points per item 0–%d", d.MaxItem, d.MaxItem)
		}
		sum += p
	}
	f := FindingAbnormal
	switch {
	case sum >= d.Normal:
		f = FindingNormal
	case sum >= d.Borderline:
		f = FindingBorderline
	}
	return DomainScore{Items: append([]int(nil), items...), Points: sum, Finding: f}, nil
}

// requiredDoses is the STIKO basic immunisation (Grundimmunisierung) a
// child of at least 24 months must have had, per antigen: the 2+1 schedule
// of the six-fold vaccine and of pneumococci (at 2, 4 and 11 months; STIKO
// since 2020), two doses against measles, mumps, rubella and varicella (11
// and 15 months) and one against meningococcus C (12 months). Younger
// children are held to the doses due by their age.
var requiredDoses = map[string][]struct{ fromMonths, doses int }{
	VaccineDiphtheria:  {{2, 1}, {4, 2}, {11, 3}},
	VaccineTetanus:     {{2, 1}, {4, 2}, {11, 3}},
	VaccinePertussis:   {{2, 1}, {4, 2}, {11, 3}},
	VaccinePolio:       {{2, 1}, {4, 2}, {11, 3}},
	VaccineHib:         {{2, 1}, {4, 2}, {11, 3}},
	VaccineHepatitisB:  {{2, 1}, {4, 2}, {11, 3}},
	VaccinePneumococci: {{2, 1}, {4, 2}, {11, 3}},
	VaccineMeasles:     {{11, 1}, {15, 2}},
	VaccineMumps:       {{11, 1}, {15, 2}},
	VaccineRubella:     {{11, 1}, {15, 2}},
	VaccineVaricella:   {{11, 1}, {15, 2}},
	VaccineMeningoC:    {{12, 1}},
}

// RequiredDoses returns the doses of antigen due by ageMonths.
func RequiredDoses(antigen string, ageMonths int) int {
	n := 0
	for _, step := range requiredDoses[antigen] {
		if ageMonths >= step.fromMonths {
			n = step.doses
		}
	}
	return n
}

// MeaslesDoses is what the Masernschutzgesetz (§ 20 Abs. 8 IfSG) requires
// of a child over two before school: two doses, or proof of immunity.
const MeaslesDoses = 2

// judgeVaccination fills in what follows from the doses.
func judgeVaccination(v *Vaccination) {
	v.Complete = map[string]bool{}
	for _, a := range Vaccines {
		v.Complete[a] = v.Shown && v.Doses[a] >= RequiredDoses(a, v.AgeMonths)
	}
	v.MeaslesProof = v.MeaslesImmunity || (v.Shown && v.Doses[VaccineMeasles] >= MeaslesDoses)
}
