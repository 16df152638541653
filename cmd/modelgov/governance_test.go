package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGovernanceCommands: classify, policy list/get/test/upload/activate,
// compliance and exempt, through the real binary.
func TestGovernanceCommands(t *testing.T) {
	srv := startServer(t, t.TempDir())
	mg := srv.cli()
	mg.succeed(t, `
schema_version: "1.1"
model_id: meta/llama-3-3-70b
provider: meta
display_name: Llama 3.3 70B
size_class: large
parameters: {count: 70e9, source: declared}
---
schema_version: "1.1"
model_id: meta/llama-3-1-405b
provider: meta
display_name: Llama 3.1 405B
size_class: xl
parameters: {count: 405e9, source: declared}
`, "model", "apply", "-f", "-")
	for _, id := range []string{"meta/llama-3-3-70b", "meta/llama-3-1-405b"} {
		mg.proveIdentity(t, id)
		out := mg.succeed(t, "", "model", "classify", id, "--role", "generals", "--reason", "the roster says so")
		if !strings.Contains(out, "is general (policy version 1)") {
			t.Errorf("classify %s: %s", id, out)
		}
	}
	if out := mg.succeed(t, "", "policy", "list"); !strings.Contains(out, "hivellm-default") || !strings.Contains(out, "yes") {
		t.Errorf("policy list: %s", out)
	}
	bundle := mg.succeed(t, "", "policy", "get")
	if !strings.Contains(bundle, "general-size-class") {
		t.Fatalf("policy get shows no rules:\n%s", bundle)
	}
	// A stricter candidate: generals need 300B parameters.
	stricter := strings.Replace(bundle, "general_min_parameters: 70000000000", "general_min_parameters: 300000000000", 1)
	if stricter == bundle {
		t.Fatalf("the active bundle has no general_min_parameters of 70e9:\n%s", bundle)
	}
	stricter = strings.Replace(stricter, "name: hivellm-default", "name: hivellm-stricter", 1)
	file := filepath.Join(t.TempDir(), "stricter.yaml")
	if err := os.WriteFile(file, []byte(stricter), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mg.succeed(t, "", "policy", "test", file, "--all")
	if !strings.Contains(out, "2 models checked, 1 out of compliance") || !strings.Contains(out, "meta/llama-3-3-70b") {
		t.Errorf("policy test --all: %s", out)
	}
	doc := filepath.Join(t.TempDir(), "70b.yaml")
	os.WriteFile(doc, []byte("schema_version: \"1.1\"\nmodel_id: meta/llama-3-3-70b\nprovider: meta\ndisplay_name: Llama 3.3 70B\nsize_class: large\nparameters: {count: 70e9, source: declared}\n"), 0o644)
	res := mg.fail(t, "", "policy", "test", file, "--against", doc)
	if !strings.Contains(res.stdout, "REFUSED") || !strings.Contains(res.stdout, "general-parameters") {
		t.Errorf("policy test --against: stdout %s stderr %s", res.stdout, res.stderr)
	}
	if out := mg.succeed(t, "", "policy", "upload", file); !strings.Contains(out, "policy version 2 stored") {
		t.Errorf("policy upload: %s", out)
	}
	if out := mg.succeed(t, "", "policy", "activate", "2", "--dry-run"); !strings.Contains(out, "dry run") || !strings.Contains(out, "1 out of compliance") {
		t.Errorf("activate --dry-run: %s", out)
	}
	if out := mg.succeed(t, "", "compliance"); !strings.Contains(out, "0 out of compliance") {
		t.Errorf("compliance before activation: %s", out)
	}
	mg.succeed(t, "", "policy", "activate", "2")
	out = mg.succeed(t, "", "compliance")
	if !strings.Contains(out, "meta/llama-3-3-70b") || !strings.Contains(out, "general-parameters") {
		t.Errorf("compliance after activation: %s", out)
	}
	out = mg.succeed(t, "", "model", "exempt", "meta/llama-3-3-70b", "--rules", "general-parameters",
		"--reason", "vote 7 keeps it until the next election", "--until", "720h")
	if !strings.Contains(out, "exempted from general-parameters") {
		t.Errorf("exempt: %s", out)
	}
	res = mg.fail(t, "", "model", "classify", "meta/llama-3-1-405b", "--role", "chair", "--reason", "r")
	if !strings.Contains(res.stderr, "/role") {
		t.Errorf("classify with an unknown role: %s", res.stderr)
	}
}
