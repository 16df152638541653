package api

import "testing"

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want Role
		ok   bool
	}{
		{"general", RoleGeneral, true},
		{"none", RoleNone, true},
		{" Specialist ", RoleSpecialist, true},
		{"experimental", RoleExperimental, true},
		{"generals", RoleGeneral, true},
		{"collaborator", RoleSpecialist, true},
		{"Collaborators", RoleSpecialist, true},
		{"contributor", RoleSpecialist, true},
		{"rejected", RoleExperimental, true},
		{"", "", false},
		{"chair", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseRole(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
