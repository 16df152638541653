package importer

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hivellm/modelgov/internal/errs"
)

//go:embed mappings/*.yaml
var builtin embed.FS

// BuiltinMapping returns the built-in mapping of a format ("litellm",
// "openrouter"), the same engine's input as a user's mapping file.
func BuiltinMapping(format string) (*Mapping, error) {
	b, err := builtin.ReadFile("mappings/" + format + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in mapping for %q", format)
	}
	m, err := ParseMapping(b)
	if err != nil {
		return nil, fmt.Errorf("built-in mapping %s: %w", format, err)
	}
	return m, nil
}

// LiteLLM maps LiteLLM's model_prices_and_context_window.json with the
// built-in mapping mappings/litellm.yaml.
func LiteLLM(name string, data []byte) (*Batch, error) {
	return builtinBatch(FormatLiteLLM, name, data)
}

// OpenRouter maps an OpenRouter /api/v1/models listing ({"data": [...]} or
// a bare array) with the built-in mapping mappings/openrouter.yaml.
func OpenRouter(name string, data []byte) (*Batch, error) {
	return builtinBatch(FormatOpenRouter, name, data)
}

func builtinBatch(format, name string, data []byte) (*Batch, error) {
	m, err := BuiltinMapping(format)
	if err != nil {
		return nil, err
	}
	b, err := m.Apply(name, data)
	if err != nil {
		return nil, err
	}
	b.Format = format
	return b, nil
}

// CSV maps a CSV file with a mapping file (which must say format: csv).
func CSV(name string, data, mapping []byte) (*Batch, error) {
	m, err := ParseMapping(mapping)
	if err != nil {
		return nil, err
	}
	if m.Format != "csv" {
		return nil, fmt.Errorf("mapping: format is %q; a CSV source needs format: csv", m.Format)
	}
	return m.Apply(name, data)
}

// FromMapping maps a JSON, YAML or CSV source with a mapping file.
func FromMapping(name string, data, mapping []byte) (*Batch, error) {
	m, err := ParseMapping(mapping)
	if err != nil {
		return nil, err
	}
	return m.Apply(name, data)
}

// Documents reads the registry's own model documents, as `modelgov model
// apply` does: JSON or YAML files, YAML files holding several documents
// separated by ---, and folders of .json, .yaml and .yml files. Each
// document is decoded and checked by the schema package (proposal 035's
// 1.0 documents are upgraded to 1.1, and their role becomes Record.Role);
// one that fails gets a Problem for each bad field. An error means a file
// could not be read.
func Documents(paths ...string) (*Batch, error) {
	v, err := validator()
	if err != nil {
		return nil, fmt.Errorf("compile the model schema: %w", err)
	}
	b := &Batch{Format: FormatDocuments}
	for _, p := range paths {
		files, err := documentFiles(p)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", file, err)
			}
			parts := [][]byte{data}
			if ext := strings.ToLower(filepath.Ext(file)); ext != ".json" {
				parts = SplitYAML(data)
			}
			for i, part := range parts {
				rec := Record{Source: file}
				if len(parts) > 1 {
					rec.Source = fmt.Sprintf("%s (document %d)", file, i+1)
				}
				d, err := v.Decode(part)
				if err != nil {
					rec.Problems = decodeProblems(err)
					b.Records = append(b.Records, rec)
					continue
				}
				rec.Doc, rec.Key, rec.Role = d.Model, d.Model.ModelID, d.RequestedRole
				if d.SourceVersion != d.Model.SchemaVersion {
					rec.Notes = append(rec.Notes, fmt.Sprintf("upgraded from schema %s", d.SourceVersion))
				}
				if d.RequestedStatus != "" {
					rec.Notes = append(rec.Notes, fmt.Sprintf("the document asks for status %s, which a lifecycle transition sets", d.RequestedStatus))
				}
				b.Records = append(b.Records, rec)
			}
		}
	}
	markDuplicates(b.Records)
	return b, nil
}

// documentFiles lists a file, or a folder's .json, .yaml and .yml files in
// order.
func documentFiles(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(f)) {
		case ".json", ".yaml", ".yml":
			if !d.IsDir() {
				files = append(files, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no .json, .yaml or .yml file", p)
	}
	slices.Sort(files)
	return files, nil
}

var yamlSeparator = regexp.MustCompile(`^---(\s|$)`)

// SplitYAML cuts a YAML stream at its --- lines, leaving out documents
// that hold only comments or space. A stream with no document at all is
// returned whole, for the decoder to say what is wrong with it.
func SplitYAML(data []byte) [][]byte {
	var (
		docs [][]byte
		cur  bytes.Buffer
	)
	flush := func() {
		for line := range bytes.Lines(cur.Bytes()) {
			if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
				docs = append(docs, bytes.Clone(cur.Bytes()))
				break
			}
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		if line := sc.Bytes(); yamlSeparator.Match(line) {
			flush()
			if rest := bytes.TrimSpace(line[3:]); len(rest) > 0 && rest[0] != '#' {
				cur.Write(rest)
				cur.WriteByte('\n')
			}
			continue
		}
		cur.Write(sc.Bytes())
		cur.WriteByte('\n')
	}
	flush()
	if len(docs) == 0 {
		return [][]byte{data} // let the decoder say what is wrong
	}
	return docs
}

// decodeProblems turns a schema error into Problems.
func decodeProblems(err error) []Problem {
	var e *errs.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		ps := make([]Problem, len(e.Fields))
		for i, f := range e.Fields {
			ps[i] = Problem{Field: f.Pointer, Message: f.Message}
		}
		return ps
	}
	return []Problem{{Message: err.Error()}}
}
