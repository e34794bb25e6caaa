package trie

import "strings"

// node is one position in the token trie: the path from the root spells a
// normalized pattern, one token per edge.
//
// Invariants:
//   - literal children live in kids, keyed by the token's hash; nodes whose
//     tokens share a hash are chained through next, and a lookup always
//     compares the full token, so a collision costs time, never correctness;
//   - the wildcard children are star ("*") and tail (">"), never in kids;
//   - a tail node has no children, because patterns are truncated after
//     their first ">" (see normalize);
//   - every node but the root has subscribers or a child (Remove prunes
//     nodes that have neither), so the trie's size follows the live pairs;
//   - parent, token and hash are fixed at creation and let Remove unlink a
//     node without re-walking the pattern.
type node[T comparable] struct {
	parent *node[T]
	token  string
	hash   uint64
	next   *node[T]
	kids   map[uint64]*node[T]
	star   *node[T]
	tail   *node[T]
	subs   subSet[T]
}

// child returns the literal child for tok, or nil.
func (n *node[T]) child(tok string, h uint64) *node[T] {
	c := n.kids[h]
	for c != nil && c.token != tok {
		c = c.next
	}
	return c
}

// addChild returns the literal child for tok, creating it if needed.
func (n *node[T]) addChild(tok string, h uint64) *node[T] {
	if c := n.child(tok, h); c != nil {
		return c
	}
	if n.kids == nil {
		n.kids = make(map[uint64]*node[T])
	}
	// Clone so that the trie never pins the caller's (possibly large)
	// pattern string through a substring.
	c := &node[T]{parent: n, token: strings.Clone(tok), hash: h, next: n.kids[h]}
	n.kids[h] = c
	return c
}

// empty reports whether the node can be pruned.
func (n *node[T]) empty() bool {
	return n.subs.len() == 0 && len(n.kids) == 0 && n.star == nil && n.tail == nil
}

// unlink detaches c, a child of n of any kind.
func (n *node[T]) unlink(c *node[T]) {
	switch c {
	case n.star:
		n.star = nil
		return
	case n.tail:
		n.tail = nil
		return
	}
	p := n.kids[c.hash]
	if p == c {
		if c.next == nil {
			delete(n.kids, c.hash)
			if len(n.kids) == 0 {
				n.kids = nil
			}
		} else {
			n.kids[c.hash] = c.next
		}
		return
	}
	for p != nil && p.next != c {
		p = p.next
	}
	if p != nil {
		p.next = c.next
	}
}
