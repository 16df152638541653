// Package api holds the wire types of modelgov's HTTP API: the model document
// in its current schema version (1.1), the resources around it (revisions,
// aliases, lists) and RFC 9457 problem details.
//
// These types are the contract that the server, the Go client and any other
// program share. The authoritative description is the OpenAPI document
// embedded here (openapi.yaml) and the JSON Schemas served at /schemas/.
package api
