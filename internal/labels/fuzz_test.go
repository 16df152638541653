package labels

import (
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts has
// valid keys and values and a canonical form that reads back to the same
// selector and is stable.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, tt := range parseErrorTests {
		if len(tt.in) <= 256 { // the long ones only slow the fuzzer down
			f.Add(tt.in)
		}
	}
	f.Add("a in (b,c), !d, e notin (f), g==h, i!=j, k")
	f.Add("a=b,")
	f.Add("a in (b,")
	f.Add("a in ( , ,b, )")
	f.Add("x/y=z")

	f.Fuzz(func(t *testing.T, in string) {
		sel, err := Parse(in)
		if err != nil {
			if sel != nil {
				t.Errorf("Parse(%q) = %#v, %v; want a nil selector with the error", in, sel, err)
			}
			return
		}
		for _, r := range sel {
			if err := ValidateKey(r.Key); err != nil {
				t.Errorf("Parse(%q) accepted key %q: %v", in, r.Key, err)
			}
			for _, v := range r.Values {
				if err := ValidateValue(v); err != nil {
					t.Errorf("Parse(%q) accepted value %q: %v", in, v, err)
				}
			}
		}
		canonical := sel.String()
		again, err := Parse(canonical)
		if err != nil {
			t.Fatalf("Parse(%q) error = %v; it is the canonical form of %q", canonical, err, in)
		}
		if !reflect.DeepEqual(again, sel) {
			t.Errorf("Parse(%q) = %#v, want %#v; it is the canonical form of %q", canonical, again, sel, in)
		}
		if s := again.String(); s != canonical {
			t.Errorf("Parse(%q).String() = %q, want it unchanged; it is the canonical form of %q", canonical, s, in)
		}
		if len(sel) > MaxRequirements {
			t.Errorf("Parse(%q) returned %d requirements, more than %d", in, len(sel), MaxRequirements)
		}
	})
}
