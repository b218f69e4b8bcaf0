package run

import "testing"

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://mirror.example/kind":                    "https://mirror.example/kind",
		"https://user:s3cret@mirror.example/kind":        "https://user:xxxxx@mirror.example/kind",
		"https://user:s3%2Fcret@mirror.example/kind":     "https://user:xxxxx@mirror.example/kind",
		"https://TOKEN@mirror.example/kind":              "https://xxxxx@mirror.example/kind",
		"http://user:p@ss@127.0.0.1:8080/kind":           "http://user:xxxxx@127.0.0.1:8080/kind",
		"http://user:s3cret@127.0.0.1:notaport/kind":     "http://user:xxxxx@127.0.0.1:notaport/kind",
		"ftp://user:s3cret@host/x":                       "ftp://user:xxxxx@host/x",
		"user:s3cret@proxy.example:3128":                 "user:xxxxx@proxy.example:3128",
		"TOKEN@proxy.example:3128":                       "xxxxx@proxy.example:3128",
		"https://mirror.example/kind?mail=a@example.com": "https://mirror.example/kind?mail=a@example.com",
		"":     "",
		"kind": "kind",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
