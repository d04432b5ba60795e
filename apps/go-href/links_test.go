package main

import (
	"net/url"
	"testing"
)

func TestClassify(t *testing.T) {
	page, _ := url.Parse("http://127.0.0.1:8080/docs/page.html")
	for href, want := range map[string]linkKind{
		"":                           internal,
		"#top":                       internal,
		"next.html":                  internal,
		"../up.html":                 internal,
		"/root":                      internal,
		"?q=1":                       internal,
		"http://127.0.0.1:8080/x":    internal,
		"http://127.0.0.1/x":         internal,
		"https://127.0.0.1/x":        internal,
		"//127.0.0.1/x":              internal,
		"https://example.com/":       external,
		"//example.com/":             external,
		"http://localhost:8080/":     external,
		"mailto:someone@example.com": ignored,
		"javascript:alert(1)":        ignored,
		"JavaScript:alert(1)":        ignored,
		"tel:+15550100":              ignored,
		"data:text/html,<a>":         ignored,
		"ftp://127.0.0.1/file":       ignored,
		"http://[::1":                ignored,
	} {
		if got := classify(page, href); got != want {
			t.Errorf("classify(%q) = %v, want %v", href, got, want)
		}
	}
}

func TestCountLinksSkipsWhatIsNotAnAnchor(t *testing.T) {
	page, _ := url.Parse("http://127.0.0.1/")
	body := []byte(`<link href="https://a.example/"><area href="https://b.example/">` +
		`<!-- <a href="https://c.example/"> --><a name="x">named</a>` +
		`<textarea><a href="https://d.example/"></textarea><a href="/kept"/>`)
	if got := countLinks(page, body); got != (LinkCount{Internal: 1}) {
		t.Errorf("countLinks = %+v, want only the self-closing /kept", got)
	}
}
