// Package exam is the school-entry exam workflow (Schuleingangsuntersuchung,
// § 54 SchulG NRW): central keeps the year's cohort and the parents'
// bookings, the school-health site runs the exam day offline, and the
// children's health data never leaves the site in clear.
//
// This file is the contract between central and the site: the event types
// and the payloads that cross the change-log. Everything personal travels
// sealed (changelog.Seal to the site's box key, and for the exam record
// also to the health office's escrow key); the one payload central reads
// in clear is Statistics, which is pseudonymised by construction (no
// names, birth dates, addresses or free text).
package exam

// Prefix is the prefix of the workflow's event types.
const Prefix = "exam."

// Event types: part of the wire format, never renamed.
const (
	// TypeChildAssigned comes from central only (the site's outbound
	// log): a child of the cohort assigned to this site. Its personal
	// data is Sealed to the site's box key.
	TypeChildAssigned = "exam.child_assigned"
	// TypeStatistics comes from the site when the doctor signs an exam
	// off: the pseudonymised record central's yearly tables count.
	TypeStatistics = "exam.statistics"
	// TypeChildUnassigned comes from central only: the child was assigned
	// to another site (its district moved). The site drops the child's
	// record (TypeDropped) unless the child was examined there already
	// (TypeKept, which tells central so).
	TypeChildUnassigned = "exam.child_unassigned"
	// TypeDropped and TypeKept are the site's answers to
	// TypeChildUnassigned, in clear (ChildLeft: the pseudonym central
	// sent, nothing personal).
	TypeDropped = "exam.dropped"
	TypeKept    = "exam.kept"
)

// ChildUnassigned takes a child of the cohort off a site. To is the site
// it goes to.
type ChildUnassigned struct {
	Child string `cbor:"1,keyasint"`
	Year  int    `cbor:"2,keyasint"`
	To    string `cbor:"3,keyasint,omitempty"`
}

// ChildLeft is the site's answer to ChildUnassigned: the exam record Exam
// (its random id) of the child was dropped (TypeDropped), or kept because
// the child was examined here already (TypeKept; Status says how far).
type ChildLeft struct {
	Child  string `cbor:"1,keyasint"`
	Year   int    `cbor:"2,keyasint"`
	Exam   string `cbor:"3,keyasint"`
	To     string `cbor:"4,keyasint,omitempty"`
	Status string `cbor:"5,keyasint,omitempty"`
}

// ChildAssigned is a cohort child as central sends it down. Child is the
// pseudonymous id central derives from the register's record (stable
// across re-imports, so a re-import updates instead of duplicating);
// Sealed is the CBOR of Child sealed to the site's box key with the info
// SealInfo(site, Child).
type ChildAssigned struct {
	Child    string `cbor:"1,keyasint"`
	Year     int    `cbor:"2,keyasint"` // school year it starts (2027 for 2027/28)
	District string `cbor:"3,keyasint"`
	Sealed   []byte `cbor:"4,keyasint"`
	Lang     string `cbor:"5,keyasint,omitempty"` // the parents' language, when known
	// CodeHash is the SHA-256 of the invitation's booking code.
	CodeHash []byte `cbor:"6,keyasint,omitempty"`
}

// SealInfo binds a sealed cohort record to its site and child.
func SealInfo(site, child string) string { return "exam.child\n" + site + "\n" + child }

// Child is a cohort record from the register, as the site opens it.
type Child struct {
	FamilyName     string `cbor:"1,keyasint" json:"family_name"`
	GivenNames     string `cbor:"2,keyasint" json:"given_names"`
	BirthDate      string `cbor:"3,keyasint" json:"birth_date"` // YYYY-MM-DD
	Sex            string `cbor:"4,keyasint" json:"sex"`        // Sex* below
	Street         string `cbor:"5,keyasint" json:"street"`
	Postcode       string `cbor:"6,keyasint" json:"postcode"`
	City           string `cbor:"7,keyasint" json:"city"`
	ParentName     string `cbor:"8,keyasint" json:"parent_name"`
	ParentPhone    string `cbor:"9,keyasint" json:"parent_phone"`
	ParentEmail    string `cbor:"10,keyasint" json:"parent_email"`
	SchoolDistrict string `cbor:"11,keyasint" json:"school_district"`
}

// Sex as the register and the statistics name it.
const (
	SexFemale  = "w"
	SexMale    = "m"
	SexDiverse = "d"
)

// Statistics is one signed-off exam as central may read it. Exam is a
// random id of the exam (not derived from the child), so that a record
// signed off again replaces its earlier count.
type Statistics struct {
	Exam      string `cbor:"1,keyasint" json:"-"`
	Year      int    `cbor:"2,keyasint" json:"year"`
	District  string `cbor:"3,keyasint" json:"district"`
	AgeMonths int    `cbor:"4,keyasint" json:"age_months"`
	Sex       string `cbor:"5,keyasint" json:"sex"`
	// BMIClass is the Kromeyer-Hauschild class (BMI* below), "" when not
	// measured.
	BMIClass string `cbor:"6,keyasint" json:"bmi_class"`
	// Vision and Hearing are Finding* values.
	Vision  string `cbor:"7,keyasint" json:"vision"`
	Hearing string `cbor:"8,keyasint" json:"hearing"`
	// ImpfpassShown: the vaccination record was seen. Vaccines maps each
	// antigen (Vaccine* below) to whether its basic immunisation is
	// complete by the STIKO schedule for the child's age; MeaslesProof
	// is the Masernschutzgesetz proof (two doses or immunity).
	ImpfpassShown bool            `cbor:"9,keyasint" json:"impfpass_shown"`
	Vaccines      map[string]bool `cbor:"10,keyasint" json:"vaccines"`
	MeaslesProof  bool            `cbor:"11,keyasint" json:"measles_proof"`
	// SOPESS maps each screening domain (Domain* below) to a Finding*.
	SOPESS map[string]string `cbor:"12,keyasint" json:"sopess"`
	// Recommendation is one of Recommend* below; Support lists the
	// support needs (Support* below).
	Recommendation string   `cbor:"13,keyasint" json:"recommendation"`
	Support        []string `cbor:"14,keyasint" json:"support"`
}

// Kromeyer-Hauschild BMI classes (percentiles for age and sex).
const (
	BMISevereUnderweight = "starkes_untergewicht" // < P3
	BMIUnderweight       = "untergewicht"         // P3 to < P10
	BMINormal            = "normalgewicht"        // P10 to P90
	BMIOverweight        = "uebergewicht"         // > P90 to P97
	BMIObese             = "adipositas"           // > P97
)

// Findings of a screening.
const (
	FindingNormal     = "unauffaellig"
	FindingBorderline = "grenzwertig"
	FindingAbnormal   = "auffaellig"
	FindingTreated    = "in_behandlung" // known and already treated (glasses, hearing aid)
	FindingNotTested  = "nicht_getestet"
)

// SOPESS domains (Sozialpädiatrisches Entwicklungsscreening für
// Schuleingangsuntersuchungen).
const (
	DomainAttention    = "selektive_aufmerksamkeit"
	DomainNumbers      = "zahlen_mengen"
	DomainVisuomotor   = "visuomotorik"
	DomainVisualReason = "visuelles_wahrnehmen"
	DomainCoordination = "koerperkoordination"
	DomainLanguage     = "sprache"
	DomainArticulation = "artikulation"
)

// Domains lists the SOPESS domains in report order.
var Domains = []string{DomainAttention, DomainNumbers, DomainVisuomotor, DomainVisualReason, DomainCoordination, DomainLanguage, DomainArticulation}

// Antigens of the STIKO basic immunisation the report counts.
const (
	VaccineDiphtheria  = "diphtherie"
	VaccineTetanus     = "tetanus"
	VaccinePertussis   = "pertussis"
	VaccinePolio       = "polio"
	VaccineHib         = "hib"
	VaccineHepatitisB  = "hepatitis_b"
	VaccineMeasles     = "masern"
	VaccineMumps       = "mumps"
	VaccineRubella     = "roeteln"
	VaccineVaricella   = "varizellen"
	VaccinePneumococci = "pneumokokken"
	VaccineMeningoC    = "meningokokken_c"
)

// Vaccines lists the antigens in report order.
var Vaccines = []string{VaccineDiphtheria, VaccineTetanus, VaccinePertussis, VaccinePolio, VaccineHib, VaccineHepatitisB, VaccineMeasles, VaccineMumps, VaccineRubella, VaccineVaricella, VaccinePneumococci, VaccineMeningoC}

// The doctor's recommendation.
const (
	RecommendReady          = "schulfaehig" // no concerns
	RecommendReadyWithAid   = "schulfaehig_mit_foerderung"
	RecommendDeferral       = "zurueckstellung_erwogen" // the school decides
	RecommendSpecialNeedsAO = "sonderpaedagogischer_foerderbedarf_pruefen"
)

// Support needs the school is told of.
const (
	SupportLanguage  = "sprachfoerderung"
	SupportMotor     = "motorik"
	SupportAttention = "aufmerksamkeit"
	SupportVision    = "sehen"
	SupportHearing   = "hoeren"
	SupportHealth    = "chronische_erkrankung"
)

// SmallCell is the smallest count central's tables show: any cell of
// fewer children is suppressed (and cells that would let it be worked
// out again from a total).
const SmallCell = 5
