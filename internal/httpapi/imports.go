package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/store"
)

// MaxImportBody is the largest import request: about 10,000 records of
// ordinary size per 16 MiB.
const MaxImportBody = 64 << 20

// ImportProgress is a line of an import's progress stream
// (POST /v1/imports?progress=ndjson): progress while it runs, then the
// report, or the problem that ended it.
type ImportProgress struct {
	Done    int               `json:"done,omitempty"`
	Total   int               `json:"total,omitempty"`
	Report  *api.ImportReport `json:"report,omitempty"`
	Problem *api.Problem      `json:"problem,omitempty"`
}

func (s *Server) importModels(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "progress"); err != nil {
		return err
	}
	stream := q.Get("progress")
	if stream != "" && stream != "ndjson" {
		return errs.E(errs.Malformed, "progress %q: the only progress stream is ndjson", stream)
	}
	body, err := s.readBodyUpTo(w, r, MaxImportBody, jsonTypes...)
	if err != nil {
		return s.bodyError(w, r, err)
	}
	var req api.ImportRequest
	if err := unmarshalBody(body, &req); err != nil {
		return err
	}
	o := registry.ImportOptions{Source: req.Source, Format: req.Format, DryRun: req.DryRun, Partial: req.Partial}
	if stream == "" {
		rep, err := s.reg.Import(r.Context(), req.Records, o, opts)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if rep.Applied {
			status = http.StatusCreated
			w.Header().Set("Location", "/v1/imports/"+rep.Batch)
		}
		return writeJSON(w, status, rep)
	}
	// Streamed: the status is 200 once the first line is out; the last
	// line says how it ended.
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	o.Progress = func(done, total int) {
		_ = enc.Encode(ImportProgress{Done: done, Total: total})
		flush()
	}
	rep, err := s.reg.Import(r.Context(), req.Records, o, opts)
	if err != nil {
		p := s.problemOf(r, err)
		_ = enc.Encode(ImportProgress{Problem: p})
		return nil
	}
	_ = enc.Encode(ImportProgress{Report: rep})
	return nil
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	l, err := s.reg.ListImports(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	b, err := s.reg.GetImport(r.Context(), callerOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (s *Server) rollbackImport(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "force"); err != nil {
		return err
	}
	force := false
	if v := q.Get("force"); v != "" {
		if force, err = strconv.ParseBool(v); err != nil {
			return errs.E(errs.Malformed, "force %q is not true or false", v)
		}
	}
	b, err := s.reg.RollbackImport(r.Context(), r.PathValue("id"), force, opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// backup streams a consistent snapshot of the whole registry (the store's
// Export, in the snapshot format) while the server runs.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	started := false
	sw := store.NewSnapshotWriter(w)
	err := s.reg.Backup(r.Context(), callerOf(r), func(rec *store.Record) error {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Content-Disposition", `attachment; filename="modelgov.snapshot"`)
			w.Header().Set("Cache-Control", "no-store")
			started = true
		}
		return sw.Write(rec)
	})
	if err != nil {
		if !started {
			return err
		}
		// The status is out: cut the stream short, so that the client
		// sees an incomplete snapshot rather than a complete-looking one.
		panic(http.ErrAbortHandler)
	}
	return sw.Close()
}
