// Package auth authenticates the callers of modelgov: it answers "who is
// this?", never "may they do that?".
//
// It provides two kinds of credential:
//
//   - API tokens (NewToken, HashToken, TokenPrefix): random secrets of the
//     form mgv_<43 base62 characters><6 base62 characters of CRC32>. The
//     checksum lets a secret scanner, or the server before any lookup, tell a
//     mistyped or made-up token from a real one. The server stores only the
//     SHA-256 of a secret; which token a hash belongs to, and whether it is
//     revoked or expired, is the registry's business.
//   - OpenID Connect bearer JWTs from one configured issuer (OIDC), turned
//     into an api.Principal whose roles come from a claim of the token.
//     LooksLikeJWT tells such a token apart from an API token cheaply.
//
// What it does not do: it keeps no state about tokens (storage, revocation
// and expiry of API tokens live in the registry and the store), and it makes
// no authorization decision. A principal with no roles is still a principal;
// what each role may do is decided by the registry and the HTTP layer
// (internal/registry, internal/httpapi).
//
// Errors from this package that refuse a credential have kind
// errs.Unauthenticated and never contain the credential itself.
package auth
