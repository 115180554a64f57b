package vehicle

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// The back office's steps. A clerk claims an application, records the
// checks of outside systems, and decides: approve, reject with a reason,
// or ask the applicant for more. Only the clerk who claimed it records
// checks and decides; where the site asks for four eyes, a second staff
// member approves what the first prepared.

// Actions the back office takes on an application.
const (
	ActionClaim       = "claim"
	ActionCheck       = "check"
	ActionRequestInfo = "request-info"
	ActionReject      = "reject"
	ActionApprove     = "approve"
	ActionPost        = "posted"
)

// The checks of outside systems the clerk records.
const (
	CheckFees      = "gebuehren"          // fee arrears
	CheckTax       = "kfz_steuer"         // vehicle-tax arrears
	CheckInsurance = "evb"                // the insurer's confirmation of the eVB
	CheckRegister  = "zentrales_register" // the KBA's central register
)

// AllChecks lists the checks in the page's order.
var AllChecks = []string{CheckFees, CheckTax, CheckInsurance, CheckRegister}

// RequiredChecks are the checks a process's approval needs, each recorded
// as passed: fees and the register always; tax and insurance where the
// vehicle goes (back) on the road.
func RequiredChecks(process string) []string {
	switch process {
	case ProcessNew, ProcessTransfer, ProcessReregister:
		return AllChecks
	}
	return []string{CheckFees, CheckRegister}
}

// MaxReason bounds a reason for the applicant.
const MaxReason = 500

// PermitDays is how long the provisional proof of registration is valid.
const PermitDays = 10

// Step is a back-office step other than approval.
type Step struct {
	ID, Action, Staff string
	// Reason: reject and request-info (for the applicant).
	Reason string
	// Check and OK: check.
	Check string
	OK    bool
}

// Decide returns the event of a step, as of at, or an error that leaves
// the application unchanged: ENOTFOUND for an unknown application or
// action, ECONFLICT for a step its status (or its clerk) does not allow,
// EINVALID for a missing reason or an unknown check.
func Decide(ctx context.Context, q workflow.Querier, at time.Time, s Step) (workflow.Event, error) {
	a, err := Get(ctx, q, s.ID)
	if err != nil {
		return workflow.Event{}, err
	}
	ev := workflow.Event{Entity: Entity(a.ID), At: at}
	switch s.Action {
	case ActionClaim:
		switch {
		case a.Status == StatusInReview && a.Staff == s.Staff:
			return ev, veedel.Errorf(veedel.ECONFLICT, "Sie bearbeiten %s schon / you have claimed %s already", a.ID, a.ID)
		case a.Status != StatusAtSite && a.Status != StatusInReview:
			return ev, wrongStatus(a)
		}
		ev.Type, ev.Payload = TypeClaimed, &ApplicationClaimed{ID: a.ID, Staff: s.Staff}
	case ActionCheck:
		if err := mustHold(a, s.Staff); err != nil {
			return ev, err
		}
		if !slices.Contains(AllChecks, s.Check) {
			return ev, &veedel.Error{Code: veedel.EINVALID, Message: "Unbekannte Prüfung / unknown check",
				Fields: map[string]string{"check": strings.Join(AllChecks, ", ")}}
		}
		ev.Type, ev.Payload = TypeCheckRecorded, &CheckRecorded{ID: a.ID, Check: s.Check, OK: s.OK, Staff: s.Staff}
	case ActionRequestInfo, ActionReject:
		if err := mustHold(a, s.Staff); err != nil {
			return ev, err
		}
		reason, err := checkReason(s.Reason)
		if err != nil {
			return ev, err
		}
		if s.Action == ActionReject {
			ev.Type, ev.Payload = TypeRejected, &ApplicationRejected{ID: a.ID, Staff: s.Staff, Reason: reason}
		} else {
			ev.Type, ev.Payload = TypeInfoRequested, &InfoRequested{ID: a.ID, Staff: s.Staff, Reason: reason}
		}
	case ActionPost:
		switch {
		case a.Status != StatusApproved:
			return ev, veedel.Errorf(veedel.ECONFLICT, "Antrag %s ist nicht genehmigt / application %s is not approved", a.ID, a.ID)
		case !a.PostedAt.IsZero():
			return ev, veedel.Errorf(veedel.ECONFLICT, "Die Unterlagen zu %s sind schon versandt / the documents of %s went out already", a.ID, a.ID)
		}
		ev.Type, ev.Payload = TypeSentByPost, &DocumentsPosted{ID: a.ID, Staff: s.Staff}
	default:
		return ev, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Schritt %q / unknown action", s.Action)
	}
	return ev, nil
}

// wrongStatus is the conflict of a step the application's status does not
// allow.
func wrongStatus(a SiteApplication) error {
	switch a.Status {
	case StatusApproved, StatusRejected:
		return veedel.Errorf(veedel.ECONFLICT, "Antrag %s ist schon entschieden (%s) / application %s is decided already (%s)", a.ID, a.Status, a.ID, a.Status)
	case StatusInfoRequested:
		return veedel.Errorf(veedel.ECONFLICT, "Antrag %s wartet auf Angaben der antragstellenden Person / application %s waits for the applicant", a.ID, a.ID)
	case StatusAtSite:
		return veedel.Errorf(veedel.ECONFLICT, "Antrag %s erst übernehmen / claim application %s first", a.ID, a.ID)
	}
	return veedel.Errorf(veedel.ECONFLICT, "Antrag %s ist %s / application %s is %s", a.ID, a.Status, a.ID, a.Status)
}

// mustHold refuses a step by anyone but the clerk who claimed it.
func mustHold(a SiteApplication, staff string) error {
	if a.Status != StatusInReview {
		return wrongStatus(a)
	}
	if a.Staff != staff {
		return veedel.Errorf(veedel.ECONFLICT, "Antrag %s bearbeitet %s: erst übernehmen / %s works on application %s: claim it first", a.ID, a.Staff, a.Staff, a.ID)
	}
	return nil
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	field := func(msg, fieldMsg string) error {
		return &veedel.Error{Code: veedel.EINVALID, Message: msg, Fields: map[string]string{"reason": fieldMsg}}
	}
	switch {
	case reason == "":
		return "", field("Bitte einen Grund angeben, den die antragstellende Person lesen kann / give a reason the applicant can read", "Pflichtangabe / required")
	case utf8.RuneCountInString(reason) > MaxReason:
		return "", field("Grund zu lang / reason too long", fmt.Sprintf("Höchstens %d Zeichen / at most %d characters", MaxReason, MaxReason))
	}
	if r, bad := veedel.UnsafeRune(reason); bad {
		de, en := veedel.DescribeRune(r)
		return "", field("Grund enthält "+de+" / reason contains "+en, "Unzulässiges Zeichen / character not allowed")
	}
	return reason, nil
}

// Approval is what approving needs besides the application.
type Approval struct {
	ID, Staff string
	// Code is the permit's random verification code.
	Code string
	// ValidUntil is the permit's last day (YYYY-MM-DD).
	ValidUntil string
	// Permit renders the provisional proof of the decision (every field
	// but Permit filled in) and returns its file's Ref; the bytes are the
	// caller's to store once the decision is committed.
	Permit func(*ApplicationApproved) (blob.Ref, error)
	// Plate assigns a plate through appliance/plates in the command's
	// transaction (which imports this package, hence the seam): the
	// reservation whose token hash is reservation, or with nil the next
	// plate of the site's blocks; ref names the application. It returns
	// the plates' events and the plate.
	Plate func(reservation []byte, ref string) ([]workflow.Event, string, error)
}

// Approve decides an approval in the command's transaction: the plate
// (req.Plate: from the reservation for a
// Wunschkennzeichen, from the site's blocks for a random one, the current
// one when kept, none for an Außerbetriebsetzung), the permit, and
// vehicle.application_approved, with the plates' events before it.
// ECONFLICT when the application is not claimed, checks are missing or
// failed, or four eyes are needed; EUNAVAILABLE when the site's blocks
// are used up.
func Approve(ctx context.Context, q workflow.Querier, at time.Time, req Approval) ([]workflow.Event, *ApplicationApproved, error) {
	a, err := Get(ctx, q, req.ID)
	if err != nil {
		return nil, nil, err
	}
	if a.Status != StatusInReview {
		return nil, nil, wrongStatus(a)
	}
	fourEyes, err := FourEyes(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	p := &ApplicationApproved{ID: a.ID, Staff: req.Staff, Code: req.Code, ValidUntil: req.ValidUntil}
	switch {
	case fourEyes && a.Staff == req.Staff:
		return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Vier-Augen-Prinzip: eine zweite Person muss %s genehmigen / four eyes: a second staff member must approve %s", a.ID, a.ID)
	case fourEyes:
		p.Staff, p.Second = a.Staff, req.Staff
	case a.Staff != req.Staff:
		return nil, nil, mustHold(a, req.Staff)
	}
	if a.Details == nil {
		return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Die Angaben zu %s sind nicht lesbar: bitte ablehnen / the details of %s cannot be read: please reject", a.ID, a.ID)
	}
	checks, err := Checks(ctx, q, a.ID)
	if err != nil {
		return nil, nil, err
	}
	var missing, failed []string
	for _, c := range RequiredChecks(a.Process) {
		r, ok := checks[c]
		switch {
		case !ok:
			missing = append(missing, c)
		case !r.OK:
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Prüfung nicht bestanden: %s: bitte ablehnen oder nachfragen / check failed: %s: reject or ask the applicant", strings.Join(failed, ", "), strings.Join(failed, ", "))
	}
	if len(missing) > 0 {
		return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Prüfungen fehlen: %s / checks missing: %s", strings.Join(missing, ", "), strings.Join(missing, ", "))
	}
	p.FIN = a.Details.Vehicle.FIN
	var events []workflow.Event
	switch {
	case a.Process == ProcessDeregister:
	case a.PlateMode == PlateWish:
		hash, err := hex.DecodeString(a.Reservation)
		if err != nil {
			return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Reservierung zu %s fehlerhaft / reservation of %s malformed", a.ID, a.ID)
		}
		if events, p.Plate, err = req.Plate(hash, Entity(a.ID)); err != nil {
			return nil, nil, err
		}
	case a.PlateMode == PlateRandom:
		if events, p.Plate, err = req.Plate(nil, Entity(a.ID)); err != nil {
			return nil, nil, err
		}
	default:
		p.Plate = a.Details.Vehicle.Plate
		if a.Details.Plate.Plate != "" {
			p.Plate = a.Details.Plate.Plate
		}
		if p.Plate == "" {
			return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Antrag %s nennt kein bisheriges Kennzeichen / application %s names no current plate", a.ID, a.ID)
		}
	}
	if p.Permit, err = req.Permit(p); err != nil {
		return nil, nil, err
	}
	return append(events, workflow.Event{Type: TypeApproved, Entity: Entity(a.ID), At: at, Payload: p}), p, nil
}
