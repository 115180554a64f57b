package exam

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/workflow"
)

// Input is what exam staff record on a child's exam, in one POST or
// several: every part is optional, and a part given replaces the part
// recorded before.
type Input struct {
	HeightCM     *float64          `json:"height_cm,omitempty"`
	WeightKG     *float64          `json:"weight_kg,omitempty"`
	Device       string            `json:"device,omitempty"` // "seca" when the scale sent the figures
	Vision       *VisionInput      `json:"vision,omitempty"`
	Hearing      *HearingInput     `json:"hearing,omitempty"`
	SOPESS       map[string][]int  `json:"sopess,omitempty"`
	Vaccinations *VaccinationInput `json:"vaccinations,omitempty"`
	Findings     *[]Note           `json:"findings,omitempty"`
}

// VisionInput is the vision screening as typed.
type VisionInput struct {
	Right   Eye  `json:"right"`
	Left    Eye  `json:"left"`
	Glasses bool `json:"glasses"`
}

// HearingInput is the screening audiometry: dB HL by frequency per ear.
type HearingInput struct {
	Right      map[string]int `json:"right"`
	Left       map[string]int `json:"left"`
	HearingAid bool           `json:"hearing_aid"`
}

// VaccinationInput is what the Impfpass shows.
type VaccinationInput struct {
	Shown           bool           `json:"impfpass_shown"`
	Doses           map[string]int `json:"doses"`
	MeaslesImmunity bool           `json:"measles_immunity"`
}

// Plausible ranges.
const (
	MinHeightCM, MaxHeightCM = 80.0, 160.0
	MinWeightKG, MaxWeightKG = 8.0, 80.0
	MinAcuity, MaxAcuity     = 0.05, 2.0
	MinHearingDB, MaxHearing = -10, 100
	MaxDoses                 = 6
	MaxNote                  = 2000
	MaxFindings              = 20
	MaxReferrals             = 10
	MaxReferral              = 200
)

// Roles as the commands know them (appliance/sqlite's names).
const (
	RoleDoctor    = "doctor"
	RoleAssistant = "assistant"
)

// Command is who records what, when: the site's day (YYYY-MM-DD) is the
// date the record is made on.
type Command struct {
	Env   workflow.Env
	At    time.Time
	Day   string
	Staff string
	Role  string
}

// open returns the record an exam staff command changes.
func (c Command) open(ctx context.Context, q workflow.Querier, id string) (*Record, error) {
	if c.Role != RoleDoctor && c.Role != RoleAssistant {
		return nil, veedel.Errorf(veedel.EFORBIDDEN, "Nur Ärztin/Arzt und Assistenz / exam staff only")
	}
	r, err := loadRecord(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "Die Untersuchung wurde nach Ablauf der Aufbewahrung gelöscht / the exam was erased")
	}
	return r, nil
}

// Record decides what recording in changes on exam id.
func (c Command) Record(ctx context.Context, q workflow.Querier, id string, in Input) ([]workflow.Event, error) {
	r, err := c.open(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if r.Status == StatusSignedOff && c.Role != RoleDoctor {
		return nil, veedel.Errorf(veedel.EFORBIDDEN, "Die Untersuchung ist abgezeichnet: nur die Ärztin/der Arzt kann sie ändern / signed off: only the doctor can change it")
	}
	age, ageOK := AgeMonths(r.Person.BirthDate, c.Day)
	fe := veedel.FieldErrors{}
	var payloads []struct {
		t string
		p any
	}
	add := func(t string, p any) {
		payloads = append(payloads, struct {
			t string
			p any
		}{t, p})
	}
	// Height and weight.
	switch {
	case in.HeightCM == nil && in.WeightKG == nil:
	case in.HeightCM == nil:
		fe.Add("height_cm", "Größe fehlt / height missing")
	case in.WeightKG == nil:
		fe.Add("weight_kg", "Gewicht fehlt / weight missing")
	default:
		h, w := *in.HeightCM, *in.WeightKG
		if math.IsNaN(h) || h < MinHeightCM || h > MaxHeightCM {
			fe.Add("height_cm", fmt.Sprintf("Größe %g–%g cm / height %g–%g cm", MinHeightCM, MaxHeightCM, MinHeightCM, MaxHeightCM))
		}
		if math.IsNaN(w) || w < MinWeightKG || w > MaxWeightKG {
			fe.Add("weight_kg", fmt.Sprintf("Gewicht %g–%g kg / weight %g–%g kg", MinWeightKG, MaxWeightKG, MinWeightKG, MaxWeightKG))
		}
		if in.Device != "" && in.Device != "seca" {
			fe.Add("device", "Unbekanntes Gerät / unknown device")
		}
		if len(fe) == 0 {
			m := Measurement{HeightCM: math.Round(h*10) / 10, WeightKG: math.Round(w*10) / 10, Device: in.Device, Date: c.Day, Staff: c.Staff}
			m.BMI = BMI(m.HeightCM, m.WeightKG)
			if ageOK {
				m.AgeMonths = age
				m.Percentile, _ = BMIPercentile(m.BMI, r.Person.Sex, age)
				m.BMIClass = BMIClassOf(m.BMI, r.Person.Sex, age)
			}
			add(TypeMeasured, &Measured{Measurement: m})
		}
	}
	if v := in.Vision; v != nil {
		for side, e := range map[string]Eye{"right": v.Right, "left": v.Left} {
			for kind, a := range map[string]*float64{"without": e.Without, "with": e.With} {
				if a != nil && (math.IsNaN(*a) || *a < MinAcuity || *a > MaxAcuity) {
					fe.Add("vision."+side+"."+kind, fmt.Sprintf("Visus %g–%g", MinAcuity, MaxAcuity))
				}
			}
			if e.Without == nil && e.With == nil {
				fe.Add("vision."+side, "Visus fehlt / acuity missing")
			}
		}
		vis := Vision{Right: v.Right, Left: v.Left, Glasses: v.Glasses, Date: c.Day, Staff: c.Staff}
		vis.Finding = VisionFinding(vis)
		add(TypeVision, &VisionTested{Vision: vis})
	}
	if h := in.Hearing; h != nil {
		ears := map[string]map[int]int{}
		for side, ear := range map[string]map[string]int{"right": h.Right, "left": h.Left} {
			if len(ear) == 0 {
				fe.Add("hearing."+side, "Keine Werte / no thresholds")
				continue
			}
			ears[side] = map[int]int{}
			for f, db := range ear {
				hz, err := strconv.Atoi(f)
				if err != nil || !slices.Contains(HearingFrequencies, hz) {
					fe.Add("hearing."+side+"."+f, "Frequenz nicht im Screening / frequency not screened")
					continue
				}
				if db < MinHearingDB || db > MaxHearing {
					fe.Add("hearing."+side+"."+f, fmt.Sprintf("%d–%d dB", MinHearingDB, MaxHearing))
					continue
				}
				ears[side][hz] = db
			}
		}
		hr := Hearing{Right: ears["right"], Left: ears["left"], Aid: h.HearingAid, Date: c.Day, Staff: c.Staff}
		hr.Finding = HearingFinding(hr)
		add(TypeHearing, &HearingTested{Hearing: hr})
	}
	if len(in.SOPESS) > 0 {
		scores := map[string]DomainScore{}
		for d, items := range in.SOPESS {
			s, err := ScoreDomain(d, items)
			if err != nil {
				fe.Add("sopess."+d, err.Error())
				continue
			}
			scores[d] = s
		}
		add(TypeSOPESS, &SOPESSScored{Domains: scores, Staff: c.Staff, Date: c.Day})
	}
	if v := in.Vaccinations; v != nil {
		doses := map[string]int{}
		for a, n := range v.Doses {
			if !slices.Contains(Vaccines, a) {
				fe.Add("vaccinations.doses."+a, "Unbekanntes Antigen / unknown antigen")
				continue
			}
			if n < 0 || n > MaxDoses {
				fe.Add("vaccinations.doses."+a, fmt.Sprintf("0–%d Dosen / doses", MaxDoses))
				continue
			}
			if n > 0 {
				doses[a] = n
			}
		}
		if !v.Shown && len(doses) > 0 {
			fe.Add("vaccinations.impfpass_shown", "Dosen nur aus dem vorgelegten Impfpass / doses only from an Impfpass shown")
		}
		if !ageOK {
			fe.Add("vaccinations", "Geburtsdatum fehlt: Impfstatus nicht beurteilbar / birth date missing")
		}
		vac := Vaccination{Shown: v.Shown, Doses: doses, MeaslesImmunity: v.MeaslesImmunity, AgeMonths: age, Date: c.Day, Staff: c.Staff}
		judgeVaccination(&vac)
		add(TypeVaccinations, &VaccinationsRecorded{Vaccination: vac})
	}
	if in.Findings != nil {
		notes := *in.Findings
		if c.Role != RoleDoctor {
			fe.Add("findings", "Befunde trägt die Ärztin/der Arzt ein / findings are the doctor's")
		}
		if len(notes) > MaxFindings {
			fe.Add("findings", fmt.Sprintf("Höchstens %d / at most %d", MaxFindings, MaxFindings))
		}
		for i, n := range notes {
			path := fmt.Sprintf("findings.%d", i)
			if !slices.Contains(Areas, n.Area) {
				fe.Add(path+".area", "Unbekannter Bereich / unknown area")
			}
			checkText(fe, path+".text", n.Text, MaxNote, true)
		}
		add(TypeFindings, &FindingsRecorded{Findings: notes, Staff: c.Staff, Date: c.Day})
	}
	if err := fe.Err("Bitte die markierten Angaben prüfen / please check the marked fields"); err != nil {
		return nil, err
	}
	if len(payloads) == 0 {
		return nil, veedel.Errorf(veedel.EINVALID, "Nichts zu erfassen / nothing to record")
	}
	s, err := newSealer(ctx, q, c.Env, c.At)
	if err != nil {
		return nil, err
	}
	var evs []workflow.Event
	for _, p := range payloads {
		ev, err := s.event(p.t, id, p.p)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	return s.events(evs...), nil
}

// checkText checks a free text field.
func checkText(fe veedel.FieldErrors, path, text string, limit int, required bool) {
	switch {
	case required && strings.TrimSpace(text) == "":
		fe.Add(path, "Pflichtangabe / required")
	case utf8.RuneCountInString(text) > limit:
		fe.Add(path, fmt.Sprintf("Höchstens %d Zeichen / at most %d characters", limit, limit))
	default:
		if r, bad := veedel.UnsafeRune(text); bad {
			de, en := veedel.DescribeRune(r)
			fe.Add(path, "Enthält "+de+" / contains "+en)
		}
	}
}

// SignOffInput is the doctor's recommendation.
type SignOffInput struct {
	Recommendation string   `json:"recommendation"`
	Support        []string `json:"support"`
	Referrals      []string `json:"referrals"`
	Note           string   `json:"note"`
}

// Recommendations and SupportNeeds list the valid values.
var (
	Recommendations = []string{RecommendReady, RecommendReadyWithAid, RecommendDeferral, RecommendSpecialNeedsAO}
	SupportNeeds    = []string{SupportLanguage, SupportMotor, SupportAttention, SupportVision, SupportHearing, SupportHealth}
)

// SignOff decides the doctor's sign-off of exam id: the sealed record and
// the pseudonymised statistics central counts (the same statistics id on
// a re-sign-off, so that central replaces the count).
func (c Command) SignOff(ctx context.Context, q workflow.Querier, id string, in SignOffInput) ([]workflow.Event, error) {
	if c.Role != RoleDoctor {
		return nil, veedel.Errorf(veedel.EFORBIDDEN, "Nur die Ärztin/der Arzt zeichnet ab / only the doctor signs off")
	}
	r, err := c.open(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if r.Status == StatusSignedOff {
		return nil, veedel.Errorf(veedel.ECONFLICT, "Schon abgezeichnet: erst etwas ändern / signed off already: change something first")
	}
	fe := veedel.FieldErrors{}
	if !slices.Contains(Recommendations, in.Recommendation) {
		fe.Add("recommendation", "Bitte eine Empfehlung wählen / choose a recommendation")
	}
	support := []string{}
	for i, s := range in.Support {
		if !slices.Contains(SupportNeeds, s) {
			fe.Add(fmt.Sprintf("support.%d", i), "Unbekannter Förderbedarf / unknown support need")
		} else if !slices.Contains(support, s) {
			support = append(support, s)
		}
	}
	slices.Sort(support)
	if in.Recommendation == RecommendReadyWithAid && len(support) == 0 {
		fe.Add("support", "Bitte den Förderbedarf angeben / name the support needed")
	}
	if len(in.Referrals) > MaxReferrals {
		fe.Add("referrals", fmt.Sprintf("Höchstens %d / at most %d", MaxReferrals, MaxReferrals))
	}
	referrals := []string{}
	for i, ref := range in.Referrals {
		checkText(fe, fmt.Sprintf("referrals.%d", i), ref, MaxReferral, true)
		referrals = append(referrals, strings.TrimSpace(ref))
	}
	checkText(fe, "note", in.Note, MaxNote, false)
	if err := fe.Err("Bitte die markierten Angaben prüfen / please check the marked fields"); err != nil {
		return nil, err
	}
	count := 1
	if r.SignOff != nil {
		count = r.SignOff.Count + 1
	}
	stats := r.Stats
	if stats == "" {
		stats = NewID()
	}
	so := SignOff{Recommendation: in.Recommendation, Support: support, Referrals: referrals, Note: strings.TrimSpace(in.Note),
		Staff: c.Staff, Date: c.Day, Count: count}
	s, err := newSealer(ctx, q, c.Env, c.At)
	if err != nil {
		return nil, err
	}
	ev, err := s.event(TypeSignedOff, id, &SignedOff{SignOff: so, Stats: stats})
	if err != nil {
		return nil, err
	}
	st := StatisticsOf(r, so, stats, c.Day)
	return s.events(ev, workflow.Event{Type: TypeStatistics, Entity: statsEntity(stats), At: c.At, Payload: &st}), nil
}

// StatisticsOf is the pseudonymised record of a signed-off exam: classes
// only, no names, dates, addresses or free text.
func StatisticsOf(r *Record, so SignOff, stats, day string) Statistics {
	st := Statistics{Exam: stats, Year: r.Year, District: r.District, Sex: r.Person.Sex,
		Vision: FindingNotTested, Hearing: FindingNotTested, Vaccines: map[string]bool{}, SOPESS: map[string]string{},
		Recommendation: so.Recommendation, Support: append([]string{}, so.Support...)}
	if age, ok := AgeMonths(r.Person.BirthDate, day); ok {
		st.AgeMonths = age
	}
	if r.Measurement != nil {
		st.BMIClass = r.Measurement.BMIClass
	}
	if r.Vision != nil {
		st.Vision = r.Vision.Finding
	}
	if r.Hearing != nil {
		st.Hearing = r.Hearing.Finding
	}
	if v := r.Vaccination; v != nil {
		st.ImpfpassShown, st.MeaslesProof = v.Shown, v.MeaslesProof
		for a, ok := range v.Complete {
			st.Vaccines[a] = ok
		}
	}
	for _, d := range Domains {
		st.SOPESS[d] = FindingNotTested
		if s, ok := r.SOPESS[d]; ok {
			st.SOPESS[d] = s.Finding
		}
	}
	return st
}

var (
	dayPattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	slotPattern = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
)

// Schedule decides an exam's day and slot (exam staff).
func (c Command) Schedule(ctx context.Context, q workflow.Querier, id, day, slot string) ([]workflow.Event, error) {
	r, err := c.open(ctx, q, id)
	if err != nil {
		return nil, err
	}
	fe := veedel.FieldErrors{}
	if _, perr := time.Parse(time.DateOnly, day); !dayPattern.MatchString(day) || perr != nil {
		fe.Add("day", "Datum JJJJ-MM-TT / date YYYY-MM-DD")
	}
	if slot != "" && !slotPattern.MatchString(slot) {
		fe.Add("slot", "Uhrzeit HH:MM / time HH:MM")
	}
	if err := fe.Err("Bitte die markierten Angaben prüfen / please check the marked fields"); err != nil {
		return nil, err
	}
	if r.Day == day && r.Slot == slot {
		return nil, nil
	}
	s, err := newSealer(ctx, q, c.Env, c.At)
	if err != nil {
		return nil, err
	}
	ev, err := s.event(TypeScheduled, id, &Scheduled{Day: day, Slot: slot, Staff: c.Staff})
	if err != nil {
		return nil, err
	}
	return s.events(ev), nil
}

// Registration is a child registered at the site (moved in after the
// cohort was drawn, or the demo's children), with an invitation code to
// check in with.
type Registration struct {
	Child
	Year int    `json:"year"`
	Code string `json:"code"`
	Day  string `json:"day"`
	Slot string `json:"slot"`
}

// Register decides a new exam for a child registered here and returns its
// id with the events.
func (c Command) Register(ctx context.Context, q workflow.Querier, in Registration) (string, []workflow.Event, error) {
	if c.Role != RoleDoctor && c.Role != RoleAssistant {
		return "", nil, veedel.Errorf(veedel.EFORBIDDEN, "Nur Ärztin/Arzt und Assistenz / exam staff only")
	}
	fe := veedel.FieldErrors{}
	checkText(fe, "family_name", in.FamilyName, 100, true)
	checkText(fe, "given_names", in.GivenNames, 100, true)
	if _, err := time.Parse(time.DateOnly, in.BirthDate); err != nil {
		fe.Add("birth_date", "Datum JJJJ-MM-TT / date YYYY-MM-DD")
	}
	if in.Sex != SexFemale && in.Sex != SexMale && in.Sex != SexDiverse {
		fe.Add("sex", "w, m oder d")
	}
	for path, v := range map[string]string{"street": in.Street, "postcode": in.Postcode, "city": in.City, "parent_name": in.ParentName,
		"parent_phone": in.ParentPhone, "parent_email": in.ParentEmail, "school_district": in.SchoolDistrict} {
		checkText(fe, path, v, 200, false)
	}
	if in.Year < 2000 || in.Year > 2200 {
		fe.Add("year", "Schuljahr / school year")
	}
	code := NormalizeCode(in.Code)
	if in.Code != "" && (len(code) < 6 || len(code) > 32) {
		fe.Add("code", "6–32 Zeichen / characters")
	}
	if in.Day != "" {
		if _, err := time.Parse(time.DateOnly, in.Day); err != nil {
			fe.Add("day", "Datum JJJJ-MM-TT / date YYYY-MM-DD")
		}
	}
	if in.Slot != "" && !slotPattern.MatchString(in.Slot) {
		fe.Add("slot", "Uhrzeit HH:MM / time HH:MM")
	}
	if err := fe.Err("Bitte die markierten Angaben prüfen / please check the marked fields"); err != nil {
		return "", nil, err
	}
	var hash []byte
	if code != "" {
		hash = HashCode(code)
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM exams WHERE code_hash = ?`, hash).Scan(&n); err != nil {
			return "", nil, err
		}
		if n > 0 {
			return "", nil, &veedel.Error{Code: veedel.ECONFLICT, Message: "Code schon vergeben / code in use", Fields: map[string]string{"code": "schon vergeben / in use"}}
		}
	}
	s, err := newSealer(ctx, q, c.Env, c.At)
	if err != nil {
		return "", nil, err
	}
	id := NewID()
	open, err := s.event(TypeOpened, id, &Opened{Year: in.Year, District: in.SchoolDistrict, CodeHash: hash, Person: in.Child, Staff: c.Staff})
	if err != nil {
		return "", nil, err
	}
	evs := []workflow.Event{open}
	if in.Day != "" {
		sch, err := s.event(TypeScheduled, id, &Scheduled{Day: in.Day, Slot: in.Slot, Staff: c.Staff})
		if err != nil {
			return "", nil, err
		}
		evs = append(evs, sch)
	}
	return id, s.events(evs...), nil
}
