package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// startBrowser opens a headless Chromium tab of the given size for a
// browser test, closed when the test ends. problems returns what the page
// reported that a user would call broken: uncaught exceptions, console
// errors, and failed loads other than the 422s forms answer on purpose.
func startBrowser(t *testing.T, chromium string, width, height int, timeout time.Duration) (ctx context.Context, problems func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)

	var mu sync.Mutex
	var found []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			found = append(found, "exception: "+msg+" at "+d.URL)
		case *log.EventEntryAdded:
			// A form with mistakes is answered 422 on purpose; Chromium logs that.
			if ev.Entry.Level == log.EntryLevelError && !strings.Contains(ev.Entry.Text, "status of 422") {
				found = append(found, "console: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				found = append(found, "console.error")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), found...)
	}
}

// runStep runs a named group of browser actions, failing the test with
// the name when one fails.
func runStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// tab is a browser tab for a test, with the helpers every browser test
// uses: named steps, screenshots (kept in -screenshots when given), the
// text of an element, and waiting for a condition in the page.
type tab struct {
	t        *testing.T
	ctx      context.Context
	dir      string
	problems func() []string
}

func openTab(t *testing.T, chromium string, width, height int, timeout time.Duration) *tab {
	t.Helper()
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, problems := startBrowser(t, chromium, width, height, timeout)
	return &tab{t: t, ctx: ctx, dir: dir, problems: problems}
}

func (b *tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	runStep(b.t, b.ctx, what, actions...)
}

func (b *tab) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, name), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *tab) text(sel string) string {
	s, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	return s
}

// poll evaluates js until it is true. A form's answer is a new page, so an
// evaluation may meet a navigation; it is simply tried again.
func (b *tab) poll(what, js string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(`+js+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: never true (last error %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
