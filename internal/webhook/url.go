package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest accepted endpoint URL.
const MaxURLLength = 2048

// ErrInvalidURL is wrapped by every error of CheckURL.
var ErrInvalidURL = errors.New("invalid webhook URL")

func urlError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidURL, fmt.Sprintf(format, args...))
}

// CheckURL validates an endpoint URL at subscription time: an absolute http
// or https URL with a host, without user information, at most 2048
// characters. It does not resolve the host; connect-time checks (Dialer)
// guard against private destinations.
func CheckURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, urlError("empty")
	}
	if len(raw) > MaxURLLength {
		return nil, urlError("longer than %d characters (%d)", MaxURLLength, len(raw))
	}
	if strings.TrimSpace(raw) != raw {
		return nil, urlError("leading or trailing whitespace")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, urlError("%v", err)
	}
	if !u.IsAbs() {
		return nil, urlError("must be absolute, beginning with http:// or https://")
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return nil, urlError("scheme %q not allowed, only http and https", u.Scheme)
	}
	if u.Opaque != "" {
		return nil, urlError("must be of the form %s://host/path", u.Scheme)
	}
	if u.User != nil {
		return nil, urlError("must not contain user information (user:password@)")
	}
	if u.Hostname() == "" {
		return nil, urlError("missing host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, urlError("invalid port %q", p)
		}
	}
	return u, nil
}

// CheckDestination is CheckURL plus, unless allowPrivate, a refusal of
// hosts that are IP literals of non-public addresses (http://127.0.0.1/,
// http://[::1]/, http://169.254.169.254/) for an early, clear message. Host
// names are not resolved here; the dialer checks them at connect time.
func CheckDestination(raw string, allowPrivate bool) error {
	u, err := parseURL(raw)
	if err != nil || allowPrivate {
		return err
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if reason, blocked := Classify(ip); blocked {
			return urlError("host %s is a %s address; private destinations are not allowed", ip, reason)
		}
	}
	return nil
}
