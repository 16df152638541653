package labels

import (
	"strings"
	"testing"

	"github.com/hivellm/modelgov/internal/errs"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key     string
		wantErr string // substring of the error; "" for a valid key
	}{
		{key: "team"},
		{key: "a"},
		{key: "Z9"},
		{key: "app.kubernetes.io/name"},
		{key: "hivellm.org/tier"},
		{key: "a-b_c.d"},
		{key: "x/Y"},
		{key: "1.2-3/4"},
		{key: strings.Repeat("n", 63)},
		{key: strings.Repeat("p", 63) + "." + strings.Repeat("q", 63) + "/n"},
		{key: strings.Repeat(strings.Repeat("p", 62)+".", 4) + "p/n"}, // prefix of 253

		{key: "", wantErr: "it is empty"},
		{key: strings.Repeat("n", 64), wantErr: "it is 64 characters long; at most 63 are allowed"},
		{key: "a b", wantErr: "it contains a space"},
		{key: "a\tb", wantErr: `it contains "\t"`},
		{key: "café", wantErr: `it contains "é"`},
		{key: "a\xffb", wantErr: "a byte that is not UTF-8"},
		{key: "-a", wantErr: "it must begin and end with a letter or digit"},
		{key: "a_", wantErr: "it must begin and end with a letter or digit"},
		{key: ".", wantErr: "it must begin and end with a letter or digit"},
		{key: "a/b/c", wantErr: `it contains more than one "/"`},
		{key: "/a", wantErr: `the prefix before "/" is empty`},
		{key: "a/", wantErr: `the name after "/" is empty`},
		{key: "a/-b", wantErr: `the name after "/" must begin and end with a letter or digit`},
		{key: "a/" + strings.Repeat("n", 64), wantErr: `the name after "/" is 64 characters long`},
		{key: "Hive.org/a", wantErr: `the prefix contains the uppercase letter "H"`},
		{key: "hive_llm.org/a", wantErr: `the prefix contains "_"`},
		{key: ".hive.org/a", wantErr: "the prefix must begin and end with a letter or digit"},
		{key: "hive.org./a", wantErr: "the prefix must begin and end with a letter or digit"},
		{key: "hive..org/a", wantErr: `the prefix contains ".."`},
		{key: "hive-.org/a", wantErr: `part of the prefix must begin and end with a letter or digit, and "hive-" does not`},
		{key: strings.Repeat("p", 64) + "/n", wantErr: "the prefix part"},
		{key: strings.Repeat(strings.Repeat("p", 62)+".", 4) + "pp/n", wantErr: "the prefix is 254 characters long; at most 253 are allowed"},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		checkError(t, "ValidateKey", tt.key, err, tt.wantErr)
	}
}

func TestValidateValue(t *testing.T) {
	tests := []struct {
		value   string
		wantErr string
	}{
		{value: ""},
		{value: "core"},
		{value: "v1.2.3"},
		{value: "A_b-C.d"},
		{value: "0"},
		{value: strings.Repeat("v", 63)},

		{value: strings.Repeat("v", 64), wantErr: "it is 64 characters long; at most 63 are allowed"},
		{value: "a/b", wantErr: `it contains "/"`},
		{value: "a b", wantErr: "it contains a space"},
		{value: "_a", wantErr: "it must begin and end with a letter or digit"},
		{value: "a.", wantErr: "it must begin and end with a letter or digit"},
		{value: "-", wantErr: "it must begin and end with a letter or digit"},
	}
	for _, tt := range tests {
		err := ValidateValue(tt.value)
		checkError(t, "ValidateValue", tt.value, err, tt.wantErr)
	}
}

func TestShowCutsLongInput(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes; a cut at 80 must not split a rune
	err := ValidateKey(long)
	if err == nil {
		t.Fatalf("ValidateKey(%q) = nil, want an error", long)
	}
	if msg := err.Error(); len(msg) > 300 || !strings.Contains(msg, "…") || strings.Contains(msg, `\x`) {
		t.Errorf("ValidateKey(200 bytes of é) error = %q, want a short message quoting the key cut at a rune boundary", msg)
	}
}

// checkError reports whether err matches wantErr: nil when wantErr is
// empty, otherwise an Invalid error containing wantErr. Inputs are shown
// cut short, as some are kilobytes long.
func checkError(t *testing.T, fn, input string, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s(%s) = %v, want nil", fn, show(input), err)
	case wantErr != "" && err == nil:
		t.Errorf("%s(%s) = nil, want an error containing %q", fn, show(input), wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Errorf("%s(%s) = %q, want an error containing %q", fn, show(input), err, wantErr)
	case wantErr != "" && errs.KindOf(err) != errs.Invalid:
		t.Errorf("%s(%s) error kind = %v, want %v", fn, show(input), errs.KindOf(err), errs.Invalid)
	}
}
