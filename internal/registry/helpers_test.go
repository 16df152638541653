package registry_test

import (
	"errors"
	"strings"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
