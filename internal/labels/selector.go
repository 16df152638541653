package labels

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hivellm/modelgov/internal/errs"
)

// Limits that keep a selector, and the query built from it, bounded.
const (
	// MaxSelectorBytes is the longest selector Parse accepts, both as given
	// and in the canonical form String writes.
	MaxSelectorBytes = 4096
	// MaxRequirements is the most requirements a selector may hold.
	MaxRequirements = 32
	// MaxSetValues is the most values one "in" or "notin" list may hold,
	// counted as written, before duplicates are removed.
	MaxSetValues = 64
)

// Operator is how a Requirement compares a label with its values.
type Operator string

// The operators, written as String writes them (Exists has no symbol).
const (
	Equals       Operator = "="      // the label is present and has the value
	NotEquals    Operator = "!="     // the label is absent or has another value
	In           Operator = "in"     // the label is present and has one of the values
	NotIn        Operator = "notin"  // the label is absent or has none of the values
	Exists       Operator = "exists" // the label is present, whatever its value
	DoesNotExist Operator = "!"      // the label is absent
)

// Requirement is one condition of a Selector.
//
// Values holds exactly one value for Equals and NotEquals, one or more
// sorted distinct values for In and NotIn (a value may be empty), and is
// nil for Exists and DoesNotExist.
type Requirement struct {
	Key    string
	Op     Operator
	Values []string
}

// Selector is a list of requirements, all of which must hold; an empty
// selector matches every label set. Parse keeps the requirements in the
// order they were written, duplicates included.
type Selector []Requirement

// Matches reports whether labels satisfy every requirement of s. A nil map
// is an empty label set.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

// Matches reports whether labels satisfy r. As in Kubernetes, NotEquals,
// NotIn and DoesNotExist hold when the key is absent; a Requirement with an
// unknown operator never holds.
func (r Requirement) Matches(labels map[string]string) bool {
	value, present := labels[r.Key]
	switch r.Op {
	case Equals, In:
		return present && slices.Contains(r.Values, value)
	case NotEquals, NotIn:
		return !present || !slices.Contains(r.Values, value)
	case Exists:
		return present
	case DoesNotExist:
		return !present
	}
	return false
}

// String returns s in canonical form: requirements in order, separated by
// commas without spaces, each written as Requirement.String writes it.
// Parse reads the canonical form of a selector it returned back to an
// equal selector.
func (s Selector) String() string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		r.write(&b)
	}
	return b.String()
}

// String returns r in canonical form: "key=value", "key!=value",
// "key in (a,b)", "key notin (a,b)", "key" or "!key", with set values
// sorted and without duplicates.
func (r Requirement) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

func (r Requirement) write(b *strings.Builder) {
	switch r.Op {
	case Equals, NotEquals:
		b.WriteString(r.Key)
		b.WriteString(string(r.Op))
		if len(r.Values) > 0 {
			b.WriteString(r.Values[0])
		}
	case In, NotIn:
		b.WriteString(r.Key)
		b.WriteByte(' ')
		b.WriteString(string(r.Op))
		b.WriteString(" (")
		b.WriteString(strings.Join(sortedSet(r.Values), ","))
		b.WriteByte(')')
	case Exists:
		b.WriteString(r.Key)
	case DoesNotExist:
		b.WriteByte('!')
		b.WriteString(r.Key)
	default:
		fmt.Fprintf(b, "%s <unknown operator %q>", r.Key, string(r.Op))
	}
}

// sortedSet returns a sorted copy of values without duplicates.
func sortedSet(values []string) []string {
	set := slices.Clone(values)
	slices.Sort(set)
	return slices.Compact(set)
}

// Parse parses a label selector, the grammar of Kubernetes' labels.Parse
// without its "<" and ">" operators:
//
//	selector    = [ requirement { "," requirement } ]
//	requirement = key [ ( "=" | "==" | "!=" ) value ]
//	            | "!" key
//	            | key ( "in" | "notin" ) "(" value { "," value } ")"
//
// Whitespace may surround every token. A missing value is the empty value,
// as in Kubernetes: "tier=" requires a tier label with an empty value, and
// "tier in ()" lists the one empty value. "==" is the same as "=". Keys and values must pass
// ValidateKey and ValidateValue. The empty string, or only whitespace, is
// the empty selector, which matches everything; Parse returns it as nil.
//
// A selector is at most MaxSelectorBytes long, holds at most MaxRequirements
// requirements and at most MaxSetValues values in one list.
//
// Errors are of kind errs.Invalid and read like
// `label selector: at 9: expected a value after "!=", found "("`,
// with the byte offset where the problem was found.
func Parse(s string) (Selector, error) {
	if len(s) > MaxSelectorBytes {
		return nil, errs.E(errs.Invalid, "label selector: it is %d bytes long; at most %d are allowed",
			len(s), MaxSelectorBytes)
	}
	p := parser{src: s}
	p.advance()
	if p.tok.kind == tokenEnd {
		return nil, nil
	}
	var sel Selector
	for {
		if len(sel) == MaxRequirements {
			return nil, p.errorf(p.tok.pos, "more than %d requirements; at most %d are allowed",
				MaxRequirements, MaxRequirements)
		}
		r, err := p.requirement(len(sel) > 0)
		if err != nil {
			return nil, err
		}
		sel = append(sel, r)
		switch p.tok.kind {
		case tokenEnd:
			// Writing sets as "k in (v)" can add a byte per requirement to
			// what was given as "k in(v)"; refuse a selector whose canonical
			// form Parse could not read back.
			if n := len(sel.String()); n > MaxSelectorBytes {
				return nil, errs.E(errs.Invalid,
					"label selector: it is %d bytes long when written canonically; at most %d are allowed",
					n, MaxSelectorBytes)
			}
			return sel, nil
		case tokenComma:
			p.advance()
		default:
			return nil, p.errorf(p.tok.pos, `expected "," or the end of the selector after %s, found %s`,
				show(r.String()), p.tok.describe())
		}
	}
}

// tokenKind classifies a token of a selector.
type tokenKind uint8

const (
	tokenEnd          tokenKind = iota // the end of the selector
	tokenWord                          // a key, a value, "in" or "notin"
	tokenComma                         // ,
	tokenOpen                          // (
	tokenClose                         // )
	tokenEquals                        // =
	tokenDoubleEquals                  // ==
	tokenNotEquals                     // !=
	tokenNot                           // !
)

// token is one token of a selector and the byte offset where it starts.
type token struct {
	kind tokenKind
	text string
	pos  int
}

// describe names the token for an error message.
func (t token) describe() string {
	if t.kind == tokenEnd {
		return "the end of the selector"
	}
	return show(t.text)
}

// parser reads a selector one token at a time.
type parser struct {
	src  string
	next int   // offset of the first byte not yet scanned
	tok  token // the current token
}

// errorf returns an Invalid error about the selector at byte offset pos.
func (p *parser) errorf(pos int, format string, args ...any) error {
	return errs.E(errs.Invalid, "label selector: at %d: %s", pos, fmt.Sprintf(format, args...))
}

// advance scans the next token into p.tok.
func (p *parser) advance() {
	for p.next < len(p.src) && isSpace(p.src[p.next]) {
		p.next++
	}
	start := p.next
	if start == len(p.src) {
		p.tok = token{kind: tokenEnd, pos: start}
		return
	}
	kind := tokenWord
	switch p.src[start] {
	case ',':
		kind, p.next = tokenComma, start+1
	case '(':
		kind, p.next = tokenOpen, start+1
	case ')':
		kind, p.next = tokenClose, start+1
	case '=':
		kind, p.next = tokenEquals, start+1
		if p.next < len(p.src) && p.src[p.next] == '=' {
			kind, p.next = tokenDoubleEquals, p.next+1
		}
	case '!':
		kind, p.next = tokenNot, start+1
		if p.next < len(p.src) && p.src[p.next] == '=' {
			kind, p.next = tokenNotEquals, p.next+1
		}
	default:
		for p.next < len(p.src) && !isSpace(p.src[p.next]) && !isPunctuation(p.src[p.next]) {
			p.next++
		}
	}
	p.tok = token{kind: kind, text: p.src[start:p.next], pos: start}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func isPunctuation(c byte) bool {
	return c == ',' || c == '(' || c == ')' || c == '=' || c == '!'
}

// requirement parses one requirement; afterComma says whether one came before.
func (p *parser) requirement(afterComma bool) (Requirement, error) {
	if p.tok.kind == tokenNot {
		p.advance()
		key, err := p.key(`after "!"`)
		if err != nil {
			return Requirement{}, err
		}
		return Requirement{Key: key, Op: DoesNotExist}, nil
	}
	where := "at the start of the selector"
	if afterComma {
		where = `after ","`
	}
	key, err := p.key(where)
	if err != nil {
		return Requirement{}, err
	}
	switch p.tok.kind {
	case tokenEnd, tokenComma:
		return Requirement{Key: key, Op: Exists}, nil
	case tokenEquals, tokenDoubleEquals, tokenNotEquals:
		op := Equals
		if p.tok.kind == tokenNotEquals {
			op = NotEquals
		}
		opText := p.tok.text
		p.advance()
		value := ""
		switch p.tok.kind {
		case tokenWord:
			value = p.tok.text
			if problem := valueProblem(value); problem != "" {
				return Requirement{}, p.errorf(p.tok.pos, "invalid label value %s: %s", show(value), problem)
			}
			p.advance()
		case tokenEnd, tokenComma:
			// An omitted value is the empty value, as in Kubernetes.
		default:
			return Requirement{}, p.errorf(p.tok.pos, "expected a value after %q, found %s", opText, p.tok.describe())
		}
		return Requirement{Key: key, Op: op, Values: []string{value}}, nil
	case tokenWord:
		switch p.tok.text {
		case string(In), string(NotIn):
			op := Operator(p.tok.text)
			p.advance()
			values, err := p.values(op)
			if err != nil {
				return Requirement{}, err
			}
			return Requirement{Key: key, Op: op, Values: values}, nil
		}
	}
	return Requirement{}, p.errorf(p.tok.pos,
		`expected an operator (=, ==, !=, in, notin), "," or the end of the selector after label key %s, found %s`,
		show(key), p.tok.describe())
}

// key parses and validates a label key; where says where it was expected.
func (p *parser) key(where string) (string, error) {
	if p.tok.kind != tokenWord {
		return "", p.errorf(p.tok.pos, "expected a label key %s, found %s", where, p.tok.describe())
	}
	key := p.tok.text
	if problem := keyProblem(key); problem != "" {
		return "", p.errorf(p.tok.pos, "invalid label key %s: %s", show(key), problem)
	}
	p.advance()
	return key, nil
}

// values parses the parenthesized value list of an "in" or "notin".
func (p *parser) values(op Operator) ([]string, error) {
	if p.tok.kind != tokenOpen {
		return nil, p.errorf(p.tok.pos, `expected "(" after %q, found %s`, string(op), p.tok.describe())
	}
	p.advance()
	var values []string
	for {
		if len(values) == MaxSetValues {
			return nil, p.errorf(p.tok.pos, "more than %d values in the list of %q; at most %d are allowed",
				MaxSetValues, string(op), MaxSetValues)
		}
		value, expected := "", `a value, "," or ")"`
		if p.tok.kind == tokenWord {
			value = p.tok.text
			if problem := valueProblem(value); problem != "" {
				return nil, p.errorf(p.tok.pos, "invalid label value %s: %s", show(value), problem)
			}
			p.advance()
			expected = `"," or ")"`
		}
		values = append(values, value)
		switch p.tok.kind {
		case tokenComma:
			p.advance()
		case tokenClose:
			p.advance()
			return sortedSet(values), nil
		default:
			return nil, p.errorf(p.tok.pos, "expected %s in the list of %q, found %s",
				expected, string(op), p.tok.describe())
		}
	}
}
