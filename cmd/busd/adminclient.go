package main

// The client side of the admin socket: how "busd stats" and "busd capture"
// find it and talk HTTP over it.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// adminClientFlags are the flags of a command that talks to the admin
// socket.
type adminClientFlags struct {
	adminSocket adminSocketValue
	busSocket   string
}

// adminFlagEnv maps those flags to their variables, for newCommandLine.
func adminFlagEnv() (env, helpEnv map[string]string) {
	return map[string]string{"admin-socket": adminSocketEnv},
		map[string]string{"admin-socket": adminSocketEnv, "socket": socketEnv}
}

func (f *adminClientFlags) register(cl *commandLine) {
	cl.fs.Var(&f.adminSocket, "admin-socket", "the daemon's admin socket `path`")
	cl.fs.Lookup("admin-socket").DefValue = "<socket>" + adminSuffix
	cl.fs.StringVar(&f.busSocket, "socket", "", "the bus socket `path`, to find the admin socket beside it; "+socketUsage)
}

// adminClient is an HTTP client of the admin socket at path.
type adminClient struct {
	path string
	hc   *http.Client
}

func (f *adminClientFlags) client(env func(string) string) (*adminClient, error) {
	path, err := findAdminSocket(&f.adminSocket, f.busSocket, env)
	if err != nil {
		return nil, err
	}
	return &adminClient{path: path, hc: &http.Client{
		Timeout: dialTimeout,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}}, nil
}

func (a *adminClient) close() { a.hc.CloseIdleConnections() }

// do sends a request with an optional JSON body and decodes a JSON answer
// of one of the wanted statuses into v; any other status is an error
// carrying the daemon's one-line reason.
func (a *adminClient) do(method, endpoint string, body, v any, want ...int) (status int, err error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, "http://busd"+endpoint, rd)
	if err != nil {
		return 0, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, connectError(a.path, err, "run as the daemon's user, or widen its --admin-mode")
	}
	defer resp.Body.Close()
	for _, w := range want {
		if resp.StatusCode == w {
			if v != nil {
				if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
					return resp.StatusCode, fmt.Errorf("%s%s: %w", a.path, endpoint, err)
				}
			}
			return resp.StatusCode, nil
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	reason := strings.TrimSpace(string(msg))
	if reason == "" {
		reason = resp.Status
	}
	return resp.StatusCode, &adminError{status: resp.StatusCode, msg: reason}
}

// adminError is the daemon refusing a request.
type adminError struct {
	status int
	msg    string
}

func (e *adminError) Error() string { return e.msg }
