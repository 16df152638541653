package registry

import "regexp"

// modelIDPattern is the rule of model ids and alias names: a lowercase slug
// "provider/model", as in the model schema.
var modelIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$`)
