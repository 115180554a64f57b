package central

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// i-Kfz applications (appliance/vehicle): central validates an
// application, seals it to the registration site that decides it and
// appends it to that site's outbound log; that entry is central's only
// record (its read model folds it, with the token's hash). From then on
// the site alone decides. Citizens submit through the portal and the API,
// companies through the business portal: all through
// SubmitVehicleApplication.

// VehicleApplications returns the applications' read model.
func (c *Central) VehicleApplications() *vehicle.Central {
	wf, _ := c.Workflow(vehicle.Prefix).(*vehicle.Central)
	return wf
}

// OnVehicleStatusChange calls fn with every status change of an
// application (vehicle.Central.OnChange: again for each on a restart's
// replay; key the work by ID, Status and At).
func (c *Central) OnVehicleStatusChange(fn func(vehicle.StatusChange)) {
	c.VehicleApplications().OnChange(fn)
}

// KeepUploads is how long central keeps an upload that no submitted
// application holds (a form left half-filled, an API client's file never
// used): its day's hold is let go once that day ended KeepUploads ago, so
// an upload stays one to two days. A submitted application holds its
// files from the submission on (holdFiles).
const KeepUploads = 24 * time.Hour

// uploadHolder is the hold an upload gets on the day it arrives.
const uploadHolder = "upload/"

// PutVehicleFile stores an applicant's upload (PDF or JPEG, at most
// vehicle.MaxAttachmentSize), held by the day's upload hold (KeepUploads),
// and returns its Ref for the application.
func (c *Central) PutVehicleFile(ctx context.Context, r io.Reader, name string) (blob.Ref, error) {
	ref, err := c.Blobs().Put(ctx, r, name, vehicle.MaxAttachmentSize)
	if err != nil {
		return ref, err
	}
	if err := c.Blobs().Hold(ctx, uploadHolder+c.now().UTC().Format(time.DateOnly), ref.SHA256); err != nil {
		return blob.Ref{}, err
	}
	return ref, nil
}

// OpenVehicleFile opens a stored file (a permit for its applicant);
// ENOTFOUND while it is not at central.
func (c *Central) OpenVehicleFile(ctx context.Context, ref blob.Ref) (io.ReadCloser, blob.Ref, error) {
	return c.Blobs().Open(ctx, ref.SHA256)
}

// SubmitVehicleApplication validates app, checks a Wunschkennzeichen's
// reservation and the uploads, seals the application to the registration
// site and sends it down. company is the business account submitting it
// ("": a citizen). When it returns without error the application is
// durable in the site's outbound log; the token is the applicant's only
// way to its status.
func (c *Central) SubmitVehicleApplication(ctx context.Context, app vehicle.Application, company string) (vehicle.Submitted, error) {
	now := c.now()
	model := c.Plates()
	f := vehicle.Validate(app, now, model.BlockedList())
	app = vehicle.Normalize(app)
	site, resvHash := "", ""
	if _, bad := f["plate.plate"]; !bad && app.Plate.Mode == vehicle.PlateWish && app.Plate.Reservation != "" {
		s, h, msg, err := c.checkReservation(ctx, app.Plate)
		if err != nil {
			return vehicle.Submitted{}, err
		}
		if msg != "" {
			f.Add("plate.reservation", msg)
		}
		site, resvHash = s, h
	}
	for i := range app.Attachments {
		a := &app.Attachments[i]
		if _, bad := f["attachments."+strconv.Itoa(i)+".file"]; bad {
			continue
		}
		ref, err := c.storedFile(ctx, a.File)
		if veedel.ErrorCode(err) == veedel.ENOTFOUND {
			f.Add("attachments."+strconv.Itoa(i)+".file", "Datei nicht angekommen: bitte erneut hochladen / file not received: please upload it again")
			continue
		} else if err != nil {
			return vehicle.Submitted{}, err
		}
		ref.Name = a.File.Name
		a.File = ref // in clear in the event: the site may fetch it (central/blobs.go)
	}
	if err := f.Err(vehicle.Invalid); err != nil {
		return vehicle.Submitted{}, err
	}
	if site == "" {
		// No reservation: routed (vehicle_routing.go). The site is
		// fixed by the one outbound entry below.
		var err error
		if site, err = c.VehicleSite(app.Owner.Postcode); err != nil {
			return vehicle.Submitted{}, err
		}
	}
	box, err := c.BoxKey(ctx, site)
	if err != nil {
		return vehicle.Submitted{}, err
	}
	id := vehicle.NewID()
	sealedApp := app
	if resvHash != "" {
		sealedApp.Plate.Reservation = resvHash // the site needs the hash only: the token stays the applicant's
	}
	plain, err := cbor.Marshal(sealedApp)
	if err != nil {
		return vehicle.Submitted{}, err
	}
	sealed, err := changelog.Seal(box, vehicle.SealInfo(site, id), plain)
	if err != nil {
		return vehicle.Submitted{}, veedel.Errorf(veedel.EUNAVAILABLE, "Die Zulassungsstelle nimmt gerade keine Anträge an / the registration office takes no applications right now")
	}
	var tok [18]byte
	rand.Read(tok[:])
	token := base64.RawURLEncoding.EncodeToString(tok[:])
	hash := sha256.Sum256([]byte(token))
	p := &vehicle.ApplicationSubmitted{ID: id, Process: app.Process, Sealed: sealed, Attachments: app.Attachments,
		Submitted: now.UnixMilli(), TokenHash: hash[:], Company: company, PlateMode: app.Plate.Mode, Reservation: resvHash, Lang: app.Lang}
	if err := c.holdFiles(ctx, id, app.Attachments); err != nil {
		return vehicle.Submitted{}, err
	}
	if err := c.SendToSite(ctx, site, workflow.Event{Type: vehicle.TypeSubmitted, Entity: vehicle.Entity(id), At: now, Payload: p}); err != nil {
		return vehicle.Submitted{}, err
	}
	return vehicle.Submitted{ID: id, Token: token, Status: vehicle.StatusSubmitted, StatusURL: VehicleStatusPath(token)}, nil
}

// VehicleStatusPath is the API path of an application's status.
func VehicleStatusPath(token string) string { return "/api/v1/vehicle-applications/" + token }

// checkReservation checks a Wunschkennzeichen's reservation token: live at
// central, for this plate, handed to a site and not used. It returns the
// site, the token's hash (hex) as plates.reservation_sent names it, or
// the field's message.
func (c *Central) checkReservation(ctx context.Context, choice vehicle.PlateChoice) (site, hash, msg string, err error) {
	const unknown = "Reservierung unbekannt, abgelaufen oder für ein anderes Kennzeichen / reservation unknown, expired or for another plate"
	ps, err := c.plateStore()
	if err != nil {
		return "", "", "", err
	}
	h := plates.TokenHash(choice.Reservation)
	r, err := ps.PlateReservation(ctx, choice.Plate, c.now())
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		return "", "", unknown, nil
	} else if err != nil {
		return "", "", "", err
	}
	if subtle.ConstantTimeCompare(r.TokenHash, h) != 1 {
		return "", "", unknown, nil
	}
	model := c.Plates()
	if model.Consumed(h) {
		return "", "", "Diese Reservierung ist schon verwendet / this reservation is used already", nil
	}
	if s, ok := model.Reserved(h); !ok || s != r.Site {
		return "", "", "Die Reservierung ist noch nicht bei der Zulassungsstelle: bitte in einer Minute erneut / the reservation has not reached the office yet: try again in a minute", nil
	}
	return r.Site, hex.EncodeToString(h), "", nil
}

// storedFile returns the Ref of a file central has, as its store checked
// it (type and size from the bytes, not from the applicant).
func (c *Central) storedFile(ctx context.Context, ref blob.Ref) (blob.Ref, error) {
	rc, stored, err := c.OpenVehicleFile(ctx, ref)
	if err != nil {
		return blob.Ref{}, err
	}
	rc.Close()
	return stored, nil
}

// MaxSupplementNote bounds the applicant's answer to a request for more.
const MaxSupplementNote = 2000

// SupplementVehicleApplication forwards the applicant's answer to the
// site's request for more (status info_requested): a note, sealed like
// the application, and files central has. ENOTFOUND for an unknown
// token, ECONFLICT when nothing is asked.
func (c *Central) SupplementVehicleApplication(ctx context.Context, token, note string, files []vehicle.Attachment) error {
	a, ok := c.VehicleApplications().ByToken(token)
	if !ok {
		return veedel.Errorf(veedel.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	if a.Status != vehicle.StatusInfoRequested {
		return veedel.Errorf(veedel.ECONFLICT, "Die Zulassungsstelle hat nichts nachgefragt / the registration office asked for nothing")
	}
	f := veedel.FieldErrors{}
	note = strings.TrimSpace(note)
	switch {
	case note == "" && len(files) == 0:
		f.Add("note", "Bitte eine Antwort schreiben oder eine Datei anhängen / please write an answer or attach a file")
	case utf8.RuneCountInString(note) > MaxSupplementNote:
		f.Add("note", "Höchstens 2000 Zeichen / at most 2000 characters")
	default:
		if r, bad := veedel.UnsafeRune(note); bad {
			de, en := veedel.DescribeRune(r)
			f.Add("note", "Enthält "+de+": bitte entfernen / contains "+en+": please remove it")
		}
	}
	if len(files) > vehicle.MaxAttachments {
		f.Add("attachments", "Höchstens 5 Dateien / at most 5 files")
	}
	for i := range files {
		ref, err := c.storedFile(ctx, files[i].File)
		if veedel.ErrorCode(err) == veedel.ENOTFOUND {
			f.Add("attachments."+strconv.Itoa(i)+".file", "Datei nicht angekommen: bitte erneut hochladen / file not received: please upload it again")
			continue
		} else if err != nil {
			return err
		}
		ref.Name = files[i].File.Name
		files[i].File = ref
		if !slices.Contains(vehicle.AttachmentKinds, files[i].Kind) {
			files[i].Kind = vehicle.AttachmentOther
		}
	}
	if err := f.Err(vehicle.Invalid); err != nil {
		return err
	}
	p := &vehicle.ApplicationSupplemented{ID: a.ID, Attachments: files}
	if err := c.holdFiles(ctx, a.ID, files); err != nil {
		return err
	}
	if note != "" {
		box, err := c.BoxKey(ctx, a.Site)
		if err != nil {
			return err
		}
		plain, err := cbor.Marshal(note)
		if err != nil {
			return err
		}
		if p.Sealed, err = changelog.Seal(box, vehicle.SealInfo(a.Site, a.ID), plain); err != nil {
			return veedel.Errorf(veedel.EUNAVAILABLE, "Die Zulassungsstelle nimmt gerade nichts an / the registration office takes nothing right now")
		}
	}
	return c.SendToSite(ctx, a.Site, workflow.Event{Type: vehicle.TypeSupplemented, Entity: vehicle.Entity(a.ID), At: c.now(), Payload: p})
}

// holdFiles records that application id holds its files at central
// (sync/blob's holds), before the entry that references them is sent:
// should the sending fail, the file is only kept longer than needed,
// never erased while needed.
func (c *Central) holdFiles(ctx context.Context, id string, files []vehicle.Attachment) error {
	for _, f := range files {
		if err := c.Blobs().Hold(ctx, vehicle.Entity(id), f.File.SHA256); err != nil {
			return err
		}
	}
	// An upload erased after it was checked and before it was held (its
	// day's hold let go in that moment, EraseVehicleFiles): the hold keeps
	// nothing, so it goes again and the applicant is asked for the file.
	// Only the missing files' holds go: a file present may be one the
	// application held before (a supplement repeating an attachment), and
	// releasing it would erase it.
	missing := false
	for _, f := range files {
		if _, err := c.storedFile(ctx, f.File); veedel.ErrorCode(err) == veedel.ENOTFOUND {
			c.Blobs().Release(ctx, vehicle.Entity(id), f.File.SHA256)
			missing = true
		} else if err != nil {
			return err
		}
	}
	if missing {
		return veedel.Errorf(veedel.EINVALID, "Datei nicht angekommen: bitte erneut hochladen / file not received: please upload it again")
	}
	return nil
}

// EraseVehicleFiles lets go of the files whose keeping time at central is
// over (vehicle.Central.Erasable: attachments vehicle.KeepDetails after
// the application was done, the permit as long after its validity
// ended), each in its own transaction (blob.SQL.Release: a file another
// record holds stays; an erased one is 410 to a site that asks). It
// returns how many files went.
func (c *Central) EraseVehicleFiles(ctx context.Context) (int, error) {
	model := c.VehicleApplications()
	if model == nil {
		return 0, nil
	}
	n := 0
	for _, r := range model.Erasable(c.now()) {
		gone, err := c.Blobs().Release(ctx, vehicle.Entity(r.ID), r.SHA256)
		if veedel.ErrorCode(err) == veedel.EUNAVAILABLE {
			return n, nil // this central keeps no files
		} else if err != nil {
			return n, err
		}
		model.Erased(r)
		if gone {
			n++
		}
	}
	// Uploads past KeepUploads: their day's hold goes; a file an
	// application holds stays, one nothing holds is erased.
	before := uploadHolder + c.now().Add(-KeepUploads).UTC().Format(time.DateOnly)
	holds, err := c.Blobs().HeldBetween(ctx, uploadHolder, before)
	if err != nil {
		return n, err
	}
	for _, h := range holds {
		gone, err := c.Blobs().Release(ctx, h.Holder, h.SHA256)
		if err != nil {
			return n, err
		}
		if gone {
			n++
		}
	}
	return n, nil
}

// RunVehicleErasure erases the files whose keeping time is over now and
// then every interval until ctx ends (one node of a cluster runs it).
func (c *Central) RunVehicleErasure(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := c.EraseVehicleFiles(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("vehicle: erase files", "err", err)
		} else if n > 0 {
			c.log.Info("vehicle: erased files past their keeping time", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
