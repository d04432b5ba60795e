package main

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// LinkCount is what the program prints: {"internal":N,"external":M}.
type LinkCount struct {
	Internal int `json:"internal"`
	External int `json:"external"`
}

// linkKind says how one href counts.
type linkKind int

const (
	ignored linkKind = iota
	internal
	external
)

// countLinks counts the <a href> links of an HTML page fetched from page.
// The tokenizer, not a regular expression, finds them: it skips comments and
// the text of <script> and <style>, and it does not give up on malformed HTML.
func countLinks(page *url.URL, body []byte) LinkCount {
	var count LinkCount
	tokens := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch tokens.Next() {
		case html.ErrorToken:
			// io.EOF at the end of the page; the tokenizer reports no other
			// error for an in-memory reader.
			return count
		case html.StartTagToken, html.SelfClosingTagToken:
			href, ok := anchorHref(tokens.Token())
			if !ok {
				continue
			}
			switch classify(page, href) {
			case internal:
				count.Internal++
			case external:
				count.External++
			}
		}
	}
}

// anchorHref returns the href of an <a> start tag; an <a> without one (a named
// anchor) is no link. The tokenizer has already lower-cased names.
func anchorHref(token html.Token) (string, bool) {
	if token.DataAtom != atom.A {
		return "", false
	}
	for _, attr := range token.Attr {
		if attr.Namespace == "" && attr.Key == "href" {
			return attr.Val, true // the first href wins, as in a browser
		}
	}
	return "", false
}

// classify decides whether href, found on page, is internal or external:
//   - relative links ("about.html", "/docs", "?p=2", "#top", "") stay on the page's
//     host: internal;
//   - absolute and scheme-relative ("//host/x") http(s) links are internal when their
//     host name is the page's, whatever the port, else external;
//   - links that lead to no web page (mailto:, javascript:, tel:, data:, ftp:, ...)
//     and hrefs that are not URLs at all are ignored: counted neither way.
func classify(page *url.URL, href string) linkKind {
	link, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ignored
	}
	switch strings.ToLower(link.Scheme) {
	case "":
		if link.Host == "" {
			return internal
		}
	case "http", "https":
	default:
		return ignored
	}
	if strings.EqualFold(link.Hostname(), page.Hostname()) {
		return internal
	}
	return external
}
