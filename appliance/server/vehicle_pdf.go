package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/internal/pdf"
	"github.com/veedel/veedel/ui"
)

// The provisional proof of registration (vorläufiger Zulassungsnachweis)
// an approval produces: an A5 slip with the plate in large letters, the
// FIN, the last day it is valid, and a QR code of central's
// /verify/{code}, where anyone (the police) checks it. It holds nothing
// personal: it travels up to central and to the applicant's status page.

// VerifyURL is central's verification page of a permit's code.
func (s *Server) VerifyURL(code string) string {
	return strings.TrimRight(s.PortalURL, "/") + "/verify/" + code
}

// permitPDF renders the permit of p, issued at at by the office head
// names (s.sender(), read before: the store's lock may be held).
func (s *Server) permitPDF(p *vehicle.ApplicationApproved, at time.Time, head []string) ([]byte, error) {
	t := func(key string, args ...any) string { return ui.Translate(letterLang, key, args...) }
	until := ui.Day(letterLang, p.ValidUntil)
	heading, big := t("kfz.permit.heading"), p.Plate
	plate := p.Plate
	if p.Plate == "" {
		heading, big, plate = t("kfz.permit.heading.off"), p.FIN, t("kfz.permit.noplate")
	}
	doc := pdf.Slip{
		Lang:       letterLang,
		Title:      t("kfz.permit.title", p.ID),
		Letterhead: head,
		Heading:    heading,
		Code:       big,
		QR:         s.VerifyURL(p.Code),
		Facts: []pdf.Fact{
			{Label: t("kfz.plate"), Value: plate},
			{Label: t("kfz.fin"), Value: p.FIN},
			{Label: t("kfz.permit.valid"), Value: until},
			{Label: t("kfz.permit.code"), Value: p.Code},
			{Label: t("kfz.id"), Value: p.ID},
		},
		Notes: []string{t("kfz.permit.note", until), t("kfz.permit.verify", s.VerifyURL(p.Code))},
		Date:  at,
	}
	return pdf.Bytes(doc)
}

// deskVehicleFile: GET /desk/vehicle/{id}/files/{sha}: an attachment of
// the application, or its permit, once the file is at the site.
func (s *Server) deskVehicleFile(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := vehicle.Get(ctx, s.Store.Read(), chi.URLParam(r, "id"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	sha := chi.URLParam(r, "sha")
	name, ok := "", false
	if a.Permit != nil && a.Permit.SHA256 == sha {
		name, ok = a.Permit.Name, true
	} else if files, err := vehicle.Attachments(ctx, s.Store.Read(), a.ID); err == nil {
		for _, f := range files {
			if f.File.SHA256 == sha {
				name, ok = f.File.Name, true
			}
		}
	}
	if !ok {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Keine solche Datei zu diesem Antrag / no such file with this application"))
		return
	}
	rc, ref, err := s.Store.Blobs().Open(ctx, sha)
	if err != nil {
		if veedel.ErrorCode(err) == veedel.ENOTFOUND {
			err = veedel.Errorf(veedel.ENOTFOUND, "%s", ui.Translate(ui.Lang(w, r), "kfz.file.pending"))
		}
		s.renderError(w, r, err)
		return
	}
	defer rc.Close()
	if name == "" {
		name = sha[:12]
	}
	w.Header().Set("Content-Type", ref.Type)
	w.Header().Set("Content-Disposition", `inline; filename="`+strings.NewReplacer(`"`, "", "\\", "", "\r", "", "\n", "").Replace(name)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.FormatInt(ref.Size, 10))
	io.Copy(w, rc)
}
