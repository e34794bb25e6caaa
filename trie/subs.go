package trie

import "sync/atomic"

// linearMax is the set size up to which membership is checked by a linear
// scan; past it a position index is built. Most patterns have a handful of
// subscribers, and a map per node would dominate memory for them.
const linearMax = 8

// subSet is the set of subscribers whose (normalized) pattern ends at one
// node.
//
// Invariants: list holds each member exactly once; when pos is non-nil,
// pos[v] is v's index in list for every member and nothing else. snap is nil
// or points to an immutable copy of list as it is now: every mutation clears
// it (writers hold the index's write lock), and readers, under the read
// lock, build it on demand so that all topics whose only match is this node
// share one result slice instead of copying it per topic.
type subSet[T comparable] struct {
	list []T
	pos  map[T]int
	snap atomic.Pointer[[]T]
}

func (s *subSet[T]) len() int { return len(s.list) }

func (s *subSet[T]) index(v T) int {
	if s.pos != nil {
		if i, ok := s.pos[v]; ok {
			return i
		}
		return -1
	}
	for i, w := range s.list {
		if w == v {
			return i
		}
	}
	return -1
}

// add inserts v and reports whether it was absent.
func (s *subSet[T]) add(v T) bool {
	if s.index(v) >= 0 {
		return false
	}
	s.list = append(s.list, v)
	switch {
	case s.pos != nil:
		s.pos[v] = len(s.list) - 1
	case len(s.list) > linearMax:
		s.pos = make(map[T]int, len(s.list)*2)
		for i, w := range s.list {
			s.pos[w] = i
		}
	}
	s.snap.Store(nil)
	return true
}

// remove deletes v and reports whether it was present. The last element
// takes v's slot, so removal is O(1) once the index exists.
func (s *subSet[T]) remove(v T) bool {
	i := s.index(v)
	if i < 0 {
		return false
	}
	last := len(s.list) - 1
	moved := s.list[last]
	s.list[i] = moved
	var zero T
	s.list[last] = zero // do not keep a removed subscriber reachable
	s.list = s.list[:last]
	if s.pos != nil {
		delete(s.pos, v)
		if i != last {
			s.pos[moved] = i
		}
		// Hysteresis: drop the index well below the threshold so a set
		// hovering around linearMax does not rebuild it on every add.
		if len(s.list) <= linearMax/2 {
			s.pos = nil
		}
	}
	if len(s.list) == 0 {
		s.list = nil
	}
	s.snap.Store(nil)
	return true
}

// snapshot returns an immutable copy of the members, shared by every caller
// until the next mutation. Callers hold at least the index's read lock;
// concurrent readers may both build a copy, and either one is correct.
func (s *subSet[T]) snapshot() []T {
	if p := s.snap.Load(); p != nil {
		return *p
	}
	c := make([]T, len(s.list))
	copy(c, s.list)
	s.snap.CompareAndSwap(nil, &c)
	return c
}
