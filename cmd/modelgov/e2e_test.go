package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/internal/server"
)

// The end-to-end tests run the modelgov binary itself, built once from this
// package by the go command, as a user would: "modelgov serve" in one
// process, the client commands in others.

// startTimeout bounds how long a server may take to listen and be ready.
const startTimeout = 10 * time.Second

var (
	binaryDir   string // where TestMain builds the binary; removed at the end
	buildOnce   sync.Once
	binaryPath  string
	buildOutput string
	buildErr    error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "modelgov-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create a folder for the modelgov binary:", err)
		os.Exit(1)
	}
	binaryDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// modelgovBinary returns the path of the modelgov binary, building it on
// first use, so that the unit tests alone need no build.
func modelgovBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		// go test puts $GOROOT/bin first on the PATH of the test binary.
		goCommand, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("find the go command to build modelgov: %w", err)
			return
		}
		binaryPath = filepath.Join(binaryDir, "modelgov")
		if runtime.GOOS == "windows" {
			binaryPath += ".exe"
		}
		cmd := exec.Command(goCommand, "build", "-o", binaryPath, ".")
		out, err := cmd.CombinedOutput()
		buildOutput = string(out)
		if err != nil {
			buildErr = fmt.Errorf("go build -o %s .: %w", binaryPath, err)
		}
	})
	if buildErr != nil {
		t.Fatalf("%v\n%s", buildErr, buildOutput)
	}
	return binaryPath
}

// serverProcess is a running "modelgov serve".
type serverProcess struct {
	URL     string // http://127.0.0.1:PORT
	DataDir string

	cmd     *exec.Cmd
	log     *syncBuffer // standard output and error
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// startServer starts "modelgov serve" on a free port of 127.0.0.1 with its
// database in dataDir, and returns once GET /readyz answers 200. The process
// is killed, if it still runs, when the test ends.
func startServer(t *testing.T, dataDir string, args ...string) *serverProcess {
	t.Helper()
	bin := modelgovBinary(t)
	s := &serverProcess{DataDir: dataDir, log: &syncBuffer{}, exited: make(chan struct{})}
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, args...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	s.cmd.Env = append(os.Environ(), "MODELGOV_LISTEN=", "MODELGOV_DATA_DIR=")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(s.cmd.Args, " "), err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.kill(t)
		if t.Failed() {
			t.Logf("log of %s:\n%s", strings.Join(s.cmd.Args, " "), s.log)
		}
	})

	deadline := time.Now().Add(startTimeout)
	serving := regexp.MustCompile(`msg="modelgov is serving" address=(\S+)`)
	for s.URL == "" {
		if m := serving.FindStringSubmatch(s.log.String()); m != nil {
			s.URL = "http://" + m[1]
			break
		}
		s.pause(t, deadline, "log the address it serves on")
	}
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		s.pause(t, deadline, "answer 200 on GET /readyz")
	}
}

// pause waits a little for the server to do what, failing the test when
// the process ended or the deadline passed.
func (s *serverProcess) pause(t *testing.T, deadline time.Time, what string) {
	t.Helper()
	select {
	case <-s.exited:
		t.Fatalf("modelgov serve exited (%v) before it could %s; its log:\n%s", s.waitErr, what, s.log)
	case <-time.After(20 * time.Millisecond):
	}
	if time.Now().After(deadline) {
		t.Fatalf("modelgov serve did not %s within %v; its log:\n%s", what, startTimeout, s.log)
	}
}

// kill ends the process with SIGKILL (a crash, as far as the server can
// tell) and waits for it. It does nothing if the process already exited.
func (s *serverProcess) kill(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
		return
	default:
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill modelgov serve: %v", err)
	}
	<-s.exited
}

// wait waits up to timeout for the process to exit and returns what
// exec.Cmd.Wait said: nil for exit code 0.
func (s *serverProcess) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(timeout):
		t.Fatalf("modelgov serve still runs %v later; its log:\n%s", timeout, s.log)
		return nil
	}
}

// waitForLog waits up to timeout for text to appear in the server's log.
func (s *serverProcess) waitForLog(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(s.log.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("modelgov serve did not log %q within %v; its log:\n%s", text, timeout, s.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer that a process may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliResult is what one run of the command-line client did.
type cliResult struct {
	stdout, stderr string
	exitCode       int
}

// commandLine runs the modelgov client against the server at url, with
// the bearer token in tokenFile, or token, when it is set.
type commandLine struct {
	url       string
	tokenFile string
	token     string
}

// adminToken returns the admin token the server wrote in its data
// directory at its first start.
func (s *serverProcess) adminToken(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.DataDir, server.AdminTokenFile))
	if err != nil {
		t.Fatalf("read the admin token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// proveIdentity gives a model a verified identity with the identity
// commands, as its maintainer would: a new key, registered, and a
// challenge answered with it.
func (c commandLine) proveIdentity(t *testing.T, id string) {
	t.Helper()
	key := filepath.Join(t.TempDir(), strings.ReplaceAll(id, "/", "_")+".pem")
	c.succeed(t, "", "identity", "keygen", "--out", key)
	c.succeed(t, "", "identity", "register", id, "--key", key)
	c.succeed(t, "", "identity", "prove", id, "--key", key)
}

// cli returns the command line of an admin of the server: it sends the
// admin token the server wrote at its first start.
func (s *serverProcess) cli() commandLine {
	return commandLine{url: s.URL, tokenFile: filepath.Join(s.DataDir, server.AdminTokenFile)}
}

// run runs "modelgov --server URL args..." with stdin as standard input.
func (c commandLine) run(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	global := []string{"--server", c.url}
	if c.tokenFile != "" {
		global = append(global, "--token-file", c.tokenFile)
	}
	if c.token != "" {
		global = append(global, "--token", c.token)
	}
	cmd := exec.CommandContext(ctx, modelgovBinary(t), append(global, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "MODELGOV_SERVER=")
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("modelgov %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// succeed runs the client and fails the test unless it exits 0; it
// returns the standard output.
func (c commandLine) succeed(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	res := c.run(t, stdin, args...)
	if res.exitCode != 0 {
		t.Fatalf("modelgov %s: exit code %d, want 0; stderr:\n%s", strings.Join(args, " "), res.exitCode, res.stderr)
	}
	return res.stdout
}

// fail runs the client and reports an error unless it exits non-zero.
func (c commandLine) fail(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	res := c.run(t, stdin, args...)
	if res.exitCode == 0 {
		t.Errorf("modelgov %s: exit code 0, want a failure; stdout:\n%s", strings.Join(args, " "), res.stdout)
	}
	return res
}
