package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// result is what one call of run leaves behind.
type result struct {
	code           int
	stdout, stderr string
}

func runWith(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, func(name string) string { return env[name] }, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// serveTestdata serves testdata/ on 127.0.0.1, as the imagelab harness serves the fixture.
func serveTestdata(t *testing.T) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(server.Close)
	return server
}

// wantFailure checks the exit code and that stderr is one line that mentions want.
func wantFailure(t *testing.T, got result, code int, want string) {
	t.Helper()
	if got.code != code {
		t.Errorf("exit code %d, want %d (stderr %q)", got.code, code, got.stderr)
	}
	if got.stdout != "" {
		t.Errorf("stdout %q, want nothing", got.stdout)
	}
	if strings.Count(got.stderr, "\n") != 1 || !strings.HasPrefix(got.stderr, "go-href: ") {
		t.Errorf("stderr %q, want one line starting with \"go-href: \"", got.stderr)
	}
	if !strings.Contains(got.stderr, want) {
		t.Errorf("stderr %q does not mention %q", got.stderr, want)
	}
}

func TestCountsTheLinksOfEachFixture(t *testing.T) {
	server := serveTestdata(t)
	for fixture, want := range map[string]string{
		"page.html":        `{"internal":4,"external":3}`,
		"relative.html":    `{"internal":6,"external":0}`,
		"fragments.html":   `{"internal":4,"external":1}`,
		"other-hosts.html": `{"internal":2,"external":4}`,
		"malformed.html":   `{"internal":4,"external":2}`,
	} {
		t.Run(fixture, func(t *testing.T) {
			got := runWith(t, nil, "-url", server.URL+"/"+fixture)
			if got.code != exitOK || got.stdout != want+"\n" || got.stderr != "" {
				t.Errorf("got exit %d, stdout %q, stderr %q; want exit 0, stdout %q", got.code, got.stdout, got.stderr, want+"\n")
			}
		})
	}
}

func TestURLComesFromTheEnvironmentAndTheFlagWins(t *testing.T) {
	server := serveTestdata(t)
	env := map[string]string{"url": server.URL + "/fragments.html"}

	if got := runWith(t, env); got.stdout != `{"internal":4,"external":1}`+"\n" {
		t.Errorf("from the url variable: stdout %q, stderr %q", got.stdout, got.stderr)
	}
	if got := runWith(t, env, "-url", server.URL+"/page.html"); got.stdout != `{"internal":4,"external":3}`+"\n" {
		t.Errorf("with -url too: stdout %q, stderr %q", got.stdout, got.stderr)
	}
}

func TestRelativeLinksFollowRedirects(t *testing.T) {
	// A page reached through a redirect to another host: its relative links are
	// on the host it came from, not the one asked for.
	target := serveTestdata(t)
	redirect := httptest.NewServer(http.RedirectHandler(
		strings.Replace(target.URL, "127.0.0.1", "localhost", 1)+"/other-hosts.html", http.StatusFound))
	t.Cleanup(redirect.Close)

	got := runWith(t, nil, "-url", redirect.URL)
	// On localhost, the two 127.0.0.1 links are external and https://localhost/ is internal.
	if got.stdout != `{"internal":1,"external":5}`+"\n" {
		t.Errorf("stdout %q, stderr %q", got.stdout, got.stderr)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no URL at all", nil, nil, "no page to read"},
		{"a relative URL", nil, []string{"-url", "/page.html"}, "want an absolute http"},
		{"no scheme", nil, []string{"-url", "127.0.0.1/page.html"}, "want an absolute http"},
		{"another scheme", nil, []string{"-url", "ftp://127.0.0.1/page.html"}, "want an absolute http"},
		{"no host", map[string]string{"url": "http://"}, nil, "want an absolute http"},
		{"not parseable", nil, []string{"-url", "http://[::1"}, "bad URL"},
		{"a bad timeout", nil, []string{"-url", "http://127.0.0.1/", "-timeout", "soon"}, "not a positive duration"},
		{"a negative timeout", map[string]string{"timeout": "-1s"}, []string{"-url", "http://127.0.0.1/"}, "not a positive duration"},
		{"a stray argument", nil, []string{"http://127.0.0.1/"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFailure(t, runWith(t, tc.env, tc.args...), exitUsage, tc.want)
		})
	}
}

func TestAnUnknownFlagExits2(t *testing.T) {
	if got := runWith(t, nil, "-verbose"); got.code != exitUsage {
		t.Errorf("exit code %d, want %d", got.code, exitUsage)
	}
}

func TestFailedRequestsExit3(t *testing.T) {
	server := serveTestdata(t)

	t.Run("not found", func(t *testing.T) {
		wantFailure(t, runWith(t, nil, "-url", server.URL+"/missing.html"), exitFetch, "404 Not Found")
	})

	t.Run("server error", func(t *testing.T) {
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}))
		t.Cleanup(failing.Close)
		wantFailure(t, runWith(t, nil, "-url", failing.URL), exitFetch, "500 Internal Server Error")
	})

	t.Run("nothing listening", func(t *testing.T) {
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		wantFailure(t, runWith(t, nil, "-url", closed.URL), exitFetch, "cannot read")
	})

	t.Run("too slow", func(t *testing.T) {
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select { // bounded even if the client never hangs up
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		t.Cleanup(slow.Close)
		start := time.Now()
		wantFailure(t, runWith(t, map[string]string{"timeout": "200ms"}, "-url", slow.URL), exitFetch, "Timeout")
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("gave up after %v, want about 200ms", elapsed)
		}
	})

	t.Run("too large", func(t *testing.T) {
		huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write(bytes.Repeat([]byte("<p>x</p>"), maxBodyBytes/8+1))
		}))
		t.Cleanup(huge.Close)
		wantFailure(t, runWith(t, nil, "-url", huge.URL), exitFetch, "larger than")
	})
}
