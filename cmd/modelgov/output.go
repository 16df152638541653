package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
)

func yamlToJSON(b []byte) ([]byte, error) { return yaml.YAMLToJSON(b) }

// printStructured writes v as JSON or YAML.
func printStructured(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q: use table, json or yaml", format)
}

// printModels writes models as a table, or whole as JSON or YAML.
func printModels(w io.Writer, format string, models []*api.Model, whole any) error {
	if format != "table" {
		return printStructured(w, format, whole)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPROVIDER\tSIZE\tPARAMETERS\tROLE\tSTATUS\tVERSION")
	for _, m := range models {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ModelID, m.Provider, dash(string(m.SizeClass)),
			parameters(m.Parameters), m.Role(), m.Status(), m.ResourceVersion)
	}
	return tw.Flush()
}

func printRevisions(w io.Writer, format string, revs []*api.Revision) error {
	if format != "table" {
		return printStructured(w, format, revs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tTIME\tACTION\tACTOR\tSTATUS\tROLE\tREASON")
	for _, r := range revs {
		status, role := "-", "-"
		if r.Model != nil {
			status, role = string(r.Model.Status()), string(r.Model.Role())
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Revision, r.Time.Format(time.RFC3339), r.Action,
			r.Actor, status, role, dash(oneLine(r.Reason)))
	}
	return tw.Flush()
}

func parameters(p *api.Parameters) string {
	if p == nil || p.Count == 0 {
		return "-"
	}
	n := float64(p.Count)
	s := fmt.Sprintf("%.0fM", n/1e6)
	if n >= 1e9 {
		s = strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", n/1e9), "0"), ".") + "B"
	}
	if p.Source == api.ParametersEstimated {
		s = "~" + s
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
