package webhook

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength)
	for _, c := range []struct {
		url  string
		ok   bool
		want string // substring of the error
	}{
		{"https://example.com/hook", true, ""},
		{"http://example.com:8080/hook?x=1", true, ""},
		{"HTTPS://Example.COM/hook", true, ""},
		{"https://[2001:db8::1]:8443/hook", true, ""},
		{"https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/")), true, ""},
		{"", false, "empty"},
		{long, false, "longer than 2048"},
		{"/relative/path", false, "absolute"},
		{"example.com/hook", false, "absolute"},
		{"ftp://example.com/", false, "scheme"},
		{"file:///etc/passwd", false, "scheme"},
		{"javascript:alert(1)", false, "scheme"},
		{"https:example.com", false, "form"},
		{"https:///path", false, "missing host"},
		{"https://:443/path", false, "missing host"},
		{"https://user:pass@example.com/", false, "user information"},
		{"https://user@example.com/", false, "user information"},
		{"https://example.com:0/", false, "port"},
		{"https://example.com:70000/", false, "port"},
		{"https://example.com:abc/", false, "port"},
		{" https://example.com/", false, "whitespace"},
		{"https://exa mple.com/", false, "invalid"},
		{"https://example.com/\x00", false, "invalid"},
	} {
		err := CheckURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%.60q) = %v, want ok=%v", c.url, err, c.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Errorf("CheckURL(%.60q) error %v does not wrap ErrInvalidURL", c.url, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("CheckURL(%.60q) = %q, want it to mention %q", c.url, err, c.want)
			}
		}
	}
}

func TestCheckDestination(t *testing.T) {
	for _, c := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"http://127.0.0.1:8080/", false, false},
		{"http://127.0.0.1:8080/", true, true},
		{"http://[::1]/", false, false},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"http://[::ffff:10.0.0.1]/", false, false},
		{"https://8.8.8.8/", false, true},
		{"https://example.com/", false, true}, // names are checked at connect time
		{"ftp://8.8.8.8/", true, false},
	} {
		if err := CheckDestination(c.url, c.allowPrivate); (err == nil) != c.ok {
			t.Errorf("CheckDestination(%q, %v) = %v, want ok=%v", c.url, c.allowPrivate, err, c.ok)
		}
	}
}
