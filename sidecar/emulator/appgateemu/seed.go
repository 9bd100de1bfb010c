package appgateemu

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Site is a controller site that devices connect through.
type Site struct {
	ID   string
	Name string
}

// The seeded sites, fixed so that demos and tests can name them.
const (
	SiteStockholm = "3e1c5a0e-6f2b-4d8a-9c41-7b2f0d9e8a11"
	SiteAtlanta   = "8b7d2c44-1a9e-4f3b-b6d0-52e8c1f7a903"
	SiteAWS       = "c5f09e27-d3b4-4a6c-8e1f-9a0b7c6d5e42"
)

// SeedSites returns the seeded sites.
func SeedSites() []Site {
	return []Site{
		{ID: SiteStockholm, Name: "Stockholm HQ"},
		{ID: SiteAtlanta, Name: "Atlanta DC"},
		{ID: SiteAWS, Name: "AWS eu-west-1"},
	}
}

// seedNamespace makes the seeded device ids stable across runs.
var seedNamespace = uuid.MustParse("6f1d2a9c-3b7e-5c40-9a8d-0e4f3b2c1a77")

type seedDevice struct {
	user, provider, deviceType, hostname string
	onBoardedDaysAgo                     int
	lastSeen                             time.Duration // before now; 0 means never seen by a 5.4+ controller
	sites                                []string
}

var seedDevices = []seedDevice{
	{"alice", "ldap", "Client", "alice-laptop.corp.example.com", 210, 35 * time.Minute, []string{SiteStockholm, SiteAWS}},
	{"alice", "ldap", "Client", "alice-phone", 95, 3 * time.Hour, []string{SiteStockholm}},
	{"bob", "ldap", "Client", "bob-mbp.corp.example.com", 400, 20 * time.Hour, []string{SiteAtlanta}},
	{"bob", "ldap", "Client", "bob-old-desktop.corp.example.com", 700, 9 * 24 * time.Hour, []string{SiteAtlanta}},
	{"carol", "ldap", "Client/Admin", "carol-ws.corp.example.com", 150, 90 * time.Minute, []string{SiteStockholm, SiteAtlanta, SiteAWS}},
	{"dave", "azure-ad", "Client", "DAVE-SURFACE", 60, 5 * time.Hour, []string{SiteAWS}},
	{"dave", "azure-ad", "Client", "dave-tablet", 300, 30 * time.Hour, []string{SiteAWS}},
	{"erin", "azure-ad", "Client", "ERIN-LAPTOP", 45, 12 * time.Minute, []string{SiteStockholm}},
	{"frank", "azure-ad", "Client", "frank-linux", 500, 4 * 24 * time.Hour, []string{SiteAtlanta}},
	{"grace", "okta", "Client", "grace-chromebook", 20, 2 * time.Hour, []string{SiteAWS, SiteAtlanta}},
	{"heidi", "okta", "Client", "heidi-mbp", 800, 0, []string{SiteStockholm}},
	{"ivan", "okta", "Client", "ivan-contractor-pc", 33, 14 * 24 * time.Hour, []string{SiteAWS}},
	{"svc-backup", "local", "Admin", "backup-runner-01", 365, 23 * time.Hour, nil},
	{"admin", "local", "Admin", "ops-jumphost", 120, 2 * 24 * time.Hour, nil},
}

// SeedDevices returns the seeded registered devices as seen at now: users of
// several identity providers (ldap, azure-ad, okta, local) on several sites,
// most active in the last day, some idle for days, one never seen since the
// controller started recording sign-ins.
func SeedDevices(now time.Time) []Device {
	now = now.UTC().Truncate(time.Second)
	out := make([]Device, 0, len(seedDevices))
	for _, s := range seedDevices {
		id := uuid.NewSHA1(seedNamespace, []byte(s.provider+"/"+s.user+"/"+s.hostname)).String()
		d := Device{
			DistinguishedName: DistinguishedName(id, s.user, s.provider),
			DeviceID:          id,
			Username:          s.user,
			ProviderName:      s.provider,
			DeviceType:        s.deviceType,
			Hostname:          s.hostname,
			OnBoardedAt:       now.AddDate(0, 0, -s.onBoardedDaysAgo),
			Sites:             s.sites,
		}
		if s.lastSeen > 0 {
			seen := now.Add(-s.lastSeen)
			d.LastSeenAt = &seen
		}
		out = append(out, d)
	}
	return out
}

// ScaleDevices generates n further devices (users scale-00001 ... on the
// ldap provider, one device each, seen within the last day in turn), for
// lists and revocations at scale. Ids derive from the index, so two
// emulators agree.
func ScaleDevices(now time.Time, n int) []Device {
	now = now.UTC().Truncate(time.Second)
	sites := []string{SiteStockholm, SiteAtlanta, SiteAWS}
	out := make([]Device, 0, n)
	for i := range n {
		user := fmt.Sprintf("scale-%05d", i+1)
		host := user + "-laptop.corp.example.com"
		id := uuid.NewSHA1(seedNamespace, []byte("ldap/"+user+"/"+host)).String()
		seen := now.Add(-time.Duration(i%1440) * time.Minute)
		out = append(out, Device{
			DistinguishedName: DistinguishedName(id, user, "ldap"),
			DeviceID:          id,
			Username:          user,
			ProviderName:      "ldap",
			DeviceType:        "Client",
			Hostname:          host,
			OnBoardedAt:       now.AddDate(0, 0, -(30 + i%300)),
			LastSeenAt:        &seen,
			Sites:             []string{sites[i%3]},
		})
	}
	return out
}
