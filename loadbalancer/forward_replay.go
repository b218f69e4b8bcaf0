package loadbalancer

import (
	"net"
	"sync"
	"time"
)

// replayKeep bounds what a connection keeps of the client's bytes for a
// replay.
const replayKeep = 64 << 10

// replayConn keeps what the client sent until the first byte goes back, so
// a connection a pod refused can be replayed to another; Interrupt stops a
// blocked read without closing.
type replayConn struct {
	net.Conn
	mu       sync.Mutex
	kept     []byte
	replay   []byte
	answered bool
	overflow bool
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if !c.answered && !c.overflow {
		if len(c.kept)+n > replayKeep {
			c.overflow, c.kept = true, nil
		} else {
			c.kept = append(c.kept, p[:n]...)
		}
	}
	c.mu.Unlock()
	return n, err
}

func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.answered, c.kept = true, nil
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// Interrupt ends a pending Read; the connection stays open.
func (c *replayConn) Interrupt() { _ = c.Conn.SetReadDeadline(time.Now()) }

// rewind makes the kept bytes the next to be read, if nothing went back to
// the client and nothing was lost.
func (c *replayConn) rewind() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered || c.overflow {
		return false
	}
	c.replay = append([]byte(nil), c.kept...)
	return true
}
