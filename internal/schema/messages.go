package schema

// The model schemas' own words for their errors, which New gives the
// Validator's Translator: what the patterns mean, the rules a bare keyword
// would explain badly, and the names of map keys.

// patternMessages says in words what the schemas' patterns mean.
var patternMessages = map[string]string{
	modelIDSyntax:                                   `must be a lowercase slug "provider/model", such as "openai/gpt-5"`,
	`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`:          `must be a lowercase slug of at most 63 characters (a-z, 0-9 and "-"), such as "openai"`,
	`^\d{4}-\d{2}-\d{2}$`:                           `must be a date such as 2025-09-07`,
	`^[a-z][a-z0-9_-]{0,31}$`:                       `must be a lowercase word of at most 32 characters (a-z, 0-9, "-" and "_"), such as "reasoning"`,
	`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`: `must be empty or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`,
	`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`: keyMessage,
	`^([^/]{1,253}/)?[^/]{1,63}$`: keyMessage,
	`^[0-9a-f]{32}$`:              `must be a key id: 32 lowercase hexadecimal digits`,
	`^sha256:[0-9a-f]{64}$`:       `must be a digest "sha256:" followed by 64 lowercase hexadecimal digits`,
	`^[A-Za-z0-9+/]*={0,2}$`:      `must be base64 (standard encoding)`,
}

const keyMessage = `must be a name of at most 63 characters (letters, digits, "-", "_" and ".", starting and ending ` +
	`with a letter or digit), optionally after a DNS subdomain of at most 253 characters and "/", such as "team" or "example.com/tier"`

// locationMessages replaces the message of an error raised by the schema
// at a location, for rules that a bare enum would explain badly.
var locationMessages = map[string]string{
	ModelV10ID + "#/allOf/0/then/properties/size_class": "must be large, xl or xxl for a model with role general",
}

// keyNames names the keys of the maps of a model document.
var keyNames = map[string]string{
	"labels":      "label key",
	"annotations": "annotation key",
}
