package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A call still running when the drain is cut is answered 503
// outcome-unknown; the handler's late writes go nowhere.
func TestDrainAnswersWhatIsStillRunning(t *testing.T) {
	d := NewDrain()
	started, release := make(chan struct{}), make(chan struct{})
	late := make(chan struct{})
	h := d.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Header().Set("X-Late", "1")
		_, _ = w.Write([]byte("late"))
		close(late)
	}))
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{}`)))
	}()
	<-started
	d.Cut()
	<-done
	close(release)
	<-late
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "/problems/outcome-unknown") || strings.Contains(rec.Body.String(), "late") || rec.Header().Get("X-Late") != "" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// A handler that has begun its answer finishes it.
func TestDrainLetsAStartedAnswerFinish(t *testing.T) {
	d := NewDrain()
	wrote, release := make(chan struct{}), make(chan struct{})
	h := d.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		close(wrote)
		<-release
		_, _ = w.Write([]byte("done"))
	}))
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/actions/x.y", strings.NewReader(`{}`)))
	}()
	<-wrote
	d.Cut()
	close(release)
	<-done
	if rec.Code != 200 || rec.Body.String() != "done" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
