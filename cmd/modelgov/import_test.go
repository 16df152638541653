package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
)

const importTestdata = "../../internal/importer/testdata"

// TestImportHiveLLM: the HiveLLM ecosystem's files import as one registry.
// The dry run changes nothing and ends with the compliance report, naming
// the roster's real violations of the founding rule; all or nothing, those
// violations refuse the import; with --partial the violators are imported
// with the role the policy allows and flagged, the evaluation records are
// linked, and a rollback undoes the batch.
func TestImportHiveLLM(t *testing.T) {
	srv := startServer(t, t.TempDir())
	mg := srv.cli()
	root := filepath.Join(importTestdata, "hivellm")

	dry := mg.succeed(t, "", "import", root, "--dry-run")
	for _, want := range []string{"openai/gpt-5-mini", "general-not-small-variant", "dry run: nothing was changed", "compliance of the result"} {
		if !strings.Contains(dry, want) {
			t.Errorf("the dry run does not say %q:\n%s", want, dry)
		}
	}
	var models api.ModelList
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "model", "list", "-o", "json")), &models); err != nil || len(models.Items) != 0 {
		t.Fatalf("the dry run stored %d models (%v)", len(models.Items), err)
	}

	res := mg.fail(t, "", "import", root)
	if !strings.Contains(res.stderr, "nothing was imported") {
		t.Errorf("all or nothing with invalid records: %s", res.stderr)
	}

	out := mg.succeed(t, "", "import", root, "--partial")
	batch := regexp.MustCompile(`imported as batch (imp_[0-9a-f]{16})`).FindStringSubmatch(out)
	if batch == nil {
		t.Fatalf("the partial import printed:\n%s", out)
	}
	if !strings.Contains(out, "flagged  asked for general") || !strings.Contains(out, "linked ") {
		t.Errorf("the partial import does not report its flags and linked evaluations:\n%s", out)
	}
	var mini api.Model
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "model", "get", "openai/gpt-5-mini", "-o", "json")), &mini); err != nil {
		t.Fatal(err)
	}
	if mini.Role() == api.RoleGeneral {
		t.Error("a mini variant listed as a general was made a general")
	}
	var gpt5 api.Model
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "model", "get", "openai/gpt-5", "-o", "json")), &gpt5); err != nil {
		t.Fatal(err)
	}
	if len(gpt5.SourceFiles) < 3 {
		t.Errorf("openai/gpt-5's provenance: %v, want every file that names it", gpt5.SourceFiles)
	}
	if hist := mg.succeed(t, "", "eval", "history", "openai/gpt-5"); !strings.Contains(hist, "hivellm/governance-checks") {
		t.Errorf("openai/gpt-5's evaluations were not linked:\n%s", hist)
	}

	mg.succeed(t, "", "import", "rollback", batch[1])
	if res := mg.fail(t, "", "model", "get", "openai/gpt-5-mini"); !strings.Contains(res.stderr, "not found") {
		t.Errorf("after the rollback: %s", res.stderr)
	}
	if res := mg.fail(t, "", "import", "rollback", batch[1]); !strings.Contains(res.stderr, "rolled back") {
		t.Errorf("a second rollback: %s", res.stderr)
	}
}

// TestExportBackupRestore: an export applies back without a change; a
// backup taken while the server runs restores into an empty data
// directory, whose audit log verifies and whose server answers the same.
func TestExportBackupRestore(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	mg := srv.cli()
	applyModels(t, mg, 0, 4)
	mg.succeed(t, "", "model", "lifecycle", "acme/m-000", "--to", "active", "--reason", "vote 1")
	mg.proveIdentity(t, "acme/m-001")
	mg.succeed(t, "", "alias", "set", "hivellm/chair", "acme/m-002", "--reason", "elected")

	export := mg.succeed(t, "", "export")
	again := mg.succeed(t, export, "model", "apply", "-f", "-")
	if strings.Contains(again, "created") || strings.Contains(again, "updated") {
		t.Errorf("applying the export changed models:\n%s", again)
	}
	roster := filepath.Join(t.TempDir(), "generals.yml")
	mg.succeed(t, "", "export", "--format", "json", "--out", filepath.Join(t.TempDir(), "models.json"), "--legacy", roster)
	if b, err := os.ReadFile(roster); err != nil || !strings.Contains(string(b), "generals:") {
		t.Errorf("the legacy roster: %s, %v", b, err)
	}

	saved := filepath.Join(t.TempDir(), "checkpoint")
	mg.succeed(t, "", "audit", "verify", "--save", saved)
	before := snapshotViews(t, mg)
	backup := filepath.Join(t.TempDir(), "registry.snapshot")
	mg.succeed(t, "", "backup", backup)

	restored := t.TempDir()
	out := commandLine{}.succeed(t, "", "restore", backup, "--data-dir", restored)
	if !strings.Contains(out, "audit log verified") {
		t.Errorf("restore printed:\n%s", out)
	}
	if res := (commandLine{}).fail(t, "", "restore", backup, "--data-dir", restored); !strings.Contains(res.stderr, "not empty") {
		t.Errorf("a restore into a registry that is not empty: %s", res.stderr)
	}
	for _, f := range []string{audit.KeyFile, "admin.token"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(restored, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv.kill(t)
	srv = startServer(t, restored)
	mg = srv.cli()
	after := snapshotViews(t, mg)
	for name, b := range before {
		if after[name] != b {
			t.Errorf("%s differs after the restore:\nbefore %s\nafter  %s", name, b, after[name])
		}
	}
	mg.succeed(t, "", "audit", "verify", "--checkpoint", saved)
}

// TestImportLiteLLMCatalogue: LiteLLM's whole catalogue (2,985 keys). The
// dry run classifies every entry; all or nothing, it is refused; with
// --partial every valid entry is stored and the report says why each of the
// rest was refused.
func TestImportLiteLLMCatalogue(t *testing.T) {
	gz, err := os.ReadFile(filepath.Join(importTestdata, "import", "litellm-full.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "model_prices_and_context_window.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir())
	mg := srv.cli()

	var dry api.ImportReport
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "import", file, "--dry-run", "-o", "json")), &dry); err != nil {
		t.Fatal(err)
	}
	tot := dry.Totals
	if len(dry.Items) < 2900 || tot.Create+tot.Invalid != len(dry.Items) || tot.Create < 2800 || tot.Invalid == 0 {
		t.Fatalf("dry run of the catalogue: %d items, totals %+v", len(dry.Items), tot)
	}
	for _, it := range dry.Items {
		if it.Outcome == api.ImportInvalid && len(it.Reasons) == 0 {
			t.Errorf("%s is invalid without a reason", it.Source)
		}
	}
	var models api.ModelList
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "model", "list", "-o", "json")), &models); err != nil || len(models.Items) != 0 {
		t.Fatalf("the dry run stored models: %d, %v", len(models.Items), err)
	}
	mg.fail(t, "", "import", file)

	var applied api.ImportReport
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "import", file, "--partial", "-o", "json")), &applied); err != nil {
		t.Fatal(err)
	}
	if !applied.Applied || applied.Totals.Create != tot.Create || applied.Totals.Invalid != tot.Invalid {
		t.Fatalf("partial import: %+v, want the dry run's %+v applied", applied.Totals, tot)
	}
	var gpt api.Model
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "model", "get", "openai/gpt-4o", "-o", "json")), &gpt); err != nil {
		t.Fatal(err)
	}
	if gpt.ContextWindow == 0 || gpt.Annotations["modelgov.io/source-key"] != "gpt-4o" {
		t.Errorf("openai/gpt-4o as imported: context %d, annotations %v", gpt.ContextWindow, gpt.Annotations)
	}
}
