package appgateemu

import (
	"encoding/json"
	"net/http"
	"strings"
)

// apiError is the controller's generic error body ({id, message}). The id is
// the lower-cased status text, as the controller sends it ("not acceptable").
type apiError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// fieldError is one entry of a 422 body's errors array.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type validationError struct {
	apiError
	Errors []fieldError `json:"errors"`
}

func errorID(status int) string { return strings.ToLower(http.StatusText(status)) }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, apiError{ID: errorID(status), Message: message})
}

func writeValidation(w http.ResponseWriter, errs []fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, validationError{
		apiError: apiError{ID: errorID(http.StatusUnprocessableEntity), Message: "Request validation failed."},
		Errors:   errs,
	})
}
