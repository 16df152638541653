// Package identity implements the cryptography of model identities: parsing
// and fingerprinting public keys, verifying signatures of challenges and
// endorsements, one-time nonces, and (for the CLI) generating, storing and
// using private keys.
//
// # What is signed
//
// A signature is always over the bytes of a message exactly as they are,
// with nothing added: the UTF-8 bytes of a challenge's nonce (a plain ASCII
// string, see NewNonce) to prove possession of a key, or
// api.EndorsementMessage(model, key id) to endorse another model's identity.
// Signatures travel as standard base64 (with padding).
//
// # Key types
//
// Two key types are accepted, because two kinds of signers exist:
//
//   - ed25519 (api.KeyEd25519, the default): the public key is the raw
//     32-byte key, the signature the 64-byte Ed25519 signature of the
//     message. This is what standard tools make: `openssl genpkey -algorithm
//     ed25519` and `openssl pkeyutl -sign -rawin` produce keys and signatures
//     the registry accepts as they are.
//   - secp256k1 (api.KeySecp256k1): ECDSA on the secp256k1 curve, which the
//     ecosystem's existing TypeScript tooling uses. The public key is the
//     33-byte compressed point; the signature is ECDSA over SHA-256 of the
//     message, either as the 64-byte compact r||s form or DER (as `openssl
//     dgst -sha256 -sign` writes it). High-S signatures are accepted: the
//     registry only asks whether the key holder signed, and a second valid
//     encoding of the same signature proves nothing less.
//
// Public keys travel as standard base64 of the raw key bytes.
//
// # Key ids
//
// A key's id (its fingerprint) is the lowercase hex of the first 16 bytes of
// SHA-256 of the raw public key: the 32 bytes of an ed25519 key, the 33
// compressed bytes of a secp256k1 key. It is 32 hex characters long. Since
// every key has exactly one accepted encoding (non-canonical ed25519
// encodings and uncompressed secp256k1 points are refused), one key has one
// id.
//
// # Private keys
//
// The CLI stores private keys as PEM: ed25519 as PKCS#8 ("PRIVATE KEY"),
// secp256k1 as SEC 1 ("EC PRIVATE KEY", curve OID 1.3.132.0.10). Both are
// what OpenSSL writes and reads.
package identity
