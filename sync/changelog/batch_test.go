package changelog_test

import (
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

func TestBatchValidate(t *testing.T) {
	batch := func(site string, entries ...changelog.Entry) *changelog.Batch {
		return &changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: entries, SentAt: baseHLC}
	}
	c := mustChain(t, "kalk", 6)
	other := mustChainText(t, "kalk", 6, "fork") // the same site's seqs with other content

	for _, tc := range []struct {
		name  string
		batch *changelog.Batch
	}{
		{"OK", batch("kalk", c...)},
		{"OKFromTheMiddle", batch("kalk", c[3:]...)},
		{"OKSingle", batch("kalk", c[4])},
		{"OKHeartbeat", batch("kalk")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.batch.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		batch *changelog.Batch
	}{
		{"ErrNoSite", batch("", c[0])},
		{"ErrNoSiteHeartbeat", batch("")},
		{"ErrOtherSite", batch("kalk", mustChain(t, "porz", 2)...)},
		{"ErrOneEntryOfOtherSite", batch("kalk", c[0], mustChain(t, "porz", 2)[1])},
		{"ErrGap", batch("kalk", c[0], c[1], c[3])},
		{"ErrReordered", batch("kalk", c[1], c[0])},
		{"ErrRepeated", batch("kalk", c[0], c[1], c[1])},
		{"ErrForkedChain", batch("kalk", c[0], c[1], other[2])},
		{"ErrTamperedEntry", batch("kalk", c[0], func() changelog.Entry { e := c[1]; e.Type = "test.forged"; return e }())},
		{"ErrTooManyEntries", batch("kalk", mustChain(t, "kalk", changelog.MaxBatchEntries+1)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.batch.Validate(), veedel.EINVALID)
		})
	}

	t.Run("MaxEntries", func(t *testing.T) {
		if err := batch("kalk", mustChain(t, "kalk", changelog.MaxBatchEntries)...).Validate(); err != nil {
			t.Errorf("Validate() of %d entries = %v, want nil", changelog.MaxBatchEntries, err)
		}
	})
}
