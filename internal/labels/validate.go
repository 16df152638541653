// Package labels checks Kubernetes-style label keys and values and parses
// the label selectors that filter lists of models, as in
// GET /models?labels=team=core,tier!=test.
//
// Everything here is a pure function of its arguments. Errors are
// *errs.Error values of kind errs.Invalid whose message says, for a person,
// what is wrong and, for a selector, at which byte offset.
package labels

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hivellm/modelgov/internal/errs"
)

// Length limits of keys and values, as in Kubernetes.
const (
	// MaxPrefixLength is the longest key prefix (a DNS subdomain).
	MaxPrefixLength = 253
	// MaxNameLength is the longest key name, the part after the "/".
	MaxNameLength = 63
	// MaxValueLength is the longest label value.
	MaxValueLength = 63
)

// ValidateKey reports whether key is a valid label key: an optional prefix
// and "/" followed by a name. The prefix is a DNS subdomain: dot-separated
// parts of lowercase ASCII letters, digits and '-', each part beginning and
// ending with a letter or digit and at most 63 characters long, the whole
// at most 253. The name is 1 to 63 ASCII letters, digits, '-', '_' and '.',
// beginning and ending with a letter or digit.
//
// The 63-character limit on each part of the prefix is DNS's, stated in
// Kubernetes' documentation though its code checks only the total.
//
// The error, of kind errs.Invalid, names the first problem found.
func ValidateKey(key string) error {
	if problem := keyProblem(key); problem != "" {
		return errs.E(errs.Invalid, "invalid label key %s: %s", show(key), problem)
	}
	return nil
}

// ValidateValue reports whether value is a valid label value: empty, or 1 to
// 63 ASCII letters, digits, '-', '_' and '.', beginning and ending with a
// letter or digit.
//
// The error, of kind errs.Invalid, names the first problem found.
func ValidateValue(value string) error {
	if problem := valueProblem(value); problem != "" {
		return errs.E(errs.Invalid, "invalid label value %s: %s", show(value), problem)
	}
	return nil
}

// keyProblem says what is wrong with key, "" if nothing is.
func keyProblem(key string) string {
	if key == "" {
		return "it is empty"
	}
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		return nameProblem("it", key, MaxNameLength)
	}
	if strings.Contains(name, "/") {
		return `it contains more than one "/"`
	}
	if prefix == "" {
		return `the prefix before "/" is empty`
	}
	if problem := prefixProblem(prefix); problem != "" {
		return problem
	}
	if name == "" {
		return `the name after "/" is empty`
	}
	return nameProblem(`the name after "/"`, name, MaxNameLength)
}

// valueProblem says what is wrong with value, "" if nothing is.
func valueProblem(value string) string {
	if value == "" {
		return ""
	}
	return nameProblem("it", value, MaxValueLength)
}

// nameProblem checks a key name or a value; what names it in the message.
func nameProblem(what, s string, maxLength int) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlphanumeric(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Sprintf("%s contains %s; only ASCII letters, digits, '-', '_' and '.' are allowed",
				what, describeCharAt(s, i))
		}
	}
	if len(s) > maxLength {
		return fmt.Sprintf("%s is %d characters long; at most %d are allowed", what, len(s), maxLength)
	}
	if !isAlphanumeric(s[0]) || !isAlphanumeric(s[len(s)-1]) {
		return what + " must begin and end with a letter or digit"
	}
	return ""
}

// prefixProblem checks a key prefix, which must be a DNS subdomain.
func prefixProblem(prefix string) string {
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; !isLowerAlphanumeric(c) && c != '-' && c != '.' {
			return fmt.Sprintf("the prefix contains %s; a prefix may contain only lowercase letters, digits, '-' and '.'",
				describeCharAt(prefix, i))
		}
	}
	if len(prefix) > MaxPrefixLength {
		return fmt.Sprintf("the prefix is %d characters long; at most %d are allowed", len(prefix), MaxPrefixLength)
	}
	parts := strings.Split(prefix, ".")
	for i, part := range parts {
		switch {
		case part == "" && (i == 0 || i == len(parts)-1):
			return "the prefix must begin and end with a letter or digit"
		case part == "":
			return `the prefix contains ".."`
		case len(part) > 63:
			return fmt.Sprintf("the prefix part %s is %d characters long; at most 63 are allowed", show(part), len(part))
		case !isLowerAlphanumeric(part[0]) || !isLowerAlphanumeric(part[len(part)-1]):
			return fmt.Sprintf("each dot-separated part of the prefix must begin and end with a letter or digit, and %s does not",
				show(part))
		}
	}
	return ""
}

func isAlphanumeric(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isLowerAlphanumeric(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// describeCharAt names the character that starts at s[i], for a message.
func describeCharAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && size <= 1:
		return "a byte that is not UTF-8"
	case r == ' ':
		return "a space"
	case 'A' <= r && r <= 'Z':
		return fmt.Sprintf("the uppercase letter %q", string(r))
	}
	return strconv.Quote(string(r))
}

// maxShown is how many bytes of a key or value a message quotes.
const maxShown = 80

// show quotes s for a message, cut short when it is long: keys and values
// come from users and may be kilobytes of anything.
func show(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
