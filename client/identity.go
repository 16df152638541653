package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/hivellm/modelgov/api"
)

// A model's identity is a public key whose holder speaks for the model. The
// key is registered (RegisterIdentity), then proved: the server issues a
// one-time nonce (Challenge) that the key's holder signs, locally, and sends
// back (VerifyIdentity); ProveIdentity does the three steps. Signatures are
// over the UTF-8 bytes of the nonce exactly, in standard base64.

// identityPath is the path of model id's identity.
func identityPath(id string) string { return modelPath(id) + "/identity" }

// GetIdentity returns model id's identity. A model without one is a 404
// (IsNotFound).
func (c *Client) GetIdentity(ctx context.Context, id string) (*api.Identity, error) {
	var ident api.Identity
	if _, err := c.do(ctx, request{method: "GET", path: identityPath(id)}, &ident); err != nil {
		return nil, err
	}
	return &ident, nil
}

// RegisterIdentity registers a public key for model id, unverified until its
// holder answers a challenge, and returns the model with its new identity
// and what the write did: created or updated, or unchanged when the model
// already holds that key. A model whose identity is not revoked changes key
// only with reg.Rotation (see RotateIdentity). A key or artifact digest that
// another model holds is refused with 409.
func (c *Client) RegisterIdentity(ctx context.Context, id string, reg api.IdentityRegistration, o WriteOptions) (*api.Model, Outcome, error) {
	b, err := json.Marshal(reg)
	if err != nil {
		return nil, "", fmt.Errorf("client: encode identity registration: %w", err)
	}
	var m api.Model
	resp, err := c.do(ctx, request{method: "PUT", path: identityPath(id), body: b, header: writeHeader(o)}, &m)
	if err != nil {
		return nil, "", err
	}
	return &m, Outcome(resp.Header.Get("Modelgov-Outcome")), nil
}

// RevokeIdentity revokes model id's identity, for a reason (required) that
// the model's history keeps. The key no longer speaks for the model, and
// stays claimed by it: no other model may register it.
func (c *Client) RevokeIdentity(ctx context.Context, id, reason string, o WriteOptions) (*api.Model, error) {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	var m api.Model
	if _, err := c.do(ctx, request{method: "DELETE", path: identityPath(id), query: q, header: writeHeader(o)}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Challenge asks for a one-time nonce for the holder of model id's key to
// sign: to verify the registered key (the zero ChallengeRequest), or, with
// purpose rotate and the new key, to authorise a rotation. The nonce
// expires within minutes and may be answered once.
func (c *Client) Challenge(ctx context.Context, id string, req api.ChallengeRequest) (*api.Challenge, error) {
	r := request{method: "POST", path: identityPath(id) + "/challenge"}
	if req != (api.ChallengeRequest{}) {
		b, err := json.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("client: encode challenge request: %w", err)
		}
		r.body = b
	}
	var ch api.Challenge
	if _, err := c.do(ctx, r, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// VerifyIdentity answers a verify challenge with the registered key's
// signature of its nonce. When the signature verifies, the identity is
// verified; otherwise the refusal (422) is recorded in the audit log. The
// nonce is spent either way.
func (c *Client) VerifyIdentity(ctx context.Context, id string, ans api.ChallengeAnswer, o WriteOptions) (*api.Model, error) {
	return c.modelWrite(ctx, "POST", identityPath(id)+"/verify", ans, o)
}

// ProveIdentity proves possession of model id's registered key: it asks for
// a challenge, has sign sign the nonce (returning the signature in standard
// base64, as identity keys' Sign does), and sends the answer. The private
// key never leaves sign.
func (c *Client) ProveIdentity(ctx context.Context, id string, sign func(nonce string) (string, error)) (*api.Model, error) {
	if sign == nil {
		return nil, errors.New("client: ProveIdentity needs a signing function")
	}
	ch, err := c.Challenge(ctx, id, api.ChallengeRequest{Purpose: api.PurposeVerify})
	if err != nil {
		return nil, err
	}
	sig, err := sign(ch.Nonce)
	if err != nil {
		return nil, fmt.Errorf("client: sign the challenge for key %s of %s: %w", ch.KeyID, id, err)
	}
	return c.VerifyIdentity(ctx, id, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sig}, WriteOptions{})
}

// RotateIdentity replaces model id's current key with the key reg names: it
// asks for a rotation challenge for the new key, has signCurrent (the
// current key's holder) and signNew (the new key's) sign its nonce, and
// registers the new key with both signatures, so the identity stays
// verified. With a nil signNew the new key is registered unverified, to be
// proved later. reg.Rotation is set by RotateIdentity.
func (c *Client) RotateIdentity(ctx context.Context, id string, reg api.IdentityRegistration, signCurrent, signNew func(nonce string) (string, error)) (*api.Model, error) {
	if signCurrent == nil {
		return nil, errors.New("client: RotateIdentity needs the current key's signing function")
	}
	ch, err := c.Challenge(ctx, id, api.ChallengeRequest{Purpose: api.PurposeRotate, KeyType: reg.KeyType, PublicKey: reg.PublicKey})
	if err != nil {
		return nil, err
	}
	rot := &api.Rotation{Nonce: ch.Nonce}
	if rot.Signature, err = signCurrent(ch.Nonce); err != nil {
		return nil, fmt.Errorf("client: sign the rotation of %s with the current key %s: %w", id, ch.KeyID, err)
	}
	if signNew != nil {
		if rot.NewKeySignature, err = signNew(ch.Nonce); err != nil {
			return nil, fmt.Errorf("client: sign the rotation of %s with the new key %s: %w", id, ch.NewKeyID, err)
		}
	}
	reg.Rotation = rot
	m, _, err := c.RegisterIdentity(ctx, id, reg, WriteOptions{})
	return m, err
}

// Endorse submits model req.Endorser's endorsement of model id's identity:
// the endorser's verified key's signature, in standard base64, of
// api.EndorsementMessage(id, the key id of id's identity). The caller must
// own the endorser (or be an admin).
func (c *Client) Endorse(ctx context.Context, id string, req api.EndorsementRequest, o WriteOptions) (*api.Model, error) {
	return c.modelWrite(ctx, "POST", identityPath(id)+"/endorsements", req, o)
}

// WithdrawEndorsement removes model endorser's endorsement of model id's
// identity. The endorser's owners, governors and admins may withdraw it.
func (c *Client) WithdrawEndorsement(ctx context.Context, id, endorser string, o WriteOptions) (*api.Model, error) {
	var m api.Model
	if _, err := c.do(ctx, request{method: "DELETE", path: identityPath(id) + "/endorsements/" + endorser, header: writeHeader(o)}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ClearReview clears a model's near-duplicate review (governors and
// admins): res.Status must be api.ReviewCleared, and res.Reason says why
// the model is distinct. An empty res.Status is taken as cleared.
func (c *Client) ClearReview(ctx context.Context, id string, res api.ReviewResolution, o WriteOptions) (*api.Model, error) {
	if res.Status == "" {
		res.Status = api.ReviewCleared
	}
	return c.modelWrite(ctx, "PUT", modelPath(id)+"/review", res, o)
}
