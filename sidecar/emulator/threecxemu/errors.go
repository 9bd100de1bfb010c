package threecxemu

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// odataError is the vendor's error envelope (components/schemas/Pbx.ODataErrors.ODataError):
// {"error":{"code","message","details":[{"code","message","target"}]}}.
type odataError struct {
	status  int
	message string
	details []errorDetail
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
}

// Detail codes mirror the PBX's message keys.
const (
	codeInvalid  = "WARNINGS.XAPI.INVALID"
	codeNotFound = "WARNINGS.XAPI.NOT_FOUND"
)

func (e *odataError) Error() string { return e.message }

func badRequest(target, message string) *odataError {
	return &odataError{status: http.StatusBadRequest, message: message,
		details: []errorDetail{{Code: codeInvalid, Message: message, Target: target}}}
}

func notFound(entity string, id int32) *odataError {
	msg := entity + " with Id " + strconv.FormatInt(int64(id), 10) + " was not found"
	return &odataError{status: http.StatusNotFound, message: msg,
		details: []errorDetail{{Code: codeNotFound, Message: msg, Target: "Id"}}}
}

func writeError(w http.ResponseWriter, e *odataError) {
	type mainError struct {
		Code    string        `json:"code"`
		Message string        `json:"message"`
		Details []errorDetail `json:"details"`
	}
	body, _ := json.Marshal(struct {
		Error mainError `json:"error"`
	}{mainError{strconv.Itoa(e.status), e.message, e.details}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}
