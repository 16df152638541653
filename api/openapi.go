package api

import _ "embed"

//go:embed openapi.yaml
var openapi []byte

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API, in YAML.
func OpenAPI() []byte { return openapi }
