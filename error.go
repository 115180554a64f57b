// Package veedel holds what every part of Veedel shares and that depends on
// nothing else: the application error type with its codes, and the build
// version. Workflows live in appliance/<workflow>, adapters beside them.
package veedel

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status, the CLI to an exit code.
const (
	EINVALID      = "invalid"      // the caller sent something wrong; fix the input
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // valid, but not possible in the current state
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EFORBIDDEN    = "forbidden"    // known user, not allowed
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retrying later is safe
	EINTERNAL     = "internal"     // a bug or an I/O failure; logged, not shown in detail
)

// Error is an application error: a code for machines and a message a person
// can act on. Messages never contain personal data.
type Error struct {
	Code    string
	Message string
	// Fields names the fields at fault by their JSON path ("person.birth_date",
	// "sepa.iban") with a message for each, for errors in a form or a body.
	Fields map[string]string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrors collects per-field messages of one input; Err returns an
// EINVALID *Error naming them, or nil when there were none.
type FieldErrors map[string]string

// Add records msg for field unless the field has a message already (the
// first problem found is the one to fix first).
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns an EINVALID error with message and the fields, or nil when
// no field had a problem.
func (f FieldErrors) Err(message string) error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: message, Fields: f}
}

// ErrorFields returns the field messages of the first *Error in err's chain.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of an *Error, or a generic text for
// internal errors so that no internals leak to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Interner Fehler / internal error"
}

// Version is the build version, set with -ldflags "-X github.com/veedel/veedel.Version=…".
var Version = "dev"
