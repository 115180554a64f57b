package business_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/internal/ratelimit"
)

// BenchmarkBulkUpload500: one company's upload of 500 Umschreibungen as
// JSON over real HTTP to central on SQLite: each row validated, sealed to
// the registration site, appended to its outbound log and recorded under
// its row key. ns/op is the time of one upload (lower is better), rows/s
// its throughput (higher is better). Every upload has new row keys. The
// baseline, single: the same 500 applications one request each to the
// citizens' POST /api/v1/vehicle-applications.
func BenchmarkBulkUpload500(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "central.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	c, err := central.New(ctx, store, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	const site = "kalk"
	c.Plates().SetSites([]string{site})
	box, _ := ecdh.X25519().GenerateKey(rand.Reader)
	if err := c.RecordBoxKey(ctx, site, box.PublicKey().Bytes()); err != nil {
		b.Fatal(err)
	}
	st := &business.Store{DB: store.Writer()}
	srv := &server.Server{Central: c, Logger: slog.New(slog.DiscardHandler), Business: st, BusinessLimit: ratelimit.Limit{Burst: 1e6, Every: time.Nanosecond}}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	st.CreateCompany(ctx, "rheinflotte", "Rheinflotte GmbH", time.Now())
	_, key, err := st.CreateAPIKey(ctx, "rheinflotte", "ERP", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	upload := func(n int) string {
		rows := make([]string, 500)
		for i := range rows {
			rows[i] = fmt.Sprintf(`{"row_key":"u%d-%d","process":"umschreibung",
 "owner":{"kind":"person","family_name":"Schmitz","given_names":"Anna","birth_date":"1984-03-17","street":"Venloer Str. 12","postcode":"50672","city":"Köln"},
 "vehicle":{"fin":"WVWZZZ1JZXW000001","zb1_number":"AB1234567C","zb1_code":"K7QM4XP","zb2_number":"AF7654321","zb2_code":"K7QM4XPA2B3C","current_plate":"K-AB 123"},
 "evb":"A1B2C3D","sepa":{"iban":"DE89370400440532013000","holder":"Anna Schmitz"},"plate":{"mode":"random"}}`, n, i)
		}
		return "[" + strings.Join(rows, ",") + "]"
	}
	batch := 0 // row keys are new in every upload, also across b.Run's rounds
	b.Run("bulk", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			batch++
			body := upload(batch)
			b.StartTimer()
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/business/vehicle-applications", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(string(out), `"submitted":500`) {
				b.Fatalf("%d %.300s", resp.StatusCode, out)
			}
		}
		b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("single", func(b *testing.B) {
		one := upload(0)
		one = one[1 : strings.Index(one, "}}")+2]
		one = `{` + one[strings.Index(one, `"process"`):]
		for range b.N {
			for range 500 {
				resp, err := http.Post(ts.URL+"/api/v1/vehicle-applications", "application/json", strings.NewReader(one))
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("%d %.300s", resp.StatusCode, out)
				}
			}
		}
		b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
