package appgateemu

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Device is one registered (on-boarded) user-and-device combination. Sites
// lists the sites the device has connected to; the API does not show it, but
// revoke-tokens narrows by it.
type Device struct {
	DistinguishedName string     `json:"distinguishedName"`
	DeviceID          string     `json:"deviceId"`
	Username          string     `json:"username"`
	ProviderName      string     `json:"providerName"`
	DeviceType        string     `json:"device_type"`
	Hostname          string     `json:"hostname,omitempty"`
	OnBoardedAt       time.Time  `json:"onBoardedAt"`
	LastSeenAt        *time.Time `json:"lastSeenAt,omitempty"`
	Sites             []string   `json:"-"`
}

// DistinguishedName builds the controller's device DN:
// CN=<device id without dashes>,CN=<username>,OU=<provider>.
func DistinguishedName(deviceID, username, provider string) string {
	return "CN=" + strings.ReplaceAll(strings.ToLower(deviceID), "-", "") + ",CN=" + username + ",OU=" + provider
}

// ActiveSince reports whether the device signed in at or after t.
func (d Device) ActiveSince(t time.Time) bool {
	return d.LastSeenAt != nil && !d.LastSeenAt.Before(t)
}

// filterBy is one applied filter as the list envelope reports it.
type filterBy struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// deviceList is the OnBoardedDeviceList envelope.
type deviceList struct {
	Range      string     `json:"range"`
	OrderBy    string     `json:"orderBy"`
	Descending bool       `json:"descending"`
	Queries    []string   `json:"queries"`
	TotalCount int        `json:"totalCount"`
	FilterBy   []filterBy `json:"filterBy"`
	Data       []Device   `json:"data"`
}

// deviceFields are the device fields the controller matches queries and
// filters against and sorts by.
var deviceFields = map[string]func(Device) string{
	"distinguishedName": func(d Device) string { return d.DistinguishedName },
	"deviceId":          func(d Device) string { return d.DeviceID },
	"username":          func(d Device) string { return d.Username },
	"providerName":      func(d Device) string { return d.ProviderName },
	"device_type":       func(d Device) string { return d.DeviceType },
	"hostname":          func(d Device) string { return d.Hostname },
	"onBoardedAt":       func(d Device) string { return d.OnBoardedAt.UTC().Format(time.RFC3339Nano) },
	"lastSeenAt": func(d Device) string {
		if d.LastSeenAt == nil {
			return ""
		}
		return d.LastSeenAt.UTC().Format(time.RFC3339Nano)
	},
}

// queryFields are the fields the generic query parameter searches.
var queryFields = []string{"distinguishedName", "deviceId", "username", "providerName", "hostname"}

// listParams are the reserved list parameters; under the spec's form-exploded
// filterBy object, every other query parameter is a filter named after a field.
var listParams = map[string]bool{"query": true, "range": true, "orderBy": true, "descending": true}

const defaultOrderBy = "distinguishedName"

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func (e *Emulator) handleListDevices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.mu.Lock()
	total := len(e.devices)
	e.mu.Unlock()

	queries := q["query"]
	if queries == nil {
		queries = []string{}
	}
	filters := []filterBy{}
	for name, values := range q {
		if listParams[name] || deviceFields[name] == nil {
			continue // the controller ignores filters on fields it does not know
		}
		for _, v := range values {
			filters = append(filters, filterBy{Name: name, Value: v})
		}
	}
	slices.SortFunc(filters, func(a, b filterBy) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Value, b.Value)) })

	orderBy := q.Get("orderBy")
	if deviceFields[orderBy] == nil {
		orderBy = defaultOrderBy
	}
	descending, _ := strconv.ParseBool(q.Get("descending"))
	var matched []Device
	if len(queries) == 0 && len(filters) == 0 {
		matched = e.sortedDevices(deviceOrder{orderBy, descending})
	} else {
		e.mu.Lock()
		all := append([]Device(nil), e.devices...)
		e.mu.Unlock()
		matched = make([]Device, 0, len(all))
		for _, d := range all {
			if matchesQueries(d, queries) && matchesFilters(d, filters) {
				matched = append(matched, d)
			}
		}
		sortDevices(matched, orderBy, descending)
	}

	start, end := parseRange(q.Get("range"), len(matched))
	writeJSON(w, http.StatusOK, deviceList{
		Range:      strconv.Itoa(start) + "-" + strconv.Itoa(end) + "/" + strconv.Itoa(len(matched)),
		OrderBy:    orderBy,
		Descending: descending,
		Queries:    queries,
		TotalCount: total,
		FilterBy:   filters,
		Data:       matched[start:end],
	})
}

// matchesQueries: every query must be found (case-insensitively) in at least
// one searchable field; more queries make the search more specific.
func matchesQueries(d Device, queries []string) bool {
	for _, query := range queries {
		found := false
		for _, f := range queryFields {
			if containsFold(deviceFields[f](d), query) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// matchesFilters: every filter's value must be included in its field.
func matchesFilters(d Device, filters []filterBy) bool {
	for _, f := range filters {
		if !containsFold(deviceFields[f.Name](d), f.Value) {
			return false
		}
	}
	return true
}

type deviceOrder struct {
	by         string
	descending bool
}

type sortedDevices struct {
	gen     int
	devices []Device
}

// sortedDevices returns every device in order o, sorted once per order
// until the devices change. The result is shared: read it only.
func (e *Emulator) sortedDevices(o deviceOrder) []Device {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.sorted[o]; ok && c.gen == e.devicesGen {
		return c.devices
	}
	ds := append([]Device(nil), e.devices...)
	sortDevices(ds, o.by, o.descending)
	if e.sorted == nil {
		e.sorted = map[deviceOrder]sortedDevices{}
	}
	e.sorted[o] = sortedDevices{gen: e.devicesGen, devices: ds}
	return ds
}

func sortDevices(ds []Device, orderBy string, descending bool) {
	field := deviceFields[orderBy]
	slices.SortStableFunc(ds, func(a, b Device) int {
		c := cmp.Or(cmp.Compare(field(a), field(b)), cmp.Compare(a.DistinguishedName, b.DistinguishedName))
		if descending {
			return -c
		}
		return c
	})
}

// parseRange reads "from-to": the zero-based items from index `from` up to,
// not including, index `to`, clamped to the list. A missing or malformed
// range means the whole list, as the spec's "defaults to all objects".
func parseRange(s string, n int) (start, end int) {
	a, b, ok := strings.Cut(s, "-")
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || from < 0 || to < from {
		return 0, n
	}
	return min(from, n), min(to, n)
}
