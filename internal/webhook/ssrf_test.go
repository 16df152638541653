package webhook

import (
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		addr    string
		blocked bool
		reason  string // substring, when blocked
	}{
		{"10.1.2.3", true, "private"},
		{"192.168.0.1", true, "private"},
		{"172.16.0.1", true, "private"},
		{"172.31.255.255", true, "private"},
		{"172.32.0.1", false, ""},
		{"100.64.1.1", true, "CGNAT"},
		{"100.127.255.255", true, "CGNAT"},
		{"100.128.0.1", false, ""},
		{"169.254.169.254", true, "metadata"},
		{"169.254.1.1", true, "link-local"},
		{"127.0.0.1", true, "loopback"},
		{"127.9.9.9", true, "loopback"},
		{"0.0.0.0", true, "unspecified"},
		{"0.1.2.3", true, "unspecified"},
		{"224.0.0.1", true, "multicast"},
		{"255.255.255.255", true, "reserved"},
		{"::1", true, "loopback"},
		{"::", true, "unspecified"},
		{"fd00::1", true, "private"},
		{"fc00::1", true, "private"},
		{"fe80::1", true, "link-local"},
		{"fe80::1%eth0", true, "link-local"},
		{"ff02::1", true, "multicast"},
		{"fd00:ec2::254", true, "metadata"},
		{"::ffff:127.0.0.1", true, "loopback"},
		{"::ffff:10.0.0.1", true, "private"},
		{"::ffff:169.254.169.254", true, "metadata"},
		{"64:ff9b::a9fe:a9fe", true, "NAT64"}, // 169.254.169.254
		{"64:ff9b::808:808", false, ""},       // 8.8.8.8
		{"2002:7f00:1::", true, "6to4"},       // 127.0.0.1
		{"::127.0.0.1", true, "IPv4-compatible"},
		{"8.8.8.8", false, ""},
		{"1.1.1.1", false, ""},
		{"::ffff:8.8.8.8", false, ""},
		{"2001:4860::8888", false, ""},
		{"2606:4700:4700::1111", false, ""},
	} {
		ip := netip.MustParseAddr(c.addr)
		reason, blocked := Classify(ip)
		if blocked != c.blocked {
			t.Errorf("Classify(%s) blocked = %v (%q), want %v", c.addr, blocked, reason, c.blocked)
			continue
		}
		if blocked && !strings.Contains(reason, c.reason) {
			t.Errorf("Classify(%s) reason = %q, want it to contain %q", c.addr, reason, c.reason)
		}
	}
	if _, blocked := Classify(netip.Addr{}); !blocked {
		t.Error("the zero Addr is not blocked")
	}
}

func TestControl(t *testing.T) {
	for _, c := range []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "8.8.8.8:443", true},
		{"tcp6", "[2001:4860::8888]:443", true},
		{"tcp4", "127.0.0.1:80", false},
		{"tcp6", "[::1]:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp6", "[::ffff:169.254.169.254]:80", false},
		{"udp4", "8.8.8.8:53", false},
		{"tcp4", "garbage", false},
	} {
		err := control(c.network, c.address, nil)
		if (err == nil) != c.ok {
			t.Errorf("control(%s, %s) = %v, want ok=%v", c.network, c.address, err, c.ok)
		}
	}
	if Dialer(true).Control != nil {
		t.Error("Dialer(true) has a Control function")
	}
	if Dialer(false).Control == nil {
		t.Error("Dialer(false) has no Control function")
	}
	if Transport(false).Proxy != nil {
		t.Error("Transport uses a proxy")
	}
}
