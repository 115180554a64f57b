package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/veedel/veedel/appliance/sqlite"
)

func TestEnrolledKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kalk.db")
	s, err := sqlite.Open(ctx, path, "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if id, hash, err := s.EnrolledKey(ctx); err != nil || id != "" || hash != "" {
		t.Fatalf("EnrolledKey of a new store = %q, %q, %v; want empty", id, hash, err)
	}
	if err := s.SetEnrolledKey(ctx, "0011223344556677", "abcd"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = sqlite.Open(ctx, path, "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, hash, err := s.EnrolledKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id+" "+hash, "0011223344556677 abcd"; got != want {
		t.Errorf("EnrolledKey after reopen = %q, want %q", got, want)
	}
}
