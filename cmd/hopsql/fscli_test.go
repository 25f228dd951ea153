package main

import "testing"

func TestPermString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"755", "rwxr-xr-x"},
		{"644", "rw-r--r--"},
		{"0", "---------"},
		{"1777", "rwxrwxrwt"},
		{"1770", "rwxrwx--T"},
		{"9", "?????????"},
	} {
		if got := permString(tc.in); got != tc.want {
			t.Errorf("permString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFSClientURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:9870", "http://127.0.0.1:9870"},
		{"127.0.0.1:9870", "http://127.0.0.1:9870"},
		{"http://h:1/webhdfs/v1/", "http://h:1"},
		{"https://h/proxy/webhdfs/v1", "https://h/proxy"},
		{"ftp://h", "!"},
		{"http://", "!"},
	} {
		c, err := newFSClient(tc.in, "u", "")
		got := "!"
		if err == nil {
			got = c.base.String()
		}
		if got != tc.want {
			t.Errorf("newFSClient(%q): base %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestQuotaArg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"none", "-1"}, {"0", "-1"}, {"-1", "-1"}, {"100", "100"}, {"-5", "!"}, {"lots", "!"},
	} {
		got, err := quotaArg("bytes", tc.in)
		if err != nil {
			got = "!"
		}
		if got != tc.want {
			t.Errorf("quotaArg(%q) = %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}
