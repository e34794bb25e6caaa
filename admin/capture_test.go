package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"busd/capture"
)

// do sends one request to the admin socket and returns status and body.
func do(t *testing.T, sock, method, url, body string) (int, string) {
	t.Helper()
	hc := unixHTTP(sock)
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(method, "http://busd"+url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue is one unlabelled sample of /metrics.
func metricValue(t *testing.T, sock, name string) string {
	t.Helper()
	text, _ := get(t, sock, "/metrics")
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return ""
}

func TestCaptureEndpoints(t *testing.T) {
	dir := tempDir(t)
	srv, _ := startDaemon(t, dir)
	a := startAdmin(t, srv, dir)
	sock := a.Path()

	if code, _ := do(t, sock, "GET", "/capture", ""); code != http.StatusNotFound {
		t.Errorf("GET /capture before any: %d, want 404", code)
	}
	path := filepath.Join(t.TempDir(), "c.buscap")
	for _, bad := range []string{
		`{"path": "relative.buscap"}`,
		`{"path": "` + path + `", "payload": "everything"}`,
		`{"path": "` + path + `", "duration": "soon"}`,
		`{"path": "` + path + `", "unknown": 1}`,
		`not json`,
	} {
		if code, msg := do(t, sock, "POST", "/capture", bad); code != http.StatusBadRequest || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
			t.Errorf("POST %s: %d %q, want 400 and one line", bad, code, msg)
		}
	}
	code, body := do(t, sock, "POST", "/capture", `{"path": "`+path+`", "payload": "shape", "duration": "1h"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /capture: %d %s", code, body)
	}
	var st capture.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || !st.Running || st.Options.Payload != capture.PayloadShape {
		t.Fatalf("started: %+v (%v)", st, err)
	}
	if code, _ := do(t, sock, "POST", "/capture", `{"path": "`+path+`x"}`); code != http.StatusConflict {
		t.Errorf("a second POST: %d, want 409", code)
	}
	if v := metricValue(t, sock, "busd_capture_running"); v != "1" {
		t.Errorf("busd_capture_running %s while running", v)
	}
	code, body = do(t, sock, "DELETE", "/capture", "")
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || st.Running || st.Reason != "stopped" {
		t.Fatalf("DELETE /capture: %d %s", code, body)
	}
	if v := metricValue(t, sock, "busd_capture_running"); v != "0" {
		t.Errorf("busd_capture_running %s after the stop", v)
	}
	if v := metricValue(t, sock, "busd_captures_started_total"); v != "1" {
		t.Errorf("busd_captures_started_total %s, want 1", v)
	}
	if _, err := capture.Open(path, capture.ReaderOptions{}); err != nil {
		t.Errorf("the capture file: %v", err)
	}
}
