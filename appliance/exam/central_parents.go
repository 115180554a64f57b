package exam

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// The parents' questionnaire, filled in at central's portal with the
// invitation's booking code before the visit: sealed to the child's site
// at once (QuestionnaireInfo) and sent down as exam.parents_questionnaire;
// central keeps nothing of it. A newer one replaces an older one at the
// site.

// TypeParentsQuestionnaire comes from central only (the site's outbound
// log): the parents' answers, Sealed to the site's box key.
const TypeParentsQuestionnaire = "exam.parents_questionnaire"

// ParentsQuestionnaire is the event's payload. Sealed is the CBOR of
// ParentsAnswers sealed with QuestionnaireInfo(site, Child).
type ParentsQuestionnaire struct {
	Child     string `cbor:"1,keyasint"`
	Year      int    `cbor:"2,keyasint"`
	Sealed    []byte `cbor:"3,keyasint"`
	Submitted int64  `cbor:"4,keyasint"` // Unix milliseconds
	Lang      string `cbor:"5,keyasint,omitempty"`
}

// QuestionnaireInfo binds sealed answers to their site and child.
func QuestionnaireInfo(site, child string) string {
	return "exam.parents_questionnaire\n" + site + "\n" + child
}

// ParentsAnswers are the parents' answers as the site opens them.
type ParentsAnswers struct {
	// BirthTerm is Birth* below; BirthNotes what was special about the
	// pregnancy or the birth.
	BirthTerm  string `cbor:"1,keyasint" json:"birth_term"`
	BirthNotes string `cbor:"2,keyasint,omitempty" json:"birth_notes,omitempty"`
	// Illnesses: illnesses, operations, allergies, medicines.
	Illnesses string `cbor:"3,keyasint,omitempty" json:"illnesses,omitempty"`
	// Checkups are the U check-ups done (ParentsCheckups below).
	Checkups []string `cbor:"4,keyasint,omitempty" json:"checkups,omitempty"`
	// Kita: the child attends a Kita; KitaYears how many years.
	Kita      bool `cbor:"5,keyasint" json:"kita"`
	KitaYears int  `cbor:"6,keyasint,omitempty" json:"kita_years,omitempty"`
	// Languages spoken at home.
	Languages string `cbor:"7,keyasint,omitempty" json:"languages,omitempty"`
	// Support the child had so far (ParentsTherapies below) and anything else.
	Support      []string `cbor:"8,keyasint,omitempty" json:"support,omitempty"`
	SupportNotes string   `cbor:"9,keyasint,omitempty" json:"support_notes,omitempty"`
	// Consent: the parents agree that the findings are recorded and the
	// school gets the recommendation.
	Consent bool `cbor:"10,keyasint" json:"consent"`
}

// How the child was born.
const (
	ParentsBirthOnTerm    = "termgerecht"
	ParentsBirthPremature = "fruehgeburt"
	ParentsBirthNotKnown  = "unbekannt"
	maxParentsNotes       = 1000
	maxParentsShort       = 200
	maxParentsKitaYears   = 7
	parentsFieldErr       = "Bitte die markierten Angaben prüfen / please check the fields marked"
)

// ParentsBirthTerms lists the answers on the birth.
var ParentsBirthTerms = []string{ParentsBirthOnTerm, ParentsBirthPremature, ParentsBirthNotKnown}

// ParentsCheckups are the children's check-ups (Kinderuntersuchungen) before
// school.
var ParentsCheckups = []string{"U1", "U2", "U3", "U4", "U5", "U6", "U7", "U7a", "U8", "U9"}

// ParentsTherapies are the kinds of support a child may have had.
var ParentsTherapies = []string{"fruehfoerderung", "logopaedie", "ergotherapie", "physiotherapie", "heilpaedagogik"}

// Validate checks the answers; the error's fields name what to fix.
func (a *ParentsAnswers) Validate() error {
	f := veedel.FieldErrors{}
	text := func(field, v string, max int, multiline bool) string {
		v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
		switch {
		case utf8.RuneCountInString(v) > max:
			f.Add(field, "Zu lang / too long")
		case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && !(multiline && r == '\n') }):
			f.Add(field, "Enthält Steuerzeichen / contains control characters")
		}
		return v
	}
	if !slices.Contains(ParentsBirthTerms, a.BirthTerm) {
		f.Add("birth_term", "Bitte eine Angabe zur Geburt wählen / please choose an answer on the birth")
	}
	a.BirthNotes = text("birth_notes", a.BirthNotes, maxParentsNotes, true)
	a.Illnesses = text("illnesses", a.Illnesses, maxParentsNotes, true)
	a.Languages = text("languages", a.Languages, maxParentsShort, false)
	a.SupportNotes = text("support_notes", a.SupportNotes, maxParentsNotes, true)
	for _, u := range a.Checkups {
		if !slices.Contains(ParentsCheckups, u) {
			f.Add("checkups", "Unbekannte Untersuchung / unknown check-up")
		}
	}
	for _, s := range a.Support {
		if !slices.Contains(ParentsTherapies, s) {
			f.Add("support", "Unbekannte Förderung / unknown kind of support")
		}
	}
	if a.KitaYears < 0 || a.KitaYears > maxParentsKitaYears || (!a.Kita && a.KitaYears != 0) {
		f.Add("kita_years", "Bitte 0 bis 7 Jahre, und nur bei Kita-Besuch / please 0 to 7 years, and only when the child attends a Kita")
	}
	if !a.Consent {
		f.Add("consent", "Ohne Einwilligung kann der Fragebogen nicht gesendet werden / the questionnaire cannot be sent without consent")
	}
	return f.Err(parentsFieldErr)
}
