package schema

import (
	"reflect"
	"testing"

	"github.com/hivellm/modelgov/api"
)

func TestUpgrade10(t *testing.T) {
	tests := []struct {
		name string
		old  ModelV10
		want Decoded
	}{
		{
			name: "P035 example",
			old: ModelV10{
				SchemaVersion: "1.0", ModelID: "openai-gpt-5-general", Provider: "openai", DisplayName: "GPT-5 (General)",
				Role: "general", SizeClass: "xl", Capabilities: []string{"code", "reasoning", "tools"}, Status: "active",
				EvalRefs: []string{"eval-openai-gpt-5-2025-09-07"}, SourceFiles: []string{"metrics/models/openai-gpt-5-general.json"},
				Notes: "Primary large model entry for generals group.", CreatedAt: "2025-09-07T00:00:00Z", UpdatedAt: "2025-09-07T00:00:00Z",
			},
			want: Decoded{
				Model: &api.Model{
					SchemaVersion: "1.1", ModelID: "openai/gpt-5-general", Provider: "openai", DisplayName: "GPT-5 (General)",
					SizeClass: "xl", Capabilities: []string{"code", "reasoning", "tools"},
					Annotations: map[string]string{
						AnnotationP035ModelID:   "openai-gpt-5-general",
						AnnotationP035CreatedAt: "2025-09-07T00:00:00Z",
						AnnotationP035UpdatedAt: "2025-09-07T00:00:00Z",
					},
					EvalRefs: []string{"eval-openai-gpt-5-2025-09-07"}, SourceFiles: []string{"metrics/models/openai-gpt-5-general.json"},
					Notes: "Primary large model entry for generals group.",
				},
				SourceVersion: "1.0", RequestedRole: api.RoleGeneral, RequestedStatus: api.StatusActive,
			},
		},
		{
			name: "provider and ID are slugified, capabilities normalized",
			old: ModelV10{
				ModelID: "Meta AI-Llama 3.1_70B Instruct", Provider: "Meta AI", DisplayName: "Llama", Role: "specialist",
				SizeClass: "large", Capabilities: []string{"Code", "tool use", " Tool  Use ", "code"}, Status: "deprecated",
				SourceFiles: []string{}, CreatedAt: "2024-07-23T00:00:00Z",
			},
			want: Decoded{
				Model: &api.Model{
					SchemaVersion: "1.1", ModelID: "meta-ai/llama-3.1-70b-instruct", Provider: "meta-ai", DisplayName: "Llama",
					SizeClass: "large", Capabilities: []string{"code", "tool-use"},
					Annotations: map[string]string{
						AnnotationP035ModelID:   "Meta AI-Llama 3.1_70B Instruct",
						AnnotationP035CreatedAt: "2024-07-23T00:00:00Z",
					},
				},
				SourceVersion: "1.0", RequestedRole: api.RoleSpecialist, RequestedStatus: api.StatusDeprecated,
			},
		},
		{
			name: "ID without provider prefix",
			old:  ModelV10{ModelID: "gpt-4o", Provider: "OpenAI", DisplayName: "GPT-4o", Role: "experimental", Status: "archived"},
			want: Decoded{
				Model: &api.Model{
					SchemaVersion: "1.1", ModelID: "openai/gpt-4o", Provider: "openai", DisplayName: "GPT-4o",
					Annotations: map[string]string{AnnotationP035ModelID: "gpt-4o"},
				},
				SourceVersion: "1.0", RequestedRole: api.RoleExperimental, RequestedStatus: api.StatusArchived,
			},
		},
		{
			name: "ID with a slash is only lowercased",
			old:  ModelV10{ModelID: "OpenAI/GPT-5", Provider: "x.ai", DisplayName: "GPT-5"},
			want: Decoded{
				Model: &api.Model{
					SchemaVersion: "1.1", ModelID: "openai/gpt-5", Provider: "x-ai", DisplayName: "GPT-5",
					Annotations: map[string]string{AnnotationP035ModelID: "OpenAI/GPT-5"},
				},
				SourceVersion: "1.0",
			},
		},
		{
			name: "unchanged ID is not annotated",
			old:  ModelV10{ModelID: "openai/gpt-5", Provider: "openai", DisplayName: "GPT-5"},
			want: Decoded{
				Model:         &api.Model{SchemaVersion: "1.1", ModelID: "openai/gpt-5", Provider: "openai", DisplayName: "GPT-5"},
				SourceVersion: "1.0",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Upgrade10(&tt.old); !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("Upgrade10(%+v):\ngot  %s\nwant %s", tt.old, dump(got), dump(tt.want))
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct {
		in       string
		keepDots bool
		want     string
	}{
		{"openai", false, "openai"},
		{"OpenAI", false, "openai"},
		{"Meta AI", false, "meta-ai"},
		{"x.ai", false, "x-ai"},
		{"x.ai", true, "x.ai"},
		{"mistral_ai", false, "mistral-ai"},
		{"GPT-5 (General)", true, "gpt-5-general"},
		{"  --Llama 3.1 -- 70B!  ", true, "llama-3.1-70b"},
		{".hidden.", true, "hidden"},
		{"Zhipu 智谱", false, "zhipu"},
		{"!!!", false, ""},
	}
	for _, tt := range tests {
		if got := slugify(tt.in, tt.keepDots); got != tt.want {
			t.Errorf("slugify(%q, %v) = %q, want %q", tt.in, tt.keepDots, got, tt.want)
		}
	}
}
