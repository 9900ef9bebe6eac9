package web

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// problemListener wraps a listener so that the few answers net/http writes straight
// to the connection before any handler runs (400 for a malformed request line or
// header, 431 past MaxHeaderBytes, 501 for an unknown transfer coding, 505) are
// application/problem+json when the request was for /api/, as every other API
// error is. Everything else passes through untouched.
type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

// rawErrorHeaders is how net/http's own refusals end their status line: no Date,
// no length, nothing else. A handler's answer always carries a Date.
const rawErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// headSize is how much of a request's start problemConn keeps: enough to see
// whether its target is under /api/.
const headSize = 64

// problemConn remembers the start of the request being read (the bytes read since
// the last answer was written) and rewrites a refusal of net/http's own for an API
// request. Reads and writes may run at once (net/http reads ahead in the
// background while a handler writes), hence the lock. A request pipelined behind
// another (sent before the first answer) was read before that answer went out, so
// its refusal stays plain text: HTTP/1.1 clients rarely pipeline.
type problemConn struct {
	net.Conn
	mu   sync.Mutex
	head []byte
}

func (c *problemConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if room := headSize - len(c.head); room > 0 {
			c.head = append(c.head, p[:min(n, room)]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *problemConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	api := forAPI(c.head)
	c.head = c.head[:0] // an answer is going out: what is read next is the next request
	c.mu.Unlock()
	if api {
		if b, ok := asProblem(p); ok {
			if _, err := c.Conn.Write(b); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// ReadFrom keeps net/http's sendfile path for files (it asks the connection for
// io.ReaderFrom); the copy is part of an answer, like Write.
func (c *problemConn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	c.head = c.head[:0]
	c.mu.Unlock()
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// CloseWrite lets net/http half-close after a 431, as it does on a bare TCP
// connection, so the client reads the answer before the reset.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// forAPI reports whether head, the start of a request, targets /api/. A byte
// net/http read ahead before the last answer may be missing from the method.
func forAPI(head []byte) bool {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return bytes.Contains(line, []byte(" /api/"))
}

// asProblem rewrites p when it is one of net/http's own refusals
// ("HTTP/1.1 400 Bad Request" + rawErrorHeaders + text) as problem+json with the
// same status; ok is false for anything else.
func asProblem(p []byte) (b []byte, ok bool) {
	rest, found := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !found {
		return nil, false
	}
	status, text, found := bytes.Cut(rest, []byte(rawErrorHeaders))
	if !found || bytes.Contains(status, []byte("\r\n")) || len(status) < 3 {
		return nil, false
	}
	code, err := strconv.Atoi(string(status[:3]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	body := fmt.Appendf(nil, `{"type":"about:blank","title":%s,"status":%d,"detail":%s,"request_id":%s}`+"\n",
		strconv.Quote(http.StatusText(code)), code, strconv.Quote(string(text)+"."), strconv.Quote(newID()))
	head := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n",
		code, http.StatusText(code), len(body))
	return append(head, body...), true
}
