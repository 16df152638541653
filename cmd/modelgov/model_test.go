package main

import (
	"fmt"
	"testing"

	"github.com/hivellm/modelgov/client"
)

func TestDocumentType(t *testing.T) {
	for _, tt := range []struct {
		path string
		want string
	}{
		{"gpt-5.json", client.JSON},
		{"models/gpt-5.yaml", client.YAML},
		{"models/gpt-5.yml", client.YAML},
		{"GPT-5.JSON", client.JSON},
		{"gpt-5.YaML", client.YAML},
		{"dir.json/gpt-5", ""},
		{"gpt-5.json.bak", ""},
		{"README.txt", ""},
		{"Makefile", ""},
		{".json", client.JSON},
		{"", ""},
	} {
		if got := documentType(tt.path); got != tt.want {
			t.Errorf("documentType(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestSplitDocuments(t *testing.T) {
	for _, tt := range []struct {
		name        string
		contentType string
		in          string
		want        []string // the documents' bodies; sources are "f", or "f (document N)" when there are several
	}{{
		name:        "a YAML document",
		contentType: client.YAML,
		in:          "model_id: a/b\nprovider: a\n",
		want:        []string{"model_id: a/b\nprovider: a\n"},
	}, {
		name:        "a last line without a newline gets one",
		contentType: client.YAML,
		in:          "model_id: a/b",
		want:        []string{"model_id: a/b\n"},
	}, {
		name:        "documents separated by ---",
		contentType: client.YAML,
		in:          "model_id: a/b\n---\nmodel_id: a/c\n---\nmodel_id: a/d\n",
		want:        []string{"model_id: a/b\n", "model_id: a/c\n", "model_id: a/d\n"},
	}, {
		name:        "a leading and a trailing --- make no empty documents",
		contentType: client.YAML,
		in:          "---\nmodel_id: a/b\n---\n",
		want:        []string{"model_id: a/b\n"},
	}, {
		name:        "a separator may carry spaces and a comment",
		contentType: client.YAML,
		in:          "model_id: a/b\n---   \nmodel_id: a/c\n--- # the third\nmodel_id: a/d\n",
		want:        []string{"model_id: a/b\n", "model_id: a/c\n", "model_id: a/d\n"},
	}, {
		name:        "Windows line ends become Unix ones",
		contentType: client.YAML,
		in:          "model_id: a/b\r\n---\r\nmodel_id: a/c\r\n",
		want:        []string{"model_id: a/b\n", "model_id: a/c\n"},
	}, {
		name:        "a document of comments only is no document",
		contentType: client.YAML,
		in:          "# models of team core\n\n---\nmodel_id: a/b\n---\n  # nothing here\n---\nmodel_id: a/c\n",
		want:        []string{"model_id: a/b\n", "model_id: a/c\n"},
	}, {
		name:        "comments stay in the document they are in",
		contentType: client.YAML,
		in:          "# GPT-5\nmodel_id: a/b # the id\n",
		want:        []string{"# GPT-5\nmodel_id: a/b # the id\n"},
	}, {
		name:        "--- inside a line or with more dashes does not separate",
		contentType: client.YAML,
		in:          "notes: before --- after\n----\n  ---\nmodel_id: a/b\n",
		want:        []string{"notes: before --- after\n----\n  ---\nmodel_id: a/b\n"},
	}, {
		name:        "nothing but blank lines and comments",
		contentType: client.YAML,
		in:          "\n# empty\n---\n\n",
		want:        nil,
	}, {
		name:        "empty input",
		contentType: client.YAML,
		in:          "",
		want:        nil,
	}, {
		name:        "JSON is one document, as it is",
		contentType: client.JSON,
		in:          "{\n  \"model_id\": \"a/b\",\n  \"notes\": \"x\n---\ny\"\n}",
		want:        []string{"{\n  \"model_id\": \"a/b\",\n  \"notes\": \"x\n---\ny\"\n}"},
	}, {
		name:        "JSON is not split, even with several values",
		contentType: client.JSON,
		in:          "{\"model_id\": \"a/b\"}\n---\n{\"model_id\": \"a/c\"}\n",
		want:        []string{"{\"model_id\": \"a/b\"}\n---\n{\"model_id\": \"a/c\"}\n"},
	}, {
		name:        "JSON documents in a YAML stream",
		contentType: client.YAML,
		in:          "{\"model_id\": \"a/b\"}\n---\n{\"model_id\": \"a/c\"}\n",
		want:        []string{"{\"model_id\": \"a/b\"}\n", "{\"model_id\": \"a/c\"}\n"},
	}, {
		name:        "a document may start on the line of its ---",
		contentType: client.YAML,
		in:          "--- {model_id: a/b}\n--- {model_id: a/c}\n",
		want:        []string{"{model_id: a/b}\n", "{model_id: a/c}\n"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			docs := splitDocuments("f", []byte(tt.in), tt.contentType)
			var got []string
			for i, d := range docs {
				got = append(got, string(d.body))
				wantSource := "f"
				if len(tt.want) > 1 {
					wantSource = fmt.Sprintf("f (document %d)", i+1)
				}
				if d.source != wantSource || d.contentType != tt.contentType {
					t.Errorf("document %d: source %q, content type %q; want %q, %q", i+1, d.source, d.contentType, wantSource, tt.contentType)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("splitDocuments(%q) = %d documents %q, want %d %q", tt.in, len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("splitDocuments(%q), document %d = %q, want %q", tt.in, i+1, got[i], tt.want[i])
				}
			}
		})
	}
}
