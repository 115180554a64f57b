package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/veedel/veedel"
)

// testFormSubmissions: a form's result is found by its key hash until it
// expires, recorded again it is replaced, and recording deletes the
// expired ones.
func testFormSubmissions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	if _, err := s.SubmissionResult(ctx, a, start); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("before any post: %v, want ENOTFOUND", err)
	}
	if err := s.RecordSubmission(ctx, a, []byte("sealed a"), start, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SubmissionResult(ctx, a, start.Add(59*time.Second)); err != nil || string(got) != "sealed a" {
		t.Fatalf("within its time: %q, %v", got, err)
	}
	if _, err := s.SubmissionResult(ctx, a, start.Add(time.Minute)); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("expired: %v, want ENOTFOUND", err)
	}
	if err := s.RecordSubmission(ctx, a, []byte("sealed a2"), start, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SubmissionResult(ctx, a, start); err != nil || string(got) != "sealed a2" {
		t.Fatalf("recorded again: %q, %v", got, err)
	}
	// Recording b two hours later deletes a, which expired an hour before.
	if err := s.RecordSubmission(ctx, b, []byte("sealed b"), start.Add(2*time.Hour), start.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmissionResult(ctx, a, start); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("a after it expired and b was recorded: %v, want it deleted", err)
	}
}
