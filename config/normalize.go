package config

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// normalizedProbe and normalizedRepo are the JSON forms of a probe and a
// repository in the normalized definition.
type normalizedProbe struct {
	Run     []string `json:"run"`
	Exit    int      `json:"exit,omitempty"`
	Output  string   `json:"output,omitempty"`
	Stdin   string   `json:"stdin,omitempty"`
	Network bool     `json:"network,omitempty"`
}

type normalizedRepo struct {
	Name     string `json:"name"`
	BaseURL  string `json:"baseurl"`
	GPGKey   string `json:"gpgkey,omitempty"`
	GPGCheck bool   `json:"gpgcheck"`
}

// Normalized returns the definition as compact JSON, for recording in the
// image: detected values filled in, credentials in URLs removed.
func (f *File) Normalized() (string, error) {
	b, err := json.Marshal(object{f, topKeys})
	return string(b), err
}

// HasCredentials tells whether an http(s) URL carries user[:password]@.
func HasCredentials(v string) bool {
	lower := strings.ToLower(v)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	if u, err := url.Parse(v); err == nil {
		return u.User != nil
	}
	_, rest, _ := strings.Cut(v, "://")
	host, _, _ := strings.Cut(rest, "/")
	return strings.Contains(host, "@")
}

// Redact removes user:password@ from an http(s) URL; other values pass
// through unchanged.
func Redact(v string) string {
	lower := strings.ToLower(v)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil {
		// Unparseable: drop anything that could be credentials.
		if at := strings.LastIndex(v, "@"); at >= 0 {
			scheme, _, _ := strings.Cut(v, "://")
			return scheme + "://" + v[at+1:]
		}
		return v
	}
	if u.User == nil {
		return v // as written: u.String() would also drop an empty "#"
	}
	u.User = nil
	return u.String()
}

var urlCredentials = regexp.MustCompile(`(?i)\b(https?://)[^/\s'"]+@`)

// RedactText removes user:password@ from every http(s) URL in a text, such
// as smith.yaml itself before it is shown in errors or recorded in
// provenance. Line and column positions of other text stay the same on
// every line without credentials.
func RedactText(b []byte) []byte {
	return urlCredentials.ReplaceAll(b, []byte("$1"))
}
