package localproxy

import (
	"math/bits"
	"time"
)

// A connection is pending from accept until it holds a tunnel slot: until
// then it has not proven it knows the run's credential, so any local process
// can open as many as it likes. Pending connections are capped separately
// from tunnels (MaxTunnels), and past the cap the oldest pending connection
// is closed to make room for the new one. Closing the oldest rather than
// refusing the newest keeps the proxy reachable in a flood: kubectl sends its
// CONNECT as soon as it connects, so its connection is authenticated long
// before the flood pushes it to the front of the queue, while a connection
// that sends nothing, or trickles bytes, is always the first to go.
const (
	// defaultMaxPending bounds pending connections when file descriptors
	// are plentiful.
	defaultMaxPending = 512
	// minPending is the floor under a very low RLIMIT_NOFILE.
	minPending = 16
	// firstByteTimeout is how long a new connection may stay silent; a real
	// client sends its request at once. HeaderTimeout still bounds the
	// whole request header, so trickling bytes buys no more time.
	firstByteTimeout = 2 * time.Second
)

// pendingLimit is how many pending connections the proxy keeps at once: a
// quarter of the descriptors RLIMIT_NOFILE allows, within [minPending,
// defaultMaxPending], so a flood can never take the descriptors that tunnels
// (two each) and gateway dials need.
func pendingLimit() int {
	limit, ok := openFileLimit()
	if !ok {
		return defaultMaxPending
	}
	return int(min(max(limit/4, minPending), defaultMaxPending))
}

// firstByteDeadline is when a new connection must have sent its first byte.
func (s *settings) firstByteDeadline(start time.Time) time.Time {
	return start.Add(min(firstByteTimeout, s.HeaderTimeout))
}

// addPending queues s as pending and, over the cap, closes the oldest
// pending connection. The caller holds p.mu.
func (p *Proxy) addPending(s *session) {
	s.pendingAt = p.pending.PushBack(s)
	if p.pending.Len() <= p.maxPending {
		return
	}
	oldest := p.pending.Remove(p.pending.Front()).(*session)
	oldest.pendingAt = nil
	oldest.abort()
	// Under a flood, log the 1st, 2nd, 4th, 8th... eviction, not every one.
	if n := p.evicted.Add(1); bits.OnesCount64(uint64(n)) == 1 {
		p.log.Warn("too many connections have not authenticated; closing the oldest",
			"max_pending", p.maxPending, "closed_so_far", n)
	}
}

// removePending takes s out of the pending queue, if it is still there. The
// caller holds p.mu.
func (p *Proxy) removePending(s *session) {
	if s.pendingAt != nil {
		p.pending.Remove(s.pendingAt)
		s.pendingAt = nil
	}
}

// admit moves s from pending to holding a tunnel slot. An evicted session
// was aborted, so the caller's next enter reports false.
func (p *Proxy) admit(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removePending(s)
}
