package server

import (
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/ui"
)

// The citizen's i-Kfz application at the portal, phone first: choose the
// process (/kfz), the process's form (/kfz/{process}, multipart: the
// uploads go with it), and the application's private status page behind
// its token (/kfz/s/{token}; /bestaetigung after submitting). The form
// works without JavaScript. A failed post shows the form again with
// everything typed, a summary linking to each field at fault and the
// message beside the field; files already received are kept (by their
// hash, in hidden fields) so that they need not be chosen again.
// Validate's messages are German / English: the form shows the German on
// German pages and the English on the others.

const vehiclePortalPath = "/kfz"

// maxVehicleForm bounds the form: two files and the fields.
const maxVehicleForm = 2*vehicle.MaxAttachmentSize + 64<<10

// vehicleUploads are the form's file inputs: the attachment kinds.
var vehicleUploads = []string{vehicle.AttachmentAuthority, vehicle.AttachmentCertificate}

// vehicleInput is a text input of the form and whether a process shows it.
type vehicleInput struct {
	orderField
	section     string
	when        func(vehicle.Need) bool
	conditional bool // required for one kind of owner only
}

func always(vehicle.Need) bool { return true }

var vehicleInputs = []vehicleInput{
	{orderField{Name: "owner.family_name", Type: "text", Autocomplete: "family-name", MaxLength: 80}, "person", always, true},
	{orderField{Name: "owner.given_names", Type: "text", Autocomplete: "given-name", MaxLength: 120}, "person", always, true},
	{orderField{Name: "owner.birth_date", Type: "text", InputMode: "numeric", Autocomplete: "bday", MaxLength: 10, Dir: "ltr"}, "person", always, true},
	{orderField{Name: "owner.company_name", Type: "text", Autocomplete: "organization", MaxLength: 120}, "company", always, true},
	{orderField{Name: "owner.register", Type: "text", MaxLength: 40, Optional: true, Dir: "ltr"}, "company", always, false},
	{orderField{Name: "owner.street", Type: "text", Autocomplete: "street-address", MaxLength: 100}, "address", always, false},
	{orderField{Name: "owner.postcode", Type: "text", InputMode: "numeric", Autocomplete: "postal-code", MaxLength: 5, Dir: "ltr"}, "address", always, false},
	{orderField{Name: "owner.city", Type: "text", Autocomplete: "address-level2", MaxLength: 80}, "address", always, false},
	{orderField{Name: "owner.email", Type: "email", Autocomplete: "email", MaxLength: 254, Dir: "ltr", Optional: true}, "address", always, false},
	{orderField{Name: "owner.phone", Type: "tel", InputMode: "tel", Autocomplete: "tel", MaxLength: 24, Dir: "ltr", Optional: true}, "address", always, false},
	{orderField{Name: "vehicle.fin", Type: "text", MaxLength: 20, Dir: "ltr"}, "vehicle", always, false},
	{orderField{Name: "vehicle.current_plate", Type: "text", MaxLength: 12, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.CurrentPlate || slices.Contains(n.Plates, vehicle.PlateKeep) }, false},
	{orderField{Name: "vehicle.plate_seal_code", Type: "text", MaxLength: 5, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.PlateSeal }, false},
	{orderField{Name: "vehicle.zb1_number", Type: "text", MaxLength: 14, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.ZB1 }, false},
	{orderField{Name: "vehicle.zb1_code", Type: "text", MaxLength: 10, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.ZB1 }, false},
	{orderField{Name: "vehicle.zb2_number", Type: "text", MaxLength: 14, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.ZB2 }, false},
	{orderField{Name: "vehicle.zb2_code", Type: "text", MaxLength: 16, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.ZB2 }, false},
	{orderField{Name: "vehicle.hu_due", Type: "text", InputMode: "numeric", MaxLength: 7, Dir: "ltr"}, "vehicle", func(n vehicle.Need) bool { return n.HU }, false},
	{orderField{Name: "evb", Type: "text", MaxLength: 9, Dir: "ltr"}, "payment", func(n vehicle.Need) bool { return n.EVB }, false},
	{orderField{Name: "sepa.iban", Type: "text", MaxLength: 42, Dir: "ltr", Autocomplete: "off"}, "payment", func(n vehicle.Need) bool { return n.SEPA }, false},
	{orderField{Name: "sepa.holder", Type: "text", MaxLength: 80, Autocomplete: "name"}, "payment", func(n vehicle.Need) bool { return n.SEPA }, false},
	{orderField{Name: "plate.plate", Type: "text", MaxLength: 12, Dir: "ltr", Optional: true}, "plate", func(n vehicle.Need) bool { return slices.Contains(n.Plates, vehicle.PlateWish) }, false},
	{orderField{Name: "plate.reservation", Type: "text", MaxLength: 64, Dir: "ltr", Optional: true, Autocomplete: "off"}, "plate", func(n vehicle.Need) bool { return slices.Contains(n.Plates, vehicle.PlateWish) }, false},
}

// vehicleUpload is a file input of the form.
type vehicleUpload struct {
	Kind, ID, Label, Hint, Error string
	Kept                         blob.Ref // a file received with an earlier post of the form
	ErrorPrefix, OptionalText    string
}

// vehicleFormData is what page_kfz_form.html shows.
type vehicleFormData struct {
	Action, Process, ProcessLabel string
	Submission                    string
	Sections                      map[string][]*orderField
	OwnerKinds                    []orderChoice
	OwnerKindError                string
	Plates                        []orderChoice
	PlateError                    string
	Uploads                       []vehicleUpload
	Problems                      []orderProblem
	Failure                       string
}

// Has says whether the form shows any error.
func (d vehicleFormData) Has() bool { return len(d.Problems) > 0 || d.Failure != "" }

// vehicleMessage is one of Validate's messages in lang: the German part
// on German pages, the English part on the others.
func vehicleMessage(lang, msg string) string {
	de, en, ok := strings.Cut(msg, " / ")
	if lang == "de" || !ok {
		return de
	}
	return en
}

func (s *Server) newVehicleForm(lang, process string, form url.Values, fields map[string]string, kept map[string]blob.Ref) vehicleFormData {
	need := vehicle.Needs[process]
	d := vehicleFormData{Action: vehiclePortalPath + "/" + process, Process: process, ProcessLabel: ui.Translate(lang, "portal.kfz.process."+process),
		Sections: map[string][]*orderField{}}
	prefix, optional := ui.Translate(lang, "portal.order.errors.prefix"), ui.Translate(lang, "portal.order.optional")
	var order []string
	for _, in := range vehicleInputs {
		if !in.when(need) {
			continue
		}
		f := in.orderField
		f.ID, f.Label = fieldID(f.Name), ui.Translate(lang, "portal.kfz.f."+f.Name)
		if h, ok := ui.Lookup("de", "portal.kfz.hint."+f.Name); ok && h != "" {
			f.Hint = ui.Translate(lang, "portal.kfz.hint."+f.Name)
		}
		if f.Name == "vehicle.current_plate" && !need.CurrentPlate {
			f.Optional = true
		}
		f.Value, f.Error = strings.TrimSpace(form.Get(f.Name)), fields[f.Name]
		f.OptionalText, f.ErrorPrefix = optional, prefix
		f.Conditional = in.conditional
		d.Sections[in.section] = append(d.Sections[in.section], &f)
		order = append(order, f.Name)
		if f.Name == "owner.given_names" {
			order = append(order, "owner.kind")
		}
	}
	for _, k := range []string{"person", "company"} {
		d.OwnerKinds = append(d.OwnerKinds, orderChoice{Value: k, ID: "f-owner-kind-" + k, Label: ui.Translate(lang, "portal.kfz.owner."+k),
			Checked: form.Get("owner.kind") == k || (k == "person" && form.Get("owner.kind") == "")})
	}
	d.OwnerKindError = fields["owner.kind"]
	for _, m := range need.Plates {
		d.Plates = append(d.Plates, orderChoice{Value: m, ID: "f-plate-mode-" + m, Label: ui.Translate(lang, "portal.kfz.plate."+m),
			Hint: ui.Translate(lang, "portal.kfz.plate."+m+".hint"), Checked: form.Get("plate.mode") == m})
	}
	d.PlateError = fields["plate.mode"]
	if len(need.Plates) > 0 {
		order = append(order, "plate.mode", "plate.plate", "plate.reservation")
	}
	for _, k := range vehicleUploads {
		u := vehicleUpload{Kind: k, ID: "f-file-" + k, Label: ui.Translate(lang, "portal.kfz.file."+k), Hint: ui.Translate(lang, "portal.kfz.file.hint"),
			Error: fields["file."+k], Kept: kept[k], ErrorPrefix: prefix, OptionalText: optional}
		d.Uploads = append(d.Uploads, u)
		order = append(order, "file."+k)
	}
	for _, name := range order {
		if msg, ok := fields[name]; ok {
			href := "#" + fieldID(name)
			switch {
			case name == "owner.kind":
				href = "#f-owner-kind-person"
			case name == "plate.mode" && len(need.Plates) > 0:
				href = "#f-plate-mode-" + need.Plates[0]
			case strings.HasPrefix(name, "file."):
				href = "#f-file-" + strings.TrimPrefix(name, "file.")
			}
			d.Problems = append(d.Problems, orderProblem{Href: href, Message: msg})
		}
	}
	return d
}

// vehicleChoose: GET /kfz, the processes.
func (s *Server) vehicleChoose(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	var choices []orderChoice
	for _, p := range vehicle.Processes {
		choices = append(choices, orderChoice{Value: vehiclePortalPath + "/" + p, Label: ui.Translate(lang, "portal.kfz.process."+p),
			Hint: ui.Translate(lang, "portal.kfz.process."+p+".hint")})
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, http.StatusOK, "kfz_choose", ui.Page{Lang: lang, Title: ui.Translate(lang, "portal.kfz.title"), Surface: "portal",
		Path: vehiclePortalPath, Langs: ui.CitizenLangs, Data: choices})
}

// vehicleForm: GET /kfz/{process}.
func (s *Server) vehicleForm(w http.ResponseWriter, r *http.Request) {
	process := chi.URLParam(r, "process")
	if _, ok := vehicle.Needs[process]; !ok {
		s.notFound(w, r)
		return
	}
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	d := s.newVehicleForm(lang, process, url.Values{}, nil, nil)
	d.Submission = newSubmission()
	s.renderVehicleForm(w, r, http.StatusOK, lang, d)
}

func (s *Server) renderVehicleForm(w http.ResponseWriter, r *http.Request, status int, lang string, d vehicleFormData) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	title := d.ProcessLabel + " · " + ui.Translate(lang, "portal.kfz.title")
	if d.Has() {
		title = ui.Translate(lang, "portal.order.errors.prefix") + ": " + title
	}
	s.Renderer.Render(w, status, "kfz_form", ui.Page{Lang: lang, Title: title, Surface: "portal", Path: d.Action, Langs: ui.CitizenLangs, Data: d})
}

// vehicleFormPost: POST /kfz/{process}. Bad input shows the form again
// (400) with everything typed and a message per field, and submits
// nothing; a submitted application goes on to its confirmation (303). A
// repeated post of the same form goes to the same application.
func (s *Server) vehicleFormPost(w http.ResponseWriter, r *http.Request) {
	process := chi.URLParam(r, "process")
	if _, ok := vehicle.Needs[process]; !ok {
		s.notFound(w, r)
		return
	}
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	r.Body = http.MaxBytesReader(w, r.Body, maxVehicleForm)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		d := s.newVehicleForm(lang, process, url.Values{}, nil, nil)
		d.Submission, d.Failure = newSubmission(), ui.Translate(lang, "portal.kfz.err.toobig")
		s.renderVehicleForm(w, r, http.StatusBadRequest, lang, d)
		return
	}
	defer r.MultipartForm.RemoveAll()
	form := url.Values(r.MultipartForm.Value)
	key := form.Get("submission")
	var sub *submission
	for {
		var first bool
		if sub, first = s.vehicleSubmissions.begin(key, s.now()); first {
			break
		}
		placed, ok := sub.wait(r.Context())
		if ok {
			http.Redirect(w, r, vehiclePage(placed.Token)+"/bestaetigung", http.StatusSeeOther)
			return
		}
		if r.Context().Err() != nil {
			return
		}
	}
	fields := map[string]string{}
	failure := ""
	kept := s.vehicleFiles(r, lang, form, fields)
	app := vehicleApplication(process, form, lang, kept)
	status := http.StatusBadRequest
	var done vehicle.Submitted
	var err error
	if len(fields) == 0 {
		done, err = s.Central.SubmitVehicleApplication(r.Context(), app, "")
	}
	s.vehicleSubmissions.finish(key, sub, registration.Placed{Code: done.ID, Token: done.Token}, len(fields) == 0 && err == nil)
	if len(fields) == 0 && err == nil {
		http.Redirect(w, r, vehiclePage(done.Token)+"/bestaetigung", http.StatusSeeOther)
		return
	}
	switch veedel.ErrorCode(err) {
	case "":
	case veedel.EINVALID:
		for path, msg := range veedel.ErrorFields(err) {
			target := path
			if rest, ok := strings.CutPrefix(path, "attachments."); ok {
				i, _, _ := strings.Cut(rest, ".")
				if n, err := strconv.Atoi(i); err == nil && n < len(app.Attachments) {
					target = "file." + app.Attachments[n].Kind
				}
			}
			if _, ok := fields[target]; !ok {
				fields[target] = vehicleMessage(lang, msg)
			}
		}
		if len(fields) == 0 {
			failure = vehicleMessage(lang, veedel.ErrorMessage(err))
		}
	case veedel.EUNAVAILABLE:
		status, failure = http.StatusServiceUnavailable, ui.Translate(lang, "portal.kfz.err.unavailable")
	default:
		s.Logger.Error("vehicle form", "err", err)
		status, failure = http.StatusInternalServerError, ui.Translate(lang, "portal.order.failed")
	}
	d := s.newVehicleForm(lang, process, form, fields, kept)
	d.Submission, d.Failure = newSubmission(), failure
	s.renderVehicleForm(w, r, status, lang, d)
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// vehicleFiles stores the files chosen and returns, by kind, the files
// the application names: new ones, else those kept from an earlier post.
// A file refused goes to fields.
func (s *Server) vehicleFiles(r *http.Request, lang string, form url.Values, fields map[string]string) map[string]blob.Ref {
	kept := map[string]blob.Ref{}
	for _, k := range vehicleUploads {
		if h := form.Get("kept." + k); sha256Hex.MatchString(h) {
			if rc, ref, err := s.Central.OpenVehicleFile(r.Context(), blob.Ref{SHA256: h}); err == nil {
				rc.Close()
				ref.Name = form.Get("kept." + k + ".name")
				kept[k] = ref
			}
		}
		fhs := r.MultipartForm.File["file."+k]
		if len(fhs) == 0 || fhs[0].Size == 0 {
			continue
		}
		ref, err := s.storeFormFile(r, fhs[0])
		if err != nil {
			fields["file."+k] = vehicleMessage(lang, veedel.ErrorMessage(err))
			if veedel.ErrorCode(err) != veedel.EINVALID {
				s.Logger.Warn("vehicle form: file not stored", "err", err)
				fields["file."+k] = ui.Translate(lang, "portal.kfz.err.file")
			}
			delete(kept, k)
			continue
		}
		kept[k] = ref
	}
	return kept
}

func (s *Server) storeFormFile(r *http.Request, fh *multipart.FileHeader) (blob.Ref, error) {
	f, err := fh.Open()
	if err != nil {
		return blob.Ref{}, err
	}
	defer f.Close()
	ref, err := s.Central.PutVehicleFile(r.Context(), f, fh.Filename)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || (err != nil && veedel.ErrorCode(err) == veedel.EINVALID) {
		return blob.Ref{}, veedel.Errorf(veedel.EINVALID, "Nur PDF oder JPEG, höchstens 10 MB / PDF or JPEG only, at most 10 MB")
	}
	return ref, err
}

var monthYear = regexp.MustCompile(`^([0-9]{1,2})\s?[./]\s?([0-9]{4})$`)

// vehicleApplication reads the form into the API's application: dates
// typed the German way (17.03.1984, 05/2027) in ISO form.
func vehicleApplication(process string, form url.Values, lang string, files map[string]blob.Ref) vehicle.Application {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	hu := get("vehicle.hu_due")
	if m := monthYear.FindStringSubmatch(hu); m != nil {
		hu = m[2] + "-" + strings.Repeat("0", 2-len(m[1])) + m[1]
	}
	app := vehicle.Application{
		Process: process,
		Owner: vehicle.Owner{Kind: get("owner.kind"), FamilyName: get("owner.family_name"), GivenNames: get("owner.given_names"),
			BirthDate: isoDate(get("owner.birth_date")), CompanyName: get("owner.company_name"), Register: get("owner.register"),
			Street: get("owner.street"), Postcode: get("owner.postcode"), City: get("owner.city"), Email: get("owner.email"), Phone: get("owner.phone")},
		Vehicle: vehicle.VehicleData{FIN: get("vehicle.fin"), ZB1: get("vehicle.zb1_number"), ZB1Code: get("vehicle.zb1_code"),
			ZB2: get("vehicle.zb2_number"), ZB2Code: get("vehicle.zb2_code"), HUDue: hu, Plate: get("vehicle.current_plate"),
			PlateSeal: get("vehicle.plate_seal_code")},
		EVB:   get("evb"),
		Plate: vehicle.PlateChoice{Mode: get("plate.mode"), Plate: get("plate.plate"), Reservation: get("plate.reservation")},
		Lang:  lang,
	}
	if app.Owner.Kind == "company" {
		app.Owner.FamilyName, app.Owner.GivenNames, app.Owner.BirthDate = "", "", ""
	} else {
		app.Owner.CompanyName, app.Owner.Register = "", ""
	}
	if get("sepa.iban") != "" || get("sepa.holder") != "" {
		app.SEPA = &vehicle.SEPA{IBAN: get("sepa.iban"), Holder: get("sepa.holder")}
	}
	for _, k := range vehicleUploads {
		if ref, ok := files[k]; ok {
			app.Attachments = append(app.Attachments, vehicle.Attachment{Kind: k, File: ref})
		}
	}
	return app
}

func vehiclePage(token string) string { return "/kfz/s/" + url.PathEscape(token) }
