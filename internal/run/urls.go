package run

import (
	"net/url"
	"regexp"
	"strings"
)

// maskedUser is what RedactURL shows for a user name that is the only
// credential, as url.URL.Redacted shows "xxxxx" for a password.
const maskedUser = "xxxxx"

// RedactURL returns s for messages: a URL's password replaced as
// url.URL.Redacted does (https://user:xxxxx@host/), and a user name without a
// password replaced too (https://xxxxx@host/), since a token given as the
// user name is then the credential. A string that does not parse still has
// whatever stands before an @ in its authority replaced. Anything else is
// returned as it is.
func RedactURL(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		switch {
		case u.User == nil:
			return s
		case hasPassword(u.User):
			return u.Redacted()
		}
		u.User = url.User(maskedUser)
		return u.String()
	}
	prefix, rest := "", s
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	if user, _, ok := strings.Cut(rest[:at], ":"); ok {
		return prefix + user + ":xxxxx" + rest[at:]
	}
	return prefix + maskedUser + rest[at:]
}

func hasPassword(u *url.Userinfo) bool {
	_, ok := u.Password()
	return ok
}

// userOnly matches a user name that stands alone before a URL's host
// (scheme://TOKEN@host): the credential itself.
var userOnly = regexp.MustCompile(`(://)[^/:@\s]+@`)

// RedactURLsInText replaces, in free text such as a tool's log, the
// passwords of URLs and the user names that stand alone (tokens), as
// RedactURL does for one URL.
func RedactURLsInText(b []byte) []byte {
	b = userinfo.ReplaceAll(b, []byte("${1}"+Redacted+"@"))
	return userOnly.ReplaceAll(b, []byte("${1}"+Redacted+"@"))
}
