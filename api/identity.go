package api

import "time"

// Roles a principal may hold. A token or an OIDC identity carries one or
// more of them; docs/SECURITY.md lists what each may do.
const (
	// RoleAdmin may do everything, including managing tokens.
	RoleAdmin = "admin"
	// RoleGovernor classifies models, grants exemptions, activates
	// policies, approves lifecycle changes and reviews flagged models.
	RoleGovernor = "governor"
	// RoleMaintainer registers models and edits the models it owns.
	RoleMaintainer = "maintainer"
	// RoleEvaluator submits evaluation results.
	RoleEvaluator = "evaluator"
	// RoleViewer reads.
	RoleViewer = "viewer"
)

// PrincipalRoles returns every role, most powerful first.
func PrincipalRoles() []string {
	return []string{RoleAdmin, RoleGovernor, RoleMaintainer, RoleEvaluator, RoleViewer}
}

// Token is an API token as listed: everything but its secret, which the
// server keeps only as a hash.
type Token struct {
	ID string `json:"id"`
	// Name is the principal the token authenticates, as recorded in
	// history and in the audit log. Several tokens may share a name.
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// Prefix is the start of the secret (mgv_ and a few characters), to
	// recognise a token without revealing it.
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
	// Token is the secret: set only in the answer that creates the token.
	Token string `json:"token,omitempty"`
}

// TokenRequest asks for a new API token.
type TokenRequest struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// TokenList lists tokens, newest first.
type TokenList struct {
	Items []*Token `json:"items"`
}

// Principal is who the server authenticated a request as.
type Principal struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// Method is how the caller authenticated: token, oidc or anonymous.
	Method string `json:"method"`
	// TokenID is the id of the token used, for method token.
	TokenID string `json:"token_id,omitempty"`
	// ExpiresAt is when the credential stops working, when it does.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Key types of model identities.
const (
	// KeyEd25519 is an Ed25519 key: a raw 32-byte public key and 64-byte
	// signatures of the message itself.
	KeyEd25519 = "ed25519"
	// KeySecp256k1 is an ECDSA key on secp256k1, as the HiveLLM tooling
	// uses: a 33-byte compressed public key, and signatures (64-byte r||s
	// or DER) of the SHA-256 of the message.
	KeySecp256k1 = "secp256k1"
)

// Identity statuses.
const (
	// IdentityUnverified: a key is registered, and its holder has not yet
	// proved possession.
	IdentityUnverified = "unverified"
	// IdentityVerified: the holder of the key answered a challenge.
	IdentityVerified = "verified"
	// IdentityRevoked: the identity's owner or a governor revoked it.
	IdentityRevoked = "revoked"
	// IdentityExpired is the status rules see, in place of verified or
	// unverified, for an identity whose expires_at has passed.
	IdentityExpired = "expired"
	// IdentityNone is the status rules see for a model with no identity.
	IdentityNone = "none"
)

// Identity is a model's cryptographic identity: the public key whose holder
// speaks for the model, and the endorsements of other models. It is owned
// by the server and changes only through the identity operations.
type Identity struct {
	KeyType string `json:"key_type"`
	// PublicKey is the raw public key, base64 (standard encoding).
	PublicKey string `json:"public_key"`
	// KeyID is the key's fingerprint: the hex of the first 16 bytes of
	// SHA-256 of the raw public key. No two models hold the same one.
	KeyID string `json:"key_id"`
	// ArtifactDigest, when given, identifies the model's weights
	// ("sha256:<hex>"). No two models hold the same one.
	ArtifactDigest string `json:"artifact_digest,omitempty"`
	Status         string `json:"status"`
	// Owner is the principal who answers for the identity: the one who
	// registered it, or whom an admin registered it for.
	// Endorsements count only from generals of distinct owners.
	Owner        string     `json:"owner"`
	RegisteredAt time.Time  `json:"registered_at"`
	RegisteredBy string     `json:"registered_by"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	// ExpiresAt is when the key stops counting: 365 days after
	// registration unless the registration asked for earlier.
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedBy     string     `json:"revoked_by,omitempty"`
	RevokedReason string     `json:"revoked_reason,omitempty"`
	// RotatedFrom is the key id of the key this one replaced, whose holder
	// signed the rotation.
	RotatedFrom string `json:"rotated_from,omitempty"`
	// RevokedKeys lists the key ids this model's identity ever had revoked:
	// a revoked key never speaks for the model again.
	RevokedKeys  []string      `json:"revoked_keys,omitempty"`
	Endorsements []Endorsement `json:"endorsements,omitempty"`
}

// StatusAt returns the identity's status at t: expired for a verified or
// unverified identity past its ExpiresAt.
func (id *Identity) StatusAt(t time.Time) string {
	if id == nil {
		return IdentityNone
	}
	if id.Status != IdentityRevoked && !t.Before(id.ExpiresAt) {
		return IdentityExpired
	}
	return id.Status
}

// Endorsement is one model's signed statement that another model's
// identity is genuine: a signature, by the endorser's key, of
// EndorsementMessage(endorsed model, endorsed key id).
type Endorsement struct {
	// By is the endorsing model's id, KeyID the key that signed.
	By        string `json:"by"`
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
	// EndorsedKeyID is the key id of the identity endorsed.
	EndorsedKeyID string    `json:"endorsed_key_id"`
	At            time.Time `json:"at"`
	// SubmittedBy is the principal who submitted the endorsement.
	SubmittedBy string `json:"submitted_by"`
}

// EndorsementMessage returns the bytes an endorser signs to endorse the
// identity with key id keyID of model modelID.
func EndorsementMessage(modelID, keyID string) []byte {
	return []byte("modelgov-endorsement:v1:" + modelID + ":" + keyID)
}

// IdentityRegistration registers (or rotates) a model's public key.
type IdentityRegistration struct {
	// KeyType is ed25519 (the default) or secp256k1.
	KeyType        string `json:"key_type,omitempty"`
	PublicKey      string `json:"public_key"`
	ArtifactDigest string `json:"artifact_digest,omitempty"`
	// ExpiresAt, when set, is earlier than the default of 365 days.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Owner, which only an admin may set, registers the identity on behalf
	// of another principal.
	Owner string `json:"owner,omitempty"`
	// Rotation must accompany a new key for a model whose identity is
	// not revoked: the answers to a rotation challenge.
	Rotation *Rotation `json:"rotation,omitempty"`
}

// Rotation authorises a new key: both keys sign the nonce of a rotation
// challenge issued for the new key.
type Rotation struct {
	Nonce string `json:"nonce"`
	// Signature is the current key's signature of the nonce (base64).
	Signature string `json:"signature"`
	// NewKeySignature is the new key's signature of the nonce (base64): it
	// proves possession, so the identity stays verified. Without it the
	// new key is unverified until it answers a verify challenge.
	NewKeySignature string `json:"new_key_signature,omitempty"`
}

// Challenge purposes.
const (
	// PurposeVerify proves possession of the registered key.
	PurposeVerify = "verify"
	// PurposeRotate authorises, with the current key, a new one.
	PurposeRotate = "rotate"
)

// ChallengeRequest asks for a challenge. An empty body asks to verify the
// registered key.
type ChallengeRequest struct {
	// Purpose is verify (the default) or rotate.
	Purpose string `json:"purpose,omitempty"`
	// KeyType and PublicKey name the new key of a rotation.
	KeyType   string `json:"key_type,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// Challenge is a one-time nonce for the key holder to sign: the UTF-8 bytes
// of Nonce, as they are.
type Challenge struct {
	Nonce     string    `json:"nonce"`
	ExpiresAt time.Time `json:"expires_at"`
	Purpose   string    `json:"purpose"`
	// KeyID is the key that must sign.
	KeyID string `json:"key_id"`
	// NewKeyID is, for a rotation, the key the signature authorises.
	NewKeyID string `json:"new_key_id,omitempty"`
}

// ChallengeAnswer is a signature of a challenge's nonce.
type ChallengeAnswer struct {
	Nonce string `json:"nonce"`
	// Signature is base64 (standard encoding).
	Signature string `json:"signature"`
}

// EndorsementRequest submits an endorsement of a model's identity.
type EndorsementRequest struct {
	// Endorser is the endorsing model's id.
	Endorser string `json:"endorser"`
	// Signature is base64 of the endorser key's signature of
	// EndorsementMessage(endorsed model, its key id).
	Signature string `json:"signature"`
}

// Review statuses.
const (
	// ReviewPending: a governor must look at the model before it can be
	// approved or become a general.
	ReviewPending = "pending"
	// ReviewCleared: a governor found the model distinct.
	ReviewCleared = "cleared"
)

// Review is a flag for a governor's attention: set on a new model whose
// metadata is nearly identical to an existing one's.
type Review struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	// SimilarTo lists the existing models it resembles.
	SimilarTo  []string   `json:"similar_to,omitempty"`
	FlaggedAt  time.Time  `json:"flagged_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	// Resolution is the governor's reason for clearing the flag.
	Resolution string `json:"resolution,omitempty"`
}

// ReviewResolution clears a review flag.
type ReviewResolution struct {
	// Status must be cleared.
	Status string `json:"status"`
	Reason string `json:"reason"`
}
