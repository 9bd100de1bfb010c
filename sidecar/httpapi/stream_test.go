package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
)

const myTokens = "/xapi/v1/MyTokens"

// listPBX is a 3CX emulator seeded with scale more refresh tokens, behind a
// fault injector, and a sidecar in front of it; post sends a returnAll
// list of pages of 100 and hands back the answer unread.
func listPBX(t *testing.T, scale int) (inj *faults.Injector, post func() *http.Response) {
	t.Helper()
	emu := threecxemu.New(threecxemu.Options{Now: testclock.New().Now, Scale: scale})
	inj = faults.Wrap(emu)
	pbx := httptest.NewServer(inj)
	t.Cleanup(pbx.Close)
	srv := sidecartest.Serve(t, httpapi.Options{})
	id, key := emu.Credentials()
	body, _ := json.Marshal(map[string]any{
		"connection": map[string]any{"baseUrl": pbx.URL, "clientId": id, "clientSecret": key},
		"input":      map[string]any{"returnAll": true, "top": 100, "limit": 100000},
	})
	return inj, func() *http.Response {
		resp, err := http.Post(srv.URL+"/v1/actions/threecx.listRefreshTokens", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
}

// listReader reads a {"data": [...], "meta": {...}} answer item by item.
type listReader struct {
	t   *testing.T
	dec *json.Decoder
	id  any // the last item's Id
}

func readList(t *testing.T, body io.Reader) *listReader {
	t.Helper()
	l := &listReader{t: t, dec: json.NewDecoder(body)}
	for _, want := range []any{json.Delim('{'), "data", json.Delim('[')} {
		if tok, err := l.dec.Token(); err != nil || tok != want {
			t.Fatalf("answer starts with %v (%v), want %v", tok, err, want)
		}
	}
	return l
}

// next decodes the next item; false at the end of data.
func (l *listReader) next() bool {
	if !l.dec.More() {
		return false
	}
	var item map[string]any
	if err := l.dec.Decode(&item); err != nil {
		l.t.Fatalf("item: %v", err)
	}
	if l.id = item["Id"]; l.id == nil {
		l.t.Fatalf("item without Id: %v", item)
	}
	return true
}

// meta reads the rest of the document: the meta after the data, and the
// end of the document, so a cut answer fails here.
func (l *listReader) meta() map[string]any {
	var meta map[string]any
	for _, want := range []any{json.Delim(']'), "meta"} {
		if tok, err := l.dec.Token(); err != nil || tok != want {
			l.t.Fatalf("after data: %v (%v), want %v", tok, err, want)
		}
	}
	if err := l.dec.Decode(&meta); err != nil {
		l.t.Fatalf("meta: %v", err)
	}
	if tok, err := l.dec.Token(); err != nil || tok != json.Delim('}') {
		l.t.Fatalf("document does not end after meta: %v (%v)", tok, err)
	}
	if l.dec.More() {
		l.t.Fatal("more after the document")
	}
	return meta
}

// The caller gets the first page's items while the sidecar still waits for
// a later page: the third page is held by the PBX until the caller has
// decoded the first 100 items. A sidecar that gathered the list before
// answering would send nothing while that page is held, and the PBX would
// give up waiting.
func TestReturnAllSendsPagesAsTheyArrive(t *testing.T) {
	inj, post := listPBX(t, 500) // 500 more of the caller's own tokens: 6 pages
	firstPage := make(chan struct{})
	var mu sync.Mutex
	var heldInVain bool
	requests := 0
	inj.Add(faults.Rule{Method: http.MethodGet, Path: myTokens, Fault: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n == 3 {
			select {
			case <-firstPage:
			case <-time.After(10 * time.Second):
				mu.Lock()
				heldInVain = true
				mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	}})
	resp := post()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	list := readList(t, resp.Body)
	got := 0
	for list.next() {
		if got++; got == 100 {
			close(firstPage)
		}
	}
	meta := list.meta()
	mu.Lock()
	defer mu.Unlock()
	if heldInVain {
		t.Fatal("the caller had not received the first page's items while the third page was being read: the list was held, not streamed")
	}
	if meta["truncated"] != false || meta["problem"] != nil || int(meta["returned"].(float64)) != got || got < 500 {
		t.Fatalf("got %d items, meta %v", got, meta)
	}
	if int(meta["pages"].(float64)) != requests {
		t.Fatalf("meta says %v pages, the PBX served %d", meta["pages"], requests)
	}
}

// A page whose answer breaks off once is asked for again, and the items of
// it already sent are not sent twice.
func TestReturnAllReadsABrokenPageAgain(t *testing.T) {
	inj, post := listPBX(t, 300)
	inj.Add(faults.Rule{Method: http.MethodGet, Path: myTokens, Times: 1, Fault: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(w, r) // the first page whole
	}})
	inj.Add(faults.Rule{Method: http.MethodGet, Path: myTokens, Times: 1, Fault: faults.Truncate(2000)})
	list := readList(t, post().Body)
	seen := map[any]bool{}
	for list.next() {
		if seen[list.id] {
			t.Fatalf("item %v sent twice", list.id)
		}
		seen[list.id] = true
	}
	meta := list.meta()
	if meta["truncated"] != false || len(seen) != threecxemu.SeededMyTokens+300 || int(meta["returned"].(float64)) != threecxemu.SeededMyTokens+300 {
		t.Fatalf("got %d items, meta %v", len(seen), meta)
	}
}

// A page that breaks off after the answer began, however often it is asked
// for, ends the document properly: the items delivered, then meta with
// truncated, the problem, and counts that match what was delivered.
func TestReturnAllBrokenOffMidListEndsWithTruncatedMeta(t *testing.T) {
	inj, post := listPBX(t, 300)
	inj.Add(faults.Rule{Method: http.MethodGet, Path: myTokens, Times: 1, Fault: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(w, r) // the first page whole
	}})
	// Every later page: status, headers and 2000 bytes of the body, then
	// the connection closes.
	inj.Add(faults.Rule{Method: http.MethodGet, Path: myTokens, Fault: faults.Truncate(2000)})
	resp := post()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	list := readList(t, resp.Body)
	got := 0
	for list.next() {
		got++
	}
	meta := list.meta()
	problem, _ := meta["problem"].(map[string]any)
	if meta["truncated"] != true || problem == nil || int(meta["returned"].(float64)) != got || got <= 100 || got >= 200 {
		t.Fatalf("got %d items, meta %v", got, meta)
	}
	if typ, _ := problem["type"].(string); !strings.HasSuffix(typ, "/upstream-error") {
		t.Fatalf("problem %v", problem)
	}
	if detail, _ := problem["detail"].(string); !strings.Contains(detail, "MyTokens") {
		t.Fatalf("the problem does not name the page's request: %v", problem)
	}
}

// A list that fails before its first item is an ordinary problem answer,
// with the status that says so.
func TestReturnAllFailingAtOnceIsAProblem(t *testing.T) {
	inj, post := listPBX(t, 0)
	inj.Add(faults.Rule{Method: http.MethodGet, Path: myTokens, Fault: faults.Status(http.StatusInternalServerError, "")})
	resp := post()
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode < 500 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d %s: %v %v", resp.StatusCode, resp.Header.Get("Content-Type"), p, err)
	}
}
