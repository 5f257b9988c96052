// Package e2e drives the real tanfang binary with Debian's Chromium, the way
// a person would use the pages: type, click, read what the screen says.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// demoPassword is the password that `serve --demo` gives every demo account.
const demoPassword = "Demo#2026"

// binPath is the tanfang binary that TestMain builds once for all tests.
var binPath string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tanfang-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "tanfang")
	build := exec.Command("go", "build", "-o", binPath, "./cmd/tanfang")
	build.Dir = ".." // the module root, seen from this package's folder
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/tanfang: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// lockedBuffer collects a child process's output, written from the goroutines
// of os/exec and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr asks the kernel for an unused loopback port. Another process could
// take it before the server binds it; on a test machine that is rare enough.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServer runs `tanfang serve --demo` with a small demo city on a fresh
// SQLite file and returns its base URL once /healthz says the city is built.
// At cleanup it sends SIGTERM and requires a graceful exit with status 0.
func startServer(t *testing.T, extraArgs ...string) string {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--demo", "--elders", "60", "--weeks", "3", "--addr", addr, "--db", filepath.Join(t.TempDir(), "e2e.db")}, extraArgs...)
	cmd := exec.Command(binPath, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tanfang: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("SIGTERM tanfang: %v", err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("tanfang did not shut down cleanly: %v\n%s", err, out)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("tanfang ignored SIGTERM for 20 s\n%s", out)
		}
	})

	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(120 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // let the cleanup see it too
			t.Fatalf("tanfang exited before it was healthy: %v\n%s", err, out)
		default:
		}
		if resp, err := client.Get(base + "/healthz"); err == nil {
			var h struct{ Status, Demo string }
			_ = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Demo == "failed" {
				t.Fatalf("the demo city failed to build\n%s", out)
			}
			// serve --demo answers at once and builds the city behind.
			if resp.StatusCode == http.StatusOK && (h.Demo == "" || h.Demo == "ready") {
				t.Logf("tanfang healthy with its demo city at %s after %v", base, time.Since(started).Round(time.Millisecond))
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tanfang at %s not ready after 120 s\n%s", addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chromePath finds the browser. Outside CI a machine without Chromium skips
// the browser tests; in CI a missing browser is a broken setup and fails.
func chromePath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CHROME_PATH")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium not found at %s (install Debian package chromium or set CHROME_PATH): %v", p, err)
		}
		t.Skipf("Chromium not found at %s: %v", p, err)
	}
	return p
}

// newBrowser starts a headless Chromium with its own profile and returns a
// chromedp context that ends after 60 s. Any console error, uncaught exception
// or browser-log error of the page fails the test at cleanup.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	browserOut := &lockedBuffer{}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromePath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container has no usable sandbox
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(browserOut),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel()
	})
	pe := &pageErrors{documents: map[network.RequestID]bool{}}
	// Listen starts the browser; it must run on a context without a
	// deadline, since the first action's context owns the browser's life.
	if err := chromedp.Listen(bctx, pe.observe); err != nil {
		t.Fatalf("start Chromium: %v\n%s", err, browserOut)
	}
	t.Cleanup(func() {
		if errs := pe.list(); len(errs) > 0 {
			t.Errorf("the page reported %d console error(s):\n  %s", len(errs), strings.Join(errs, "\n  "))
		}
	})
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pageErrors gathers what a person would see as red lines in the DevTools
// console. A failed status of a whole document (the 401 of a wrong password,
// the 404 of an area out of scope) is not counted: tests assert those
// themselves. A failed stylesheet or script is counted.
type pageErrors struct {
	mu        sync.Mutex
	documents map[network.RequestID]bool
	entries   []*log.Entry
	errs      []string
}

// observe runs on chromedp's reading goroutine, so it only records.
func (p *pageErrors) observe(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventResponseReceived:
		if e.Type == network.ResourceTypeDocument {
			p.documents[e.RequestID] = true
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			p.errs = append(p.errs, "console.error: "+describeArgs(e.Args))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		p.errs = append(p.errs, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			p.entries = append(p.entries, e.Entry)
		}
	}
}

// list joins the errors; log entries are judged only now, because a
// document's response event may arrive after its log entry.
func (p *pageErrors) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]string(nil), p.errs...)
	for _, en := range p.entries {
		if en.Source == log.EntrySourceNetwork && (p.documents[en.NetworkRequestID] || isFaviconProbe(en.URL)) {
			continue
		}
		out = append(out, fmt.Sprintf("log %s: %s (%s)", en.Source, en.Text, en.URL))
	}
	return out
}

// isFaviconProbe tells the browser's own request for /favicon.ico, which no
// page asks for; the site has no icon yet, and that is not a page error.
func isFaviconProbe(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Path == "/favicon.ico"
}

func describeArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}
