// Command go-href prints how many internal and external links a web page has:
//
//	url=https://example.org/ go-href       # or: go-href -url https://example.org/
//	{"internal":4,"external":3}
//
// It is the href counter of the Docker documentation's first multi-stage build
// example, rewritten with bounded requests and a distinct exit code per failure.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Exit codes: scripts (and the imagelab harness) tell a mistake in how the
// program was called from a page that could not be read.
const (
	exitOK    = 0
	exitUsage = 2 // bad flags, no URL or a malformed one
	exitFetch = 3 // the request failed, timed out, answered non-2xx or sent too much
)

const (
	defaultTimeout = 10 * time.Second
	maxBodyBytes   = 10 << 20 // a page larger than 10 MiB is refused, not counted
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: arguments, environment and streams come in,
// the exit code goes out, so tests call it directly.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("go-href", flag.ContinueOnError)
	flags.SetOutput(stderr)
	pageURL := flags.String("url", getenv("url"), "the `URL` of the page to read (default: the url environment variable)")
	timeoutText := flags.String("timeout", getenv("timeout"),
		"the longest the whole request may take, a `duration` such as 5s (default: the timeout environment variable, else 10s)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "go-href: "+format+"\n", a...)
		return code
	}

	if flags.NArg() > 0 {
		return fail(exitUsage, "unexpected argument %q; pass the page as -url URL or in the url environment variable", flags.Arg(0))
	}
	page, err := parsePageURL(*pageURL)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	timeout := defaultTimeout
	if *timeoutText != "" {
		timeout, err = time.ParseDuration(*timeoutText)
		if err != nil || timeout <= 0 {
			return fail(exitUsage, "timeout %q is not a positive duration such as 10s or 500ms", *timeoutText)
		}
	}

	body, finalURL, err := fetch(page, timeout)
	if err != nil {
		return fail(exitFetch, "%v", err)
	}
	out, err := json.Marshal(countLinks(finalURL, body))
	if err != nil {
		return fail(exitFetch, "cannot encode the result: %v", err)
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return exitOK
}

// parsePageURL accepts only absolute http(s) URLs: anything else is a usage error
// found before any network traffic.
func parsePageURL(text string) (*url.URL, error) {
	if text == "" {
		return nil, errors.New("no page to read; pass -url URL or set the url environment variable")
	}
	page, err := url.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", text, withoutURL(err))
	}
	if (page.Scheme != "http" && page.Scheme != "https") || page.Host == "" {
		return nil, fmt.Errorf("bad URL %q: want an absolute http:// or https:// URL", text)
	}
	return page, nil
}

// fetch reads the page within timeout (connect, redirects and body together)
// and at most maxBodyBytes of it. It returns the body and the URL it came from
// after redirects, which is what relative links are relative to.
func fetch(page *url.URL, timeout time.Duration) ([]byte, *url.URL, error) {
	client := &http.Client{Timeout: timeout}
	request, err := http.NewRequest(http.MethodGet, page.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot make a request for %s: %v", page, err)
	}
	request.Header.Set("User-Agent", "go-href/1.0")
	response, err := client.Do(request)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %v", page, withoutURL(err))
	}
	defer response.Body.Close()
	if response.StatusCode < 200 || response.StatusCode > 299 {
		return nil, nil, fmt.Errorf("%s answered %s", page, response.Status)
	}
	body, err := io.ReadAll(io.LimitReader(response.Body, maxBodyBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the body of %s: %v", page, err)
	}
	if len(body) > maxBodyBytes {
		return nil, nil, fmt.Errorf("%s is larger than %d bytes; refusing to count it", page, maxBodyBytes)
	}
	return body, response.Request.URL, nil
}

// withoutURL drops the "Get \"http://...\": " prefix of net/url and net/http
// errors: the messages here name the URL once, first.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
