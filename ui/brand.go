package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/veedel/veedel"
)

// Brand is what a city sets to run Veedel under its own name: its name in
// each language, its logo and its two brand colours (bars, buttons,
// errors). Everything else (layout, the contrast of text) stays as the ui
// package makes it, so that a city cannot configure itself out of WCAG AA:
// LoadBrand refuses colours white text cannot be read on. The zero Brand
// is Cologne's, as the texts in locales/ name it.
type Brand struct {
	// City is the city's name by language ("de": "Stadt Köln"); a
	// language it lacks takes German, and without German the texts'.
	City map[string]string `json:"city"`
	// Logo is the logo file (SVG or PNG, up to 256 KiB), relative to the
	// brand file; shown 40 px high beside the city's name. Empty: a plain
	// mark in the brand colour.
	Logo   string      `json:"logo"`
	Colors BrandColors `json:"colors"`

	logo     []byte
	logoType string
}

// BrandColors are the brand's colours as #rrggbb.
type BrandColors struct {
	// Brand is the main colour (Cologne red #b00020): bars, buttons,
	// error borders; white text on it must reach 4.5:1.
	Brand string `json:"brand"`
	// BrandDark is the darker shade for hover and error text on a light
	// tint; it must reach 7:1 against white.
	BrandDark string `json:"brand_dark"`
}

const maxLogo = 256 << 10

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// LoadBrand reads a brand file (JSON, see Brand and docs/DEPLOY.md). Its
// errors are EINVALID and name the field.
func LoadBrand(file string) (*Brand, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "brand file: %v", err)
	}
	var b Brand
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: %v", file, err)
	}
	for lang, name := range b.City {
		if strings.TrimSpace(name) == "" || len(name) > 80 {
			return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: city.%s: a name of 1 to 80 characters is needed", file, lang)
		}
	}
	for _, c := range []struct {
		field, value string
		min          float64
	}{{"colors.brand", b.Colors.Brand, 4.5}, {"colors.brand_dark", b.Colors.BrandDark, 7}} {
		if c.value == "" {
			continue
		}
		if !hexColor.MatchString(c.value) {
			return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: %s: %q is not a colour like #b00020", file, c.field, c.value)
		}
		if r := contrast(c.value, "#ffffff"); r < c.min {
			return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: %s: %s has a contrast of %.1f:1 with white, at least %.1f:1 is needed (WCAG AA): choose a darker shade", file, c.field, c.value, r, c.min)
		}
	}
	if b.Logo != "" {
		path := b.Logo
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(file), path)
		}
		logo, err := os.ReadFile(path)
		if err != nil {
			return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: logo: %v", file, err)
		}
		if len(logo) > maxLogo {
			return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: logo: %d KiB, at most %d KiB", file, len(logo)>>10, maxLogo>>10)
		}
		switch ct := http.DetectContentType(logo); {
		case ct == "image/png":
			b.logoType = ct
		case strings.HasSuffix(strings.ToLower(path), ".svg") && strings.Contains(string(logo), "<svg"):
			b.logoType = "image/svg+xml"
		default:
			return nil, veedel.Errorf(veedel.EINVALID, "brand file %s: logo: %s is %s; an SVG or PNG file is needed", file, b.Logo, ct)
		}
		b.logo = logo
	}
	return &b, nil
}

// CityName is the city's name in lang.
func (b *Brand) CityName(lang string) string {
	if b != nil {
		if s := b.City[lang]; s != "" {
			return s
		}
		if s := b.City["de"]; s != "" {
			return s
		}
	}
	return Translate(lang, "city")
}

func (b *Brand) colors() BrandColors {
	c := BrandColors{Brand: "#b00020", BrandDark: "#7f0017"}
	if b != nil && b.Colors.Brand != "" {
		c.Brand = b.Colors.Brand
	}
	if b != nil && b.Colors.BrandDark != "" {
		c.BrandDark = b.Colors.BrandDark
	}
	return c
}

// CSS is the stylesheet that sets the brand's colours (/brand.css, after
// app.css; a file, not an inline style, so the pages' CSP stays strict).
func (b *Brand) CSS() string {
	c := b.colors()
	return fmt.Sprintf(":root { --brand: %s; --brand-dark: %s; }\n", c.Brand, c.BrandDark)
}

// LogoFile is the logo and its content type: the configured file, or the
// default mark (a waiting-number ticket) in the brand colour.
func (b *Brand) LogoFile() ([]byte, string) {
	if b != nil && b.logo != nil {
		return b.logo, b.logoType
	}
	return []byte(fmt.Sprintf(defaultLogo, b.colors().Brand)), "image/svg+xml"
}

// defaultLogo is a ticket with a notch and three lines, white on the brand
// colour: Veedel's mark where a city has set none.
const defaultLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">` +
	`<rect width="40" height="40" rx="8" fill="%s"/>` +
	`<path d="M11 8h18v9a3 3 0 0 0 0 6v9H11v-9a3 3 0 0 0 0-6z" fill="none" stroke="#fff" stroke-width="2.5" stroke-linejoin="round"/>` +
	`<path d="M15.5 14h9M15.5 20h9M15.5 26h6" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>`

// ServeCSS serves the brand's stylesheet.
func (b *Brand) ServeCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	fmt.Fprint(w, b.CSS())
}

// ServeLogo serves the logo. An SVG from a brand file is served with a
// policy that forbids scripts and outside loads: it is shown as an image
// only, and must not become a page of its own.
func (b *Brand) ServeLogo(w http.ResponseWriter, r *http.Request) {
	data, ct := b.LogoFile()
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// contrast is the WCAG 2.1 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	v, _ := strconv.ParseUint(hex[1:], 16, 32)
	ch := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xff) + 0.7152*ch(v>>8&0xff) + 0.0722*ch(v&0xff)
}
