package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is Debian's chromium package, which .ci/run installs.
const chromium = "/usr/bin/chromium"

// newChrome starts a headless Chromium with a fresh profile and returns a
// tab's context.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must install Debian's chromium package (.ci/run does)", chromium)
		}
		t.Skipf("%s is missing: install Debian's chromium package (apt-get install chromium) to run the browser tests", chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	return tab
}

// screenshots is where the browser tests keep their screenshots:
// $MODELGOV_SCREENSHOTS, for CI to keep, or a temporary folder.
func screenshots(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MODELGOV_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a screenshot of the whole page as name.png.
func shot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// TestBrowser runs what a user does, in a real browser: sign in, filter
// the catalogue, open a model and see its evaluation chart, change its
// lifecycle, see the change appear in the live view and in the audit log,
// verify the log, look at governance and a leaderboard, and be refused
// what the role may not do.
func TestBrowser(t *testing.T) {
	tab := newChrome(t)
	s := newSite(t, siteConfig{models: 5})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.record(t, "openai/gpt-5", "hellaswag", base, 0.71)
	s.record(t, "openai/gpt-5", "mmlu", base.Add(24*time.Hour), 0.64)
	s.record(t, "openai/gpt-5", "hellaswag", base.Add(72*time.Hour), 0.83)
	s.record(t, "openai/gpt-5", "mmlu", base.Add(96*time.Hour), 0.69)
	s.record(t, "meta/llama-3-1-405b", "hellaswag", base.Add(48*time.Hour), 0.77)
	dir := screenshots(t)
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// read reads a value from the page.
	read := func(into *string, a chromedp.Action[string]) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			*into, err = a(ctx, t)
			return err
		})
	}
	signIn := func(user string) {
		t.Helper()
		run("sign in as "+user,
			chromedp.Navigate(s.URL+"/signin"),
			chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), s.tokens[user]),
			shot(dir, "01-signin-"+user),
			chromedp.Submit(chromedp.ID("token")),
			chromedp.WaitVisible(chromedp.ID("models")),
		)
	}

	signOut := func() {
		t.Helper()
		run("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	}
	// count counts the elements of the page that selector selects.
	count := func(selector string) int {
		t.Helper()
		n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(selector)+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	signIn("governor")
	run("the catalogue", shot(dir, "02-catalogue"))
	var table string
	run("filter the catalogue",
		chromedp.SetValue(chromedp.ID("provider"), "openai"),
		chromedp.Click(chromedp.ID("apply")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/models/openai/gpt-5"]`)),
		read(&table, chromedp.Text(chromedp.ID("models"))),
		shot(dir, "03-catalogue-filtered"),
	)
	if !strings.Contains(table, "openai/gpt-5") || strings.Contains(table, "meta/llama") || strings.Contains(table, "acme/") {
		t.Errorf("filtered catalogue:\n%s", table)
	}

	var status string
	run("open the model",
		chromedp.Click(chromedp.CSS(`a[href="/models/openai/gpt-5"]`)),
		chromedp.WaitVisible(chromedp.ID("lifecycle-form")),
		chromedp.WaitVisible(chromedp.CSS(`#eval-chart svg`)),
		read(&status, chromedp.Text(chromedp.ID("status"))),
		shot(dir, "04-model"),
	)
	if status != "proposed" {
		t.Errorf("status before = %q, want proposed", status)
	}
	if lines := count("#eval-chart svg polyline"); lines != 2 {
		t.Errorf("the evaluation chart draws %d lines, want one per benchmark (2)", lines)
	}

	// The live view, in a second tab of the same browser (the same
	// session), shows the events as they are committed.
	live, cancelLive := chromedp.NewContext(tab)
	defer cancelLive()
	if err := chromedp.Do(live,
		chromedp.Navigate(s.URL+"/live"),
		chromedp.WaitVisible(chromedp.CSS(liveDOM.Table)),
		// live.js says "Live" in the status once its stream is open.
		chromedp.WaitVisible(chromedp.CSS(liveDOM.Status)),
	); err != nil {
		t.Fatalf("open the live view: %v", err)
	}
	before := s.newestEvent(t)

	var notice string
	run("change its lifecycle",
		chromedp.SetValue(chromedp.ID("new-status"), "active"),
		chromedp.SendKeys(chromedp.ID("reason"), "approved in the browser"),
		chromedp.Click(chromedp.ID("change-lifecycle")),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
		read(&notice, chromedp.Text(chromedp.CSS(".notice"))),
		read(&status, chromedp.Text(chromedp.ID("status"))),
		shot(dir, "05-lifecycle-changed"),
	)
	if status != "active" || !strings.Contains(notice, "allowed by the policy") {
		t.Errorf("after the change: status %q, notice %q", status, notice)
	}

	seq := s.newestEvent(t)
	if seq <= before {
		t.Fatalf("the lifecycle change made no event (newest %d, before it %d)", seq, before)
	}
	var row string
	if err := chromedp.Do(live,
		chromedp.WaitVisible(chromedp.CSS(liveDOM.Row(seq))),
		read(&row, chromedp.Text(chromedp.CSS(liveDOM.Row(seq)))),
		shot(dir, "06-live"),
	); err != nil {
		t.Fatalf("see the change in the live view: %v", err)
	}
	if !strings.Contains(row, "openai/gpt-5") || !strings.Contains(row, "approved in the browser") {
		t.Errorf("the live view's row of event %d: %q", seq, row)
	}
	cancelLive()

	var entries string
	run("see it in the audit log",
		chromedp.Navigate(s.URL+"/audit"),
		chromedp.WaitVisible(chromedp.ID("entries")),
		chromedp.SetValue(chromedp.ID("model"), "openai/gpt-5"),
		chromedp.SetValue(chromedp.ID("action"), "model.lifecycle"),
		chromedp.Submit(chromedp.ID("model")),
		chromedp.WaitVisible(chromedp.CSS(`#entries a[href="/models/openai/gpt-5"]`)),
		read(&entries, chromedp.Text(chromedp.ID("entries"))),
		shot(dir, "07-audit"),
	)
	if !strings.Contains(entries, "governor") || !strings.Contains(entries, "approved in the browser") || !strings.Contains(entries, "allowed") {
		t.Errorf("audit entries:\n%s", entries)
	}

	var outcome string
	run("verify the audit log",
		chromedp.Click(chromedp.ID("verify-log")),
		chromedp.WaitVisible(chromedp.ID("verification")),
		read(&outcome, chromedp.Text(chromedp.ID("verify-outcome"))),
		shot(dir, "08-audit-verified"),
	)
	if outcome != "verified" {
		t.Errorf("verifying the log: %q", outcome)
	}

	var rules, board string
	run("look at governance and a leaderboard",
		chromedp.Navigate(s.URL+"/governance"),
		chromedp.WaitVisible(chromedp.CSS("main h2")),
		read(&rules, chromedp.Text(chromedp.ID("main"))),
		shot(dir, "09-governance"),
		chromedp.Navigate(s.URL+"/leaderboards/hellaswag"),
		chromedp.WaitVisible(chromedp.CSS("main table")),
		read(&board, chromedp.Text(chromedp.CSS("main table"))),
		shot(dir, "10-leaderboard"),
	)
	if !strings.Contains(rules, "general-size-class") {
		t.Errorf("the governance page does not show the active rules:\n%s", rules)
	}
	if i, j := strings.Index(board, "openai/gpt-5"), strings.Index(board, "meta/llama-3-1-405b"); i < 0 || j < 0 || i > j {
		t.Errorf("hellaswag's leaderboard should rank openai/gpt-5 (0.83) above meta/llama-3-1-405b (0.77):\n%s", board)
	}

	signOut()

	// A viewer is not offered the action.
	signIn("viewer")
	var why string
	run("open a model as a viewer",
		chromedp.Navigate(s.URL+"/models/meta/llama-3-1-405b"),
		chromedp.WaitVisible(chromedp.ID("no-actions")),
		read(&why, chromedp.Text(chromedp.ID("no-actions"))),
		shot(dir, "11-viewer-model"),
	)
	if !strings.Contains(why, "viewer") || !strings.Contains(why, "may not change") {
		t.Errorf("a viewer is told %q", why)
	}
	if forms := count("#lifecycle-form"); forms != 0 {
		t.Errorf("a viewer sees %d lifecycle forms", forms)
	}
	signOut()

	// A maintainer who does not own the model is offered the form and
	// refused by the registry, with the rule that refused it.
	signIn("bob")
	var refusal string
	run("be refused as a maintainer who does not own the model",
		chromedp.Navigate(s.URL+"/models/meta/llama-3-1-405b"),
		chromedp.WaitVisible(chromedp.ID("lifecycle-form")),
		chromedp.SetValue(chromedp.ID("new-status"), "active"),
		chromedp.SendKeys(chromedp.ID("reason"), "not mine"),
		chromedp.Click(chromedp.ID("change-lifecycle")),
		chromedp.WaitVisible(chromedp.ID("problem")),
		read(&refusal, chromedp.Text(chromedp.ID("problem"))),
		read(&status, chromedp.Text(chromedp.ID("status"))),
		shot(dir, "12-refused"),
	)
	if !strings.Contains(refusal, "registry-access") || !strings.Contains(refusal, "may change its lifecycle") || status != "proposed" {
		t.Errorf("refusal %q, status %q", refusal, status)
	}

	// A narrow screen: the catalogue still renders.
	run("narrow screen",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("models")),
		shot(dir, "13-narrow-catalogue"),
	)
	t.Logf("screenshots in %s", dir)
}
