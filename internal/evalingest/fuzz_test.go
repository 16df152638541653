package evalingest

import (
	"os"
	"path/filepath"
	"testing"
)

func seed(f *testing.F, dir string) {
	entries, err := os.ReadDir(filepath.Join("testdata", dir))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join("testdata", dir, e.Name())); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
}

func checkBatch(t *testing.T, b *Batch, err error) {
	if err != nil {
		if b != nil {
			t.Fatalf("a batch and an error %v", err)
		}
		return
	}
	for _, r := range b.Results {
		if r.Where == "" || r.Request.ArtifactDigest == "" {
			t.Fatalf("result without where or digest: %+v", r)
		}
	}
	for _, p := range b.Problems {
		if p.Severity != SeverityError && p.Severity != SeverityWarning {
			t.Fatalf("problem %+v", p)
		}
	}
}

func FuzzLMEvalHarness(f *testing.F) {
	seed(f, "lm-eval")
	f.Add([]byte(`{"results": {"t": {"acc,none": "N/A", "acc_stderr,none": null}}, "groups": {"g": {}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := LMEvalHarness("results_2025-01-01T00-00-00.000000.json", data)
		checkBatch(t, b, err)
		_, _ = Detect("fuzz.json", data)
	})
}

func FuzzModelIndex(f *testing.F) {
	seed(f, "hf-model-index")
	f.Add([]byte("---\nmodel-index:\n- name: m\n  results:\n  - dataset: {type: x}\n    metrics: [{type: acc, value: '1 +/- 2'}]\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ModelIndex("README.md", data)
		checkBatch(t, b, err)
		_, _ = Detect("README.md", data)
	})
}
