package exam

// Record is a child's exam as the site keeps it: the fold of its sealed
// events (apply). The site's exams table holds its deterministic CBOR, and
// OpenWithEscrow folds central's copy of the log into the same bytes.
type Record struct {
	ID       string `cbor:"1,keyasint" json:"id"`
	Child    string `cbor:"2,keyasint,omitempty" json:"-"`
	Year     int    `cbor:"3,keyasint" json:"year"`
	District string `cbor:"4,keyasint" json:"district"`
	Lang     string `cbor:"5,keyasint,omitempty" json:"lang,omitempty"`
	CodeHash []byte `cbor:"6,keyasint,omitempty" json:"-"`
	Person   Child  `cbor:"7,keyasint" json:"child"`
	Day      string `cbor:"8,keyasint,omitempty" json:"day,omitempty"`
	Slot     string `cbor:"9,keyasint,omitempty" json:"slot,omitempty"`
	Status   string `cbor:"10,keyasint" json:"status"`

	Measurement *Measurement           `cbor:"11,keyasint,omitempty" json:"measurement,omitempty"`
	Vision      *Vision                `cbor:"12,keyasint,omitempty" json:"vision,omitempty"`
	Hearing     *Hearing               `cbor:"13,keyasint,omitempty" json:"hearing,omitempty"`
	SOPESS      map[string]DomainScore `cbor:"14,keyasint,omitempty" json:"sopess,omitempty"`
	Vaccination *Vaccination           `cbor:"15,keyasint,omitempty" json:"vaccination,omitempty"`
	Findings    []Note                 `cbor:"16,keyasint,omitempty" json:"findings,omitempty"`
	SignOff     *SignOff               `cbor:"17,keyasint,omitempty" json:"sign_off,omitempty"`
	// Stats is the random id of the record's statistics (exam.statistics),
	// set at the first sign-off.
	Stats     string `cbor:"18,keyasint,omitempty" json:"-"`
	UpdatedAt int64  `cbor:"19,keyasint" json:"updated_at"` // Unix milliseconds
	UpdatedBy string `cbor:"20,keyasint,omitempty" json:"updated_by,omitempty"`
	// Parents are the parents' answers to the questionnaire, the newest.
	Parents *ParentsAnswered `cbor:"21,keyasint,omitempty" json:"parents,omitempty"`
}

// Statuses of an exam record.
const (
	StatusOpen       = "open"        // known, no day yet
	StatusScheduled  = "scheduled"   // has a day
	StatusInProgress = "in_progress" // something was recorded
	StatusSignedOff  = "signed_off"  // the doctor signed it off
)

// Measurement is height and weight with what follows from them.
type Measurement struct {
	HeightCM   float64 `cbor:"1,keyasint" json:"height_cm"`
	WeightKG   float64 `cbor:"2,keyasint" json:"weight_kg"`
	BMI        float64 `cbor:"3,keyasint" json:"bmi"`
	Percentile float64 `cbor:"4,keyasint" json:"bmi_percentile"`
	BMIClass   string  `cbor:"5,keyasint" json:"bmi_class"` // "" when the reference does not cover the child
	AgeMonths  int     `cbor:"6,keyasint" json:"age_months"`
	Device     string  `cbor:"7,keyasint,omitempty" json:"device,omitempty"` // "seca" when the scale sent it
	Date       string  `cbor:"8,keyasint" json:"date"`
	Staff      string  `cbor:"9,keyasint,omitempty" json:"staff,omitempty"`
}

// Eye is one eye's visual acuity (decimal, 0.05–2.0), without and with
// glasses; nil when not tested.
type Eye struct {
	Without *float64 `cbor:"1,keyasint,omitempty" json:"without,omitempty"`
	With    *float64 `cbor:"2,keyasint,omitempty" json:"with,omitempty"`
}

// Vision is the vision screening.
type Vision struct {
	Right   Eye    `cbor:"1,keyasint" json:"right"`
	Left    Eye    `cbor:"2,keyasint" json:"left"`
	Glasses bool   `cbor:"3,keyasint" json:"glasses"`
	Finding string `cbor:"4,keyasint" json:"finding"`
	Date    string `cbor:"5,keyasint" json:"date"`
	Staff   string `cbor:"6,keyasint,omitempty" json:"staff,omitempty"`
}

// Hearing is the screening audiometry: per ear, the hearing threshold in
// dB HL at each frequency tested (Hz).
type Hearing struct {
	Right   map[int]int `cbor:"1,keyasint" json:"right"`
	Left    map[int]int `cbor:"2,keyasint" json:"left"`
	Aid     bool        `cbor:"3,keyasint" json:"hearing_aid"`
	Finding string      `cbor:"4,keyasint" json:"finding"`
	Date    string      `cbor:"5,keyasint" json:"date"`
	Staff   string      `cbor:"6,keyasint,omitempty" json:"staff,omitempty"`
}

// DomainScore is one SOPESS domain: the item scores as the manual numbers
// them, their sum and the finding the domain's limits give.
type DomainScore struct {
	Items   []int  `cbor:"1,keyasint" json:"items"`
	Points  int    `cbor:"2,keyasint" json:"points"`
	Finding string `cbor:"3,keyasint" json:"finding"`
}

// Vaccination is what the Impfpass shows.
type Vaccination struct {
	Shown bool           `cbor:"1,keyasint" json:"impfpass_shown"`
	Doses map[string]int `cbor:"2,keyasint" json:"doses"`
	// Complete: the basic immunisation per antigen by the STIKO schedule
	// for the child's age (computed).
	Complete map[string]bool `cbor:"3,keyasint" json:"complete"`
	// MeaslesImmunity: a doctor's certificate of immunity instead of doses.
	MeaslesImmunity bool `cbor:"4,keyasint" json:"measles_immunity"`
	// MeaslesProof: Masernschutzgesetz (§ 20 Abs. 8, 9 IfSG) satisfied:
	// two doses or immunity (computed).
	MeaslesProof bool   `cbor:"5,keyasint" json:"measles_proof"`
	AgeMonths    int    `cbor:"6,keyasint" json:"age_months"`
	Date         string `cbor:"7,keyasint" json:"date"`
	Staff        string `cbor:"8,keyasint,omitempty" json:"staff,omitempty"`
}

// Note is one finding in the doctor's words, by area (Area* below).
type Note struct {
	Area string `cbor:"1,keyasint" json:"area"`
	Text string `cbor:"2,keyasint" json:"text"`
}

// Areas of findings.
var Areas = []string{"allgemein", "sehen", "hoeren", "sprache", "motorik", "verhalten", "haut", "herz_lunge", "orthopaedie", "sonstiges"}

// SignOff is the doctor's recommendation and signature.
type SignOff struct {
	Recommendation string   `cbor:"1,keyasint" json:"recommendation"`
	Support        []string `cbor:"2,keyasint" json:"support"`
	Referrals      []string `cbor:"3,keyasint" json:"referrals"`
	// Note is for the parents' report (not for the school).
	Note  string `cbor:"4,keyasint,omitempty" json:"note,omitempty"`
	Staff string `cbor:"5,keyasint" json:"staff"`
	Date  string `cbor:"6,keyasint" json:"date"`
	Count int    `cbor:"7,keyasint" json:"count"` // how often it was signed off
}

// apply folds one sealed event's payload into r (nil r: the record does
// not exist yet and only Opened makes it). atMS is the event's time.
func apply(r *Record, id string, p any, atMS int64) *Record {
	if op, ok := p.(*Opened); ok {
		if r != nil {
			return r
		}
		return &Record{ID: id, Child: op.Child, Year: op.Year, District: op.District, Lang: op.Lang, CodeHash: op.CodeHash,
			Person: op.Person, Status: StatusOpen, UpdatedAt: atMS, UpdatedBy: op.Staff}
	}
	if r == nil {
		return nil
	}
	r.UpdatedAt = atMS
	progress := func(staff string) {
		r.UpdatedBy = staff
		// A change after a sign-off needs a new one.
		r.Status = StatusInProgress
	}
	switch p := p.(type) {
	case *ChildUpdated:
		r.Year, r.District, r.Lang, r.CodeHash, r.Person = p.Year, p.District, p.Lang, p.CodeHash, p.Person
	case *Scheduled:
		r.Day, r.Slot, r.UpdatedBy = p.Day, p.Slot, p.Staff
		if r.Status == StatusOpen {
			r.Status = StatusScheduled
		}
	case *Measured:
		m := p.Measurement
		r.Measurement = &m
		progress(m.Staff)
	case *VisionTested:
		v := p.Vision
		r.Vision = &v
		progress(v.Staff)
	case *HearingTested:
		h := p.Hearing
		r.Hearing = &h
		progress(h.Staff)
	case *SOPESSScored:
		if r.SOPESS == nil {
			r.SOPESS = map[string]DomainScore{}
		}
		for d, s := range p.Domains {
			r.SOPESS[d] = s
		}
		progress(p.Staff)
	case *VaccinationsRecorded:
		v := p.Vaccination
		r.Vaccination = &v
		progress(v.Staff)
	case *FindingsRecorded:
		r.Findings = p.Findings
		progress(p.Staff)
	case *ParentsAnswered:
		if r.Parents == nil || p.Submitted >= r.Parents.Submitted {
			a := *p
			r.Parents = &a
		}
	case *SignedOff:
		s := p.SignOff
		r.SignOff = &s
		r.Stats = p.Stats
		r.Status = StatusSignedOff
		r.UpdatedBy = s.Staff
	}
	return r
}
